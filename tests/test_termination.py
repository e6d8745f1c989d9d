"""End dates and termination, through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from moneyed import Money

import custbill as cb
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import new_account, new_customer, standard_facade

JULY, AUGUST = date(2026, 7, 1), date(2026, 8, 1)
LAST_DAY = date(2026, 6, 20)  # in the period the July run bills (after the 1 June run)


def usd(amount: int) -> Money:
    return Money(amount, "USD")


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        yield facade


def _account(billing: cb.CustomerBilling, **fields: object) -> cb.BillingAccount:
    return billing.create_customer(new_customer(), new_account(**fields))[1]


def test_an_end_date_is_not_before_the_start_and_stays_once_passed(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """(The tests' today is 2026-06-15.)"""
    with pytest.raises(cb.RuleViolationError) as raised:
        _account(billing, start_date=date(2026, 3, 1), end_date=date(2026, 2, 28))
    assert raised.value.codes == {"account.end_date_before_start"}
    account = _account(billing, end_date=date(2026, 6, 1))  # passed already: allowed
    customer = billing.get_customer(account.customer)
    billing.edit_customer(customer.number, end_date=date(2026, 6, 14))
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as raised:
        billing.edit_account(account.number, end_date=date(2026, 12, 31))
    assert raised.value.codes == {"account.end_date_passed"}
    with pytest.raises(cb.RuleViolationError) as raised:
        billing.edit_customer(customer.number, end_date=None)
    assert raised.value.codes == {"customer.end_date_passed"}
    assert dump(store) == before
    later = _account(billing, end_date=date(2026, 9, 30))
    assert billing.edit_account(later.number, end_date=date(2026, 10, 31)).end_date == date(
        2026, 10, 31
    )


def test_a_run_bills_the_final_period_and_never_after(billing: cb.CustomerBilling) -> None:
    account = _account(billing, end_date=LAST_DAY)
    other = _account(billing)
    late_fee = billing.add_charge(account.number, usd(3), "Late fee", on=date(2026, 7, 15))
    july = billing.plan_bill_run("m1", JULY, {account.number: usd(10)})
    assert [i.billed_account for i in july.invoices] == [account.number]
    billing.issue_bill_run(july)
    august = billing.plan_bill_run("m1", AUGUST, {other.number: usd(5)})
    assert [i.billed_account for i in august.invoices] == [other.number]
    skipped = {s.account: s.reason for s in august.skipped}
    assert skipped[account.number] == "ended on 2026-06-20"
    assert late_fee.number not in august.charges  # waits: no run bills it
    with pytest.raises(cb.RuleViolationError) as raised:
        billing.plan_bill_run("m1", AUGUST, {account.number: usd(1)})
    assert raised.value.codes == {"billing.charge_not_billable"}


def test_the_customers_end_date_ends_its_accounts(billing: cb.CustomerBilling) -> None:
    account = _account(billing, end_date=date(2026, 12, 31))
    billing.edit_customer(account.customer, end_date=LAST_DAY)
    billing.issue_bill_run(billing.plan_bill_run("m1", JULY))
    skipped = {s.account: s.reason for s in billing.plan_bill_run("m1", AUGUST).skipped}
    assert skipped[account.number] == "ended on 2026-06-20"


def test_terminate_ended_waits_for_the_final_run_then_deactivates_once(
    billing: cb.CustomerBilling, store: Store
) -> None:
    account = _account(billing, end_date=LAST_DAY)
    lasting = _account(billing)
    report = billing.terminate_ended(date(2026, 6, 25))
    assert report.terminated == ()
    assert [(w.account, w.final_run) for w in report.waiting] == [(account.number, JULY)]
    billing.issue_bill_run(billing.plan_bill_run("m1", JULY, {account.number: usd(10)}))
    report = billing.terminate_ended(date(2026, 7, 2))
    assert report.terminated == (account.number,)
    assert report.customers == (account.customer,)
    assert billing.get_account(account.number).status is cb.AccountStatus.DEACTIVATED
    assert billing.get_account(lasting.number).status is cb.AccountStatus.ACTIVE
    before = dump(store)
    assert billing.terminate_ended(date(2026, 7, 2)) == cb.TerminationReport(as_of=date(2026, 7, 2))
    assert dump(store) == before


def test_terminate_ended_reports_what_the_rules_refuse_and_orders_hierarchies(
    billing: cb.CustomerBilling,
) -> None:
    """A managed account ending with its responsible account goes first, so both end; an
    account holding a deposit is refused by its code, and refused again next time."""
    top = _account(billing, end_date=LAST_DAY)
    managed = billing.add_account(
        top.customer, new_account(responsible_account=top.number, end_date=LAST_DAY)
    )
    holding = _account(billing, end_date=LAST_DAY)
    billing.record_deposit(holding.number, usd(50), date(2026, 6, 1))
    billing.issue_bill_run(billing.plan_bill_run("m1", JULY))
    report = billing.terminate_ended(AUGUST)
    assert set(report.terminated) == {top.number, managed.number}
    assert report.refused_by_code == {"account.deposit_held": (holding.number,)}
    again = billing.terminate_ended(AUGUST)
    assert again.terminated == () and again.refused_by_code == report.refused_by_code
