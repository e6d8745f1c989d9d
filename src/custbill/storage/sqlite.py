"""A durable store on the standard library's sqlite3.

* The schema is versioned (``PRAGMA user_version``) and migrated when the store opens.
* The database runs in WAL mode with ``synchronous=FULL`` by default: a committed unit of
  work survives a power cut.
* Every writing unit of work is one ``BEGIN IMMEDIATE`` transaction, so writers are
  serialised across threads and processes; a writer waits up to ``busy_timeout`` seconds
  for another, then raises :class:`~custbill.errors.StorageError`.  A reading unit
  (``unit_of_work(read_only=True)``: the facade's reads and plans) is a deferred
  transaction on a snapshot of the WAL, and waits for no writer, of this process or any
  other.
* Each unit of work runs on a connection of its own, taken from the process's idle ones
  (or opened) when it begins and given back when it ends; the writing units of one
  process take turns on a lock of the process before SQLite's, so they queue rather than
  poll the file's lock.
* Records are stored as JSON beside indexed columns for every lookup the facade makes
  (numbers, external numbers, customers' accounts, both hierarchies, bill cycles, search
  tokens), so no lookup scans a table.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from custbill.errors import StorageError
from custbill.storage._per_process import PerProcess
from custbill.storage._sql import MIGRATIONS, LockedTransaction, SQLUnitOfWork, migrate
from custbill.storage._sql_writes import MAX_WAIT_SECONDS, Dialect, is_seconds

_DIALECT = {"text": "TEXT", "serial": "INTEGER PRIMARY KEY", "without_rowid": " WITHOUT ROWID"}


class _Database:
    def __init__(self, transaction: _PooledTransaction) -> None:
        self.transaction = transaction

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection of the unit of work (while it runs)."""
        return self.transaction.held()

    def _execute(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        self.transaction.ensure()
        try:
            return self.connection.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"{exc} in {sql.split()[0]} statement") from exc

    def _read(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor | None:
        """A reading statement's cursor, or None when a parameter is text with a lone
        surrogate, which SQLite cannot encode and so no row holds: such a read matches
        nothing (a write with one is a StorageError)."""
        try:
            return self._execute(sql, params)
        except UnicodeEncodeError:
            return None

    # (each_time: SQLite plans a statement without looking at its values anyway)
    def one(
        self, sql: str, params: Sequence[Any] = (), *, each_time: bool = False
    ) -> tuple[Any, ...] | None:
        cursor = self._read(sql, params)
        row: tuple[Any, ...] | None = None if cursor is None else cursor.fetchone()
        return row

    def all(
        self, sql: str, params: Sequence[Any] = (), *, each_time: bool = False
    ) -> list[tuple[Any, ...]]:
        cursor = self._read(sql, params)
        return [] if cursor is None else cursor.fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._execute(sql, params).rowcount
        except UnicodeEncodeError as exc:
            raise StorageError(f"{exc} in {sql.split()[0]} statement") from None

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.transaction.ensure()
        try:
            self.connection.executemany(sql, rows)
        except (sqlite3.Error, UnicodeEncodeError) as exc:
            raise StorageError(str(exc)) from exc

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        cursor = self._read(sql, params)  # (sqlite3 steps the query as rows are read)
        return iter(() if cursor is None else cursor)

    def erased(self) -> None:
        if self._truncate_log not in self.transaction.after_commit:
            self.transaction.after_commit.append(self._truncate_log)

    def _truncate_log(self) -> None:
        """Copy the write-ahead log into the database and empty it: the erased values'
        earlier pages leave the log (``secure_delete`` has zeroed them in the database)."""
        try:
            busy, _, _ = self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            busy, reason = 1, str(exc)
        else:
            reason = "a reader kept it in use past the busy timeout"
        if busy:
            raise StorageError(
                "the erasure is committed, but the write-ahead log still holds earlier "
                f"values until its next checkpoint: {reason}"
            )


#: Connections a process keeps open while no unit of work uses them, for the next ones:
#: enough for the units a small threaded server runs at once.  More are opened while more
#: units run at once, and closed as they end, so that a server starting a thread per
#: request keeps no connection per thread it ever ran.
IDLE_CONNECTIONS = 4


class _Connections:
    """A process's connections to the file, and the lock its writing units take turns by.

    The first connection, opened with the store (or in a forked process, on its first
    use), is the one a unit takes whenever it is free, so units that run one at a time all
    run on it; it is never closed before the store.  Others are opened while it is in use
    and kept, up to :data:`IDLE_CONNECTIONS` idle in all.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self.first = connect()
        self._first_free = True
        self._others: list[sqlite3.Connection] = []  # idle, the last given back last
        self._guard = threading.Lock()  # (over the idle ones and closed, never held long)
        self.closed = False
        #: Taken by a writing unit from its begin to its end.
        self.writing = threading.Lock()

    def take(self) -> sqlite3.Connection:
        """The first connection if it is free, else an idle one, else a new one.

        Raises:
            StorageError: the store is closed.
        """
        with self._guard:
            if self.closed:
                raise StorageError("the store is closed")
            if self._first_free:
                self._first_free = False
                return self.first
            if self._others:
                return self._others.pop()
        return self._connect()

    def give(self, connection: sqlite3.Connection) -> None:
        """Give back a connection a unit of work took."""
        with self._guard:
            if connection is self.first:
                self._first_free = not self.closed
                keep = self._first_free
            else:
                keep = not self.closed and len(self._others) < IDLE_CONNECTIONS - 1
                if keep:
                    self._others.append(connection)
        if not keep:
            connection.close()

    def idle(self) -> int:
        """How many connections are open and free."""
        with self._guard:
            return int(self._first_free) + len(self._others)

    def close(self) -> None:
        """Close the idle connections; those in use close when given back."""
        with self._guard:
            self.closed = True
            idle = self._others + ([self.first] if self._first_free else [])
            self._others, self._first_free = [], False
        for connection in idle:
            connection.close()


class _PooledTransaction(LockedTransaction):
    """The transaction of one unit of work, on a connection it takes from the process's
    at :meth:`begin` and gives back at :meth:`end`; a writing one also holds the process's
    writing lock from begin to end."""

    def __init__(self, connections: _Connections, read_only: bool) -> None:
        # a reading unit's deferred transaction reads a snapshot of the WAL and waits for no
        # writer; a writing one takes the write lock first, so it never has to give up a
        # snapshot another writer moved past
        begin = "BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE"
        lock = _UNSHARED if read_only else connections.writing
        super().__init__(lock, self._run, (begin,), sqlite3.Error)
        self.connections = connections
        self.connection: sqlite3.Connection | None = None

    def held(self) -> sqlite3.Connection:
        """The connection the unit of work holds."""
        if self.connection is None:
            raise StorageError("the unit of work is not running: enter it first")
        return self.connection

    def _run(self, sql: str) -> object:
        return self.held().execute(sql)

    def begin(self) -> None:
        self.connection = self.connections.take()
        try:
            super().begin()
        except BaseException:
            self._give_back()
            raise

    def end(self) -> None:
        try:
            super().end()
        finally:
            self._give_back()

    def _give_back(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            self.connections.give(connection)


class _Unshared:
    """The lock of a reading unit: none, since its connection is its own."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


_UNSHARED = _Unshared()


#: A writing transaction holds the whole database file: no row lock to add.
_DIALECT_LOCKS = Dialect(lock="", lock_skipping="")


#: The values of SQLite's ``synchronous`` setting the store may run with.
_SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")


class SQLiteStore:
    """Keeps custbill's records in a SQLite database file.

    Args:
        path: the database file (created if missing).
        synchronous: SQLite's ``synchronous`` setting; ``"FULL"`` (the default) makes every
            commit durable, ``"NORMAL"`` is faster and may lose the last commits (never
            consistency) on a power cut.
        busy_timeout: seconds a unit of work waits for another process's to finish.

    Raises:
        StorageError: the file cannot be opened or migrated.
        TypeError: *synchronous* is none of its three values, or *busy_timeout* is not a
            number of seconds from 0 to 2,147,483 (SQLite keeps it in milliseconds, in a C
            int).

    Safe to share between threads (each unit of work runs on a connection of its own, so
    readers wait for no writer; writers take turns) and between processes (SQLite locks
    the file), including processes forked after the store was made (each opens its own
    connections).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL",
        busy_timeout: float = 30.0,
    ) -> None:
        if not any(synchronous == s for s in _SYNCHRONOUS) or not isinstance(synchronous, str):
            kind = type(synchronous).__name__
            raise TypeError(f"synchronous: expected one of {', '.join(_SYNCHRONOUS)}, got {kind}")
        if not is_seconds(busy_timeout):
            raise TypeError(f"busy_timeout: expected seconds from 0 to {MAX_WAIT_SECONDS:,}")
        self.path = os.fspath(path)
        #: Catalog entries read so far (they never change once added).
        self.catalog_cache: dict[tuple[type, str], Any] = {}

        def connect() -> sqlite3.Connection:
            try:
                connection = sqlite3.connect(
                    self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
                )
                connection.execute("PRAGMA journal_mode=WAL")
                # content deleted or replaced is overwritten with zeros, whatever the build's
                # default: what an erasure removes (and what edits replaced before it) leaves
                # no copy in free space
                connection.execute("PRAGMA secure_delete=ON")
                connection.execute(f"PRAGMA synchronous={synchronous}")
                connection.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
                # a 64 MiB page cache (SQLite's default is 2 MiB): a large unit of work keeps
                # its index pages in memory instead of spilling them to the log before it
                # commits
                connection.execute("PRAGMA cache_size=-65536")
            except (sqlite3.Error, ValueError) as exc:  # (ValueError: a NUL in the path)
                raise StorageError(f"cannot open {self.path!r}: {exc}") from exc
            return connection

        self._connections = PerProcess(lambda: _Connections(connect))
        self._migrate()

    @property
    def connection(self) -> sqlite3.Connection:
        """The first connection this process opened to the file, which its units of work
        use whenever they run one at a time; for a host's own looks at the file (a
        ``PRAGMA``, a trace callback) while none runs.  A process forked from the one that
        made the store opens its own (:class:`~custbill.storage._per_process.PerProcess`)."""
        return self._connections.get().first

    @property
    def schema_version(self) -> int:
        """The schema version of the database file."""
        connections = self._connections.get()
        connection = connections.take()
        try:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])
        finally:
            connections.give(connection)

    def _migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS):
            return  # up to date: no write lock to wait for
        transaction = _PooledTransaction(self._connections.get(), read_only=False)

        def execute(sql: str, params: Sequence[Any] = ()) -> Any:
            return transaction.held().execute(sql, params)

        def record(version: int) -> None:
            execute(f"PRAGMA user_version={version}")

        migrate(
            transaction,
            execute,
            _DIALECT,
            version=lambda: int(execute("PRAGMA user_version").fetchone()[0]),
            record=record,
            what=self.path,
        )

    def unit_of_work(self, *, read_only: bool = False) -> SQLUnitOfWork:
        """A new unit of work: one ``BEGIN IMMEDIATE`` transaction (``BEGIN DEFERRED``,
        waiting for no writer, with *read_only*), on a connection of its own while it
        runs."""
        transaction = _PooledTransaction(self._connections.get(), read_only)
        return SQLUnitOfWork(
            _Database(transaction), transaction, self.catalog_cache, _DIALECT_LOCKS
        )

    def close(self) -> None:
        """Close the calling process's connections to the file, each as soon as no unit
        of work uses it (a forked process that never used the store has none; the
        connections it inherited stay its parent's).  Every later call in this process
        raises :class:`~custbill.StorageError` ("the store is closed")."""
        connections = self._connections.opened_here()
        if connections is not None:
            connections.close()
