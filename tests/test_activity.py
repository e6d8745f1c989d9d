"""The activity log with actors, through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from moneyed import Money

import custbill as cb
from custbill.storage import Store
from tests.conftest import ALL_ON, add_catalog, fixed_clock, new_account, new_customer

JULY = date(2026, 7, 1)


def usd(amount: int) -> Money:
    return Money(amount, "USD")


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with cb.CustomerBilling(
        store=store, settings=ALL_ON, clock=fixed_clock, actor="billing-service"
    ) as facade:
        add_catalog(facade)
        yield facade


def test_every_change_names_its_actor_and_reason(billing: cb.CustomerBilling) -> None:
    customer, account = billing.create_customer(new_customer(), new_account())
    ann = billing.acting("ann", reason="ticket 4411")
    ann.edit_account(account.number, auto_pay=True, payment_methods=_card())
    with billing.batch():
        billing.acting("bob").edit_customer(customer.number, tax_number="123-45-6789")
    changes = billing.history(account.number)
    assert [(c.field, c.actor, c.reason) for c in changes] == [
        ("created", "billing-service", None),
        ("auto_pay", "ann", "ticket 4411"),
        ("payment_methods", "ann", "ticket 4411"),
    ]
    (taxed,) = [c for c in billing.history(customer.number) if c.field == "tax_number"]
    assert taxed.actor == "bob" and "123-45-6789" not in str(taxed.new)


def test_activity_lists_everything_in_order_with_amounts(billing: cb.CustomerBilling) -> None:
    _, account = billing.create_customer(new_customer(), new_account())
    number = account.number
    clerk = billing.acting("clerk")
    note = clerk.add_note(number, "Called.", author="clerk")
    charge = clerk.add_charge(number, usd(12), "Installation", on=date(2026, 6, 20))
    (invoice,) = billing.issue_bill_run(billing.plan_bill_run("m1", JULY))
    payment = clerk.record_payment(number, usd(10), date(2026, 7, 3), "wire 9")
    adjustment = clerk.record_adjustment(
        number, cb.AdjustmentKind.CREDIT, usd(2), date(2026, 7, 4), "goodwill"
    )
    deposit = clerk.record_deposit(number, usd(50), date(2026, 7, 5))
    clerk.edit_account(number, status=cb.AccountStatus.SUSPENDED)
    lines = billing.activity(number)
    events = [(a.kind, a.record, a.amount) for a in lines if a.record]
    assert events == [  # (the tests' clock stands at 2026-06-15, 12:00)
        ("note", note.number, None),
        ("charge", charge.number, usd(12)),
        ("payment", payment.number, usd(10)),
        ("adjustment", adjustment.number, usd(2)),
        ("deposit", deposit.number, usd(50)),
        ("invoice", invoice.number, usd(12)),  # placed at the start of 2026-07-01
    ]
    kinds = [a.kind for a in lines]
    assert kinds[0] == "created" and kinds[-2:] == ["status", "invoice"]
    by_record = {a.record: a for a in lines if a.record}
    assert by_record[adjustment.number].detail == "CREDIT: goodwill"
    assert by_record[charge.number].actor == "clerk"
    assert by_record[invoice.number].actor is None
    assert [c.field for c in billing.history(number)] == ["created", "status"]


def test_dunning_termination_and_erasure_are_in_the_activity(billing: cb.CustomerBilling) -> None:
    customer, account = billing.create_customer(
        new_customer(),
        new_account(dunning_enabled=True, dunning_plan="std", end_date=date(2026, 7, 20)),
    )
    billing.issue_bill_run(billing.plan_bill_run("m1", JULY, {account.number: usd(30)}))
    billing.acting("collections").run_dunning(date(2026, 8, 15))  # 15 days: the reminder
    billing.issue_bill_run(billing.plan_bill_run("m1", date(2026, 8, 1)))
    billing.terminate_ended(date(2026, 8, 16))
    billing.acting("dpo", reason="erasure request").erase_customer(customer.number)
    lines = billing.activity(account.number)
    dunning = [a for a in lines if a.kind == "dunning"]
    assert [(a.actor, a.detail, a.amount) for a in dunning] == [("collections", "remind", usd(30))]
    (ended,) = [a for a in lines if a.kind == "status"]
    assert (ended.new, ended.reason) == ("DEACTIVATED", "ended on 2026-07-20")
    (erased,) = [a for a in billing.activity(customer.number) if a.kind == "erased"]
    assert (erased.actor, erased.reason) == ("dpo", "erasure request")


def test_an_actor_is_text_that_is_not_blank(billing: cb.CustomerBilling) -> None:
    with pytest.raises(TypeError, match="actor"):
        billing.acting(42)  # type: ignore[arg-type]
    cases = {
        "activity.actor_required": ("  ", None),
        "activity.reason_required": ("ann", ""),
        "text.card_number": ("ann", "card 4111 1111 1111 1111"),
        "limit.text_too_long": ("a" * 1001, None),
    }
    for code, (actor, reason) in cases.items():
        with pytest.raises(cb.RuleViolationError) as raised:
            billing.acting(actor, reason=reason)
        assert raised.value.codes == {code}
    assert billing.acting(None).acting("x") is not billing


def _card() -> tuple[cb.PaymentMethod, ...]:
    return (cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="tok"),)
