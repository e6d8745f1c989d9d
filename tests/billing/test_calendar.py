"""The billing calendar, against python-dateutil as an oracle."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from dateutil.rrule import WEEKLY, rrule
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.billing import auto_pay_date, bill_dates, due_date, is_suppressed, next_bill_date
from custbill.billing.calendar import PERIOD_MONTHS
from tests.strategies import valid_bill_cycles


def _oracle(cycle: cb.BillCycle, start: date, end: date) -> list[date]:
    """The same dates from dateutil: period n from the anchor month, or rrule weekly."""
    if cycle.period is cb.BillingPeriod.WEEKLY:
        days = rrule(WEEKLY, dtstart=cycle.start_date, byweekday=cycle.bill_day - 1, until=end)
        return [d.date() for d in days if d.date() >= start]
    anchor = cycle.start_date.replace(day=1)
    found, n = [], 0
    while True:
        month = anchor + relativedelta(months=n * PERIOD_MONTHS[cycle.period])
        day = month + relativedelta(day=cycle.bill_day)  # clamps to the month's last day
        if day > end:
            return found
        if day >= max(start, cycle.start_date):
            found.append(day)
        n += 1


@given(cycle=valid_bill_cycles, offset=st.integers(-400, 4000))
def test_fifty_years_agree_with_dateutil(cycle: cb.BillCycle, offset: int) -> None:
    """Every cycle over 50 years: strictly increasing, each on its day (or the month's last
    day), none before the cycle's start, and exactly dateutil's dates."""
    start = cycle.start_date + timedelta(days=offset)
    end = start + timedelta(days=365 * 50)
    dates = bill_dates(cycle, start, end)
    assert dates == _oracle(cycle, start, end)
    assert all(a < b for a, b in itertools.pairwise(dates))
    assert all(d >= cycle.start_date and start <= d <= end for d in dates)
    for d in dates:
        if cycle.period is cb.BillingPeriod.WEEKLY:
            assert d.isoweekday() == cycle.bill_day
        else:
            last = (d.replace(day=1) + relativedelta(months=1, days=-1)).day
            assert d.day == min(cycle.bill_day, last)


@given(cycle=valid_bill_cycles, offset=st.integers(-400, 4000))
def test_next_bill_date_is_the_first_of_bill_dates(cycle: cb.BillCycle, offset: int) -> None:
    """next_bill_date(d) is the first bill date on or after d."""
    day = cycle.start_date + timedelta(days=offset)
    expected = bill_dates(cycle, day, day + timedelta(days=800))[0]
    assert next_bill_date(cycle, day) == expected


def _monthly(
    day: int,
    start: date,
    period: cb.BillingPeriod = cb.BillingPeriod.MONTHLY,
) -> cb.BillCycle:
    return cb.BillCycle(id="c", name="c", period=period, bill_day=day, start_date=start)


def test_month_end_does_not_drift() -> None:
    """A 31st-of-month cycle gives Jan 31, Feb 29 (leap), Mar 31, Apr 30, May 31."""
    cycle = _monthly(31, date(2024, 1, 1))
    assert bill_dates(cycle, date(2024, 1, 1), date(2024, 5, 31)) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert bill_dates(cycle, date(2025, 2, 1), date(2025, 2, 28)) == [date(2025, 2, 28)]


def test_the_period_before_the_start_is_dropped() -> None:
    """Quarterly on the 1st from 2012-05-12 first bills on 2012-08-01."""
    cycle = _monthly(1, date(2012, 5, 12), cb.BillingPeriod.QUARTERLY)
    assert bill_dates(cycle, date(2012, 1, 1), date(2013, 2, 1)) == [
        date(2012, 8, 1),
        date(2012, 11, 1),
        date(2013, 2, 1),
    ]


def test_weekly_starts_on_the_first_matching_weekday() -> None:
    """ISO weekday 1 (Monday) from Wednesday 2026-01-07 first bills Monday 2026-01-12."""
    cycle = _monthly(1, date(2026, 1, 7), cb.BillingPeriod.WEEKLY)
    assert bill_dates(cycle, date(2026, 1, 1), date(2026, 1, 26)) == [
        date(2026, 1, 12),
        date(2026, 1, 19),
        date(2026, 1, 26),
    ]


def test_edges_of_the_calendar() -> None:
    """start > end gives []; dates stop at date.max; past it is date_out_of_range."""
    cycle = _monthly(31, date(9999, 1, 1))
    assert bill_dates(cycle, date(2026, 2, 1), date(2026, 1, 1)) == []
    assert bill_dates(cycle, date(9999, 11, 1), date.max) == [date(9999, 11, 30), date.max]
    assert next_bill_date(cycle, date.max) == date.max
    with pytest.raises(cb.RuleViolationError) as info:
        next_bill_date(_monthly(30, date(9999, 1, 1)), date.max)
    assert info.value.codes == {"billing.date_out_of_range"}


@pytest.mark.parametrize(
    ("invoice", "net", "eom", "due"),
    [
        (date(2026, 1, 15), 30, False, date(2026, 2, 14)),
        (date(2026, 1, 15), 30, True, date(2026, 3, 2)),
        (date(2024, 2, 10), 0, True, date(2024, 2, 29)),
        (date(2026, 12, 31), 1, False, date(2027, 1, 1)),
    ],
)
def test_due_date(invoice: date, net: int, eom: bool, due: date) -> None:
    """Net days from the invoice date, or from the end of its month."""
    term = cb.PaymentTerm(id="t", name="t", net_days=net, end_of_month=eom)
    assert due_date(invoice, term) == due


def test_due_date_out_of_range() -> None:
    """A due date past date.max is billing.date_out_of_range."""
    with pytest.raises(cb.RuleViolationError):
        due_date(date(9999, 12, 1), cb.PaymentTerm(id="t", name="t", net_days=31))


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0, date(2026, 2, 14)),
        (-3, date(2026, 2, 11)),
        (5, date(2026, 2, 19)),
        (-100, date(2026, 1, 15)),
    ],
)
def test_auto_pay_date(offset: int, expected: date) -> None:
    """Offset from the due date, never before the invoice date."""
    assert auto_pay_date(date(2026, 1, 15), date(2026, 2, 14), offset) == expected


@pytest.mark.parametrize(
    ("total", "minimum", "suppressed"),
    [
        ("9.99", "10", True),
        ("10", "10", False),
        ("0", "10", True),
        ("-5", "10", False),
        ("10.01", "10", False),
        ("0", "0", False),
    ],
)
def test_is_suppressed(total: str, minimum: str, suppressed: bool) -> None:
    """0 <= total < minimum is suppressed; equal or credit is not."""
    assert is_suppressed(Money(total, "USD"), Money(minimum, "USD")) is suppressed
    assert is_suppressed(Money(total, "USD"), None) is False


def test_is_suppressed_refuses_mixed_currencies() -> None:
    """Different currencies raise custbill's CurrencyMismatchError, not a bare TypeError."""
    with pytest.raises(cb.CurrencyMismatchError):
        is_suppressed(Money(1, "USD"), Money(1, "EUR"))
