"""Account rules, as pure functions over a real in-memory lookup."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from moneyed import Money

import custbill as cb
from custbill.rules import check_account
from custbill.storage import MemoryStore
from tests.conftest import ALL_ON, add_catalog, lookup_for, new_account, new_customer


@pytest.fixture(scope="module")
def catalog_store() -> MemoryStore:
    store = MemoryStore()
    add_catalog(cb.CustomerBilling(store=store, settings=ALL_ON))
    return store


def _check(
    store: MemoryStore, customer: cb.NewCustomer | None = None, **changes: Any
) -> set[tuple[str, str]]:
    with lookup_for(store) as lookup:
        found = check_account(new_account(**changes), customer or new_customer(), lookup)
    return {(v.code, v.path) for v in found}


def test_valid_account(catalog_store: MemoryStore) -> None:
    """The standard account has no violations, with every optional part filled in."""
    assert (
        _check(
            catalog_store,
            dunning_enabled=True,
            dunning_plan="std",
            auto_pay=True,
            payment_methods=(
                cb.PaymentMethod(
                    kind=cb.PaymentMethodKind.CARD, token="tok_1", last4="4242", expiry="12/29"
                ),
            ),
            minimum_invoice_amount=Money(0, "USD"),
            credit_limit=Money(5, "USD"),
            invoice_type=cb.InvoiceType.PAPER_AND_EMAIL,
            contacts=(cb.Contact(name="Bob", email="bob@a.io"),),
        )
        == set()
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"invoice_currency": "ABC"}, {("account.currency_unknown", "invoice_currency")}),
        (
            {"payment_term": "x", "category": "y", "dunning_plan": "z"},
            {
                ("account.reference_unknown", "payment_term"),
                ("account.reference_unknown", "category"),
                ("account.reference_unknown", "dunning_plan"),
            },
        ),
        (
            {"minimum_invoice_amount": Money(5, "EUR")},
            {("account.minimum_invoice_invalid", "minimum_invoice_amount")},
        ),
        ({"invoice_currency": "EUR", "minimum_invoice_amount": Money(5, "EUR")}, set()),
        ({"credit_limit": Money(-1, "USD")}, {("account.credit_limit_invalid", "credit_limit")}),
        (
            {
                "payment_methods": (
                    cb.PaymentMethod(
                        kind=cb.PaymentMethodKind.CARD, token=" ", last4="42", expiry="13/29"
                    ),
                )
            },
            {
                ("account.payment_method_invalid", "payment_methods[0].token"),
                ("account.payment_method_invalid", "payment_methods[0].last4"),
                ("account.payment_method_invalid", "payment_methods[0].expiry"),
            },
        ),
        (
            {"contacts": (cb.Contact(name="A"), cb.Contact(name="B", email="nope"))},
            {("account.contact_invalid", "contacts[1].email")},
        ),
        (
            {"invoice_rendering": cb.InvoiceRendering.AGGREGATED},
            {("account.invoice_rendering_requires_managed_accounts", "invoice_rendering")},
        ),
        ({"start_date": date(2020, 1, 1)}, set()),
    ],
)
def test_account_rules(
    catalog_store: MemoryStore, changes: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    """Each case gives exactly the expected (code, path) pairs."""
    assert _check(catalog_store, **changes) == expected


def test_delivery_needs_what_the_invoice_type_uses(catalog_store: MemoryStore) -> None:
    """PAPER_AND_EMAIL needs both the billing address and the primary email."""
    bare = new_customer(billing_address=None, primary_email="")
    assert _check(catalog_store, bare, invoice_type=cb.InvoiceType.PAPER_AND_EMAIL) >= {
        ("account.paper_invoice_requires_billing_address", "invoice_type"),
        ("account.email_invoice_requires_primary_email", "invoice_type"),
    }
    assert ("account.paper_invoice_requires_billing_address", "invoice_type") not in _check(
        catalog_store, bare, invoice_type=cb.InvoiceType.NONE
    )


def test_removing_the_billing_address_of_a_paper_customer_is_refused() -> None:
    """Editing the customer re-checks the delivery of its accounts."""
    billing = cb.CustomerBilling(settings=ALL_ON)
    add_catalog(billing)
    customer, _ = billing.create_customer(
        new_customer(), new_account(invoice_type=cb.InvoiceType.PAPER)
    )
    with pytest.raises(cb.RuleViolationError) as info:
        billing.edit_customer(customer.number, billing_address=None)
    assert info.value.codes == {"account.paper_invoice_requires_billing_address"}
