"""Planning a bill run: which invoices a cycle's run date produces, billed to whom.

:func:`plan_run` is the planner written to be read: a pure function over the accounts of one
bill cycle and a few lookups, so the facade can feed it from any store.  It is also the
reference the row planner (:mod:`custbill.billing.plan_rows`, for stores that keep plan
rows) is tested against.

Charges of a managed account go to the top of its responsible chain; the top account's
rendering decides whether they share one invoice (AGGREGATED, the default) or get one
invoice each (PER_ACCOUNT) — see :func:`~custbill.billing.invoicing.invoices_billed_to`.
Totals are summed as Decimals in the billed account's invoice currency and become Money
once per invoice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from moneyed import Money

from custbill.billing.calendar import bill_dates, previous_bill_date
from custbill.billing.invoicing import (
    REASON_DEACTIVATED,
    REASON_FREE,
    REASON_NO_CHARGES,
    billed_of,
    has_ended,
    invoice_profile,
    invoices_billed_to,
    planned_invoice,
    reason_ended,
    reason_starts_later,
    recipients_for,
)
from custbill.errors import RuleViolationError
from custbill.model import (
    AccountStatus,
    BillCycle,
    BillingAccount,
    BillRunPlan,
    Channel,
    PaymentMode,
    PaymentTerm,
    PlannedInvoice,
    Settings,
    SkippedAccount,
    Violation,
)
from custbill.model.billing import top_of
from custbill.rules import violation


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
    """:func:`~custbill.model.billing.top_of` over account objects found by *account*."""

    def responsible_of(current: str) -> str | None:
        found = account(current)
        return found.responsible_account if found is not None else None

    return top_of(number, responsible_of, memo)


class ChargeGroups(NamedTuple):
    """The run's charges of managed accounts, grouped under the top of their chains."""

    #: The managed accounts with charges, by the account at the top of their chain.
    members: dict[str, list[str]]
    #: Each of those managed accounts' charge.
    amounts: dict[str, Decimal]


#: An account's last day (its own end date or its customer's, the earlier), or None.
EndOf = Callable[[BillingAccount], date | None]


def group_charges(
    cycle: BillCycle,
    run_date: date,
    charges: Mapping[str, Money],
    account: Callable[[str], BillingAccount | None],
    end_of: EndOf,
) -> tuple[ChargeGroups, list[Violation]]:
    """Check every charge and group those of managed accounts under the top of their chain.

    A charge must be for an account this run bills (on the cycle, not deactivated, started,
    not ended) whose top account can be billed, and in the top account's invoice currency;
    each other charge is a violation.
    """
    groups = ChargeGroups({}, {})
    problems: list[Violation] = []
    memo: dict[str, str] = {}
    last_run = previous_bill_date(cycle, run_date)
    for number, money in charges.items():
        path = f"charges[{number}]"
        charged = account(number)
        if (
            charged is None
            or charged.bill_cycle != cycle.id
            or charged.status is AccountStatus.DEACTIVATED
            or charged.start_date > run_date
            or charged.payment_mode is PaymentMode.FREE
            or has_ended(end_of(charged), last_run)
        ):
            problems.append(
                violation(
                    "billing.charge_not_billable",
                    path,
                    f"{number} is not billed by this run",
                    account=number,
                )
            )
            continue
        top = charged
        if charged.responsible_account is not None:
            found = account(top_of_chain(number, account, memo))
            if (
                found is None
                or found.status is AccountStatus.DEACTIVATED  # (past the rules)
                or found.payment_mode is PaymentMode.FREE
                or has_ended(end_of(found), last_run)
            ):
                problems.append(
                    violation(
                        "billing.charge_not_billable",
                        path,
                        f"{number} is invoiced on an account that cannot be billed",
                        account=number,
                    )
                )
                continue
            top = found
        code = money.currency.code
        if code != top.invoice_currency:
            problems.append(
                violation(
                    "billing.charge_currency_mismatch",
                    path,
                    f"charge in {code}, but {top.number} invoices in {top.invoice_currency}",
                    currency=code,
                    invoice_currency=top.invoice_currency,
                )
            )
        elif top is not charged:
            groups.members.setdefault(top.number, []).append(number)
            groups.amounts[number] = money.amount
    return groups, problems


def plan_run(
    cycle: BillCycle,
    run_date: date,
    on_cycle: Iterable[BillingAccount],
    charges: Mapping[str, Money],
    *,
    account: Callable[[str], BillingAccount | None],
    primary_email: Callable[[str], str | None],
    end_of: EndOf,
    payment_term: Callable[[str], PaymentTerm | None],
    pending: Mapping[str, Money],
    settings: Settings,
) -> BillRunPlan:
    """Plan the run of *cycle* on *run_date* for the accounts *on_cycle*.

    Two passes: one over the charges (:func:`~custbill.billing.plan.group_charges`), one
    over the cycle's accounts in number order, emitting invoices and skipped accounts in
    that order.

    Args:
        cycle: the bill cycle.
        run_date: a bill date of the cycle; every invoice's invoice date.
        on_cycle: every account on the cycle, in number order.
        charges: new charges by account number.
        account: finds any account by number.
        primary_email: a customer's primary email by customer number (None once erased).
        end_of: an account's last day (:func:`custbill.model.plan_row.end_of`), or None.
        payment_term: a payment term by id.
        pending: the carried-forward (suppressed) amounts by billed account.
        settings: the tenant's settings (invoice distribution).

    Raises:
        RuleViolationError: ``billing.not_a_bill_date``, ``billing.charge_not_billable``,
            ``billing.charge_currency_mismatch`` — all of them at once.
    """
    groups, problems = group_charges(cycle, run_date, charges, account, end_of)
    problems[:0] = check_run_date(cycle, run_date)
    if problems:
        raise RuleViolationError(problems)
    invoices: list[PlannedInvoice] = []
    skipped: list[SkippedAccount] = []
    carried_in: dict[str, Money] = {}
    last_run = previous_bill_date(cycle, run_date)
    for billed in on_cycle:
        number = billed.number
        members = groups.members.get(number)
        end = end_of(billed)
        ended = end if has_ended(end, last_run) else None
        reason = _why_skipped(billed, run_date, ended, members, groups, charges, pending)
        if reason is not None:
            skipped.append(SkippedAccount(account=number, reason=reason))
            continue
        if billed.responsible_account is not None:
            continue  # a managed account with a charge: its top account invoices it
        charge = charges.get(number)
        carried = pending.get(number)
        if carried is not None:
            carried_in[number] = carried
        profile = invoice_profile(billed, run_date, payment_term, settings)
        email = primary_email(billed.customer) if Channel.EMAIL in profile.channels else None
        records = invoices_billed_to(
            billed_of(billed),
            None if charge is None else charge.amount,
            members,
            groups.amounts,
            carried,
            profile,
            recipients_for(profile, billed, email, settings),
        )
        invoices.extend(planned_invoice(record, run_date) for record in records)
    return BillRunPlan(
        bill_cycle=cycle.id,
        run_date=run_date,
        invoices=tuple(invoices),
        skipped=tuple(skipped),
        carried_in=carried_in,
    )


def _why_skipped(
    billed: BillingAccount,
    run_date: date,
    ended: date | None,
    members: list[str] | None,
    groups: ChargeGroups,
    charges: Mapping[str, Money],
    pending: Mapping[str, Money],
) -> str | None:
    """Why *billed* gets no invoice of its own in this run, or None when it gets one (or,
    for a managed account, when its charge goes on its top account's invoice).  *ended*
    is its last day when a run before this one billed its final period."""
    if billed.status is AccountStatus.DEACTIVATED:
        return REASON_DEACTIVATED
    if ended is not None:
        return reason_ended(ended)
    managed = billed.responsible_account is not None
    # (a responsible account that starts later still bills its managed accounts)
    if billed.start_date > run_date and (managed or members is None):
        return reason_starts_later(billed.start_date)
    if billed.payment_mode is PaymentMode.FREE:
        return REASON_FREE
    if managed:
        return None if billed.number in groups.amounts else REASON_NO_CHARGES
    if billed.number not in charges and members is None and billed.number not in pending:
        return REASON_NO_CHARGES
    return None
