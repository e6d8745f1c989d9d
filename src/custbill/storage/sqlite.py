"""A durable store on the standard library's sqlite3.

* The schema is versioned (``PRAGMA user_version``) and migrated when the store opens.
* The database runs in WAL mode with ``synchronous=FULL`` by default: a committed unit of
  work survives a power cut.
* Every writing unit of work is one ``BEGIN IMMEDIATE`` transaction, so writers are
  serialised across threads and processes; a writer waits up to ``busy_timeout`` seconds
  for another, then raises :class:`~custbill.errors.StorageError`.  A reading unit
  (``unit_of_work(read_only=True)``: the facade's reads and plans) is a deferred
  transaction on a snapshot of the WAL, and waits for no writer of another process or
  store object.  The threads of one store object share its connection and take turns.
* Records are stored as JSON beside indexed columns for every lookup the facade makes
  (numbers, external numbers, customers' accounts, both hierarchies, bill cycles, search
  tokens), so no lookup scans a table.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Literal, NamedTuple

from custbill.errors import StorageError
from custbill.storage._per_process import PerProcess
from custbill.storage._sql import MIGRATIONS, LockedTransaction, SQLUnitOfWork, migrate
from custbill.storage._sql_writes import MAX_WAIT_SECONDS, Dialect, is_seconds

_DIALECT = {"text": "TEXT", "serial": "INTEGER PRIMARY KEY", "without_rowid": " WITHOUT ROWID"}


class _Database:
    def __init__(self, connection: sqlite3.Connection, transaction: LockedTransaction) -> None:
        self.connection = connection
        self.transaction = transaction

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


class _Connection(NamedTuple):
    """A process's connection to the file, and the lock its units of work take turns by."""

    connection: sqlite3.Connection
    lock: threading.RLock


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

    Safe to share between threads (units of work take turns) and between processes (SQLite
    locks the file), including processes forked after the store was made (each opens its
    own connection).
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

        def connect() -> _Connection:
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
            return _Connection(connection, threading.RLock())

        self._connections = PerProcess(connect)
        self._migrate()

    @property
    def connection(self) -> sqlite3.Connection:
        """This process's connection to the file.  A process forked from the one that
        made the store opens its own (:class:`~custbill.storage._per_process.PerProcess`)."""
        return self._connections.get().connection

    def _transaction(self, here: _Connection, read_only: bool = False) -> LockedTransaction:
        # a reading unit's deferred transaction reads a snapshot of the WAL and waits for no
        # writer; a writing one takes the write lock first, so it never has to give up a
        # snapshot another writer moved past
        begin = "BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE"
        return LockedTransaction(here.lock, here.connection.execute, (begin,), sqlite3.Error)

    @property
    def schema_version(self) -> int:
        """The schema version of the database file."""
        here = self._connections.get()
        with here.lock:
            row = here.connection.execute("PRAGMA user_version").fetchone()
            return int(row[0])

    def _migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS):
            return  # up to date: no write lock to wait for

        here = self._connections.get()
        execute = here.connection.execute

        def record(version: int) -> None:
            execute(f"PRAGMA user_version={version}")

        migrate(
            self._transaction(here),
            execute,
            _DIALECT,
            version=lambda: int(execute("PRAGMA user_version").fetchone()[0]),
            record=record,
            what=self.path,
        )

    def unit_of_work(self, *, read_only: bool = False) -> SQLUnitOfWork:
        """A new unit of work: one ``BEGIN IMMEDIATE`` transaction (``BEGIN DEFERRED``,
        waiting for no writer, with *read_only*)."""
        here = self._connections.get()
        transaction = self._transaction(here, read_only)
        return SQLUnitOfWork(
            _Database(here.connection, transaction), transaction, self.catalog_cache, _DIALECT_LOCKS
        )

    def close(self) -> None:
        """Close the calling process's database connection (a forked process that never
        used the store has none; the connection it inherited stays its parent's)."""
        here = self._connections.opened_here()
        if here is not None:
            with here.lock:
                here.connection.close()
