"""The telecom module's service locations and transactions view, through the facade, on
every store; the transactions' running balance held to the summary's by hypothesis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.billing.transactions import transactions_of
from custbill.service.accounting import balances
from custbill.storage import MemoryStore, Store
from custbill.testing import dump
from tests.conftest import new_account, new_customer, standard_facade

HQ = cb.Address(line1="1 Main St", city="Austin", postal_code="78701", country="US")
DEPOT = cb.Address(line1="9 Dock Rd", city="Houston", postal_code="77001", country="US")


def usd(amount: int | str) -> Money:
    return Money(amount, "USD")


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        yield facade


def _refused(store: Store, operation: Callable[[], object]) -> list[tuple[str, str]]:
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as caught:
        operation()
    assert dump(store) == before
    return [(v.code, v.path) for v in caught.value.violations]


def test_an_account_keeps_its_service_locations(billing: cb.CustomerBilling, store: Store) -> None:
    """Named, addressed, at most one primary; names unique within the account."""
    locations = (
        cb.ServiceLocation(name="Head office", address=HQ, primary=True),
        cb.ServiceLocation(name="Depot", address=DEPOT),
    )
    _, account = billing.create_customer(new_customer(), new_account(locations=locations))
    assert billing.get_account(account.number).locations == locations
    bad = (
        cb.ServiceLocation(name="Depot", address=HQ, primary=True),
        cb.ServiceLocation(name="DEPOT", address=DEPOT, primary=True),
        cb.ServiceLocation(
            name=" ", address=cb.Address(line1="x", city="y", postal_code="1", country="XX")
        ),
    )
    assert _refused(store, lambda: billing.edit_account(account.number, locations=bad)) == [
        ("account.location_invalid", "locations[1].name"),
        ("account.location_invalid", "locations[1].primary"),
        ("account.location_invalid", "locations[2].name"),
        ("account.location_invalid", "locations[2].address.country"),
    ]
    assert billing.edit_account(account.number, locations=locations[1:]).locations == (
        locations[1],
    )


def test_transactions_merge_the_ledger_with_a_running_balance(
    billing: cb.CustomerBilling,
) -> None:
    """Invoices, payments, adjustments and deposit movements, in date order (a day's debts
    before its settlements), each with the balance after it; the last is the summary's."""
    _, account = billing.create_customer(new_customer(), new_account())
    number = account.number
    billing.record_deposit(number, usd(100), date(2026, 5, 20), "DEP-1")
    (invoice,) = billing.issue_bill_run(
        billing.plan_bill_run("m1", date(2026, 6, 1), {number: usd(80)})
    )
    billing.record_payment(number, usd(30), date(2026, 6, 1), "wire 17")
    billing.record_adjustment(number, cb.AdjustmentKind.DEBIT, usd(5), date(2026, 6, 3), "late fee")
    billing.record_adjustment(
        number, cb.AdjustmentKind.CREDIT, usd(2), date(2026, 6, 3), "goodwill"
    )
    billing.apply_deposit(number, usd(40), date(2026, 6, 10), invoice.number)
    billing.refund_deposit(number, usd(60), date(2026, 6, 30), "closing")
    lines = billing.transactions(number)
    assert [(t.on, t.kind, t.change.amount, t.balance.amount) for t in lines] == [
        (date(2026, 5, 20), cb.TransactionKind.DEPOSIT_HELD, 0, 0),
        (date(2026, 6, 1), cb.TransactionKind.INVOICE, 80, 80),
        (date(2026, 6, 1), cb.TransactionKind.PAYMENT, -30, 50),
        (date(2026, 6, 3), cb.TransactionKind.DEBIT, 5, 55),
        (date(2026, 6, 3), cb.TransactionKind.CREDIT, -2, 53),
        (date(2026, 6, 10), cb.TransactionKind.DEPOSIT_APPLIED, -40, 13),
        (date(2026, 6, 30), cb.TransactionKind.DEPOSIT_REFUNDED, 0, 13),
    ]
    assert [t.amount for t in lines] == [usd(n) for n in (100, 80, 30, 5, 2, 40, 60)]
    assert lines[1].number == invoice.number and lines[2].description == "wire 17"
    assert lines[-1].balance == billing.account_summary(number).balance
    with pytest.raises(cb.NotFoundError):
        billing.transactions("A-404")


_day = st.dates(date(2026, 1, 1), date(2026, 1, 20))
_cents = st.integers(1, 10_000).map(lambda n: Money(Decimal(n) / 100, "USD"))


@settings(max_examples=200)
@given(
    invoices=st.lists(st.tuples(_day, _cents), max_size=6),
    payments=st.lists(st.tuples(_day, _cents), max_size=6),
    adjustments=st.lists(st.tuples(_day, _cents, st.sampled_from(cb.AdjustmentKind)), max_size=6),
    deposits=st.lists(st.tuples(_day, _cents, st.sampled_from(cb.DepositAction)), max_size=6),
)
def test_the_running_balance_ends_at_the_summarys(
    invoices: list[tuple[date, Money]],
    payments: list[tuple[date, Money]],
    adjustments: list[tuple[date, Money, cb.AdjustmentKind]],
    deposits: list[tuple[date, Money, cb.DepositAction]],
) -> None:
    """For any ledger: the lines come sorted by day, each balance is the one before plus
    its change, and the last is the balance the account summary computes."""
    account = cb.BillingAccount(number="A-1", customer="C-1", **_FIELDS)
    records = (
        [
            cb.Invoice(
                number=f"I-{i}",
                bill_cycle="m1",
                billed_account="A-1",
                accounts=("A-1",),
                total=m,
                invoice_date=d,
                due_date=d,
                auto_pay_date=None,
            )
            for i, (d, m) in enumerate(invoices)
        ],
        [
            cb.Payment(number=f"P-{i}", account="A-1", amount=m, received_on=d)
            for i, (d, m) in enumerate(payments)
        ],
        [
            cb.Adjustment(number=f"J-{i}", account="A-1", kind=k, amount=m, on=d, reason="r")
            for i, (d, m, k) in enumerate(adjustments)
        ],
        [
            cb.Deposit(number=f"D-{i}", account="A-1", action=a, amount=m, on=d)
            for i, (d, m, a) in enumerate(deposits)
        ],
    )
    lines = transactions_of("USD", *records)
    assert len(lines) == sum(map(len, records))
    assert [t.on for t in lines] == sorted(t.on for t in lines)
    running = Decimal(0)
    for line in lines:
        running += line.change.amount
        assert line.balance.amount == running
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for invoice in records[0]:
            uow.ledger.add_invoice(invoice)
        for payment in records[1]:
            uow.ledger.add_payment(payment)
        for adjustment in records[2]:
            uow.ledger.add_adjustment(adjustment)
        for deposit in records[3]:
            uow.ledger.add_deposit(deposit)
        balance, _ = balances(uow, account)
    assert (lines[-1].balance if lines else usd(0)) == balance


_FIELDS = {
    "currency": "USD",
    "bill_cycle": "m1",
    "start_date": date(2026, 1, 1),
    "category": "corp",
    "payment_term": "net30",
    "invoice_type": cb.InvoiceType.EMAIL,
}
