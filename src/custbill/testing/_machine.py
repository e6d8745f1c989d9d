"""The hypothesis state machine the contract drives the facade with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from moneyed import Money

from custbill.errors import ConflictError, RuleViolationError
from custbill.model import AccountStatus, Address
from custbill.storage.protocols import Store
from custbill.testing._data import START, dump, facade_for, new_account, new_customer

#: The most bill runs a sequence makes, one a month from the contract's start.
RUNS = 4


class Queued(NamedTuple):
    """A charge the model expects the store to hold pending."""

    account: str
    on: date
    amount: Money


class FacadeMachine(RuleBasedStateMachine):
    """Random sequences of facade calls over a store, beside a plain-Python model of what
    the store should hold: the store and the model never diverge, and every rejected call
    leaves the store as it was.  :func:`facade_machine` makes one for a kind of store."""

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.billing = facade_for(self.store)
        self.names: dict[str, str] = {}
        self.owner: dict[str, str] = {}
        self.status: dict[str, AccountStatus] = {}
        self.versions: dict[str, int] = {}
        self.currency: dict[str, str] = {}
        self.pending: dict[str, Queued] = {}
        self.runs = 0

    @staticmethod
    def make_store() -> Store:
        """A fresh, empty store (given by :func:`facade_machine`)."""
        raise NotImplementedError

    def teardown(self) -> None:
        self.store.close()

    @rule(name=st.text(alphabet="abcé XY", min_size=1, max_size=10).filter(str.strip))
    def create(self, name: str) -> None:
        customer, account = self.billing.create_customer(
            new_customer(
                name,
                billing_address=Address(
                    line1="1 Main", city="Austin", postal_code="1", country="US"
                ),
            ),
            new_account(),
        )
        self.names[customer.number] = name
        self.owner[account.number] = customer.number
        self.status[account.number] = AccountStatus.ACTIVE
        self.versions[customer.number] = self.versions[account.number] = 1
        self.currency[account.number] = "USD"

    @precondition(lambda self: self.names)
    @rule(data=st.data(), currency=st.sampled_from(["USD", "EUR", "XXZ"]))
    def add_account(self, data: st.DataObject, currency: str) -> None:
        customer = data.draw(st.sampled_from(sorted(self.names)))
        before = dump(self.store)
        try:
            account = self.billing.add_account(customer, new_account(currency=currency))
        except RuleViolationError as error:
            assert currency == "XXZ"
            assert error.codes == {"account.currency_unknown"}
            assert dump(self.store) == before
            return
        self.owner[account.number] = customer
        self.status[account.number] = AccountStatus.ACTIVE
        self.versions[account.number] = 1
        self.currency[account.number] = currency

    @precondition(lambda self: self.names)
    @rule(data=st.data(), name=st.text(alphabet="abcé XY", max_size=10))
    def rename(self, data: st.DataObject, name: str) -> None:
        number = data.draw(st.sampled_from(sorted(self.names)))
        before = dump(self.store)
        try:
            self.billing.edit_customer(
                number, company_name=name, expected_version=self.versions[number]
            )
        except RuleViolationError as error:
            assert not name.strip()
            assert error.codes == {"customer.name_required"}
            assert dump(self.store) == before
            return
        if name != self.names[number]:
            self.versions[number] += 1
        self.names[number] = name

    @precondition(lambda self: self.status)
    @rule(data=st.data(), status=st.sampled_from(AccountStatus))
    def change_status(self, data: st.DataObject, status: AccountStatus) -> None:
        number = data.draw(st.sampled_from(sorted(self.status)))
        old = self.status[number]
        allowed = old == status or (
            old is not AccountStatus.DEACTIVATED
            and (status is AccountStatus.DEACTIVATED or AccountStatus.ACTIVE in (old, status))
        )
        before = dump(self.store)
        try:
            self.billing.edit_account(number, status=status)
        except RuleViolationError:
            assert not allowed
            assert dump(self.store) == before
            return
        assert allowed
        if status != old:
            self.versions[number] += 1
        self.status[number] = status

    @precondition(lambda self: self.names)
    @rule(data=st.data())
    def stale_edit(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(sorted(self.names)))
        before = dump(self.store)
        try:
            self.billing.edit_customer(
                number, company_name="Stale", expected_version=self.versions[number] + 1
            )
        except ConflictError:
            assert dump(self.store) == before
        else:  # pragma: no cover - a failure of the store under test
            raise AssertionError("a stale expected_version was accepted")

    @precondition(lambda self: self.status)
    @rule(data=st.data(), cents=st.integers(1, 9999), days=st.integers(0, 31 * RUNS))
    def charge(self, data: st.DataObject, cents: int, days: int) -> None:
        number = data.draw(st.sampled_from(sorted(self.status)))
        amount = Money(Decimal(cents) / 100, self.currency[number])
        on = START + timedelta(days=days)
        before = dump(self.store)
        try:
            charge = self.billing.add_charge(number, amount, "fee", on=on)
        except RuleViolationError as error:
            assert self.status[number] is AccountStatus.DEACTIVATED
            assert error.codes == {"billing.charge_not_billable"}
            assert dump(self.store) == before
            return
        assert self.status[number] is not AccountStatus.DEACTIVATED
        self.pending[charge.number] = Queued(number, on, amount)

    @precondition(lambda self: self.runs < RUNS)
    @rule()
    def bill_run(self) -> None:
        """The next month's run bills exactly the charges dated by then of accounts not
        deactivated, each on its account's invoice, and leaves the others pending."""
        self.runs += 1
        run_date = date(START.year, START.month + self.runs, 1)
        due = {
            n: q
            for n, q in self.pending.items()
            if q.on <= run_date and self.status[q.account] is not AccountStatus.DEACTIVATED
        }
        plan = self.billing.plan_bill_run("m1", run_date)
        assert sorted(plan.charges) == sorted(due)
        invoices = self.billing.issue_bill_run(plan)
        totals: dict[str, Decimal] = {}
        for queued in due.values():
            totals[queued.account] = totals.get(queued.account, Decimal(0)) + queued.amount.amount
        assert {i.billed_account: i.total.amount for i in invoices} == totals
        for number in due:
            del self.pending[number]

    @invariant()
    def pending_charges_match_model(self) -> None:
        with self.store.unit_of_work(read_only=True) as uow:
            assert [c.number for c in uow.ledger.pending_charges()] == list(self.pending)

    @invariant()
    def stored_matches_model(self) -> None:
        for number, name in self.names.items():
            customer = self.billing.get_customer(number)
            assert customer.company_name == name
            assert customer.version == self.versions[number]
        for number, customer_number in self.owner.items():
            account = self.billing.get_account(number)
            assert account.customer == customer_number
            assert account.status is self.status[number]
            assert account.version == self.versions[number]
        for number in self.names:
            listed = sorted(a.number for a in self.billing.accounts_of(number))
            assert listed == sorted(a for a, c in self.owner.items() if c == number)

    @invariant()
    def search_matches_brute_force(self) -> None:
        from custbill.storage.search import name_tokens, normalise

        for word in ("a", "é", "x"):
            expected = sorted(
                n
                for n, name in self.names.items()
                if any(t.startswith(normalise(word)) for t in name_tokens(name))
            )
            assert [c.number for c in self.billing.search_customers(word)] == expected


def facade_machine(make_store: Callable[[], Store]) -> type[FacadeMachine]:
    """A :class:`FacadeMachine` driving the facade over stores from *make_store*."""
    return type("FacadeMachine", (FacadeMachine,), {"make_store": staticmethod(make_store)})
