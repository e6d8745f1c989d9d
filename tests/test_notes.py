"""Notes on customers and accounts, through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import custbill as cb
from custbill.rules.limits import MAX_NOTE_LENGTH
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import (
    NOW,
    new_account,
    new_customer,
    standard_facade,
)


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        yield facade


def test_notes_are_listed_newest_first_and_deleted(billing: cb.CustomerBilling) -> None:
    customer, account = billing.create_customer(new_customer(), new_account())
    first = billing.add_note(customer.number, "Called about the March invoice.", author="ann")
    second = billing.add_note(customer.number, "Promised to pay\nby Friday.", author="bob")
    on_account = billing.add_note(account.number, "Paper invoices go to HQ.", author="ann")
    assert (first.about, first.author, first.at) == (customer.number, "ann", NOW)
    assert len({first.number, second.number, on_account.number}) == 3
    assert billing.notes(customer.number) == (second, first)
    assert billing.notes(account.number) == (on_account,)
    billing.delete_note(second.number)
    assert billing.notes(customer.number) == (first,)
    with pytest.raises(cb.NotFoundError):
        billing.delete_note(second.number)
    with pytest.raises(cb.NotFoundError, match="customer or account"):
        billing.notes("C-404")
    with pytest.raises(cb.NotFoundError):
        billing.add_note("C-404", "x", author="ann")


@pytest.mark.parametrize(
    ("text", "author", "expected"),
    [
        ("", "ann", {("note.text_required", "text")}),
        ("  \n", "ann", {("note.text_required", "text")}),
        ("ok", " ", {("note.author_required", "author")}),
        ("x" * (MAX_NOTE_LENGTH + 1), "ann", {("limit.text_too_long", "text")}),
        ("card 4111 1111 1111 1111 on file", "ann", {("text.card_number", "text")}),
        ("bad \x00 byte", "ann", {("text.invalid_character", "text")}),
        ("ok", "ann\ud800", {("text.invalid_character", "author")}),
    ],
)
def test_a_bad_note_is_refused_and_changes_nothing(
    billing: cb.CustomerBilling,
    store: Store,
    text: str,
    author: str,
    expected: set[tuple[str, str]],
) -> None:
    customer, _ = billing.create_customer(new_customer(), new_account())
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.add_note(customer.number, text, author=author)
    assert {(v.code, v.path) for v in refused.value.violations} == expected
    assert "4111" not in str(refused.value)
    assert dump(store) == before


def test_the_longest_note_is_kept(billing: cb.CustomerBilling) -> None:
    customer, _ = billing.create_customer(new_customer(), new_account())
    text = "é" * MAX_NOTE_LENGTH
    assert billing.add_note(customer.number, text, author="ann").text == text
    assert billing.notes(customer.number)[0].text == text


def test_notes_are_erased_with_their_customer(billing: cb.CustomerBilling) -> None:
    customer, account = billing.create_customer(new_customer(), new_account())
    other, _ = billing.create_customer(new_customer(company_name="Other"), new_account())
    billing.add_note(customer.number, "Prefers calls after 5pm.", author="ann")
    billing.add_note(account.number, "Disputed invoice I-1.", author="ann")
    kept = billing.add_note(other.number, "Kept.", author="ann")
    billing.erase_customer(customer.number)
    assert billing.notes(customer.number) == ()
    assert billing.notes(account.number) == ()
    assert billing.notes(other.number) == (kept,)
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.add_note(account.number, "After erasure.", author="ann")
    assert "customer.erased" in refused.value.codes


def test_a_note_in_a_failed_batch_call_leaves_nothing(billing: cb.CustomerBilling) -> None:
    customer, _ = billing.create_customer(new_customer(), new_account())
    with billing.batch() as batch:
        kept = batch.add_note(customer.number, "kept", author="ann")
        with pytest.raises(cb.RuleViolationError):
            batch.add_note(customer.number, "", author="ann")
    assert billing.notes(customer.number) == (kept,)
