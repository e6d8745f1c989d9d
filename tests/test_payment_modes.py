"""Payment modes (FREE, INVOICE, AUTOMATIC), through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from moneyed import Money

import custbill as cb
from custbill.billing.invoicing import REASON_FREE
from custbill.billing.plan import plan_run
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import new_account, new_customer, standard_facade

JUNE, JULY = date(2026, 6, 1), date(2026, 7, 1)
CARD = (cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="tok_visa", last4="4242"),)


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


def _refused(
    store: Store, operation: Callable[[], object], code: str, path: str
) -> cb.RuleViolationError:
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as caught:
        operation()
    assert [(v.code, v.path) for v in caught.value.violations] == [(code, path)]
    assert dump(store) == before
    return caught.value


def test_an_account_pays_by_invoice_unless_told_otherwise(billing: cb.CustomerBilling) -> None:
    """The default keeps every account stored before the field existed as it was."""
    assert _account(billing).payment_mode is cb.PaymentMode.INVOICE
    with_auto_pay = _account(billing, auto_pay=True, payment_methods=CARD)
    assert with_auto_pay.payment_mode is cb.PaymentMode.INVOICE


def test_automatic_needs_auto_pay_and_free_refuses_it(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """AUTOMATIC is collected by auto-pay (which needs a payment method); FREE has
    nothing to collect."""
    automatic = _account(
        billing, payment_mode=cb.PaymentMode.AUTOMATIC, auto_pay=True, payment_methods=CARD
    )
    assert automatic.payment_mode is cb.PaymentMode.AUTOMATIC
    _refused(
        store,
        lambda: billing.edit_account(automatic.number, auto_pay=False),
        "account.payment_mode_requires_auto_pay",
        "payment_mode",
    )
    _refused(
        store,
        lambda: billing.edit_account(automatic.number, payment_mode=cb.PaymentMode.FREE),
        "account.auto_pay_on_free_account",
        "auto_pay",
    )
    free = billing.edit_account(automatic.number, payment_mode=cb.PaymentMode.FREE, auto_pay=False)
    assert (free.payment_mode, free.auto_pay) == (cb.PaymentMode.FREE, False)
    changed = [c.field for c in billing.history(free.number)]
    assert "payment_mode" in changed


def test_a_bill_run_skips_a_free_account_and_says_why(billing: cb.CustomerBilling) -> None:
    """No invoice, a reason; a charge the caller hands in for it is refused, as is one for
    an account invoiced on it."""
    free = _account(billing, payment_mode=cb.PaymentMode.FREE)
    paid = _account(billing)
    plan = billing.plan_bill_run("m1", JULY, {paid.number: usd(10)})
    assert [i.billed_account for i in plan.invoices] == [paid.number]
    assert [(s.account, s.reason) for s in plan.skipped] == [(free.number, REASON_FREE)]
    with pytest.raises(cb.RuleViolationError) as caught:
        billing.plan_bill_run("m1", JULY, {free.number: usd(10)})
    assert caught.value.codes == {"billing.charge_not_billable"}
    managed = billing.add_account(
        billing.get_account(free.number).customer, new_account(responsible_account=free.number)
    )
    with pytest.raises(cb.RuleViolationError) as caught:
        billing.plan_bill_run("m1", JULY, {managed.number: usd(10)})
    assert caught.value.codes == {"billing.charge_not_billable"}
    # a managed account of a FREE account, with nothing charged, has no charges
    plan = billing.plan_bill_run("m1", JULY)
    reasons = {s.account: s.reason for s in plan.skipped}
    assert reasons == {
        free.number: REASON_FREE,
        managed.number: "no charges",
        paid.number: "no charges",
    }


def test_the_row_planner_and_the_reference_agree_on_free_accounts(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """The store's plan rows carry FREE (SQL: a column of its own), so the row planner
    skips what the reference planner skips, and a FREE account made INVOICE again is
    billed again."""
    free = _account(billing, payment_mode=cb.PaymentMode.FREE)
    later = _account(billing, payment_mode=cb.PaymentMode.FREE, start_date=date(2026, 9, 1))
    paid = _account(billing)
    charges = {paid.number: usd(7)}
    fast = billing.plan_bill_run("m1", JULY, charges)
    settings = billing.settings
    with store.unit_of_work(read_only=True) as uow:
        accounts = [uow.accounts.get(n) for n in sorted(uow.accounts.on_bill_cycle("m1"))]
        (cycle,) = [c for c in uow.catalog.all(cb.BillCycle) if c.id == "m1"]
        slow = plan_run(
            cycle,
            JULY,
            [a for a in accounts if a is not None],
            charges,
            account=uow.accounts.get,
            primary_email=lambda n: "ap@acme.example",
            end_of=lambda a: a.end_date,
            payment_term=lambda t: uow.catalog.get(cb.PaymentTerm, t),
            pending={},
            settings=settings,
        )
    assert list(fast.invoices) == list(slow.invoices)
    assert list(fast.skipped) == list(slow.skipped)
    assert {s.account: s.reason for s in fast.skipped} == {
        free.number: REASON_FREE,
        later.number: "starts on 2026-09-01",
    }
    billing.edit_account(free.number, payment_mode=cb.PaymentMode.INVOICE)
    again = billing.plan_bill_run("m1", JULY, {free.number: usd(3)})
    assert [i.billed_account for i in again.invoices] == [free.number]


def test_no_charge_is_queued_for_a_free_account(billing: cb.CustomerBilling, store: Store) -> None:
    """A queued charge that no invoice would bill is refused; one queued before the
    account became FREE waits until it is invoiced again."""
    account = _account(billing)
    queued = billing.add_charge(account.number, usd(12), "Setup", on=JUNE)
    billing.edit_account(account.number, payment_mode=cb.PaymentMode.FREE)
    error = _refused(
        store,
        lambda: billing.add_charge(account.number, usd(5), "More", on=JUNE),
        "charge.account_free",
        "account",
    )
    assert error.violations[0].params == {"account": account.number}
    plan = billing.plan_bill_run("m1", JULY)
    assert plan.charges == () and plan.invoices == ()
    billing.edit_account(account.number, payment_mode=cb.PaymentMode.INVOICE)
    plan = billing.plan_bill_run("m1", JULY)
    assert plan.charges == (queued.number,)
    assert [i.total for i in plan.invoices] == [usd(12)]


def test_a_charge_for_an_account_paid_by_a_free_one_is_refused(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """The account that pays is FREE: the charge could never be billed."""
    top = _account(billing, payment_mode=cb.PaymentMode.FREE)
    managed = billing.add_account(
        billing.get_account(top.number).customer, new_account(responsible_account=top.number)
    )
    error = _refused(
        store,
        lambda: billing.add_charge(managed.number, usd(5), "Setup", on=JUNE),
        "charge.account_free",
        "account",
    )
    assert error.violations[0].params == {"account": top.number}
