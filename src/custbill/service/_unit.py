"""The plumbing every use case shares: the context (the clock), the batch's unit of work,
the rules' lookup over a unit of work, records by number, new numbers and history.

A use case is a function ``(uow, ctx, ...)`` over an open unit of work; it commits the unit
itself when it wrote (cosmicpython's service layer).  The facade
(:class:`custbill.service.CustomerBilling`) opens the unit and delegates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

import attrs
from moneyed import Money

from custbill.errors import ConflictError, NotFoundError, RuleViolationError
from custbill.model import (
    AccountCategory,
    BillCycle,
    BillingAccount,
    Change,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    DunningPlan,
    NewAccount,
    NewCustomer,
    PaymentTerm,
    Settings,
    Violation,
)
from custbill.model.masking import mask_date_of_birth, mask_tax_number
from custbill.model.promote import assembler, promoter
from custbill.model.references import CatalogKind
from custbill.rules import violation
from custbill.rules.cards import card_violations
from custbill.rules.limits import MAX_TEXT_LENGTH, record_text_violations
from custbill.storage.protocols import Hierarchy, ReadsMany, RowSecurity, UnitOfWork

Found = TypeVar("Found", Customer, BillingAccount)

#: NewCustomer → Customer and NewAccount → BillingAccount, without re-checking the fields.
new_customer_record = promoter(
    NewCustomer, Customer, ("number", "default_account", "erased", "version")
)
new_account_record = promoter(
    NewAccount, BillingAccount, ("number", "customer", "status", "version")
)
#: Change(at, number, field, old, new, actor, reason) for history the facade writes: its
#: values are a timestamp from the clock, stored numbers, field names, texts made by
#: shown() and the context's checked actor and reason.
_change = assembler(Change)


class Stamp(NamedTuple):
    """When a call writes, and who makes it and why (as the facade was told)."""

    at: datetime
    actor: str | None
    reason: str | None


def change(stamp: Stamp, number: str, field: str, old: str | None, new: str | None) -> Change:
    """The history entry of a change of *field* of *number*, stamped."""
    return _change(stamp.at, number, field, old, new, stamp.actor, stamp.reason)


@attrs.frozen
class Context:
    """What a use case needs besides its unit of work."""

    #: Returns the current time (timezone-aware): history timestamps and the rules' today.
    clock: Callable[[], datetime]
    #: Who the calls are made by, and why: recorded with every change they make.
    actor: str | None = None
    reason: str | None = None
    #: The customer whose subtree the calls see (:meth:`custbill.CustomerBilling.scoped`),
    #: or None for the whole store.
    scope: str | None = None

    def stamp(self) -> Stamp:
        """:meth:`now`, with the actor and the reason."""
        return Stamp(self.now(), self.actor, self.reason)

    def with_actor(self, actor: str | None, reason: str | None) -> Context:
        """This context for calls by *actor*, for *reason* — each None or a text that is
        not blank, within the text limits and holds no card number."""
        require(actor, (str, type(None)), "actor")
        require(reason, (str, type(None)), "reason")
        given = [("actor", actor), ("reason", reason)]
        raise_if(record_text_violations([(f, v, MAX_TEXT_LENGTH) for f, v in given]))
        raise_if(card_violations(given))
        raise_if(
            violation(f"activity.{f}_required", f, f"a {f}, when given, cannot be blank")
            for f, v in given
            if v is not None and not v.strip()
        )
        return attrs.evolve(self, actor=actor, reason=reason)

    def now(self) -> datetime:
        """The clock's time, checked: the one reading of the clock every use case makes.

        Raises:
            TypeError: the clock gave something other than a datetime.
        """
        at = self.clock()
        require(at, datetime, "clock()")
        return at

    def lookup(self, uow: UnitOfWork, at: datetime | None = None) -> UnitLookup:
        """The rules' view of *uow*; "today" is the date of *at* (the clock's time when
        omitted)."""
        return UnitLookup(uow, uow.settings.get() or Settings(), (at or self.now()).date())


class BatchUnit:
    """The unit of work of a batch, as each call in the batch sees it: entering it takes a
    savepoint of the batch's unit of work, leaving it by an exception goes back to that
    savepoint, and committing does nothing (the batch commits).  A savepoint that cannot be
    gone back to marks the batch failed."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.customers = uow.customers
        self.accounts = uow.accounts
        self.catalog = uow.catalog
        self.settings = uow.settings
        self.history = uow.history
        self.ledger = uow.ledger
        self.notes = uow.notes
        self.next_number = uow.next_number
        self.next_numbers = uow.next_numbers
        self.number_taken = uow.number_taken
        self.savepoint = uow.savepoint
        self.failed: BaseException | None = None
        self.points: list[AbstractContextManager[None]] = []

    def commit(self) -> None:
        """Nothing: the batch commits when it ends."""

    def enter_scope(self, root: str) -> None:
        """The batch's unit of work, scoped (where its database can be)."""
        if isinstance(self.uow, RowSecurity):
            self.uow.enter_scope(root)

    def leave_scope(self) -> None:
        """The batch's unit of work, unscoped."""
        if isinstance(self.uow, RowSecurity):
            self.uow.leave_scope()

    def __enter__(self) -> BatchUnit:
        point = self.uow.savepoint()
        point.__enter__()
        self.points.append(point)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.points.pop().__exit__(exc_type, exc, tb)
        except BaseException as error:  # the call's writes could not be undone
            self.failed = error
            raise


class UnitLookup:
    """The rules' read-only :class:`~custbill.rules.Lookup` over an open unit of work.

    Each question is passed on to the unit's repositories when it is asked: a rules pass
    asks a handful of them, so nothing is bound up front.
    """

    __slots__ = ("settings", "today", "uow")

    def __init__(self, uow: UnitOfWork, settings: Settings, today: date) -> None:
        self.uow = uow
        self.settings = settings
        self.today = today

    def customer(self, number: str) -> Customer | None:
        return self.uow.customers.get(number)

    def account(self, number: str) -> BillingAccount | None:
        return self.uow.accounts.get(number)

    def customer_with_external_number(self, external_number: str) -> str | None:
        return self.uow.customers.with_external_number(external_number)

    def account_with_external_number(self, external_number: str) -> str | None:
        return self.uow.accounts.with_external_number(external_number)

    def customers_named(self, name: str) -> tuple[str, ...]:
        return self.uow.customers.named(name)

    def accounts_of(self, customer: str) -> tuple[str, ...]:
        return self.uow.accounts.of_customer(customer)

    def managed_accounts(self, number: str) -> tuple[str, ...]:
        return self.uow.accounts.managed_by(number)

    def child_accounts(self, number: str) -> tuple[str, ...]:
        return self.uow.accounts.children_of(number)

    def in_chain(self, number: str, start: str, hierarchy: Hierarchy) -> bool:
        return self.uow.accounts.in_chain(number, start, hierarchy)

    def custom_field_definitions(
        self, target: CustomFieldTarget
    ) -> tuple[CustomFieldDefinition, ...]:
        return self.uow.catalog.custom_fields(target)

    def bill_cycle(self, id: str) -> BillCycle | None:
        return self.uow.catalog.get(BillCycle, id)

    def payment_term(self, id: str) -> PaymentTerm | None:
        return self.uow.catalog.get(PaymentTerm, id)

    def account_category(self, id: str) -> AccountCategory | None:
        return self.uow.catalog.get(AccountCategory, id)

    def dunning_plan(self, id: str) -> DunningPlan | None:
        return self.uow.catalog.get(DunningPlan, id)

    def reference(self, kind: type[CatalogKind], id: str) -> CatalogKind | None:
        return self.uow.catalog.get(kind, id)


# -- checks of arguments --------------------------------------------------------------------


def require(value: object, kind: type | tuple[type, ...], name: str) -> None:
    """TypeError unless *value* is an instance of *kind*."""
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " | ".join(k.__name__ for k in kind)
        raise TypeError(f"{name} must be {expected}, not {type(value).__name__}")


def require_date(value: object, name: str) -> None:
    """TypeError unless *value* is a date (and not a datetime)."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")


def raise_if(violations: Iterable[Violation]) -> None:
    """RuleViolationError with every one of *violations*, if there is any."""
    found = tuple(violations)
    if found:
        raise RuleViolationError(found)


def check_version(current: Customer | BillingAccount, expected: int | None) -> None:
    """ConflictError unless *current* is at the *expected* version (when one is given)."""
    if expected is not None:
        require(expected, int, "expected_version")
        if current.version != expected:
            raise ConflictError(current.number, expected, current.version)


# -- records --------------------------------------------------------------------------------


def customer_of(uow: UnitOfWork, number: str) -> Customer:
    """The customer with this number (NotFoundError when there is none)."""
    return _found(uow.customers.get, "customer", number)


def account_of(uow: UnitOfWork, number: str) -> BillingAccount:
    """The account with this number (NotFoundError when there is none)."""
    return _found(uow.accounts.get, "account", number)


def _found(get: Callable[[str], Found | None], kind: str, number: str) -> Found:
    require(number, str, "number")
    found = get(number)
    if found is None:
        raise NotFoundError(kind, number)
    return found


def read_customers(uow: UnitOfWork, numbers: Sequence[str]) -> tuple[Customer, ...]:
    """The customers of *numbers*, in their order (NotFoundError for a missing one): read
    together where the store can (:class:`~custbill.storage.protocols.ReadsMany`)."""
    customers = uow.customers
    many = customers.get_many if isinstance(customers, ReadsMany) else None
    return _all_found(customers.get, many, "customer", numbers)


def read_accounts(uow: UnitOfWork, numbers: Sequence[str]) -> tuple[BillingAccount, ...]:
    """The accounts of *numbers*, in their order (NotFoundError for a missing one): read
    together where the store can (:class:`~custbill.storage.protocols.ReadsMany`)."""
    accounts = uow.accounts
    many = accounts.get_many if isinstance(accounts, ReadsMany) else None
    return _all_found(accounts.get, many, "account", numbers)


def _all_found(
    get: Callable[[str], Found | None],
    get_many: Callable[[Sequence[str]], Mapping[str, Found]] | None,
    kind: str,
    numbers: Sequence[str],
) -> tuple[Found, ...]:
    if get_many is None or len(numbers) < 2:
        return tuple(_found(get, kind, number) for number in numbers)
    found = get_many(numbers)
    missing = next((number for number in numbers if number not in found), None)
    if missing is not None:
        raise NotFoundError(kind, missing)
    return tuple(found[number] for number in numbers)


def new_number(uow: UnitOfWork, kind: str, prefix: str) -> str:
    """The next generated number of *kind* (``C-000042``) that nobody has yet."""
    while True:
        number = f"{prefix}-{uow.next_number(kind):06d}"
        if not uow.number_taken(number):  # a number given by hand may have this shape
            return number


_INIT_NAMES: dict[type, tuple[str, ...]] = {}


def init_names(cls: type) -> tuple[str, ...]:
    """The names of the attrs class's ``__init__`` fields, in order."""
    names = _INIT_NAMES.get(cls)
    if names is None:
        names = _INIT_NAMES[cls] = tuple(a.name for a in attrs.fields(cls) if a.init)
    return names


def init_fields(obj: Any, *, without: str = "") -> dict[str, Any]:
    """The ``__init__`` fields of the attrs instance *obj* (except *without*) by name."""
    return {n: getattr(obj, n) for n in init_names(type(obj)) if n != without}


# -- history --------------------------------------------------------------------------------


def as_text(value: Any) -> str | None:
    """A value as history shows it: plain text for scalars, JSON for structures."""
    from custbill.serialization import converter

    match value:
        case None:
            return None
        case bool():
            return "true" if value else "false"
        case Enum():
            return str(value.value)
        case str():
            return value
        case int() | Decimal():
            return str(value)
        case date():
            return value.isoformat()
        case Money():
            return f"{value.amount} {value.currency.code}"
        case _:
            plain = converter.unstructure(value)
            if isinstance(value, Mapping):
                plain = {k: converter.unstructure(v) for k, v in value.items()}
            return json.dumps(plain, sort_keys=True, ensure_ascii=False, default=str)


def shown(field: str, value: Any) -> str | None:
    """A field's value as history keeps it: protected values masked."""
    if field == "tax_number":
        return mask_tax_number(value)
    if field == "date_of_birth":
        return mask_date_of_birth(value)
    return as_text(value)


def record_changes(uow: UnitOfWork, stamp: Stamp, number: str, before: Any, after: Any) -> None:
    """Append one Change per field that differs between *before* and *after*."""
    uow.history.append(
        [
            change(stamp, number, name, shown(name, getattr(before, name)), shown(name, value))
            for name, value in init_fields(after).items()
            if name != "version" and getattr(before, name) != value
        ]
    )


def record_created(uow: UnitOfWork, stamp: Stamp, *numbers: str) -> None:
    """Record the creation of *numbers*."""
    uow.history.append([change(stamp, n, "created", None, None) for n in numbers])


#: The mark of a history entry that records an event, not a field's change.
EVENT = "@"


def record_event(uow: UnitOfWork, stamp: Stamp, number: str, kind: str, record: str) -> None:
    """Record that *kind* (``"payment"``) happened to *number*: the record *record*
    (``"P-000042"``) holds what it was."""
    uow.history.append([change(stamp, number, EVENT + kind, None, record)])


def under(argument: str, violations: Iterable[Violation]) -> list[Violation]:
    """*violations* of the record passed as *argument*, their paths prefixed with it
    (``account.bill_cycle``), for a call that checks two records at once."""
    return [
        attrs.evolve(v, path=f"{argument}.{v.path}" if v.path else argument) for v in violations
    ]
