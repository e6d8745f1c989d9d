"""An in-memory store: fast, compact, thread-safe, all-or-nothing units of work.

One lock serialises units of work, so each facade call is atomic and sees a consistent
state.  Writes are applied at once and an undo log restores the previous state if the unit
of work ends without :meth:`~MemoryUnitOfWork.commit`.

The indexes are kept small, because a store may hold millions of accounts: an index entry
holds one number as a plain string and only becomes a list when a key has several; number
and token lists are bucketed :class:`~custbill.storage.sortedlist.SortedList` s; an
account's search reuses its customer's name index instead of copying it; history entries
are plain tuples until they are read; customers and accounts are kept packed
(:mod:`~custbill.model.packing`), as tuples the garbage collector does not track, and
unpacked when read.

Its larger parts live beside it: the name index (:mod:`~custbill.storage.token_index`),
the search planner over it (:mod:`~custbill.storage.memory_search`), the plan rows of each
bill cycle (:mod:`~custbill.storage.cycle_rows`), and history and ledger
(:mod:`~custbill.storage.memory_logs`).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from moneyed import Money

from custbill.errors import ConflictError
from custbill.model import (
    BillingAccount,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    Note,
    Settings,
)
from custbill.model.billing import WHOLE_RUN, Charge, Invoice, Partition
from custbill.model.packing import Packed, Packer, packer_of
from custbill.model.plan_row import PlanRow, PlanRows, ProfileKey, plan_row, profile_key
from custbill.storage._per_process import MadeIn
from custbill.storage.cycle_rows import CycleRows
from custbill.storage.memory_logs import (
    Entry,
    MemoryHistory,
    MemoryLedger,
    MemoryNotes,
    MemoryRun,
    Undo,
)
from custbill.storage.memory_search import CustomerSearch, NameIndex, intersect
from custbill.storage.multi_index import multi_add, multi_get, multi_remove
from custbill.storage.protocols import CatalogItem, CatalogKind, Hierarchy
from custbill.storage.search import name_tokens, normalise
from custbill.storage.sortedlist import SortedList

#: How customers and accounts are packed, and where their fields read without unpacking sit.
CUSTOMER_PACKER = packer_of(Customer)
ACCOUNT_PACKER = packer_of(BillingAccount)
_NAME = CUSTOMER_PACKER.position("name")
_EXTERNAL_NUMBER = CUSTOMER_PACKER.position("external_number")
_PRIMARY_EMAIL = CUSTOMER_PACKER.position("primary_email")
_ERASED = CUSTOMER_PACKER.position("erased")
_END_DATE = CUSTOMER_PACKER.position("end_date")


class _Versioned(Protocol):
    @property
    def number(self) -> str: ...

    @property
    def version(self) -> int: ...


Rec = TypeVar("Rec", bound=_Versioned)


class MemoryStore:
    """Keeps everything in memory with the indexes the facade needs.

    Safe to share between threads.  Nothing survives the process, and a process forked
    from the one that made it holds a copy: the first write there warns that no other
    process sees it.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        #: Customers and accounts by number, packed (see :mod:`custbill.model.packing`).
        self.customers: dict[str, Packed] = {}
        self.accounts: dict[str, Packed] = {}
        #: The accounts that manage others, kept unpacked once read, because every bill run
        #: reads them whole (a tenth of the accounts at most, in a typical store); an
        #: account leaves it when it is written.
        self.managing: dict[str, BillingAccount] = {}
        self.customer_by_external: dict[str, str] = {}
        self.account_by_external: dict[str, str] = {}
        self.customer_numbers = SortedList(normalise)
        self.account_numbers = SortedList(normalise)
        self.customer_externals = SortedList(normalise)
        self.account_externals = SortedList(normalise)
        self.names = NameIndex(self._name_tokens)
        self.accounts_by_customer: dict[str, Any] = {}
        self.managed: dict[str, Any] = {}
        self.children: dict[str, Any] = {}
        # The hierarchies as integer links, for walks of tens of nanoseconds per step:
        # account_ids numbers every account ever seen; up[h][i] is the id above account i in
        # hierarchy h, or -1.
        self.account_ids: dict[str, int] = {}
        self.up: dict[str, array[int]] = {"responsible": array("q"), "parent": array("q")}
        self.by_bill_cycle: dict[str, CycleRows] = {}
        #: Plan profiles (see custbill.model.plan_row.profile_key) as small integers.
        self.profiles: dict[ProfileKey, int] = {}
        self.catalog: dict[type, dict[str, Any]] = {}
        self.custom_fields: dict[CustomFieldTarget, dict[str, CustomFieldDefinition]] = {}
        self.settings: Settings | None = None
        self.history: dict[str, tuple[Entry, ...]] = {}
        self.notes: dict[str, Note] = {}
        self.notes_of: dict[str, tuple[str, ...]] = {}
        self.invoices: dict[str, Invoice] = {}
        self.entries: dict[str, dict[type, list[Any]]] = {}  # account -> kind -> records
        self.pending: dict[str, Money] = {}
        self.charges: dict[str, Charge] = {}
        #: The numbers of the charges no run has billed, oldest first (a dict as an
        #: ordered set).
        self.pending_charges: dict[str, None] = {}
        self.runs: dict[tuple[str, date], MemoryRun] = {}
        self.sequences: dict[str, int] = {}
        self.closed = False
        self.made_in = MadeIn()
        #: The undo log of the unit of work holding the lock.
        self.undo: list[Undo] = []
        self.repositories = (
            _Customers(self),
            _Accounts(self),
            _Catalog(self),
            _Settings(self),
            MemoryHistory(self),
            MemoryLedger(self),
            MemoryNotes(self),
        )

    def unit_of_work(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        """A new unit of work over this store (units take turns, reading or not)."""
        return MemoryUnitOfWork(self)

    def close(self) -> None:
        """Nothing to release; the store stays readable."""
        self.closed = True

    # -- state transitions used by the repositories (and, reversed, by undo) -------------

    def replace_customer(self, old: Customer | None, new: Customer | None) -> None:
        """Move the customer record and every index from *old* to *new*."""
        number = (new or old).number  # type: ignore[union-attr]
        if new is None:
            del self.customers[number]
            self.customer_numbers.remove(number)
        else:
            self.customers[number] = CUSTOMER_PACKER.pack(new)
            if old is None:
                self.customer_numbers.add(number)
        old_ext = old.external_number if old is not None else None
        new_ext = new.external_number if new is not None else None
        if old_ext != new_ext:
            if old_ext is not None:
                del self.customer_by_external[old_ext]
                self.customer_externals.remove(old_ext)
            if new_ext is not None:
                self.customer_by_external[new_ext] = number
                self.customer_externals.add(new_ext)
        old_name = old.name if old is not None else None
        new_name = new.name if new is not None else None
        if old_name != new_name:  # every token again: the signature beside each is new
            if old_name:
                self.names.discard(number, old_name)
            if new_name:
                self.names.add(number, new_name)
        if (old is None or old.erased, old and old.primary_email, old and old.end_date) != (
            new is None or new.erased,
            new and new.primary_email,
            new and new.end_date,
        ):
            self._refresh_rows(number)

    def replace_account(self, old: BillingAccount | None, new: BillingAccount | None) -> None:
        """Move the account record and every index from *old* to *new*."""
        self.managing.pop((new or old).number, None)  # type: ignore[union-attr]
        if old is None:
            assert new is not None
            self._index_account(new, add=True)
        elif new is None:
            self._index_account(old, add=False)
        else:
            self.accounts[new.number] = ACCOUNT_PACKER.pack(new)
            if (
                old.external_number,
                old.customer,
                old.responsible_account,
                old.parent_account,
                old.bill_cycle,
            ) != (
                new.external_number,
                new.customer,
                new.responsible_account,
                new.parent_account,
                new.bill_cycle,
            ):
                self._index_account(old, add=False)
                self._index_account(new, add=True)
            else:
                self.by_bill_cycle[new.bill_cycle].put(self._plan_row(new))

    def account(self, number: str) -> BillingAccount | None:
        """The account of *number*, unpacked, or None."""
        packed = self.accounts.get(number)
        return None if packed is None else ACCOUNT_PACKER.unpack(packed)

    def _name_tokens(self, number: str) -> frozenset[str]:
        name: str = self.customers[number][_NAME]
        return name_tokens(name) if name else frozenset()

    def _account_id(self, number: str) -> int:
        """The integer id of an account number, given on first sight."""
        found = self.account_ids.get(number)
        if found is None:
            found = self.account_ids[number] = len(self.up["responsible"])
            for links in self.up.values():
                links.append(-1)
        return found

    def _index_account(self, account: BillingAccount, *, add: bool) -> None:
        """Add *account* to (or remove it from) the records and every index."""
        number = account.number
        index = multi_add if add else multi_remove
        if add:
            self.accounts[number] = ACCOUNT_PACKER.pack(account)
            self.account_numbers.add(number)
        else:
            del self.accounts[number]
            self.account_numbers.remove(number)
        ext = account.external_number
        if ext is not None:
            if add:
                self.account_by_external[ext] = number
                self.account_externals.add(ext)
            else:
                del self.account_by_external[ext]
                self.account_externals.remove(ext)
        index(self.accounts_by_customer, account.customer, number)
        if account.responsible_account is not None or account.parent_account is not None:
            self._link(account, add=add)
        cycle = self.by_bill_cycle.get(account.bill_cycle)
        if add:
            if cycle is None:
                cycle = self.by_bill_cycle[account.bill_cycle] = CycleRows()
            cycle.put(self._plan_row(account))
        else:
            assert cycle is not None
            cycle.drop(number)
            if not cycle:
                del self.by_bill_cycle[account.bill_cycle]

    def _link(self, account: BillingAccount, *, add: bool) -> None:
        """Add (or remove) the hierarchy links of *account*."""
        number = account.number
        index = multi_add if add else multi_remove
        for target, tree, up in (
            (account.responsible_account, self.managed, self.up["responsible"]),
            (account.parent_account, self.children, self.up["parent"]),
        ):
            if target is not None:
                index(tree, target, number)
                up[self._account_id(number)] = self._account_id(target) if add else -1
        responsible = self.account(account.responsible_account or "")
        rows = self.by_bill_cycle.get(responsible.bill_cycle) if responsible else None
        if responsible is not None and rows is not None and responsible.number != number:
            rows.put(self._plan_row(responsible))  # its row says whether it manages accounts

    def _plan_row(self, account: BillingAccount) -> PlanRow:
        customer = self.customers.get(account.customer)
        email = None if customer is None or customer[_ERASED] else customer[_PRIMARY_EMAIL]
        key = profile_key(account)
        profile = self.profiles.get(key)
        if profile is None:
            profile = self.profiles[key] = len(self.profiles)
        managing = account.number in self.managed
        ends = None if customer is None else customer[_END_DATE]
        return plan_row(account, email, profile, managing, ends)

    def _refresh_rows(self, customer: str) -> None:
        """Renew the plan rows of *customer*'s accounts (its primary email or end date
        changed)."""
        for number in multi_get(self.accounts_by_customer, customer):
            account = ACCOUNT_PACKER.unpack(self.accounts[number])
            self.by_bill_cycle[account.bill_cycle].put(self._plan_row(account))


class MemoryUnitOfWork:
    """A unit of work on a :class:`MemoryStore`; holds the store's lock while open.

    The repositories belong to the store and record their undo steps in the log of the unit
    of work that holds the lock.
    """

    __slots__ = (
        "accounts",
        "catalog",
        "customers",
        "history",
        "ledger",
        "notes",
        "outer",
        "settings",
        "store",
        "undo",
    )

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        repositories = store.repositories
        self.customers, self.accounts, self.catalog, self.settings = repositories[:4]
        self.history, self.ledger, self.notes = repositories[4:]
        self.undo: list[Undo] = []
        self.outer: list[Undo] = []

    def __enter__(self) -> MemoryUnitOfWork:
        self.store.lock.acquire()
        self.undo = []
        self.outer, self.store.undo = self.store.undo, self.undo
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
            self.store.undo = self.outer
            self.store.lock.release()

    def next_number(self, kind: str) -> int:
        """Next value of a sequence; not undone by a rollback, so values never repeat."""
        value = self.store.sequences.get(kind, 0) + 1
        self.store.sequences[kind] = value
        return value

    def next_numbers(self, kind: str, count: int) -> list[int]:
        """The next *count* values of a sequence."""
        start = self.store.sequences.get(kind, 0)
        self.store.sequences[kind] = start + count
        return list(range(start + 1, start + count + 1))

    def number_taken(self, number: str) -> bool:
        """True when a customer or an account has this number."""
        return number in self.store.customers or number in self.store.accounts

    def savepoint(self) -> MemorySavepoint:
        """A mark in the undo log: an exception inside the block undoes the writes logged
        since (see :meth:`~custbill.storage.protocols.UnitOfWork.savepoint`)."""
        return MemorySavepoint(self)

    def commit(self) -> None:
        """Keep every write made so far."""
        if self.undo:
            self.store.made_in.check_write()
            self.undo.clear()

    def rollback(self) -> None:
        """Undo every write since the last commit, newest first."""
        self.undo_to(0)

    def undo_to(self, mark: int) -> None:
        """Undo the writes logged after the first *mark* ones, newest first."""
        undo = self.undo
        while len(undo) > mark:
            undo.pop()()


class MemorySavepoint:
    """A savepoint of a :class:`MemoryUnitOfWork`, as a context manager (a class rather
    than a generator: a batch takes one per call)."""

    __slots__ = ("mark", "unit")

    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self.unit = unit
        self.mark = 0

    def __enter__(self) -> None:
        self.mark = len(self.unit.undo)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.unit.undo_to(self.mark)


class _Records(Generic[Rec]):
    """What the customer and account repositories share: records kept packed by *packer*;
    a record added or replaced moves every index through the store's *replace* (and back,
    on undo)."""

    def __init__(
        self,
        store: MemoryStore,
        records: dict[str, Packed],
        packer: Packer[Rec],
        replace: Callable[[Rec | None, Rec | None], None],
    ) -> None:
        self.store = store
        self.records = records
        self.unpack = packer.unpack
        self.replace = replace

    def get(self, number: str) -> Rec | None:
        packed = self.records.get(number)
        return None if packed is None else self.unpack(packed)

    def add(self, record: Rec) -> None:
        self.replace(None, record)
        self.store.undo.append(lambda: self.replace(record, None))

    def update(self, record: Rec) -> None:
        old = self.unpack(self.records[record.number])
        if old.version != record.version - 1:
            raise ConflictError(record.number, record.version - 1, old.version)
        self.replace(old, record)
        self.store.undo.append(lambda: self.replace(record, old))

    def all(self) -> Iterator[Rec]:
        records, unpack = self.records, self.unpack
        return (unpack(records[n]) for n in sorted(records))


class _Customers(_Records[Customer]):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store, store.customers, CUSTOMER_PACKER, store.replace_customer)
        packed = store.customers
        self.finder = CustomerSearch(
            store.names,
            store.customer_numbers,
            store.customer_externals,
            store.customer_by_external,
            lambda number: packed[number][_NAME],
            lambda number: packed[number][_EXTERNAL_NUMBER],
        )

    def with_external_number(self, external_number: str) -> str | None:
        return self.store.customer_by_external.get(external_number)

    def named(self, name: str) -> tuple[str, ...]:
        return self.finder.named(name)

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        return self.finder.search(words, limit)


class _Accounts(_Records[BillingAccount]):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store, store.accounts, ACCOUNT_PACKER, store.replace_account)

    def get(self, number: str) -> BillingAccount | None:
        """The account of *number*; one that manages others is kept unpacked once read."""
        store = self.store
        account = store.managing.get(number)
        if account is None:
            account = super().get(number)
            if account is not None and number in store.managed:
                store.managing[number] = account
        return account

    def with_external_number(self, external_number: str) -> str | None:
        return self.store.account_by_external.get(external_number)

    def of_customer(self, customer: str) -> tuple[str, ...]:
        return multi_get(self.store.accounts_by_customer, customer)

    def managed_by(self, number: str) -> tuple[str, ...]:
        return multi_get(self.store.managed, number)

    def children_of(self, number: str) -> tuple[str, ...]:
        return multi_get(self.store.children, number)

    def in_chain(self, number: str, start: str, hierarchy: Hierarchy) -> bool:
        if number == start:
            return True
        ids = self.store.account_ids
        me, current = ids.get(number), ids.get(start)
        if me is None or current is None:
            return False
        up = self.store.up[hierarchy]
        for _ in range(len(up)):  # a chain is shorter; the bound ends a cycle stored past rules
            current = up[current]
            if current < 0:
                return False
            if current == me:
                return True
        return False

    def on_bill_cycle(self, bill_cycle: str) -> Sequence[str]:
        cycle = self.store.by_bill_cycle.get(bill_cycle)
        return cycle.numbers() if cycle is not None else []

    def plan_rows(self, bill_cycle: str, partition: Partition = WHOLE_RUN) -> PlanRows:
        """The plan rows of the cycle's accounts in *partition*
        (:class:`~custbill.storage.protocols.PlanRowSource`)."""
        cycle = self.store.by_bill_cycle.get(bill_cycle)
        if cycle is None:
            nothing: dict[str, PlanRow] = {}
            return PlanRows((), (), nothing.get)
        return cycle.plan_rows(partition)

    def matching(self, word: str) -> set[str]:
        """Accounts whose number or external number, or whose customer's name, matches."""
        store = self.store
        found = set(store.account_numbers.with_prefix(word))
        found.update(
            store.account_by_external[e] for e in store.account_externals.with_prefix(word)
        )
        by_customer = store.accounts_by_customer
        for customer in store.names.tokens.matching(word):
            accounts = by_customer.get(customer)
            if isinstance(accounts, str):
                found.add(accounts)
            elif accounts:
                found.update(accounts)
        return found

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        found = intersect(self.matching, words)
        return found if limit is None else found[:limit]


class _Catalog:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def get(self, kind: type[CatalogKind], id: str) -> CatalogKind | None:
        entries = self.store.catalog.get(kind)
        return None if entries is None else entries.get(id)

    def all(self, kind: type[CatalogKind]) -> tuple[CatalogKind, ...]:
        entries = self.store.catalog.get(kind, {})
        return tuple(entries[k] for k in sorted(entries))

    def add(self, entry: CatalogItem | CustomFieldDefinition) -> None:
        if isinstance(entry, CustomFieldDefinition):
            defs = self.store.custom_fields.setdefault(entry.applies_to, {})
            defs[entry.name] = entry
            self.store.undo.append(lambda: defs.__delitem__(entry.name))
        else:
            entries = self.store.catalog.setdefault(type(entry), {})
            entries[entry.id] = entry
            self.store.undo.append(lambda: entries.__delitem__(entry.id))

    def custom_fields(self, target: CustomFieldTarget) -> tuple[CustomFieldDefinition, ...]:
        definitions = self.store.custom_fields.get(target)
        return () if definitions is None else tuple(definitions.values())


class _Settings:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def get(self) -> Settings | None:
        return self.store.settings

    def put(self, settings: Settings) -> None:
        old = self.store.settings
        self.store.settings = settings

        def undo() -> None:
            self.store.settings = old

        self.store.undo.append(undo)
