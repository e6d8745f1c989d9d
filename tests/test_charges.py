"""Queued charges and credit limits, through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.storage import MemoryStore, Store
from custbill.testing import dump
from tests.conftest import new_account, new_customer, standard_facade

JUNE, JULY, AUGUST = date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)


def usd(amount: int | str) -> Money:
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


def test_the_next_run_bills_a_queued_charge_once(billing: cb.CustomerBilling) -> None:
    """A charge waits in the summary; the first run of the cycle after its date takes it
    (with the caller's charges) and issuing marks it billed on the invoice; the next run
    does not take it again."""
    account = _account(billing)
    charge = billing.add_charge(account.number, usd(12), "Installation", on=JUNE)
    assert charge.pending and charge.number.startswith("CH-")
    assert billing.account_summary(account.number).pending_charges == usd(12)
    plan = billing.plan_bill_run("m1", JULY, {account.number: usd(3)})
    assert plan.charges == (charge.number,)
    assert [i.total for i in plan.invoices] == [usd(15)]
    (invoice,) = billing.issue_bill_run(plan)
    (billed,) = billing.charges(account.number)
    assert (billed.billed_on, billed.invoice, billed.pending) == (JULY, invoice.number, False)
    assert billing.account_summary(account.number).pending_charges == usd(0)
    assert billing.issue_bill_run(plan) == (invoice,)  # issued once
    later = billing.plan_bill_run("m1", AUGUST)
    assert later.charges == () and later.invoices == ()


def test_a_charge_dated_after_the_run_waits_for_a_later_one(billing: cb.CustomerBilling) -> None:
    account = _account(billing)
    charge = billing.add_charge(account.number, usd(5), "Upgrade", on=date(2026, 7, 2))
    assert billing.plan_bill_run("m1", JULY).charges == ()
    assert billing.plan_bill_run("m1", AUGUST).charges == (charge.number,)


def test_a_charge_billed_by_another_run_is_not_billed_again(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """Two plans made before either is issued both name the charge: the second one issued
    is refused and records nothing."""
    account = _account(billing)
    charge = billing.add_charge(account.number, usd(5), "Upgrade", on=JUNE)
    july, august = billing.plan_bill_run("m1", JULY), billing.plan_bill_run("m1", AUGUST)
    billing.issue_bill_run(july)
    before = dump(store)
    with pytest.raises(cb.ConflictError, match="charge") as raised:
        billing.issue_bill_run(august)
    assert raised.value.number == charge.number
    assert dump(store) == before


def test_a_managed_accounts_charge_goes_on_the_responsible_invoice(
    billing: cb.CustomerBilling,
) -> None:
    top = _account(billing)
    managed = billing.add_account(top.customer, new_account(responsible_account=top.number))
    billing.add_charge(managed.number, usd(7), "Line", on=JUNE)
    (invoice,) = billing.issue_bill_run(billing.plan_bill_run("m1", JULY))
    assert invoice.billed_account == top.number and managed.number in invoice.accounts
    assert billing.charges(managed.number)[0].invoice == invoice.number


def test_a_suppressed_invoice_bills_the_charge_and_carries_its_amount(
    billing: cb.CustomerBilling,
) -> None:
    account = _account(billing, minimum_invoice_amount=usd(10))
    billing.add_charge(account.number, usd(4), "Small", on=JUNE)
    assert billing.issue_bill_run(billing.plan_bill_run("m1", JULY)) == ()
    (billed,) = billing.charges(account.number)
    assert (billed.billed_on, billed.invoice) == (JULY, None)
    assert billing.account_summary(account.number).pending_charges == usd(4)  # carried


def test_a_deactivated_accounts_charge_is_refused_or_waits(billing: cb.CustomerBilling) -> None:
    """A deactivated account takes no charge; one queued before it was deactivated is
    left pending by runs, which go on billing the others."""
    account, other = _account(billing), _account(billing)
    waiting = billing.add_charge(account.number, usd(5), "Fee", on=JUNE)
    billing.add_charge(other.number, usd(6), "Fee", on=JUNE)
    billing.edit_account(account.number, status=cb.AccountStatus.DEACTIVATED)
    with pytest.raises(cb.RuleViolationError) as raised:
        billing.add_charge(account.number, usd(5), "Fee", on=JUNE)
    assert raised.value.codes == {"billing.charge_not_billable"}
    plan = billing.plan_bill_run("m1", JULY)
    assert waiting.number not in plan.charges and len(plan.charges) == 1
    billing.issue_bill_run(plan)
    assert billing.charges(account.number) == (waiting,)


def test_a_split_run_bills_every_queued_charge_once(billing: cb.CustomerBilling) -> None:
    accounts = [_account(billing) for _ in range(8)]
    queued = {
        billing.add_charge(a.number, usd(i + 1), "Fee", on=JUNE) for i, a in enumerate(accounts)
    }
    while billing.issue_next_partition("m1", JULY, partitions=3) is not None:
        pass
    billed = {c for a in accounts for c in billing.charges(a.number)}
    assert {c.number for c in billed} == {c.number for c in queued}
    assert all(c.billed_on == JULY and c.invoice for c in billed)


def test_a_charge_past_the_credit_limit_is_refused(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """On a 10 USD limit, the issue's 1,000 USD charge and 500 USD debit are refused with
    what is left; a payment frees credit again."""
    account = _account(billing, credit_limit=usd(10))
    billing.add_charge(account.number, usd(4), "Fee", on=JUNE)
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as raised:
        billing.add_charge(account.number, usd(1000), "Phones", on=JUNE)
    (found,) = raised.value.violations
    assert (found.code, found.path) == ("account.credit_limit_exceeded", "amount")
    assert found.params["available"] == "6" and found.params["limit"] == "10"
    with pytest.raises(cb.RuleViolationError, match="credit_limit_exceeded"):
        billing.record_adjustment(account.number, cb.AdjustmentKind.DEBIT, usd(500), JUNE, "x")
    assert dump(store) == before
    assert billing.account_summary(account.number).credit_available == usd(6)
    billing.add_charge(account.number, usd(6), "Fee", on=JUNE)  # exactly to the limit
    billing.issue_bill_run(billing.plan_bill_run("m1", JULY))
    billing.record_payment(account.number, usd(8), JULY)
    assert billing.account_summary(account.number).credit_available == usd(8)
    billing.record_adjustment(account.number, cb.AdjustmentKind.CREDIT, usd(500), JULY, "x")
    billing.add_charge(account.number, usd(500), "Phones", on=JULY)  # a credit balance


def test_the_credit_limit_of_the_paying_account_bounds_its_managed_accounts(
    billing: cb.CustomerBilling,
) -> None:
    top = _account(billing, credit_limit=usd(20))
    managed = billing.add_account(top.customer, new_account(responsible_account=top.number))
    sibling = billing.add_account(top.customer, new_account(responsible_account=top.number))
    billing.add_charge(managed.number, usd(15), "Line", on=JUNE)
    with pytest.raises(cb.RuleViolationError) as raised:
        billing.add_charge(sibling.number, usd(6), "Line", on=JUNE)
    assert raised.value.violations[0].params["account"] == top.number
    assert billing.account_summary(sibling.number).credit_available == usd(5)
    assert billing.account_summary(_account(billing).number).credit_available is None


def test_a_bad_charge_is_refused_with_its_field(billing: cb.CustomerBilling, store: Store) -> None:
    account = _account(billing)
    cases = {
        "charge.description_required": {"amount": usd(1), "description": " "},
        "billing.amount_invalid": {"amount": usd(0), "description": "x"},
        "billing.charge_currency_mismatch": {"amount": Money(1, "EUR"), "description": "x"},
        "text.card_number": {"amount": usd(1), "description": "card 4111 1111 1111 1111"},
    }
    before = dump(store)
    for code, arguments in cases.items():
        with pytest.raises(cb.RuleViolationError) as raised:
            billing.add_charge(account.number, on=JUNE, **arguments)  # type: ignore[arg-type]
        assert code in raised.value.codes
        assert "4111 1111 1111 1111" not in str(raised.value)
    with pytest.raises(cb.NotFoundError):
        billing.add_charge("A-404", usd(1), "x", on=JUNE)
    assert dump(store) == before


# -- the credit limit as a property ----------------------------------------------------------

_moves = st.lists(
    st.tuples(st.sampled_from(["charge", "debit", "credit", "payment"]), st.integers(1, 4000)),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(0, 5000), moves=_moves, managed=st.booleans())
def test_no_sequence_of_moves_takes_the_exposure_past_the_limit(
    limit: int, moves: list[tuple[str, int]], managed: bool
) -> None:
    """Against a running total kept by the test: a charge or debit is accepted exactly when
    it keeps the total within the limit, and the summary's available credit is what is
    left (charges on a managed account count on its payer)."""
    cents = Decimal("0.01")
    with standard_facade(MemoryStore()) as billing:
        payer = _account(billing, credit_limit=usd(Decimal(limit) * cents))
        charged = payer
        if managed:
            charged = billing.add_account(
                payer.customer, new_account(responsible_account=payer.number)
            )
        exposure = Decimal(0)
        for kind, amount_cents in moves:
            amount = usd(Decimal(amount_cents) * cents)
            raises = kind in ("charge", "debit")
            fits = exposure + amount.amount <= Decimal(limit) * cents
            try:
                if kind == "charge":
                    billing.add_charge(charged.number, amount, "x", on=JUNE)
                elif kind == "payment":
                    billing.record_payment(charged.number, amount, JUNE)
                else:
                    adjustment = cb.AdjustmentKind.DEBIT if raises else cb.AdjustmentKind.CREDIT
                    billing.record_adjustment(charged.number, adjustment, amount, JUNE, "x")
            except cb.RuleViolationError as error:
                assert raises and not fits
                assert error.codes == {"account.credit_limit_exceeded"}
                continue
            assert fits or not raises
            exposure += amount.amount if raises else -amount.amount
        left = max(Decimal(limit) * cents - exposure, Decimal(0))
        assert billing.account_summary(charged.number).credit_available == usd(left)
