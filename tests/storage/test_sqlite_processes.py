"""SQLiteStore across processes: no lost update, and nothing half-written after SIGKILL."""

from __future__ import annotations

import multiprocessing
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import custbill as cb
from custbill.storage import SQLiteStore
from tests.storage import sqlite_workers

ROOT = Path(__file__).resolve().parents[2]


def test_four_processes_lose_no_update(tmp_path: Path) -> None:
    """4 processes × 250 read-modify-write edits with expected_version and retry: the final
    state counts all 1,000."""
    path = str(tmp_path / "shared.db")
    billing = cb.CustomerBilling(
        store=SQLiteStore(path), settings=cb.Settings(allow_multi_customer_accounts=True)
    )
    sqlite_workers.catalog(billing)
    _, account = billing.create_customer(
        cb.NewCustomer(
            kind=cb.CustomerKind.COMPANY, company_name="Shared", primary_email="s@x.example"
        ),
        sqlite_workers.new_account(),
    )
    billing.close()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.starmap(sqlite_workers.edit_many, [(path, account.number, 250)] * 4)
    final = cb.CustomerBilling(store=SQLiteStore(path)).get_account(account.number)
    assert final.auto_pay_offset_days == 1000
    assert final.version == 1001


def _check_consistent(path: str) -> int:
    """Integrity is ok and every create_customer/edit is wholly there or wholly absent;
    returns the number of customers."""
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        orphans = connection.execute(
            "SELECT count(*) FROM customers c LEFT JOIN accounts a ON a.customer = c.number"
            " WHERE a.number IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        accounts_without_customer = connection.execute(
            "SELECT count(*) FROM accounts a LEFT JOIN customers c ON a.customer = c.number"
            " WHERE c.number IS NULL"
        ).fetchone()[0]
        assert accounts_without_customer == 0
        records = (
            connection.execute("SELECT count(*) FROM customers").fetchone()[0]
            + connection.execute("SELECT count(*) FROM accounts").fetchone()[0]
        )
        created = connection.execute(
            "SELECT count(*) FROM history WHERE field = 'created'"
        ).fetchone()[0]
        assert created == records
        edited = connection.execute(
            "SELECT count(*) FROM history WHERE field = 'company_name'"
        ).fetchone()[0]
        versions = connection.execute(
            "SELECT coalesce(sum(version - 1), 0) FROM customers"
        ).fetchone()[0]
        assert edited == versions
        untokened = connection.execute(
            "SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM"
            " customer_tokens t WHERE t.number = c.number)"
        ).fetchone()[0]
        assert untokened == 0
        return int(connection.execute("SELECT count(*) FROM customers").fetchone()[0])
    finally:
        connection.close()


def test_sigkill_never_leaves_half_an_operation(tmp_path: Path) -> None:
    """A writer killed with SIGKILL at 50 random points leaves an intact database where
    every operation is wholly present or wholly absent."""
    path = str(tmp_path / "killed.db")
    billing = cb.CustomerBilling(store=SQLiteStore(path))
    sqlite_workers.catalog(billing)
    billing.close()
    rng = random.Random(20261122)
    counts = []
    for round_ in range(50):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.storage.sqlite_workers", path, f"K{round_}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.005, 0.12))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        assert writer.returncode == -signal.SIGKILL
        counts.append(_check_consistent(path))
    assert counts[-1] > 50  # the writers did write between the kills
    store = SQLiteStore(path)  # and the store opens and works afterwards
    assert len(cb.CustomerBilling(store=store).search_customers("edited")) >= 1
