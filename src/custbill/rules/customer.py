"""Rules about customers.  Every ``check_*`` returns violations and never raises."""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter

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
from custbill.rules.cards import card_violations, may_hold_card_number
from custbill.rules.limits import customer_limits
from custbill.rules.lookup import Lookup


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
        return (
            violation(
                "customer.erased",
                "number",
                f"customer {before.number} was erased and is read-only",
                number=before.number,
            ),
        )
    limited = customer_limits(customer)
    if limited:  # (nothing else is read of a record over a limit)
        return tuple(limited)
    own = before.number if before is not None else None
    # a check with nothing to look at (no date of birth, no phones) is not called at all
    found = [*check_names(customer), *check_emails(customer)]
    if customer.date_of_birth is not None:
        found += check_date_of_birth(customer, lookup)
    if customer.phones:
        found += check_phones(customer)
    found += check_addresses(customer)
    found += check_card_numbers(customer)
    found += check_customer_uniqueness(customer, lookup, own=own)
    found += check_custom_fields(
        customer.custom_fields,
        lookup.custom_field_definitions(CustomFieldTarget.CUSTOMER),
        "customer.custom_field_invalid",
    )
    return tuple(found)


#: The text fields of a customer that must not hold a card number, besides its secondary
#: emails, addresses and custom fields (phones and the tax number are not searched: see
#: :mod:`custbill.rules.cards`).
_TEXT_FIELDS = (
    "number",
    "external_number",
    "first_name",
    "last_name",
    "company_name",
    "primary_email",
)
_ADDRESSES = ("billing_address", "service_address", "shipping_address")
_ADDRESS_LINES = ("line1", "line2", "city", "region", "postal_code", "country")
_text_fields = attrgetter(*_TEXT_FIELDS)
_address_lines = attrgetter(*_ADDRESS_LINES)


def customer_text(customer: NewCustomer | Customer) -> Iterator[tuple[str, str | None]]:
    """(path, text) of every text field of *customer* that must not hold a card number."""
    yield from zip(_TEXT_FIELDS, _text_fields(customer), strict=True)
    for i, email in enumerate(customer.secondary_emails):
        yield f"secondary_emails[{i}]", email
    for kind in _ADDRESSES:
        address = getattr(customer, kind)
        if address is not None:
            for line in _ADDRESS_LINES:
                yield f"{kind}.{line}", getattr(address, line)
    for name, value in customer.custom_fields.items():
        yield f"custom_fields[{name}]", value if isinstance(value, str) else None


def check_card_numbers(customer: NewCustomer | Customer) -> list[Violation]:
    """``text.card_number`` on each text field of *customer* holding a card number (all
    its text read in one pass first: too few digits in it all, and nothing more is
    read)."""
    texts = [*_text_fields(customer), *customer.secondary_emails]
    for kind in _ADDRESSES:
        address = getattr(customer, kind)
        if address is not None:
            texts.extend(_address_lines(address))
    if customer.custom_fields:
        texts.extend(v for v in customer.custom_fields.values() if isinstance(v, str))
    if not may_hold_card_number(texts):
        return []
    return card_violations(customer_text(customer))


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
