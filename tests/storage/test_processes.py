"""The SQL stores shared by several processes: a run split across worker processes is
issued exactly once, even when a worker is killed holding a part; and on PostgreSQL, where
writers run at once, the rules' invariants hold between concurrent writers."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import custbill as cb
from tests.conftest import new_database
from tests.storage import run_workers

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


@pytest.fixture(params=["sqlite", "postgres"])
def store_name(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new empty store, by name (a SQLite path or a PostgreSQL DSN)."""
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    return new_database(request.getfixturevalue("postgres_dsn"))


@pytest.fixture
def postgres(postgres_dsn: str) -> str:
    """A new empty PostgreSQL database."""
    return new_database(postgres_dsn)


def _in_processes(function: Callable[..., object], calls: list[tuple[object, ...]]) -> list:  # type: ignore[type-arg]
    with multiprocessing.get_context("spawn").Pool(len(calls)) as pool:
        return pool.starmap(function, calls)


def _check_run(name: str, charges: dict[str, cb.Money]) -> None:
    """Every part of the run issued once: the invoices are the whole run's, numbered
    uniquely, and the run is complete."""
    billing = run_workers.facade(name)
    status = billing.bill_run_status("m1", run_workers.RUN)
    assert status.complete and status.partitions == run_workers.PARTS
    invoices = [i for n in charges for i in billing.invoices(n)]
    assert len({i.number for i in invoices}) == len(invoices) == status.invoices
    whole = billing.plan_bill_run("m1", run_workers.RUN, charges)  # (a plan records nothing)
    assert sorted((i.billed_account, i.total) for i in invoices) == sorted(
        (i.billed_account, i.total) for i in whole.invoices
    )
    billing.close()


def test_worker_processes_issue_a_split_run_once(store_name: str) -> None:
    """4 worker processes started at once take the 8 parts between them, each part once."""
    charges = run_workers.populate(store_name, 40)
    done = _in_processes(run_workers.issue_parts, [(store_name,)] * WORKERS)
    assert sorted(i for worker in done for i in worker) == list(range(run_workers.PARTS))
    _check_run(store_name, charges)


def test_a_worker_killed_holding_a_part_leaves_it_to_the_others(
    store_name: str, tmp_path: Path
) -> None:
    """A worker killed with SIGKILL while it holds a part leaves nothing of that part; the
    other workers then issue every part, that one included."""
    charges = run_workers.populate(store_name, 40)
    marker = tmp_path / "holding"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.run_workers", store_name, str(marker)], cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert worker.poll() is None, "the worker ended before it held a part"
        assert time.monotonic() < deadline, "the worker never held a part"
        time.sleep(0.05)
    status = run_workers.facade(store_name).bill_run_status  # (reads wait for no writer)
    assert status("m1", run_workers.RUN).issued == ()
    worker.send_signal(signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL
    done = _in_processes(run_workers.issue_parts, [(store_name,)] * 2)
    assert sorted(i for worker in done for i in worker) == list(range(run_workers.PARTS))
    _check_run(store_name, charges)


def test_concurrent_creations_get_distinct_numbers(postgres: str) -> None:
    """4 processes creating 25 customers each at once: 100 customers, 100 numbers."""
    run_workers.populate(postgres, 0)  # the catalog
    numbers = _in_processes(run_workers.create_many, [(postgres, 25)] * WORKERS)
    created = [n for worker in numbers for n in worker]
    assert len(set(created)) == 100
    billing = run_workers.facade(postgres)
    assert len(billing.search_customers("many")) == 100


def test_concurrent_defaults_leave_one_default(postgres: str) -> None:
    """4 processes each adding 10 accounts to one customer as its default: 41 accounts,
    and the default is one of them, listed first."""
    run_workers.populate(postgres, 1)
    billing = run_workers.facade(postgres)
    (customer,) = billing.search_customers("co")
    before = customer.version
    _in_processes(run_workers.add_defaults, [(postgres, customer.number, 10)] * WORKERS)
    customer = billing.get_customer(customer.number)
    accounts = billing.accounts_of(customer.number)
    assert len(accounts) == 3 + 40
    assert customer.default_account == accounts[0].number
    assert customer.version == before + 40  # every make_default moved the default once


def test_two_writers_cannot_close_a_cycle_from_both_ends(postgres: str) -> None:
    """Pairs of top accounts: one process makes B responsible for A while another makes A
    responsible for B, at the same instant.  One wins; the other is refused."""
    run_workers.populate(postgres, 8)
    billing = run_workers.facade(postgres)
    billing.update_settings(enable_responsible_account_management=True)
    tops = [
        a.number
        for c in billing.search_customers("co")
        for a in billing.accounts_of(c.number)
        if a.responsible_account is None
    ]
    for a, b in zip(tops[::2], tops[1::2], strict=True):
        start = time.time() + 1.5  # both processes are up by then
        outcomes = _in_processes(
            run_workers.link, [(postgres, a, b, start), (postgres, b, a, start)]
        )
        assert sorted(outcomes) == ["hierarchy.cycle", "linked"], outcomes
        linked = [billing.get_account(n).responsible_account for n in (a, b)]
        assert linked.count(None) == 1
