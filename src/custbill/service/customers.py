"""Use cases that change customers and accounts: create, add an account, set the default,
edit, erase.

Each function takes the open unit of work and the context, runs every applicable rule,
reports all violations at once, writes, records history and commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from custbill.model import (
    AccountStatus,
    Address,
    BillingAccount,
    Contact,
    Customer,
    CustomerKind,
    NewAccount,
    NewCustomer,
)
from custbill.rules import check_account, check_customer, check_hierarchy, violation
from custbill.rules.account import check_invoice_currency_locked, check_invoice_delivery
from custbill.rules.customer import check_not_erased
from custbill.rules.references import check_customer_type_fit
from custbill.service import logs
from custbill.service._unit import (
    Context,
    Stamp,
    account_of,
    change,
    check_version,
    customer_of,
    new_account_record,
    new_customer_record,
    new_number,
    raise_if,
    read_accounts,
    record_changes,
    record_created,
    require,
    under,
)
from custbill.service.deposits import deactivation_violations
from custbill.service.ledger import has_ledger
from custbill.service.notes import delete_notes_of
from custbill.storage.protocols import UnitOfWork

Edited = TypeVar("Edited", Customer, BillingAccount)

#: What required personal text becomes when a customer is erased.
ERASED = "[erased]"

#: The fields edit_customer and edit_account may change.
CUSTOMER_EDITABLE = frozenset(
    a.name for a in attrs.fields(NewCustomer) if a.init and a.name not in ("number", "owner")
)
ACCOUNT_EDITABLE = frozenset(
    a.name for a in attrs.fields(BillingAccount) if a.init and a.name != "version"
)

#: The customer's fields that erasure clears (and redacts in the history).
PERSONAL_CUSTOMER_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "company_name",
        "date_of_birth",
        "tax_number",
        "phones",
        "primary_email",
        "secondary_emails",
        "billing_address",
        "service_address",
        "shipping_address",
    }
)


def create_customer(
    uow: UnitOfWork, ctx: Context, customer: NewCustomer, account: NewAccount
) -> tuple[Customer, BillingAccount]:
    """Create a customer with its first (default) account; see
    :meth:`custbill.CustomerBilling.create_customer`."""
    require(customer, NewCustomer, "customer")
    require(account, NewAccount, "account")
    if ctx.scope is not None and customer.owner is None:  # placed under the scope's root
        customer = attrs.evolve(customer, owner=ctx.scope)
    stamp = ctx.stamp()  # one instant for the rules' "today" and for history
    lookup = ctx.lookup(uow, stamp.at)
    on_account = []
    if customer.number is not None and customer.number == account.number:
        on_account.append(
            violation(
                "account.number_taken",
                "number",
                f"{account.number} is the customer's number",
                number=account.number,
            )
        )
    number = customer.number or new_number(uow, "customer", "C")
    account_number = account.number or new_number(uow, "account", "A")
    stored_customer = new_customer_record(customer, number, account_number, False, 1)
    stored_account = new_account_record(account, account_number, number, AccountStatus.ACTIVE, 1)
    on_account.extend(check_account(account, customer, lookup))
    on_account.extend(check_hierarchy(stored_account, lookup))
    # the two records' violations apart: "customer.first_name", "account.bill_cycle"
    raise_if([*under("customer", check_customer(customer, lookup)), *under("account", on_account)])
    uow.customers.add(stored_customer)
    uow.accounts.add(stored_account)
    record_created(uow, stamp, number, account_number)
    uow.commit()
    logs.changed("created customer", number)
    return stored_customer, stored_account


def add_account(
    uow: UnitOfWork, ctx: Context, customer_number: str, account: NewAccount, make_default: bool
) -> BillingAccount:
    """Add an account to a customer; see :meth:`custbill.CustomerBilling.add_account`."""
    require(account, NewAccount, "account")
    require(make_default, bool, "make_default")
    customer = customer_of(uow, customer_number)
    stamp = ctx.stamp()
    lookup = ctx.lookup(uow, stamp.at)
    raise_if(check_not_erased(customer))
    number = account.number or new_number(uow, "account", "A")
    stored = new_account_record(account, number, customer.number, AccountStatus.ACTIVE, 1)
    raise_if([*check_account(account, customer, lookup), *check_hierarchy(stored, lookup)])
    uow.accounts.add(stored)
    record_created(uow, stamp, number)
    if make_default:
        _set_default(uow, stamp, customer, number)
    uow.commit()
    return stored


def _set_default(uow: UnitOfWork, stamp: Stamp, customer: Customer, account: str) -> Customer:
    new = attrs.evolve(customer, default_account=account, version=customer.version + 1)
    uow.customers.update(new)
    record_changes(uow, stamp, customer.number, customer, new)
    return new


def set_default_account(
    uow: UnitOfWork, ctx: Context, customer_number: str, account_number: str
) -> Customer:
    """Make one of the customer's accounts its default; see
    :meth:`custbill.CustomerBilling.set_default_account`."""
    customer = customer_of(uow, customer_number)
    account = account_of(uow, account_number)
    stamp = ctx.stamp()
    raise_if(check_not_erased(customer))
    if account.customer != customer.number:
        raise_if(
            [
                violation(
                    "account.reference_unknown",
                    "default_account",
                    f"{account.number} is not an account of {customer.number}",
                    kind="account",
                    id=account.number,
                )
            ]
        )
    if customer.default_account == account.number:
        return customer
    new = _set_default(uow, stamp, customer, account.number)
    uow.commit()
    return new


def _unknown_fields(changes: dict[str, Any], editable: frozenset[str], what: str) -> None:
    unknown = set(changes) - editable
    if unknown:
        raise TypeError(f"{what}() cannot change {sorted(unknown)}; editable: {sorted(editable)}")


def edit_customer(
    uow: UnitOfWork,
    ctx: Context,
    number: str,
    expected_version: int | None,
    changes: dict[str, Any],
) -> Customer:
    """Change fields of a customer; see :meth:`custbill.CustomerBilling.edit_customer`."""
    _unknown_fields(changes, CUSTOMER_EDITABLE, "edit_customer")
    before = customer_of(uow, number)
    check_version(before, expected_version)
    stamp = ctx.stamp()
    lookup = ctx.lookup(uow, stamp.at)
    after = attrs.evolve(before, **changes, version=before.version + 1)
    found = list(check_customer(after, lookup, before=before))
    if not before.erased:
        retyped = after.customer_type != before.customer_type
        for account in read_accounts(uow, uow.accounts.of_customer(number)):
            found.extend(check_invoice_delivery(account, after, lookup))
            if retyped:
                found.extend(check_customer_type_fit(account, after, lookup))
    raise_if(found)
    return _commit_edit(uow, stamp, uow.customers.update, before, after)


def edit_account(
    uow: UnitOfWork,
    ctx: Context,
    number: str,
    expected_version: int | None,
    changes: dict[str, Any],
) -> BillingAccount:
    """Change fields of an account; see :meth:`custbill.CustomerBilling.edit_account`."""
    _unknown_fields(changes, ACCOUNT_EDITABLE, "edit_account")
    before = account_of(uow, number)
    check_version(before, expected_version)
    customer = customer_of(uow, before.customer)
    stamp = ctx.stamp()
    lookup = ctx.lookup(uow, stamp.at)
    after = attrs.evolve(before, **changes, version=before.version + 1)
    # the ledger is read only when the currency it is kept in changes
    currency_changed = after.invoice_currency != before.invoice_currency
    raise_if(
        [
            *check_account(after, customer, lookup, before=before),
            *check_hierarchy(after, lookup, before=before),
            *check_invoice_currency_locked(
                before, after, has_ledger=currency_changed and has_ledger(uow, number)
            ),
            *deactivation_violations(uow, before, after),
        ]
    )
    return _commit_edit(uow, stamp, uow.accounts.update, before, after)


def _commit_edit(
    uow: UnitOfWork, stamp: Stamp, update: Callable[[Edited], None], before: Edited, after: Edited
) -> Edited:
    """Store an edited record with its history and commit — unless the edit changes
    nothing but the version, which returns the record as it was."""
    if attrs.evolve(after, version=before.version) == before:
        return before
    update(after)
    record_changes(uow, stamp, before.number, before, after)
    uow.commit()
    return after


def erase_customer(uow: UnitOfWork, ctx: Context, number: str) -> Customer:
    """Erase a customer's personal data; see :meth:`custbill.CustomerBilling.erase_customer`."""
    before = customer_of(uow, number)
    if before.erased:
        return before
    stamp = ctx.stamp()  # before any write
    after = erased(before)
    uow.customers.update(after)
    uow.history.redact(number, PERSONAL_CUSTOMER_FIELDS, ERASED)
    changes = [change(stamp, number, "erased", "false", "true")]
    delete_notes_of(uow, [number, *uow.accounts.of_customer(number)])
    for account_number in uow.accounts.of_customer(number):
        account = account_of(uow, account_number)
        if account.contacts:
            contacts = tuple(Contact(name=ERASED, category=c.category) for c in account.contacts)
            uow.accounts.update(
                attrs.evolve(account, contacts=contacts, version=account.version + 1)
            )
            uow.history.redact(account_number, frozenset({"contacts"}), ERASED)
            changes.append(change(stamp, account_number, "erased", "false", "true"))
    uow.history.append(changes)
    uow.commit()
    logs.changed("erased customer", number)
    return after


def erased(customer: Customer) -> Customer:
    """*customer* with its personal data cleared (see :func:`erase_customer`)."""

    def keep_country(address: Address | None) -> Address | None:
        if address is None:
            return None
        return Address(line1=ERASED, city=ERASED, postal_code=ERASED, country=address.country)

    person = customer.kind is CustomerKind.PERSON
    return attrs.evolve(
        customer,
        first_name=ERASED if person else None,
        last_name=ERASED if person else None,
        company_name=None if person else ERASED,
        primary_email=ERASED,
        secondary_emails=(),
        phones=(),
        billing_address=keep_country(customer.billing_address),
        service_address=keep_country(customer.service_address),
        shipping_address=keep_country(customer.shipping_address),
        tax_number=None,
        date_of_birth=None,
        erased=True,
        version=customer.version + 1,
    )
