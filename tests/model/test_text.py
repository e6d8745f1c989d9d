"""The text policy: model objects keep NFC, names are compared by identity key, and search
starts from the same key."""

from __future__ import annotations

import sys
import unicodedata

import attrs
from hypothesis import given
from hypothesis import strategies as st

import custbill as cb
from custbill.model.text import (
    DEFAULT_IGNORABLE,
    SHOWN_LENGTH,
    identity_key,
    invisible_at,
    nfc,
    printable,
)
from custbill.rules.limits import MAX_TEXT_LENGTH
from custbill.storage.search import name_tokens, normalise
from custbill.testing import new_customer

# DerivedCoreProperties.txt derives Default_Ignorable_Code_Point as
#   Other_Default_Ignorable_Code_Point + Cf + Variation_Selector
#   - White_Space - FFF9..FFFB - 13430..13440 - Prepended_Concatenation_Mark
# The properties unicodedata lacks, from PropList.txt of Unicode 14:
_OTHER_DEFAULT_IGNORABLE = [
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0000),
    (0xE0002, 0xE001F),
    (0xE0080, 0xE00FF),
    (0xE01F0, 0xE0FFF),
]
_VARIATION_SELECTOR = [(0x180B, 0x180D), (0x180F, 0x180F), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF)]
_PREPENDED_CONCATENATION_MARK = [
    (0x0600, 0x0605),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
]


def _points(ranges: list[tuple[int, int]]) -> set[int]:
    return {c for low, high in ranges for c in range(low, high + 1)}


def test_default_ignorable_is_unicodes_derivation() -> None:
    """The list of invisible characters is what Unicode derives from the general categories
    and its property lists — no more, no fewer."""
    formats = {c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"}
    white = {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    derived = (
        (_points(_OTHER_DEFAULT_IGNORABLE) | formats | _points(_VARIATION_SELECTOR))
        - white
        - _points([(0xFFF9, 0xFFFB), (0x13430, 0x13440)])
    )
    derived -= _points(_PREPENDED_CONCATENATION_MARK)
    listed = {c for c in range(sys.maxunicode + 1) if invisible_at(f"x{chr(c)}") == 1}
    assert listed == derived
    assert len(DEFAULT_IGNORABLE) < 100  # ranges, not 4,000 characters


_IGNORABLES = st.sampled_from(["\u00ad", "\u200b", "\u200d", "\u2060", "\ufeff", "\ufe0f"])
# text that exercises the key: letters with accents and combining marks, full-width and
# compatibility forms, case pairs, invisible characters
_TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("aAeEé\u0301\u0308ßẞİıſﬁＡａ①Ⅻ\u3164\uffa0"),
        _IGNORABLES,
    ),
    max_size=12,
)


@given(_TEXT)
def test_identity_key_is_stable(text: str) -> None:
    """A key is its own key; NFC and invisible characters never change a key; search
    normalisation is a function of the key, so one key means one set of tokens."""
    key = identity_key(text)
    assert identity_key(key) == key
    assert identity_key(nfc(text)) == key
    assert invisible_at(key) is None
    assert normalise(key) == normalise(text)
    assert name_tokens(key) == name_tokens(text)


@given(_TEXT, st.lists(st.tuples(st.integers(0, 12), _IGNORABLES), max_size=3))
def test_invisible_characters_do_not_change_a_key(
    text: str, inserts: list[tuple[int, str]]
) -> None:
    spelled = text
    for at, char in inserts:
        spelled = spelled[:at] + char + spelled[at:]
    assert identity_key(spelled) == identity_key(text)


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12))
def test_width_case_and_composition_do_not_change_a_key(text: str) -> None:
    """The full-width and upper-case spellings of ASCII text, and its decomposed form,
    have the key of the plain text."""
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in text)
    assert identity_key(full_width) == identity_key(text) == text.lower()
    assert identity_key(text.upper()) == identity_key(text.lower())
    accented = text + "e\u0301"
    assert identity_key(accented) == identity_key(unicodedata.normalize("NFC", accented))
    assert identity_key("Émile") != identity_key("Emile")  # accents are part of a name


@given(_TEXT)
def test_model_objects_keep_text_in_nfc(text: str) -> None:
    """Every text field of a model object — a plain field, a nested record, a tuple, a
    custom field's name and value — is kept in NFC."""
    expected = unicodedata.normalize("NFC", text)
    address = cb.Address(line1=text, city="c", postal_code="1", country="US")
    customer = new_customer(
        text,
        billing_address=address,
        secondary_emails=[text],
        custom_fields={text or "f": text},
    )
    assert customer.company_name == customer.name == expected
    assert customer.billing_address is not None
    assert customer.billing_address.line1 == expected
    assert customer.secondary_emails == (expected,)
    assert dict(customer.custom_fields) == {expected or "f": expected}
    assert attrs.evolve(customer, tax_number=text).tax_number == expected


#: Texts no longer than this are never shortened, escaped (10 characters at most each)
#: and inside a violation's path.
_SHORT = SHOWN_LENGTH // 10 - len("charges[]")


@given(
    st.text(st.characters(exclude_categories=()), max_size=_SHORT)
    | st.sampled_from(["A-\ud800", "\x00\x1b[2J\n", "A-1\\x1b"])
)
def test_printable_text_prints_whole_and_reads_the_same(text: str) -> None:
    """printable() gives text that prints and encodes whole; it leaves printable text as
    it is, escapes each other character as Python would, and escaping twice changes
    nothing; a Violation keeps its path and message so."""
    shown = printable(text)
    assert shown.isprintable()
    shown.encode("utf-8")
    assert printable(shown) == shown
    assert (shown == text) == text.isprintable()
    if "\\" not in text:  # each character kept or escaped: the escapes read back give text
        assert shown.encode("ascii", "backslashreplace").decode("unicode_escape") == text
    found = cb.Violation(code="c", path=f"charges[{text}]", message=text, params={"k": text})
    assert (found.path, found.message, found.params["k"]) == (f"charges[{shown}]", shown, text)


#: Any character but the ellipsis, which marks where a shortened text was cut.
_UNCUT = st.characters(exclude_categories=(), exclude_characters="…")


@given(
    head=st.text(_UNCUT, max_size=40),
    filler=_UNCUT,
    extra=st.integers(min_value=1, max_value=3 * SHOWN_LENGTH),
    tail=st.text(_UNCUT, max_size=40),
)
def test_a_long_text_is_shown_by_its_start_and_end(
    head: str, filler: str, extra: int, tail: str
) -> None:
    """Escaped past SHOWN_LENGTH characters, a text shows its start and its end and how
    many characters were left out between them, at most SHOWN_LENGTH characters in all:
    a megabyte key makes no megabyte message.  Shown again, it stays as it is."""
    text = head + filler * (SHOWN_LENGTH + extra) + tail
    escaped = "".join(map(printable, text))  # each character alone is never shortened
    shown = printable(text)
    assert len(shown) <= SHOWN_LENGTH < len(escaped)
    assert shown.isprintable()
    assert printable(shown) == shown
    start, note, end = shown.split(" … ")
    assert escaped.startswith(start) and escaped.endswith(end)
    assert printable(head) in start and printable(tail) in end
    count, words = note.split(" ", 1)
    assert words == "characters left out"
    assert len(start) + int(count.replace(",", "")) + len(end) == len(escaped)


def test_text_up_to_the_shown_length_is_shown_whole() -> None:
    """The bound falls past any text a record holds: a message about a record's own text
    shows it whole."""
    assert SHOWN_LENGTH >= 2 * MAX_TEXT_LENGTH
    assert printable("x" * SHOWN_LENGTH) == "x" * SHOWN_LENGTH
    assert printable("x" * (SHOWN_LENGTH + 1)) != "x" * (SHOWN_LENGTH + 1)
    assert printable("\x1b" * (SHOWN_LENGTH // 4)) == "\\x1b" * (SHOWN_LENGTH // 4)
