"""The model: frozen value objects with field-level type checks and masked secrets."""

from __future__ import annotations

import copy
import pickle
from datetime import date, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import custbill as cb
from tests.conftest import new_account, new_customer
from tests.strategies import MODEL_STRATEGIES


def test_objects_are_frozen_and_hashable() -> None:
    """Model objects cannot be changed in place and can be used as keys."""
    customer = new_customer(custom_fields={"a": "b"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        customer.company_name = "x"  # type: ignore[misc]
    assert hash(customer) == hash(new_customer(custom_fields={"a": "b"}))


def test_custom_fields_are_copied_and_read_only() -> None:
    """The mapping given is copied into a read-only view."""
    values: dict[str, cb.model.CustomValue] = {"a": "b"}
    customer = new_customer(custom_fields=values)
    values["a"] = "changed"
    assert customer.custom_fields["a"] == "b"
    with pytest.raises(TypeError):
        customer.custom_fields["a"] = "c"  # type: ignore[index]


def test_lists_become_tuples() -> None:
    """Sequences given as lists are stored as tuples."""
    phone = cb.Phone(type=cb.PhoneType.HOME, number="5550100")
    customer = new_customer(phones=[phone], secondary_emails=["a@b.io"])
    assert customer.phones == (phone,) and customer.secondary_emails == ("a@b.io",)
    settings = cb.Settings(distribute_invoice_contact_categories={"billing"})
    assert settings.distribute_invoice_contact_categories == frozenset({"billing"})


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "COMPANY"},
        {"primary_email": None},
        {"tax_id_validated": 1},
        {"phones": ("555",)},
        {"date_of_birth": datetime(2000, 1, 1)},
        {"custom_fields": {"a": 1.5}},
        {"custom_fields": {1: "a"}},
    ],
)
def test_wrong_types_are_type_errors(changes: dict[str, object]) -> None:
    """A field of the wrong Python type raises TypeError naming class and field."""
    field = next(iter(changes))
    with pytest.raises(TypeError, match=f"NewCustomer.{field}"):
        new_customer(**changes)


def test_ints_are_not_bools() -> None:
    """A bool is not accepted for an int field."""
    with pytest.raises(TypeError, match="auto_pay_offset_days"):
        new_account(auto_pay_offset_days=True)


def test_invoice_currency_defaults_to_currency() -> None:
    """NewAccount.invoice_currency is the currency unless given."""
    assert new_account(currency="SEK").invoice_currency == "SEK"
    assert new_account(currency="SEK", invoice_currency="EUR").invoice_currency == "EUR"


def test_custom_values_of_each_type() -> None:
    """Text, Decimal and date values are accepted."""
    customer = new_customer(custom_fields={"t": "x", "n": Decimal("1.5"), "d": date(2026, 1, 1)})
    assert set(customer.custom_fields) == {"t", "n", "d"}


def test_repr_masks_protected_fields() -> None:
    """repr shows the tax number's last four characters only, and never the birth date."""
    person = new_customer(
        kind=cb.CustomerKind.PERSON,
        first_name="A",
        last_name="B",
        tax_number="AB1234567",
        date_of_birth=date(1990, 3, 4),
    )
    text = repr(person) + str(person)
    assert "****4567" in text and "AB12" not in text
    assert "1990" not in text and "[protected]" in text
    assert repr(new_customer(tax_number="123")).count("'****'") == 1


@pytest.mark.parametrize("cls", sorted(MODEL_STRATEGIES, key=lambda c: c.__name__))
@given(data=st.data())
def test_every_model_type_pickles_and_copies(cls: type, data: st.DataObject) -> None:
    """Any model object (custom fields included) survives pickling and deep copies, so it
    can cross to another process or be copied in a notebook."""
    value = data.draw(MODEL_STRATEGIES[cls])
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.deepcopy(value) == value
