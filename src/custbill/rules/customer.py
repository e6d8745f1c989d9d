"""Rules about customers.  Every ``check_*`` returns violations and never raises."""

from __future__ import annotations

from custbill.model import (
    Address,
    Customer,
    CustomerKind,
    CustomFieldTarget,
    NewCustomer,
    Violation,
)
from custbill.rules._support import (
    blank,
    check_custom_fields,
    check_numbers,
    countries,
    email_valid,
    filled,
    phone_valid,
    violation,
)
from custbill.rules.ending import check_end_date
from custbill.rules.lookup import Lookup
from custbill.rules.record_text import check_customer_text
from custbill.rules.references import check_customer_type_known, check_owner


def check_customer(
    customer: NewCustomer | Customer,
    lookup: Lookup,
    *,
    before: Customer | None = None,
) -> tuple[Violation, ...]:
    """Check a new customer, or an edited one against its stored state *before*.

    Covers names, emails, date of birth, phones, addresses, uniqueness of number, external
    number and (with ``unique_customer_names``) name, and custom fields.  An erased customer
    accepts no change at all (``customer.erased``).
    """
    if before is not None and before.erased:
        return check_not_erased(before)
    text = check_customer_text(customer)
    if text.refusing:  # (nothing else is read of a record over a limit)
        return tuple(text.refusing)
    own = before.number if before is not None else None
    # a check with nothing to look at (no date of birth, no phones) is not called at all
    found = [*check_names(customer), *check_emails(customer)]
    if customer.date_of_birth is not None:
        found += check_date_of_birth(customer, lookup)
    if customer.phones:
        found += check_phones(customer)
    found += check_addresses(customer)
    found += text.cards
    found += check_customer_uniqueness(customer, lookup, own=own)
    found += check_custom_fields(
        customer.custom_fields,
        lookup.custom_field_definitions(CustomFieldTarget.CUSTOMER),
        "customer.custom_field_invalid",
    )
    if customer.end_date is not None or (before is not None and before.end_date is not None):
        found += check_end_date(customer, before, lookup)
    found += check_customer_type_known(customer, lookup)
    if before is None:  # (the owner is fixed once the customer exists)
        found += check_owner(customer, lookup)
    return tuple(found)


def check_not_erased(customer: Customer) -> tuple[Violation, ...]:
    """``customer.erased`` for an erased customer, which accepts no change (nor new
    accounts, default accounts or notes)."""
    if not customer.erased:
        return ()
    return (
        violation(
            "customer.erased",
            "number",
            f"customer {customer.number} was erased and is read-only",
            number=customer.number,
        ),
    )


def check_names(customer: NewCustomer | Customer) -> tuple[Violation, ...]:
    """COMPANY customers need a company name; PERSON customers a first and a last name."""
    if customer.kind is CustomerKind.COMPANY:
        if blank(customer.company_name):
            return (
                violation(
                    "customer.name_required",
                    "company_name",
                    "a COMPANY customer needs a company name",
                ),
            )
        return ()
    return tuple(
        violation(
            "customer.name_required", field, f"a PERSON customer needs a {field.replace('_', ' ')}"
        )
        for field in ("first_name", "last_name")
        if blank(getattr(customer, field))
    )


def check_emails(customer: NewCustomer | Customer) -> tuple[Violation, ...]:
    """The primary email is required; every email must be well formed."""
    if not customer.secondary_emails and email_valid(customer.primary_email):
        return ()
    found = []
    if not email_valid(customer.primary_email):
        message = (
            "a primary email is required"
            if blank(customer.primary_email)
            else "the primary email is not a valid email address"
        )
        found.append(violation("customer.email_invalid", "primary_email", message))
    found.extend(
        violation(
            "customer.email_invalid",
            f"secondary_emails[{i}]",
            "the secondary email is not a valid email address",
        )
        for i, email in enumerate(customer.secondary_emails)
        if not email_valid(email)
    )
    return tuple(found)


def check_date_of_birth(customer: NewCustomer | Customer, lookup: Lookup) -> tuple[Violation, ...]:
    """A date of birth is for PERSON customers only, and not in the future.

    Messages never contain the date itself: it is protected data.
    """
    dob = customer.date_of_birth
    if dob is None:
        return ()
    found = []
    if customer.kind is not CustomerKind.PERSON:
        found.append(
            violation(
                "customer.date_of_birth_not_personal",
                "date_of_birth",
                "a date of birth can only be set on a PERSON customer",
            )
        )
    if dob > lookup.today:
        found.append(
            violation(
                "customer.date_of_birth_in_future",
                "date_of_birth",
                "the date of birth is in the future",
            )
        )
    return tuple(found)


def check_phones(customer: NewCustomer | Customer) -> tuple[Violation, ...]:
    """Every phone holds a phone number."""
    return tuple(
        violation(
            "customer.phone_invalid",
            f"phones[{i}].number",
            "expected an optional '+' and 4 to 15 digits"
            " (spaces, dots, dashes, slashes and parentheses allowed between them)",
        )
        for i, phone in enumerate(customer.phones)
        if not phone_valid(phone.number)
    )


def check_addresses(customer: NewCustomer | Customer) -> tuple[Violation, ...]:
    """Addresses have line1, city, postal code and an ISO 3166 alpha-2 country."""
    found: list[Violation] = []
    for field in ("billing_address", "service_address", "shipping_address"):
        address = getattr(customer, field)
        if address is not None:
            found.extend(check_address(address, field))
    return tuple(found)


def check_address(address: Address, path: str) -> tuple[Violation, ...]:
    """Check one address; *path* prefixes each violation's path."""
    country = address.country
    if (
        isinstance(country, str)
        and country in countries()
        and filled(address.line1, address.city, address.postal_code)
    ):
        return ()  # the common case, told in one pass
    found = [
        violation(
            "customer.address_invalid",
            f"{path}.{part}",
            f"the address needs {part.replace('_', ' ')}",
            part=part,
        )
        for part in ("line1", "city", "postal_code", "country")
        if blank(getattr(address, part))
    ]
    if not blank(address.country) and address.country not in countries():
        found.append(
            violation(
                "customer.address_invalid",
                f"{path}.country",
                "the country must be an ISO 3166 alpha-2 code such as 'US'",
                part="country",
            )
        )
    return tuple(found)


def check_customer_uniqueness(
    customer: NewCustomer | Customer, lookup: Lookup, *, own: str | None
) -> tuple[Violation, ...]:
    """Numbers (shared with accounts), external numbers and, when required, names are unique.

    *own* is the customer's stored number when it is being edited (it may keep its own
    values).
    """
    found = list(check_numbers("customer", customer.number, customer.external_number, own, lookup))
    if lookup.settings.unique_customer_names and not blank(customer.name):
        others = [n for n in lookup.customers_named(customer.name) if n != own]
        if others:
            found.append(
                violation(
                    "customer.name_taken",
                    "name",
                    f"customer {others[0]} already has this name",
                    holder=others[0],
                )
            )
    return tuple(found)
