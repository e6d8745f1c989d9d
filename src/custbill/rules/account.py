"""Rules about billing accounts.  Every ``check_*`` returns violations and never raises."""

from __future__ import annotations

import re

from moneyed import Money

from custbill.model import (
    AccountStatus,
    BillingAccount,
    Customer,
    CustomFieldTarget,
    InvoiceType,
    NewAccount,
    NewCustomer,
    PaymentMode,
    Violation,
)
from custbill.model.currencies import currency_known
from custbill.rules._support import (
    blank,
    check_custom_fields,
    check_numbers,
    email_valid,
    locale_known,
    violation,
)
from custbill.rules.cards import holds_card_number
from custbill.rules.ending import check_end_date
from custbill.rules.locations import check_locations
from custbill.rules.lookup import Lookup
from custbill.rules.money import money_violations
from custbill.rules.record_text import check_account_text
from custbill.rules.references import (
    check_catalog_references,
    check_customer_type_fit,
    check_invoice_emails,
)

#: Allowed status moves; DEACTIVATED is final.
TRANSITIONS: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.ACTIVE: frozenset(
        {AccountStatus.SUSPENDED, AccountStatus.PENDING_COLLECTION, AccountStatus.DEACTIVATED}
    ),
    AccountStatus.SUSPENDED: frozenset({AccountStatus.ACTIVE, AccountStatus.DEACTIVATED}),
    AccountStatus.PENDING_COLLECTION: frozenset({AccountStatus.ACTIVE, AccountStatus.DEACTIVATED}),
    AccountStatus.DEACTIVATED: frozenset(),
}

#: Fields an edit may not change.
IMMUTABLE_FIELDS = ("number", "customer", "currency")

_EMAIL_TYPES = frozenset({InvoiceType.EMAIL, InvoiceType.PAPER_AND_EMAIL})
_PAPER_TYPES = frozenset({InvoiceType.PAPER, InvoiceType.PAPER_AND_EMAIL})
_EXPIRY = re.compile(r"(0[1-9]|1[0-2])/\d\d")


def check_account(
    account: NewAccount | BillingAccount,
    customer: NewCustomer | Customer,
    lookup: Lookup,
    *,
    before: BillingAccount | None = None,
) -> tuple[Violation, ...]:
    """Check a new account of *customer*, or an edited one against its stored state *before*.

    Hierarchy links are checked by :func:`custbill.rules.check_hierarchy`.
    """
    text = check_account_text(account)
    if text.refusing:  # (nothing else is read of a record over a limit)
        return tuple(text.refusing)
    found = [
        *check_account_uniqueness(account, lookup, own=before),
        *check_currencies(account),
        *check_references(account, lookup),
        *check_catalog_references(account, lookup),
        *check_bill_cycle_fit(account, lookup),
        *check_invoice_delivery(account, customer, lookup),
    ]
    # a check with nothing to look at (no amounts, no rendering, no contacts) is not called
    if account.minimum_invoice_amount is not None or account.credit_limit is not None:
        found += check_amounts(account)
    found += check_payment(account)
    if account.invoice_rendering is not None:
        found += check_rendering(account, lookup)
    found += check_language(account)
    if account.contacts:
        found += check_contacts(account)
    if account.invoice_emails:
        found += check_invoice_emails(account)
    if account.locations:
        found += check_locations(account)
    found += check_customer_type_fit(account, customer, lookup)
    found += text.cards
    found += check_custom_fields(
        account.custom_fields,
        lookup.custom_field_definitions(CustomFieldTarget.ACCOUNT),
        "account.custom_field_invalid",
    )
    if before is None and isinstance(customer, Customer):
        found.extend(check_another_account_allowed(customer, lookup))
    if before is not None and isinstance(account, BillingAccount):
        found.extend(check_account_edit(before, account))
    if account.end_date is not None or (before is not None and before.end_date is not None):
        found.extend(check_end_date(account, before, lookup))
    return tuple(found)


def check_another_account_allowed(customer: Customer, lookup: Lookup) -> tuple[Violation, ...]:
    """A customer has one account unless ``allow_multi_customer_accounts`` is on."""
    if lookup.settings.allow_multi_customer_accounts or not lookup.accounts_of(customer.number):
        return ()
    return (
        violation(
            "account.multi_account_disabled",
            "customer",
            "allow_multi_customer_accounts is off: a customer has one account",
            customer=customer.number,
        ),
    )


def check_account_edit(before: BillingAccount, after: BillingAccount) -> tuple[Violation, ...]:
    """An edit keeps number, customer and currency, and follows the status lifecycle."""
    found = [
        violation(
            "account.field_immutable", field, f"{field} cannot change after creation", field=field
        )
        for field in IMMUTABLE_FIELDS
        if getattr(before, field) != getattr(after, field)
    ]
    found.extend(check_status_transition(before.status, after.status))
    return tuple(found)


def check_invoice_currency_locked(
    before: BillingAccount, after: BillingAccount, *, has_ledger: bool
) -> tuple[Violation, ...]:
    """Once invoices, payments, adjustments or carried-forward amounts exist for the account,
    its invoice currency is fixed (its balance is kept in that currency)."""
    if not has_ledger or before.invoice_currency == after.invoice_currency:
        return ()
    return (
        violation(
            "account.field_immutable",
            "invoice_currency",
            "the invoice currency is fixed once the account has billing records",
            field="invoice_currency",
        ),
    )


def check_status_transition(old: AccountStatus, new: AccountStatus) -> tuple[Violation, ...]:
    """ACTIVE ↔ SUSPENDED, ACTIVE ↔ PENDING_COLLECTION, any → DEACTIVATED (final)."""
    if old == new or new in TRANSITIONS[old]:
        return ()
    allowed = sorted(s.value for s in TRANSITIONS[old])
    return (
        violation(
            "account.status_transition_invalid",
            "status",
            f"{old.value} cannot become {new.value}; allowed: {allowed or 'none'}",
            old=old.value,
            new=new.value,
        ),
    )


def check_account_uniqueness(
    account: NewAccount | BillingAccount, lookup: Lookup, *, own: BillingAccount | None
) -> tuple[Violation, ...]:
    """Account numbers (shared with customers) and external numbers are unique."""
    own_number = own.number if own is not None else None
    return check_numbers("account", account.number, account.external_number, own_number, lookup)


def check_currencies(account: NewAccount | BillingAccount) -> tuple[Violation, ...]:
    """Currency and invoice currency are ISO 4217 codes."""
    if currency_known(account.currency) and currency_known(account.invoice_currency):
        return ()
    return tuple(
        violation(
            "account.currency_unknown",
            field,
            f"{getattr(account, field)!r} is not an ISO 4217 currency code",
            currency=getattr(account, field),
        )
        for field in ("currency", "invoice_currency")
        if not currency_known(getattr(account, field))
    )


def check_references(account: NewAccount | BillingAccount, lookup: Lookup) -> tuple[Violation, ...]:
    """Bill cycle, payment term, category and dunning plan exist in the catalog."""
    found = [
        violation("account.reference_unknown", path, f"no {kind} {ref!r}", kind=kind, id=ref)
        for path, kind, ref, find in (
            ("bill_cycle", "bill cycle", account.bill_cycle, lookup.bill_cycle),
            ("payment_term", "payment term", account.payment_term, lookup.payment_term),
            ("category", "account category", account.category, lookup.account_category),
        )
        if find(ref) is None
    ]
    plan = account.dunning_plan
    if plan is not None and lookup.dunning_plan(plan) is None:
        found.append(
            violation(
                "account.reference_unknown",
                "dunning_plan",
                f"no dunning plan {plan!r}",
                kind="dunning plan",
                id=plan,
            )
        )
    return tuple(found)


def check_bill_cycle_fit(
    account: NewAccount | BillingAccount, lookup: Lookup
) -> tuple[Violation, ...]:
    """The bill cycle accepts the account's currency and started no later than the account."""
    cycle = lookup.bill_cycle(account.bill_cycle)
    if cycle is None:
        return ()
    found = []
    if cycle.currency is not None and cycle.currency != account.currency:
        found.append(
            violation(
                "account.bill_cycle_currency_mismatch",
                "bill_cycle",
                f"bill cycle {cycle.id!r} bills in {cycle.currency}, "
                f"the account in {account.currency}",
                cycle_currency=cycle.currency,
                currency=account.currency,
            )
        )
    if account.start_date < cycle.start_date:
        found.append(
            violation(
                "account.start_before_bill_cycle",
                "start_date",
                f"the account cannot start before its bill cycle ({cycle.start_date.isoformat()})",
                cycle_start=cycle.start_date.isoformat(),
            )
        )
    return tuple(found)


def check_invoice_delivery(
    account: NewAccount | BillingAccount, customer: NewCustomer | Customer, lookup: Lookup
) -> tuple[Violation, ...]:
    """The invoice type is allowed and the customer has what it needs to be delivered."""
    found = []
    kind = account.invoice_type
    if kind not in lookup.settings.overall_invoice_distribution:
        allowed = sorted(t.value for t in lookup.settings.overall_invoice_distribution)
        found.append(
            violation(
                "account.invoice_type_not_allowed",
                "invoice_type",
                f"{kind.value} is not in overall_invoice_distribution {allowed}",
                invoice_type=kind.value,
            )
        )
    if kind in _EMAIL_TYPES and blank(customer.primary_email):
        found.append(
            violation(
                "account.email_invoice_requires_primary_email",
                "invoice_type",
                f"{kind.value} invoices need the customer's primary email",
            )
        )
    if kind in _PAPER_TYPES and customer.billing_address is None:
        found.append(
            violation(
                "account.paper_invoice_requires_billing_address",
                "invoice_type",
                f"{kind.value} invoices need the customer's billing address",
            )
        )
    return tuple(found)


def _money_problem(amount: Money, currency: str) -> str | None:
    if amount.currency.code != currency:
        return f"must be in {currency}, not {amount.currency.code}"
    if amount.amount < 0:
        return "must not be negative"
    return None


def check_amounts(account: NewAccount | BillingAccount) -> tuple[Violation, ...]:
    """Minimum invoice amount (invoice currency) and credit limit (currency) are ≥ 0."""
    found = []
    checks = (
        (
            "minimum_invoice_amount",
            "account.minimum_invoice_invalid",
            account.minimum_invoice_amount,
            account.invoice_currency,
        ),
        ("credit_limit", "account.credit_limit_invalid", account.credit_limit, account.currency),
    )
    for path, code, amount, currency in checks:
        if amount is not None:
            unusable = money_violations(amount, path)
            if unusable:
                found.extend(unusable)
                continue
            problem = _money_problem(amount, currency)
            if problem is not None:
                found.append(
                    violation(code, path, f"{path.replace('_', ' ')} {problem}", currency=currency)
                )
    return tuple(found)


def check_payment(account: NewAccount | BillingAccount) -> tuple[Violation, ...]:
    """Payment methods hold tokens, never card numbers; auto-pay and dunning are complete."""
    found = []
    for i, method in enumerate(account.payment_methods):
        prefix = f"payment_methods[{i}]"
        if blank(method.token):
            found.append(
                violation(
                    "account.payment_method_invalid",
                    f"{prefix}.token",
                    "a payment method needs its processor's token",
                )
            )
        if method.last4 is not None and not (
            len(method.last4) == 4 and method.last4.isascii() and method.last4.isdigit()
        ):
            found.append(
                violation(
                    "account.payment_method_invalid",
                    f"{prefix}.last4",
                    "last4 must be exactly four digits",
                )
            )
        if method.expiry is not None and _EXPIRY.fullmatch(method.expiry) is None:
            found.append(
                violation(
                    "account.payment_method_invalid", f"{prefix}.expiry", "expiry must be MM/YY"
                )
            )
        for field in ("token", "brand", "last4", "expiry"):
            value = getattr(method, field)
            if value is not None and holds_card_number(value):
                found.append(
                    violation(
                        "account.payment_method_invalid",
                        f"{prefix}.{field}",
                        "card numbers are never stored: keep the processor's token instead",
                        reason="card_number",
                    )
                )
    if account.auto_pay and not account.payment_methods:
        found.append(
            violation(
                "account.auto_pay_requires_payment_method",
                "auto_pay",
                "auto-pay needs a payment method on file",
            )
        )
    found += _payment_mode_violations(account)
    if account.dunning_enabled and account.dunning_plan is None:
        found.append(
            violation(
                "account.dunning_plan_required",
                "dunning_plan",
                "dunning is enabled, so a dunning plan is required",
            )
        )
    return tuple(found)


def _payment_mode_violations(account: NewAccount | BillingAccount) -> list[Violation]:
    """An AUTOMATIC account collects by auto-pay; a FREE one has nothing to collect."""
    if account.payment_mode is PaymentMode.AUTOMATIC and not account.auto_pay:
        return [
            violation(
                "account.payment_mode_requires_auto_pay",
                "payment_mode",
                "an AUTOMATIC account is collected by auto-pay: authorise it",
            )
        ]
    if account.payment_mode is PaymentMode.FREE and account.auto_pay:
        return [
            violation(
                "account.auto_pay_on_free_account",
                "auto_pay",
                "a FREE account is never invoiced: there is nothing for auto-pay to collect",
            )
        ]
    return []


def check_rendering(account: NewAccount | BillingAccount, lookup: Lookup) -> tuple[Violation, ...]:
    """An invoice rendering only makes sense on an account that manages accounts."""
    if account.invoice_rendering is None:
        return ()
    if isinstance(account, BillingAccount) and lookup.managed_accounts(account.number):
        return ()
    return (
        violation(
            "account.invoice_rendering_requires_managed_accounts",
            "invoice_rendering",
            "set the invoice rendering once the account manages another account",
        ),
    )


def check_language(account: NewAccount | BillingAccount) -> tuple[Violation, ...]:
    """The preferred language is a locale babel knows, written like ``en_US``."""
    if locale_known(account.preferred_language):
        return ()
    return (
        violation(
            "account.language_unknown",
            "preferred_language",
            f"{account.preferred_language!r} is not a known locale "
            "(expected e.g. 'en_US', 'sv_SE')",
            language=account.preferred_language,
        ),
    )


def check_contacts(account: NewAccount | BillingAccount) -> tuple[Violation, ...]:
    """Contacts have a name, and a well-formed email when they have one."""
    found = []
    for i, contact in enumerate(account.contacts):
        if blank(contact.name):
            found.append(
                violation(
                    "account.contact_invalid", f"contacts[{i}].name", "a contact needs a name"
                )
            )
        if contact.email is not None and not email_valid(contact.email):
            found.append(
                violation(
                    "account.contact_invalid",
                    f"contacts[{i}].email",
                    "the contact's email is not a valid email address",
                )
            )
    return tuple(found)
