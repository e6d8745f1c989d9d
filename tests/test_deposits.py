"""Security deposits, through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from moneyed import Money

import custbill as cb
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import (
    new_account,
    new_customer,
    standard_facade,
)

DAY = date(2026, 6, 1)


def usd(amount: int | str) -> Money:
    return Money(amount, "USD")


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        yield facade


@pytest.fixture
def account(billing: cb.CustomerBilling) -> cb.BillingAccount:
    return billing.create_customer(new_customer(), new_account())[1]


def test_a_deposit_is_held_apart_applied_and_refunded(
    billing: cb.CustomerBilling, account: cb.BillingAccount
) -> None:
    """A held deposit is not in the balance; applied to an invoice it pays it; refunded it
    leaves; the summary shows what is held."""
    (invoice,) = billing.issue_bill_run(
        billing.plan_bill_run("m1", date(2026, 7, 1), {account.number: usd(80)})
    )
    received = billing.record_deposit(account.number, usd(100), DAY, "cheque 12")
    summary = billing.account_summary(account.number)
    assert (summary.balance, summary.deposit_held) == (usd(80), usd(100))
    applied = billing.apply_deposit(account.number, usd(30), date(2026, 7, 2), invoice.number)
    summary = billing.account_summary(account.number)
    assert (summary.balance, summary.deposit_held) == (usd(50), usd(70))
    refunded = billing.refund_deposit(account.number, usd(70), date(2026, 7, 3))
    assert billing.account_summary(account.number).deposit_held == usd(0)
    assert billing.deposits(account.number) == (received, applied, refunded)
    assert [d.action for d in (received, applied, refunded)] == list(cb.DepositAction)
    assert (applied.invoice, received.reference) == (invoice.number, "cheque 12")
    assert len({received.number, applied.number, refunded.number}) == 3


@pytest.mark.parametrize(
    ("call", "codes"),
    [
        (lambda b, a: b.refund_deposit(a, usd(101), DAY), {"deposit.exceeds_held"}),
        (
            lambda b, a: b.apply_deposit(a, usd(101), DAY, "I-404"),
            {
                "deposit.exceeds_held",
                "account.reference_unknown",
            },
        ),
        (lambda b, a: b.record_deposit(a, usd(0), DAY), {"billing.amount_invalid"}),
        (lambda b, a: b.record_deposit(a, Money("NaN", "USD"), DAY), {"money.not_finite"}),
        (
            lambda b, a: b.record_deposit(a, Money(5, "EUR"), DAY),
            {"billing.charge_currency_mismatch"},
        ),
        (
            lambda b, a: b.record_deposit(a, usd(5), DAY, "4111 1111 1111 1111"),
            {"text.card_number"},
        ),
        (
            lambda b, a: b.edit_account(a, status=cb.AccountStatus.DEACTIVATED),
            {"account.deposit_held"},
        ),
    ],
)
def test_a_refused_deposit_call_changes_nothing(
    billing: cb.CustomerBilling,
    store: Store,
    account: cb.BillingAccount,
    call: Callable[[cb.CustomerBilling, str], object],
    codes: set[str],
) -> None:
    billing.record_deposit(account.number, usd(100), DAY)
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as refused:
        call(billing, account.number)
    assert refused.value.codes == codes
    assert dump(store) == before


def test_an_account_is_deactivated_once_its_deposit_is_refunded(
    billing: cb.CustomerBilling, account: cb.BillingAccount
) -> None:
    billing.record_deposit(account.number, usd(100), DAY)
    billing.refund_deposit(account.number, usd(100), DAY)
    edited = billing.edit_account(account.number, status=cb.AccountStatus.DEACTIVATED)
    assert edited.status is cb.AccountStatus.DEACTIVATED


def test_a_deposit_is_applied_only_to_the_accounts_own_invoice(
    billing: cb.CustomerBilling, account: cb.BillingAccount
) -> None:
    _, other = billing.create_customer(new_customer(company_name="Other"), new_account())
    (theirs,) = billing.issue_bill_run(
        billing.plan_bill_run("m1", date(2026, 7, 1), {other.number: usd(10)})
    )
    billing.record_deposit(account.number, usd(100), DAY)
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.apply_deposit(account.number, usd(10), DAY, theirs.number)
    assert refused.value.codes == {"account.reference_unknown"}
