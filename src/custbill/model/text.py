"""custbill's text policy: what form text is kept in, and when two texts are the same.

* **Kept in NFC.** Every text field of every model object is put in Unicode normalisation
  form C when the object is made (:func:`nfc`, called by the type checks every model class
  runs), so ``"e\\u0301"`` (an *e* and a combining acute accent) is kept as ``"é"``, and
  every store holds, compares and returns the same code points for what a person sees as
  the same text.
* **Compared by a key.** Where custbill decides that two names are the same
  (``unique_customer_names``), it compares their :func:`identity_key`: the text with its
  default-ignorable code points removed (:data:`DEFAULT_IGNORABLE`: zero-width spaces and
  joiners, soft hyphens, bidirectional marks, variation selectors, …), then NFKC-normalised
  and case-folded — the ``NFKC_Casefold`` mapping of Unicode's identifier rules (UAX #31,
  UTS #39) — so a full-width, decomposed, differently-cased or invisibly-split spelling of a
  name is the same name.
* **Searched by the same key.** Search (:func:`custbill.storage.search.normalise`) starts
  from the identity key and also drops accents, so texts with one key are always found by
  the same searches.

Numbers and external numbers are identifiers: compared exactly (in NFC), and they may not
hold default-ignorable characters at all (``text.invalid_character``), so no two of them
differ only by something invisible.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: The code points Unicode calls Default_Ignorable_Code_Point (``DerivedCoreProperties.txt``
#: of Unicode 14, the version of this Python's ``unicodedata``): characters with no
#: visible form of their own, which a renderer skips.  ``tests/model/test_text.py`` holds
#: it against the general categories of ``unicodedata``.
DEFAULT_IGNORABLE: Final = (
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u061c"  # Arabic letter mark
    "\u115f\u1160"  # Hangul choseong and jungseong fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u180b-\u180f"  # Mongolian free variation selectors and vowel separator
    "\u200b-\u200f"  # zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
    "\u202a-\u202e"  # bidirectional embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidirectional isolates, deprecated
    "\u3164"  # Hangul filler
    "\ufe00-\ufe0f"  # variation selectors
    "\ufeff"  # zero-width no-break space (byte order mark)
    "\uffa0"  # half-width Hangul filler
    "\ufff0-\ufff8"  # unassigned, reserved as ignorable
    "\U0001bca0-\U0001bca3"  # shorthand format controls
    "\U0001d173-\U0001d17a"  # musical symbol format controls
    "\U000e0000-\U000e0fff"  # tags and variation selectors supplement
)

_IGNORABLE: Final = re.compile(f"[{DEFAULT_IGNORABLE}]")


def nfc(text: str) -> str:
    """*text* in normalisation form C (the same object when it already is).

    >>> from custbill.model.text import nfc
    >>> nfc("Cafe\\u0301") == "Café"
    True
    """
    if text.isascii():  # the common case: ASCII is always in NFC
        return text
    return unicodedata.normalize("NFC", text)


def identity_key(text: str) -> str:
    """The key custbill compares texts by where two texts being the same matters: without
    default-ignorable characters, NFKC-normalised, case-folded.

    >>> from custbill.model.text import identity_key
    >>> identity_key("ＡＣＭＥ\\u200b Ltd") == identity_key("acme ltd")
    True
    >>> identity_key("Émile") == identity_key("Emile")  # accents are kept
    False
    """
    if text.isascii():  # ASCII: NFKC changes nothing, and case-folding is lower-casing
        return text.lower()
    visible = _IGNORABLE.sub("", text)
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", visible).casefold())
    # NFKC can make an ignorable character of a visible one (half-width Hangul filler)
    return _IGNORABLE.sub("", folded)


def invisible_at(text: str) -> int | None:
    """The index of the first default-ignorable character in *text*, or None."""
    if text.isascii():
        return None
    found = _IGNORABLE.search(text)
    return None if found is None else found.start()


#: The most characters a message shows of any text, twice the longest text a record holds
#: (``MAX_TEXT_LENGTH`` of :mod:`custbill.rules.limits`, 1,000 characters), so a message
#: about a record's own texts shows them whole, while a caller's text no record could hold
#: (a key of a megabyte) leaves an error, a log line or a traceback of bounded size.
SHOWN_LENGTH: Final = 2_000

#: Room kept in a shortened text for the note of what was left out ("… 1,234 characters
#: left out …"), enough for the count of any text Python can hold.
_NOTE_ROOM: Final = 64


def printable(text: str) -> str:
    r"""*text* as a message shows it: each character ``str.isprintable()`` refuses
    (control characters such as NUL or ESC, lone surrogates, separators other than the
    space) written as its Python escape, so that a message naming whatever a caller passed
    prints, logs and encodes whole; and, past :data:`SHOWN_LENGTH` characters once escaped,
    its start and its end with how many characters were left out between them.  The same
    object when nothing needs either; showing a shown text again changes nothing.

    >>> from custbill.model.text import printable
    >>> printable("A-1\x1b[31m"), printable("A-\ud800"), printable("Ångström 1")
    ('A-1\\x1b[31m', 'A-\\ud800', 'Ångström 1')
    >>> shown = printable("A-" + "9" * 100_000)
    >>> len(shown), shown.split(" … ")[1]
    (1968, '98,066 characters left out')
    """
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    if len(text) <= SHOWN_LENGTH:  # the common case: short and printable, the same object
        return text
    kept = SHOWN_LENGTH - _NOTE_ROOM
    head = kept // 2
    tail = kept - head
    return f"{text[:head]} … {len(text) - kept:,} characters left out … {text[-tail:]}"
