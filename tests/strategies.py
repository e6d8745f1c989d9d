"""Hypothesis strategies for custbill's model types."""

from __future__ import annotations

import math
from datetime import UTC, date
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from moneyed import Money

import custbill as cb

CURRENCIES = ("USD", "EUR", "SEK", "MXN", "RUB", "JPY", "KWD")

text = st.text(max_size=20)
short_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
optional_text = st.none() | text
dates = st.dates(min_value=date(1, 1, 1), max_value=date.max)
decimals = st.decimals(
    allow_nan=False,
    allow_infinity=False,
    places=4,
    min_value=Decimal("-1e9"),
    max_value=Decimal("1e9"),
)
money = st.builds(
    lambda amount, currency: Money(amount, currency), decimals, st.sampled_from(CURRENCIES)
)
custom_values: st.SearchStrategy[Any] = st.one_of(text, decimals, dates)
custom_fields = st.dictionaries(text, custom_values, max_size=3)

addresses = st.builds(
    cb.Address,
    line1=text,
    line2=optional_text,
    city=text,
    region=optional_text,
    postal_code=text,
    country=text,
)
phones = st.builds(cb.Phone, type=st.sampled_from(cb.PhoneType), number=text)
service_locations = st.builds(
    cb.ServiceLocation, name=text, address=addresses, primary=st.booleans()
)
contacts = st.builds(
    cb.Contact, name=text, email=optional_text, category=optional_text, phone=optional_text
)
payment_methods = st.builds(
    cb.PaymentMethod,
    kind=st.sampled_from(cb.PaymentMethodKind),
    token=text,
    brand=optional_text,
    last4=optional_text,
    expiry=optional_text,
)


def _tuples(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(strategy, max_size=3).map(tuple)


_customer_fields: dict[str, st.SearchStrategy[Any]] = {
    "kind": st.sampled_from(cb.CustomerKind),
    "primary_email": text,
    "external_number": optional_text,
    "first_name": optional_text,
    "last_name": optional_text,
    "company_name": optional_text,
    "date_of_birth": st.none() | dates,
    "tax_number": optional_text,
    "tax_id_validated": st.booleans(),
    "phones": _tuples(phones),
    "secondary_emails": _tuples(text),
    "billing_address": st.none() | addresses,
    "service_address": st.none() | addresses,
    "shipping_address": st.none() | addresses,
    "end_date": st.none() | dates,
    "customer_type": optional_text,
    "owner": optional_text,
    "custom_fields": custom_fields,
}
new_customers = st.builds(cb.NewCustomer, number=optional_text, **_customer_fields)
customers = st.builds(
    cb.Customer,
    number=text,
    default_account=text,
    erased=st.booleans(),
    version=st.integers(1, 10**6),
    **_customer_fields,
)

_account_fields: dict[str, st.SearchStrategy[Any]] = {
    "currency": st.sampled_from(CURRENCIES) | text,
    "invoice_currency": st.sampled_from(CURRENCIES) | text,
    "bill_cycle": text,
    "start_date": dates,
    "category": text,
    "payment_term": text,
    "invoice_type": st.sampled_from(cb.InvoiceType),
    "external_number": optional_text,
    "taxable": st.booleans(),
    "responsible_account": optional_text,
    "invoice_rendering": st.none() | st.sampled_from(cb.InvoiceRendering),
    "parent_account": optional_text,
    "minimum_invoice_amount": st.none() | money,
    "preferred_language": text | st.sampled_from(["en_US", "sv_SE", "es_MX"]),
    "distribute_invoice": st.booleans(),
    "auto_pay": st.booleans(),
    "auto_pay_offset_days": st.integers(-(10**6), 10**6),
    "payment_mode": st.sampled_from(cb.PaymentMode),
    "payment_methods": _tuples(payment_methods),
    "dunning_enabled": st.booleans(),
    "dunning_plan": optional_text,
    "contacts": _tuples(contacts),
    "credit_limit": st.none() | money,
    "end_date": st.none() | dates,
    "contract_type": optional_text,
    "invoice_template": optional_text,
    "web_template": optional_text,
    "salesperson": optional_text,
    "rate_plan": optional_text,
    "invoice_note": optional_text,
    "invoice_emails": _tuples(text),
    "features": _tuples(text),
    "locations": _tuples(service_locations),
    "custom_fields": custom_fields,
}
new_accounts = st.builds(cb.NewAccount, number=optional_text, **_account_fields)
accounts = st.builds(
    cb.BillingAccount,
    number=text,
    customer=text,
    status=st.sampled_from(cb.AccountStatus),
    version=st.integers(1, 10**6),
    **_account_fields,
)

bill_cycles = st.builds(
    cb.BillCycle,
    id=text,
    name=text,
    period=st.sampled_from(cb.BillingPeriod),
    bill_day=st.integers(-5, 40),
    start_date=dates,
    currency=st.none() | st.sampled_from(CURRENCIES) | text,
)
valid_bill_cycles = st.sampled_from(cb.BillingPeriod).flatmap(
    lambda period: st.builds(
        cb.BillCycle,
        id=short_ids,
        name=st.just("cycle"),
        period=st.just(period),
        bill_day=st.integers(1, 7 if period is cb.BillingPeriod.WEEKLY else 31),
        start_date=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    )
)
payment_terms = st.builds(
    cb.PaymentTerm,
    id=text,
    name=text,
    net_days=st.integers(-1000, 1000),
    end_of_month=st.booleans(),
)
account_categories = st.builds(cb.AccountCategory, id=text, name=text)
contract_types = st.builds(cb.ContractType, id=text, name=text)
invoice_templates = st.builds(cb.InvoiceTemplate, id=text, name=text)
web_templates = st.builds(cb.WebTemplate, id=text, name=text)
salespeople = st.builds(cb.Salesperson, id=text, name=text, email=optional_text)
rate_plans = st.builds(cb.RatePlan, id=text, name=text)
features = st.builds(cb.Feature, id=text, name=text)
customer_types = st.builds(
    cb.CustomerType,
    id=text,
    name=text,
    features=st.none() | _tuples(text),
    rate_plans=st.none() | _tuples(text),
    payment_modes=st.none() | st.lists(st.sampled_from(cb.PaymentMode), max_size=3).map(tuple),
    links_across_customers=st.booleans(),
)
dunning_steps = st.builds(
    cb.DunningStep,
    days_past_due=st.integers(-100, 1000),
    action=text,
    minimum_overdue=st.none() | decimals,
)
dunning_plans = st.builds(
    cb.DunningPlan,
    id=text,
    name=text,
    steps=_tuples(dunning_steps),
    reinstate_when_paid=st.booleans(),
)
custom_field_definitions = st.builds(
    cb.CustomFieldDefinition,
    name=text,
    applies_to=st.sampled_from(cb.CustomFieldTarget),
    type=st.sampled_from(cb.CustomFieldType),
    options=_tuples(text),
    required=st.booleans(),
)
settings = st.builds(
    cb.Settings,
    allow_multi_customer_accounts=st.booleans(),
    enable_responsible_account_management=st.booleans(),
    enable_account_hierarchy_management=st.booleans(),
    require_same_bill_cycle_for_account_hierarchy=st.booleans(),
    overall_invoice_distribution=st.frozensets(st.sampled_from(cb.InvoiceType)),
    distribute_invoice_all_accounts=st.booleans(),
    distribute_invoice_contact_categories=st.frozensets(text, max_size=3),
    unique_customer_names=st.booleans(),
    allow_links_across_customers=st.booleans(),
)
violations = st.builds(
    cb.Violation,
    code=text,
    path=text,
    message=text,
    params=st.dictionaries(text, st.one_of(text, st.integers()), max_size=3),
)
changes = st.builds(
    cb.Change,
    at=st.datetimes(timezones=st.just(UTC)).map(lambda d: d.replace(tzinfo=UTC)),
    number=text,
    field=text,
    old=optional_text,
    new=optional_text,
    actor=optional_text,
    reason=optional_text,
)
activities = st.builds(
    cb.Activity,
    at=st.datetimes(timezones=st.just(UTC)).map(lambda d: d.replace(tzinfo=UTC)),
    number=text,
    kind=text,
    field=optional_text,
    old=optional_text,
    new=optional_text,
    record=optional_text,
    amount=st.none() | money,
    detail=optional_text,
    actor=optional_text,
    reason=optional_text,
)

_dates_or_none = st.none() | dates
planned_invoices = st.builds(
    cb.PlannedInvoice,
    billed_account=text,
    accounts=_tuples(text),
    total=money,
    invoice_date=dates,
    due_date=dates,
    auto_pay_date=_dates_or_none,
    suppressed=st.booleans(),
    channels=st.frozensets(st.sampled_from(cb.Channel)),
    recipients=_tuples(text),
    notes=_tuples(text),
    invoice_note=optional_text,
)
skipped_accounts = st.builds(cb.SkippedAccount, account=text, reason=text)
partitions = st.integers(1, 64).flatmap(
    lambda count: st.builds(cb.Partition, st.integers(0, count - 1), st.just(count))
)
bill_run_plans = st.builds(
    cb.BillRunPlan,
    bill_cycle=text,
    run_date=dates,
    invoices=_tuples(planned_invoices),
    skipped=_tuples(skipped_accounts),
    carried_in=st.dictionaries(text, money, max_size=2),
    partition=st.none() | partitions,
    charges=_tuples(text),
)
invoices = st.builds(
    cb.Invoice,
    number=text,
    bill_cycle=text,
    billed_account=text,
    accounts=_tuples(text),
    total=money,
    invoice_date=dates,
    due_date=dates,
    auto_pay_date=_dates_or_none,
    invoice_note=optional_text,
)
payments = st.builds(
    cb.Payment, number=text, account=text, amount=money, received_on=dates, reference=optional_text
)
adjustments = st.builds(
    cb.Adjustment,
    number=text,
    account=text,
    kind=st.sampled_from(cb.AdjustmentKind),
    amount=money,
    on=dates,
    reason=text,
)
partitions_issued = st.builds(cb.PartitionIssued, partition=partitions, invoices=_tuples(invoices))
bill_run_statuses = st.builds(
    cb.BillRunStatus,
    bill_cycle=text,
    run_date=dates,
    partitions=st.none() | st.integers(1, 64),
    issued=_tuples(st.integers(0, 63)),
    invoices=st.integers(0, 10**6),
)
pool_allocations = st.builds(
    cb.PoolAllocation, account=text, usage=decimals, allocated=decimals, overage=decimals
)
pool_results = st.builds(
    cb.PoolResult,
    root=text,
    allowance=decimals,
    allocations=_tuples(pool_allocations),
    remaining=decimals,
)

#: One strategy per serialisable model type.
notes = st.builds(
    cb.Note,
    number=text,
    about=text,
    text=text,
    author=text,
    at=st.datetimes(timezones=st.just(UTC)),
)

deposits = st.builds(
    cb.Deposit,
    number=text,
    account=text,
    action=st.sampled_from(cb.DepositAction),
    amount=money,
    on=dates,
    invoice=optional_text,
    reference=optional_text,
)

queued_charges = st.builds(
    cb.Charge,
    number=text,
    account=text,
    amount=money,
    description=text,
    on=dates,
    billed_on=st.none() | dates,
    invoice=optional_text,
)

dunning_states = st.builds(
    cb.DunningState,
    account=text,
    as_of=dates,
    overdue=money,
    since=st.none() | dates,
    days_overdue=st.integers(0, 10_000),
    step=st.none() | st.integers(0, 9),
)
dunning_notices = st.builds(
    cb.DunningNotice,
    number=text,
    account=text,
    on=dates,
    plan=text,
    step=st.integers(0, 9),
    action=st.sampled_from(cb.DunningAction),
    text=text,
    overdue=money,
    since=dates,
    days_overdue=st.integers(0, 10_000),
    status=st.none() | st.sampled_from(cb.AccountStatus),
)
dunning_dues = st.builds(
    cb.DunningDue,
    state=dunning_states,
    step=st.integers(0, 9),
    action=st.sampled_from(cb.DunningAction),
    text=text,
)
dunning_refusals = st.builds(cb.DunningRefusal, due=dunning_dues, violations=_tuples(violations))
dunning_reports = st.builds(
    cb.DunningReport,
    as_of=dates,
    applied=_tuples(dunning_notices),
    refused=_tuples(dunning_refusals),
    reinstated=_tuples(text),
)

termination_waits = st.builds(cb.TerminationWait, account=text, ended_on=dates, final_run=dates)
termination_refusals = st.builds(
    cb.TerminationRefusal, account=text, ended_on=dates, violations=_tuples(violations)
)
termination_reports = st.builds(
    cb.TerminationReport,
    as_of=dates,
    terminated=_tuples(text),
    customers=_tuples(text),
    waiting=_tuples(termination_waits),
    refused=_tuples(termination_refusals),
)
transactions = st.builds(
    cb.Transaction,
    on=dates,
    kind=st.sampled_from(cb.TransactionKind),
    number=text,
    amount=money,
    change=money,
    balance=money,
    description=text,
)

MODEL_STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    cb.Address: addresses,
    cb.Phone: phones,
    cb.Contact: contacts,
    cb.ServiceLocation: service_locations,
    cb.PaymentMethod: payment_methods,
    cb.NewCustomer: new_customers,
    cb.Customer: customers,
    cb.NewAccount: new_accounts,
    cb.BillingAccount: accounts,
    cb.BillCycle: bill_cycles,
    cb.PaymentTerm: payment_terms,
    cb.AccountCategory: account_categories,
    cb.ContractType: contract_types,
    cb.InvoiceTemplate: invoice_templates,
    cb.WebTemplate: web_templates,
    cb.Salesperson: salespeople,
    cb.RatePlan: rate_plans,
    cb.Feature: features,
    cb.CustomerType: customer_types,
    cb.DunningStep: dunning_steps,
    cb.DunningPlan: dunning_plans,
    cb.CustomFieldDefinition: custom_field_definitions,
    cb.Settings: settings,
    cb.Violation: violations,
    cb.Change: changes,
    cb.Activity: activities,
    cb.Note: notes,
    cb.Deposit: deposits,
    cb.Charge: queued_charges,
    cb.DunningState: dunning_states,
    cb.DunningNotice: dunning_notices,
    cb.DunningDue: dunning_dues,
    cb.DunningRefusal: dunning_refusals,
    cb.DunningReport: dunning_reports,
    cb.TerminationReport: termination_reports,
    cb.TerminationWait: termination_waits,
    cb.TerminationRefusal: termination_refusals,
    cb.PlannedInvoice: planned_invoices,
    cb.SkippedAccount: skipped_accounts,
    cb.BillRunPlan: bill_run_plans,
    cb.Partition: partitions,
    cb.PartitionIssued: partitions_issued,
    cb.BillRunStatus: bill_run_statuses,
    cb.Invoice: invoices,
    cb.Payment: payments,
    cb.Adjustment: adjustments,
    cb.Transaction: transactions,
    cb.PoolAllocation: pool_allocations,
    cb.PoolResult: pool_results,
}


#: Text hostile input brings: empty, 1 MB long, NUL, line breaks, a right-to-left
#: override, a lone surrogate, zero-width and full-width spellings, SQL, format-string and
#: template fragments, numbers in disguise.
HOSTILE_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "\r\n",
    "\u202e",
    "\ud800",
    "\u200b",
    "ＡＣＭＥ",
    "' OR 1=1 --",
    "'); DROP TABLE customers; --",
    "%s%s%n",
    "{0.__class__}",
    "${jndi:x}",
    "NaN",
    "Infinity",
    "1E+999999",
    "9999-12-31",
    "0000-00-00",
    "4111 1111 1111 1111",
    "x" * 100_000,
    "x" * 1_000_000,
]
hostile_text = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=30))

#: Numbers hostile input brings, as the decimals amounts are.
hostile_decimals = st.one_of(
    st.sampled_from(
        [
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            Decimal("-Infinity"),
            Decimal("1E+999999"),
            Decimal("1E-999999"),
            Decimal(10) ** 30,
            Decimal("0.0000001"),
            Decimal("-0"),
        ]
    ),
    st.decimals(),
)
hostile_money = st.builds(Money, hostile_decimals, st.sampled_from(["USD", "JPY", "KWD", "EUR"]))

#: Dates and times hostile input brings: the ends of the calendar, and datetimes (naive and
#: aware) where dates are meant.
hostile_dates = st.one_of(
    st.sampled_from([date.min, date.max, date(1, 1, 1), date(9999, 12, 1)]),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
)

#: Values hostile input brings: wrong types, non-finite and huge numbers, long, empty and
#: control-laden text, SQL and format-string fragments, deep nesting.
hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**64, -(2**63) - 1, 10**400]),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    hostile_text,
    hostile_decimals,
    hostile_dates,
    st.sampled_from([10, 500, 2_000, 100_000]).map(lambda depth: Deep(depth)),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=3),
)


class Deep:
    """Lists nested *depth* deep, built only when a test hands its input over
    (:func:`built`): hypothesis shows every example it runs, and could not show thousands
    of levels."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"

    def build(self) -> Any:
        value: Any = []
        for _ in range(self.depth):
            value = [value]
        return value


def built(value: Any) -> Any:
    """*value* with every :class:`Deep` in it built."""
    if isinstance(value, Deep):
        return value.build()
    if isinstance(value, dict):
        return {key: built(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [built(inner) for inner in value]
    return value
