"""The overdue state of :mod:`custbill.billing.dunning` against a day-by-day walk."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from custbill.billing.dunning import Credit, Overdue, Owed, overdue_on, step_reached
from custbill.model import DunningAction, DunningPlan, DunningStep

DAY0 = date(2026, 1, 1)
SPAN = 120  # days the drawn histories cover


def _walk(owed: list[Owed], credits: list[Credit], as_of: date) -> Overdue:
    """Walk the calendar a day at a time: each day, the amounts issued that day join the
    unpaid list (kept in due order, then order issued), the day's credits join what is
    unspent, and what is unspent pays down the list from its head."""
    unpaid: list[list[object]] = []  # [due, order issued, amount left]
    unspent = Decimal(0)
    day = min([o.issued for o in owed] + [c.on for c in credits] + [as_of])
    while day <= as_of:
        for order, item in enumerate(owed):
            if item.issued == day:
                unpaid.append([item.due, order, item.amount])
        unpaid.sort(key=lambda entry: (entry[0], entry[1]))  # type: ignore[return-value]
        unspent += sum((c.amount for c in credits if c.on == day), Decimal(0))
        for entry in unpaid:
            left = entry[2]
            assert isinstance(left, Decimal)
            paid = min(left, unspent)
            entry[2] = left - paid
            unspent -= paid
        unpaid = [entry for entry in unpaid if entry[2]]
        day += timedelta(days=1)
    late = [entry for entry in unpaid if entry[0] < as_of]  # type: ignore[operator]
    if not late:
        return Overdue(Decimal(0), None)
    amount = sum((entry[2] for entry in late), Decimal(0))  # type: ignore[misc]
    return Overdue(amount, min(entry[0] for entry in late))  # type: ignore[type-var]


days = st.integers(0, SPAN).map(lambda n: DAY0 + timedelta(days=n))
amounts = st.integers(1, 50_000).map(lambda cents: Decimal(cents) / 100)
owed_items = st.builds(
    lambda issued, wait, amount: Owed(issued, issued + timedelta(days=wait), amount),
    days,
    st.integers(0, 45),
    amounts,
)
credit_items = st.builds(Credit, days, amounts)


@given(
    owed=st.lists(owed_items, max_size=8),
    credits=st.lists(credit_items, max_size=8),
    as_of=days,
)
def test_the_sweep_is_the_day_by_day_walk(
    owed: list[Owed], credits: list[Credit], as_of: date
) -> None:
    assert overdue_on(owed, credits, as_of) == _walk(owed, credits, as_of)


@given(
    owed=st.lists(owed_items, max_size=8),
    credits=st.lists(credit_items, max_size=8),
    as_of=days,
)
def test_overdue_is_never_more_than_the_balance_and_never_negative(
    owed: list[Owed], credits: list[Credit], as_of: date
) -> None:
    found = overdue_on(owed, credits, as_of)
    owing = sum((o.amount for o in owed if o.issued <= as_of), Decimal(0))
    paid = sum((c.amount for c in credits if c.on <= as_of), Decimal(0))
    assert Decimal(0) <= found.amount <= max(owing - paid, Decimal(0))
    assert (found.since is None) == (found.amount == 0)
    if found.since is not None:
        assert found.since < as_of and found.days(as_of) > 0


def test_a_payment_pays_the_oldest_due_amount_first() -> None:
    owed = [Owed(DAY0, DAY0 + timedelta(days=30), Decimal(100))]
    owed.append(Owed(DAY0 + timedelta(days=31), DAY0 + timedelta(days=61), Decimal(100)))
    credits = [Credit(DAY0 + timedelta(days=40), Decimal(100))]
    as_of = DAY0 + timedelta(days=70)
    assert overdue_on(owed, credits, as_of) == Overdue(Decimal(100), DAY0 + timedelta(days=61))
    # an amount due today is not overdue yet; the day after it is, by one day
    due = DAY0 + timedelta(days=61)
    assert overdue_on(owed, credits, due).amount == 0
    assert overdue_on(owed, credits, due + timedelta(days=1)).days(due + timedelta(days=1)) == 1


PLAN = DunningPlan(
    id="std",
    name="Standard",
    steps=(
        DunningStep(days_past_due=10, action="Reminder email"),
        DunningStep(days_past_due=30, action="suspend", minimum_overdue=Decimal(50)),
        DunningStep(days_past_due=60, action="Pending collection"),
        DunningStep(days_past_due=90, action="DEACTIVATE"),
    ),
)


@given(amount=amounts, days_late=st.integers(0, 200))
def test_the_step_reached_is_the_deepest_whose_days_and_minimum_are_met(
    amount: Decimal, days_late: int
) -> None:
    as_of = DAY0 + timedelta(days=days_late)
    step = step_reached(PLAN, Overdue(amount, DAY0), as_of)
    met = [
        i
        for i, s in enumerate(PLAN.steps)
        if s.days_past_due <= days_late and (s.minimum_overdue or 0) <= amount
    ]
    assert step == (met[-1] if met else None)
    assert step_reached(PLAN, Overdue(Decimal(0), None), as_of) is None


def test_a_steps_text_names_its_action() -> None:
    kinds = [s.kind for s in PLAN.steps]
    assert kinds == [
        DunningAction.NOTIFY,
        DunningAction.SUSPEND,
        DunningAction.PENDING_COLLECTION,
        DunningAction.DEACTIVATE,
    ]
    assert DunningAction.of("pending-collection") is DunningAction.PENDING_COLLECTION
    assert DunningAction.of("suspend service now") is DunningAction.NOTIFY
