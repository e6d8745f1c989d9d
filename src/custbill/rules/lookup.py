"""The read-only view of stored data that rules consult."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from custbill.model import (
    AccountCategory,
    BillCycle,
    BillingAccount,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    DunningPlan,
    PaymentTerm,
    Settings,
)
from custbill.model.enums import Hierarchy
from custbill.model.references import CatalogKind


class Lookup(Protocol):
    """What rules may ask of the data they are checked against.

    A unit of work of every store implements it; tests can pass any object that does.
    """

    @property
    def settings(self) -> Settings:
        """The tenant's current settings."""
        ...

    @property
    def today(self) -> date:
        """The date rules treat as today (e.g. for "date of birth in the future")."""
        ...

    def customer(self, number: str) -> Customer | None:
        """The customer with this number, if any."""
        ...

    def account(self, number: str) -> BillingAccount | None:
        """The account with this number, if any."""
        ...

    def customer_with_external_number(self, external_number: str) -> str | None:
        """Number of the customer holding this external number, if any."""
        ...

    def account_with_external_number(self, external_number: str) -> str | None:
        """Number of the account holding this external number, if any."""
        ...

    def customers_named(self, name: str) -> tuple[str, ...]:
        """Numbers of the customers whose name equals *name*, ignoring case."""
        ...

    def accounts_of(self, customer: str) -> tuple[str, ...]:
        """Numbers of the customer's accounts."""
        ...

    def in_chain(self, number: str, start: str, hierarchy: Hierarchy) -> bool:
        """True when *number* is *start* or above it in the hierarchy."""
        ...

    def managed_accounts(self, number: str) -> tuple[str, ...]:
        """Numbers of the accounts whose responsible account is *number*."""
        ...

    def child_accounts(self, number: str) -> tuple[str, ...]:
        """Numbers of the accounts whose parent account is *number*."""
        ...

    def bill_cycle(self, id: str) -> BillCycle | None:
        """The bill cycle with this id, if any."""
        ...

    def payment_term(self, id: str) -> PaymentTerm | None:
        """The payment term with this id, if any."""
        ...

    def account_category(self, id: str) -> AccountCategory | None:
        """The account category with this id, if any."""
        ...

    def dunning_plan(self, id: str) -> DunningPlan | None:
        """The dunning plan with this id, if any."""
        ...

    def reference(self, kind: type[CatalogKind], id: str) -> CatalogKind | None:
        """The catalog entry of *kind* with this id, if any (any kind of
        :data:`~custbill.model.references.CatalogItem`)."""
        ...

    def custom_field_definitions(
        self, target: CustomFieldTarget
    ) -> tuple[CustomFieldDefinition, ...]:
        """The custom fields defined on customers or on accounts."""
        ...
