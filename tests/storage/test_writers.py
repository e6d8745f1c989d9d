"""The SQL stores written by several processes at once (4 unless a test says otherwise),
each test on SQLite and on PostgreSQL (where writers run in parallel, each locking only
the rows it changes): the invariants the contract suite checks hold between concurrent
writers — unique numbers, one default account, no responsible-account cycle, no lost
update, every unit of work whole or absent — also when writers are killed with SIGKILL."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

import custbill as cb
from custbill.model.billing import hierarchy_key
from tests.storage import writers
from tests.storage.conftest import in_processes

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
#: Seconds from now at which racing writers start, so that every process is up by then
#: (a new interpreter importing custbill takes under a second here).
START_DELAY = 1.5


def _shared_store(name: str, **settings: Any) -> cb.CustomerBilling:
    """The store of *name* with the writers' catalog (and *settings*)."""
    billing = cb.CustomerBilling(
        store=writers.open_store(name),
        settings=cb.Settings(allow_multi_customer_accounts=True, **settings),
    )
    writers.catalog(billing)
    return billing


def _customer(billing: cb.CustomerBilling, name: str) -> tuple[cb.Customer, cb.BillingAccount]:
    new = cb.NewCustomer(
        kind=cb.CustomerKind.COMPANY, company_name=name, primary_email="s@x.example"
    )
    return billing.create_customer(new, writers.new_account())


def test_concurrent_creations_get_distinct_numbers(store_name: str) -> None:
    """4 processes creating 25 customers each at once: 100 customers, 100 numbers."""
    _shared_store(store_name).close()
    numbers = in_processes(writers.create_many, [(store_name, 25)] * WRITERS)
    created = [n for worker in numbers for n in worker]
    assert len(set(created)) == 100
    billing = writers.facade(store_name)
    assert len(billing.search_customers("many")) == 100
    assert len({a for n in created for a in billing.accounts_of(n)}) == 100


def test_concurrent_defaults_leave_one_default(store_name: str) -> None:
    """4 processes each adding 10 accounts to one customer as its default: 41 accounts,
    and the default is one of them, listed first."""
    billing = _shared_store(store_name)
    customer, _ = _customer(billing, "Shared")
    in_processes(writers.add_defaults, [(store_name, customer.number, 10)] * WRITERS)
    customer = billing.get_customer(customer.number)
    accounts = billing.accounts_of(customer.number)
    assert len(accounts) == 1 + 40
    assert customer.default_account == accounts[0].number
    assert customer.version == 1 + 40  # every make_default moved the default once


def test_four_processes_lose_no_update(store_name: str) -> None:
    """4 processes × 100 read-modify-write edits with expected_version, retrying on
    ConflictError: the final state counts all 400."""
    billing = _shared_store(store_name)
    _, account = _customer(billing, "Shared")
    in_processes(writers.edit_many, [(store_name, account.number, 100)] * WRITERS)
    final = billing.get_account(account.number)
    assert final.auto_pay_offset_days == 400
    assert final.version == 401


def test_two_writers_cannot_close_a_cycle_from_both_ends(store_name: str) -> None:
    """Pairs of top accounts: one process makes B responsible for A while another makes A
    responsible for B, at the same instant.  One wins; the other is refused."""
    billing = _shared_store(store_name, enable_responsible_account_management=True)
    tops = [_customer(billing, f"Top {i}")[1].number for i in range(6)]
    for a, b in zip(tops[::2], tops[1::2], strict=True):
        start = time.time() + START_DELAY
        outcomes = in_processes(
            writers.link, [(store_name, a, b, start), (store_name, b, a, start)]
        )
        assert sorted(outcomes) == ["hierarchy.cycle", "linked"], outcomes
        linked = [billing.get_account(n).responsible_account for n in (a, b)]
        assert linked.count(None) == 1


def test_four_writers_cannot_close_a_ring(store_name: str) -> None:
    """Four top accounts A, B, C, D: four processes make B responsible for A, C for B, D
    for C and A for D at the same instant.  Any three of those links make a chain; the
    fourth would close a ring, so exactly one is refused and no account reaches itself."""
    billing = _shared_store(store_name, enable_responsible_account_management=True)
    ring = [_customer(billing, f"Ring {i}")[1].number for i in range(4)]
    start = time.time() + START_DELAY
    outcomes = in_processes(
        writers.link,
        [(store_name, ring[i], ring[(i + 1) % 4], start) for i in range(4)],
    )
    assert sorted(outcomes) == ["hierarchy.cycle", "linked", "linked", "linked"], outcomes
    up = {n: billing.get_account(n).responsible_account for n in ring}
    assert list(up.values()).count(None) == 1
    for number in ring:  # every chain ends at the one top within four steps
        for _ in range(4):
            number = up[number] or number
        assert up[number] is None


def test_top_keys_follow_concurrent_moves(store_name: str) -> None:
    """Two processes move the middle of four chains (top, middle, last) back and forth
    between tops while two add accounts under their last accounts, all at once: afterwards
    every account's stored top key is its chain top's, so split runs cut no hierarchy."""
    billing = _shared_store(store_name, enable_responsible_account_management=True)
    chains = []
    for i in range(4):
        customer, top = _customer(billing, f"Chain {i}")
        middle = billing.add_account(customer.number, writers.new_account(responsible=top.number))
        last = billing.add_account(customer.number, writers.new_account(responsible=middle.number))
        chains.append([top.number, middle.number, last.number])
    start = time.time() + START_DELAY
    in_processes(
        writers.churn,
        [(store_name, role, chains, 12, start) for role in ("mover", "adder") * 2],
    )
    with _sql(store_name) as connection:
        rows = connection.execute("SELECT number, responsible, top_key FROM accounts").fetchall()
    above = {number: responsible for number, responsible, _ in rows}
    assert len(above) == 4 * 3 + 2 * 12 * 4
    for number, _, key in rows:
        top = number
        while above[top] is not None:
            top = above[top]
        assert key == hierarchy_key(top), number


def test_concurrent_batches_are_whole_or_absent(store_name: str) -> None:
    """4 processes each running 9 batches at once (create a customer, add two accounts,
    move its default, rename it), every third batch refused after all its writes: the
    store holds exactly the committed batches, each whole, and nothing of the others."""
    _shared_store(store_name).close()
    start = time.time() + START_DELAY
    kept = in_processes(
        writers.write_batches, [(store_name, f"W{w}", 9, start) for w in range(WRITERS)]
    )
    committed = sorted(n for worker in kept for n in worker)
    assert len(committed) == WRITERS * 6
    billing = writers.facade(store_name)
    assert sorted(c.number for c in billing.search_customers("batched")) == committed
    assert billing.search_customers("batch") == billing.search_customers("batched")
    for number in committed:
        customer = billing.get_customer(number)
        accounts = billing.accounts_of(number)
        assert len(accounts) == 3
        assert customer.default_account == accounts[0].number != accounts[1].number
        assert [c.field for c in billing.history(number)] == [
            "created",
            "default_account",
            "company_name",
        ]
    refused = [f"W{w}-{i}" for w in range(WRITERS) for i in range(2, 9, 3)]
    for number in refused:
        assert not billing.search_customers(number)
    _check_consistent(store_name)


@contextmanager
def _sql(name: str) -> Iterator[Any]:
    """A plain DB-API connection to the store of *name*, to look at its tables."""
    connection: Any = (
        psycopg.connect(name) if name.startswith("postgresql://") else sqlite3.connect(name)
    )
    try:
        yield connection
    finally:
        connection.close()


def _count(connection: Any, query: str) -> int:
    return int(connection.execute(query).fetchone()[0])


#: What a unit of work left half done would leave behind: each query counts such rows.
HALVES = {
    "customers without an account": "SELECT count(*) FROM customers c"
    " LEFT JOIN accounts a ON a.customer = c.number WHERE a.number IS NULL",
    "accounts without their customer": "SELECT count(*) FROM accounts a"
    " LEFT JOIN customers c ON a.customer = c.number WHERE c.number IS NULL",
    "customers without search tokens": "SELECT count(*) FROM customers c WHERE NOT EXISTS"
    " (SELECT 1 FROM customer_tokens t WHERE t.number = c.number)",
}


def _check_consistent(name: str) -> int:
    """Every customer has its accounts and every account its customer, every record its
    "created" history and search tokens, every edit of a customer its history entry (no
    unit of work half there); returns the number of customers."""
    with _sql(name) as connection:
        if not name.startswith("postgresql://"):
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        halves = {what: _count(connection, query) for what, query in HALVES.items()}
        assert halves == dict.fromkeys(HALVES, 0)
        records = _count(connection, "SELECT count(*) FROM customers") + _count(
            connection, "SELECT count(*) FROM accounts"
        )
        created = _count(connection, "SELECT count(*) FROM history WHERE field = 'created'")
        assert created == records
        edited = _count(  # (each edit of the writers changes one field)
            connection,
            "SELECT count(*) FROM history h JOIN customers c ON c.number = h.number"
            " WHERE h.field <> 'created'",
        )
        versions = _count(connection, "SELECT coalesce(sum(version - 1), 0) FROM customers")
        assert edited == versions
        return _count(connection, "SELECT count(*) FROM customers")


def _writers(name: str, prefixes: list[str]) -> list[subprocess.Popen[str]]:
    """Processes creating and editing customers until killed, one per prefix, started at
    once; returned when every one is ready."""
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.storage.writers", name, prefix],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for prefix in prefixes
    ]
    for writer in started:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
    return started


def _kill(writer: subprocess.Popen[str]) -> None:
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL


def test_sigkill_never_leaves_half_an_operation(store_name: str) -> None:
    """A writer killed with SIGKILL at 25 random points leaves an intact store where every
    operation is wholly present or wholly absent."""
    _shared_store(store_name).close()
    rng = random.Random(20261122)
    counts = []
    for round_ in range(25):
        (writer,) = _writers(store_name, [f"K{round_}"])
        time.sleep(rng.uniform(0.005, 0.12))
        _kill(writer)
        counts.append(_check_consistent(store_name))
    assert counts[-1] > 25  # the writers did write between the kills
    billing = writers.facade(store_name)  # and the store opens and works afterwards
    assert len(billing.search_customers("edited")) >= 1


def test_four_writers_killed_at_once_leave_whole_operations(store_name: str) -> None:
    """Four writers at once, all killed with SIGKILL at a random point, five times over:
    each time, every operation of every writer is wholly present or wholly absent."""
    _shared_store(store_name).close()
    rng = random.Random(20261202)
    for round_ in range(5):
        running = _writers(store_name, [f"R{round_}W{w}" for w in range(WRITERS)])
        time.sleep(rng.uniform(0.05, 0.3))
        for writer in running:
            _kill(writer)
        _check_consistent(store_name)
    assert len(writers.facade(store_name).search_customers("edited")) >= WRITERS
