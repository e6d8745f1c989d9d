"""Bill runs through the facade: roll-up, rendering, terms, suppression, distribution,
skipping, currency checks, issuing once, balances."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.storage import MemoryStore
from tests.conftest import ALL_ON, add_catalog, fixed_clock, new_account, new_customer, rejected

RUN = date(2026, 7, 1)


def usd(amount: str | int) -> Money:
    return Money(amount, "USD")


@pytest.fixture
def billing(store: MemoryStore) -> cb.CustomerBilling:
    facade = cb.CustomerBilling(store=store, settings=ALL_ON, clock=fixed_clock)
    add_catalog(facade)
    facade.add_payment_term(
        cb.PaymentTerm(id="eom15", name="EOM + 15", net_days=15, end_of_month=True)
    )
    return facade


def _customer(billing: cb.CustomerBilling, **account: Any) -> tuple[cb.Customer, cb.BillingAccount]:
    return billing.create_customer(new_customer(), new_account(**account))


def test_each_account_gets_its_own_invoice(billing: cb.CustomerBilling) -> None:
    """Without hierarchy, every charged account is invoiced on its own terms."""
    _, a = _customer(billing)
    _, b = _customer(billing, payment_term="eom15")
    plan = billing.plan_bill_run("m1", RUN, {a.number: usd("10.00"), b.number: usd(5)})
    assert [(i.billed_account, i.accounts, i.total, i.due_date) for i in plan.invoices] == [
        (a.number, (a.number,), usd("10.00"), date(2026, 7, 31)),
        (b.number, (b.number,), usd(5), date(2026, 8, 15)),
    ]
    assert all(i.invoice_date == RUN and i.auto_pay_date is None for i in plan.invoices)
    assert plan.skipped == ()


def _tree(
    billing: cb.CustomerBilling,
    rendering: cb.InvoiceRendering | None,
) -> tuple[cb.BillingAccount, cb.BillingAccount, cb.BillingAccount]:
    customer, top = _customer(
        billing,
        auto_pay=True,
        auto_pay_offset_days=-3,
        payment_methods=(cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="tok"),),
    )
    mid = billing.add_account(
        customer.number, new_account(responsible_account=top.number, payment_term="eom15")
    )
    low = billing.add_account(customer.number, new_account(responsible_account=mid.number))
    if rendering is not None:
        billing.edit_account(top.number, invoice_rendering=rendering)
    return top, mid, low


def test_aggregated_rolls_up_to_the_top_of_the_chain(billing: cb.CustomerBilling) -> None:
    """One invoice on the top account, responsible account first, with its term and auto-pay."""
    top, mid, low = _tree(billing, cb.InvoiceRendering.AGGREGATED)
    plan = billing.plan_bill_run(
        "m1", RUN, {low.number: usd(3), mid.number: usd(2), top.number: usd(1)}
    )
    (invoice,) = plan.invoices
    assert invoice.billed_account == top.number
    assert invoice.accounts == (top.number, mid.number, low.number)
    assert invoice.total == usd(6)
    assert invoice.due_date == date(2026, 7, 31)  # the top's net 30, not mid's EOM
    assert invoice.auto_pay_date == date(2026, 7, 28)


def test_rendering_defaults_to_aggregated(billing: cb.CustomerBilling) -> None:
    """A responsible account without a rendering aggregates; without its own charges it is
    not listed on the invoice."""
    top, mid, low = _tree(billing, None)
    (invoice,) = billing.plan_bill_run("m1", RUN, {low.number: usd(3), mid.number: usd(2)}).invoices
    assert invoice.accounts == (mid.number, low.number)
    assert invoice.billed_account == top.number


def test_per_account_rendering(billing: cb.CustomerBilling) -> None:
    """One invoice for the responsible account's own charges, one per managed account."""
    top, mid, low = _tree(billing, cb.InvoiceRendering.PER_ACCOUNT)
    plan = billing.plan_bill_run(
        "m1", RUN, {low.number: usd(3), mid.number: usd(2), top.number: usd(1)}
    )
    assert [(i.billed_account, i.accounts, i.total) for i in plan.invoices] == [
        (top.number, (top.number,), usd(1)),
        (top.number, (mid.number,), usd(2)),
        (top.number, (low.number,), usd(3)),
    ]
    only_managed = billing.plan_bill_run("m1", RUN, {low.number: usd(3)})
    assert [i.accounts for i in only_managed.invoices] == [(low.number,)]


def test_minimum_suppresses_and_carries_forward(billing: cb.CustomerBilling) -> None:
    """Below the minimum an invoice is suppressed; issuing keeps it pending, and the next
    run adds it to the invoice; equal to the minimum is invoiced."""
    _, a = _customer(billing, minimum_invoice_amount=usd(10))
    plan = billing.plan_bill_run("m1", RUN, {a.number: usd(4)})
    (invoice,) = plan.invoices
    assert invoice.suppressed
    assert any("suppressed" in note for note in invoice.notes)
    assert billing.issue_bill_run(plan) == ()
    assert billing.account_summary(a.number).pending_charges == usd(4)
    second = billing.plan_bill_run("m1", date(2026, 8, 1), {a.number: usd(6)})
    (carried,) = second.invoices
    assert carried.total == usd(10)
    assert not carried.suppressed
    assert any("carried forward" in note for note in carried.notes)
    (recorded,) = billing.issue_bill_run(second)
    assert recorded.total == usd(10)
    summary = billing.account_summary(a.number)
    assert summary.pending_charges == usd(0)
    assert summary.balance == usd(10)


def test_pending_alone_is_invoiced(billing: cb.CustomerBilling) -> None:
    """An account with a carried-forward amount but no new charges still gets its invoice."""
    _, a = _customer(billing, minimum_invoice_amount=usd(10))
    billing.issue_bill_run(billing.plan_bill_run("m1", RUN, {a.number: usd(4)}))
    (invoice,) = billing.plan_bill_run("m1", date(2026, 8, 1), {}).invoices
    assert invoice.total == usd(4)
    assert invoice.suppressed


def test_credits_are_never_suppressed(billing: cb.CustomerBilling) -> None:
    """A negative total is invoiced whatever the minimum."""
    _, a = _customer(billing, minimum_invoice_amount=usd(10))
    (invoice,) = billing.plan_bill_run("m1", RUN, {a.number: usd(-4)}).invoices
    assert not invoice.suppressed


@pytest.mark.parametrize(
    (
        "invoice_type",
        "account_flag",
        "all_accounts",
        "categories",
        "channels",
        "recipients",
        "noted",
    ),
    [
        (cb.InvoiceType.PAPER, False, False, set(), {cb.Channel.PDF}, (), False),
        (cb.InvoiceType.NONE, True, False, set(), set(), (), True),
        (cb.InvoiceType.EMAIL, True, False, set(), {cb.Channel.EMAIL}, ("ap@acme.example",), False),
        (cb.InvoiceType.EMAIL, False, True, set(), {cb.Channel.EMAIL}, ("ap@acme.example",), False),
        (
            cb.InvoiceType.EMAIL,
            False,
            False,
            {"finance"},
            {cb.Channel.EMAIL},
            ("fin@acme.example",),
            False,
        ),
        (
            cb.InvoiceType.PAPER_AND_EMAIL,
            True,
            False,
            {"finance"},
            {cb.Channel.PDF, cb.Channel.EMAIL},
            ("ap@acme.example", "fin@acme.example"),
            False,
        ),
        (cb.InvoiceType.PAPER_AND_EMAIL, False, False, set(), {cb.Channel.PDF}, (), True),
        (cb.InvoiceType.EMAIL, False, False, set(), set(), (), True),
    ],
)
def test_distribution(
    billing: cb.CustomerBilling,
    invoice_type: cb.InvoiceType,
    account_flag: bool,
    all_accounts: bool,
    categories: set[str],
    channels: set[cb.Channel],
    recipients: tuple[str, ...],
    noted: bool,
) -> None:
    """Channels follow the invoice type; email needs Distribute Invoice for the account,
    for all accounts, or for a contact category; recipients follow."""
    billing.update_settings(
        distribute_invoice_all_accounts=all_accounts,
        distribute_invoice_contact_categories=frozenset(categories),
    )
    _, a = _customer(
        billing,
        invoice_type=invoice_type,
        distribute_invoice=account_flag,
        contacts=(
            cb.Contact(name="Fin", email="fin@acme.example", category="finance"),
            cb.Contact(name="Ops", email="ops@acme.example", category="ops"),
        ),
    )
    (invoice,) = billing.plan_bill_run("m1", RUN, {a.number: usd(100)}).invoices
    assert invoice.channels == channels
    assert invoice.recipients == recipients
    assert bool(invoice.notes) is noted


def test_skipped_accounts_and_their_reasons(billing: cb.CustomerBilling) -> None:
    """Accounts with no charges, not yet started, or deactivated are skipped; accounts on
    other cycles are not considered."""
    _, charged = _customer(billing)
    _, idle = _customer(billing)
    _, later = _customer(billing, start_date=date(2026, 7, 2))
    _, gone = _customer(billing)
    billing.edit_account(gone.number, status=cb.AccountStatus.DEACTIVATED)
    _, elsewhere = _customer(billing, bill_cycle="m15")
    plan = billing.plan_bill_run("m1", RUN, {charged.number: usd(1)})
    assert [(s.account, s.reason) for s in plan.skipped] == [
        (idle.number, "no charges"),
        (later.number, "starts on 2026-07-02"),
        (gone.number, "deactivated"),
    ]
    assert elsewhere.number not in {s.account for s in plan.skipped}


def test_suspended_accounts_are_billed(billing: cb.CustomerBilling) -> None:
    """Only DEACTIVATED accounts are left out."""
    _, a = _customer(billing)
    billing.edit_account(a.number, status=cb.AccountStatus.SUSPENDED)
    assert billing.plan_bill_run("m1", RUN, {a.number: usd(1)}).invoices[0].total == usd(1)


def test_bad_charges_are_all_reported(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """Not a bill date, unbillable accounts and wrong currencies are reported together."""
    _, a = _customer(billing)
    _, later = _customer(billing, start_date=date(2026, 7, 3))
    error = rejected(
        store,
        lambda: billing.plan_bill_run(
            "m1",
            date(2026, 7, 2),
            {a.number: Money(1, "EUR"), later.number: usd(1), "A-404": usd(1)},
        ),
        "billing.not_a_bill_date",
        "billing.charge_not_billable",
        "billing.charge_currency_mismatch",
    )
    assert {v.path for v in error.violations} == {
        "run_date",
        f"charges[{a.number}]",
        f"charges[{later.number}]",
        "charges[A-404]",
    }


def test_plan_argument_types(billing: cb.CustomerBilling) -> None:
    """Wrong Python types are TypeErrors; an unknown cycle is NotFoundError."""
    _, a = _customer(billing)
    with pytest.raises(TypeError, match=r"charges\['A-"):
        billing.plan_bill_run("m1", RUN, {a.number: Decimal(1)})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="account number"):
        billing.plan_bill_run("m1", RUN, {1: usd(1)})  # type: ignore[dict-item]

    class Cents(Money):
        """A Money subclass is Money."""

    (invoice,) = billing.plan_bill_run("m1", RUN, {a.number: Cents(1, "USD")}).invoices
    assert invoice.total == usd(1)
    with pytest.raises(TypeError):
        billing.plan_bill_run("m1", "2026-07-01", {})  # type: ignore[arg-type]
    with pytest.raises(cb.NotFoundError):
        billing.plan_bill_run("nope", RUN, {})


def test_issuing_twice_records_once(billing: cb.CustomerBilling) -> None:
    """The same run issued again — from the same plan or an equal new one — records nothing
    new; a plan with other invoices for the run is a conflict naming the run."""
    _, a = _customer(billing)
    plan = billing.plan_bill_run("m1", RUN, {a.number: usd(7)})
    first = billing.issue_bill_run(plan)
    assert [i.number for i in first] == ["I-000001"]
    assert billing.issue_bill_run(plan) == first
    assert billing.issue_bill_run(billing.plan_bill_run("m1", RUN, {a.number: usd(7)})) == first
    with pytest.raises(cb.ConflictError, match="run m1 2026-07-01") as caught:
        billing.issue_bill_run(billing.plan_bill_run("m1", RUN, {a.number: usd(9)}))
    assert caught.value.what == "digest of the issued plan"
    assert billing.invoices(a.number) == first
    assert billing.account_summary(a.number).balance == usd(7)


def test_issuing_concurrently_records_once(billing: cb.CustomerBilling) -> None:
    """Eight threads issuing the same plan record each invoice exactly once."""
    accounts = [_customer(billing)[1] for _ in range(20)]
    plan = billing.plan_bill_run("m1", RUN, {a.number: usd(i + 1) for i, a in enumerate(accounts)})
    results: list[tuple[cb.Invoice, ...]] = []
    barrier = threading.Barrier(8)

    def issue() -> None:
        barrier.wait()
        results.append(billing.issue_bill_run(plan))

    threads = [threading.Thread(target=issue) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert all(r == results[0] for r in results)
    numbers = [i.number for a in accounts for i in billing.invoices(a.number)]
    assert len(numbers) == 20 == len(set(numbers))


def test_stale_plan_is_a_conflict(billing: cb.CustomerBilling) -> None:
    """A plan made before another run changed the carried-forward amount is refused."""
    _, a = _customer(billing, minimum_invoice_amount=usd(10))
    stale = billing.plan_bill_run("m1", date(2026, 8, 1), {a.number: usd(1)})
    billing.issue_bill_run(billing.plan_bill_run("m1", RUN, {a.number: usd(4)}))
    with pytest.raises(cb.ConflictError):
        billing.issue_bill_run(stale)


def test_balances_payments_and_adjustments(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """Balance = invoices + debits − credits − payments; overpayment is unapplied."""
    customer, a = _customer(billing)
    billing.issue_bill_run(billing.plan_bill_run("m1", RUN, {a.number: usd(100)}))
    billing.record_adjustment(a.number, cb.AdjustmentKind.DEBIT, usd(20), RUN, "late fee")
    billing.record_adjustment(a.number, cb.AdjustmentKind.CREDIT, usd(5), RUN, "goodwill")
    payment = billing.record_payment(a.number, usd(150), RUN, reference="wire 42")
    assert payment.number == "P-000001"
    summary = billing.account_summary(a.number)
    assert summary.balance == usd(-35)
    assert summary.unapplied_payments == usd(35)
    assert billing.customer_summary(customer.number).accounts[0].balance == usd(-35)
    assert [p.reference for p in billing.payments(a.number)] == ["wire 42"]
    assert len(billing.adjustments(a.number)) == 2
    rejected(
        store,
        lambda: billing.record_payment(a.number, Money(1, "EUR"), RUN),
        "billing.charge_currency_mismatch",
    )
    rejected(
        store,
        lambda: billing.record_adjustment(a.number, cb.AdjustmentKind.CREDIT, usd(-1), RUN, "x"),
        "billing.amount_invalid",
    )
    rejected(
        store,
        lambda: billing.edit_account(a.number, invoice_currency="EUR"),
        "account.field_immutable",
    )


def test_summary_renders_for_notebooks(billing: cb.CustomerBilling) -> None:
    """Plans and summaries give HTML and plain records."""
    customer, a = _customer(billing)
    plan = billing.plan_bill_run("m1", RUN, {a.number: usd("12.50")})
    (record,) = plan.to_records()
    assert record["total"] == Decimal("12.50")
    assert record["billed_account"] == a.number
    assert "<table>" in plan._repr_html_()
    assert "12.50" in plan._repr_html_()
    summary = billing.customer_summary(customer.number)
    assert summary.to_records()[0]["account"] == a.number
    assert "<script" not in summary._repr_html_()
    assert billing.account_summary(a.number).to_records()[0]["balance"] == 0
    assert a.number in billing.account_summary(a.number)._repr_html_()


@settings(max_examples=150, deadline=None)
@example(rendering=None, amounts=[None, 10, None], minimum=100, first=[5, None, None])
@example(
    rendering=cb.InvoiceRendering.PER_ACCOUNT,
    amounts=[None, 10, 20],
    minimum=100,
    first=[5, 6, None],
)
@given(
    rendering=st.sampled_from([None, *cb.InvoiceRendering]),
    amounts=st.lists(st.none() | st.integers(-50, 200), min_size=3, max_size=3),
    minimum=st.none() | st.integers(0, 150),
    first=st.lists(st.none() | st.integers(0, 60), min_size=3, max_size=3),
)
def test_every_amount_is_invoiced_or_carried(
    rendering: cb.InvoiceRendering | None,
    amounts: list[int | None],
    minimum: int | None,
    first: list[int | None],
) -> None:
    """Over two runs, what was charged equals what was invoiced plus what is still pending,
    whatever the rendering, minimum and charges."""
    billing = cb.CustomerBilling(settings=ALL_ON)
    add_catalog(billing)
    customer, top = billing.create_customer(
        new_customer(),
        new_account(minimum_invoice_amount=None if minimum is None else usd(minimum)),
    )
    accounts = [top]
    for _ in range(2):
        accounts.append(
            billing.add_account(
                customer.number, new_account(responsible_account=accounts[-1].number)
            )
        )
    if rendering is not None:
        billing.edit_account(top.number, invoice_rendering=rendering)
    charged = 0
    for run, values in ((RUN, first), (date(2026, 8, 1), amounts)):
        charges = {a.number: usd(v) for a, v in zip(accounts, values, strict=True) if v is not None}
        charged += sum(v for v in values if v is not None)
        plan = billing.plan_bill_run("m1", run, charges)
        assert {i.billed_account for i in plan.invoices} <= {top.number}
        billing.issue_bill_run(plan)
    invoiced = sum(i.total.amount for i in billing.invoices(top.number))
    pending = billing.account_summary(top.number).pending_charges.amount
    assert invoiced + pending == charged


def test_a_responsible_account_starting_later_still_bills_its_managed_accounts(
    billing: cb.CustomerBilling,
) -> None:
    """Charges of a managed account go to the top of its chain even before the top starts;
    the top's own charges cannot be billed yet."""
    customer, top = _customer(billing, start_date=date(2026, 8, 1))
    managed = billing.add_account(customer.number, new_account(responsible_account=top.number))
    (invoice,) = billing.plan_bill_run("m1", RUN, {managed.number: usd(5)}).invoices
    assert (invoice.billed_account, invoice.accounts, invoice.total) == (
        top.number,
        (managed.number,),
        usd(5),
    )
    with pytest.raises(cb.RuleViolationError) as info:
        billing.plan_bill_run("m1", RUN, {top.number: usd(1)})
    assert info.value.codes == {"billing.charge_not_billable"}


def test_an_erased_customer_has_no_recipient_and_says_so(billing: cb.CustomerBilling) -> None:
    """Email stays a channel, but with no address to send to the invoice notes it."""
    customer, a = _customer(billing, distribute_invoice=True)
    billing.erase_customer(customer.number)
    (invoice,) = billing.plan_bill_run("m1", RUN, {a.number: usd(1)}).invoices
    assert invoice.channels == {cb.Channel.EMAIL}
    assert invoice.recipients == ()
    assert any("no recipient" in note for note in invoice.notes)
