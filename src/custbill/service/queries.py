"""Use cases that only read: records, listings, search, candidates, summaries, history,
the validation report, settings and catalog."""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import NamedTuple

import attrs

from custbill.billing.calendar import next_bill_date
from custbill.errors import RuleViolationError
from custbill.model import (
    AccountStatus,
    BillCycle,
    BillingAccount,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    PaymentTerm,
    Settings,
    ValidationReport,
    Violation,
)
from custbill.rules import check_account, check_customer
from custbill.rules.hierarchy import PARENT_STATUSES, descendants
from custbill.rules.limits import search_limits
from custbill.service._unit import (
    Context,
    account_of,
    customer_of,
    raise_if,
    read_accounts,
    read_customers,
    require,
)
from custbill.service.accounting import available_credit, balances, pending_total
from custbill.service.deposits import held
from custbill.storage.protocols import CatalogItem, CatalogKind, UnitOfWork
from custbill.storage.search import query_words
from custbill.summary import AccountLine, AccountSummary, CustomerSummary


def settings(uow: UnitOfWork, ctx: Context) -> Settings:
    """The current settings (the defaults until any are stored)."""
    return uow.settings.get() or Settings()


#: The kinds of catalog entry.
CATALOG_KINDS: tuple[type, ...] = typing.get_args(CatalogItem)


def catalog(uow: UnitOfWork, ctx: Context, kind: type[CatalogKind]) -> tuple[CatalogKind, ...]:
    """Every catalog entry of *kind*, in id order."""
    if not any(kind is k for k in CATALOG_KINDS):
        names = ", ".join(k.__name__ for k in CATALOG_KINDS)
        given = kind.__name__ if isinstance(kind, type) else type(kind).__name__
        raise TypeError(f"kind: expected one of {names}, got {given}")
    return uow.catalog.all(kind)


def custom_fields(
    uow: UnitOfWork, ctx: Context, target: CustomFieldTarget
) -> tuple[CustomFieldDefinition, ...]:
    """The custom fields defined on customers or on accounts."""
    require(target, CustomFieldTarget, "target")
    return uow.catalog.custom_fields(target)


def get_customer(uow: UnitOfWork, ctx: Context, number: str) -> Customer:
    """The customer with this number (NotFoundError when there is none)."""
    return customer_of(uow, number)


def get_account(uow: UnitOfWork, ctx: Context, number: str) -> BillingAccount:
    """The account with this number (NotFoundError when there is none)."""
    return account_of(uow, number)


def _accounts_of(uow: UnitOfWork, customer: Customer) -> tuple[BillingAccount, ...]:
    numbers = uow.accounts.of_customer(customer.number)
    ordered = [customer.default_account] + [n for n in numbers if n != customer.default_account]
    return read_accounts(uow, ordered)


def accounts_of(uow: UnitOfWork, ctx: Context, customer_number: str) -> tuple[BillingAccount, ...]:
    """The customer's accounts: the default first, then the others by number."""
    return _accounts_of(uow, customer_of(uow, customer_number))


def managed_accounts(uow: UnitOfWork, ctx: Context, number: str) -> tuple[BillingAccount, ...]:
    """The accounts invoiced on this (responsible) account, by number."""
    account_of(uow, number)
    return read_accounts(uow, uow.accounts.managed_by(number))


def child_accounts(uow: UnitOfWork, ctx: Context, number: str) -> tuple[BillingAccount, ...]:
    """The accounts whose reporting parent is this account, by number."""
    account_of(uow, number)
    return read_accounts(uow, uow.accounts.children_of(number))


#: A search limit above this is no limit at all (no store holds more records), and is
#: passed on as None: SQL stores take a limit as a 64-bit integer.
UNLIMITED_ABOVE = 2**62


class _Search(NamedTuple):
    #: The normalised words (none when the search finds nothing anyway).
    words: list[str]
    #: The limit to pass on to the store.
    limit: int | None


def _search_words(text: str, limit: int | None) -> _Search:
    """What a search of *text* asks of the store."""
    require(text, str, "text")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise TypeError(f"limit must be an int, not {type(limit).__name__}")
    raise_if(search_limits(text))
    if limit is not None and limit > UNLIMITED_ABOVE:
        limit = None
    words = query_words(text)
    return _Search([] if limit is not None and limit < 1 else words, limit)


def search_customers(
    uow: UnitOfWork, ctx: Context, text: str, limit: int | None
) -> tuple[Customer, ...]:
    """See :meth:`custbill.CustomerBilling.search_customers`."""
    words, limit = _search_words(text, limit)
    if not words:
        return ()
    return read_customers(uow, uow.customers.search(words, limit))


def search_accounts(
    uow: UnitOfWork, ctx: Context, text: str, limit: int | None
) -> tuple[BillingAccount, ...]:
    """See :meth:`custbill.CustomerBilling.search_accounts`."""
    words, limit = _search_words(text, limit)
    if not words:
        return ()
    return read_accounts(uow, uow.accounts.search(words, limit))


def responsible_account_candidates(
    uow: UnitOfWork, ctx: Context, number: str
) -> tuple[BillingAccount, ...]:
    """See :meth:`custbill.CustomerBilling.responsible_account_candidates`."""
    account = account_of(uow, number)
    below = descendants(number, uow.accounts.managed_by)
    return tuple(
        a
        for a in uow.accounts.all()
        if a.status is AccountStatus.ACTIVE
        and a.bill_cycle == account.bill_cycle
        and a.invoice_currency == account.invoice_currency
        and a.number != number
        and a.number not in below
    )


def parent_account_candidates(
    uow: UnitOfWork, ctx: Context, number: str
) -> tuple[BillingAccount, ...]:
    """See :meth:`custbill.CustomerBilling.parent_account_candidates`."""
    account = account_of(uow, number)
    same_cycle = settings(uow, ctx).require_same_bill_cycle_for_account_hierarchy
    below = descendants(number, uow.accounts.children_of)
    return tuple(
        a
        for a in uow.accounts.all()
        if a.status in PARENT_STATUSES
        and (not same_cycle or a.bill_cycle == account.bill_cycle)
        and a.number != number
        and a.number not in below
    )


def customer_summary(uow: UnitOfWork, ctx: Context, number: str) -> CustomerSummary:
    """The Customer Summary page: the customer and a line per account, default first."""
    customer = customer_of(uow, number)
    lines = tuple(
        AccountLine(
            number=a.number,
            external_number=a.external_number,
            currency=a.currency,
            status=a.status,
            balance=balances(uow, a)[0],
            minimum_invoice_amount=a.minimum_invoice_amount,
            is_default=a.number == customer.default_account,
            preferred_language=a.preferred_language,
            custom_fields=dict(a.custom_fields),
        )
        for a in _accounts_of(uow, customer)
    )
    return CustomerSummary(customer=customer, accounts=lines)


def account_summary(uow: UnitOfWork, ctx: Context, number: str) -> AccountSummary:
    """See :meth:`custbill.CustomerBilling.account_summary`."""
    account = account_of(uow, number)
    customer = customer_of(uow, account.customer)
    cycle = uow.catalog.get(BillCycle, account.bill_cycle)
    next_date = None
    if cycle is not None and account.status is not AccountStatus.DEACTIVATED:
        try:
            next_date = next_bill_date(cycle, max(ctx.now().date(), account.start_date))
        except RuleViolationError:  # past date.max: no next invoice
            next_date = None
    balance, unapplied = balances(uow, account)
    return AccountSummary(
        account=account,
        customer_number=customer.number,
        customer_name=customer.name,
        balance=balance,
        unapplied_payments=unapplied,
        pending_charges=pending_total(uow, account),
        credit_available=available_credit(uow, account),
        deposit_held=held(uow, account),
        next_invoice_date=next_date,
        payment_term=uow.catalog.get(PaymentTerm, account.payment_term),
        managed_accounts=uow.accounts.managed_by(number),
        child_accounts=uow.accounts.children_of(number),
    )


def validate_customers(uow: UnitOfWork, ctx: Context) -> ValidationReport:
    """See :meth:`custbill.CustomerBilling.validate_customers`."""
    grouped: dict[str, list[Violation]] = {}

    def add(number: str, violations: Iterable[Violation]) -> None:
        for v in violations:
            tagged = attrs.evolve(v, params={**v.params, "number": number})
            grouped.setdefault(v.code, []).append(tagged)

    lookup = ctx.lookup(uow)
    for customer in uow.customers.all():
        if not customer.erased:
            add(customer.number, check_customer(customer, lookup, before=customer))
    for account in uow.accounts.all():
        customer = customer_of(uow, account.customer)
        add(account.number, check_account(account, customer, lookup, before=account))
    return ValidationReport((code, tuple(vs)) for code, vs in sorted(grouped.items()))
