"""How overdue an account is, from what it owes and what it paid — pure functions, no
store.

An account *owes* amounts (invoices, due on their due date; debit adjustments, due on their
day) and receives *credits* (payments, credit adjustments, deposits applied).  Day by day,
once the day's amounts and credits have arrived, what is unspent pays what is outstanding
oldest due first (then oldest issued), and whatever is left over waits to pay amounts
issued later.  What is unpaid of the amounts due before a date is *overdue* on it,
*since* the due date of the oldest of them.

:func:`overdue_on` sweeps the events once (a heap of what is outstanding);
``tests/billing/test_dunning.py`` holds it to a day-by-day walk over the calendar.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from custbill.model import DunningPlan


class Owed(NamedTuple):
    """An amount owed: issued on ``issued``, due on ``due``."""

    issued: date
    due: date
    amount: Decimal


class Credit(NamedTuple):
    """An amount received on ``on``."""

    on: date
    amount: Decimal


class Overdue(NamedTuple):
    """What is overdue on a date, and the due date of its oldest part (None: nothing)."""

    amount: Decimal
    since: date | None

    def days(self, as_of: date) -> int:
        """Days from the oldest overdue due date to *as_of* (0 when nothing is overdue)."""
        return 0 if self.since is None else (as_of - self.since).days


def overdue_on(owed: Iterable[Owed], credits: Iterable[Credit], as_of: date) -> Overdue:
    """What is overdue on *as_of*: owed amounts and credits dated after it do not count."""
    # (day, 0 for an amount issued or 1 for a credit, order of arrival, the event): sorted,
    # a day's amounts issued come before its credits
    events: list[tuple[date, int, int, Owed | Credit]] = [
        (o.issued, 0, i, o) for i, o in enumerate(owed) if o.issued <= as_of
    ]
    events += [(c.on, 1, i, c) for i, c in enumerate(credits) if c.on <= as_of]
    events.sort(key=lambda e: e[:3])
    outstanding: list[tuple[date, int]] = []  # a heap of (due, arrival)
    unpaid: dict[int, Decimal] = {}  # by arrival
    unspent = Decimal(0)
    for i, (day, _, arrival, event) in enumerate(events):
        if isinstance(event, Owed):
            heapq.heappush(outstanding, (event.due, arrival))
            unpaid[arrival] = event.amount
        else:
            unspent += event.amount
        if i + 1 < len(events) and events[i + 1][0] == day:
            continue  # a day's amounts and credits all arrive before any is paid
        while unspent > 0 and outstanding:
            oldest = outstanding[0][1]
            paid = min(unspent, unpaid[oldest])
            unspent -= paid
            unpaid[oldest] -= paid
            if not unpaid[oldest]:
                heapq.heappop(outstanding)
                del unpaid[oldest]
    past_due = [(due, unpaid[arrival]) for due, arrival in outstanding if due < as_of]
    if not past_due:
        return Overdue(Decimal(0), None)
    return Overdue(sum((u for _, u in past_due), Decimal(0)), min(due for due, _ in past_due))


def step_reached(plan: DunningPlan, overdue: Overdue, as_of: date) -> int | None:
    """The index of the deepest step of *plan* that *overdue* reaches on *as_of*: its days
    past due are past and any minimum overdue amount is met (None: no step)."""
    return next(reversed(steps_reached(plan, overdue, as_of)), None)


def steps_reached(plan: DunningPlan, overdue: Overdue, as_of: date) -> list[int]:
    """The indexes of every step of *plan* whose days and minimum *overdue* meets."""
    if overdue.since is None or overdue.amount <= 0:
        return []
    days = overdue.days(as_of)
    return [
        i
        for i, step in enumerate(plan.steps)
        if step.days_past_due <= days
        and (step.minimum_overdue is None or overdue.amount >= step.minimum_overdue)
    ]
