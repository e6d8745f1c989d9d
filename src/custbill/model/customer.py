"""Customers: who is billed, and what their billing accounts share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import attrs

from custbill.model._typecheck import check_fields
from custbill.model.enums import CustomerKind
from custbill.model.masking import repr_date_of_birth, repr_tax_number
from custbill.model.records import Tabular
from custbill.model.values import Address, Phone

#: The value of a custom field, which is text (also for CHOICE options), a number or a date.
CustomValue = str | Decimal | date


def _display_name(c: _CustomerData) -> str:
    if c.kind is CustomerKind.COMPANY:
        return c.company_name or ""
    return " ".join(part for part in (c.first_name, c.last_name) if part)


@attrs.frozen(kw_only=True)
class _CustomerData(Tabular):
    """Fields a new customer and a stored customer have in common."""

    kind: CustomerKind
    primary_email: str
    external_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    date_of_birth: date | None = attrs.field(default=None, repr=repr_date_of_birth)
    tax_number: str | None = attrs.field(default=None, repr=repr_tax_number)
    tax_id_validated: bool = False
    phones: tuple[Phone, ...] = ()
    secondary_emails: tuple[str, ...] = ()
    billing_address: Address | None = None
    service_address: Address | None = None
    shipping_address: Address | None = None
    #: When the customer's contract ends: each of its accounts ends then at the latest.
    end_date: date | None = None
    #: The id of the customer's :class:`~custbill.CustomerType`, or None for none.
    customer_type: str | None = None
    #: The reseller customer this one sits under (to any depth), or None for a top-level
    #: customer; fixed once the customer exists.
    owner: str | None = None
    custom_fields: Mapping[str, CustomValue] = attrs.field(factory=dict, hash=False)
    #: The customer's name as shown: the company name, or "First Last" for a person.
    name: str = attrs.field(
        init=False, default=attrs.Factory(_display_name, takes_self=True), eq=False
    )

    def __attrs_post_init__(self) -> None:
        check_fields(self)
        object.__setattr__(self, "name", _display_name(self))


@attrs.frozen(kw_only=True)
class NewCustomer(_CustomerData):
    """What it takes to create a customer; ``number`` is generated when omitted."""

    number: str | None = None


@attrs.frozen(kw_only=True)
class Customer(_CustomerData):
    """A stored customer.

    ``number`` is its identity and never changes; ``default_account`` is always one of its
    accounts; ``version`` grows by one with every committed change; an ``erased`` customer's
    personal data was removed and the customer is read-only.
    """

    number: str
    default_account: str
    erased: bool = False
    version: int = 1
