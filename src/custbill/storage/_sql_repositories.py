"""The repositories of the SQL stores, shared by the SQLite and PostgreSQL stores.

Each record is stored as its JSON (:mod:`custbill.serialization`) beside the columns the
facade looks it up by; every lookup the facade makes has an index.  Statements are written
with ``?`` placeholders; a store's :class:`~custbill.storage._sql_writes.Database` adapts
them to its driver.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from custbill.errors import ConflictError
from custbill.model import (
    AccountCategory,
    BillCycle,
    BillingAccount,
    Change,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    DunningPlan,
    Note,
    PaymentMode,
    PaymentTerm,
    Settings,
)
from custbill.model.billing import WHOLE_RUN, Partition
from custbill.model.plan_row import PlanRows
from custbill.model.text import identity_key
from custbill.serialization import from_json
from custbill.serialization import to_compact_json as to_json
from custbill.storage._sql_plan import (
    TopKeys,
    customer_email,
    iso_date,
    plan_columns,
    plan_rows,
    read_many,
)
from custbill.storage._sql_search import ACCOUNTS, CUSTOMERS, search
from custbill.storage._sql_writes import Database, Dialect, Execute, Writes, rows_naming
from custbill.storage.protocols import CatalogItem, CatalogKind, Hierarchy
from custbill.storage.search import name_tokens, normalise


def _key(number: str | None) -> str | None:
    return None if number is None else normalise(number)


def refresh_text_keys(execute: Execute) -> None:
    """Recompute the name keys, number keys and name tokens of the records whose keys are
    not ASCII (the migration that made them identity keys, :mod:`custbill.model.text`;
    an ASCII text's key did not change).  Only those records are read whole."""
    for table in ("customers", "accounts"):
        keys = execute(f"SELECT number, number_key, external_key FROM {table}", ()).fetchall()
        for number, number_key, external_key in keys:
            if not (number_key.isascii() and (external_key or "").isascii()):
                row = execute(f"SELECT external_number FROM {table} WHERE number = ?", (number,))
                execute(
                    f"UPDATE {table} SET number_key = ?, external_key = ? WHERE number = ?",
                    (normalise(number), _key(row.fetchone()[0]), number),
                )
    names = execute("SELECT number, name_key FROM customers", ()).fetchall()
    for number, name_key in names:
        if not name_key.isascii():
            data = execute("SELECT data FROM customers WHERE number = ?", (number,)).fetchone()
            name = from_json(Customer, data[0]).name
            execute(
                "UPDATE customers SET name_key = ? WHERE number = ?", (identity_key(name), number)
            )
            execute("DELETE FROM customer_tokens WHERE number = ?", (number,))
            for token in sorted(name_tokens(name)):
                execute(
                    "INSERT INTO customer_tokens (token, number) VALUES (?, ?)", (token, number)
                )


class SQLCustomers:
    def __init__(self, db: Writes, added: set[str], dialect: Dialect) -> None:
        self.db = db
        self.added = added  # numbers given in this transaction (see number_taken)
        self.dialect = dialect

    def get(self, number: str) -> Customer | None:
        row = self.db.one("SELECT data FROM customers WHERE number = ?", (number,))
        return None if row is None else from_json(Customer, row[0])

    def get_many(self, numbers: Collection[str]) -> dict[str, Customer]:
        sql = "SELECT number, data FROM customers WHERE number IN ({numbers})"
        return {n: from_json(Customer, data) for n, data in rows_naming(self.db, sql, numbers)}

    def _tokens(self, number: str, tokens: frozenset[str]) -> None:
        self.db.insert(
            "INSERT INTO customer_tokens (token, number) VALUES (?, ?)",
            [(t, number) for t in sorted(tokens)],
        )

    def add(self, customer: Customer) -> None:
        self.added.add(customer.number)
        self.db.insert(
            "INSERT INTO customers (number, external_number, name_key, number_key, external_key,"
            " version, primary_email, end_date, owner, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    customer.number,
                    customer.external_number,
                    identity_key(customer.name),
                    normalise(customer.number),
                    _key(customer.external_number),
                    customer.version,
                    customer_email(customer),
                    iso_date(customer.end_date),
                    customer.owner,
                    to_json(customer),
                )
            ],
        )
        self._tokens(customer.number, name_tokens(customer.name))

    def update(self, customer: Customer) -> None:
        row = self.db.one(
            "SELECT name_key, data FROM customers WHERE number = ?", (customer.number,)
        )
        changed = self.db.run(
            "UPDATE customers SET external_number = ?, name_key = ?, external_key = ?,"
            " version = ?, primary_email = ?, end_date = ?, data = ?"
            " WHERE number = ? AND version = ?",
            (
                customer.external_number,
                identity_key(customer.name),
                _key(customer.external_number),
                customer.version,
                customer_email(customer),
                iso_date(customer.end_date),
                to_json(customer),
                customer.number,
                customer.version - 1,
            ),
        )
        if not changed:
            actual = self.db.one(
                "SELECT version FROM customers WHERE number = ?", (customer.number,)
            )
            raise ConflictError(
                customer.number, customer.version - 1, actual[0] if actual else None
            )
        if row is not None and from_json(Customer, row[1]).name != customer.name:
            self.db.run("DELETE FROM customer_tokens WHERE number = ?", (customer.number,))
            self._tokens(customer.number, name_tokens(customer.name))

    def with_external_number(self, external_number: str) -> str | None:
        row = self.db.one(
            "SELECT number FROM customers WHERE external_key = ? AND external_number = ?",
            (normalise(external_number), external_number),
        )
        return None if row is None else str(row[0])

    def named(self, name: str) -> tuple[str, ...]:
        rows = self.db.all(
            "SELECT number FROM customers WHERE name_key = ? ORDER BY number", (identity_key(name),)
        )
        return tuple(r[0] for r in rows)

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        return search(self.db, CUSTOMERS, words, limit, self.dialect.per_row)

    def all(self) -> Iterator[Customer]:
        rows = self.db.all("SELECT data FROM customers ORDER BY number")
        return (from_json(Customer, r[0]) for r in rows)


class SQLAccounts:
    def __init__(self, db: Writes, added: set[str], dialect: Dialect) -> None:
        self.db = db
        self.added = added  # numbers given in this transaction (see number_taken)
        self.dialect = dialect
        self.hierarchy_held = -1  # the Writes generation (transaction) holding the lock
        self.top_keys = TopKeys(db, self._hold_hierarchy)

    def _hold_hierarchy(self) -> None:
        """Take the store's hierarchy lock (where it has one) for this transaction: calls
        that check a new link, or change the top keys, run one at a time."""
        lock = self.dialect.hierarchy_lock
        if lock is not None and self.hierarchy_held != self.db.generation:
            self.db.one(lock)
            self.hierarchy_held = self.db.generation

    def get(self, number: str) -> BillingAccount | None:
        row = self.db.one("SELECT data FROM accounts WHERE number = ?", (number,))
        if row is None:
            return None
        account = from_json(BillingAccount, row[0])
        self.top_keys.seen(account)
        return account

    def get_many(self, numbers: Collection[str]) -> dict[str, BillingAccount]:
        found = read_many(self.db, numbers)
        for account in found.values():
            self.top_keys.seen(account)
        return found

    def add(self, account: BillingAccount) -> None:
        self.added.add(account.number)
        self.db.insert(
            "INSERT INTO accounts (number, customer, external_number, responsible, parent,"
            " bill_cycle, number_key, external_key, version, deactivated, start_date,"
            " invoice_currency, minimum, profile, end_date, free, top_key, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    account.number,
                    account.customer,
                    account.external_number,
                    account.responsible_account,
                    account.parent_account,
                    account.bill_cycle,
                    normalise(account.number),
                    _key(account.external_number),
                    account.version,
                    *plan_columns(account),
                    iso_date(account.end_date),
                    int(account.payment_mode is PaymentMode.FREE),
                    self.top_keys.of_new(account),
                    to_json(account),
                )
            ],
        )

    def update(self, account: BillingAccount) -> None:
        key = self.top_keys.of_moved(account)  # (None: it keeps its key)
        changed = self.db.run(
            "UPDATE accounts SET customer = ?, external_number = ?, responsible = ?,"
            " parent = ?, bill_cycle = ?, external_key = ?, version = ?, deactivated = ?,"
            " start_date = ?, invoice_currency = ?, minimum = ?, profile = ?, end_date = ?,"
            " free = ?, top_key = coalesce(?, top_key), data = ? WHERE number = ? AND version = ?",
            (
                account.customer,
                account.external_number,
                account.responsible_account,
                account.parent_account,
                account.bill_cycle,
                _key(account.external_number),
                account.version,
                *plan_columns(account),
                iso_date(account.end_date),
                int(account.payment_mode is PaymentMode.FREE),
                key,
                to_json(account),
                account.number,
                account.version - 1,
            ),
        )
        if not changed:
            actual = self.db.one("SELECT version FROM accounts WHERE number = ?", (account.number,))
            raise ConflictError(account.number, account.version - 1, actual[0] if actual else None)
        if key is not None:
            self.top_keys.give_below(account.number, key)

    def with_external_number(self, external_number: str) -> str | None:
        row = self.db.one(
            "SELECT number FROM accounts WHERE external_key = ? AND external_number = ?",
            (normalise(external_number), external_number),
        )
        return None if row is None else str(row[0])

    def _numbers(self, column: str, value: str) -> tuple[str, ...]:
        rows = self.db.all(
            f"SELECT number FROM accounts WHERE {column} = ? ORDER BY number", (value,)
        )
        return tuple(r[0] for r in rows)

    def of_customer(self, customer: str) -> tuple[str, ...]:
        return self._numbers("customer", customer)

    def managed_by(self, number: str) -> tuple[str, ...]:
        return self._numbers("responsible", number)

    def children_of(self, number: str) -> tuple[str, ...]:
        return self._numbers("parent", number)

    def in_chain(self, number: str, start: str, hierarchy: Hierarchy) -> bool:
        if number == start:
            return True
        # two writers checking links at once could each close half of a cycle: the second
        # walks after the first committed
        self._hold_hierarchy()
        column = "responsible" if hierarchy == "responsible" else "parent"
        # UNION (not UNION ALL) drops repeats, so a cycle stored past the rules ends the walk
        row = self.db.one(
            "WITH RECURSIVE chain(number) AS (SELECT number FROM accounts WHERE number = ?"
            f" UNION SELECT a.{column} FROM accounts a JOIN chain c ON a.number = c.number"
            f" WHERE a.{column} IS NOT NULL) SELECT 1 FROM chain WHERE number = ? LIMIT 1",
            (start, number),
        )
        return row is not None

    def on_bill_cycle(self, bill_cycle: str) -> tuple[str, ...]:
        return self._numbers("bill_cycle", bill_cycle)

    def plan_rows(self, bill_cycle: str, partition: Partition = WHOLE_RUN) -> PlanRows:
        """The plan rows of the cycle's accounts in *partition*, read from their columns in
        one query (:class:`~custbill.storage.protocols.PlanRowSource`): no record is
        decoded."""
        return plan_rows(self.db, bill_cycle, partition)

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        return search(self.db, ACCOUNTS, words, limit, self.dialect.per_row)

    def all(self) -> Iterator[BillingAccount]:
        rows = self.db.all("SELECT data FROM accounts ORDER BY number")
        return (from_json(BillingAccount, r[0]) for r in rows)


_KINDS: dict[str, type] = {
    cls.__name__: cls for cls in (BillCycle, PaymentTerm, AccountCategory, DunningPlan)
}


class SQLCatalog:
    def __init__(self, db: Database, cache: dict[tuple[type, str], Any]) -> None:
        self.db = db
        self.cache = cache  # the store's: catalog entries never change once added
        self.fields: dict[CustomFieldTarget, tuple[CustomFieldDefinition, ...]] = {}
        self.wrote = False  # entries added here may still roll back: keep them out of the cache

    def get(self, kind: type[CatalogKind], id: str) -> CatalogKind | None:
        found: CatalogKind | None = self.cache.get((kind, id))
        if found is not None:
            return found
        row = self.db.one("SELECT data FROM catalog WHERE kind = ? AND id = ?", (kind.__name__, id))
        if row is None:
            return None
        entry = from_json(kind, row[0])
        if not self.wrote:
            self.cache[(kind, id)] = entry
        return entry

    def all(self, kind: type[CatalogKind]) -> tuple[CatalogKind, ...]:
        rows = self.db.all("SELECT data FROM catalog WHERE kind = ? ORDER BY id", (kind.__name__,))
        return tuple(from_json(kind, r[0]) for r in rows)

    def add(self, entry: CatalogItem | CustomFieldDefinition) -> None:
        self.fields.clear()
        self.wrote = True
        if isinstance(entry, CustomFieldDefinition):
            self.db.run(
                "INSERT INTO custom_fields (target, name, position, data) VALUES (?, ?,"
                " (SELECT COUNT(*) FROM custom_fields), ?)",
                (entry.applies_to.value, entry.name, to_json(entry)),
            )
        else:
            self.db.run(
                "INSERT INTO catalog (kind, id, data) VALUES (?, ?, ?)",
                (type(entry).__name__, entry.id, to_json(entry)),
            )

    def custom_fields(self, target: CustomFieldTarget) -> tuple[CustomFieldDefinition, ...]:
        cached = self.fields.get(target)  # for this unit of work only: others may add fields
        if cached is not None:
            return cached
        rows = self.db.all(
            "SELECT data FROM custom_fields WHERE target = ? ORDER BY position", (target.value,)
        )
        found = tuple(from_json(CustomFieldDefinition, r[0]) for r in rows)
        self.fields[target] = found
        return found


class SQLSettings:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.cached: Settings | None = None  # for this unit of work only

    def get(self) -> Settings | None:
        if self.cached is None:
            row = self.db.one("SELECT data FROM settings WHERE id = 1")
            self.cached = None if row is None else from_json(Settings, row[0])
        return self.cached

    def put(self, settings: Settings) -> None:
        self.cached = settings
        self.db.run("DELETE FROM settings WHERE id = 1")
        self.db.run("INSERT INTO settings (id, data) VALUES (1, ?)", (to_json(settings),))


class SQLHistory:
    def __init__(self, db: Writes) -> None:
        self.db = db

    def append(self, changes: Sequence[Change]) -> None:
        self.db.insert(
            "INSERT INTO history (number, at, field, old, new, actor, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (c.number, c.at.isoformat(), c.field, c.old, c.new, c.actor, c.reason)
                for c in changes
            ],
        )

    def of(self, number: str) -> tuple[Change, ...]:
        rows = self.db.all(
            "SELECT at, field, old, new, actor, reason FROM history WHERE number = ? ORDER BY seq",
            (number,),
        )
        return tuple(
            Change(
                at=datetime.fromisoformat(at),
                number=number,
                field=field,
                old=old,
                new=new,
                actor=actor,
                reason=reason,
            )
            for at, field, old, new, actor, reason in rows
        )

    def redact(self, number: str, fields: frozenset[str], mask: str) -> None:
        for field in sorted(fields):
            self.db.run(
                "UPDATE history SET old = CASE WHEN old IS NULL THEN NULL ELSE ? END,"
                " new = CASE WHEN new IS NULL THEN NULL ELSE ? END"
                " WHERE number = ? AND field = ?",
                (mask, mask, number, field),
            )
        self.db.erased()


class SQLNotes:
    def __init__(self, db: Writes) -> None:
        self.db = db

    def add(self, note: Note) -> None:
        self.db.insert(
            "INSERT INTO notes (number, about, data) VALUES (?, ?, ?)",
            [(note.number, note.about, to_json(note))],
        )

    def get(self, number: str) -> Note | None:
        row = self.db.one("SELECT data FROM notes WHERE number = ?", (number,))
        return None if row is None else from_json(Note, row[0])

    def of(self, about: str) -> tuple[Note, ...]:
        rows = self.db.all("SELECT data FROM notes WHERE about = ? ORDER BY seq", (about,))
        return tuple(from_json(Note, data) for (data,) in rows)

    def delete(self, number: str) -> None:
        self.db.run("DELETE FROM notes WHERE number = ?", (number,))
        self.db.erased()  # (what a note said may be personal: it leaves the disk too)
