"""Money that cannot poison a ledger: every amount entering custbill is finite, within
MAX_AMOUNT and no more precise than its currency, on every store, and every read after any
attempt works."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.rules.money import (
    MAX_AMOUNT,
    amount_violations,
    charges_violations,
    money_violations,
)
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import ALL_ON, add_catalog, fixed_clock, new_account, new_customer

RUN = date(2026, 7, 1)
CURRENCIES = ("USD", "JPY", "BHD", "EUR")

#: Amounts as hostile input brings them: NaN (quiet and signalling), infinities, huge and
#: tiny magnitudes, many decimal places, trailing zeros.
hostile_amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            Decimal("-Infinity"),
            MAX_AMOUNT,
            MAX_AMOUNT + Decimal("0.01"),
            -MAX_AMOUNT - 1,
            Decimal("1E+30"),
            Decimal("1.005"),
            Decimal("1.500"),
            Decimal("1E-30"),
            Decimal("0.5"),
        ]
    ),
    st.decimals(min_value=-(10**13), max_value=10**13, places=4),
    st.integers(-(10**14), 10**14).map(Decimal),
)


def _codes(found: list[cb.Violation]) -> list[str]:
    return [v.code for v in found]


@pytest.mark.parametrize(
    ("amount", "currency", "codes"),
    [
        (Decimal("NaN"), "USD", ["money.not_finite"]),
        (Decimal("sNaN"), "USD", ["money.not_finite"]),
        (Decimal("-Infinity"), "USD", ["money.not_finite"]),
        (MAX_AMOUNT, "USD", []),
        (-MAX_AMOUNT, "USD", []),
        (MAX_AMOUNT + Decimal("0.01"), "USD", ["money.too_large"]),
        (Decimal("1.005"), "USD", ["money.too_precise"]),
        (Decimal("1.500"), "USD", []),
        (Decimal("1.005"), "BHD", []),
        (Decimal("1"), "JPY", []),
        (Decimal("1.5"), "JPY", ["money.too_precise"]),
        (Decimal("1E+2"), "JPY", []),
        (Decimal("1.23456789"), None, []),
    ],
)
def test_one_amount(amount: Decimal, currency: str | None, codes: list[str]) -> None:
    """Each problem has its code; trailing zeros and quantities without a currency pass."""
    assert _codes(amount_violations(amount, currency, "amount")) == codes


@given(
    st.dictionaries(st.text(max_size=3), st.tuples(hostile_amounts, st.sampled_from(CURRENCIES)))
)
def test_the_quick_charges_check_is_the_plain_one(charges: dict[str, tuple[Decimal, str]]) -> None:
    """charges_violations reports exactly what checking every charge on its own does."""
    money = {number: Money(amount, currency) for number, (amount, currency) in charges.items()}
    plain = [v for n, m in money.items() for v in money_violations(m, f"charges[{n}]")]
    assert charges_violations(money) == plain


# -- every entry point, every store ------------------------------------------------------------


@contextlib.contextmanager
def facade(store: Store) -> Iterator[cb.CustomerBilling]:
    with cb.CustomerBilling(store=store, settings=ALL_ON, clock=fixed_clock) as billing:
        add_catalog(billing)
        yield billing


@pytest.fixture
def billing(make_store: Callable[[], Store]) -> Iterator[cb.CustomerBilling]:
    with facade(make_store()) as made:
        yield made


def _reads(billing: cb.CustomerBilling, customer: str, accounts: list[str]) -> None:
    """Every read of the customer and its accounts works."""
    billing.customer_summary(customer)
    for number in accounts:
        billing.account_summary(number)
        billing.invoices(number)
        billing.payments(number)
        billing.adjustments(number)
    billing.plan_bill_run("m1", RUN, {}).to_records()


def _attempt(store: Store, call: Callable[[], object]) -> None:
    """*call* works, or is refused with a rule violation and the store unchanged."""
    before = dump(store)
    try:
        call()
    except cb.RuleViolationError as refused:
        assert refused.violations
        assert dump(store) == before


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amounts=st.lists(hostile_amounts, min_size=6, max_size=6))
def test_no_amount_poisons_a_ledger(
    make_store: Callable[[], Store], amounts: list[Decimal]
) -> None:
    """Random amounts through every entry point — a charge of a run issued, a payment, an
    adjustment, a minimum invoice amount, a credit limit, pooled usage — leave every read
    working, whatever was accepted or refused."""
    store = make_store()
    with facade(store) as billing:
        _every_entry_point(store, billing, amounts)


def _every_entry_point(store: Store, billing: cb.CustomerBilling, amounts: list[Decimal]) -> None:
    charge, payment, adjustment, minimum, limit, usage = amounts
    customer, top = billing.create_customer(new_customer(), new_account())
    managed = billing.add_account(
        customer.number, new_account(responsible_account=top.number, parent_account=top.number)
    )
    numbers = [top.number, managed.number]

    def issue() -> None:
        plan = billing.plan_bill_run(
            "m1", RUN, {top.number: Money(charge, "USD"), managed.number: Money(1, "USD")}
        )
        billing.issue_bill_run(plan)

    _attempt(store, issue)
    _attempt(store, lambda: billing.record_payment(top.number, Money(payment, "USD"), RUN))
    _attempt(
        store,
        lambda: billing.record_adjustment(
            top.number, cb.AdjustmentKind.DEBIT, Money(adjustment, "USD"), RUN, "fee"
        ),
    )
    _attempt(
        store,
        lambda: billing.edit_account(
            managed.number,
            minimum_invoice_amount=Money(minimum, "USD"),
            credit_limit=Money(limit, "USD"),
        ),
    )
    _attempt(
        store,
        lambda: billing.add_account(
            customer.number, new_account(minimum_invoice_amount=Money(minimum, "USD"))
        ),
    )
    _attempt(store, lambda: billing.pool_usage(top.number, usage, {managed.number: usage}))
    _reads(billing, customer.number, numbers)


# -- the hostile inputs that once got in -----------------------------------------------------


def test_a_nan_charge_is_refused_before_it_is_issued(billing: cb.CustomerBilling) -> None:
    """A NaN or infinite charge is refused by the plan, naming the charge; the account's
    invoices and summary read as before."""
    _, account = billing.create_customer(new_customer(), new_account())
    for bad in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(cb.RuleViolationError) as refused:
            billing.plan_bill_run("m1", RUN, {account.number: Money(Decimal(bad), "USD")})
        assert [(v.code, v.path) for v in refused.value.violations] == [
            ("money.not_finite", f"charges[{account.number}]")
        ]
    assert billing.invoices(account.number) == ()
    billing.account_summary(account.number)


def test_a_minimum_amount_that_is_not_a_number_is_refused(billing: cb.CustomerBilling) -> None:
    """A NaN minimum invoice amount never reaches a plan (reading it raised before)."""
    customer, _ = billing.create_customer(new_customer(), new_account())
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.add_account(
            customer.number, new_account(minimum_invoice_amount=Money(Decimal("NaN"), "USD"))
        )
    assert [(v.code, v.path) for v in refused.value.violations] == [
        ("money.not_finite", "minimum_invoice_amount")
    ]


def test_an_absurd_payment_is_refused_and_summaries_still_add_up(
    billing: cb.CustomerBilling,
) -> None:
    """A payment past MAX_AMOUNT is refused (one once overflowed every later summary);
    payments at the maximum add up exactly."""
    _, account = billing.create_customer(new_customer(), new_account())
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.record_payment(account.number, Money(Decimal("1E+400000"), "USD"), RUN)
    assert [v.code for v in refused.value.violations] == ["money.too_large"]
    for _ in range(3):
        billing.record_payment(account.number, Money(MAX_AMOUNT, "USD"), RUN)
    summary = billing.account_summary(account.number)
    assert summary.balance == Money(-3 * MAX_AMOUNT, "USD")


def test_a_plan_made_by_hand_cannot_issue_a_nan(billing: cb.CustomerBilling) -> None:
    """issue_bill_run checks the totals of the plan it is given, not only plans it made."""
    _, account = billing.create_customer(new_customer(), new_account())
    plan = billing.plan_bill_run("m1", RUN, {account.number: Money(5, "USD")})
    forged = attrs.evolve(
        plan,
        invoices=[attrs.evolve(plan.invoices[0], total=Money(Decimal("NaN"), "USD"))],
    )
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.issue_bill_run(forged)
    assert [(v.code, v.path) for v in refused.value.violations] == [
        ("money.not_finite", "plan.invoices[0]")
    ]
    assert billing.invoices(account.number) == ()
    assert billing.bill_run_status("m1", RUN).issued == ()
