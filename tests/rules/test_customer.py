"""Customer rules, as pure functions over a real in-memory lookup."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custbill as cb
from custbill.rules import check_customer
from custbill.rules._support import countries
from custbill.rules.customer import check_address
from custbill.storage import MemoryStore
from tests.conftest import TODAY, lookup_for, new_customer


def _check(customer: cb.NewCustomer) -> set[tuple[str, str]]:
    with lookup_for(MemoryStore()) as lookup:
        return {(v.code, v.path) for v in check_customer(customer, lookup)}


def test_a_valid_company_and_person_pass() -> None:
    """Complete customers of both kinds have no violations."""
    assert _check(new_customer()) == set()
    assert (
        _check(
            new_customer(
                kind=cb.CustomerKind.PERSON,
                company_name=None,
                first_name="Ada",
                last_name="Lovelace",
                date_of_birth=TODAY,
            )
        )
        == set()
    )


def test_person_needs_both_names() -> None:
    """A PERSON without first and last name has one violation per missing name."""
    assert _check(new_customer(kind=cb.CustomerKind.PERSON, first_name=" ")) == {
        ("customer.name_required", "first_name"),
        ("customer.name_required", "last_name"),
    }


def test_name_is_derived_from_the_kind() -> None:
    """A company shows its company name, a person "First Last"."""
    assert new_customer(first_name="A", last_name="B").name == "Acme Brick"
    person = new_customer(kind=cb.CustomerKind.PERSON, first_name="Ada", last_name="Lovelace")
    assert person.name == "Ada Lovelace"


def test_secondary_emails_are_checked_each() -> None:
    """The path names the bad secondary email's index."""
    assert _check(new_customer(secondary_emails=("ok@a.io", "bad"))) == {
        ("customer.email_invalid", "secondary_emails[1]")
    }


def test_address_parts() -> None:
    """Each missing part of each address is reported at its path."""
    address = cb.Address(line1="", city="Austin", postal_code=" ", country="us")
    assert _check(new_customer(shipping_address=address)) == {
        ("customer.address_invalid", "shipping_address.line1"),
        ("customer.address_invalid", "shipping_address.postal_code"),
        ("customer.address_invalid", "shipping_address.country"),
    }


@pytest.mark.parametrize(
    ("kind", "dob", "codes"),
    [
        (cb.CustomerKind.COMPANY, date(2000, 1, 1), {"customer.date_of_birth_not_personal"}),
        (cb.CustomerKind.PERSON, date(2026, 6, 16), {"customer.date_of_birth_in_future"}),
        (cb.CustomerKind.PERSON, date(2026, 6, 15), set()),
    ],
)
def test_date_of_birth(kind: cb.CustomerKind, dob: date, codes: set[str]) -> None:
    """Only for persons, and not after today."""
    customer = new_customer(kind=kind, first_name="A", last_name="B", date_of_birth=dob)
    assert {code for code, _ in _check(customer)} == codes


def test_erased_customer_accepts_no_change() -> None:
    """Any edit of an erased customer is customer.erased alone."""
    stored = cb.Customer(
        number="C-1",
        default_account="A-1",
        kind=cb.CustomerKind.COMPANY,
        company_name="[erased]",
        primary_email="[erased]",
        erased=True,
    )
    with lookup_for(MemoryStore()) as lookup:
        found = check_customer(stored, lookup, before=stored)
    assert [v.code for v in found] == ["customer.erased"]


_parts = st.sampled_from(["", " ", "\t", "x", " Main St ", "78701"])


@given(_parts, _parts, _parts, st.sampled_from(["US", "SE", "us", "XX", "", " ", "EU"]))
def test_an_address_passes_exactly_when_no_part_is_reported(
    line1: str, city: str, postal_code: str, country: str
) -> None:
    """The one-pass check of a complete address agrees with the part-by-part check."""
    address = cb.Address(line1=line1, city=city, postal_code=postal_code, country=country)
    complete = all(p.strip() for p in (line1, city, postal_code)) and country in countries()
    found = check_address(address, "billing_address")
    assert (found == ()) == complete
    assert {v.params["part"] for v in found} == {
        part
        for part, value in (("line1", line1), ("city", city), ("postal_code", postal_code))
        if not value.strip()
    } | ({"country"} if country not in countries() else set())
