"""The Widgets International scenario of the GTV guide, ready to run.

One company customer with five billing accounts, one per location, in USD, USD, MXN, RUB and
SEK; a ``Location`` custom field on accounts says where each one is.

>>> from custbill.demo import widgets_international
>>> billing, customer = widgets_international()
>>> [a.currency for a in billing.accounts_of(customer.number)]
['USD', 'USD', 'MXN', 'RUB', 'SEK']
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import NamedTuple

from moneyed import Money

from custbill.billing import bill_dates, due_date
from custbill.model import (
    AccountCategory,
    Address,
    BillCycle,
    BillingAccount,
    BillingPeriod,
    Customer,
    CustomerKind,
    CustomFieldDefinition,
    CustomFieldTarget,
    CustomFieldType,
    InvoiceType,
    NewAccount,
    NewCustomer,
    PaymentTerm,
    Settings,
)
from custbill.service import CustomerBilling

#: The day the scenario's bill cycle starts.
START = date(2026, 1, 1)

#: Location, currency, preferred language and minimum invoice amount of each account,
#: the default first.
LOCATIONS = (
    ("United States", "USD", "en_US", "1500.00"),
    ("Zimbabwe", "USD", "en_ZW", "250.00"),
    ("Mexico", "MXN", "es_MX", "5000.00"),
    ("Russia", "RUB", "ru_RU", "25000.00"),
    ("Sweden", "SEK", "sv_SE", "2500.00"),
)


def widgets_international(
    billing: CustomerBilling | None = None,
) -> tuple[CustomerBilling, Customer]:
    """Set up the catalog and create Widgets International with its five accounts.

    Args:
        billing: the facade to create it in; a new in-memory one when omitted.

    Returns:
        The facade and the customer (as stored after its last account was added).
    """
    billing = billing or CustomerBilling(settings=Settings(allow_multi_customer_accounts=True))
    if not billing.settings.allow_multi_customer_accounts:
        billing.update_settings(allow_multi_customer_accounts=True)
    billing.add_bill_cycle(
        BillCycle(
            id="monthly-1",
            name="Monthly on the 1st",
            period=BillingPeriod.MONTHLY,
            bill_day=1,
            start_date=START,
        )
    )
    billing.add_payment_term(PaymentTerm(id="net30", name="Net 30", net_days=30))
    billing.add_account_category(AccountCategory(id="corporate", name="Corporate"))
    billing.add_custom_field(
        CustomFieldDefinition(
            name="Location",
            applies_to=CustomFieldTarget.ACCOUNT,
            type=CustomFieldType.CHOICE,
            options=tuple(location for location, *_ in LOCATIONS),
        )
    )

    def account(location: str, currency: str, language: str, minimum: str) -> NewAccount:
        return NewAccount(
            currency=currency,
            bill_cycle="monthly-1",
            start_date=START,
            category="corporate",
            payment_term="net30",
            invoice_type=InvoiceType.EMAIL,
            distribute_invoice=True,
            preferred_language=language,
            minimum_invoice_amount=Money(minimum, currency),
            custom_fields={"Location": location},
        )

    customer, _ = billing.create_customer(
        NewCustomer(
            kind=CustomerKind.COMPANY,
            company_name="Widgets International",
            primary_email="billing@widgets.example",
            billing_address=Address(
                line1="1 Widget Way", city="Austin", region="TX", postal_code="78701", country="US"
            ),
        ),
        account(*LOCATIONS[0]),
    )
    for location in LOCATIONS[1:]:
        billing.add_account(customer.number, account(*location))
    return billing, billing.get_customer(customer.number)


class _Calendar(NamedTuple):
    """The default account and the cycle and term its dates come from."""

    account: BillingAccount
    cycle: BillCycle
    term: PaymentTerm


def _calendar(billing: CustomerBilling, customer: Customer) -> _Calendar:
    default = billing.get_account(customer.default_account)
    cycle = next(c for c in billing.catalog(BillCycle) if c.id == default.bill_cycle)
    term = next(t for t in billing.catalog(PaymentTerm) if t.id == default.payment_term)
    return _Calendar(default, cycle, term)


def invoice_dates(
    billing: CustomerBilling, customer: Customer, days: int = 365
) -> list[dict[str, object]]:
    """The default account's invoice and due dates over *days* from ``START``, as records."""
    account, cycle, term = _calendar(billing, customer)
    return [
        {"account": account.number, "invoice_date": day, "due_date": due_date(day, term)}
        for day in bill_dates(cycle, START, START + timedelta(days=days - 1))
    ]


def invoice_calendar(billing: CustomerBilling, customer: Customer, days: int = 365) -> str:
    """A table of the default account's invoice and due dates over *days* from ``START``."""
    account, cycle, term = _calendar(billing, customer)
    lines = [f"Invoice dates of {account.number} ({cycle.name}, {term.name}):"]
    for day in bill_dates(cycle, START, START + timedelta(days=days - 1)):
        lines.append(f"  {day.isoformat()}  due {due_date(day, term).isoformat()}")
    return "\n".join(lines)


def run(fmt: str = "table") -> str:
    """The demo's whole output: the customer summary and a year of invoice dates.

    ``table`` is text for people; ``json`` an object with the summary's ``accounts`` and
    the ``invoice_dates`` (amounts and dates as strings); ``csv`` the summary's accounts,
    one row each (a CSV holds one table).
    """
    billing, customer = widgets_international()
    with billing:
        summary = billing.customer_summary(customer.number)
        if fmt == "json":
            data = {
                "accounts": summary.to_records(),
                "invoice_dates": invoice_dates(billing, customer),
            }
            return json.dumps(data, indent=2, default=str)
        if fmt == "csv":
            records = summary.to_records()
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
            return out.getvalue()
        return "\n\n".join([str(summary), invoice_calendar(billing, customer)])
