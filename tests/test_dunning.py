"""Dunning that acts, through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from moneyed import Money

import custbill as cb
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import new_account, new_customer, standard_facade

RUN = date(2026, 2, 1)  # the invoice's date; net 30: due 2026-03-03
DUE = date(2026, 3, 3)

HARD = cb.DunningPlan(
    id="hard",
    name="Hard",
    steps=(
        cb.DunningStep(days_past_due=10, action="Reminder email"),
        cb.DunningStep(days_past_due=30, action="Suspend"),
        cb.DunningStep(days_past_due=60, action="Pending collection"),
        cb.DunningStep(days_past_due=90, action="Deactivate"),
    ),
)


def usd(amount: int | str) -> Money:
    return Money(amount, "USD")


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        facade.add_dunning_plan(HARD)
        yield facade


def _overdue_account(
    billing: cb.CustomerBilling, amount: int = 100, **fields: object
) -> cb.BillingAccount:
    """An account dunned by HARD with an invoice of *amount* USD due on DUE."""
    values: dict[str, object] = {"dunning_enabled": True, "dunning_plan": "hard", **fields}
    account = billing.create_customer(new_customer(), new_account(**values))[1]
    billing.issue_bill_run(billing.plan_bill_run("m1", RUN, {account.number: usd(amount)}))
    return account


def _status(billing: cb.CustomerBilling, account: cb.BillingAccount) -> cb.AccountStatus:
    return billing.get_account(account.number).status


def test_the_steps_act_in_turn_once_each_and_a_payment_reinstates(
    billing: cb.CustomerBilling, store: Store
) -> None:
    account = _overdue_account(billing)
    assert billing.dunning_state(account.number, DUE).overdue == usd(0)
    assert billing.dunning_due(DUE) == ()
    on = date(2026, 3, 14)  # 11 days overdue
    state = billing.dunning_state(account.number, on)
    assert (state.overdue, state.since, state.days_overdue, state.step) == (usd(100), DUE, 11, 0)
    (due,) = billing.dunning_due(on)
    assert (due.step, due.action, due.text) == (0, cb.DunningAction.NOTIFY, "Reminder email")
    report = billing.run_dunning(on)
    assert [(n.step, n.status) for n in report.applied] == [(0, None)]
    before = dump(store)
    assert billing.run_dunning(on) == cb.DunningReport(as_of=on)  # idempotent
    assert dump(store) == before
    billing.run_dunning(date(2026, 4, 3))  # 31 days: suspended
    assert _status(billing, account) is cb.AccountStatus.SUSPENDED
    billing.run_dunning(date(2026, 5, 3))  # 61 days: in collection (from SUSPENDED)
    assert _status(billing, account) is cb.AccountStatus.PENDING_COLLECTION
    assert [n.step for n in billing.dunning_notices(account.number)] == [0, 1, 2]
    billing.record_payment(account.number, usd(60), date(2026, 5, 4))
    assert _status(billing, account) is cb.AccountStatus.PENDING_COLLECTION  # not cleared
    billing.record_payment(account.number, usd(40), date(2026, 5, 5))
    assert _status(billing, account) is cb.AccountStatus.ACTIVE
    statuses = [c.new for c in billing.history(account.number) if c.field == "status"]
    assert statuses == ["SUSPENDED", "PENDING_COLLECTION", "ACTIVE"]
    assert billing.dunning_due(date(2026, 8, 1)) == ()


def test_a_refused_step_is_reported_and_tried_again_changing_nothing(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """91 days overdue at the first run: the three first steps apply; deactivating an
    account holding a deposit is refused, reported, and refused again the next time."""
    account = _overdue_account(billing)
    billing.record_deposit(account.number, usd(20), RUN)
    on = date(2026, 6, 2)
    report = billing.run_dunning(on)
    assert [n.action for n in report.applied] == [
        cb.DunningAction.NOTIFY,
        cb.DunningAction.SUSPEND,
        cb.DunningAction.PENDING_COLLECTION,
    ]
    (refusal,) = report.refused
    assert refusal.due.step == 3
    assert [v.code for v in refusal.violations] == ["account.deposit_held"]
    assert _status(billing, account) is cb.AccountStatus.PENDING_COLLECTION
    before = dump(store)
    again = billing.run_dunning(on)
    assert (again.applied, len(again.refused)) == ((), 1)
    assert dump(store) == before
    records = again.to_records()
    assert records[0]["refused"] == "account.deposit_held" and records[0]["step"] == 3


def test_a_deposit_applied_clears_the_spell_at_the_next_run(
    billing: cb.CustomerBilling,
) -> None:
    account = _overdue_account(billing)
    billing.record_deposit(account.number, usd(100), RUN)
    billing.run_dunning(date(2026, 4, 3))
    assert _status(billing, account) is cb.AccountStatus.SUSPENDED
    (invoice,) = billing.invoices(account.number)
    billing.apply_deposit(account.number, usd(100), date(2026, 4, 4), invoice.number)
    report = billing.run_dunning(date(2026, 4, 5))
    assert report.reinstated == (account.number,)
    assert _status(billing, account) is cb.AccountStatus.ACTIVE


def test_a_new_spell_is_dunned_from_the_first_step(billing: cb.CustomerBilling) -> None:
    account = _overdue_account(billing)
    billing.run_dunning(date(2026, 3, 14))
    billing.record_payment(account.number, usd(100), date(2026, 3, 15))
    billing.issue_bill_run(billing.plan_bill_run("m1", date(2026, 4, 1), {account.number: usd(5)}))
    (due,) = billing.dunning_due(date(2026, 5, 12))  # 11 days past 2026-05-01
    assert (due.step, due.state.since, due.state.overdue) == (0, date(2026, 5, 1), usd(5))


def test_a_manual_suspension_is_not_undone_by_a_payment(billing: cb.CustomerBilling) -> None:
    account = _overdue_account(billing)
    billing.edit_account(account.number, status=cb.AccountStatus.SUSPENDED)
    billing.record_payment(account.number, usd(100), date(2026, 3, 20))
    assert _status(billing, account) is cb.AccountStatus.SUSPENDED
    assert billing.run_dunning(date(2026, 3, 21)).reinstated == ()


def test_accounts_without_dunning_or_below_a_minimum_are_left_alone(
    billing: cb.CustomerBilling,
) -> None:
    billing.add_dunning_plan(
        cb.DunningPlan(
            id="big",
            name="Big debts",
            steps=(
                cb.DunningStep(days_past_due=1, action="suspend", minimum_overdue=Decimal(500)),
            ),
        )
    )
    plain = billing.create_customer(new_customer(), new_account())[1]
    small = _overdue_account(billing, dunning_plan="big")
    billing.issue_bill_run(billing.plan_bill_run("m1", date(2026, 3, 1), {plain.number: usd(9)}))
    on = date(2026, 6, 1)
    assert billing.dunning_state(plain.number, on).step is None
    assert billing.dunning_state(plain.number, on).overdue == usd(9)
    assert billing.dunning_state(small.number, on).step is None
    assert billing.run_dunning(on) == cb.DunningReport(as_of=on)


def test_a_plan_with_a_bad_step_is_refused(billing: cb.CustomerBilling) -> None:
    bad = cb.DunningPlan(
        id="bad",
        name="Bad",
        steps=(
            cb.DunningStep(days_past_due=-1, action="remind"),
            cb.DunningStep(days_past_due=5, action="suspend", minimum_overdue=Decimal(-1)),
        ),
    )
    with pytest.raises(cb.RuleViolationError) as raised:
        billing.add_dunning_plan(bad)
    assert {v.path for v in raised.value.violations} == {
        "steps[0].days_past_due",
        "steps[1].minimum_overdue",
    }
