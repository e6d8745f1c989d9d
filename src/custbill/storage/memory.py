"""An in-memory store: fast, thread-safe, all-or-nothing units of work.

One lock serialises units of work, so each facade call is atomic and sees a consistent
state.  Writes are applied at once and an undo log restores the previous state if the unit
of work ends without :meth:`~MemoryUnitOfWork.commit`.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from types import TracebackType
from typing import Any, TypeVar

import attrs
from moneyed import Money

from custbill.errors import ConflictError
from custbill.model import (
    BillingAccount,
    Change,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    Settings,
)
from custbill.model.billing import Adjustment, Invoice, Payment
from custbill.storage.protocols import CatalogItem, T
from custbill.storage.search import account_tokens, customer_tokens

_Undo = Callable[[], None]
R = TypeVar("R", Invoice, Payment, Adjustment)


class TokenIndex:
    """Word-prefix index: token → keys, with the tokens kept sorted for prefix ranges."""

    def __init__(self) -> None:
        self._postings: dict[str, set[str]] = {}
        self._sorted: list[str] = []
        self._tokens_of: dict[str, frozenset[str]] = {}

    def tokens_of(self, key: str) -> frozenset[str]:
        """The tokens *key* is indexed under."""
        return self._tokens_of.get(key, frozenset())

    def set(self, key: str, tokens: frozenset[str]) -> None:
        """Index *key* under exactly *tokens* (replacing what it had)."""
        old = self._tokens_of.get(key, frozenset())
        for token in old - tokens:
            keys = self._postings[token]
            keys.discard(key)
            if not keys:
                del self._postings[token]
                del self._sorted[bisect.bisect_left(self._sorted, token)]
        for token in tokens - old:
            if token in self._postings:
                self._postings[token].add(key)
            else:
                self._postings[token] = {key}
                bisect.insort(self._sorted, token)
        if tokens:
            self._tokens_of[key] = tokens
        else:
            self._tokens_of.pop(key, None)

    def search(self, words: Sequence[str]) -> list[str]:
        """Keys having, for every word, a token that starts with it; sorted."""
        result: set[str] | None = None
        for word in sorted(words, key=len, reverse=True):  # longest first: fewest keys
            matched: set[str] = set()
            i = bisect.bisect_left(self._sorted, word)
            while i < len(self._sorted) and self._sorted[i].startswith(word):
                matched |= self._postings[self._sorted[i]]
                i += 1
            result = matched if result is None else result & matched
            if not result:
                return []
        return sorted(result) if result else []


def _add_to(index: dict[str, list[str]], key: str | None, number: str) -> None:
    if key is not None:
        bisect.insort(index.setdefault(key, []), number)


def _remove_from(index: dict[str, list[str]], key: str | None, number: str) -> None:
    if key is not None:
        numbers = index[key]
        numbers.remove(number)
        if not numbers:
            del index[key]


class MemoryStore:
    """Keeps everything in dictionaries with the indexes the facade needs.

    Safe to share between threads.  Nothing survives the process.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.customers: dict[str, Customer] = {}
        self.accounts: dict[str, BillingAccount] = {}
        self.customer_by_external: dict[str, str] = {}
        self.account_by_external: dict[str, str] = {}
        self.customers_by_name: dict[str, list[str]] = {}
        self.accounts_by_customer: dict[str, list[str]] = {}
        self.managed: dict[str, list[str]] = {}
        self.children: dict[str, list[str]] = {}
        self.by_bill_cycle: dict[str, list[str]] = {}
        self.customer_search = TokenIndex()
        self.account_search = TokenIndex()
        self.catalog: dict[type, dict[str, Any]] = {}
        self.custom_fields: dict[CustomFieldTarget, dict[str, CustomFieldDefinition]] = {}
        self.settings: Settings | None = None
        self.history: dict[str, list[Change]] = {}
        self.invoices: dict[str, Invoice] = {}
        self.entries: dict[str, dict[type, list[Any]]] = {}  # account -> kind -> records
        self.pending: dict[str, Money] = {}
        self.runs: dict[tuple[str, date], tuple[str, ...]] = {}
        self.sequences: dict[str, int] = {}
        self.closed = False

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work over this store."""
        return MemoryUnitOfWork(self)

    def close(self) -> None:
        """Nothing to release; the store stays readable."""
        self.closed = True

    # -- state transitions used by the repositories (and, reversed, by undo) -------------

    def replace_customer(self, old: Customer | None, new: Customer | None) -> None:
        """Move the customer record and every index from *old* to *new*."""
        number = (new or old).number  # type: ignore[union-attr]
        if old is not None:
            if old.external_number is not None:
                del self.customer_by_external[old.external_number]
            _remove_from(self.customers_by_name, old.name.casefold(), number)
        if new is None:
            del self.customers[number]
            self.customer_search.set(number, frozenset())
        else:
            self.customers[number] = new
            if new.external_number is not None:
                self.customer_by_external[new.external_number] = number
            _add_to(self.customers_by_name, new.name.casefold(), number)
            self.customer_search.set(number, customer_tokens(number, new.external_number, new.name))
        if old is not None and new is not None and old.name != new.name:
            for account in self.accounts_by_customer.get(number, ()):
                self._index_account_search(self.accounts[account])

    def _index_account_search(self, account: BillingAccount) -> None:
        customer = self.customers.get(account.customer)
        name = customer.name if customer is not None else ""
        self.account_search.set(
            account.number, account_tokens(account.number, account.external_number, name)
        )

    def replace_account(self, old: BillingAccount | None, new: BillingAccount | None) -> None:
        """Move the account record and every index from *old* to *new*."""
        number = (new or old).number  # type: ignore[union-attr]
        if old is not None:
            if old.external_number is not None:
                del self.account_by_external[old.external_number]
            _remove_from(self.accounts_by_customer, old.customer, number)
            _remove_from(self.managed, old.responsible_account, number)
            _remove_from(self.children, old.parent_account, number)
            _remove_from(self.by_bill_cycle, old.bill_cycle, number)
        if new is None:
            del self.accounts[number]
            self.account_search.set(number, frozenset())
            return
        self.accounts[number] = new
        if new.external_number is not None:
            self.account_by_external[new.external_number] = number
        _add_to(self.accounts_by_customer, new.customer, number)
        _add_to(self.managed, new.responsible_account, number)
        _add_to(self.children, new.parent_account, number)
        _add_to(self.by_bill_cycle, new.bill_cycle, number)
        self._index_account_search(new)


class MemoryUnitOfWork:
    """A unit of work on a :class:`MemoryStore`; holds the store's lock while open."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.undo: list[_Undo] = []
        self.customers = _Customers(self)
        self.accounts = _Accounts(self)
        self.catalog = _Catalog(self)
        self.settings = _Settings(self)
        self.history = _History(self)
        self.ledger = _Ledger(self)

    def __enter__(self) -> MemoryUnitOfWork:
        self.store.lock.acquire()
        self.undo = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self.store.lock.release()

    def next_number(self, kind: str) -> int:
        """Next value of a sequence; not undone by a rollback, so values never repeat."""
        value = self.store.sequences.get(kind, 0) + 1
        self.store.sequences[kind] = value
        return value

    def commit(self) -> None:
        """Keep every write made so far."""
        self.undo = []

    def rollback(self) -> None:
        """Undo every write since the last commit, newest first."""
        while self.undo:
            self.undo.pop()()


class _Customers:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow, self.store = uow, uow.store

    def get(self, number: str) -> Customer | None:
        return self.store.customers.get(number)

    def add(self, customer: Customer) -> None:
        self.store.replace_customer(None, customer)
        self.uow.undo.append(lambda: self.store.replace_customer(customer, None))

    def update(self, customer: Customer) -> None:
        old = self.store.customers[customer.number]
        if old.version != customer.version - 1:
            raise ConflictError(customer.number, customer.version - 1, old.version)
        self.store.replace_customer(old, customer)
        self.uow.undo.append(lambda: self.store.replace_customer(customer, old))

    def with_external_number(self, external_number: str) -> str | None:
        return self.store.customer_by_external.get(external_number)

    def named(self, name: str) -> tuple[str, ...]:
        return tuple(self.store.customers_by_name.get(name.casefold(), ()))

    def search(self, words: Sequence[str]) -> list[str]:
        return self.store.customer_search.search(words)

    def all(self) -> Iterator[Customer]:
        customers = self.store.customers
        return (customers[n] for n in sorted(customers))


class _Accounts:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow, self.store = uow, uow.store

    def get(self, number: str) -> BillingAccount | None:
        return self.store.accounts.get(number)

    def add(self, account: BillingAccount) -> None:
        self.store.replace_account(None, account)
        self.uow.undo.append(lambda: self.store.replace_account(account, None))

    def update(self, account: BillingAccount) -> None:
        old = self.store.accounts[account.number]
        if old.version != account.version - 1:
            raise ConflictError(account.number, account.version - 1, old.version)
        self.store.replace_account(old, account)
        self.uow.undo.append(lambda: self.store.replace_account(account, old))

    def with_external_number(self, external_number: str) -> str | None:
        return self.store.account_by_external.get(external_number)

    def of_customer(self, customer: str) -> tuple[str, ...]:
        return tuple(self.store.accounts_by_customer.get(customer, ()))

    def managed_by(self, number: str) -> tuple[str, ...]:
        return tuple(self.store.managed.get(number, ()))

    def children_of(self, number: str) -> tuple[str, ...]:
        return tuple(self.store.children.get(number, ()))

    def on_bill_cycle(self, bill_cycle: str) -> tuple[str, ...]:
        return tuple(self.store.by_bill_cycle.get(bill_cycle, ()))

    def search(self, words: Sequence[str]) -> list[str]:
        return self.store.account_search.search(words)

    def all(self) -> Iterator[BillingAccount]:
        accounts = self.store.accounts
        return (accounts[n] for n in sorted(accounts))


class _Catalog:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow, self.store = uow, uow.store

    def get(self, kind: type[T], id: str) -> T | None:
        entry: T | None = self.store.catalog.get(kind, {}).get(id)
        return entry

    def all(self, kind: type[T]) -> tuple[T, ...]:
        entries = self.store.catalog.get(kind, {})
        return tuple(entries[k] for k in sorted(entries))

    def add(self, entry: CatalogItem | CustomFieldDefinition) -> None:
        if isinstance(entry, CustomFieldDefinition):
            defs = self.store.custom_fields.setdefault(entry.applies_to, {})
            defs[entry.name] = entry
            self.uow.undo.append(lambda: defs.__delitem__(entry.name))
        else:
            entries = self.store.catalog.setdefault(type(entry), {})
            entries[entry.id] = entry
            self.uow.undo.append(lambda: entries.__delitem__(entry.id))

    def custom_fields(self, target: CustomFieldTarget) -> tuple[CustomFieldDefinition, ...]:
        return tuple(self.store.custom_fields.get(target, {}).values())


class _Settings:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow, self.store = uow, uow.store

    def get(self) -> Settings | None:
        return self.store.settings

    def put(self, settings: Settings) -> None:
        old = self.store.settings
        self.store.settings = settings

        def undo() -> None:
            self.store.settings = old

        self.uow.undo.append(undo)


class _History:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow, self.store = uow, uow.store

    def append(self, changes: Sequence[Change]) -> None:
        for change in changes:
            log = self.store.history.setdefault(change.number, [])
            log.append(change)
            self.uow.undo.append(log.pop)  # type: ignore[arg-type]  # pop's result is unused

    def of(self, number: str) -> tuple[Change, ...]:
        return tuple(self.store.history.get(number, ()))

    def redact(self, number: str, fields: frozenset[str], mask: str) -> None:
        log = self.store.history.get(number)
        if not log:
            return
        before = list(log)
        log[:] = [
            attrs.evolve(
                c, old=None if c.old is None else mask, new=None if c.new is None else mask
            )
            if c.field in fields
            else c
            for c in log
        ]

        def undo() -> None:
            log[:] = before

        self.uow.undo.append(undo)


class _Ledger:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow, self.store = uow, uow.store

    def _append(self, account: str, record: Any) -> None:
        records = self.store.entries.setdefault(account, {}).setdefault(type(record), [])
        records.append(record)
        self.uow.undo.append(records.pop)

    def _of(self, account: str, kind: type[R]) -> tuple[R, ...]:
        return tuple(self.store.entries.get(account, {}).get(kind, ()))

    def invoice(self, number: str) -> Invoice | None:
        return self.store.invoices.get(number)

    def add_invoice(self, invoice: Invoice) -> None:
        self.store.invoices[invoice.number] = invoice
        self.uow.undo.append(lambda: self.store.invoices.__delitem__(invoice.number))
        self._append(invoice.billed_account, invoice)

    def invoices_of(self, account: str) -> tuple[Invoice, ...]:
        return self._of(account, Invoice)

    def add_payment(self, payment: Payment) -> None:
        self._append(payment.account, payment)

    def payments_of(self, account: str) -> tuple[Payment, ...]:
        return self._of(account, Payment)

    def add_adjustment(self, adjustment: Adjustment) -> None:
        self._append(adjustment.account, adjustment)

    def adjustments_of(self, account: str) -> tuple[Adjustment, ...]:
        return self._of(account, Adjustment)

    def pending(self, account: str) -> Money | None:
        return self.store.pending.get(account)

    def set_pending(self, account: str, amount: Money | None) -> None:
        old = self.store.pending.get(account)
        if amount is None:
            self.store.pending.pop(account, None)
        else:
            self.store.pending[account] = amount

        def undo() -> None:
            if old is None:
                self.store.pending.pop(account, None)
            else:
                self.store.pending[account] = old

        self.uow.undo.append(undo)

    def run(self, bill_cycle: str, run_date: date) -> tuple[str, ...] | None:
        return self.store.runs.get((bill_cycle, run_date))

    def record_run(self, bill_cycle: str, run_date: date, invoices: tuple[str, ...]) -> None:
        key = (bill_cycle, run_date)
        self.store.runs[key] = invoices
        self.uow.undo.append(lambda: self.store.runs.__delitem__(key))
