"""Billing accounts: what is invoiced, when, in which currency, and to whom."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import attrs
from moneyed import Money

from custbill.model._typecheck import check_fields
from custbill.model.customer import CustomValue
from custbill.model.enums import AccountStatus, InvoiceRendering, InvoiceType, PaymentMode
from custbill.model.records import Tabular
from custbill.model.values import Contact, PaymentMethod, ServiceLocation


def _same_as_currency(account: _AccountData) -> str:
    return account.currency


@attrs.frozen(kw_only=True)
class _AccountData(Tabular):
    """Fields a new account and a stored account have in common."""

    currency: str
    bill_cycle: str
    start_date: date
    category: str
    payment_term: str
    invoice_type: InvoiceType
    invoice_currency: str = attrs.field(default=attrs.Factory(_same_as_currency, takes_self=True))
    external_number: str | None = None
    taxable: bool = False
    responsible_account: str | None = None
    invoice_rendering: InvoiceRendering | None = None
    parent_account: str | None = None
    minimum_invoice_amount: Money | None = None
    preferred_language: str = "en_US"
    distribute_invoice: bool = False
    auto_pay: bool = False
    auto_pay_offset_days: int = 0
    #: How the account pays; a FREE account is never invoiced.
    payment_mode: PaymentMode = PaymentMode.INVOICE
    payment_methods: tuple[PaymentMethod, ...] = ()
    dunning_enabled: bool = False
    dunning_plan: str | None = None
    contacts: tuple[Contact, ...] = ()
    credit_limit: Money | None = None
    #: The account's last day: a run bills it for the last time in the period holding it.
    end_date: date | None = None
    #: Ids of catalog entries (:mod:`custbill.model.references`); None for none.
    contract_type: str | None = None
    invoice_template: str | None = None
    web_template: str | None = None
    salesperson: str | None = None
    rate_plan: str | None = None
    #: A text printed on every invoice billed to the account.
    invoice_note: str | None = None
    #: More addresses that receive the account's invoices by email, besides the customer's
    #: primary email and the contacts.
    invoice_emails: tuple[str, ...] = ()
    #: Ids of the :class:`~custbill.Feature` entries the account has.
    features: tuple[str, ...] = ()
    #: Where the account's services are delivered.
    locations: tuple[ServiceLocation, ...] = ()
    custom_fields: Mapping[str, CustomValue] = attrs.field(factory=dict, hash=False)

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class NewAccount(_AccountData):
    """What it takes to add a billing account; ``number`` is generated when omitted.

    ``invoice_currency`` defaults to ``currency``; a new account starts ACTIVE.
    """

    number: str | None = None


@attrs.frozen(kw_only=True)
class BillingAccount(_AccountData):
    """A stored billing account of a customer.

    ``number``, ``customer`` and ``currency`` never change after creation;
    ``responsible_account`` links it into the billing hierarchy (it is invoiced on that
    account), ``parent_account`` into the reporting hierarchy.
    """

    number: str
    customer: str
    status: AccountStatus = AccountStatus.ACTIVE
    version: int = 1
