"""Catalog entries are checked when added."""

from __future__ import annotations

from datetime import date

import pytest

import custbill as cb
from custbill.rules import check_catalog_entry
from custbill.storage import MemoryStore
from tests.conftest import lookup_for

START = date(2020, 1, 1)


@pytest.mark.parametrize(
    ("entry", "paths"),
    [
        (
            cb.BillCycle(
                id="", name=" ", period=cb.BillingPeriod.MONTHLY, bill_day=1, start_date=START
            ),
            {"id", "name"},
        ),
        (
            cb.BillCycle(
                id="w", name="w", period=cb.BillingPeriod.WEEKLY, bill_day=0, start_date=START
            ),
            {"bill_day"},
        ),
        (
            cb.BillCycle(
                id="w", name="w", period=cb.BillingPeriod.WEEKLY, bill_day=8, start_date=START
            ),
            {"bill_day"},
        ),
        (
            cb.BillCycle(
                id="m", name="m", period=cb.BillingPeriod.ANNUAL, bill_day=32, start_date=START
            ),
            {"bill_day"},
        ),
        (
            cb.BillCycle(
                id="m",
                name="m",
                period=cb.BillingPeriod.MONTHLY,
                bill_day=31,
                start_date=START,
                currency="XXZ",
            ),
            {"currency"},
        ),
        (cb.PaymentTerm(id="t", name="t", net_days=-1), {"net_days"}),
        (
            cb.DunningPlan(
                id="d",
                name="d",
                steps=(
                    cb.DunningStep(days_past_due=5, action="a"),
                    cb.DunningStep(days_past_due=5, action=""),
                ),
            ),
            {"steps[1].action", "steps[1].days_past_due"},
        ),
        (
            cb.CustomFieldDefinition(
                name="c", applies_to=cb.CustomFieldTarget.ACCOUNT, type=cb.CustomFieldType.CHOICE
            ),
            {"options"},
        ),
        (
            cb.CustomFieldDefinition(
                name="c",
                applies_to=cb.CustomFieldTarget.ACCOUNT,
                type=cb.CustomFieldType.CHOICE,
                options=("a", "a"),
            ),
            {"options"},
        ),
        (
            cb.CustomFieldDefinition(
                name="c",
                applies_to=cb.CustomFieldTarget.ACCOUNT,
                type=cb.CustomFieldType.TEXT,
                options=("a",),
            ),
            {"options"},
        ),
    ],
)
def test_invalid_entries(entry: object, paths: set[str]) -> None:
    """Malformed entries are catalog.invalid at the offending fields."""
    with lookup_for(MemoryStore()) as lookup:
        found = check_catalog_entry(entry, lookup)  # type: ignore[arg-type]
    assert {v.code for v in found} == {"catalog.invalid"}
    assert {v.path for v in found} == paths


@pytest.mark.parametrize("period", list(cb.BillingPeriod))
def test_bill_day_bounds_are_inclusive(period: cb.BillingPeriod) -> None:
    """Day 1 and the period's last day (7 or 31) are valid."""
    high = 7 if period is cb.BillingPeriod.WEEKLY else 31
    with lookup_for(MemoryStore()) as lookup:
        for day in (1, high):
            cycle = cb.BillCycle(id="c", name="c", period=period, bill_day=day, start_date=START)
            assert check_catalog_entry(cycle, lookup) == ()


def test_ids_are_unique_per_kind() -> None:
    """The same id may be used by entries of different kinds, not twice in one kind."""
    billing = cb.CustomerBilling()
    billing.add_payment_term(cb.PaymentTerm(id="x", name="x", net_days=1))
    billing.add_account_category(cb.AccountCategory(id="x", name="x"))
    field = cb.CustomFieldDefinition(
        name="x", applies_to=cb.CustomFieldTarget.ACCOUNT, type=cb.CustomFieldType.TEXT
    )
    billing.add_custom_field(field)
    billing.add_custom_field(
        cb.CustomFieldDefinition(
            name="x", applies_to=cb.CustomFieldTarget.CUSTOMER, type=cb.CustomFieldType.TEXT
        )
    )
    for add in (
        lambda: billing.add_payment_term(cb.PaymentTerm(id="x", name="y", net_days=2)),
        lambda: billing.add_custom_field(field),
    ):
        with pytest.raises(cb.RuleViolationError) as info:
            add()
        assert info.value.codes == {"catalog.id_taken"}
    assert [t.id for t in billing.catalog(cb.PaymentTerm)] == ["x"]
    assert len(billing.custom_fields(cb.CustomFieldTarget.ACCOUNT)) == 1
