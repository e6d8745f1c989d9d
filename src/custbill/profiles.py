"""Platform profiles: the settings, catalog entries and custom fields that make a fresh
store speak one platform's customer module — GTV's, a telecom module's, hosting billing's
or a reseller portal's (``../seeds`` of the specification; see :doc:`/profiles`).

A profile is plain data; :meth:`Profile.apply` puts it into a facade's store in one batch,
so that it lands whole or not at all::

    billing = custbill.CustomerBilling()
    custbill.profiles.RESELLER.apply(billing)

Applying a profile again changes nothing: an entry equal to one the catalog holds is
skipped; an entry whose id (for a custom field: target and name) the catalog holds with
other values is refused (``catalog.id_taken``), and nothing of the profile lands.  The
settings are the profile's: applying one replaces the store's settings.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, cast

import attrs

from custbill.model import (
    AccountCategory,
    BillCycle,
    BillingPeriod,
    ContractType,
    CustomerType,
    CustomFieldDefinition,
    CustomFieldTarget,
    CustomFieldType,
    DunningPlan,
    DunningStep,
    Feature,
    InvoiceTemplate,
    InvoiceType,
    PaymentMode,
    PaymentTerm,
    RatePlan,
    Settings,
    WebTemplate,
)
from custbill.storage.protocols import CatalogItem

if TYPE_CHECKING:
    from custbill.service import CustomerBilling

#: The day the profiles' bill cycles start, early enough for any account a host creates.
CYCLE_START = date(2000, 1, 1)


@attrs.frozen(kw_only=True)
class Profile:
    """What a fresh store needs to speak one platform: its settings, its catalog entries
    (in the order they are added: features and rate plans before the customer types
    naming them) and its custom fields."""

    name: str
    source: str
    settings: Settings
    catalog: tuple[CatalogItem, ...]
    custom_fields: tuple[CustomFieldDefinition, ...] = ()

    def apply(self, billing: CustomerBilling) -> None:
        """Put this profile into *billing*'s store, whole or not at all (one batch).

        Raises:
            RuleViolationError: ``catalog.id_taken`` for an id the store holds with other
                values, ``settings.in_use`` when the stored records contradict the
                settings; nothing of the profile lands.
        """
        # (catalog() is typed per kind; here the kind is each entry's own)
        listed = cast("Callable[[type], tuple[object, ...]]", billing.catalog)
        with billing.batch():
            billing.update_settings(**attrs.asdict(self.settings, recurse=False))
            for entry in self.catalog:
                if entry not in listed(type(entry)):
                    billing.add_catalog_entry(entry)
            for definition in self.custom_fields:
                if definition not in billing.custom_fields(definition.applies_to):
                    billing.add_custom_field(definition)

    def describe(self) -> str:
        """The profile as text: the settings it changes from the defaults, then each
        catalog entry and custom field, one a line."""
        defaults = Settings()
        lines = [f"{self.name} ({self.source})"]
        for field in attrs.fields(Settings):
            value = getattr(self.settings, field.name)
            if value != getattr(defaults, field.name):
                shown = (
                    sorted(v.value for v in value) if field.name.startswith("overall") else value
                )
                lines.append(f"  setting {field.name} = {shown}")
        for entry in self.catalog:
            details = "".join(f"; {detail}" for detail in _details(entry))
            lines.append(f"  {type(entry).__name__} {entry.id}: {entry.name}{details}")
        for definition in self.custom_fields:
            required = ", required" if definition.required else ""
            lines.append(
                f"  custom field {definition.applies_to.value.lower()}.{definition.name}"
                f" ({definition.type.value.lower()}{required})"
            )
        return "\n".join(lines)


def _details(entry: CatalogItem) -> list[str]:
    """The fields of *entry* besides id and name that are not at their defaults."""
    found = []
    for field in attrs.fields(type(entry)):
        value = getattr(entry, field.name)
        if field.name in ("id", "name") or (
            field.default is not attrs.NOTHING and value == field.default
        ):
            continue
        if isinstance(value, tuple) and value and isinstance(value[0], DunningStep):
            value = ", ".join(f"{step.days_past_due} days: {step.action}" for step in value)
        elif isinstance(value, tuple):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, enum.Enum):
            value = value.value
        found.append(f"{field.name} {value}")
    return found


def _monthly(bill_day: int = 1) -> BillCycle:
    return BillCycle(
        id=f"monthly-{bill_day}",
        name=f"Monthly, on day {bill_day}",
        period=BillingPeriod.MONTHLY,
        bill_day=bill_day,
        start_date=CYCLE_START,
    )


#: Several accounts a customer, both hierarchies, every invoice type (GTV's and the
#: telecom module's settings).
_FULL_SETTINGS = Settings(
    allow_multi_customer_accounts=True,
    enable_responsible_account_management=True,
    enable_account_hierarchy_management=True,
    overall_invoice_distribution=frozenset(InvoiceType),
)

#: GTV's customers and billing accounts, with several accounts per customer, both
#: hierarchies, every invoice type and a dunning plan.
GTV = Profile(
    name="GTV",
    source="GTV Customers and Billing Accounts guide",
    settings=_FULL_SETTINGS,
    catalog=(
        _monthly(1),
        PaymentTerm(id="net30", name="Net 30", net_days=30),
        AccountCategory(id="standard", name="Standard"),
        DunningPlan(
            id="standard",
            name="Standard",
            steps=(
                DunningStep(days_past_due=10, action="notify"),
                DunningStep(days_past_due=30, action="suspend"),
                DunningStep(days_past_due=60, action="deactivate"),
            ),
        ),
    ),
)

#: A telecom customer module, with corporate customers and their linked accounts (consumers
#: take none), business and residential accounts, a short term and dunning that suspends.
TELECOM = Profile(
    name="Telecom",
    source="telecom customer module",
    settings=_FULL_SETTINGS,
    catalog=(
        _monthly(1),
        PaymentTerm(id="net15", name="Net 15", net_days=15),
        AccountCategory(id="business", name="Business"),
        AccountCategory(id="residential", name="Residential"),
        DunningPlan(
            id="telecom",
            name="Telecom collections",
            steps=(
                DunningStep(days_past_due=5, action="notify"),
                DunningStep(days_past_due=20, action="suspend"),
                DunningStep(days_past_due=45, action="pending collection"),
            ),
        ),
        CustomerType(id="corporate", name="Corporate"),
        CustomerType(
            id="consumer",
            name="Consumer",
            payment_modes=(PaymentMode.INVOICE, PaymentMode.AUTOMATIC),
            links_across_customers=False,
        ),
    ),
    custom_fields=(
        CustomFieldDefinition(
            name="account_pin", applies_to=CustomFieldTarget.ACCOUNT, type=CustomFieldType.TEXT
        ),
    ),
)

#: Hosting billing, with payment by Free / Invoice / Credit Card (the payment modes),
#: contract types, invoice and web templates.
HOSTING = Profile(
    name="Hosting",
    source="hosting billing: entering customers",
    settings=Settings(
        allow_multi_customer_accounts=True,
        overall_invoice_distribution=frozenset({InvoiceType.EMAIL, InvoiceType.PAPER}),
    ),
    catalog=(
        _monthly(1),
        PaymentTerm(id="net14", name="Net 14", net_days=14),
        AccountCategory(id="hosting", name="Hosting"),
        ContractType(id="monthly", name="Monthly, rolling"),
        ContractType(id="annual", name="Annual"),
        InvoiceTemplate(id="standard", name="Standard invoice"),
        WebTemplate(id="default", name="Default portal"),
    ),
    custom_fields=(
        CustomFieldDefinition(
            name="referrer", applies_to=CustomFieldTarget.CUSTOMER, type=CustomFieldType.TEXT
        ),
    ),
)

#: A reseller portal, with unique customer names, Normal and Residential customers (the
#: latter limited to a few features and the home rate plan), rate plans and features.
RESELLER = Profile(
    name="Reseller",
    source="reseller portal: customer setup",
    settings=Settings(
        allow_multi_customer_accounts=True,
        enable_responsible_account_management=True,
        unique_customer_names=True,
    ),
    catalog=(
        _monthly(1),
        PaymentTerm(id="net30", name="Net 30", net_days=30),
        AccountCategory(id="standard", name="Standard"),
        Feature(id="extension", name="Extension"),
        Feature(id="number", name="Telephone number"),
        Feature(id="call_queue", name="Call queue"),
        Feature(id="ivr", name="Auto attendant"),
        RatePlan(id="master", name="Master rate plan"),
        RatePlan(id="home", name="Home"),
        CustomerType(id="normal", name="Normal"),
        CustomerType(
            id="residential",
            name="Residential",
            features=("extension", "number"),
            rate_plans=("home",),
        ),
    ),
)

#: Every profile, by a lower-case name.
PROFILES = {"gtv": GTV, "telecom": TELECOM, "hosting": HOSTING, "reseller": RESELLER}
