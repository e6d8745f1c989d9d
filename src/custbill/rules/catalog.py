"""Rules about catalog entries (bill cycles, payment terms, categories, dunning plans,
custom field definitions)."""

from __future__ import annotations

from custbill.model import (
    AccountCategory,
    BillCycle,
    BillingPeriod,
    CustomFieldDefinition,
    CustomFieldType,
    DunningPlan,
    PaymentTerm,
    Violation,
)
from custbill.model.currencies import currency_known
from custbill.model.references import (
    CatalogItem,
    ContractType,
    CustomerType,
    Feature,
    InvoiceTemplate,
    RatePlan,
    Salesperson,
    WebTemplate,
)
from custbill.rules._support import blank, email_valid, violation
from custbill.rules.cards import card_violations
from custbill.rules.limits import MAX_KEY_LENGTH, MAX_TEXT_LENGTH, record_text_violations
from custbill.rules.lookup import Lookup
from custbill.rules.money import amount_violations

#: What the catalog takes: an entry stored by id, or a custom field definition.
CatalogEntry = CatalogItem | CustomFieldDefinition


def check_catalog_entry(entry: CatalogEntry, lookup: Lookup) -> tuple[Violation, ...]:
    """Check a catalog entry before it is added: well formed, and its id not taken."""
    found = [*_check_text(entry)]
    taken = False
    match entry:
        case BillCycle():
            found.extend(check_bill_cycle(entry))
            taken = lookup.bill_cycle(entry.id) is not None
        case PaymentTerm():
            if entry.net_days < 0:
                found.append(
                    violation("catalog.invalid", "net_days", "net days cannot be negative")
                )
            taken = lookup.payment_term(entry.id) is not None
        case AccountCategory():
            taken = lookup.account_category(entry.id) is not None
        case DunningPlan():
            found.extend(check_dunning_plan(entry))
            taken = lookup.dunning_plan(entry.id) is not None
        case Salesperson():
            if entry.email is not None and not email_valid(entry.email):
                found.append(violation("catalog.invalid", "email", "not a valid email address"))
            taken = lookup.reference(Salesperson, entry.id) is not None
        case ContractType():
            taken = lookup.reference(ContractType, entry.id) is not None
        case InvoiceTemplate():
            taken = lookup.reference(InvoiceTemplate, entry.id) is not None
        case WebTemplate():
            taken = lookup.reference(WebTemplate, entry.id) is not None
        case RatePlan():
            taken = lookup.reference(RatePlan, entry.id) is not None
        case Feature():
            taken = lookup.reference(Feature, entry.id) is not None
        case CustomerType():
            found.extend(check_customer_type(entry, lookup))
            taken = lookup.reference(CustomerType, entry.id) is not None
        case CustomFieldDefinition():
            found.extend(check_custom_field_definition(entry))
            taken = any(
                d.name == entry.name for d in lookup.custom_field_definitions(entry.applies_to)
            )
    if taken:
        key = "name" if isinstance(entry, CustomFieldDefinition) else "id"
        found.append(
            violation(
                "catalog.id_taken",
                key,
                f"a {type(entry).__name__} {getattr(entry, key)!r} exists",
                kind=type(entry).__name__,
            )
        )
    return tuple(found)


def _check_text(entry: CatalogEntry) -> tuple[Violation, ...]:
    fields = ("name",) if isinstance(entry, CustomFieldDefinition) else ("id", "name")
    return (
        *(
            violation("catalog.invalid", field, f"{field} cannot be empty")
            for field in fields
            if blank(getattr(entry, field))
        ),
        *card_violations((field, getattr(entry, field)) for field in fields),
        *record_text_violations(
            [
                (field, getattr(entry, field), MAX_KEY_LENGTH if field == "id" else MAX_TEXT_LENGTH)
                for field in fields
            ]
        ),
    )


def check_customer_type(entry: CustomerType, lookup: Lookup) -> tuple[Violation, ...]:
    """The features and rate plans a customer type allows are entries of the catalog."""
    unknown = [
        (f"features[{i}]", f"no feature {ref!r}")
        for i, ref in enumerate(entry.features or ())
        if lookup.reference(Feature, ref) is None
    ] + [
        (f"rate_plans[{i}]", f"no rate plan {ref!r}")
        for i, ref in enumerate(entry.rate_plans or ())
        if lookup.reference(RatePlan, ref) is None
    ]
    return tuple(violation("catalog.invalid", path, message) for path, message in unknown)


def check_bill_cycle(cycle: BillCycle) -> tuple[Violation, ...]:
    """The bill day fits the period (ISO weekday 1–7 or day of month 1–31); currency known."""
    found = []
    high = 7 if cycle.period is BillingPeriod.WEEKLY else 31
    if not 1 <= cycle.bill_day <= high:
        found.append(
            violation(
                "catalog.invalid",
                "bill_day",
                f"a {cycle.period.value} cycle's bill day is 1 to {high}",
            )
        )
    if cycle.currency is not None and not currency_known(cycle.currency):
        found.append(
            violation(
                "catalog.invalid",
                "currency",
                f"{cycle.currency!r} is not an ISO 4217 currency code",
            )
        )
    return tuple(found)


def check_dunning_plan(plan: DunningPlan) -> tuple[Violation, ...]:
    """Steps have an action, come in strictly increasing days past due (none before the
    due date), and any minimum overdue amount is a finite amount, not negative."""
    found = [
        violation("catalog.invalid", f"steps[{i}].action", "a dunning step needs an action")
        for i, step in enumerate(plan.steps)
        if blank(step.action)
    ]
    found.extend(
        violation(
            "catalog.invalid",
            f"steps[{i}].days_past_due",
            "steps must come in strictly increasing days past due",
        )
        for i in range(1, len(plan.steps))
        if plan.steps[i].days_past_due <= plan.steps[i - 1].days_past_due
    )
    for i, step in enumerate(plan.steps):
        if step.days_past_due < 0:
            found.append(
                violation(
                    "catalog.invalid",
                    f"steps[{i}].days_past_due",
                    "a dunning step cannot come before the due date",
                )
            )
        minimum = step.minimum_overdue
        if minimum is not None:
            path = f"steps[{i}].minimum_overdue"
            problems = amount_violations(minimum, None, path)
            found.extend(problems)
            if not problems and minimum < 0:
                found.append(
                    violation("catalog.invalid", path, "a minimum overdue cannot be negative")
                )
    return tuple(found)


def check_custom_field_definition(definition: CustomFieldDefinition) -> tuple[Violation, ...]:
    """A CHOICE field lists its options, which are distinct and not empty."""
    options = definition.options
    if definition.type is CustomFieldType.CHOICE and (
        not options or len(set(options)) != len(options) or any(blank(o) for o in options)
    ):
        return (
            violation(
                "catalog.invalid", "options", "a CHOICE field needs distinct, non-empty options"
            ),
        )
    if definition.type is not CustomFieldType.CHOICE and options:
        return (
            violation(
                "catalog.invalid",
                "options",
                f"only CHOICE fields have options, not {definition.type.value}",
            ),
        )
    return ()
