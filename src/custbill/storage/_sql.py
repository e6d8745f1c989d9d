"""The units of work, transactions and schema of the SQL stores (SQLite and PostgreSQL).

A unit of work is one database transaction, written through
:class:`~custbill.storage._sql_writes.Writes` and read and written by the repositories of
:mod:`custbill.storage._sql_repositories`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol

from custbill.errors import StorageError
from custbill.storage._sql_ledger import SQLLedger
from custbill.storage._sql_plan import fill_plan_columns, fill_profiles, fill_top_keys
from custbill.storage._sql_repositories import (
    SQLAccounts,
    SQLCatalog,
    SQLCustomers,
    SQLHistory,
    SQLNotes,
    SQLSettings,
    refresh_text_keys,
)
from custbill.storage._sql_writes import Database, Dialect, Execute, Savepoint, Writes

_log = logging.getLogger("custbill")

#: The schema, as numbered migrations: statements, and steps in Python that fill new
#: columns from the records.  ``{text}`` is the dialect's text type (with a byte-wise
#: collation, so that ordering and prefix ranges follow code points) and ``{serial}`` its
#: auto-incrementing integer key; ``{without_rowid}`` keeps a table of short rows in its
#: primary key alone where the dialect can.
MIGRATIONS: tuple[tuple[str | Callable[[Execute], None], ...], ...] = (
    (
        "CREATE TABLE customers (number {text} PRIMARY KEY, external_number {text},"
        " name_key {text} NOT NULL, number_key {text} NOT NULL, external_key {text},"
        " version INTEGER NOT NULL, data TEXT NOT NULL)",
        "CREATE INDEX customers_name ON customers (name_key)",
        "CREATE INDEX customers_number_key ON customers (number_key)",
        "CREATE INDEX customers_external_key ON customers (external_key)"
        " WHERE external_key IS NOT NULL",
        "CREATE TABLE accounts (number {text} PRIMARY KEY, customer {text} NOT NULL,"
        " external_number {text}, responsible {text}, parent {text},"
        " bill_cycle {text} NOT NULL, number_key {text} NOT NULL, external_key {text},"
        " version INTEGER NOT NULL, data TEXT NOT NULL)",
        "CREATE INDEX accounts_number_key ON accounts (number_key)",
        "CREATE INDEX accounts_external_key ON accounts (external_key)"
        " WHERE external_key IS NOT NULL",
        "CREATE INDEX accounts_customer ON accounts (customer, number)",
        "CREATE INDEX accounts_responsible ON accounts (responsible, number)"
        " WHERE responsible IS NOT NULL",
        "CREATE INDEX accounts_parent ON accounts (parent, number) WHERE parent IS NOT NULL",
        "CREATE INDEX accounts_bill_cycle ON accounts (bill_cycle, number)",
        "CREATE TABLE customer_tokens (token {text} NOT NULL, number {text} NOT NULL,"
        " PRIMARY KEY (token, number)){without_rowid}",
        "CREATE INDEX customer_tokens_number ON customer_tokens (number)",
        "CREATE TABLE catalog (kind {text} NOT NULL, id {text} NOT NULL, data TEXT NOT NULL,"
        " PRIMARY KEY (kind, id))",
        "CREATE TABLE custom_fields (target {text} NOT NULL, name {text} NOT NULL,"
        " position INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (target, name))",
        "CREATE TABLE settings (id INTEGER PRIMARY KEY, data TEXT NOT NULL)",
        "CREATE TABLE history (seq {serial}, number {text} NOT NULL, at TEXT NOT NULL,"
        " field {text} NOT NULL, old TEXT, new TEXT)",
        "CREATE INDEX history_number ON history (number, seq)",
        "CREATE TABLE sequences (name {text} PRIMARY KEY, value INTEGER NOT NULL)",
        "CREATE TABLE ledger (seq {serial}, number {text} NOT NULL UNIQUE,"
        " account {text} NOT NULL, kind {text} NOT NULL, data TEXT NOT NULL)",
        "CREATE INDEX ledger_account ON ledger (account, kind, seq)",
        "CREATE TABLE pending (account {text} PRIMARY KEY, data TEXT NOT NULL)",
        "CREATE TABLE runs (bill_cycle {text} NOT NULL, run_date {text} NOT NULL,"
        " invoices TEXT NOT NULL, PRIMARY KEY (bill_cycle, run_date))",
    ),
    (
        # runs in parts that workers claim; a run issued before parts existed is its part
        # 0 of 1, with an empty digest (see custbill.service.ledger._issued_before)
        "CREATE TABLE run_parts (bill_cycle {text} NOT NULL, run_date {text} NOT NULL,"
        " part INTEGER NOT NULL, parts INTEGER NOT NULL, digest TEXT, invoices TEXT,"
        " PRIMARY KEY (bill_cycle, run_date, part))",
        "INSERT INTO run_parts (bill_cycle, run_date, part, parts, digest, invoices)"
        " SELECT bill_cycle, run_date, 0, 1, '', invoices FROM runs",
        "DROP TABLE runs",
        # a carried amount of NULL is none: setting one is an upsert that waits with the
        # unit's inserts (custbill.storage._sql_ledger.SQLLedger.set_pending)
        "CREATE TABLE pending_amounts (account {text} PRIMARY KEY, data TEXT)",
        "INSERT INTO pending_amounts (account, data) SELECT account, data FROM pending",
        "DROP TABLE pending",
        "ALTER TABLE pending_amounts RENAME TO pending",
        # what planning a run needs of an account, in columns (custbill.model.plan_row)
        "ALTER TABLE accounts ADD COLUMN deactivated INTEGER",
        "ALTER TABLE accounts ADD COLUMN start_date TEXT",
        "ALTER TABLE accounts ADD COLUMN invoice_currency TEXT",
        "ALTER TABLE accounts ADD COLUMN minimum TEXT",
        "ALTER TABLE accounts ADD COLUMN profile TEXT",
        "ALTER TABLE customers ADD COLUMN primary_email TEXT",
        fill_plan_columns,
    ),
    (
        # names compared and searched by identity key (custbill.model.text)
        refresh_text_keys,
    ),
    (
        "CREATE TABLE notes (seq {serial}, number {text} NOT NULL UNIQUE,"
        " about {text} NOT NULL, data TEXT NOT NULL)",
        "CREATE INDEX notes_about ON notes (about, seq)",
    ),
    (
        # charges waiting for a bill run; billed_on is NULL until one bills them
        "CREATE TABLE charges (seq {serial}, number {text} NOT NULL UNIQUE,"
        " account {text} NOT NULL, billed_on TEXT, data TEXT NOT NULL)",
        "CREATE INDEX charges_account ON charges (account, seq)",
        "CREATE INDEX charges_pending ON charges (seq) WHERE billed_on IS NULL",
    ),
    (
        # end dates, for plan rows (every record stored before has none: no fill)
        "ALTER TABLE accounts ADD COLUMN end_date TEXT",
        "ALTER TABLE customers ADD COLUMN end_date TEXT",
    ),
    (
        # who made each change, and why
        "ALTER TABLE history ADD COLUMN actor TEXT",
        "ALTER TABLE history ADD COLUMN reason TEXT",
    ),
    (
        # FREE accounts, for plan rows (every account stored before is INVOICE: no fill)
        "ALTER TABLE accounts ADD COLUMN free INTEGER NOT NULL DEFAULT 0",
    ),
    (
        # the reseller a customer sits under (every customer stored before has none)
        "ALTER TABLE customers ADD COLUMN owner {text}",
        "CREATE INDEX customers_owner ON customers (owner) WHERE owner IS NOT NULL",
    ),
    (
        # the hierarchy key of the top of each account's responsible chain, so that a
        # partition of a bill run reads its own accounts alone (custbill.storage._sql_plan)
        "ALTER TABLE accounts ADD COLUMN top_key BIGINT",
        fill_top_keys,
    ),
    (
        # the invoice rendering in the profile text, so that a plan does not read the
        # tops of charged managed accounts whole (custbill.storage._sql_plan.profile_text)
        fill_profiles,
    ),
)


def migrate(
    transaction: Transaction,
    execute: Execute,
    dialect: Mapping[str, str],
    *,
    version: Callable[[], int],
    record: Callable[[int], object],
    what: str,
) -> None:
    """Bring a database's schema up to date, in one transaction.

    Args:
        transaction: the store's transaction for the migration.
        execute: runs one statement (``?`` placeholders) with its parameters.
        dialect: the values of the placeholders in :data:`MIGRATIONS` (``{text}``, …).
        version: reads the schema version of the database (0 for a new one).
        record: writes the new schema version after each migration.
        what: names the database in errors.

    Raises:
        StorageError: a statement failed (nothing of the migration stays).
    """
    transaction.begin()
    try:
        current = version()
        for number, statements in enumerate(MIGRATIONS, start=1):
            if number > current:
                for statement in statements:
                    if isinstance(statement, str):
                        execute(statement.format(**dialect), ())
                    else:
                        statement(execute)
                record(number)
        transaction.commit()
        if current < len(MIGRATIONS):
            _log.info("migrated %s from schema %d to %d", what, current, len(MIGRATIONS))
    except (StorageError, transaction.errors) as exc:
        raise StorageError(f"cannot migrate {what}: {exc}") from exc
    finally:
        transaction.end()


class SQLUnitOfWork:
    """A unit of work over one database transaction.

    The store hands in the database and what begins, commits and rolls back a transaction
    (and releases the store for other units of work when this one ends).
    """

    def __init__(
        self,
        db: Database,
        transaction: Transaction,
        catalog_cache: dict[tuple[type, str], Any],
        dialect: Dialect,
        *,
        numbers: Callable[[str], int] | None = None,
        many_numbers: Callable[[str, int], list[int]] | None = None,
        row_security: Callable[[str | None], None] | None = None,
    ) -> None:
        self.db = Writes(db)
        #: What scopes the database's row-level security to a customer (None for no
        #: scope), where the database has it (:class:`~custbill.storage.protocols.RowSecurity`).
        self.row_security = row_security
        self.numbers = numbers
        self.many_numbers = many_numbers
        self.transaction = transaction
        # number_taken's memory for this transaction: numbers given to customers or
        # accounts, and per number shape the number above which the shape was found free
        self._added: set[str] = set()
        self._free: dict[tuple[str, int], str] = {}
        self.customers = SQLCustomers(self.db, self._added, dialect)
        self.accounts = SQLAccounts(self.db, self._added, dialect)
        self.catalog = SQLCatalog(self.db, catalog_cache)
        self.settings = SQLSettings(self.db)
        self.history = SQLHistory(self.db)
        self.notes = SQLNotes(self.db)
        self.ledger = SQLLedger(self.db, dialect)
        self._sequences: dict[str, int] = {}  # sequence values counted in this transaction

    def __enter__(self) -> SQLUnitOfWork:
        self.transaction.begin()
        self._forget()
        return self

    def enter_scope(self, root: str) -> None:
        """Have the database show this unit the scope of customer *root* only (nothing to
        do where it has no row-level security).  Writes waiting from before go out first,
        under the scope they were made in."""
        if self.row_security is not None:
            self.db.flush()
            self.row_security(root)

    def leave_scope(self) -> None:
        """Have the database show this unit everything again."""
        if self.row_security is not None:
            self.db.flush()
            self.row_security(None)

    def _forget(self) -> None:
        """Drop what this transaction counted, learnt and left waiting (other writers may
        follow)."""
        self.db.discard()
        self._sequences.clear()
        self._added.clear()
        self._free.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._forget()
        self.transaction.end()

    def next_number(self, kind: str) -> int:
        """Next value of a sequence (committed with the unit of work's other writes).

        The store's own sequences when it has them (*numbers*).  Otherwise the unit of work
        holds the store's write lock, so nobody else moves a sequence while it runs: the
        value is read once per transaction, counted here and written back at commit (a
        batch of creations costs one statement per sequence, not one per number).
        """
        if self.numbers is not None:
            return self.numbers(kind)
        value = self._sequences.get(kind)
        if value is None:
            row = self.db.one("SELECT value FROM sequences WHERE name = ?", (kind,))
            value = 0 if row is None else int(row[0])
        value += 1
        self._sequences[kind] = value
        return value

    def next_numbers(self, kind: str, count: int) -> list[int]:
        """The next *count* values of a sequence: from the store's own sequences in one
        statement when it has them, else counted as :meth:`next_number` counts."""
        if self.many_numbers is not None:
            return self.many_numbers(kind, count)
        return [self.next_number(kind) for _ in range(count)]

    def number_taken(self, number: str) -> bool:
        """True when a customer or an account has this number.

        Generated numbers come in shapes (``C-000042``: a prefix, then a fixed count of
        digits) and grow.  Asking about a number also asks whether any number of its shape
        lies above it; when none does, later numbers of that shape in this transaction are
        known free without a query, unless this transaction gave them itself — a batch
        of creations asks once per shape, not once per number.
        """
        prefix = number.rstrip("0123456789")
        if prefix == number:  # no digits to count up: ask
            row = self.db.one(
                "SELECT EXISTS (SELECT 1 FROM customers WHERE number = ?)"
                " OR EXISTS (SELECT 1 FROM accounts WHERE number = ?)",
                (number, number),
            )
            return bool(row and row[0])
        shape = (prefix, len(number))
        free = self._free.get(shape)
        if free is not None and number > free and number not in self._added:
            return False
        top = prefix + "9" * (len(number) - len(prefix))  # the last number of the shape
        row = self.db.one(
            "SELECT min(n) FROM (SELECT min(number) AS n FROM customers"
            " WHERE number >= ? AND number <= ? UNION ALL SELECT min(number) AS n"
            " FROM accounts WHERE number >= ? AND number <= ?) AS found",
            (number, top, number, top),
        )
        first = row[0] if row else None
        if first is None:  # neither this number nor any above it: remember
            self._free[shape] = number
        return bool(first == number)

    def savepoint(self) -> SQLSavepoint:
        """A savepoint of the transaction (see
        :meth:`~custbill.storage.protocols.UnitOfWork.savepoint`), set in the database only
        once a statement other than a waiting insert runs inside it
        (:meth:`~custbill.storage._sql_writes.Writes.savepoint`)."""
        return SQLSavepoint(self)

    def forget_read(self) -> None:
        """Forget what this unit remembers of what it read (settings, custom fields): after
        going back to a savepoint, it may come from the writes undone."""
        self.catalog.fields.clear()
        self.settings.cached = None

    def commit(self) -> None:
        """Commit everything written so far; later writes start a new transaction."""
        self.db.flush()
        if self._sequences:
            self.db.many(
                "INSERT INTO sequences (name, value) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = excluded.value",
                sorted(self._sequences.items()),
            )
        self._forget()
        self.transaction.commit()


class SQLSavepoint:
    """A savepoint of a :class:`SQLUnitOfWork`, as a context manager (a class rather than a
    generator: a batch takes one per call)."""

    __slots__ = ("point", "unit")

    def __init__(self, unit: SQLUnitOfWork) -> None:
        self.unit = unit
        self.point: Savepoint | None = None

    def __enter__(self) -> None:
        self.point = self.unit.db.savepoint()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.point is not None, "a savepoint is left after it was entered"
        if exc is None:
            self.unit.db.release(self.point)
        else:
            self.unit.db.rollback_to(self.point)
            self.unit.forget_read()


class Lock(Protocol):
    """What a :class:`LockedTransaction` holds from its begin to its end."""

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class LockedTransaction:
    """The transaction of one unit of work on a SQL store.

    It holds the store's lock from :meth:`begin` to :meth:`end`, runs *begin_sql* to start
    (again, lazily, after a commit), and turns the driver's *errors* into
    :class:`~custbill.StorageError`.
    """

    def __init__(
        self,
        lock: Lock,
        execute: Callable[[str], object],
        begin_sql: Sequence[str],
        errors: type[Exception],
    ) -> None:
        self.lock = lock
        self.execute = execute
        self.begin_sql = begin_sql
        self.errors = errors
        self.active = False
        #: What runs once the transaction commits (and is dropped if it does not).
        self.after_commit: list[Callable[[], None]] = []

    def ensure(self) -> None:
        """Start the transaction unless one is running."""
        if not self.active:
            try:
                for sql in self.begin_sql:
                    self.execute(sql)
            except self.errors as exc:
                raise StorageError(f"cannot start a transaction: {exc}") from exc
            self.active = True

    def begin(self) -> None:
        """Take the store's lock and start."""
        self.lock.acquire()
        try:
            self.ensure()
        except BaseException:
            self.lock.release()
            raise

    def commit(self) -> None:
        """Commit; the next statement starts a new transaction."""
        if self.active:
            try:
                self.execute("COMMIT")
            except self.errors as exc:
                self.after_commit.clear()
                raise StorageError(f"commit failed: {exc}") from exc
            self.active = False
        done, self.after_commit = self.after_commit, []
        for step in done:
            step()

    def end(self) -> None:
        """Roll back what was not committed and release the lock."""
        try:
            if self.active:
                self.execute("ROLLBACK")
        except self.errors:
            pass  # nothing to roll back, or the connection is gone (and so is the work)
        finally:
            self.active = False
            self.after_commit.clear()
            self.lock.release()


class Transaction(Protocol):
    """How a store begins, commits and ends the transaction of a unit of work."""

    #: The driver's errors.
    errors: type[Exception]

    def begin(self) -> None:
        """Start the transaction (waiting for other writers as the store does)."""
        ...

    def commit(self) -> None:
        """Commit, and start a new transaction for whatever follows."""
        ...

    def end(self) -> None:
        """Roll back what was not committed and release the store."""
        ...
