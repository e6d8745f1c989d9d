"""MemoryStore: all-or-nothing units of work, versions, and a stateful comparison of the
facade over it with a plain-Python model."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custbill as cb
from custbill.storage import MemoryStore
from tests.conftest import ALL_ON, new_account, new_customer, snapshot


def _customer(number: str = "C-1") -> cb.Customer:
    return cb.Customer(
        number=number,
        default_account="A-1",
        kind=cb.CustomerKind.COMPANY,
        company_name="Acme",
        primary_email="a@acme.example",
    )


def test_leaving_without_commit_rolls_back() -> None:
    """Writes without commit, or followed by an exception, leave nothing."""
    store = MemoryStore()
    empty = snapshot(store)
    with store.unit_of_work() as uow:
        uow.customers.add(_customer())
        uow.settings.put(ALL_ON)
    assert snapshot(store) == empty
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.customers.add(_customer())
        uow.commit()
        uow.customers.update(attrs.evolve(_customer(), company_name="Other", version=2))
        raise RuntimeError
    with store.unit_of_work(read_only=True) as uow:
        kept = uow.customers.get("C-1")
    assert kept is not None and kept.company_name == "Acme"
    assert store.names.tokens.matching("other") == set()


def test_update_checks_the_version() -> None:
    """An update must be based on the stored version."""
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.customers.add(_customer())
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(cb.ConflictError):
        uow.customers.update(attrs.evolve(_customer(), version=3))


def test_sequences_never_repeat_even_after_rollback() -> None:
    """A number drawn in a rolled-back unit of work is not drawn again."""
    store = MemoryStore()
    with store.unit_of_work() as uow:
        first = uow.next_number("customer")
    with store.unit_of_work() as uow:
        assert uow.next_number("customer") == first + 1


def test_equal_history_entries_of_one_append_share_a_tuple(
    store: MemoryStore, billing: cb.CustomerBilling
) -> None:
    """The "created" entries of a customer and its first account are one tuple in memory;
    entries that differ are kept apart."""
    customer, account = billing.create_customer(new_customer(), new_account())
    (created,) = store.history[customer.number]
    assert store.history[account.number][0] is created
    billing.edit_customer(customer.number, company_name="Acme 2", primary_email="c@d.example")
    first, second = store.history[customer.number][1:]
    assert first is not second
    assert {first[1:], second[1:]} == {
        ("company_name", "Acme Brick", "Acme 2"),
        ("primary_email", "ap@acme.example", "c@d.example"),
    }


@given(
    names=st.lists(
        st.text(alphabet="abcé -", min_size=1, max_size=8).filter(str.strip),
        min_size=1,
        max_size=25,
    ),
    query=st.text(alphabet="abcé c-0", min_size=1, max_size=6),
    limit=st.integers(1, 5),
)
@settings(max_examples=60, deadline=None)
def test_limited_search_is_the_start_of_the_full_one(
    names: list[str], query: str, limit: int
) -> None:
    """search(words, limit) gives the first matches of search(words), for any data."""
    from custbill.storage.search import query_words
    from custbill.testing import facade_for, new_account, new_customer

    store = MemoryStore()
    billing = facade_for(store)
    for name in names:
        billing.create_customer(new_customer(name), new_account())
    words = query_words(query)
    with store.unit_of_work() as uow:
        assert uow.customers.search(words, limit) == uow.customers.search(words)[:limit]
