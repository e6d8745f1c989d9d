"""The text of a customer or an account, read once for every rule about text: its limits
(:mod:`custbill.rules.limits`), the characters it may hold, and card numbers
(:mod:`custbill.rules.cards`).

:func:`customer_fields` and :func:`account_fields` list every text field of a record with
its path, its length limit and whether a card number is looked for in it — the plain
description, which reports violations field by field.  A usual record breaks none of
these rules, which a few passes in C over its texts gathered at once tell
(:func:`check_customer_text`): no text longer than the shortest limit, no refused
character, fewer than 13 digits in the texts a card number is looked for in.  Only a
record that fails one of them is read field by field.  The tests of each rule plant
violations in every field, so a field missing from the quick gathering fails them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from operator import attrgetter
from typing import NamedTuple

from custbill.model import BillingAccount, Customer, NewAccount, NewCustomer, Violation
from custbill.model.references import REFERENCE_FIELDS
from custbill.rules.cards import card_violations, may_hold_card_number
from custbill.rules.limits import (
    MAX_EMAIL_LENGTH,
    MAX_ITEMS,
    MAX_KEY_LENGTH,
    MAX_TEXT_LENGTH,
    all_plain,
    count_violations,
    record_text_violations,
)


class TextField(NamedTuple):
    """One text field of a record."""

    path: str
    text: str | None
    #: The most characters it may have.
    limit: int
    #: Whether a card number is looked for in it (not in phone numbers, tax numbers,
    #: custom field names, hierarchy links or payment methods: see the module's text).
    searched: bool


class TextFindings(NamedTuple):
    """What is wrong with a record's text."""

    #: Counts, lengths and characters over their limits (the record is refused with these
    #: alone, and nothing else of it is read).
    refusing: tuple[Violation, ...]
    #: Card numbers, reported beside the record's other violations.
    cards: tuple[Violation, ...]


#: The findings of the usual record.
NOTHING = TextFindings((), ())


_ADDRESSES = ("billing_address", "service_address", "shipping_address")
_ADDRESS_LINES = ("line1", "line2", "city", "region", "postal_code", "country")
_CUSTOMER_SEARCHED = (
    "number",
    "external_number",
    "customer_type",
    "first_name",
    "last_name",
    "company_name",
)
_ACCOUNT_SEARCHED = (
    "number",
    "external_number",
    "bill_cycle",
    "category",
    "payment_term",
    "dunning_plan",
    *REFERENCE_FIELDS,
)
_ACCOUNT_LINKS = ("responsible_account", "parent_account", "preferred_language")
_CONTACT_SEARCHED = ("name", "email", "category")
_METHOD = ("token", "brand", "last4", "expiry")

_customer_searched = attrgetter(*_CUSTOMER_SEARCHED, "primary_email")
_account_searched = attrgetter(*_ACCOUNT_SEARCHED)
_account_links = attrgetter(*_ACCOUNT_LINKS)
_address_lines = attrgetter(*_ADDRESS_LINES)
_contact_searched = attrgetter(*_CONTACT_SEARCHED)
_method = attrgetter(*_METHOD)


def _limit(field: str) -> int:
    return (
        MAX_KEY_LENGTH
        if field in ("number", "external_number", "customer_type")
        else MAX_TEXT_LENGTH
    )


def _custom(custom_fields: Mapping[str, object]) -> Iterator[TextField]:
    for name, value in custom_fields.items():
        path = f"custom_fields[{name[:MAX_KEY_LENGTH]}]"  # (a bounded path for any name)
        yield TextField(path, name, MAX_TEXT_LENGTH, searched=False)
        if isinstance(value, str):
            yield TextField(path, value, MAX_TEXT_LENGTH, searched=True)


def customer_fields(customer: NewCustomer | Customer) -> Iterator[TextField]:
    """Every text field of *customer*."""
    for field in _CUSTOMER_SEARCHED:
        yield TextField(field, getattr(customer, field), _limit(field), searched=True)
    yield TextField("primary_email", customer.primary_email, MAX_EMAIL_LENGTH, searched=True)
    yield TextField("tax_number", customer.tax_number, MAX_TEXT_LENGTH, searched=False)
    for i, email in enumerate(customer.secondary_emails):
        yield TextField(f"secondary_emails[{i}]", email, MAX_EMAIL_LENGTH, searched=True)
    for i, phone in enumerate(customer.phones):
        yield TextField(f"phones[{i}].number", phone.number, MAX_TEXT_LENGTH, searched=False)
    for kind in _ADDRESSES:
        address = getattr(customer, kind)
        if address is not None:
            for line in _ADDRESS_LINES:
                text = getattr(address, line)
                yield TextField(f"{kind}.{line}", text, MAX_TEXT_LENGTH, searched=True)
    yield from _custom(customer.custom_fields)


def account_fields(account: NewAccount | BillingAccount) -> Iterator[TextField]:
    """Every text field of *account* (its payment methods' card numbers are
    ``check_payment``'s, in ``custbill.rules.account``)."""
    for field in _ACCOUNT_SEARCHED:
        yield TextField(field, getattr(account, field), MAX_KEY_LENGTH, searched=True)
    for field in _ACCOUNT_LINKS:
        yield TextField(field, getattr(account, field), MAX_KEY_LENGTH, searched=False)
    yield TextField("invoice_note", account.invoice_note, MAX_TEXT_LENGTH, searched=True)
    for i, email in enumerate(account.invoice_emails):
        yield TextField(f"invoice_emails[{i}]", email, MAX_EMAIL_LENGTH, searched=True)
    for i, feature in enumerate(account.features):
        yield TextField(f"features[{i}]", feature, MAX_KEY_LENGTH, searched=True)
    for i, location in enumerate(account.locations):
        yield TextField(f"locations[{i}].name", location.name, MAX_TEXT_LENGTH, searched=True)
        for line in _ADDRESS_LINES:
            text = getattr(location.address, line)
            yield TextField(f"locations[{i}].address.{line}", text, MAX_TEXT_LENGTH, True)
    for i, contact in enumerate(account.contacts):
        for field in _CONTACT_SEARCHED:
            limit = MAX_EMAIL_LENGTH if field == "email" else MAX_TEXT_LENGTH
            yield TextField(f"contacts[{i}].{field}", getattr(contact, field), limit, True)
        yield TextField(f"contacts[{i}].phone", contact.phone, MAX_TEXT_LENGTH, False)
    for i, method in enumerate(account.payment_methods):
        for field in _METHOD:
            text = getattr(method, field)
            yield TextField(f"payment_methods[{i}].{field}", text, MAX_TEXT_LENGTH, False)
    yield from _custom(account.custom_fields)


def check_customer_text(customer: NewCustomer | Customer) -> TextFindings:
    """What is wrong with *customer*'s text (usually nothing, told at once)."""
    phones, emails, custom = customer.phones, customer.secondary_emails, customer.custom_fields
    if len(phones) > MAX_ITEMS or len(emails) > MAX_ITEMS or len(custom) > MAX_ITEMS:
        counts = [("phones", phones), ("secondary_emails", emails), ("custom_fields", custom)]
        return TextFindings(tuple(count_violations(counts)), ())  # (before reading each)
    searched = [*_customer_searched(customer), *emails]
    for kind in _ADDRESSES:
        address = getattr(customer, kind)
        if address is not None:
            searched.extend(_address_lines(address))
    other = [customer.tax_number, *(p.number for p in phones)]
    if not _may_break(searched, other, custom):
        return NOTHING
    return _field_by_field(customer_fields(customer))


def check_account_text(account: NewAccount | BillingAccount) -> TextFindings:
    """What is wrong with *account*'s text (usually nothing, told at once)."""
    methods, contacts, custom = account.payment_methods, account.contacts, account.custom_fields
    emails, features, locations = account.invoice_emails, account.features, account.locations
    sizes = map(len, (methods, contacts, custom, emails, features, locations))
    if max(sizes) > MAX_ITEMS:
        counts = [
            ("payment_methods", methods),
            ("contacts", contacts),
            ("custom_fields", custom),
            ("invoice_emails", emails),
            ("features", features),
            ("locations", locations),
        ]
        return TextFindings(tuple(count_violations(counts)), ())
    searched = [*_account_searched(account), account.invoice_note, *emails, *features]
    for location in locations:
        searched.append(location.name)
        searched.extend(_address_lines(location.address))
    other = list(_account_links(account))
    for contact in contacts:
        searched.extend(_contact_searched(contact))
        other.append(contact.phone)
    for method in methods:
        other.extend(_method(method))
    if not _may_break(searched, other, custom):
        return NOTHING
    return _field_by_field(account_fields(account))


def _may_break(
    searched: list[str | None], other: list[str | None], custom: Mapping[str, object]
) -> bool:
    """Whether a record whose texts are *searched* (for card numbers too) and *other*,
    besides its custom fields *custom*, may break a rule about text (False for the usual
    record, told in a few passes in C)."""
    if custom:
        other.extend(custom)
        searched.extend(v for v in custom.values() if isinstance(v, str))
    return not all_plain(searched + other) or may_hold_card_number(searched)


def _field_by_field(fields: Iterator[TextField]) -> TextFindings:
    """The findings of a record's *fields*, read one by one."""
    listed = list(fields)
    refusing = record_text_violations([(f.path, f.text, f.limit) for f in listed])
    if refusing:
        return TextFindings(tuple(refusing), ())
    return TextFindings((), tuple(card_violations((f.path, f.text) for f in listed if f.searched)))
