"""The row planner: :func:`~custbill.billing.plan.plan_run` over a store's plan rows.

A store that keeps a plan row beside each account
(:class:`~custbill.storage.protocols.PlanRowSource`, :mod:`custbill.model.plan_row`) lets a
run be planned without reading an account object for the usual invoice: one pass over the
cycle's managed accounts groups their charges under the top of their chain, one pass over
all the cycle's rows emits the invoices.  An invoice of an account's own charge is kept as
its row and its total, and becomes a :class:`~custbill.PlannedInvoice` only when read.

It plans only runs where every charge is billable; for any other it answers
:class:`Declined`, and the caller plans with :func:`~custbill.billing.plan.plan_run`, which
reports every problem.  Whenever it plans, its plan equals ``plan_run``'s (the hypothesis
test ``tests/billing/test_plan_rows.py`` holds the two equal on random stores, and checks
they decline and refuse the same runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from itertools import chain
from typing import overload

import attrs
from moneyed import Money

from custbill.billing.calendar import bill_dates, previous_bill_date
from custbill.billing.invoicing import (
    REASON_DEACTIVATED,
    REASON_FREE,
    REASON_NO_CHARGES,
    Billed,
    InvoiceProfile,
    InvoiceRecord,
    Recipients,
    assemble_invoice,
    delivery_notes,
    invoice_profile,
    invoices_billed_to,
    is_below,
    planned_invoice,
    reason_ended,
    reason_starts_later,
    recipients_of,
    shared_recipients,
    suppression_note,
)
from custbill.model import (
    BillCycle,
    BillingAccount,
    BillRunPlan,
    PaymentTerm,
    PlannedInvoice,
    Settings,
    SkippedAccount,
)
from custbill.model.billing import LazySequence
from custbill.model.currencies import money_of
from custbill.model.plan_row import (
    DEACTIVATED,
    EMAIL,
    END,
    FREE,
    INVOICE_CURRENCY,
    MINIMUM,
    NUMBER,
    PROFILE,
    RESPONSIBLE,
    PlanRow,
    PlanRows,
)

#: (bound once: looking an enum member up costs more than the rest of a row's step)
_PER_ACCOUNT = Recipients.PER_ACCOUNT


@attrs.frozen
class Declined:
    """The row planner does not plan this run; :func:`~custbill.billing.plan.plan_run`
    does (and reports every problem of it)."""

    reason: str


def plan_rows(
    cycle: BillCycle,
    run_date: date,
    rows: PlanRows,
    charges: Mapping[str, Money],
    *,
    account: Callable[[str], BillingAccount | None],
    payment_term: Callable[[str], PaymentTerm | None],
    pending: Mapping[str, Money],
    settings: Settings,
) -> BillRunPlan | Declined:
    """:func:`~custbill.billing.plan.plan_run` over the plan rows of *cycle* (the other
    arguments as for ``plan_run``; *account* is asked only for what rows do not hold), or
    :class:`Declined` for a run where some charge is not billable.  Each charge is looked
    up once and counted: a charge for an account the two passes never reach (another
    cycle's, or no account's) shows as a count that falls short.
    """
    last_run = _last_run(cycle, run_date)
    if last_run is None:
        return Declined("not a bill date")
    groups = _group_managed(rows, run_date, last_run, charges)
    if isinstance(groups, Declined):
        return groups
    invoices = _Invoices(run_date, payment_term, settings)
    profiles, entries, totals = invoices.profiles, invoices.entries, invoices.totals
    billed = chain(charges, groups.members, pending)
    account = _read_ahead(rows, billed, partial(invoices.profile, account=account), account)
    charge_of, carried_of = charges.get, pending.get
    members_of, member_amounts = groups.members.get, groups.amounts
    skipped: list[tuple[str, str]] = []  # (account, reason)
    consumed = len(groups.amounts)
    for row in rows.rows:
        number, off, start, responsible, currency, _minimum, key, _email, managing, end, free = row
        ended = end if end is not None and end <= last_run else None
        if responsible is not None:  # a managed account: its charge went to its top
            if off or ended or start > run_date or number not in member_amounts:
                skipped.append((number, _why_skipped(off, ended, start, run_date, free)))
            continue
        money = charge_of(number)
        members = members_of(number) if managing else None
        if off or ended or start > run_date or free:  # (a FREE top never has members)
            if money is not None:
                return Declined(f"a charge for {number}, which this run does not bill")
            if off or ended or members is None:  # (a later top still bills its members)
                skipped.append((number, _why_skipped(off, ended, start, run_date, free)))
                continue
        carried = carried_of(number) if pending else None
        if money is None:
            if members is None and carried is None:
                skipped.append((number, REASON_NO_CHARGES))
                continue
            own_amount = None
        else:
            if money.currency.code != currency:
                return Declined(f"the charge for {number} is not in its invoice currency")
            consumed += 1
            own_amount = money.amount
        profile = profiles.get(key) or invoices.profile(row, account)
        if (
            own_amount is not None
            and members is None
            and carried is None
            and profile.recipients is not _PER_ACCOUNT
        ):
            entries.append(row)  # the common case: the invoice is its row and total
            totals.append(own_amount)
        else:
            invoices.bill(row, own_amount, members, member_amounts, carried, profile, account)
    if consumed != len(charges):
        return Declined("a charge for an account this run does not bill")
    return invoices.plan(cycle, skipped)


def _last_run(cycle: BillCycle, run_date: date) -> date | None:
    """The cycle's bill date before *run_date* (``date.min`` when there is none): an
    account whose last day is on or before it had its final period billed then (see
    :func:`~custbill.billing.invoicing.has_ended`).  None when *run_date* is not a bill
    date of the cycle."""
    if not bill_dates(cycle, run_date, run_date):
        return None
    return previous_bill_date(cycle, run_date) or date.min


def _read_ahead(
    rows: PlanRows,
    billed: Iterable[str],
    profile: Callable[[PlanRow], InvoiceProfile],
    account: Callable[[str], BillingAccount | None],
) -> Callable[[str], BillingAccount | None]:
    """*account*, but with the accounts the run reads whole read at once first, where the
    store reads several accounts at once (:attr:`~custbill.model.plan_row.PlanRows.read_many`).

    The run reads an account whole when the recipients of its invoices are found per
    account (its contacts and invoice addresses): of the accounts of *billed* (those
    with a charge, with charged managed accounts, or with an amount carried in), the
    tops of their chains whose *profile* says so.  Everything else an invoice needs is in
    the rows and their profiles; finding the profiles reads one account of each.
    """
    if rows.read_many is None:
        return account
    row_of = rows.row_of
    wanted = set()
    for number in billed:
        row = row_of(number)
        if row is not None and row[RESPONSIBLE] is None and profile(row).recipients is _PER_ACCOUNT:
            wanted.add(number)
    if not wanted:
        return account
    found = rows.read_many(wanted).get

    def lookup(number: str) -> BillingAccount | None:
        return found(number) or account(number)

    return lookup


def _ended(end: date | None, last_run: date) -> bool:
    return end is not None and end <= last_run


def _why_skipped(
    deactivated: bool, ended: date | None, start: date, run_date: date, free: bool
) -> str:
    """Why an account of a row gets no invoice of its own in the run on *run_date*
    (*ended*: its last day, when a run before this one billed its final period)."""
    if deactivated:
        return REASON_DEACTIVATED
    if ended is not None:
        return reason_ended(ended)
    if start > run_date:
        return reason_starts_later(start)
    if free:
        return REASON_FREE
    return REASON_NO_CHARGES


def _account(account: Callable[[str], BillingAccount | None], number: str) -> BillingAccount:
    found = account(number)
    assert found is not None, number  # a store's rows and its accounts go together
    return found


def _skipped(item: tuple[str, str]) -> SkippedAccount:
    account, reason = item
    return SkippedAccount(account=account, reason=reason)


@attrs.define
class _ManagedCharges:
    """The charges of the cycle's managed accounts, grouped under the top of their chain."""

    #: Top account -> its charged managed account, or a list of them (a list only for
    #: two or more: most tops have one).
    members: dict[str, str | list[str]]
    #: Charged managed account -> its charge.
    amounts: dict[str, Decimal]


def _group_managed(
    rows: PlanRows, run_date: date, last_run: date, charges: Mapping[str, Money]
) -> _ManagedCharges | Declined:
    """Group the charges of the cycle's managed accounts under the top of their chains."""
    groups = _ManagedCharges({}, {})
    memo: dict[str, str] = {}
    for row in rows.managed:
        number, off, start, responsible, _currency, _min, _key, _email, _managing, end, free = row
        money = charges.get(number)
        if money is None:
            continue
        if off or free or start > run_date or responsible is None or _ended(end, last_run):
            return Declined(f"a charge for {number}, which this run does not bill")
        top_row = rows.row_of(responsible)  # usually the top itself
        if top_row is not None and top_row[RESPONSIBLE] is not None:
            top_row = _top_row(number, responsible, rows.row_of, memo)
        if top_row is None:
            return Declined(f"the chain of {number} leaves the cycle")
        top_number = top_row[NUMBER]
        if (
            top_row[DEACTIVATED]
            or top_row[FREE]
            or _ended(top_row[END], last_run)
            or money.currency.code != top_row[INVOICE_CURRENCY]
        ):
            return Declined(f"the charge for {number} cannot go on {top_number}")
        group = groups.members.get(top_number)
        if group is None:
            groups.members[top_number] = number
        elif isinstance(group, str):
            groups.members[top_number] = [group, number]
        else:
            group.append(number)
        groups.amounts[number] = money.amount
    return groups


def _top_row(
    number: str, responsible: str, row_of: Callable[[str], PlanRow | None], memo: dict[str, str]
) -> PlanRow | None:
    """The row at the top of *number*'s responsible chain, or None when the chain leaves
    the cycle or loops.  *memo* remembers the top of every account passed."""
    path = [number]
    current = responsible
    while True:
        known = memo.get(current)
        if known is not None:
            current = known
            break
        row = row_of(current)
        if row is None or current in path:
            return None
        path.append(current)
        above = row[RESPONSIBLE]
        if above is None:
            break
        current = above
    for passed in path:
        memo[passed] = current
    return row_of(current)


class _Invoices:
    """The invoices of a plan as they are found: an invoice of an account's own charge as
    its plan row and total (nothing allocated), any other as an :class:`InvoiceRecord`."""

    __slots__ = (
        "carried_in",
        "entries",
        "payment_term",
        "profiles",
        "run_date",
        "settings",
        "totals",
    )

    def __init__(
        self,
        run_date: date,
        payment_term: Callable[[str], PaymentTerm | None],
        settings: Settings,
    ) -> None:
        self.run_date = run_date
        self.payment_term = payment_term
        self.settings = settings
        #: The invoice profile of each profile number of the rows met so far.
        self.profiles: dict[int, InvoiceProfile] = {}
        #: Each invoice's row or record, and its total.
        self.entries: list[PlanRow | InvoiceRecord] = []
        self.totals: list[Decimal] = []
        self.carried_in: dict[str, Money] = {}

    def profile(
        self, row: PlanRow, account: Callable[[str], BillingAccount | None]
    ) -> InvoiceProfile:
        """The invoice profile of *row*'s profile number (worked out from its account, read
        whole, the first time the number is met)."""
        key = row[PROFILE]
        profile = self.profiles.get(key)
        if profile is None:
            billed = _account(account, row[NUMBER])
            profile = invoice_profile(billed, self.run_date, self.payment_term, self.settings)
            self.profiles[key] = profile
        return profile

    def bill(
        self,
        row: PlanRow,
        own_amount: Decimal | None,
        members: str | list[str] | None,
        member_amounts: Mapping[str, Decimal],
        carried: Money | None,
        profile: InvoiceProfile,
        account: Callable[[str], BillingAccount | None],
    ) -> None:
        """Add the invoices of *row*'s account, with its managed accounts' charges, an
        amount carried in, or recipients of its own (see
        :func:`~custbill.billing.invoicing.invoices_billed_to`): its account is read whole
        for its recipients alone, and only when they are found per account."""
        number, email = row[NUMBER], row[EMAIL]
        if carried is not None:
            self.carried_in[number] = carried
        if profile.recipients is _PER_ACCOUNT:
            recipients = recipients_of(_account(account, number), email, self.settings)
        else:
            recipients = shared_recipients(profile, email)
        billed = Billed(number, row[INVOICE_CURRENCY], row[MINIMUM])
        listed = [members] if isinstance(members, str) else members
        for record in invoices_billed_to(
            billed, own_amount, listed, member_amounts, carried, profile, recipients
        ):
            self.entries.append(record)
            self.totals.append(record.total)

    def plan(self, cycle: BillCycle, skipped: list[tuple[str, str]]) -> BillRunPlan:
        """The plan of the run, with the *skipped* accounts and their reasons."""
        return BillRunPlan(
            bill_cycle=cycle.id,
            run_date=self.run_date,
            invoices=self.planned(),
            skipped=LazySequence[SkippedAccount](skipped, _skipped),
            carried_in=self.carried_in,
        )

    def planned(self) -> LazySequence[PlannedInvoice]:
        """The invoices, each built when first read."""
        return LazySequence[PlannedInvoice](_Pairs(self.entries, self.totals), self.build)

    def build(self, item: tuple[PlanRow | InvoiceRecord, Decimal]) -> PlannedInvoice:
        """The invoice of a plan row's own charge, or of a record."""
        entry, total = item
        if isinstance(entry, InvoiceRecord):
            return planned_invoice(entry, self.run_date)
        number, _off, _start, _responsible, currency, minimum, key, email, _, _end, _free = entry
        profile = self.profiles[key]
        recipients = shared_recipients(profile, email)
        notes = delivery_notes(profile, recipients)
        suppressed = is_below(total, minimum)
        if suppressed and minimum is not None:
            notes = (*notes, suppression_note(Money(minimum, currency)))
        return assemble_invoice(
            number,
            (number,),
            money_of(total, currency),
            self.run_date,
            profile.due_date,
            profile.auto_pay_date,
            suppressed,
            profile.channels,
            recipients,
            notes,
            profile.invoice_note,
        )


class _Pairs(Sequence[tuple[PlanRow | InvoiceRecord, Decimal]]):
    """Two lists of equal length read as one list of pairs (so that neither holds pairs)."""

    __slots__ = ("_first", "_second")

    def __init__(self, first: list[PlanRow | InvoiceRecord], second: list[Decimal]) -> None:
        self._first, self._second = first, second

    def __len__(self) -> int:
        return len(self._first)

    @overload
    def __getitem__(self, index: int) -> tuple[PlanRow | InvoiceRecord, Decimal]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[PlanRow | InvoiceRecord, Decimal]]: ...

    def __getitem__(
        self, index: int | slice
    ) -> tuple[PlanRow | InvoiceRecord, Decimal] | list[tuple[PlanRow | InvoiceRecord, Decimal]]:
        if isinstance(index, slice):
            return list(zip(self._first[index], self._second[index], strict=True))
        return self._first[index], self._second[index]

    def __iter__(self) -> Iterator[tuple[PlanRow | InvoiceRecord, Decimal]]:
        return zip(self._first, self._second, strict=True)
