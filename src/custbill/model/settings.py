"""Tenant-wide system settings."""

from __future__ import annotations

import attrs

from custbill.model._typecheck import check_fields
from custbill.model.enums import InvoiceType
from custbill.model.records import Tabular


@attrs.frozen(kw_only=True)
class Settings(Tabular):
    """System settings that switch capabilities on and off.

    Changing them goes through :meth:`custbill.CustomerBilling.update_settings`, which refuses
    a change that existing data contradicts (``settings.in_use``).
    """

    allow_multi_customer_accounts: bool = False
    enable_responsible_account_management: bool = False
    enable_account_hierarchy_management: bool = False
    require_same_bill_cycle_for_account_hierarchy: bool = False
    overall_invoice_distribution: frozenset[InvoiceType] = frozenset(
        {InvoiceType.NONE, InvoiceType.EMAIL}
    )
    distribute_invoice_all_accounts: bool = False
    distribute_invoice_contact_categories: frozenset[str] = frozenset()
    unique_customer_names: bool = False
    #: Whether an account may be linked (as responsible or parent account) above an
    #: account of another customer; a customer's type may still forbid it.
    allow_links_across_customers: bool = True

    def __attrs_post_init__(self) -> None:
        check_fields(self)
