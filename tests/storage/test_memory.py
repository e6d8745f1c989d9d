"""MemoryStore: all-or-nothing units of work, versions, and a stateful comparison of the
facade over it with a plain-Python model."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import custbill as cb
from custbill.storage import MemoryStore
from custbill.storage.search import name_tokens, normalise, query_words
from tests.conftest import ALL_ON, add_catalog, new_account, new_customer, snapshot


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
    assert store.customers["C-1"].company_name == "Acme"
    assert store.customer_search.search(["other"]) == []


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


class FacadeMachine(RuleBasedStateMachine):
    """Drives the facade with valid and invalid operations; a plain dict model says what
    must be stored, and every rejected operation must leave the store untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryStore()
        self.billing = cb.CustomerBilling(store=self.store, settings=ALL_ON)
        add_catalog(self.billing)
        self.names: dict[str, str] = {}  # customer number -> name
        self.owner: dict[str, str] = {}  # account number -> customer number
        self.status: dict[str, cb.AccountStatus] = {}
        self.versions: dict[str, int] = {}

    @rule(name=st.text(alphabet="abcé XY", min_size=1, max_size=10).filter(str.strip))
    def create(self, name: str) -> None:
        customer, account = self.billing.create_customer(
            new_customer(company_name=name), new_account()
        )
        self.names[customer.number] = name
        self.owner[account.number] = customer.number
        self.status[account.number] = cb.AccountStatus.ACTIVE
        self.versions[customer.number] = self.versions[account.number] = 1

    @precondition(lambda self: self.names)
    @rule(data=st.data(), currency=st.sampled_from(["USD", "EUR", "XXZ"]))
    def add_account(self, data: st.DataObject, currency: str) -> None:
        customer = data.draw(st.sampled_from(sorted(self.names)))
        before = snapshot(self.store)
        try:
            account = self.billing.add_account(customer, new_account(currency=currency))
        except cb.RuleViolationError as error:
            assert currency == "XXZ" and error.codes == {"account.currency_unknown"}
            assert snapshot(self.store) == before
            return
        self.owner[account.number] = customer
        self.status[account.number] = cb.AccountStatus.ACTIVE
        self.versions[account.number] = 1

    @precondition(lambda self: self.names)
    @rule(data=st.data(), name=st.text(alphabet="abcé XY", max_size=10))
    def rename(self, data: st.DataObject, name: str) -> None:
        number = data.draw(st.sampled_from(sorted(self.names)))
        before = snapshot(self.store)
        try:
            self.billing.edit_customer(
                number, company_name=name, expected_version=self.versions[number]
            )
        except cb.RuleViolationError as error:
            assert not name.strip() and error.codes == {"customer.name_required"}
            assert snapshot(self.store) == before
            return
        if name != self.names[number]:
            self.versions[number] += 1
        self.names[number] = name

    @precondition(lambda self: self.status)
    @rule(data=st.data(), status=st.sampled_from(cb.AccountStatus))
    def change_status(self, data: st.DataObject, status: cb.AccountStatus) -> None:
        number = data.draw(st.sampled_from(sorted(self.status)))
        old = self.status[number]
        allowed = old == status or (
            old is not cb.AccountStatus.DEACTIVATED
            and (status is cb.AccountStatus.DEACTIVATED or cb.AccountStatus.ACTIVE in (old, status))
        )
        before = snapshot(self.store)
        try:
            self.billing.edit_account(number, status=status)
        except cb.RuleViolationError:
            assert not allowed
            assert snapshot(self.store) == before
            return
        assert allowed
        if status != old:
            self.versions[number] += 1
        self.status[number] = status

    @precondition(lambda self: self.versions)
    @rule(data=st.data())
    def stale_edit(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(sorted(self.names)))
        before = snapshot(self.store)
        with pytest.raises(cb.ConflictError):
            self.billing.edit_customer(
                number, company_name="Stale", expected_version=self.versions[number] + 1
            )
        assert snapshot(self.store) == before

    @invariant()
    def stored_matches_model(self) -> None:
        for number, name in self.names.items():
            customer = self.billing.get_customer(number)
            assert customer.company_name == name and customer.version == self.versions[number]
        for number, customer in self.owner.items():
            account = self.billing.get_account(number)
            assert account.customer == customer and account.status is self.status[number]
            assert account.version == self.versions[number]

    @invariant()
    def accounts_of_lists_each_customers_accounts(self) -> None:
        for number in self.names:
            listed = [a.number for a in self.billing.accounts_of(number)]
            assert sorted(listed) == sorted(a for a, c in self.owner.items() if c == number)

    @invariant()
    def search_matches_brute_force(self) -> None:
        for word in ("a", "é", "x", "abc"):
            expected = sorted(
                n
                for n, name in self.names.items()
                if any(t.startswith(normalise(word)) for t in name_tokens(name))
            )
            assert [c.number for c in self.billing.search_customers(word)] == expected
            assert query_words(word)


TestFacadeMachine = FacadeMachine.TestCase
TestFacadeMachine.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
