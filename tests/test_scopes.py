"""Tenants: customers under reseller customers, and facades scoped to a reseller's subtree,
on every store — by example, and by a hypothesis state machine driving two scopes over one
store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from moneyed import Money

import custbill as cb
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import add_catalog, fixed_clock, new_account, new_customer

JULY = date(2026, 7, 1)
SETTINGS = cb.Settings(
    allow_multi_customer_accounts=True,
    enable_responsible_account_management=True,
    enable_account_hierarchy_management=True,
)


def _facade(store: Store) -> cb.CustomerBilling:
    billing = cb.CustomerBilling(store=store, settings=SETTINGS, clock=fixed_clock)
    add_catalog(billing)
    return billing


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with _facade(store) as facade:
        yield facade


def _not_found(call: Callable[[], object]) -> str:
    with pytest.raises(cb.NotFoundError) as caught:
        call()
    return str(caught.value)


def test_a_scoped_facade_sees_only_its_subtree(billing: cb.CustomerBilling) -> None:
    """Customers created through a scope sit under its reseller; another scope's numbers
    are not found, with the very message of a number that does not exist; searches and
    listings leave them out; nested scopes narrow further."""
    north, _ = billing.create_customer(new_customer(company_name="North Reseller"), new_account())
    south, _ = billing.create_customer(new_customer(company_name="South Reseller"), new_account())
    n, s = billing.scoped(north.number), billing.scoped(south.number)
    dental, dental_account = n.create_customer(
        new_customer(company_name="Acme Dental"), new_account()
    )
    bakery, bakery_account = s.create_customer(
        new_customer(company_name="Acme Bakery"), new_account()
    )
    assert (dental.owner, bakery.owner) == (north.number, south.number)
    clinic, _ = n.scoped(dental.number).create_customer(
        new_customer(company_name="Acme Clinic"), new_account()
    )
    assert clinic.owner == dental.number
    assert [c.number for c in n.search_customers("acme")] == [dental.number, clinic.number]
    assert [c.number for c in s.search_customers("acme")] == [bakery.number]
    assert len(billing.search_customers("acme")) == 3
    calls: list[tuple[Callable[[str], object], str, str]] = [
        (n.get_customer, bakery.number, "C-999999"),
        (n.history, bakery.number, "C-999999"),
        (lambda c: n.edit_customer(c, company_name="Mine now"), bakery.number, "C-999999"),
        (lambda c: n.add_account(c, new_account()), bakery.number, "C-999999"),
        (n.scoped, bakery.number, "C-999999"),
        (n.get_account, bakery_account.number, "A-999999"),
        (n.transactions, bakery_account.number, "A-999999"),
        (n.account_summary, bakery_account.number, "A-999999"),
    ]
    for call, other, missing in calls:
        told = _not_found(partial(call, other)).replace(other, "#")
        assert told == _not_found(partial(call, missing)).replace(missing, "#")
    assert [a.number for a in n.responsible_account_candidates(dental_account.number)] != []
    assert bakery_account.number not in [
        a.number for a in n.responsible_account_candidates(dental_account.number)
    ]
    assert _not_found(lambda: n.scoped(dental.number).get_customer(north.number))


def test_links_and_owners_never_leave_the_scope(billing: cb.CustomerBilling, store: Store) -> None:
    north, _ = billing.create_customer(new_customer(company_name="North"), new_account())
    south, south_account = billing.create_customer(
        new_customer(company_name="South"), new_account()
    )
    n = billing.scoped(north.number)
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as caught:
        n.create_customer(
            new_customer(company_name="Sneaky", owner=south.number),
            new_account(responsible_account=south_account.number),
        )
    assert sorted((v.code, v.path) for v in caught.value.violations) == [
        ("account.reference_unknown", "account.responsible_account"),
        ("customer.reference_unknown", "customer.owner"),
    ]
    with pytest.raises(cb.RuleViolationError) as caught:
        n.update_settings(unique_customer_names=True)
    assert caught.value.codes == {"scope.shared_read_only"}
    with pytest.raises(cb.RuleViolationError) as caught:
        n.add_catalog_entry(cb.RatePlan(id="x", name="X"))
    assert caught.value.codes == {"scope.shared_read_only"}
    assert dump(store) == before
    with pytest.raises(TypeError, match="owner"):
        billing.edit_customer(north.number, owner=south.number)


def test_two_scopes_run_the_same_cycle_on_the_same_day(billing: cb.CustomerBilling) -> None:
    """Each scope plans and issues its own run of the cycle; neither sees, bills or takes
    the pending charges of the other; the host's run bills what the scopes did not."""
    north, _ = billing.create_customer(new_customer(company_name="North"), new_account())
    south, _ = billing.create_customer(new_customer(company_name="South"), new_account())
    n, s = billing.scoped(north.number), billing.scoped(south.number)
    _, a = n.create_customer(new_customer(company_name="A"), new_account())
    _, b = s.create_customer(new_customer(company_name="B"), new_account())
    n.add_charge(a.number, Money(7, "USD"), "setup", on=date(2026, 6, 1))
    s.add_charge(b.number, Money(9, "USD"), "setup", on=date(2026, 6, 1))
    plan_n = n.plan_bill_run("m1", JULY, {a.number: Money(10, "USD")})
    plan_s = s.plan_bill_run("m1", JULY, {b.number: Money(20, "USD")})
    assert [(i.billed_account, i.total) for i in plan_n.invoices] == [(a.number, Money(17, "USD"))]
    assert [(i.billed_account, i.total) for i in plan_s.invoices] == [(b.number, Money(29, "USD"))]
    issued_n, issued_s = n.issue_bill_run(plan_n), s.issue_bill_run(plan_s)
    assert {i.billed_account for i in issued_n} == {a.number}
    assert {i.billed_account for i in issued_s} == {b.number}
    assert n.issue_bill_run(plan_n) == issued_n  # issued once, per scope
    with pytest.raises(cb.NotFoundError):
        n.invoices(b.number)


# -- two scopes driven at random --------------------------------------------------------------


class TwoScopes(RuleBasedStateMachine):
    """Two resellers' scoped facades over one store: whatever either does, it sees and
    changes only its own subtree, and the other's records stay as they were."""

    def __init__(self, make_store: Callable[[], Store]) -> None:
        super().__init__()
        self.store = make_store()
        self.host = _facade(self.store)
        self.facades: list[cb.CustomerBilling] = []
        self.customers: list[set[str]] = []
        self.accounts: list[list[str]] = []
        for name in ("North", "South"):
            root, account = self.host.create_customer(
                new_customer(company_name=f"{name} Reseller"), new_account()
            )
            self.facades.append(self.host.scoped(root.number))
            self.customers.append({root.number})
            self.accounts.append([account.number])
        self.snapshots = [self._records(0), self._records(1)]

    def teardown(self) -> None:
        self.store.close()

    def _records(self, side: int) -> dict[str, Any]:
        """Everything of scope *side*, read through the host."""
        host = self.host
        return {
            "customers": [host.get_customer(n) for n in sorted(self.customers[side])],
            "accounts": [host.get_account(n) for n in self.accounts[side]],
            "invoices": [host.invoices(n) for n in self.accounts[side]],
            "charges": [host.charges(n) for n in self.accounts[side]],
            "payments": [host.payments(n) for n in self.accounts[side]],
        }

    def _mine(self, side: int, number: str) -> bool:
        return number in self.customers[side] or number in self.accounts[side]

    @rule(side=st.integers(0, 1), name=st.sampled_from(["Acme", "Bolt", "Cog"]))
    def create(self, side: int, name: str) -> None:
        customer, account = self.facades[side].create_customer(
            new_customer(company_name=f"{name} {len(self.customers[side])}"),
            new_account(dunning_enabled=True, dunning_plan="std"),
        )
        self.customers[side].add(customer.number)
        self.accounts[side].append(account.number)
        self._done(side)

    @rule(side=st.integers(0, 1), data=st.data())
    def charge(self, side: int, data: st.DataObject) -> None:
        account = data.draw(st.sampled_from(self.accounts[side]))
        self.facades[side].add_charge(account, Money(5, "USD"), "fee", on=date(2026, 6, 1))
        self._done(side)

    @rule(side=st.integers(0, 1), data=st.data())
    def edit(self, side: int, data: st.DataObject) -> None:
        account = data.draw(st.sampled_from(self.accounts[side]))
        self.facades[side].edit_account(
            account, invoice_note=f"note {data.draw(st.integers(0, 9))}"
        )
        self._done(side)

    @rule(side=st.integers(0, 1), data=st.data())
    def pay(self, side: int, data: st.DataObject) -> None:
        account = data.draw(st.sampled_from(self.accounts[side]))
        self.facades[side].record_payment(account, Money(3, "USD"), date(2026, 7, 2))
        self._done(side)

    @rule(side=st.integers(0, 1), day=st.sampled_from([date(2026, 7, 1), date(2026, 8, 1)]))
    def bill(self, side: int, day: date) -> None:
        billing = self.facades[side]
        plan = billing.plan_bill_run("m1", day)
        assert all(self._mine(side, i.billed_account) for i in plan.invoices)
        assert all(self._mine(side, s.account) for s in plan.skipped)
        try:
            issued = billing.issue_bill_run(plan)
        except cb.ConflictError:  # (the run was issued before, from another plan)
            issued = ()
        assert all(self._mine(side, i.billed_account) for i in issued)
        self._done(side)

    @rule(side=st.integers(0, 1), data=st.data())
    def reach_across(self, side: int, data: st.DataObject) -> None:
        """Every call naming the other scope's record fails as for a missing number and
        changes nothing."""
        other = 1 - side
        customer = data.draw(st.sampled_from(sorted(self.customers[other])))
        account = data.draw(st.sampled_from(self.accounts[other]))
        billing = self.facades[side]
        calls = [
            lambda: billing.get_customer(customer),
            lambda: billing.get_account(account),
            lambda: billing.edit_account(account, invoice_note="mine"),
            lambda: billing.add_charge(account, Money(5, "USD"), "fee", on=date(2026, 6, 1)),
            lambda: billing.record_payment(account, Money(1, "USD"), date(2026, 7, 2)),
            lambda: billing.add_note(customer, "hello", author="x"),
            lambda: billing.customer_summary(customer),
            lambda: billing.activity(account),
        ]
        before = dump(self.store)
        for call in calls:
            with pytest.raises(cb.NotFoundError):
                call()
        assert dump(self.store) == before

    @rule(side=st.integers(0, 1))
    def look_around(self, side: int) -> None:
        billing = self.facades[side]
        found = {c.number for c in billing.search_customers("reseller")}
        found |= {c.number for c in billing.search_customers("acme")}
        assert found <= self.customers[side]
        for account in billing.search_accounts("a"):
            assert self._mine(side, account.number)
        for violations in billing.validate_customers().values():
            assert all(self._mine(side, v.params["number"]) for v in violations)
        report = billing.run_dunning(date(2026, 9, 1))
        assert all(self._mine(side, n.account) for n in report.applied)
        self._done(side)

    def _done(self, side: int) -> None:
        """After a call of scope *side*: the other scope's records are as they were."""
        other = 1 - side
        assert self._records(other) == self.snapshots[other]
        self.snapshots[side] = self._records(side)


def test_two_scopes_never_meet(make_store: Callable[[], Store]) -> None:
    """A hypothesis state machine: random calls of two scoped facades over one store."""

    class Machine(TwoScopes):
        def __init__(self) -> None:
            super().__init__(make_store)

    Machine.TestCase.settings = settings(
        max_examples=8,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    run_state_machine_as_test(Machine, settings=Machine.TestCase.settings)
