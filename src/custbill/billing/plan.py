"""Planning a bill run: which invoices a cycle's run date produces, billed to whom.

The planner is a pure function over the accounts of one bill cycle and a few lookups, so the
facade can feed it from any store.  Charges of a managed account go to the top of its
responsible chain; the top account's rendering decides whether they share one invoice
(AGGREGATED, the default) or get one invoice each (PER_ACCOUNT).  Totals are summed as
Decimals in the billed account's invoice currency and become Money once per invoice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal

from moneyed import Money

from custbill.billing.calendar import auto_pay_date, bill_dates, due_date, is_suppressed
from custbill.errors import RuleViolationError
from custbill.model import (
    AccountStatus,
    BillCycle,
    BillingAccount,
    Channel,
    InvoiceRendering,
    InvoiceType,
    PaymentTerm,
    Settings,
    Violation,
)
from custbill.model.billing import BillRunPlan, PlannedInvoice, SkippedAccount
from custbill.rules._support import violation

_CHANNELS = {
    InvoiceType.NONE: frozenset(),
    InvoiceType.PAPER: frozenset({Channel.PDF}),
    InvoiceType.EMAIL: frozenset({Channel.EMAIL}),
    InvoiceType.PAPER_AND_EMAIL: frozenset({Channel.PDF, Channel.EMAIL}),
}


def check_run_date(cycle: BillCycle, run_date: date) -> tuple[Violation, ...]:
    """``billing.not_a_bill_date`` unless *run_date* is a bill date of *cycle*."""
    if bill_dates(cycle, run_date, run_date):
        return ()
    return (
        violation(
            "billing.not_a_bill_date",
            "run_date",
            f"{run_date.isoformat()} is not a bill date of {cycle.id!r}",
            bill_cycle=cycle.id,
        ),
    )


def top_of_chain(
    number: str, account: Callable[[str], BillingAccount | None], memo: dict[str, str]
) -> str:
    """The account at the top of *number*'s responsible chain (itself if it has none).

    Walks iteratively and remembers every account it passed in *memo*, so a whole run costs
    one step per account.
    """
    path = []
    current = number
    while current not in memo:
        path.append(current)
        found = account(current)
        parent = found.responsible_account if found is not None else None
        if parent is None or parent in path:
            memo[current] = current
            break
        current = parent
    top = memo[current]
    for n in path:
        memo[n] = top
    return top


def distribution(
    billed: BillingAccount, primary_email: str | None, settings: Settings
) -> tuple[frozenset[Channel], tuple[str, ...], tuple[str, ...]]:
    """Channels, recipients and notes of an invoice billed to *billed*.

    Email goes out when Distribute Invoice is enabled for the account, for all accounts, or
    for a contact category of one of its contacts; the customer's primary email receives it
    in the first two cases, the contacts of an enabled category in every case.
    """
    channels = _CHANNELS[billed.invoice_type]
    notes: list[str] = []
    if Channel.EMAIL not in channels:
        if billed.invoice_type is InvoiceType.NONE:
            notes.append("invoice type NONE: nothing is sent")
        return channels, (), tuple(notes)
    for_account = billed.distribute_invoice or settings.distribute_invoice_all_accounts
    categories = settings.distribute_invoice_contact_categories
    enabled_contacts = [c for c in billed.contacts if c.category in categories]
    if not for_account and not enabled_contacts:
        notes.append(
            f"invoice type {billed.invoice_type.value} asks for email, but Distribute "
            "Invoice is enabled neither for this account, nor for all accounts, nor "
            "for a category of its contacts"
        )
        return channels - {Channel.EMAIL}, (), tuple(notes)
    recipients: list[str] = []
    if for_account and primary_email:
        recipients.append(primary_email)
    for contact in enabled_contacts:
        if contact.email and contact.email not in recipients:
            recipients.append(contact.email)
    if not recipients:
        notes.append("email is enabled but no recipient has an email address")
    return channels, tuple(recipients), tuple(notes)


def plan_run(
    cycle: BillCycle,
    run_date: date,
    on_cycle: Iterable[BillingAccount],
    charges: Mapping[str, Money],
    *,
    account: Callable[[str], BillingAccount | None],
    primary_email: Callable[[str], str | None],
    payment_term: Callable[[str], PaymentTerm | None],
    pending: Callable[[str], Money | None],
    settings: Settings,
) -> BillRunPlan:
    """Plan the run of *cycle* on *run_date* for the accounts *on_cycle*.

    Args:
        cycle: the bill cycle.
        run_date: a bill date of the cycle; every invoice's invoice date.
        on_cycle: every account on the cycle.
        charges: new charges by account number.
        account: finds any account by number (responsible accounts included).
        primary_email: a customer's primary email by customer number.
        payment_term: a payment term by id.
        pending: the carried-forward (suppressed) amount of a billed account, if any.
        settings: the tenant's settings (invoice distribution).

    Raises:
        RuleViolationError: ``billing.not_a_bill_date``, ``billing.charge_not_billable``,
            ``billing.charge_currency_mismatch`` — all of them at once.
    """
    problems = list(check_run_date(cycle, run_date))
    by_number: dict[str, BillingAccount] = {}
    skipped: list[SkippedAccount] = []
    for a in on_cycle:
        if a.status is AccountStatus.DEACTIVATED:
            skipped.append(SkippedAccount(account=a.number, reason="deactivated"))
        elif a.start_date > run_date:
            skipped.append(
                SkippedAccount(account=a.number, reason=f"starts on {a.start_date.isoformat()}")
            )
        else:
            by_number[a.number] = a

    def find(number: str) -> BillingAccount | None:
        return by_number.get(number) or account(number)

    memo: dict[str, str] = {}
    groups: dict[str, dict[str, Decimal]] = {}  # top -> account -> amount
    for number, money in charges.items():
        path = f"charges[{number}]"
        billed_here = by_number.get(number)
        if billed_here is None:
            problems.append(
                violation(
                    "billing.charge_not_billable",
                    path,
                    f"{number} is not billed by this run",
                    account=number,
                )
            )
            continue
        top = find(top_of_chain(number, find, memo))
        assert top is not None
        if money.currency.code != top.invoice_currency:
            problems.append(
                violation(
                    "billing.charge_currency_mismatch",
                    path,
                    f"charge in {money.currency.code}, but {top.number} invoices in "
                    f"{top.invoice_currency}",
                    currency=money.currency.code,
                    invoice_currency=top.invoice_currency,
                )
            )
            continue
        group = groups.setdefault(top.number, {})
        group[number] = group.get(number, Decimal(0)) + money.amount
    if problems:
        raise RuleViolationError(problems)

    carried_in: dict[str, Money] = {}
    for number in by_number:
        if memo.get(number, number) == number and number not in groups:
            amount = pending(number)
            if amount is not None:
                groups[number] = {}
    invoices: list[PlannedInvoice] = []
    for top_number in sorted(groups):
        top = find(top_number)
        assert top is not None
        own = groups[top_number]
        carried = pending(top_number)
        if carried is not None:
            carried_in[top_number] = carried
        term = payment_term(top.payment_term)
        due = due_date(run_date, term) if term is not None else run_date
        auto = auto_pay_date(run_date, due, top.auto_pay_offset_days) if top.auto_pay else None
        channels, recipients, dist_notes = distribution(top, primary_email(top.customer), settings)
        rendering = top.invoice_rendering or InvoiceRendering.AGGREGATED
        members = sorted(n for n in own if n != top_number)
        # The first part is the billed account's own invoice: it takes what was carried in.
        if rendering is InvoiceRendering.AGGREGATED:
            parts = [([top_number] if top_number in own else []) + members]
        else:
            parts = [[top_number]] if top_number in own or carried is not None else []
            parts += [[m] for m in members]
        for index, part in enumerate(parts):
            total = sum((own[n] for n in part if n in own), Decimal(0))
            notes = list(dist_notes)
            if carried is not None and index == 0:
                total += carried.amount
                notes.append(
                    f"includes {carried.amount} {carried.currency.code} carried "
                    "forward from suppressed invoices"
                )
            money = Money(total, top.invoice_currency)
            suppressed = is_suppressed(money, top.minimum_invoice_amount)
            if suppressed:
                minimum = top.minimum_invoice_amount
                assert minimum is not None
                notes.append(
                    f"below the minimum invoice amount of {minimum.amount} "
                    f"{minimum.currency.code}: suppressed and carried forward"
                )
            invoices.append(
                PlannedInvoice(
                    billed_account=top_number,
                    accounts=tuple(part) or (top_number,),
                    total=money,
                    invoice_date=run_date,
                    due_date=due,
                    auto_pay_date=auto,
                    suppressed=suppressed,
                    channels=channels,
                    recipients=recipients,
                    notes=tuple(notes),
                )
            )
    invoiced = {n for i in invoices for n in i.accounts}
    skipped.extend(
        SkippedAccount(account=n, reason="no charges") for n in by_number if n not in invoiced
    )
    skipped.sort(key=lambda s: s.account)
    return BillRunPlan(
        bill_cycle=cycle.id,
        run_date=run_date,
        invoices=tuple(invoices),
        skipped=tuple(skipped),
        carried_in=carried_in,
    )
