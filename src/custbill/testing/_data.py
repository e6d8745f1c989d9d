"""The data the contract tests share: settings, catalog, inputs, records, and a dump of
everything a store holds."""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from moneyed import Money

from custbill.model import (
    AccountCategory,
    BillCycle,
    BillingAccount,
    BillingPeriod,
    Change,
    Customer,
    CustomerKind,
    CustomFieldDefinition,
    CustomFieldTarget,
    CustomFieldType,
    DunningPlan,
    DunningStep,
    InvoiceType,
    NewAccount,
    NewCustomer,
    PaymentTerm,
    Settings,
)
from custbill.service import CustomerBilling
from custbill.storage.protocols import CatalogItem, Store

#: Settings with every capability on, used by the facade-level contract tests.
ALL_ON = Settings(
    allow_multi_customer_accounts=True,
    enable_responsible_account_management=True,
    enable_account_hierarchy_management=True,
    overall_invoice_distribution=frozenset(InvoiceType),
)
#: The start of the contract's bill cycles and accounts.
START = date(2020, 1, 1)
#: The contract's catalog: two monthly cycles, a payment term, a category, a dunning plan.
CATALOG = (
    BillCycle(
        id="m1", name="Monthly 1st", period=BillingPeriod.MONTHLY, bill_day=1, start_date=START
    ),
    BillCycle(
        id="m15", name="Monthly 15th", period=BillingPeriod.MONTHLY, bill_day=15, start_date=START
    ),
    PaymentTerm(id="net30", name="Net 30", net_days=30),
    AccountCategory(id="corp", name="Corporate"),
    DunningPlan(id="std", name="Standard", steps=(DunningStep(days_past_due=10, action="remind"),)),
)


def usd(amount: int) -> Money:
    """*amount* US dollars."""
    return Money(amount, "USD")


def new_customer(name: str = "Acme Brick", **fields: Any) -> NewCustomer:
    """A valid company customer."""
    return NewCustomer(
        kind=CustomerKind.COMPANY, company_name=name, primary_email="ap@acme.example", **fields
    )


#: The fields of the contract's usual account: USD, on cycle ``m1``.
ACCOUNT_FIELDS: dict[str, Any] = {
    "currency": "USD",
    "bill_cycle": "m1",
    "start_date": START,
    "category": "corp",
    "payment_term": "net30",
    "invoice_type": InvoiceType.EMAIL,
}


def new_account(**fields: Any) -> NewAccount:
    """A valid USD account on cycle ``m1``."""
    return NewAccount(**{**ACCOUNT_FIELDS, **fields})


def facade_for(store: Store, *, clock: Callable[[], datetime] | None = None) -> CustomerBilling:
    """A facade on *store* (with *clock*, when given) with every capability on and the
    contract's catalog."""
    billing = CustomerBilling(store=store, settings=ALL_ON, clock=clock)
    billing.add_bill_cycle(CATALOG[0])
    billing.add_bill_cycle(CATALOG[1])
    billing.add_payment_term(CATALOG[2])
    billing.add_account_category(CATALOG[3])
    billing.add_dunning_plan(CATALOG[4])
    return billing


def dump(store: Store) -> dict[str, Any]:
    """Everything a store holds, read through the protocols: equal dumps, equal stores."""
    with store.unit_of_work() as uow:
        customers = list(uow.customers.all())
        accounts = list(uow.accounts.all())
        numbers = [c.number for c in customers] + [a.number for a in accounts]
        return {
            "customers": customers,
            "accounts": accounts,
            "indexes": {
                a.number: (
                    uow.accounts.managed_by(a.number),
                    uow.accounts.children_of(a.number),
                    uow.accounts.with_external_number(a.external_number)
                    if a.external_number
                    else None,
                )
                for a in accounts
            },
            "of_customer": {c.number: uow.accounts.of_customer(c.number) for c in customers},
            "catalog": [uow.catalog.all(kind) for kind in typing.get_args(CatalogItem)],
            "custom_fields": [uow.catalog.custom_fields(t) for t in CustomFieldTarget],
            "settings": uow.settings.get(),
            "history": {n: uow.history.of(n) for n in numbers},
            "notes": {n: uow.notes.of(n) for n in numbers},
            "ledger": {
                a.number: (
                    uow.ledger.invoices_of(a.number),
                    uow.ledger.payments_of(a.number),
                    uow.ledger.adjustments_of(a.number),
                    uow.ledger.deposits_of(a.number),
                    uow.ledger.charges_of(a.number),
                    uow.ledger.dunning_notices_of(a.number),
                    uow.ledger.pending(a.number),
                )
                for a in accounts
            },
            "pending_charges": uow.ledger.pending_charges(),
        }


def customer_record(number: str = "C-1", **fields: Any) -> Customer:
    """A stored company customer, as the repositories take it."""
    values: dict[str, Any] = {
        "kind": CustomerKind.COMPANY,
        "company_name": "Acme Brick",
        "primary_email": "a@acme.example",
        "default_account": "A-1",
    }
    return Customer(number=number, **{**values, **fields})


def account_record(number: str = "A-1", **fields: Any) -> BillingAccount:
    """A stored account of customer ``C-1``, as the repositories take it."""
    return BillingAccount(number=number, **{**ACCOUNT_FIELDS, "customer": "C-1", **fields})


def created(number: str) -> Change:
    """The history entry of *number*'s creation."""
    return Change(
        at=datetime(2026, 1, 1, tzinfo=UTC), number=number, field="created", old=None, new=None
    )


#: A custom field the contract defines.
CUSTOM_FIELD = CustomFieldDefinition(
    name="region", applies_to=CustomFieldTarget.CUSTOMER, type=CustomFieldType.TEXT
)
