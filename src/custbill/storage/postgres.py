"""A store on a PostgreSQL server, shared by several application servers.

Needs psycopg 3 (``pip install custbill[postgres]``).  The schema is the SQLite store's,
with byte-wise (``"C"``) collation on text keys so that ordering and prefix search are the
same everywhere, and is migrated when the store opens (table ``custbill_schema``).

Every unit of work is one transaction that first takes a transaction-scoped advisory lock:
units of work are serialised across every application server, and a row's version is still
checked on every update.  Committed transactions are as durable as the server makes them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from custbill.errors import StorageError
from custbill.storage._sql import LockedTransaction, SQLUnitOfWork, migrate

_DIALECT = {"text": 'TEXT COLLATE "C"', "serial": "BIGSERIAL PRIMARY KEY", "without_rowid": ""}
#: The advisory lock key units of work take (an arbitrary constant: "custbill").
LOCK_KEY = 0x637573746269


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class _Database:
    def __init__(self, store: PostgresStore, transaction: LockedTransaction) -> None:
        self.store = store
        self.transaction = transaction

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        self.transaction.ensure()
        try:
            return self.store.connection.execute(_pg(sql), params)
        except self.store.errors as exc:
            raise StorageError(f"{exc} in {sql.split()[0]} statement") from exc

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._execute(sql, params).fetchall()
        return rows

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._execute(sql, params).rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.transaction.ensure()
        if not rows:
            return
        try:
            with self.store.connection.cursor() as cursor:
                cursor.executemany(_pg(sql), rows)
        except self.store.errors as exc:
            raise StorageError(str(exc)) from exc


class PostgresStore:
    """Keeps custbill's records in a PostgreSQL database.

    Args:
        dsn: a libpq connection string or URL (``"postgresql://user@host/db"``).

    Raises:
        StorageError: psycopg is not installed, or the server cannot be reached.
    """

    def __init__(self, dsn: str) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise StorageError(
                "PostgresStore needs psycopg: pip install custbill[postgres]"
            ) from exc
        self.errors: type[Exception] = psycopg.Error
        self.lock = threading.RLock()
        #: Catalog entries read so far (they never change once added).
        self.catalog_cache: dict[tuple[type, str], Any] = {}
        try:
            self.connection = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            raise StorageError(f"cannot connect: {exc}") from exc
        self._migrate()

    def _migrate(self) -> None:
        execute = self.connection.execute

        def version() -> int:  # (inside the migration's transaction, under its lock)
            execute("CREATE TABLE IF NOT EXISTS custbill_schema (version INTEGER NOT NULL)")
            return self._version()

        migrate(
            self._transaction(),
            execute,
            _DIALECT,
            version=version,
            record=lambda version: execute(
                "INSERT INTO custbill_schema (version) VALUES (%s)", (version,)
            ),
            what="the database",
        )

    def _version(self) -> int:
        row = self.connection.execute("SELECT max(version) FROM custbill_schema").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _transaction(self) -> LockedTransaction:
        return LockedTransaction(
            self.lock,
            self.connection.execute,
            ("BEGIN", f"SELECT pg_advisory_xact_lock({LOCK_KEY})"),
            self.errors,
        )

    @property
    def schema_version(self) -> int:
        """The schema version of the database."""
        with self.lock:
            return self._version()

    def unit_of_work(self) -> SQLUnitOfWork:
        """A new unit of work: one transaction holding the store's advisory lock."""
        transaction = self._transaction()
        return SQLUnitOfWork(_Database(self, transaction), transaction, self.catalog_cache)

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.connection.close()
