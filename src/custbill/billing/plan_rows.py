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

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import overload

import attrs
from moneyed import Money

from custbill.billing.calendar import bill_dates
from custbill.billing.invoicing import (
    REASON_DEACTIVATED,
    REASON_NO_CHARGES,
    InvoiceProfile,
    InvoiceRecord,
    Recipients,
    delivery_notes,
    invoice_profile,
    invoices_billed_to,
    is_below,
    planned_invoice,
    reason_starts_later,
    recipients_for,
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
from custbill.model.plan_row import (
    DEACTIVATED,
    EMAIL,
    INVOICE_CURRENCY,
    MINIMUM,
    NUMBER,
    PROFILE,
    RESPONSIBLE,
    START,
    PlanRow,
    PlanRows,
)


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
    """:func:`~custbill.billing.plan.plan_run` over the plan rows of *cycle*, or
    :class:`Declined` for a run where some charge is not billable.

    Each charge is looked up once, in one of the two passes, and counted: a charge for an
    account the passes never reach (another cycle's, or no account's) shows as a count
    that falls short.

    Args:
        cycle: the bill cycle.
        run_date: the run date.
        rows: the cycle's plan rows.
        charges: new charges by account number.
        account: finds an account by number (for what rows do not hold: contacts,
            rendering).
        payment_term: a payment term by id.
        pending: the carried-forward (suppressed) amounts by billed account.
        settings: the tenant's settings.
    """
    if not bill_dates(cycle, run_date, run_date):
        return Declined("not a bill date")
    groups = _group_managed(rows, run_date, charges)
    if isinstance(groups, Declined):
        return groups
    charge_of = charges.get
    profiles: dict[int, InvoiceProfile] = {}
    invoices = _Invoices(run_date, profiles)
    skipped: list[tuple[str, str]] = []  # (account, reason)
    carried_in: dict[str, Money] = {}
    consumed = len(groups.amounts)
    checked_currency: object = None  # the last currency found right, and its code
    checked_code = ""
    for row in rows.rows:
        number, deactivated, start, responsible, currency, _minimum, key, email, managing = row
        if responsible is not None:  # a managed account: its charge went to its top
            if deactivated:
                skipped.append((number, REASON_DEACTIVATED))
            elif start > run_date:
                skipped.append((number, reason_starts_later(start)))
            elif number not in groups.amounts:
                skipped.append((number, REASON_NO_CHARGES))
            continue
        money = charge_of(number)
        members = groups.members.get(number) if managing else None
        if deactivated or start > run_date:
            if money is not None:
                return Declined(f"a charge for {number}, which this run does not bill")
            if deactivated or members is None:  # (a later top still bills its members)
                skipped.append(
                    (number, REASON_DEACTIVATED if deactivated else reason_starts_later(start))
                )
                continue
        carried = pending.get(number) if pending else None
        own_amount = None
        if money is not None:
            consumed += 1
            money_currency = money.currency
            if money_currency is not checked_currency or currency != checked_code:
                if money_currency.code != currency:
                    return Declined(f"the charge for {number} is not in its invoice currency")
                checked_currency, checked_code = money_currency, currency
            own_amount = money.amount
        elif members is None and carried is None:
            skipped.append((number, REASON_NO_CHARGES))
            continue
        profile = profiles.get(key)
        if profile is None:
            profile = profiles[key] = invoice_profile(
                _account(account, number), run_date, payment_term, settings
            )
        if members is None and carried is None and profile.recipients is not Recipients.PER_ACCOUNT:
            assert own_amount is not None
            invoices.add_row(row, own_amount)  # the common case: nothing is allocated
            continue
        billed = _account(account, number)
        if carried is not None:
            carried_in[number] = carried
        for record in invoices_billed_to(
            billed,
            own_amount,
            [members] if isinstance(members, str) else members,
            groups.amounts,
            carried,
            profile,
            recipients_for(profile, billed, email, settings),
        ):
            invoices.add_record(record)
    if consumed != len(charges):
        return Declined("a charge for an account this run does not bill")
    return BillRunPlan(
        bill_cycle=cycle.id,
        run_date=run_date,
        invoices=invoices.planned(),
        skipped=LazySequence[SkippedAccount](skipped, _skipped),
        carried_in=carried_in,
    )


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
    rows: PlanRows, run_date: date, charges: Mapping[str, Money]
) -> _ManagedCharges | Declined:
    """Group the charges of the cycle's managed accounts under the top of their chains."""
    groups = _ManagedCharges({}, {})
    memo: dict[str, str] = {}
    for row in rows.managed:
        number = row[NUMBER]
        money = charges.get(number)
        if money is None:
            continue
        responsible = row[RESPONSIBLE]
        if row[DEACTIVATED] or row[START] > run_date or responsible is None:
            return Declined(f"a charge for {number}, which this run does not bill")
        top_row = rows.row_of(responsible)  # usually the top itself
        if top_row is not None and top_row[RESPONSIBLE] is not None:
            top_row = _top_row(number, responsible, rows.row_of, memo)
        if top_row is None:
            return Declined(f"the chain of {number} leaves the cycle")
        top_number = top_row[NUMBER]
        if top_row[DEACTIVATED] or money.currency.code != top_row[INVOICE_CURRENCY]:
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

    __slots__ = ("entries", "profiles", "run_date", "totals")

    def __init__(self, run_date: date, profiles: Mapping[int, InvoiceProfile]) -> None:
        self.run_date = run_date
        self.profiles = profiles
        self.entries: list[PlanRow | InvoiceRecord] = []
        self.totals: list[Decimal] = []

    def add_row(self, row: PlanRow, total: Decimal) -> None:
        self.entries.append(row)
        self.totals.append(total)

    def add_record(self, record: InvoiceRecord) -> None:
        self.entries.append(record)
        self.totals.append(record.total)

    def planned(self) -> LazySequence[PlannedInvoice]:
        """The invoices, each built when first read."""
        return LazySequence[PlannedInvoice](_Pairs(self.entries, self.totals), self.build)

    def build(self, item: tuple[PlanRow | InvoiceRecord, Decimal]) -> PlannedInvoice:
        """The invoice of a plan row's own charge, or of a record."""
        entry, total = item
        if isinstance(entry, InvoiceRecord):
            return planned_invoice(entry, self.run_date)
        number, currency, minimum, email = (
            entry[NUMBER],
            entry[INVOICE_CURRENCY],
            entry[MINIMUM],
            entry[EMAIL],
        )
        profile = self.profiles[entry[PROFILE]]
        recipients = (email,) if email and profile.recipients is Recipients.PRIMARY_ONLY else ()
        notes = delivery_notes(profile, recipients)
        suppressed = is_below(total, minimum)
        if suppressed:
            assert minimum is not None
            notes = (*notes, suppression_note(Money(minimum, currency)))
        record = InvoiceRecord(
            number,
            (number,),
            total,
            currency,
            profile.due_date,
            profile.auto_pay_date,
            suppressed,
            profile.channels,
            recipients,
            notes,
        )
        return planned_invoice(record, self.run_date)


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
