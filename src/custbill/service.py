"""The ``CustomerBilling`` facade: the one place that opens units of work, runs the rules,
writes, and records history.

Every public method is atomic: it opens one unit of work, checks everything the operation
touches, reports *all* violations at once in a :class:`~custbill.RuleViolationError`, and
commits only when there are none, so a rejected operation leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

import attrs
from moneyed import Money

from custbill.billing.calendar import next_bill_date
from custbill.billing.plan import plan_run
from custbill.billing.plan_rows import Declined, plan_rows
from custbill.billing.pooling import allocate, subtree
from custbill.errors import ConflictError, NotFoundError, RuleViolationError, StorageError
from custbill.model import (
    AccountCategory,
    AccountStatus,
    Address,
    BillCycle,
    BillingAccount,
    Change,
    Contact,
    Customer,
    CustomerKind,
    CustomFieldDefinition,
    CustomFieldTarget,
    DunningPlan,
    NewAccount,
    NewCustomer,
    PaymentTerm,
    Settings,
    Violation,
)
from custbill.model.billing import (
    Adjustment,
    BillRunPlan,
    Invoice,
    Payment,
    PoolResult,
)
from custbill.model.enums import AdjustmentKind
from custbill.model.masking import mask_date_of_birth, mask_tax_number
from custbill.model.promote import assembler, promoter
from custbill.rules import (
    check_account,
    check_catalog_entry,
    check_customer,
    check_hierarchy,
    check_settings,
    violation,
)
from custbill.rules.account import check_invoice_currency_locked, check_invoice_delivery
from custbill.rules.hierarchy import PARENT_STATUSES, descendants
from custbill.storage.memory import MemoryStore
from custbill.storage.protocols import Hierarchy, PlanRowSource, Store, UnitOfWork
from custbill.storage.search import query_words
from custbill.summary import AccountLine, AccountSummary, CustomerSummary

T = TypeVar("T", BillCycle, PaymentTerm, AccountCategory, DunningPlan)

#: What required personal text becomes when a customer is erased.
ERASED = "[erased]"

_CUSTOMER_EDITABLE = frozenset(
    a.name for a in attrs.fields(NewCustomer) if a.init and a.name != "number"
)
_ACCOUNT_EDITABLE = frozenset(
    a.name for a in attrs.fields(BillingAccount) if a.init and a.name != "version"
)
#: NewCustomer → Customer and NewAccount → BillingAccount, without re-checking the fields.
_new_customer = promoter(NewCustomer, Customer, ("number", "default_account", "erased", "version"))
_new_account = promoter(NewAccount, BillingAccount, ("number", "customer", "status", "version"))
#: Change(at, number, field, old, new) for history the facade writes: its values are a
#: timestamp from the clock, stored numbers, field names and texts made by _shown.
_change = assembler(Change)
_PERSONAL_CUSTOMER_FIELDS = frozenset(
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


_INIT_NAMES: dict[type, tuple[str, ...]] = {}


def _init_names(cls: type) -> tuple[str, ...]:
    names = _INIT_NAMES.get(cls)
    if names is None:
        names = _INIT_NAMES[cls] = tuple(a.name for a in attrs.fields(cls) if a.init)
    return names


def _init_fields(obj: Any, *, without: str = "") -> dict[str, Any]:
    return {n: getattr(obj, n) for n in _init_names(type(obj)) if n != without}


def _require(value: object, kind: type | tuple[type, ...], name: str) -> None:
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " | ".join(k.__name__ for k in kind)
        raise TypeError(f"{name} must be {expected}, not {type(value).__name__}")


def _as_text(value: Any) -> str | None:
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


def _shown(field: str, value: Any) -> str | None:
    if field == "tax_number":
        return mask_tax_number(value)
    if field == "date_of_birth":
        return mask_date_of_birth(value)
    return _as_text(value)


class _BatchUnit:
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
        self.failed: BaseException | None = None
        self.next_number = uow.next_number
        self.number_taken = uow.number_taken
        self.savepoint = uow.savepoint
        self.points: list[AbstractContextManager[None]] = []

    def commit(self) -> None:
        """Nothing: the batch commits when it ends."""

    def __enter__(self) -> _BatchUnit:
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


class _UnitLookup:
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


def _raise_if(violations: Iterable[Violation]) -> None:
    found = tuple(violations)
    if found:
        raise RuleViolationError(found)


class CustomerBilling:
    """Customers and billing accounts, validated on every change.

    Args:
        store: where records live; a new :class:`~custbill.storage.MemoryStore` when omitted.
        settings: when given, validated against the stored data and persisted; when omitted,
            the store's settings are used, or the defaults if it has none.
        clock: returns the current time (timezone-aware); used for history timestamps and
            for "today" in rules.  Defaults to the system clock in UTC.

    Raises:
        RuleViolationError: when *settings* contradict the stored data (``settings.in_use``).
    """

    def __init__(
        self,
        store: Store | None = None,
        settings: Settings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._store: Store = store if store is not None else MemoryStore()
        self._batch = threading.local()
        self._clock = clock or (lambda: datetime.now(UTC))
        if settings is not None:
            _require(settings, Settings, "settings")
            self._put_settings(settings)

    # -- plumbing ---------------------------------------------------------------------------

    def _unit(self) -> UnitOfWork | _BatchUnit:
        """The open batch's unit of work, or a new one."""
        current: _BatchUnit | None = getattr(self._batch, "unit", None)
        return current if current is not None else self._store.unit_of_work()

    @contextlib.contextmanager
    def batch(self) -> Iterator[CustomerBilling]:
        """Run many calls in one unit of work, committed together when the block ends.

        Inside the block (in this thread) every call of this facade joins the batch's unit
        of work instead of opening its own, which saves a transaction per call — on the
        SQLite store, a disk sync per call.  Each call runs in a savepoint of that unit of
        work: a call that fails, whatever it raises, changes nothing, and the batch goes on
        when the block catches the error.  If the block raises, nothing of the batch is
        committed (nor when a failed call's writes could not be undone:
        :class:`~custbill.StorageError` at the end of the block).  Batches nest: an inner
        one joins the outer.

        >>> import custbill as cb
        >>> billing = cb.CustomerBilling()
        >>> with billing.batch():
        ...     billing.add_account_category(cb.AccountCategory(id="a", name="A"))
        ...     billing.add_account_category(cb.AccountCategory(id="b", name="B"))
        >>> [c.id for c in billing.catalog(cb.AccountCategory)]
        ['a', 'b']
        """
        if getattr(self._batch, "unit", None) is not None:
            yield self
            return
        with self._store.unit_of_work() as uow:
            unit = _BatchUnit(uow)
            self._batch.unit = unit
            try:
                yield self
            finally:
                self._batch.unit = None
            if unit.failed is not None:
                raise StorageError(
                    "a call in the batch failed; nothing was committed"
                ) from unit.failed
            uow.commit()

    def _lookup(self, uow: UnitOfWork, at: datetime | None = None) -> _UnitLookup:
        """The rules' view of *uow*; "today" is the date of *at* (the clock's time when
        omitted)."""
        return _UnitLookup(uow, uow.settings.get() or Settings(), (at or self._now()).date())

    def _customer(self, uow: UnitOfWork, number: str) -> Customer:
        _require(number, str, "number")
        customer = uow.customers.get(number)
        if customer is None:
            raise NotFoundError("customer", number)
        return customer

    def _account(self, uow: UnitOfWork, number: str) -> BillingAccount:
        _require(number, str, "number")
        account = uow.accounts.get(number)
        if account is None:
            raise NotFoundError("account", number)
        return account

    def _new_number(self, uow: UnitOfWork, kind: str, prefix: str) -> str:
        while True:
            number = f"{prefix}-{uow.next_number(kind):06d}"
            if not uow.number_taken(number):  # a number given by hand may have this shape
                return number

    def _now(self) -> datetime:
        """The clock's time, for history (the one value of a Change not made here)."""
        at = self._clock()
        _require(at, datetime, "clock()")
        return at

    def _record(self, uow: UnitOfWork, number: str, before: Any, after: Any) -> None:
        """Append one Change per field that differs between *before* and *after*."""
        at = self._now()
        changes = [
            _change(
                at,
                number,
                name,
                _shown(name, getattr(before, name)),
                _shown(name, getattr(after, name)),
            )
            for name in _init_fields(after)
            if name != "version" and getattr(before, name) != getattr(after, name)
        ]
        uow.history.append(changes)

    def _created(self, uow: UnitOfWork, *numbers: str, at: datetime | None = None) -> None:
        """Record the creation of *numbers* at *at* (the clock's time when omitted)."""
        at = at or self._now()
        uow.history.append([_change(at, n, "created", None, None) for n in numbers])

    @staticmethod
    def _check_version(current: Customer | BillingAccount, expected: int | None) -> None:
        if expected is not None:
            _require(expected, int, "expected_version")
            if current.version != expected:
                raise ConflictError(current.number, expected, current.version)

    # -- settings and catalog ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The current settings (the defaults until any are stored)."""
        with self._unit() as uow:
            return uow.settings.get() or Settings()

    def _put_settings(self, settings: Settings) -> None:
        with self._unit() as uow:
            _raise_if(check_settings(settings, uow.customers.all(), uow.accounts.all()))
            uow.settings.put(settings)
            uow.commit()

    def update_settings(self, **changes: Any) -> Settings:
        """Change settings, refusing values existing data contradicts (``settings.in_use``).

        Raises:
            TypeError: for an unknown setting or a value of the wrong type.
            RuleViolationError: ``settings.in_use``.
        """
        with self._unit() as uow:
            new = attrs.evolve(uow.settings.get() or Settings(), **changes)
            _raise_if(check_settings(new, uow.customers.all(), uow.accounts.all()))
            uow.settings.put(new)
            uow.commit()
            return new

    def _add_catalog_entry(self, entry: Any, kind: type) -> None:
        _require(entry, kind, "entry")
        with self._unit() as uow:
            _raise_if(check_catalog_entry(entry, self._lookup(uow)))
            uow.catalog.add(entry)
            uow.commit()

    def add_bill_cycle(self, cycle: BillCycle) -> None:
        """Add a bill cycle (``catalog.invalid``, ``catalog.id_taken``)."""
        self._add_catalog_entry(cycle, BillCycle)

    def add_payment_term(self, term: PaymentTerm) -> None:
        """Add a payment term (``catalog.invalid``, ``catalog.id_taken``)."""
        self._add_catalog_entry(term, PaymentTerm)

    def add_account_category(self, category: AccountCategory) -> None:
        """Add an account category (``catalog.invalid``, ``catalog.id_taken``)."""
        self._add_catalog_entry(category, AccountCategory)

    def add_dunning_plan(self, plan: DunningPlan) -> None:
        """Add a dunning plan (``catalog.invalid``, ``catalog.id_taken``)."""
        self._add_catalog_entry(plan, DunningPlan)

    def add_custom_field(self, definition: CustomFieldDefinition) -> None:
        """Define a custom field (``catalog.invalid``, ``catalog.id_taken`` for a name the
        target already has).  A new required field applies to later changes;
        :meth:`validate_customers` lists the records that lack it."""
        self._add_catalog_entry(definition, CustomFieldDefinition)

    def catalog(self, kind: type[T]) -> tuple[T, ...]:
        """Every catalog entry of *kind* (e.g. ``BillCycle``), in id order."""
        with self._unit() as uow:
            return uow.catalog.all(kind)

    def custom_fields(self, target: CustomFieldTarget) -> tuple[CustomFieldDefinition, ...]:
        """The custom fields defined on customers or on accounts."""
        with self._unit() as uow:
            return uow.catalog.custom_fields(target)

    # -- customers and accounts ---------------------------------------------------------------

    def create_customer(
        self, customer: NewCustomer, account: NewAccount
    ) -> tuple[Customer, BillingAccount]:
        """Create a customer together with its first (default) billing account.

        Numbers are generated (``C-000001``, ``A-000001``) unless given.

        Raises:
            RuleViolationError: with every violation of the customer and the account.
        """
        _require(customer, NewCustomer, "customer")
        _require(account, NewAccount, "account")
        with self._unit() as uow:
            at = self._now()  # one instant for the rules' "today" and for history
            lookup = self._lookup(uow, at)
            found = list(check_customer(customer, lookup))
            if customer.number is not None and customer.number == account.number:
                found.append(
                    violation(
                        "account.number_taken",
                        "number",
                        f"{account.number} is the customer's number",
                        number=account.number,
                    )
                )
            number = customer.number or self._new_number(uow, "customer", "C")
            account_number = account.number or self._new_number(uow, "account", "A")
            stored_customer = _new_customer(customer, number, account_number, False, 1)
            stored_account = self._build_account(account, account_number, number)
            found.extend(check_account(account, customer, lookup))
            found.extend(check_hierarchy(stored_account, lookup))
            _raise_if(found)
            uow.customers.add(stored_customer)
            uow.accounts.add(stored_account)
            self._created(uow, number, account_number, at=at)
            uow.commit()
            return stored_customer, stored_account

    @staticmethod
    def _build_account(account: NewAccount, number: str, customer: str) -> BillingAccount:
        return _new_account(account, number, customer, AccountStatus.ACTIVE, 1)

    def add_account(
        self, customer_number: str, account: NewAccount, make_default: bool = False
    ) -> BillingAccount:
        """Add a billing account to an existing customer, optionally as its default.

        Raises:
            NotFoundError: no such customer.
            RuleViolationError: e.g. ``account.multi_account_disabled``.
        """
        _require(account, NewAccount, "account")
        _require(make_default, bool, "make_default")
        with self._unit() as uow:
            customer = self._customer(uow, customer_number)
            lookup = self._lookup(uow)
            if customer.erased:
                _raise_if(check_customer(customer, lookup, before=customer))
            number = account.number or self._new_number(uow, "account", "A")
            stored = self._build_account(account, number, customer.number)
            _raise_if([*check_account(account, customer, lookup), *check_hierarchy(stored, lookup)])
            uow.accounts.add(stored)
            self._created(uow, number)
            if make_default:
                self._set_default(uow, customer, number)
            uow.commit()
            return stored

    def _set_default(self, uow: UnitOfWork, customer: Customer, account: str) -> Customer:
        new = attrs.evolve(customer, default_account=account, version=customer.version + 1)
        uow.customers.update(new)
        self._record(uow, customer.number, customer, new)
        return new

    def set_default_account(self, customer_number: str, account_number: str) -> Customer:
        """Make one of the customer's accounts its default account.

        Raises:
            NotFoundError: no such customer or account.
            RuleViolationError: ``account.reference_unknown`` when the account belongs to
                another customer; ``customer.erased``.
        """
        with self._unit() as uow:
            customer = self._customer(uow, customer_number)
            account = self._account(uow, account_number)
            _raise_if(
                check_customer(customer, self._lookup(uow), before=customer)
                if customer.erased
                else ()
            )
            if account.customer != customer.number:
                _raise_if(
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
            new = self._set_default(uow, customer, account.number)
            uow.commit()
            return new

    def edit_customer(
        self, number: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> Customer:
        """Change fields of a customer and return the new customer.

        Args:
            number: the customer's number.
            expected_version: when given, the edit applies only to this version.
            **changes: new values of the fields of :class:`~custbill.NewCustomer` (except
                ``number``).

        Raises:
            TypeError: an unknown field, or a value of the wrong type.
            NotFoundError: no such customer.
            ConflictError: the customer is no longer at *expected_version*.
            RuleViolationError: every violation of the edited customer, plus invoice
                delivery violations of its accounts (e.g. removing the billing address of a
                customer with PAPER invoices).
        """
        unknown = set(changes) - _CUSTOMER_EDITABLE
        if unknown:
            raise TypeError(
                f"edit_customer() cannot change {sorted(unknown)}; "
                f"editable: {sorted(_CUSTOMER_EDITABLE)}"
            )
        with self._unit() as uow:
            before = self._customer(uow, number)
            self._check_version(before, expected_version)
            lookup = self._lookup(uow)
            after = attrs.evolve(before, **changes, version=before.version + 1)
            found = list(check_customer(after, lookup, before=before))
            if not before.erased:
                for account_number in uow.accounts.of_customer(number):
                    found.extend(
                        check_invoice_delivery(self._account(uow, account_number), after, lookup)
                    )
            _raise_if(found)
            if attrs.evolve(after, version=before.version) == before:
                return before
            uow.customers.update(after)
            self._record(uow, number, before, after)
            uow.commit()
            return after

    def edit_account(
        self, number: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> BillingAccount:
        """Change fields of a billing account (status and hierarchy links included).

        ``number``, ``customer`` and ``currency`` never change (``account.field_immutable``);
        status follows the lifecycle (``account.status_transition_invalid``).

        Raises:
            TypeError: an unknown field, or a value of the wrong type.
            NotFoundError: no such account.
            ConflictError: the account is no longer at *expected_version*.
            RuleViolationError: every violation of the edited account and its links.
        """
        unknown = set(changes) - _ACCOUNT_EDITABLE
        if unknown:
            raise TypeError(
                f"edit_account() cannot change {sorted(unknown)}; "
                f"editable: {sorted(_ACCOUNT_EDITABLE)}"
            )
        with self._unit() as uow:
            before = self._account(uow, number)
            self._check_version(before, expected_version)
            customer = self._customer(uow, before.customer)
            lookup = self._lookup(uow)
            after = attrs.evolve(before, **changes, version=before.version + 1)
            _raise_if(
                [
                    *check_account(after, customer, lookup, before=before),
                    *check_hierarchy(after, lookup, before=before),
                    *check_invoice_currency_locked(
                        before, after, has_ledger=_has_ledger(uow, number)
                    ),
                ]
            )
            if attrs.evolve(after, version=before.version) == before:
                return before
            uow.accounts.update(after)
            self._record(uow, number, before, after)
            uow.commit()
            return after

    def erase_customer(self, number: str) -> Customer:
        """Erase a customer's personal data, keeping its accounts and billing records.

        Names, emails, phones, addresses (except the country), tax number and date of birth
        are cleared (required text becomes ``"[erased]"``); the names and emails of the
        accounts' contacts are cleared too, and so are the erased values in the history.
        The customer becomes read-only.  History records that an erasure happened, not what
        was erased.  Erasing twice changes nothing.
        """
        with self._unit() as uow:
            before = self._customer(uow, number)
            if before.erased:
                return before
            at = self._now()  # before any write
            after = _erased(before)
            uow.customers.update(after)
            uow.history.redact(number, _PERSONAL_CUSTOMER_FIELDS, ERASED)
            changes = [Change(at=at, number=number, field="erased", old="false", new="true")]
            for account_number in uow.accounts.of_customer(number):
                account = self._account(uow, account_number)
                if account.contacts:
                    contacts = tuple(
                        Contact(name=ERASED, category=c.category) for c in account.contacts
                    )
                    uow.accounts.update(
                        attrs.evolve(account, contacts=contacts, version=account.version + 1)
                    )
                    uow.history.redact(account_number, frozenset({"contacts"}), ERASED)
                    changes.append(
                        Change(
                            at=at, number=account_number, field="erased", old="false", new="true"
                        )
                    )
            uow.history.append(changes)
            uow.commit()
            return after

    # -- reading ---------------------------------------------------------------------------

    def get_customer(self, number: str) -> Customer:
        """The customer with this number.  Raises NotFoundError."""
        with self._unit() as uow:
            return self._customer(uow, number)

    def get_account(self, number: str) -> BillingAccount:
        """The account with this number.  Raises NotFoundError."""
        with self._unit() as uow:
            return self._account(uow, number)

    def _accounts_of(self, uow: UnitOfWork, customer: Customer) -> tuple[BillingAccount, ...]:
        numbers = uow.accounts.of_customer(customer.number)
        ordered = [customer.default_account] + [n for n in numbers if n != customer.default_account]
        return tuple(self._account(uow, n) for n in ordered)

    def accounts_of(self, customer_number: str) -> tuple[BillingAccount, ...]:
        """The customer's accounts: the default first, then the others by number."""
        with self._unit() as uow:
            return self._accounts_of(uow, self._customer(uow, customer_number))

    def managed_accounts(self, number: str) -> tuple[BillingAccount, ...]:
        """The accounts invoiced on this (responsible) account, by number."""
        with self._unit() as uow:
            self._account(uow, number)
            return tuple(self._account(uow, n) for n in uow.accounts.managed_by(number))

    def child_accounts(self, number: str) -> tuple[BillingAccount, ...]:
        """The accounts whose reporting parent is this account, by number."""
        with self._unit() as uow:
            self._account(uow, number)
            return tuple(self._account(uow, n) for n in uow.accounts.children_of(number))

    def search_customers(self, text: str, *, limit: int | None = None) -> tuple[Customer, ...]:
        """Customers whose name words or numbers start with every word of *text*.

        Case- and accent-insensitive; ordered by number; an empty query finds nothing.
        With *limit*, only the first *limit* matches (in number order) — what a search box
        shows — which the stores find without collecting every match; a limit below 1
        finds nothing.
        """
        _require(text, str, "text")
        _check_limit(limit)
        words = query_words(text)
        if not words or (limit is not None and limit < 1):
            return ()
        with self._unit() as uow:
            return tuple(self._customer(uow, n) for n in uow.customers.search(words, limit))

    def search_accounts(self, text: str, *, limit: int | None = None) -> tuple[BillingAccount, ...]:
        """Accounts whose numbers, or whose customer's name words, start with every word of
        *text*.  Case- and accent-insensitive; ordered by number; *limit* as for
        :meth:`search_customers`."""
        _require(text, str, "text")
        _check_limit(limit)
        words = query_words(text)
        if not words or (limit is not None and limit < 1):
            return ()
        with self._unit() as uow:
            return tuple(self._account(uow, n) for n in uow.accounts.search(words, limit))

    def responsible_account_candidates(self, number: str) -> tuple[BillingAccount, ...]:
        """Accounts that could become this account's responsible account: ACTIVE, on the
        same bill cycle, in the same invoice currency, neither the account itself nor one
        it is (indirectly) responsible for.  Ordered by number."""
        with self._unit() as uow:
            account = self._account(uow, number)
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

    def parent_account_candidates(self, number: str) -> tuple[BillingAccount, ...]:
        """Accounts that could become this account's reporting parent: ACTIVE, SUSPENDED or
        PENDING_COLLECTION (and on the same bill cycle when the settings require it),
        neither the account itself nor one of its descendants.  Ordered by number."""
        with self._unit() as uow:
            account = self._account(uow, number)
            same_cycle = self._lookup(uow).settings.require_same_bill_cycle_for_account_hierarchy
            below = descendants(number, uow.accounts.children_of)
            return tuple(
                a
                for a in uow.accounts.all()
                if a.status in PARENT_STATUSES
                and (not same_cycle or a.bill_cycle == account.bill_cycle)
                and a.number != number
                and a.number not in below
            )

    def customer_summary(self, number: str) -> CustomerSummary:
        """The Customer Summary page: the customer and a line per account, default first."""
        with self._unit() as uow:
            customer = self._customer(uow, number)
            lines = tuple(
                AccountLine(
                    number=a.number,
                    external_number=a.external_number,
                    currency=a.currency,
                    status=a.status,
                    balance=_balances(uow, a)[0],
                    minimum_invoice_amount=a.minimum_invoice_amount,
                    is_default=a.number == customer.default_account,
                    preferred_language=a.preferred_language,
                    custom_fields=dict(a.custom_fields),
                )
                for a in self._accounts_of(uow, customer)
            )
            return CustomerSummary(customer=customer, accounts=lines)

    def account_summary(self, number: str) -> AccountSummary:
        """The Account page's summary: status, start and next invoice dates, payment term,
        auto-pay and hierarchy links.  ``next_invoice_date`` is the first bill date on or
        after the later of today and the start date, or None for a deactivated account."""
        with self._unit() as uow:
            account = self._account(uow, number)
            customer = self._customer(uow, account.customer)
            cycle = uow.catalog.get(BillCycle, account.bill_cycle)
            next_date = None
            if cycle is not None and account.status is not AccountStatus.DEACTIVATED:
                try:
                    next_date = next_bill_date(cycle, max(self._now().date(), account.start_date))
                except RuleViolationError:
                    next_date = None
            balance, unapplied = _balances(uow, account)
            pending = uow.ledger.pending(number) or Money(0, account.invoice_currency)
            return AccountSummary(
                account=account,
                customer_number=customer.number,
                customer_name=customer.name,
                balance=balance,
                unapplied_payments=unapplied,
                pending_charges=pending,
                next_invoice_date=next_date,
                payment_term=uow.catalog.get(PaymentTerm, account.payment_term),
                managed_accounts=uow.accounts.managed_by(number),
                child_accounts=uow.accounts.children_of(number),
            )

    def history(self, number: str) -> tuple[Change, ...]:
        """Every recorded change of a customer or account, oldest first.

        Raises:
            NotFoundError: when no customer or account has this number.
        """
        _require(number, str, "number")
        with self._unit() as uow:
            if uow.customers.get(number) is None and uow.accounts.get(number) is None:
                raise NotFoundError("customer or account", number)
            return uow.history.of(number)

    def validate_customers(self) -> dict[str, tuple[Violation, ...]]:
        """Every violation across all stored customers and accounts, grouped by code.

        Useful before a bill run, or after a custom field became required.  Each
        violation's ``params["number"]`` names the customer or account it is about.
        Erased customers are skipped (they are read-only); their accounts are checked.
        Hierarchy links are checked when they are made, and are not re-checked here.
        """
        grouped: dict[str, list[Violation]] = {}

        def add(number: str, violations: Iterable[Violation]) -> None:
            for v in violations:
                tagged = attrs.evolve(v, params={**v.params, "number": number})
                grouped.setdefault(v.code, []).append(tagged)

        with self._unit() as uow:
            lookup = self._lookup(uow)
            for customer in uow.customers.all():
                if not customer.erased:
                    add(customer.number, check_customer(customer, lookup, before=customer))
            for account in uow.accounts.all():
                customer = self._customer(uow, account.customer)
                add(account.number, check_account(account, customer, lookup, before=account))
        return {code: tuple(vs) for code, vs in sorted(grouped.items())}

    # -- bill runs and the ledger -------------------------------------------------------

    def plan_bill_run(
        self, bill_cycle: str, run_date: date, charges: Mapping[str, Money]
    ) -> BillRunPlan:
        """Plan the run of *bill_cycle* on *run_date* without recording anything.

        Accounts on the cycle that are not DEACTIVATED and started on or before *run_date*
        are billed; a managed account's charges go to the top of its responsible chain;
        amounts carried forward from suppressed invoices are added to the billed account's
        (own) invoice.  See the bill-run documentation for the whole behaviour.

        Raises:
            TypeError: arguments of the wrong type (a charge that is not Money, say).
            NotFoundError: no such bill cycle.
            RuleViolationError: ``billing.not_a_bill_date``, ``billing.charge_not_billable``,
                ``billing.charge_currency_mismatch`` — every one found.
        """
        _require(bill_cycle, str, "bill_cycle")
        _require_date(run_date, "run_date")
        _require(charges, Mapping, "charges")
        if set(map(type, charges.values())) - {Money} or set(map(type, charges)) - {str}:
            for number, amount in charges.items():  # (the usual case is checked above, in C)
                if not isinstance(amount, Money):
                    raise TypeError(
                        f"charges[{number!r}] must be Money, not {type(amount).__name__}"
                    )
                _require(number, str, "a charge's account number")
        with self._unit() as uow:
            cycle = uow.catalog.get(BillCycle, bill_cycle)
            if cycle is None:
                raise NotFoundError("bill cycle", bill_cycle)
            accounts = uow.accounts
            terms = partial(uow.catalog.get, PaymentTerm)
            pending = uow.ledger.pending_amounts()
            settings = self._lookup(uow).settings

            def primary_email(number: str) -> str | None:
                customer = uow.customers.get(number)
                return None if customer is None or customer.erased else customer.primary_email

            if isinstance(accounts, PlanRowSource):  # a store that keeps plan rows
                plan = plan_rows(
                    cycle,
                    run_date,
                    accounts.plan_rows(bill_cycle),
                    charges,
                    account=accounts.get,
                    payment_term=terms,
                    pending=pending,
                    settings=settings,
                )
                if not isinstance(plan, Declined):
                    return plan
            return plan_run(
                cycle,
                run_date,
                map(accounts.get, accounts.on_bill_cycle(bill_cycle)),  # type: ignore[arg-type]
                charges,
                account=accounts.get,
                primary_email=primary_email,
                payment_term=terms,
                pending=pending,
                settings=settings,
            )

    def issue_bill_run(self, plan: BillRunPlan) -> tuple[Invoice, ...]:
        """Record the plan's invoices, once.

        Every invoice that is not suppressed is recorded with a generated number
        (``I-000001``…) against its billed account; suppressed totals become the billed
        accounts' carried-forward amounts.  A run is identified by its bill cycle and run
        date: issuing it again — from the same plan or another, sequentially or
        concurrently — records nothing and returns the invoices recorded the first time.

        Raises:
            ConflictError: the carried-forward amounts changed since the plan was made
                (plan again).
        """
        _require(plan, BillRunPlan, "plan")
        with self._unit() as uow:
            ledger = uow.ledger
            issued = ledger.run(plan.bill_cycle, plan.run_date)
            if issued is not None:
                return tuple(i for n in issued if (i := ledger.invoice(n)) is not None)
            billed = sorted({i.billed_account for i in plan.invoices})
            for number in billed:
                now, then = ledger.pending(number), plan.carried_in.get(number)
                if now != then:
                    raise ConflictError(number, then, now, what="pending amount")
            recorded: list[Invoice] = []
            carried: dict[str, Money] = {}
            for planned in plan.invoices:
                if planned.suppressed:
                    previous = carried.get(planned.billed_account)
                    carried[planned.billed_account] = (
                        planned.total if previous is None else previous + planned.total
                    )
                    continue
                invoice = Invoice(
                    number=f"I-{uow.next_number('invoice'):06d}",
                    bill_cycle=plan.bill_cycle,
                    billed_account=planned.billed_account,
                    accounts=planned.accounts,
                    total=planned.total,
                    invoice_date=planned.invoice_date,
                    due_date=planned.due_date,
                    auto_pay_date=planned.auto_pay_date,
                )
                ledger.add_invoice(invoice)
                recorded.append(invoice)
            for number in billed:
                amount = carried.get(number)
                ledger.set_pending(number, amount if amount and amount.amount else None)
            ledger.record_run(plan.bill_cycle, plan.run_date, tuple(i.number for i in recorded))
            uow.commit()
            return tuple(recorded)

    @staticmethod
    def _check_amount(account: BillingAccount, amount: Money, on: date) -> None:
        _require(amount, Money, "amount")
        _require_date(on, "on")
        found = []
        if amount.currency.code != account.invoice_currency:
            found.append(
                violation(
                    "billing.charge_currency_mismatch",
                    "amount",
                    f"{account.number} is billed in {account.invoice_currency}, "
                    f"not {amount.currency.code}",
                    currency=amount.currency.code,
                    invoice_currency=account.invoice_currency,
                )
            )
        if not amount.amount.is_finite() or amount.amount <= 0:
            found.append(
                violation("billing.amount_invalid", "amount", "the amount must be positive")
            )
        _raise_if(found)

    def record_payment(
        self, account_number: str, amount: Money, received_on: date, reference: str | None = None
    ) -> Payment:
        """Record a payment received for an account, in its invoice currency.

        Raises:
            NotFoundError: no such account.
            RuleViolationError: ``billing.charge_currency_mismatch`` (another currency),
                ``billing.amount_invalid`` (not positive).
        """
        _require(reference, (str, type(None)), "reference")
        with self._unit() as uow:
            account = self._account(uow, account_number)
            self._check_amount(account, amount, received_on)
            payment = Payment(
                number=f"P-{uow.next_number('payment'):06d}",
                account=account.number,
                amount=amount,
                received_on=received_on,
                reference=reference,
            )
            uow.ledger.add_payment(payment)
            uow.commit()
            return payment

    def record_adjustment(
        self, account_number: str, kind: AdjustmentKind, amount: Money, on: date, reason: str
    ) -> Adjustment:
        """Record a credit (lowers the balance) or debit (raises it) adjustment.

        Raises:
            NotFoundError: no such account.
            RuleViolationError: as for :meth:`record_payment`.
        """
        _require(kind, AdjustmentKind, "kind")
        _require(reason, str, "reason")
        with self._unit() as uow:
            account = self._account(uow, account_number)
            self._check_amount(account, amount, on)
            adjustment = Adjustment(
                number=f"J-{uow.next_number('adjustment'):06d}",
                account=account.number,
                kind=kind,
                amount=amount,
                on=on,
                reason=reason,
            )
            uow.ledger.add_adjustment(adjustment)
            uow.commit()
            return adjustment

    def invoices(self, account_number: str) -> tuple[Invoice, ...]:
        """The invoices billed to the account, oldest first."""
        with self._unit() as uow:
            return uow.ledger.invoices_of(self._account(uow, account_number).number)

    def payments(self, account_number: str) -> tuple[Payment, ...]:
        """The account's payments, oldest first."""
        with self._unit() as uow:
            return uow.ledger.payments_of(self._account(uow, account_number).number)

    def adjustments(self, account_number: str) -> tuple[Adjustment, ...]:
        """The account's adjustments, oldest first."""
        with self._unit() as uow:
            return uow.ledger.adjustments_of(self._account(uow, account_number).number)

    def pool_usage(
        self, root_account: str, allowance: Decimal, usage: Mapping[str, Decimal]
    ) -> PoolResult:
        """Allocate a pooled *allowance* (units of usage) across the reporting-hierarchy
        subtree of *root_account* and report each account's overage.

        Allocation order is deterministic: the root first, then breadth first, each level's
        children in number order.  Each account takes as much of the remaining allowance as
        its usage needs; the rest of its usage is overage.

        Raises:
            TypeError: amounts that are not Decimal (or int).
            NotFoundError: no such root account.
            RuleViolationError: ``billing.amount_invalid`` for a negative allowance or usage;
                ``account.reference_unknown`` for usage of an account outside the subtree.
        """
        allowance = _decimal(allowance, "allowance")
        _require(usage, Mapping, "usage")
        amounts = {n: _decimal(u, f"usage[{n}]") for n, u in usage.items()}
        with self._unit() as uow:
            root = self._account(uow, root_account)
            members = set(subtree(root.number, uow.accounts.children_of))
            found = []
            if allowance < 0:
                found.append(
                    violation(
                        "billing.amount_invalid", "allowance", "the allowance cannot be negative"
                    )
                )
            for number, amount in amounts.items():
                if amount < 0:
                    found.append(
                        violation(
                            "billing.amount_invalid", f"usage[{number}]", "usage cannot be negative"
                        )
                    )
                if number not in members:
                    found.append(
                        violation(
                            "account.reference_unknown",
                            f"usage[{number}]",
                            f"{number} is not in the subtree of {root.number}",
                            kind="account",
                            id=number,
                        )
                    )
            _raise_if(found)
            return allocate(root.number, allowance, amounts, uow.accounts.children_of)

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the store."""
        self._store.close()

    def __enter__(self) -> CustomerBilling:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _check_limit(limit: object) -> None:
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise TypeError(f"limit must be an int, not {type(limit).__name__}")


def _require_date(value: object, name: str) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise RuleViolationError(
            [violation("billing.amount_invalid", name, "the amount must be a finite number")]
        )
    return number


def _has_ledger(uow: UnitOfWork, number: str) -> bool:
    ledger = uow.ledger
    return bool(
        ledger.invoices_of(number)
        or ledger.payments_of(number)
        or ledger.adjustments_of(number)
        or ledger.pending(number)
    )


def _balances(uow: UnitOfWork, account: BillingAccount) -> tuple[Money, Money]:
    """The account's balance (what it owes; negative is a credit) and its unapplied
    payments (payments beyond what was owed), in its invoice currency."""
    ledger = uow.ledger
    owed = sum((i.total.amount for i in ledger.invoices_of(account.number)), Decimal(0))
    for adjustment in ledger.adjustments_of(account.number):
        sign = 1 if adjustment.kind is AdjustmentKind.DEBIT else -1
        owed += sign * adjustment.amount.amount
    paid = sum((p.amount.amount for p in ledger.payments_of(account.number)), Decimal(0))
    currency = account.invoice_currency
    return Money(owed - paid, currency), Money(
        max(Decimal(0), paid - max(owed, Decimal(0))), currency
    )


def _erased(customer: Customer) -> Customer:
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
