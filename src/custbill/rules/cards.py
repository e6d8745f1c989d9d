"""Payment card numbers, however they are written, in any text custbill would store.

custbill never stores a card number (PCI DSS: a primary account number is never kept
readable).  A card number is a run of 13 to 19 digits that passes the Luhn check; it is
recognised whatever digits write it (any Unicode decimal digit: ``４１１１…`` in full-width
digits is the same number) and whatever stands between them: white space of any kind,
dashes, dots and slashes, and invisible format characters (zero-width spaces and joiners,
soft hyphens, word joiners: Unicode category Cf).  The digits between two such separators
form a group, and any run of whole consecutive groups, or a run of digits with no
separator, of 13 to 19 digits is tried, so ``order 12 4111 1111 1111 1111`` holds one.

Phone numbers and tax numbers are not searched: they are digits of their own, which a
format of 13 to 15 digits (some national identity numbers end in a Luhn check digit) would
make look like cards.

:func:`holds_card_number` is the plain reading, character by character.  Most text holds
fewer than 13 digits at all, which one regular-expression pass over every text field of a
record tells (:func:`card_number_fields`), so only text with enough digits is read
character by character.  ``tests/rules/test_cards.py`` holds :func:`holds_card_number`
against a brute-force search of every run of groups, checked by the textbook Luhn test.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Final

from custbill.model import Violation
from custbill.rules._support import violation

#: The fewest digits of a payment card number (ISO/IEC 7812).
MIN_DIGITS: Final = 13
#: The most digits of a payment card number (ISO/IEC 7812).
MAX_DIGITS: Final = 19

#: Characters that may stand between the digits of a written card number, besides white
#: space and invisible format characters (category Cf).
SEPARATORS: Final = frozenset("-‐‑‒–—―−.·/\\_")

_DIGIT = re.compile(r"\d")


def _is_separator(char: str) -> bool:
    return char.isspace() or char in SEPARATORS or unicodedata.category(char) == "Cf"


def _groups(text: str) -> Iterator[list[str]]:
    """The runs of digit groups in *text*: digits (as ASCII) between separators, a run
    ending at any other character."""
    groups: list[str] = []
    current: list[str] = []
    for char in text:
        if char.isdecimal():
            current.append(str(unicodedata.decimal(char)))
        elif _is_separator(char):
            if current:
                groups.append("".join(current))
                current = []
        else:
            if current:
                groups.append("".join(current))
                current = []
            if groups:
                yield groups
                groups = []
    if current:
        groups.append("".join(current))
    if groups:
        yield groups


def luhn_valid(digits: str) -> bool:
    """True when the string of ASCII digits passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def holds_card_number(text: str) -> bool:
    """True when *text* holds a payment card number, however written (see the module's
    text).

    Each run of whole groups is tried from its last group leftwards, so the Luhn sum of
    the digits read so far carries over (a digit's weight counts from the right): at most
    :data:`~custbill.rules.cards.MAX_DIGITS` digits are read from each group, and the time
    is linear in the text.
    """
    for groups in _groups(text):
        for end in range(len(groups) - 1, -1, -1):
            total = count = 0
            for start in range(end, -1, -1):
                for char in reversed(groups[start]):
                    digit = ord(char) - 48
                    if count % 2:
                        digit = digit * 2 - 9 if digit > 4 else digit * 2
                    total += digit
                    count += 1
                if count > MAX_DIGITS:
                    break
                if count >= MIN_DIGITS and total % 10 == 0:
                    return True
    return False


def may_hold_card_number(texts: Iterable[str | None]) -> bool:
    """False when *texts* together hold fewer than :data:`MIN_DIGITS` digits, so none of
    them holds a card number: one pass in C over them all, which most records pass."""
    return len(_DIGIT.findall("\n".join(filter(None, texts)))) >= MIN_DIGITS


def card_number_fields(fields: Iterable[tuple[str, str | None]]) -> list[str]:
    """The paths of the fields, given as (path, text or None), that hold a card number."""
    present = [(path, text) for path, text in fields if text]
    if not may_hold_card_number(text for _, text in present):
        return []  # (the usual case: too few digits in all of them together)
    return [path for path, text in present if holds_card_number(text)]


def card_violations(fields: Iterable[tuple[str, str | None]]) -> list[Violation]:
    """``text.card_number`` on each of the fields, given as (path, text or None), that
    holds a card number (the message never repeats the text)."""
    return [
        violation(
            "text.card_number",
            path,
            "card numbers are never stored: this text holds one",
        )
        for path in card_number_fields(fields)
    ]
