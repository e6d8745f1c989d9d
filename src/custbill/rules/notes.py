"""Rules about notes on customers and accounts.

A note has text and an author, neither blank (``note.text_required``,
``note.author_required``); both obey the rules of all text custbill keeps: the text at most
:data:`~custbill.rules.limits.MAX_NOTE_LENGTH` characters and the author at most
:data:`~custbill.rules.limits.MAX_TEXT_LENGTH`, no refused character, no card number.
"""

from __future__ import annotations

from custbill.model import Violation
from custbill.rules._support import blank, violation
from custbill.rules.cards import card_violations
from custbill.rules.limits import MAX_NOTE_LENGTH, MAX_TEXT_LENGTH, record_text_violations


def check_note(text: str, author: str) -> tuple[Violation, ...]:
    """What is wrong with a note of *text* by *author*."""
    refused = record_text_violations(
        [("text", text, MAX_NOTE_LENGTH), ("author", author, MAX_TEXT_LENGTH)]
    )
    if refused:
        return tuple(refused)
    found = list(card_violations([("text", text), ("author", author)]))
    if blank(text):
        found.append(violation("note.text_required", "text", "a note needs text"))
    if blank(author):
        found.append(violation("note.author_required", "author", "a note needs an author"))
    return tuple(found)
