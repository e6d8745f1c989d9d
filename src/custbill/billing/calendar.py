"""The billing calendar: bill dates, due dates, auto-pay dates and invoice suppression.

Monthly-type cycles compute period *n* from the cycle's anchor month (never by stepping from
the previous result), so a cycle billing on the 31st gives Jan 31, Feb 28 (29 in leap
years), Mar 31, Apr 30 without drifting.  Dates are handled as month indexes
(``year * 12 + month - 1``) and ordinals, which keeps the hot loops to integer arithmetic.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from moneyed import Money

from custbill.errors import CurrencyMismatchError, RuleViolationError
from custbill.model import BillCycle, BillingPeriod, PaymentTerm, Violation
from custbill.rules.catalog import check_bill_cycle

#: Months per period of the monthly-type cycles.
PERIOD_MONTHS = {
    BillingPeriod.MONTHLY: 1,
    BillingPeriod.QUARTERLY: 3,
    BillingPeriod.SEMI_ANNUAL: 6,
    BillingPeriod.ANNUAL: 12,
}
_LAST_MONTH_INDEX = date.max.year * 12 + 11


def _require(value: object, kind: type | tuple[type, ...], name: str) -> None:
    """TypeError unless *value* is a *kind* (a date must not be a datetime)."""
    if not isinstance(value, kind) or (kind is date and isinstance(value, datetime)):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise TypeError(f"{name}: expected {expected}, got {type(value).__name__}")


def _out_of_range(path: str, message: str) -> RuleViolationError:
    return RuleViolationError(
        [Violation(code="billing.date_out_of_range", path=path, message=message, params={})]
    )


def _not_finite(path: str) -> RuleViolationError:
    message = "an amount must be a finite number"
    return RuleViolationError(
        [Violation(code="money.not_finite", path=path, message=message, params={})]
    )


def _require_cycle(cycle: BillCycle) -> None:
    """A cycle made without the catalog's rules may have a bill day no calendar has: refuse
    it as adding it to the catalog would (``catalog.invalid``)."""
    _require(cycle, BillCycle, "cycle")
    found = check_bill_cycle(cycle)
    if found:
        raise RuleViolationError(found)


def _month_date(index: int, day: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day, _calendar.monthrange(year, month0 + 1)[1]))


def _iter_dates(cycle: BillCycle, lower: date) -> Iterator[date]:
    """Bill dates of *cycle* on or after max(lower, cycle.start_date), up to date.max."""
    lower = max(lower, cycle.start_date)
    if cycle.period is BillingPeriod.WEEKLY:
        start = cycle.start_date
        ordinal = start.toordinal() + (cycle.bill_day - start.isoweekday()) % 7
        low = lower.toordinal()
        if low > ordinal:
            ordinal += -(-(low - ordinal) // 7) * 7
        last = date.max.toordinal()
        while ordinal <= last:
            yield date.fromordinal(ordinal)
            ordinal += 7
        return
    step = PERIOD_MONTHS[cycle.period]
    anchor = cycle.start_date.year * 12 + cycle.start_date.month - 1
    target = lower.year * 12 + lower.month - 1
    index = anchor + max(0, (target - anchor) // step) * step
    while index <= _LAST_MONTH_INDEX:
        day = _month_date(index, cycle.bill_day)
        if day >= lower:
            yield day
        index += step


def bill_dates(cycle: BillCycle, start: date, end: date) -> list[date]:
    """Every bill date of *cycle* in ``[start, end]``, oldest first.

    No date precedes the cycle's ``start_date``: a period whose bill day falls before it is
    dropped, not moved.

    >>> from datetime import date
    >>> from custbill import BillCycle, BillingPeriod
    >>> from custbill.billing import bill_dates
    >>> cycle = BillCycle(id="m31", name="31st", period=BillingPeriod.MONTHLY, bill_day=31,
    ...                   start_date=date(2024, 1, 1))
    >>> [d.isoformat() for d in bill_dates(cycle, date(2024, 1, 1), date(2024, 4, 30))]
    ['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30']

    Raises:
        TypeError: an argument of another type.
    """
    _require_cycle(cycle)
    _require(start, date, "start")
    _require(end, date, "end")
    found = []
    for day in _iter_dates(cycle, start):
        if day > end:
            break
        found.append(day)
    return found


def next_bill_date(cycle: BillCycle, on_or_after: date) -> date:
    """The first bill date of *cycle* on or after *on_or_after*.

    Raises:
        RuleViolationError: ``billing.date_out_of_range`` when it would be past ``date.max``.
        TypeError: an argument of another type.
    """
    _require_cycle(cycle)
    _require(on_or_after, date, "on_or_after")
    for day in _iter_dates(cycle, on_or_after):
        return day
    raise _out_of_range("on_or_after", "no bill date of the cycle falls before date.max")


#: How far back a bill date of any cycle must lie: an annual cycle's year, and a leap day.
_LONGEST_PERIOD = timedelta(days=367)


def previous_bill_date(cycle: BillCycle, before: date) -> date | None:
    """The last bill date of *cycle* strictly before *before*, or None when there is none
    (*before* is on or before the cycle's first bill date).

    Raises:
        TypeError: an argument of another type.
    """
    _require_cycle(cycle)
    _require(before, date, "before")
    if before == date.min:
        return None
    start = date.min if before - date.min <= _LONGEST_PERIOD else before - _LONGEST_PERIOD
    earlier = bill_dates(cycle, start, before - timedelta(days=1))
    return earlier[-1] if earlier else None


def due_date(invoice_date: date, term: PaymentTerm) -> date:
    """When an invoice is due: ``net_days`` after the invoice date, or after the last day of
    its month when the term is ``end_of_month``.

    Raises:
        RuleViolationError: ``billing.date_out_of_range`` past ``date.max``.
        TypeError: an argument of another type.
    """
    _require(invoice_date, date, "invoice_date")
    _require(term, PaymentTerm, "term")
    base = invoice_date
    if term.end_of_month:
        base = base.replace(day=_calendar.monthrange(base.year, base.month)[1])
    try:
        return base + timedelta(days=term.net_days)
    except OverflowError:
        raise _out_of_range("net_days", "the due date would be past date.max") from None


def auto_pay_date(invoice_date: date, due: date, offset_days: int) -> date:
    """When auto-pay charges an invoice: *offset_days* from the due date (negative = before
    it), but never before the invoice date.

    Raises:
        RuleViolationError: ``billing.date_out_of_range`` past ``date.max``.
        TypeError: an argument of another type.
    """
    _require(invoice_date, date, "invoice_date")
    _require(due, date, "due")
    if not isinstance(offset_days, int) or isinstance(offset_days, bool):
        raise TypeError(f"offset_days: expected int, got {type(offset_days).__name__}")
    try:
        return max(invoice_date, due + timedelta(days=offset_days))
    except OverflowError:
        if offset_days < 0:
            return invoice_date
        raise _out_of_range(
            "auto_pay_offset_days", "the auto-pay date would be past date.max"
        ) from None


def is_suppressed(total: Money, minimum: Money | None) -> bool:
    """True when a minimum is set and ``0 <= total < minimum``.

    A total equal to the minimum is invoiced; a negative total (a credit) never is
    suppressed.

    Raises:
        CurrencyMismatchError: when total and minimum are in different currencies.
        RuleViolationError: ``money.not_finite`` for a NaN or infinite amount.
        TypeError: an argument of another type.
    """
    _require(total, Money, "total")
    if not total.amount.is_finite():
        raise _not_finite("total")
    if minimum is None:
        return False
    _require(minimum, Money, "minimum")
    if not minimum.amount.is_finite():
        raise _not_finite("minimum")
    if total.currency != minimum.currency:
        raise CurrencyMismatchError(total.currency.code, minimum.currency.code)
    return bool(0 <= total.amount < minimum.amount)
