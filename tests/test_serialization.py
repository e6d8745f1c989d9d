"""Serialisation: exact round-trips of every model type, strict reading with paths."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.serialization import from_dict, from_json, to_dict, to_json
from tests.strategies import MODEL_STRATEGIES


def test_every_exported_model_type_has_a_strategy() -> None:
    """No attrs class exported by custbill escapes the round-trip property."""
    exported = {getattr(cb, n) for n in cb.__all__}
    model_types = {
        t
        for t in exported
        if isinstance(t, type) and attrs.has(t) and t.__module__.startswith("custbill.model")
    }
    assert model_types == set(MODEL_STRATEGIES)


@pytest.mark.parametrize("cls", list(MODEL_STRATEGIES), ids=lambda c: c.__name__)
@given(data=st.data())
def test_round_trip(cls: type, data: st.DataObject) -> None:
    """to_json then from_json gives back an equal object, with equal field types."""
    obj = data.draw(MODEL_STRATEGIES[cls])
    text = to_json(obj)
    back = from_json(cls, text)
    assert back == obj
    assert to_json(back) == text
    for field in attrs.fields(cls):
        assert type(getattr(back, field.name)) is type(getattr(obj, field.name)) or (
            field.name == "custom_fields"
        )
    assert from_dict(cls, json.loads(text)) == obj


def _account() -> cb.BillingAccount:
    return cb.BillingAccount(
        number="A-1",
        customer="C-1",
        currency="USD",
        bill_cycle="m1",
        start_date=date(2026, 1, 1),
        category="corp",
        payment_term="net30",
        invoice_type=cb.InvoiceType.EMAIL,
        minimum_invoice_amount=Money("10.50", "USD"),
        contacts=(cb.Contact(name="Bob"),),
    )


def test_money_dates_and_custom_values_are_explicit() -> None:
    """Amounts are strings with their currency; custom values carry their type."""
    from decimal import Decimal

    account = attrs.evolve(
        _account(),
        custom_fields={"text": "2026-01-01", "number": Decimal("1.50"), "date": date(2026, 1, 1)},
    )
    data = to_dict(account)
    assert data["minimum_invoice_amount"] == {"amount": "10.50", "currency": "USD"}
    assert data["start_date"] == "2026-01-01"
    assert data["custom_fields"] == {
        "text": "2026-01-01",
        "number": {"number": "1.50"},
        "date": {"date": "2026-01-01"},
    }
    assert from_dict(cb.BillingAccount, data).custom_fields == account.custom_fields


def test_derived_name_is_not_written() -> None:
    """Customer.name is derived, so it is neither written nor accepted."""
    customer = cb.Customer(
        number="C-1",
        default_account="A-1",
        kind=cb.CustomerKind.COMPANY,
        company_name="Acme",
        primary_email="a@acme.example",
    )
    data = to_dict(customer)
    assert "name" not in data
    with pytest.raises(cb.InvalidDataError, match="unknown field"):
        from_dict(cb.Customer, {**data, "name": "Other"})


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"surprise": 1}, "$"),
        ({"currency": 5}, "$.currency"),
        ({"start_date": "2026-13-01"}, "$.start_date"),
        ({"start_date": "2026-01-01T00:00:00"}, "$.start_date"),
        ({"invoice_type": "FAX"}, "$.invoice_type"),
        ({"taxable": 1}, "$.taxable"),
        ({"version": True}, "$.version"),
        ({"version": "2"}, "$.version"),
        ({"payment_methods": "tok"}, "$.payment_methods"),
        ({"contacts": [{"name": 3}]}, "$.contacts[0].name"),
        ({"contacts": [{"name": "x", "cvv": "123"}]}, "$.contacts[0]"),
        (
            {"minimum_invoice_amount": {"amount": "x", "currency": "USD"}},
            "$.minimum_invoice_amount",
        ),
        (
            {"minimum_invoice_amount": {"amount": "NaN", "currency": "USD"}},
            "$.minimum_invoice_amount",
        ),
        (
            {"minimum_invoice_amount": {"amount": "1", "currency": "XYZ"}},
            "$.minimum_invoice_amount",
        ),
        ({"minimum_invoice_amount": 10.5}, "$.minimum_invoice_amount"),
        ({"custom_fields": {"x": 5}}, "$.custom_fields"),
        ({"custom_fields": {"x": {"when": "2026-01-01"}}}, "$.custom_fields"),
    ],
)
def test_bad_data_names_the_path(change: dict[str, Any], path: str) -> None:
    """Each bad field raises InvalidDataError naming its path."""
    data = {**to_dict(_account()), **change}
    with pytest.raises(cb.InvalidDataError) as info:
        from_dict(cb.BillingAccount, data)
    assert isinstance(info.value, ValueError)
    assert any(e.endswith(f"@ {path}") for e in info.value.errors), info.value.errors


def test_every_bad_field_is_reported_and_missing_ones_too() -> None:
    """All bad fields of one document are listed together."""
    data = to_dict(_account())
    del data["bill_cycle"]
    data.update(currency=1, taxable="no")
    with pytest.raises(cb.InvalidDataError) as info:
        from_dict(cb.BillingAccount, data)
    paths = {e.rsplit(" @ ", 1)[1] for e in info.value.errors}
    assert paths == {"$.bill_cycle", "$.currency", "$.taxable"}


@pytest.mark.parametrize("text", ["", "{", "[]", "null", "3"])
def test_not_an_object(text: str) -> None:
    """Malformed JSON and non-objects are InvalidDataError, not a JSON or cattrs error."""
    with pytest.raises(cb.InvalidDataError):
        from_json(cb.Settings, text)


def test_wrong_python_types_are_type_errors() -> None:
    """Passing something that is not a model object or class is a TypeError."""
    with pytest.raises(TypeError):
        to_dict({"a": 1})
    with pytest.raises(TypeError):
        from_dict(dict, {})  # type: ignore[type-var]


@pytest.mark.parametrize("cls", list(MODEL_STRATEGIES), ids=lambda c: c.__name__)
@given(data=st.data())
def test_compact_round_trip(cls: type, data: st.DataObject) -> None:
    """The stores' compact JSON, which leaves out defaults, reads back exactly."""
    from custbill.serialization import to_compact_json

    obj = data.draw(MODEL_STRATEGIES[cls])
    text = to_compact_json(obj)
    assert from_json(cls, text) == obj
    assert len(text) <= len(to_json(obj))
