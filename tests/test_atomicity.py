"""Property: whatever is asked of the facade, it either happens completely or the store is
exactly as before."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custbill as cb
from custbill.storage import MemoryStore
from tests import strategies as s
from tests.conftest import ALL_ON, add_catalog, new_account, new_customer, snapshot

_EDITABLE_ACCOUNT = {
    "external_number": st.none() | s.text,
    "status": st.sampled_from(cb.AccountStatus),
    "bill_cycle": st.sampled_from(["m1", "m15", "usd", "nope"]),
    "invoice_currency": st.sampled_from(["USD", "EUR", "ABC"]),
    "responsible_account": st.none() | st.sampled_from(["A-000001", "A-000002", "A-000003"]),
    "parent_account": st.none() | st.sampled_from(["A-000001", "A-000002", "A-000003"]),
    "invoice_rendering": st.none() | st.sampled_from(cb.InvoiceRendering),
    "minimum_invoice_amount": st.none() | s.money,
    "preferred_language": st.sampled_from(["en_US", "sv_SE", "zz"]),
    "contacts": st.lists(s.contacts, max_size=2).map(tuple),
    "auto_pay": st.booleans(),
    "currency": st.sampled_from(["USD", "EUR"]),
}


def _populated() -> tuple[MemoryStore, cb.CustomerBilling]:
    store = MemoryStore()
    billing = cb.CustomerBilling(store=store, settings=ALL_ON)
    add_catalog(billing)
    customer, top = billing.create_customer(new_customer(), new_account())
    billing.add_account(customer.number, new_account(responsible_account=top.number))
    billing.create_customer(new_customer(company_name="Other"), new_account())
    return store, billing


def _attempt(store: MemoryStore, operation: Any) -> object | None:
    before = snapshot(store)
    try:
        return operation()
    except cb.RuleViolationError as error:
        assert error.violations
        assert snapshot(store) == before
        return None


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(customer=s.new_customers, account=s.new_accounts)
def test_create_customer_is_all_or_nothing(
    customer: cb.NewCustomer, account: cb.NewAccount
) -> None:
    """Random (mostly invalid) customers either are stored whole or change nothing."""
    store, billing = _populated()
    created = _attempt(store, lambda: billing.create_customer(customer, account))
    if created is not None:
        stored_customer, stored_account = created  # type: ignore[misc]
        assert billing.get_customer(stored_customer.number) == stored_customer
        assert billing.accounts_of(stored_customer.number) == (stored_account,)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    changes=st.fixed_dictionaries({}, optional=_EDITABLE_ACCOUNT),
    number=st.sampled_from(["A-000001", "A-000002", "A-000003"]),
)
def test_edit_account_is_all_or_nothing(changes: dict[str, Any], number: str) -> None:
    """Random edits either apply exactly, with version + 1, or change nothing."""
    store, billing = _populated()
    before = billing.get_account(number)
    edited = _attempt(store, lambda: billing.edit_account(number, **changes))
    if edited is not None:
        after = billing.get_account(number)
        assert after == edited
        for field, value in changes.items():
            assert getattr(after, field) == value
        assert after.version in (before.version, before.version + 1)
