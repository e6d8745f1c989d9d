"""A store on a PostgreSQL server, shared by several application servers and workers.

Needs psycopg 3 and its pool (``pip install custbill[postgres]``).  The schema is the
SQLite store's, with byte-wise (``"C"``) collation on text keys so that ordering and prefix
search are the same everywhere, and is migrated when the store opens (table
``custbill_schema``; stores opening at once migrate one after another).

How units of work run side by side:

* Each unit of work is one transaction at PostgreSQL's default isolation (READ COMMITTED)
  on a connection of the store's pool, so threads of one application server, and every
  application server, work in parallel.  Reads take no lock: each statement reads a
  snapshot of what was committed (a reading unit runs its statements outside a
  transaction, as READ COMMITTED would run them inside one, and streams a run's plan
  rows in a transaction of their own).
* Writes rely on row versions (an update names the version it read:
  :class:`~custbill.ConflictError` when another writer got there first), on the unique
  keys of numbers, on row locks (a bill run's part is held with ``FOR UPDATE``, and
  workers looking for a part skip the held ones with ``SKIP LOCKED``), and on one
  transaction-scoped advisory lock taken only by units that walk a hierarchy to check a new
  link, so two writers cannot close a cycle from both ends.
* Numbers come from PostgreSQL sequences (one per kind, ``custbill_seq_<kind>``, those of
  :data:`SEQUENCE_KINDS` created when the store opens): they never repeat and never wait,
  and a unit of work that rolls back leaves a gap.
* A serialization failure, a deadlock or a key another unit inserted first raises
  :class:`~custbill.errors.TransactionConflictError`; the facade runs the call again, up
  to :data:`custbill.service.facade.ATTEMPTS` times in all.
* A connection that broke before its unit of work committed (a server restarted or failed
  over, an idle session ended by the server or a proxy) raises
  :class:`~custbill.errors.ConnectionLostError`, run again the same way; the pool then
  checks its idle connections, which broke the same way, so the next attempt gets one
  that works.  Nothing checks a connection before use: that would cost every call a
  round trip to the server.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from custbill.errors import ConnectionLostError, StorageError, TransactionConflictError
from custbill.storage._per_process import PerProcess
from custbill.storage._sql import MIGRATIONS, SQLUnitOfWork, migrate
from custbill.storage._sql_writes import MAX_WAIT_SECONDS, Dialect, is_seconds, unstorable
from custbill.storage.pg_security import (
    POLICIES,
    ROLE_NAME,
    install_statements,
    role_statements,
    scope_statements,
)

_DIALECT = {"text": 'TEXT COLLATE "C"', "serial": "BIGSERIAL PRIMARY KEY", "without_rowid": ""}
_LOCKS = Dialect(
    lock=" FOR UPDATE",
    lock_skipping=" FOR UPDATE SKIP LOCKED",
    hierarchy_lock="SELECT pg_advisory_xact_lock(6527815217378830700)",
    per_row=" OFFSET 0",
)
#: The key of the advisory lock a migration holds (an arbitrary constant, "custbill").
MIGRATION_LOCK_KEY = 0x637573746269
#: The most connections a store keeps, so the most threads of one process that run
#: units of work at once.  psycopg_pool's default; PostgreSQL's default ``max_connections`` (100)
#: then serves about ten application servers.
POOL_SIZE = 10
#: The most connections a store may be given, PostgreSQL's largest ``max_connections``
#: (262,143), past which no server could serve the pool.
MAX_POOL_SIZE = 262_143
#: Seconds to wait for a connection from the pool (or for the server, when opening).
CONNECT_TIMEOUT = 30.0
#: Rows a streamed query (a bill run's plan rows) fetches from the server at a time.
STREAM_ROWS = 5_000
#: The SQLSTATEs that say a transaction ran into another (serialization failure, deadlock,
#: unique violation by a number another unit inserted first).  Running again resolves them.
RETRY_STATES = frozenset({"40001", "40P01", "23505"})
#: Rows from which a plain insert (no ON CONFLICT, only placeholders) goes in by ``COPY``
#: rather than pipelined ``executemany``: issuing 17,709 invoices went from 60 to 38 µs an
#: invoice; a ``COPY`` of a few rows costs more than the statements it replaces.
COPY_ROWS = 100
_PLAIN_INSERT = re.compile(r"INSERT INTO (\w+) \(([\w, ]+)\) VALUES \((?:\?, )*\?\)")
_SEQUENCE_KIND = re.compile(r"[a-z_]{1,40}")


def _pg(sql: str) -> str:
    """*sql* with ``?`` placeholders in psycopg's style (``%s``, and ``%%`` for the ``%``
    operator)."""
    return sql.replace("%", "%%").replace("?", "%s")


#: The kinds of numbers custbill draws (customers, accounts, invoices, payments,
#: adjustments, notes, deposits, charges, dunning notices): their sequences are created when a store
#: opens; any other kind's on first use.
SEQUENCE_KINDS = (
    "customer",
    "account",
    "invoice",
    "payment",
    "adjustment",
    "note",
    "deposit",
    "charge",
    "dunning",
)


class _Transaction:
    """The transaction of one unit of work, on a connection held from the pool from
    :meth:`begin` to :meth:`end` and started lazily (again after a commit)."""

    def __init__(self, store: PostgresStore, begin_sql: Sequence[str] = ("BEGIN",)) -> None:
        self.store = store
        self.begin_sql: Sequence[str | tuple[str, tuple[Any, ...]]] = begin_sql
        self.plain_begin = begin_sql
        self.errors = store.errors
        self.connection: Any = None
        self.pool: Any = None  # the pool *connection* came from (the process's own)
        self.active = False
        #: What runs once the transaction commits (and is dropped if it does not).
        self.after_commit: list[Callable[[], None]] = []

    def fail(self, exc: Exception, doing: str) -> StorageError | TransactionConflictError:
        """The custbill error for a driver error raised while *doing* something (not
        committing): on a broken connection, nothing of the unit was committed."""
        state = getattr(exc, "sqlstate", None)
        if state in RETRY_STATES:
            return TransactionConflictError(f"{doing}: {exc}")
        if self.broken():
            return ConnectionLostError(f"{doing}: {exc}")
        return StorageError(f"{doing}: {exc}")

    def broken(self) -> bool:
        """True when the connection was interrupted (not closed by custbill)."""
        return self.connection is not None and bool(self.connection.broken)

    def ensure(self) -> None:
        if not self.active and self.begin_sql:
            try:
                for step in self.begin_sql:
                    sql, params = (step, ()) if isinstance(step, str) else step
                    self.connection.execute(sql, params)
            except self.store.errors as exc:
                raise self.fail(exc, "cannot start a transaction") from exc
            self.active = True

    def scope(self, root: str | None) -> None:
        """Scope this unit's row-level security to customer *root* (None: no scope), now
        when its transaction runs and for any it starts later (a reading unit then runs
        in a transaction: the scope is the transaction's own)."""
        steps = scope_statements(root, self.store.scoped_role)
        self.begin_sql = self.plain_begin if root is None else ("BEGIN", *steps)
        if self.active:
            try:
                for sql, params in steps:
                    self.connection.execute(sql, params)
            except self.store.errors as exc:
                raise self.fail(exc, "cannot scope the transaction") from exc

    def begin(self) -> None:
        try:
            self.pool = self.store.pool
            self.connection = self.pool.getconn(timeout=self.store.timeout)
        except self.store.pool_closed as exc:
            raise StorageError("the store is closed") from exc
        except self.store.pool_errors as exc:
            raise StorageError(f"no connection to the server: {exc}") from exc

    def commit(self) -> None:
        if self.active:  # (a reading unit has no transaction to commit)
            self.active = False
            try:
                self.connection.execute("COMMIT")
            except self.store.errors as exc:
                self.after_commit.clear()
                if self.broken():  # the server may have committed before it went
                    raise StorageError(
                        "the connection broke during the commit: whether the unit of work "
                        f"committed is unknown: {exc}"
                    ) from exc
                raise self.fail(exc, "commit failed") from exc
        done, self.after_commit = self.after_commit, []
        for step in done:
            step()

    def end(self) -> None:
        connection, self.connection = self.connection, None
        try:
            if self.active and connection is not None:
                connection.execute("ROLLBACK")
        except self.store.errors:
            pass  # the connection is broken: the pool replaces it, the work is gone
        finally:
            self.active = False
            self.after_commit.clear()
            if connection is not None:
                self.pool.putconn(connection)  # (which drops it if it broke)
                if connection.broken:  # the others idle in the pool broke with it, likely
                    with contextlib.suppress(self.store.errors):  # (the unit's error stands)
                        self.pool.check()


def _version(connection: Any) -> int:
    """The schema version of the database of *connection*."""
    row = connection.execute("SELECT max(version) FROM custbill_schema").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


class _Database:
    def __init__(self, store: PostgresStore, transaction: _Transaction) -> None:
        self.store = store
        self.transaction = transaction

    def _execute(self, sql: str, params: Sequence[Any], prepare: bool | None = None) -> Any:
        self.transaction.ensure()
        try:
            return self.transaction.connection.execute(_pg(sql), params, prepare=prepare)
        except UnicodeEncodeError as exc:  # (before anything reached the server)
            raise StorageError(f"{exc} in {sql.split()[0]} statement") from None
        except self.store.errors as exc:
            raise self.transaction.fail(exc, f"{sql.split()[0]} statement") from exc

    # (each_time: psycopg prepares a statement run often, and PostgreSQL may then keep one
    # plan for every value; a statement sent unprepared is planned for its own values)
    def one(
        self, sql: str, params: Sequence[Any] = (), *, each_time: bool = False
    ) -> tuple[Any, ...] | None:
        if unstorable(params):
            return None
        cursor = self._execute(sql, params, False if each_time else None)
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row

    def all(
        self, sql: str, params: Sequence[Any] = (), *, each_time: bool = False
    ) -> list[tuple[Any, ...]]:
        if unstorable(params):
            return []
        cursor = self._execute(sql, params, False if each_time else None)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._execute(sql, params).rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.transaction.ensure()
        if not rows:
            return
        plain = _PLAIN_INSERT.fullmatch(sql)
        try:
            with self.transaction.connection.cursor() as cursor:
                if plain is None or len(rows) < COPY_ROWS:
                    cursor.executemany(_pg(sql), rows)
                    return
                table, columns = plain.groups()
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        except self.store.errors as exc:
            raise self.transaction.fail(exc, f"{sql.split()[0]} statements") from exc

    def erased(self) -> None:
        """Nothing to do at once: the rows the erasure replaced stay in the table's files
        as dead row versions until ``VACUUM`` (autovacuum, or the host's) reclaims their
        space (see the storage guide)."""

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows from a server-side cursor, :data:`STREAM_ROWS` at a time (in a transaction
        of their own in a reading unit, which runs its statements without one)."""
        if unstorable(params):
            return
        self.transaction.ensure()
        connection = self.transaction.connection
        try:
            with contextlib.ExitStack() as scope:
                if not self.transaction.active:
                    scope.enter_context(connection.transaction())
                cursor = scope.enter_context(connection.cursor(name="custbill_stream"))
                cursor.itersize = STREAM_ROWS
                cursor.execute(_pg(sql), params)
                yield from cursor
        except self.store.errors as exc:
            raise self.transaction.fail(exc, "streamed query") from exc

    def _create_sequence(self, kind: str, name: str) -> None:
        """Create the kind's sequence unless it exists, starting after the count a
        database of an earlier schema kept in its ``sequences`` table."""
        row = self.one("SELECT to_regclass(?) IS NULL", (name,))
        if row is not None and row[0]:
            self.run(f"CREATE SEQUENCE IF NOT EXISTS {name}")
            counted = self.one("SELECT value FROM sequences WHERE name = ?", (kind,))
            if counted is not None and counted[0] > 0:
                self.one("SELECT setval(?, ?)", (name, counted[0]))

    def _sequence(self, kind: str) -> str:
        """The name of the kind's sequence, created when first asked for."""
        if not _SEQUENCE_KIND.fullmatch(kind):
            raise ValueError(f"a sequence kind is 1 to 40 lowercase letters, not {kind!r}")
        name = f"custbill_seq_{kind}"
        if kind not in self.store.sequences:
            self._create_sequence(kind, name)
            # known to exist once the unit of work that created it commits (a unit
            # rolled back takes the new sequence with it)
            self.transaction.after_commit.append(functools.partial(self.store.sequences.add, kind))
        return name

    def next_number(self, kind: str) -> int:
        """The next value of the kind's sequence."""
        row = self.one("SELECT nextval(?)", (self._sequence(kind),))
        assert row is not None
        return int(row[0])

    def next_numbers(self, kind: str, count: int) -> list[int]:
        """The next *count* values of the kind's sequence, in one statement."""
        rows = self.all(
            "SELECT nextval(?) FROM generate_series(1, ?)", (self._sequence(kind), count)
        )
        return sorted(int(row[0]) for row in rows)


class PostgresStore:
    """Keeps custbill's records in a PostgreSQL database.

    Args:
        dsn: a libpq connection string or URL (``"postgresql://user@host/db"``).
        pool_size: connections the store keeps at most
            (:data:`~custbill.storage.postgres.POOL_SIZE`).
        timeout: seconds to wait for the server, or for a free connection.
        prepared_statements: let psycopg prepare the statements a connection runs often
            (the default: the server then plans them once).  ``False`` behind a pooler in
            *transaction* mode that does not carry prepared statements between the
            server sessions it hands out (PgBouncer before 1.21, or later ones without
            ``max_prepared_statements``): there a statement prepared on one session
            fails on the next ("prepared statement … already exists").

    Raises:
        StorageError: psycopg is not installed, *dsn* is no connection string, or the
            server cannot be reached (told by one connection before the pool opens, so a
            server that is not there is known at once, not after *timeout*).
        TypeError: *dsn* is not text, *pool_size* not an int from 1 to
            :data:`~custbill.storage.postgres.MAX_POOL_SIZE`, *timeout* not a number of
            seconds from 0 to 2,147,483, or *prepared_statements* not a bool.
    """

    def __init__(
        self,
        dsn: str,
        *,
        pool_size: int = POOL_SIZE,
        timeout: float = CONNECT_TIMEOUT,
        scoped_role: str | None = None,
        prepared_statements: bool = True,
    ) -> None:
        try:
            import psycopg
            import psycopg_pool
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise StorageError(
                "PostgresStore needs psycopg and psycopg_pool: pip install custbill[postgres]"
            ) from exc
        if not isinstance(dsn, str):
            raise TypeError(f"dsn: expected str, got {type(dsn).__name__}")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int):
            raise TypeError(f"pool_size: expected int, got {type(pool_size).__name__}")
        if not 1 <= pool_size <= MAX_POOL_SIZE:
            raise TypeError(f"pool_size: expected 1 to {MAX_POOL_SIZE}, got {pool_size}")
        if not is_seconds(timeout):
            raise TypeError(f"timeout: expected seconds from 0 to {MAX_WAIT_SECONDS:,}")
        if not isinstance(prepared_statements, bool):
            raise TypeError(
                f"prepared_statements: expected bool, got {type(prepared_statements).__name__}"
            )
        if scoped_role is not None and (
            not isinstance(scoped_role, str) or not ROLE_NAME.fullmatch(scoped_role)
        ):
            raise TypeError("scoped_role: expected a role name of [a-z0-9_], 1 to 63 long")
        #: The role a scoped facade's units of work run as (see pg_security), or None.
        self.scoped_role = scoped_role
        try:
            wait = max(2, math.ceil(timeout))  # (libpq waits whole seconds, 2 at least)
            psycopg.connect(dsn, connect_timeout=wait).close()
        except (psycopg.Error, ValueError) as exc:  # (ValueError: text UTF-8 cannot hold)
            raise StorageError(f"cannot connect: {exc}") from None
        self.errors: type[Exception] = psycopg.Error
        self.pool_errors: type[Exception] = psycopg_pool.PoolTimeout
        self.pool_closed: type[Exception] = psycopg_pool.PoolClosed
        self.timeout = timeout
        #: Catalog entries read so far (they never change once added).
        self.catalog_cache: dict[tuple[type, str], Any] = {}
        #: Sequences known to exist.
        self.sequences: set[str] = set()

        options: dict[str, Any] = {"autocommit": True}
        if not prepared_statements:
            options["prepare_threshold"] = None  # psycopg prepares nothing

        def open_pool() -> Any:
            pool = psycopg_pool.ConnectionPool(
                dsn,
                min_size=1,
                max_size=pool_size,
                kwargs=options,
                open=False,
                name="custbill",
            )
            try:
                pool.open(wait=True, timeout=timeout)
            except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
                pool.close()
                raise StorageError(f"cannot connect: {exc}") from exc
            return pool

        self._pools = PerProcess(open_pool)
        self._migrate()
        self._create_sequences(SEQUENCE_KINDS)
        self._secure()

    def _secure(self) -> None:
        """Put the row-level security in place where it is not, and the scoped role
        (:mod:`custbill.storage.pg_security`), in one transaction under the migration
        lock."""
        with self.pool.connection(timeout=self.timeout) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_policies WHERE policyname = 'custbill_scope'"
                " AND schemaname = current_schema()"
            ).fetchone()
            installed = row is not None and row[0] == len(POLICIES)
        if installed and self.scoped_role is None:
            return
        lock = f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
        transaction = _Transaction(self, ("BEGIN", lock))
        transaction.begin()
        try:
            db = _Database(self, transaction)
            steps = [] if installed else install_statements()
            if self.scoped_role is not None:
                steps += role_statements(self.scoped_role)
            for sql in steps:
                db._execute(sql, ())
            transaction.commit()
        finally:
            transaction.end()

    def _create_sequences(self, kinds: Sequence[str]) -> None:
        """Create the sequences of *kinds* that do not exist yet, each in a transaction of
        its own under the migration lock: units of work of several processes would
        otherwise race to create the first one on a new database."""
        lock = f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
        for kind in kinds:
            name = f"custbill_seq_{kind}"
            with self.pool.connection(timeout=self.timeout) as connection:
                found = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
                row = found.fetchone()
                if row and row[0]:
                    self.sequences.add(kind)
                    continue
            transaction = _Transaction(self, ("BEGIN", lock))
            transaction.begin()
            try:
                _Database(self, transaction)._create_sequence(kind, name)
                transaction.commit()
            finally:
                transaction.end()
            self.sequences.add(kind)

    def _migrate(self) -> None:
        with self.pool.connection(timeout=self.timeout) as connection:
            found = connection.execute(
                "SELECT to_regclass('custbill_schema') IS NOT NULL"
            ).fetchone()
            if found and found[0] and _version(connection) == len(MIGRATIONS):
                return  # up to date: no lock to take (one connection: a pool may have one)
        lock = f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
        transaction = _Transaction(self, ("BEGIN", lock))
        db = _Database(self, transaction)

        def version() -> int:  # (inside the migration's transaction, under its lock)
            db.run("CREATE TABLE IF NOT EXISTS custbill_schema (version INTEGER NOT NULL)")
            row = db.one("SELECT max(version) FROM custbill_schema")
            return int(row[0]) if row and row[0] is not None else 0

        migrate(
            transaction,
            db._execute,
            _DIALECT,
            version=version,
            record=lambda number: db.run(
                "INSERT INTO custbill_schema (version) VALUES (?)", (number,)
            ),
            what="the database",
        )

    @property
    def pool(self) -> Any:
        """This process's connection pool.  A process forked from the one that made the
        store opens its own (:class:`~custbill.storage._per_process.PerProcess`), so a
        store made before a pre-fork server or a worker pool forks serves every child."""
        return self._pools.get()

    @property
    def schema_version(self) -> int:
        """The schema version of the database."""
        with self.pool.connection(timeout=self.timeout) as connection:
            return _version(connection)

    def unit_of_work(self, *, read_only: bool = False) -> SQLUnitOfWork:
        """A new unit of work: one transaction on a connection of the pool.  With
        *read_only*, its statements run without a transaction, each on the snapshot it
        would have in one (READ COMMITTED): a read costs one round trip, not three."""
        transaction = _Transaction(self, () if read_only else ("BEGIN",))
        db = _Database(self, transaction)
        return SQLUnitOfWork(
            db,
            transaction,
            self.catalog_cache,
            _LOCKS,
            numbers=db.next_number,
            many_numbers=db.next_numbers,
            row_security=transaction.scope,
        )

    def close(self) -> None:
        """Close the calling process's pool (a forked process that never used the store
        has none; the pool it inherited stays its parent's).  Every later call in this
        process raises :class:`~custbill.StorageError` ("the store is closed")."""
        pool = self._pools.opened_here()
        if pool is not None:
            pool.close()
