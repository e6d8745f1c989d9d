"""Every entity and result type as flat records and an HTML table (pandas is the check)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.model.masking import DATE_OF_BIRTH_MASK
from custbill.model.records import flatten
from custbill.simulation import load_scenario, simulate
from tests.conftest import new_account, new_customer
from tests.strategies import MODEL_STRATEGIES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: What a record's cell may hold: scalars pandas and CSV take as they are.
SCALARS = (str, int, Decimal, date, bool, type(None))

#: Types whose records have columns named by data (custom fields, parameters of a rule).
KEYED_BY_DATA = {
    cb.Customer,
    cb.NewCustomer,
    cb.BillingAccount,
    cb.NewAccount,
    cb.Violation,
    cb.DunningRefusal,
    cb.TerminationRefusal,
    cb.Settings,
}


def _check_records(value: Any) -> list[dict[str, object]]:
    records = value.to_records()
    assert isinstance(records, list)
    for record in records:
        assert isinstance(record, dict)
        for column, cell in record.items():
            assert isinstance(column, str)
            assert isinstance(cell, SCALARS), (type(value).__name__, column, cell)
    frame = pd.DataFrame.from_records(records)
    if records:
        assert list(frame.columns) == list(records[0])
        assert len(frame) == len(records)
    html = value._repr_html_()
    assert html.startswith("<table>") and html.endswith("</table>")
    return records


@pytest.mark.parametrize("kind", sorted(MODEL_STRATEGIES, key=lambda t: t.__name__), ids=str)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_model_type_gives_flat_records(kind: type, data: st.DataObject) -> None:
    first = data.draw(MODEL_STRATEGIES[kind])
    second = data.draw(MODEL_STRATEGIES[kind])
    one, two = _check_records(first), _check_records(second)
    if kind not in KEYED_BY_DATA and one and two:
        # the same columns, whatever the values (but for a second currency, which the
        # strategies mix into one record and custbill's own records never do)
        assert _shared(one[0]) == _shared(two[0])


def _shared(record: dict[str, object]) -> list[str]:
    return [c for c in record if not c.endswith("_currency")]


def test_amounts_are_decimals_with_a_currency_column() -> None:
    payment = cb.Payment(
        number="P-1", account="A-1", amount=Money("12.50", "SEK"), received_on=date(2026, 3, 1)
    )
    (record,) = payment.to_records()
    assert record["amount"] == Decimal("12.50")
    assert record["currency"] == "SEK"
    frame = pd.DataFrame.from_records(cb.to_records([payment, payment]))
    assert frame["amount"].sum() == Decimal("25.00")


def test_value_objects_spread_into_prefixed_columns_even_when_absent() -> None:
    address = cb.Address(line1="1 Main St", city="Springfield", postal_code="62701", country="US")
    with_address = cb.NewCustomer(
        kind=cb.CustomerKind.PERSON, primary_email="a@example.com", billing_address=address
    )
    without = attrs.evolve(with_address, billing_address=None)
    (a,), (b,) = with_address.to_records(), without.to_records()
    assert a["billing_address_city"] == "Springfield"
    assert b["billing_address_city"] is None
    assert list(a) == list(b)


def test_protected_values_are_masked_in_records_and_html() -> None:
    customer = cb.NewCustomer(
        kind=cb.CustomerKind.PERSON,
        primary_email="a@example.com",
        tax_number="123-45-6789",
        date_of_birth=date(1980, 5, 17),
    )
    (record,) = customer.to_records()
    assert record["tax_number"] == "****6789"
    assert record["date_of_birth"] == DATE_OF_BIRTH_MASK
    shown = json.dumps(record, default=str) + customer._repr_html_()
    assert "123-45" not in shown and "1980" not in shown


@pytest.fixture
def billing_with_accounts(billing: cb.CustomerBilling) -> tuple[cb.CustomerBilling, str]:
    customer, _ = billing.create_customer(new_customer(), new_account())
    billing.add_account(customer.number, new_account(currency="SEK"))
    managed = billing.add_account(customer.number, new_account(currency="SEK"))
    billing.add_charge(managed.number, Money("7.25", "SEK"), "setup", on=date(2026, 1, 10))
    return billing, customer.number


def test_a_sequence_of_results_becomes_one_table(
    billing_with_accounts: tuple[cb.CustomerBilling, str],
) -> None:
    billing, customer = billing_with_accounts
    accounts = billing.accounts_of(customer)
    assert isinstance(accounts, tuple)
    frame = pd.DataFrame.from_records(cb.to_records(accounts))
    assert list(frame["number"]) == [a.number for a in accounts]
    assert set(frame["currency"]) == {a.currency for a in accounts}
    summary = billing.customer_summary(customer)
    assert list(pd.DataFrame(summary.to_records())["account"]) == [a.number for a in accounts]


def test_plan_invoices_read_into_pandas_and_json(
    billing_with_accounts: tuple[cb.CustomerBilling, str],
) -> None:
    billing, _ = billing_with_accounts
    plan = billing.plan_bill_run("m1", date(2026, 2, 1))
    frame = pd.DataFrame.from_records(cb.to_records(plan.invoices))
    assert list(frame["billed_account"]) == [i.billed_account for i in plan.invoices]
    assert pd.DataFrame(plan.to_records())["bill_cycle"].eq("m1").all()
    decoded = json.loads(json.dumps(plan.to_records(), default=str))
    assert [r["billed_account"] for r in decoded] == list(frame["billed_account"])


def test_validation_report_is_a_dict_with_rows(
    billing_with_accounts: tuple[cb.CustomerBilling, str],
) -> None:
    billing, customer = billing_with_accounts
    billing.add_custom_field(
        cb.CustomFieldDefinition(
            name="region",
            applies_to=cb.CustomFieldTarget.CUSTOMER,
            type=cb.CustomFieldType.TEXT,
            required=True,
        )
    )
    report = billing.validate_customers()
    assert isinstance(report, dict) and report
    rows = report.to_records()
    assert {r["number"] for r in rows} == {customer}
    assert len(rows) == sum(len(v) for v in report.values())
    assert {r["code"] for r in rows} == set(report)
    assert "<table>" in report._repr_html_()


def test_simulation_results_as_tables() -> None:
    result = simulate(load_scenario(EXAMPLES / "collections.toml"))
    lines = pd.DataFrame.from_records(result.to_records())
    expected = sum(len(m.invoices) for m in result.months)
    assert len(lines) == expected
    assert {"month", "total", "currency", "suppressed"} <= set(lines.columns)
    balances = pd.DataFrame.from_records(result.account_records())
    last = result.months[-1]
    final = balances[balances["month"] == last.month].set_index("account")["balance"]
    assert {n: final[n] for n in last.balances} == {n: b.amount for n, b in last.balances.items()}
    _check_records(result)
    _check_records(last)


def test_flatten_joins_collections() -> None:
    invoice = cb.PlannedInvoice(
        billed_account="A-1",
        accounts=("A-1", "A-2"),
        total=Money("10", "USD"),
        invoice_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        auto_pay_date=None,
        suppressed=False,
        channels=frozenset({cb.Channel.PDF, cb.Channel.EMAIL}),
        recipients=("a@example.com",),
    )
    record = flatten(invoice)
    assert record["accounts"] == "A-1, A-2"
    assert record["channels"] == "EMAIL, PDF"


def test_one_record_shows_its_filled_fields_one_a_row() -> None:
    customer = cb.NewCustomer(
        kind=cb.CustomerKind.COMPANY, company_name="Acme <Brick>", primary_email="a@b.example"
    )
    html = customer._repr_html_()
    assert "<td>company_name</td><td>Acme &lt;Brick&gt;</td>" in html
    assert "billing_address_city" not in html  # empty fields are left out of the view
    assert "billing_address_city" in customer.to_records()[0]  # but not out of the record
