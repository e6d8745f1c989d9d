"""Catalog entries accounts refer to by id: contract types, invoice and web templates,
salespeople and rate plans (the hosting platform's and the reseller portal's reference
data).  An account naming an id the catalog lacks is refused (``account.reference_unknown``).
"""

from __future__ import annotations

import attrs

from custbill.model._typecheck import check_fields


@attrs.frozen(kw_only=True)
class ContractType:
    """A kind of contract an account is held under (e.g. "12 months", "Rolling")."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class InvoiceTemplate:
    """The layout an account's invoices are rendered with."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class WebTemplate:
    """The look of the self-service pages an account's users see."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class Salesperson:
    """Who sold the account (for commission and contact); ``email`` optional."""

    id: str
    name: str
    email: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class RatePlan:
    """A priced offer an account subscribes to (the reseller portal's rate plan)."""

    id: str
    name: str

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
