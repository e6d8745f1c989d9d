"""The storage contract suite, run on every store custbill ships."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from custbill.storage import MemoryStore, PostgresStore, SQLiteStore, Store
from custbill.testing import StoreContract


class TestMemoryStore(StoreContract):
    """MemoryStore keeps the contract."""

    def make_store(self) -> Store:
        return MemoryStore()


class TestSQLiteStore(StoreContract):
    """SQLiteStore keeps the contract, each test on a new database file."""

    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: Path) -> None:
        self.directory = tmp_path
        self.count = 0

    def make_store(self) -> Store:
        self.count += 1
        return SQLiteStore(self.directory / f"store-{self.count}.db")


class TestPostgresStore(StoreContract):
    """PostgresStore keeps the contract against a real server, each test on emptied tables."""

    @pytest.fixture(autouse=True)
    def _server(self, postgres_dsn: str) -> None:
        self.dsn = postgres_dsn

    def make_store(self) -> Store:
        store = PostgresStore(self.dsn)
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            tables = [  # every table of custbill's but the schema's version
                name
                for (name,) in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    " AND tablename <> 'custbill_schema'"
                )
            ]
            connection.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
            for (name,) in connection.execute(
                "SELECT sequencename FROM pg_sequences WHERE sequencename LIKE 'custbill_seq_%'"
            ).fetchall():
                connection.execute(f"ALTER SEQUENCE {name} RESTART")
        return store
