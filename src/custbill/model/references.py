"""Catalog entries accounts and customers refer to by id: contract types, invoice and web
templates, salespeople, rate plans and features (the hosting platform's and the reseller
portal's reference data), and customer types.  An account naming an id the catalog lacks is
refused (``account.reference_unknown``), as is a customer (``customer.reference_unknown``).
"""

from __future__ import annotations

from typing import TypeVar

import attrs

from custbill.model._typecheck import check_fields
from custbill.model.catalog import AccountCategory, BillCycle, DunningPlan, PaymentTerm
from custbill.model.enums import PaymentMode
from custbill.model.records import Tabular


@attrs.frozen(kw_only=True)
class ContractType(Tabular):
    """A kind of contract an account is held under (e.g. "12 months", "Rolling")."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class InvoiceTemplate(Tabular):
    """The layout an account's invoices are rendered with."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class WebTemplate(Tabular):
    """The look of the self-service pages an account's users see."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class Salesperson(Tabular):
    """Who sold the account (for commission and contact); ``email`` optional."""

    id: str
    name: str
    email: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class RatePlan(Tabular):
    """A priced offer an account subscribes to (the reseller portal's rate plan)."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class Feature(Tabular):
    """A chargeable feature an account may have (an extension, a number, a mailbox)."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class CustomerType(Tabular):
    """A kind of customer and what its accounts may use: the reseller portal's Normal and
    Residential, the telecom module's Corporate, or any type a host defines.

    ``features``, ``rate_plans`` and ``payment_modes`` list what the accounts of a
    customer of the type may have; None allows any.  ``links_across_customers`` says
    whether accounts of other customers may be linked under this customer's accounts
    (the telecom module shows linked accounts on corporate accounts only).
    """

    id: str
    name: str
    features: tuple[str, ...] | None = None
    rate_plans: tuple[str, ...] | None = None
    payment_modes: tuple[PaymentMode, ...] | None = None
    links_across_customers: bool = True

    def __attrs_post_init__(self) -> None:
        check_fields(self)


#: The kinds of reference an account may name, by the account's field.
REFERENCE_FIELDS: dict[str, type] = {
    "contract_type": ContractType,
    "invoice_template": InvoiceTemplate,
    "web_template": WebTemplate,
    "salesperson": Salesperson,
    "rate_plan": RatePlan,
}

#: Any entry of the catalog stored by id (the custom field definitions, stored by target and
#: name, are apart).
CatalogItem = (
    BillCycle
    | PaymentTerm
    | AccountCategory
    | DunningPlan
    | ContractType
    | InvoiceTemplate
    | WebTemplate
    | Salesperson
    | RatePlan
    | Feature
    | CustomerType
)
#: A kind of catalog entry, for the calls typed by the kind they are given.
CatalogKind = TypeVar(
    "CatalogKind",
    BillCycle,
    PaymentTerm,
    AccountCategory,
    DunningPlan,
    ContractType,
    InvoiceTemplate,
    WebTemplate,
    Salesperson,
    RatePlan,
    Feature,
    CustomerType,
)
