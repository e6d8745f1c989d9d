"""Use cases of bill runs and the ledger: plan and issue runs, record payments and
adjustments, read them back, pool usage, and the balances summaries show."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from typing import NamedTuple, TypeVar

import attrs
from moneyed import Money

from custbill.billing.charges import charges_taken, with_stored
from custbill.billing.plan import EndOf, check_run_date, plan_run
from custbill.billing.plan_rows import Declined, plan_rows
from custbill.billing.pooling import allocate, subtree
from custbill.billing.runs import (
    charges_in,
    charges_of_rows,
    check_partition,
    plan_digest,
    run_name,
)
from custbill.errors import ConflictError, NotFoundError
from custbill.model import (
    BillCycle,
    BillingAccount,
    BillRunPlan,
    PaymentTerm,
    PlannedInvoice,
    Violation,
)
from custbill.model.billing import (
    WHOLE_RUN,
    Adjustment,
    BillRunStatus,
    Invoice,
    IssuedPart,
    Partition,
    PartitionIssued,
    Payment,
    PoolResult,
    hierarchy_key,
    top_of,
)
from custbill.model.enums import AdjustmentKind
from custbill.model.plan_row import end_of as last_day
from custbill.rules import violation
from custbill.rules.cards import card_violations
from custbill.rules.limits import MAX_TEXT_LENGTH, record_text_violations
from custbill.rules.money import amount_violations, charges_violations
from custbill.service import logs
from custbill.service._unit import (
    Context,
    account_of,
    raise_if,
    record_event,
    require,
    require_date,
)
from custbill.service.accounting import check_entry_amount, credit_violations
from custbill.service.dunning import reinstate_if_cleared
from custbill.storage.protocols import PlanRowSource, UnitOfWork

Entry = TypeVar("Entry", Payment, Adjustment)


def check_charges(charges: Mapping[str, Money]) -> None:
    """TypeError unless *charges* maps account numbers (str) to Money."""
    require(charges, Mapping, "charges")
    if set(map(type, charges.values())) - {Money} or set(map(type, charges)) - {str}:
        for number, amount in charges.items():  # (the usual case is checked above, in C)
            if not isinstance(amount, Money):
                raise TypeError(f"charges[{number!r}] must be Money, not {type(amount).__name__}")
            require(number, str, "a charge's account number")
    raise_if(charges_violations(charges))


def plan_bill_run(
    uow: UnitOfWork,
    ctx: Context,
    bill_cycle: str,
    run_date: date,
    charges: Mapping[str, Money],
    partition: Partition | None = None,
) -> BillRunPlan:
    """Plan a run, or one partition of it; see :meth:`custbill.CustomerBilling.plan_bill_run`.

    A store that keeps plan rows (:class:`~custbill.storage.protocols.PlanRowSource`) is
    planned from them (:mod:`custbill.billing.plan_rows`); any other store, and any run the
    row planner declines, from the accounts (:func:`~custbill.billing.plan.plan_run`).
    A partition is planned from its own accounts and charges (:mod:`custbill.billing.runs`).
    The store's pending charges the run bills are added to the caller's *charges*
    (:func:`~custbill.billing.charges.charges_taken`) and named in the plan.
    """
    require(bill_cycle, str, "bill_cycle")
    require_date(run_date, "run_date")
    check_charges(charges)
    if partition is not None:
        require(partition, Partition, "partition")
        raise_if(check_partition(partition))
    cycle = uow.catalog.get(BillCycle, bill_cycle)
    if cycle is None:
        raise NotFoundError("bill cycle", bill_cycle)
    return _plan_checked(uow, ctx, cycle, run_date, charges, partition)


def _plan_checked(
    uow: UnitOfWork,
    ctx: Context,
    cycle: BillCycle,
    run_date: date,
    charges: Mapping[str, Money],
    partition: Partition | None,
) -> BillRunPlan:
    """:func:`plan_bill_run` past the checks of its arguments (*charges* checked, the
    cycle found): each part of a split run checks the caller's charges once."""
    part = partition or WHOLE_RUN
    stored = charges_taken(
        uow.ledger.pending_charges(), cycle, run_date, uow.accounts.get, ends_of(uow)
    )
    charges = with_stored(charges, stored)
    planned = _plan_from_rows(uow, ctx, cycle, run_date, charges, part)
    if planned is None:
        planned = _plan_from_accounts(uow, ctx, cycle, run_date, charges, part)
    plan, billed = planned
    taken = tuple(c.number for c in stored if c.account in billed)
    if partition is None and not taken:
        return logs.planned(plan)
    return logs.planned(attrs.evolve(plan, partition=partition, charges=taken))


class _Planned(NamedTuple):
    """A plan, and the charges (of the caller's and the stored) its part of the run bills."""

    plan: BillRunPlan
    billed: Mapping[str, Money]


def _plan_from_rows(
    uow: UnitOfWork,
    ctx: Context,
    cycle: BillCycle,
    run_date: date,
    charges: Mapping[str, Money],
    part: Partition,
) -> _Planned | None:
    """The plan of the row planner, or None when the store keeps no plan rows or the
    planner declines the run."""
    accounts = uow.accounts
    if not isinstance(accounts, PlanRowSource):
        return None
    rows = accounts.plan_rows(cycle.id, part)
    billed = charges_of_rows(charges, part, rows)
    plan = plan_rows(
        cycle,
        run_date,
        rows,
        billed,
        account=accounts.get,
        payment_term=partial(uow.catalog.get, PaymentTerm),
        pending=uow.ledger.pending_amounts(),
        settings=ctx.lookup(uow).settings,
    )
    return None if isinstance(plan, Declined) else _Planned(plan, billed)


def _plan_from_accounts(
    uow: UnitOfWork,
    ctx: Context,
    cycle: BillCycle,
    run_date: date,
    charges: Mapping[str, Money],
    part: Partition,
) -> _Planned:
    """The plan of :func:`~custbill.billing.plan.plan_run`, from the account objects."""
    accounts = uow.accounts

    def primary_email(number: str) -> str | None:
        customer = uow.customers.get(number)
        return None if customer is None or customer.erased else customer.primary_email

    def responsible_of(number: str) -> str | None:  # on this cycle, as rows answer
        found = accounts.get(number)
        return found.responsible_account if found and found.bill_cycle == cycle.id else None

    on_cycle: Iterable[BillingAccount] = (
        account_of(uow, n) for n in accounts.on_bill_cycle(cycle.id)
    )
    if part.count > 1:
        memo: dict[str, str] = {}
        on_cycle = (
            a for a in on_cycle if part.holds(hierarchy_key(top_of(a.number, responsible_of, memo)))
        )
    billed = charges_in(charges, part, responsible_of)
    plan = plan_run(
        cycle,
        run_date,
        on_cycle,
        billed,
        account=accounts.get,
        primary_email=primary_email,
        end_of=ends_of(uow),
        payment_term=partial(uow.catalog.get, PaymentTerm),
        pending=uow.ledger.pending_amounts(),
        settings=ctx.lookup(uow).settings,
    )
    return _Planned(plan, billed)


def ends_of(uow: UnitOfWork) -> EndOf:
    """An account's last day (:func:`~custbill.model.plan_row.end_of`), reading each
    customer once."""
    customer_ends: dict[str, date | None] = {}

    def end_of(account: BillingAccount) -> date | None:
        number = account.customer
        if number not in customer_ends:
            customer = uow.customers.get(number)
            customer_ends[number] = None if customer is None else customer.end_date
        return last_day(account.end_date, customer_ends[number])

    return end_of


def issue_bill_run(uow: UnitOfWork, ctx: Context, plan: BillRunPlan) -> tuple[Invoice, ...]:
    """Record a plan's invoices, once; see :meth:`custbill.CustomerBilling.issue_bill_run`.

    The plan's part of the run (the whole run is part 0 of 1) is held while it is issued;
    a part issued already gives back its invoices when the plan is the one that was issued
    (equal :func:`~custbill.billing.runs.plan_digest`), and ConflictError otherwise.
    """
    require(plan, BillRunPlan, "plan")
    part = plan.partition or WHOLE_RUN
    raise_if(check_partition(part, "plan.partition"))
    totals = {str(i): planned.total for i, planned in enumerate(plan.invoices)}
    raise_if(charges_violations(totals, "plan.invoices"))  # (a plan may be made by hand)
    ledger = uow.ledger
    cycle, run_date = plan.bill_cycle, plan.run_date
    count = ledger.open_run(cycle, run_date, part.count)
    if count != part.count:
        raise ConflictError(run_name(cycle, run_date), part.count, count, what="partition count")
    digest = plan_digest(plan)
    if ledger.claim_part(cycle, run_date, part.index) is None:
        return _issued_before(uow, plan, part, digest)
    pending = ledger.pending_amounts()  # (one read, however many accounts are billed)
    for number in sorted({i.billed_account for i in plan.invoices}):
        now, then = pending.get(number), plan.carried_in.get(number)
        if now != then:
            raise ConflictError(number, then, now, what="pending amount")
    to_record = [planned for planned in plan.invoices if not planned.suppressed]
    carried: dict[str, Money] = {}
    for planned in plan.invoices:
        if planned.suppressed:
            previous = carried.get(planned.billed_account)
            carried[planned.billed_account] = (
                planned.total if previous is None else previous + planned.total
            )
    recorded = [
        Invoice(
            number=f"I-{number:06d}",
            bill_cycle=cycle,
            billed_account=planned.billed_account,
            accounts=planned.accounts,
            total=planned.total,
            invoice_date=planned.invoice_date,
            due_date=planned.due_date,
            auto_pay_date=planned.auto_pay_date,
            invoice_note=planned.invoice_note,
        )
        for planned, number in zip(
            to_record, uow.next_numbers("invoice", len(to_record)), strict=True
        )
    ]
    for invoice in recorded:
        ledger.add_invoice(invoice)
    _bill_charges(uow, plan, recorded)
    # the carried amounts change where the plan took one in or leaves one behind
    for number in sorted({*plan.carried_in, *carried}):
        amount = carried.get(number)
        ledger.set_pending(number, amount if amount and amount.amount else None)
    numbers = tuple(i.number for i in recorded)
    ledger.record_part(cycle, run_date, IssuedPart(part.index, part.count, digest, numbers))
    uow.commit()
    return logs.issued(cycle, run_date, tuple(recorded))


def _bill_charges(uow: UnitOfWork, plan: BillRunPlan, recorded: list[Invoice]) -> None:
    """Mark the store's charges the plan bills billed, each on the invoice carrying its
    account (none where that invoice was suppressed); ConflictError when one of them is
    no longer pending."""
    ledger = uow.ledger
    invoice_of = {number: i.number for i in recorded for number in i.accounts}
    for number in plan.charges:
        charge = ledger.charge(number)
        if charge is None or not charge.pending:
            found = "unknown" if charge is None else f"billed on {charge.billed_on}"
            raise ConflictError(number, "pending", found, what="charge")
        ledger.bill_charge(number, plan.run_date, invoice_of.get(charge.account))


def _issued_before(
    uow: UnitOfWork, plan: BillRunPlan, part: Partition, digest: str
) -> tuple[Invoice, ...]:
    """The invoices of *part* of the plan's run, issued before: when the plan is the one
    issued (its *digest*; for a run issued before digests were kept, equal invoices),
    else ConflictError naming the run."""
    ledger = uow.ledger
    issued = next(
        p for p in ledger.run_parts(plan.bill_cycle, plan.run_date) if p.partition == part.index
    )
    recorded = tuple(i for n in issued.invoices if (i := ledger.invoice(n)) is not None)
    same = issued.digest == digest or (
        not issued.digest
        and [_fields(i) for i in recorded]
        == [_fields(i) for i in plan.invoices if not i.suppressed]
    )
    if not same:
        raise ConflictError(
            run_name(plan.bill_cycle, plan.run_date, part),
            digest[:12],
            issued.digest[:12] or "(not kept)",
            what="digest of the issued plan",
        )
    return recorded


def _fields(invoice: Invoice | PlannedInvoice) -> tuple[object, ...]:
    return (
        invoice.billed_account,
        invoice.accounts,
        invoice.total,
        invoice.invoice_date,
        invoice.due_date,
        invoice.auto_pay_date,
    )


def issue_next_partition(
    uow: UnitOfWork,
    ctx: Context,
    bill_cycle: str,
    run_date: date,
    charges: Mapping[str, Money],
    partitions: int,
) -> PartitionIssued | None:
    """Plan and issue a part of a split run that no worker has taken; see
    :meth:`custbill.CustomerBilling.issue_next_partition`."""
    require(bill_cycle, str, "bill_cycle")
    require_date(run_date, "run_date")
    require(partitions, int, "partitions")
    check_charges(charges)
    raise_if(check_partition(Partition(0, partitions), "partitions"))
    cycle = uow.catalog.get(BillCycle, bill_cycle)
    if cycle is None:
        raise NotFoundError("bill cycle", bill_cycle)
    raise_if(check_run_date(cycle, run_date))
    ledger = uow.ledger
    count = ledger.open_run(bill_cycle, run_date, partitions)
    if count != partitions:
        raise ConflictError(
            run_name(bill_cycle, run_date), partitions, count, what="partition count"
        )
    uow.commit()  # every worker sees the run's parts before any is held
    index = ledger.claim_part(bill_cycle, run_date, None)
    if index is None:
        return None
    partition = Partition(index, count)
    plan = _plan_checked(uow, ctx, cycle, run_date, charges, partition)
    return PartitionIssued(partition=partition, invoices=issue_bill_run(uow, ctx, plan))


def bill_run_status(
    uow: UnitOfWork, ctx: Context, bill_cycle: str, run_date: date
) -> BillRunStatus:
    """How far a run is issued; see :meth:`custbill.CustomerBilling.bill_run_status`."""
    require(bill_cycle, str, "bill_cycle")
    require_date(run_date, "run_date")
    parts = uow.ledger.run_parts(bill_cycle, run_date)
    return BillRunStatus(
        bill_cycle=bill_cycle,
        run_date=run_date,
        partitions=parts[0].partitions if parts else None,
        issued=tuple(p.partition for p in parts),
        invoices=sum(len(p.invoices) for p in parts),
    )


def _record_entry(
    uow: UnitOfWork,
    ctx: Context,
    account_number: str,
    amount: Money,
    on: date,
    make: Callable[[str, BillingAccount], Entry],
    add: Callable[[Entry], None],
    sequence: str,
    prefix: str,
    *,
    owes_more: bool = False,
) -> Entry:
    """Record a payment or adjustment of *amount* on *on*: checked against the account
    (and its credit, when it *owes_more* after it), numbered from *sequence*
    (``P-000001``…), built by *make* and stored by *add*.  One that pays may end the
    account's dunning (:func:`~custbill.service.dunning.reinstate_if_cleared`)."""
    account = account_of(uow, account_number)
    check_entry_amount(account, amount, on)
    if owes_more:
        raise_if(credit_violations(uow, account, amount))
    stamp = ctx.stamp()
    entry = make(f"{prefix}-{uow.next_number(sequence):06d}", account)
    add(entry)
    record_event(uow, stamp, account.number, sequence, entry.number)
    if not owes_more:
        reinstate_if_cleared(uow, ctx, account.number, on, stamp)
    uow.commit()
    return entry


def record_payment(
    uow: UnitOfWork,
    ctx: Context,
    account_number: str,
    amount: Money,
    received_on: date,
    reference: str | None,
) -> Payment:
    """Record a payment; see :meth:`custbill.CustomerBilling.record_payment`."""
    require(reference, (str, type(None)), "reference")
    raise_if(record_text_violations([("reference", reference, MAX_TEXT_LENGTH)]))
    raise_if(card_violations([("reference", reference)]))

    def make(number: str, account: BillingAccount) -> Payment:
        return Payment(
            number=number,
            account=account.number,
            amount=amount,
            received_on=received_on,
            reference=reference,
        )

    return _record_entry(
        uow, ctx, account_number, amount, received_on, make, uow.ledger.add_payment, "payment", "P"
    )


def record_adjustment(
    uow: UnitOfWork,
    ctx: Context,
    account_number: str,
    kind: AdjustmentKind,
    amount: Money,
    on: date,
    reason: str,
) -> Adjustment:
    """Record an adjustment; see :meth:`custbill.CustomerBilling.record_adjustment`."""
    require(kind, AdjustmentKind, "kind")
    require(reason, str, "reason")
    raise_if(record_text_violations([("reason", reason, MAX_TEXT_LENGTH)]))
    raise_if(card_violations([("reason", reason)]))

    def make(number: str, account: BillingAccount) -> Adjustment:
        return Adjustment(
            number=number, account=account.number, kind=kind, amount=amount, on=on, reason=reason
        )

    return _record_entry(
        uow,
        ctx,
        account_number,
        amount,
        on,
        make,
        uow.ledger.add_adjustment,
        "adjustment",
        "J",
        owes_more=kind is AdjustmentKind.DEBIT,
    )


def invoices(uow: UnitOfWork, ctx: Context, account_number: str) -> tuple[Invoice, ...]:
    """The invoices billed to the account, oldest first."""
    return uow.ledger.invoices_of(account_of(uow, account_number).number)


def payments(uow: UnitOfWork, ctx: Context, account_number: str) -> tuple[Payment, ...]:
    """The account's payments, oldest first."""
    return uow.ledger.payments_of(account_of(uow, account_number).number)


def adjustments(uow: UnitOfWork, ctx: Context, account_number: str) -> tuple[Adjustment, ...]:
    """The account's adjustments, oldest first."""
    return uow.ledger.adjustments_of(account_of(uow, account_number).number)


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    number = Decimal(value)
    raise_if(amount_violations(number, None, name))
    return number


def pool_usage(
    uow: UnitOfWork,
    ctx: Context,
    root_account: str,
    allowance: Decimal,
    usage: Mapping[str, Decimal],
) -> PoolResult:
    """Allocate a pooled allowance; see :meth:`custbill.CustomerBilling.pool_usage`."""
    allowance = _decimal(allowance, "allowance")
    require(usage, Mapping, "usage")
    amounts = {n: _decimal(u, f"usage[{n}]") for n, u in usage.items()}
    root = account_of(uow, root_account)
    members = set(subtree(root.number, uow.accounts.children_of))
    found: list[Violation] = []
    if allowance < 0:
        found.append(
            violation("billing.amount_invalid", "allowance", "the allowance cannot be negative")
        )
    for number, amount in amounts.items():
        path = f"usage[{number}]"
        if amount < 0:
            found.append(violation("billing.amount_invalid", path, "usage cannot be negative"))
        if number not in members:
            found.append(
                violation(
                    "account.reference_unknown",
                    path,
                    f"{number} is not in the subtree of {root.number}",
                    kind="account",
                    id=number,
                )
            )
    raise_if(found)
    return allocate(root.number, allowance, amounts, uow.accounts.children_of)


def has_ledger(uow: UnitOfWork, number: str) -> bool:
    """Whether the account has invoices, payments, adjustments or a carried amount."""
    ledger = uow.ledger
    return bool(
        ledger.invoices_of(number)
        or ledger.payments_of(number)
        or ledger.adjustments_of(number)
        or ledger.pending(number)
    )
