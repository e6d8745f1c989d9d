"""Bounded work: how long a text and how many of a repeated part custbill takes.

Every store accepts and refuses exactly the same input, because the limits are checked
before anything reaches a store, and every check reads its input once.  A record over a
limit is refused with only the limits it breaks (its other rules are not checked: a
million phone entries are one violation, not a million), and an error message lists at
most ``MAX_LISTED_VIOLATIONS`` (20, in ``custbill.errors``) violations and says how many more
there were.

Codes:

* ``limit.text_too_long`` — a text field longer than its limit;
* ``limit.too_many`` — more phones, emails, contacts, payment methods or custom fields
  than the limit;
* ``limit.search_too_long`` — a search of more words or characters than the limit;
* ``text.invalid_character`` — a text holding NUL, another control character (but tab
  and line breaks) or a lone surrogate, which the SQL stores could not store; or a key (a
  field limited to ``MAX_KEY_LENGTH``: numbers, external numbers, catalog ids and the
  references to them, language tags) holding an invisible, default-ignorable character
  (:data:`custbill.model.text.DEFAULT_IGNORABLE`), so that no two keys differ only by
  something nobody sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sized
from typing import Final

from custbill.model import Violation
from custbill.model.text import DEFAULT_IGNORABLE, invisible_at
from custbill.rules._support import violation

#: The longest number, external number or catalog id (they are keys every store
#: indexes, and the longest numbering scheme seen in billing systems is far shorter).
#: Every field with this limit is a key, and refuses invisible characters.
MAX_KEY_LENGTH: Final = 64
#: The longest email address (254 characters in a forward path, by RFC 5321).
MAX_EMAIL_LENGTH: Final = 254
#: The longest any other text field may be (names, address lines, contact fields, custom
#: field text, payment references, adjustment reasons).
MAX_TEXT_LENGTH: Final = 1_000
#: The longest note, a few paragraphs (what an agent writes after a call).
MAX_NOTE_LENGTH: Final = 4_000
#: The most phones, secondary emails, payment methods, contacts or custom fields a record
#: may have (of each).
MAX_ITEMS: Final = 100
#: The most words a search may have (a person types a few; every word is one more index
#: range on the SQL stores).
MAX_SEARCH_WORDS: Final = 16
#: The most characters a search may have.
MAX_SEARCH_LENGTH: Final = 500


def text_violations(fields: Iterable[tuple[str, str | None, int]]) -> list[Violation]:
    """``limit.text_too_long`` for each (path, text, limit) whose text is too long."""
    return [
        violation(
            "limit.text_too_long",
            path,
            f"at most {limit:,} characters (this has {len(text):,})",
            limit=limit,
            length=len(text),
        )
        for path, text, limit in fields
        if text is not None and len(text) > limit
    ]


def count_violations(parts: Iterable[tuple[str, Sized]]) -> list[Violation]:
    """``limit.too_many`` for each (path, collection) with more than
    :data:`~custbill.rules.limits.MAX_ITEMS`."""
    return [
        violation(
            "limit.too_many",
            path,
            f"at most {MAX_ITEMS} (this has {len(items):,})",
            limit=MAX_ITEMS,
            count=len(items),
        )
        for path, items in parts
        if len(items) > MAX_ITEMS
    ]


#: Every text a limit applies to is at most this long in the usual record; a record whose
#: texts all are needs no field-by-field check (every limit is at least this).
_SHORTEST_LIMIT = min(MAX_KEY_LENGTH, MAX_EMAIL_LENGTH, MAX_TEXT_LENGTH)

#: Characters no text custbill stores may hold: NUL and the other C0 and C1 control
#: characters but tab, line feed and carriage return, DEL, and lone surrogates (which no
#: UTF-8 database can hold). Tab and line breaks are refused nowhere, so that notes and
#: reasons may have them.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: What a text must not hold for the quick check to pass it: a refused character, or an
#: invisible one (refused in keys only, which the field-by-field reading tells).
_SUSPECT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{DEFAULT_IGNORABLE}]")


def all_plain(strings: list[str | None]) -> bool:
    """Whether *strings* are all at most the shortest limit long and free of characters
    custbill refuses (or refuses in keys), told in a few passes in C (then no text among
    them needs reading on its own)."""
    present = list(filter(None, strings))
    return max(map(len, present), default=0) <= _SHORTEST_LIMIT and not _SUSPECT.search(
        "\n".join(present)
    )


def character_violations(fields: Iterable[tuple[str, str | None, int]]) -> list[Violation]:
    """``text.invalid_character`` for each (path, text, limit) holding a character custbill
    does not store, or, for a key (limit ``MAX_KEY_LENGTH``), an invisible one (the
    message says where, never the text)."""
    found = []
    for path, text, limit in fields:
        if not text:
            continue
        bad = _REFUSED.search(text)
        position = bad.start() if bad is not None else None
        if position is None and limit == MAX_KEY_LENGTH:
            position = invisible_at(text)
        if position is not None:
            char = text[position]
            found.append(
                violation(
                    "text.invalid_character",
                    path,
                    f"character {position + 1} is {_name(char)}, which custbill does not "
                    + ("store" if bad is not None else "keep in a number or an id"),
                    position=position,
                    codepoint=f"U+{ord(char):04X}",
                )
            )
    return found


def _name(char: str) -> str:
    if "\ud800" <= char <= "\udfff":
        return "a lone surrogate"
    if _REFUSED.match(char) is None:
        return "an invisible character"
    return "NUL" if char == "\x00" else "a control character"


def record_text_violations(texts: list[tuple[str, str | None, int]]) -> list[Violation]:
    """:func:`text_violations` and :func:`character_violations` of (path, text, limit)."""
    return [*text_violations(texts), *character_violations(texts)]


def search_limits(text: str) -> list[Violation]:
    """The limits a search of *text* breaks: more than
    :data:`~custbill.rules.limits.MAX_SEARCH_LENGTH` characters or
    :data:`~custbill.rules.limits.MAX_SEARCH_WORDS` words."""
    refused = character_violations([("text", text, MAX_SEARCH_LENGTH)])
    if refused:
        return refused
    if len(text) > MAX_SEARCH_LENGTH:
        return [
            violation(
                "limit.search_too_long",
                "text",
                f"a search has at most {MAX_SEARCH_LENGTH} characters",
                limit=MAX_SEARCH_LENGTH,
                length=len(text),
            )
        ]
    words = len(text.split())
    if words > MAX_SEARCH_WORDS:
        return [
            violation(
                "limit.search_too_long",
                "text",
                f"a search has at most {MAX_SEARCH_WORDS} words",
                limit=MAX_SEARCH_WORDS,
                words=words,
            )
        ]
    return []
