"""SQLiteStore specifics: schema versions, pragmas, and indexes for every lookup."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from moneyed import Money

import custbill as cb
from custbill.storage import SQLiteStore
from custbill.storage._sql import MIGRATIONS
from custbill.testing import facade_for, new_account, new_customer


def test_schema_is_versioned_and_migrated_once(tmp_path: Path) -> None:
    """A new file gets every migration; reopening it applies none again."""
    path = tmp_path / "v.db"
    store = SQLiteStore(path)
    assert store.schema_version == len(MIGRATIONS)
    facade_for(store).create_customer(new_customer(), new_account())
    store.close()
    again = SQLiteStore(path)
    assert again.schema_version == len(MIGRATIONS)
    assert cb.CustomerBilling(store=again).get_customer("C-000001").name == "Acme Brick"


def test_durable_settings(tmp_path: Path) -> None:
    """WAL and synchronous=FULL unless asked otherwise."""
    store = SQLiteStore(tmp_path / "p.db")
    assert store.connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store.connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    normal = SQLiteStore(tmp_path / "n.db", synchronous="NORMAL")
    assert normal.connection.execute("PRAGMA synchronous").fetchone() == (1,)
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteStore(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]


def test_a_locked_database_is_a_storage_error(tmp_path: Path) -> None:
    """A unit of work that cannot get the write lock in time raises StorageError (a
    CustbillError), and so does opening a store that cannot migrate."""
    path = tmp_path / "l.db"
    store = SQLiteStore(path, busy_timeout=0.1)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(cb.StorageError):
        cb.CustomerBilling(store=store).get_customer("C-1")
    with pytest.raises(cb.CustbillError):
        SQLiteStore(path, busy_timeout=0.1)
    blocker.execute("ROLLBACK")
    with pytest.raises(cb.NotFoundError):
        cb.CustomerBilling(store=store).get_customer("C-1")


# Listings of everything, the count of custom field definitions, and the carried-forward
# amounts a bill run reads whole (a small table: only suppressed invoices' amounts).
_FULL_LISTINGS = (
    "FROM customers ORDER BY number",
    "FROM accounts ORDER BY number",
    "COUNT(*) FROM custom_fields",
    "FROM pending",
)


def test_lookups_use_indexes(tmp_path: Path) -> None:
    """Every statement the facade runs finds its rows through an index; only the listings
    of everything (and counting custom field definitions) read a whole table."""
    store = SQLiteStore(tmp_path / "i.db")
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)
    billing = facade_for(store)
    customer, top = billing.create_customer(
        new_customer(external_number="X"), new_account(external_number="Y")
    )
    below = billing.add_account(
        customer.number, new_account(responsible_account=top.number, parent_account=top.number)
    )
    billing.edit_customer(customer.number, company_name="Renamed")
    billing.edit_account(below.number, taxable=True)
    billing.search_customers("ren")
    billing.search_accounts("ren x")
    billing.accounts_of(customer.number)
    billing.managed_accounts(top.number)
    billing.child_accounts(top.number)
    billing.history(customer.number)
    billing.erase_customer(customer.number)
    plan = billing.plan_bill_run("m1", date(2026, 7, 1), {below.number: Money(5, "USD")})
    billing.issue_bill_run(plan)
    billing.record_payment(top.number, Money(5, "USD"), date(2026, 7, 2))
    billing.account_summary(top.number)
    store.connection.set_trace_callback(None)
    checked = 0
    for sql in set(statements):
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            continue
        if any(listing in sql for listing in _FULL_LISTINGS):
            continue
        plan_rows = store.connection.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        details = [row[-1] for row in plan_rows]
        # a SCAN of a search's sub-query result (w0, w1, ...) reads rows already found by index
        scans = [
            d
            for d in details
            if d.startswith("SCAN") and "CONSTANT ROW" not in d and not re.match(r"SCAN w\d+", d)
        ]
        assert not scans, (sql, details)
        checked += 1
    assert checked >= 20
