"""Rules about what an account or a customer names outside itself: the catalog entries it
refers to (:mod:`custbill.model.references`), what its customer's type allows it, and the
extra addresses its invoices go to."""

from __future__ import annotations

from operator import attrgetter

from custbill.model import BillingAccount, Customer, NewAccount, NewCustomer, Violation
from custbill.model.references import REFERENCE_FIELDS, CustomerType, Feature
from custbill.rules._support import email_valid, violation
from custbill.rules.lookup import Lookup

#: How a violation names each kind of reference (its ``kind`` param).
_KIND_NAMES = {
    "contract_type": "contract type",
    "invoice_template": "invoice template",
    "web_template": "web template",
    "salesperson": "salesperson",
    "rate_plan": "rate plan",
}


_references = attrgetter(*REFERENCE_FIELDS)


def check_catalog_references(
    account: NewAccount | BillingAccount, lookup: Lookup
) -> tuple[Violation, ...]:
    """Each reference the account names is an entry of the catalog
    (``account.reference_unknown``, as for its bill cycle)."""
    refs = _references(account)
    if not account.features and refs.count(None) == len(refs):
        return ()  # (the usual account names none)
    found = []
    for (field, kind), ref in zip(REFERENCE_FIELDS.items(), refs, strict=True):
        if ref is not None and lookup.reference(kind, ref) is None:
            name = _KIND_NAMES[field]
            found.append(
                violation(
                    "account.reference_unknown", field, f"no {name} {ref!r}", kind=name, id=ref
                )
            )
    for i, feature in enumerate(account.features):
        if lookup.reference(Feature, feature) is None:
            found.append(
                violation(
                    "account.reference_unknown",
                    f"features[{i}]",
                    f"no feature {feature!r}",
                    kind="feature",
                    id=feature,
                )
            )
    return tuple(found)


def check_owner(customer: NewCustomer | Customer, lookup: Lookup) -> tuple[Violation, ...]:
    """The customer's owner, when it has one, is a customer the lookup sees
    (``customer.reference_unknown``, as for a number that does not exist)."""
    owner = customer.owner
    if owner is None or lookup.customer(owner) is not None:
        return ()
    message = f"no customer {owner!r}"
    return (violation("customer.reference_unknown", "owner", message, kind="customer", id=owner),)


def check_customer_type_known(
    customer: NewCustomer | Customer, lookup: Lookup
) -> tuple[Violation, ...]:
    """The customer's type, when it has one, is an entry of the catalog
    (``customer.reference_unknown``)."""
    ref = customer.customer_type
    if ref is None or lookup.reference(CustomerType, ref) is not None:
        return ()
    message = f"no customer type {ref!r}"
    return (
        violation(
            "customer.reference_unknown", "customer_type", message, kind="customer type", id=ref
        ),
    )


def check_customer_type_fit(
    account: NewAccount | BillingAccount, customer: NewCustomer | Customer, lookup: Lookup
) -> tuple[Violation, ...]:
    """The account's features, rate plan and payment mode are among those its customer's
    type allows (``account.not_in_customer_type``; a type that lists none allows any)."""
    if customer.customer_type is None:
        return ()
    kind = lookup.reference(CustomerType, customer.customer_type)
    if kind is None:
        return ()  # (the customer's own check reports it)
    options: list[tuple[str, str, str, tuple[str, ...] | None]] = [
        (f"features[{i}]", "feature", f, kind.features) for i, f in enumerate(account.features)
    ]
    if account.rate_plan is not None:
        options.append(("rate_plan", "rate plan", account.rate_plan, kind.rate_plans))
    modes = None if kind.payment_modes is None else tuple(m.value for m in kind.payment_modes)
    options.append(("payment_mode", "payment mode", account.payment_mode.value, modes))
    return tuple(
        violation(
            "account.not_in_customer_type",
            path,
            f"a {kind.name} customer's account cannot have the {option} {value!r}",
            option=option,
            value=value,
            customer_type=kind.id,
        )
        for path, option, value, allowed in options
        if allowed is not None and value not in allowed
    )


def check_invoice_emails(account: NewAccount | BillingAccount) -> tuple[Violation, ...]:
    """The extra invoice addresses are well-formed emails, each listed once."""
    found = []
    seen: set[str] = set()
    for i, email in enumerate(account.invoice_emails):
        if not email_valid(email):
            found.append(
                violation(
                    "account.invoice_email_invalid",
                    f"invoice_emails[{i}]",
                    "an invoice address is not a valid email address",
                )
            )
        elif email.casefold() in seen:
            found.append(
                violation(
                    "account.invoice_email_invalid",
                    f"invoice_emails[{i}]",
                    "an invoice address is listed twice",
                )
            )
        seen.add(email.casefold())
    return tuple(found)
