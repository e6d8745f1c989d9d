"""The PostgreSQL store when its connections break: a server restarted or failed over, or a
session ended by the server or a proxy between (``idle_session_timeout``, PgBouncer, a
firewall).  A unit of work whose connection broke before it committed runs again on
another connection; one whose connection broke during its commit is reported, never run
again.  (Each connection idle in the pool once failed one call with a StorageError.)"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date

import psycopg
import pytest
from moneyed import Money

import custbill as cb
from custbill.errors import ConnectionLostError
from custbill.service.facade import ATTEMPTS
from custbill.storage import PostgresStore
from custbill.storage.postgres import _Transaction
from tests.conftest import in_threads, new_account, new_customer, standard_facade

#: The run date of the split run.
RUN = date(2026, 7, 1)

#: Milliseconds pg_terminate_backend waits for a session to be gone: a session ends in a
#: few, and a test that went on before it had would find the connection still working.
END_WAIT_MS = 5_000

#: Threads reading at once to open several of the pool's connections, so that several
#: sit idle in it when the server ends them.
READERS = 4


@pytest.fixture
def store(postgres_database: str) -> PostgresStore:
    return PostgresStore(postgres_database, pool_size=READERS)


@pytest.fixture
def billing(store: PostgresStore) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        yield facade


def _end_sessions(database: str, pid: int | None = None) -> int:
    """End the sessions on *database* (only backend *pid*, when given) as a server that
    restarts does, waiting until they are gone; how many there were."""
    server, name = database.rsplit("/", 1)
    which = "pid = %s" if pid is not None else "datname = %s"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, %s))"
            f" FROM pg_stat_activity WHERE {which} AND backend_type = 'client backend'",
            (END_WAIT_MS, pid if pid is not None else name),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _customers_named(billing: cb.CustomerBilling, name: str) -> int:
    return len(billing.search_customers(name))


def test_calls_after_the_server_ended_every_session_go_through(
    store: PostgresStore,
    billing: cb.CustomerBilling,
    postgres_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With several connections idle in the pool and all of them ended by the server, the
    next reads and writes go through, each write once; the first call to find its
    connection broken has the pool check the others, so it runs twice at most."""
    customer, _ = billing.create_customer(new_customer(company_name="Kept"), new_account())
    taken: list[int] = []
    original = _Transaction.begin

    def counted_begin(self: _Transaction) -> None:
        original(self)
        taken.append(self.connection.info.backend_pid)

    together = threading.Barrier(READERS)  # (a barrier serves again once passed)

    def read(_: int) -> None:
        with store.unit_of_work(read_only=True) as unit:
            together.wait()  # every reader's connection is taken at once
            assert unit.customers.get(customer.number) is not None

    monkeypatch.setattr(_Transaction, "begin", counted_begin)
    for round_ in range(3):
        assert in_threads(read, READERS) == []
        assert _end_sessions(postgres_database) >= 2  # several connections were idle in the pool
        taken.clear()
        assert billing.get_customer(customer.number) == customer
        assert 1 <= len(taken) <= 2, taken
        billing.create_customer(new_customer(company_name=f"Round {round_}"), new_account())
        assert _customers_named(billing, f"Round {round_}") == 1


@pytest.fixture
def break_in_unit(
    monkeypatch: pytest.MonkeyPatch, postgres_database: str
) -> Callable[[int], list[int]]:
    """Make the first *times* units of work that start a transaction lose their
    connection right after it starts; the list of the ended backends grows as they do."""

    def arm(times: int) -> list[int]:
        ended: list[int] = []
        original = _Transaction.ensure

        def ensure_then_break(self: _Transaction) -> None:
            was_active = self.active
            original(self)
            if self.active and not was_active and len(ended) < times:
                ended.append(self.connection.info.backend_pid)
                assert _end_sessions(postgres_database, ended[-1]) == 1

        monkeypatch.setattr(_Transaction, "ensure", ensure_then_break)
        return ended

    return arm


def test_a_unit_whose_connection_breaks_midway_runs_again_and_lands_once(
    billing: cb.CustomerBilling, break_in_unit: Callable[[int], list[int]]
) -> None:
    ended = break_in_unit(2)
    customer, account = billing.create_customer(new_customer(company_name="Midway"), new_account())
    assert len(ended) == 2  # two attempts lost their connection; the third went through
    assert _customers_named(billing, "Midway") == 1
    assert billing.get_customer(customer.number).number == customer.number
    assert billing.get_account(account.number).customer == customer.number


def test_a_part_of_a_split_run_whose_connection_breaks_is_issued_once(
    billing: cb.CustomerBilling, break_in_unit: Callable[[int], list[int]]
) -> None:
    """A worker whose connection breaks while it holds a part (the claim's row lock goes
    with the session) takes it again and issues it, once."""
    charges = {
        billing.create_customer(new_customer(company_name=f"Split {i}"), new_account())[
            1
        ].number: Money(5, "USD")
        for i in range(12)
    }
    ended = break_in_unit(1)
    parts: list[cb.PartitionIssued] = []
    while (part := billing.issue_next_partition("m1", RUN, charges, partitions=3)) is not None:
        parts.append(part)
    assert len(ended) == 1
    assert sorted(p.partition.index for p in parts) == [0, 1, 2]
    billed = [i.billed_account for p in parts for i in p.invoices]
    assert sorted(billed) == sorted(charges)
    status = billing.bill_run_status("m1", RUN)
    assert status.complete and status.invoices == len(charges)


def test_a_call_that_keeps_losing_its_connection_gives_up(
    billing: cb.CustomerBilling, break_in_unit: Callable[[int], list[int]]
) -> None:
    ended = break_in_unit(ATTEMPTS)
    with pytest.raises(ConnectionLostError) as lost:
        billing.create_customer(new_customer(company_name="Never"), new_account())
    assert isinstance(lost.value, cb.StorageError)
    assert len(ended) == ATTEMPTS
    assert _customers_named(billing, "Never") == 0


def test_a_connection_that_breaks_during_the_commit_is_reported_not_run_again(
    billing: cb.CustomerBilling, postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a unit whose connection broke during its commit committed is unknown:
    custbill says so and does not run it again (it might then have run twice)."""
    commits: list[int] = []
    original = _Transaction.commit

    def break_then_commit(self: _Transaction) -> None:
        if self.active and not commits:
            commits.append(self.connection.info.backend_pid)
            _end_sessions(postgres_database, commits[-1])
        original(self)

    monkeypatch.setattr(_Transaction, "commit", break_then_commit)
    with pytest.raises(
        cb.StorageError, match="whether the unit of work committed is unknown"
    ) as failed:
        billing.create_customer(new_customer(company_name="Unsure"), new_account())
    assert not isinstance(failed.value, ConnectionLostError)
    assert len(commits) == 1
    assert _customers_named(billing, "Unsure") == 0  # (this server had not committed it)
    billing.create_customer(new_customer(company_name="After"), new_account())
    assert _customers_named(billing, "After") == 1


def test_a_batch_that_loses_its_connection_fails_whole(
    billing: cb.CustomerBilling, postgres_database: str
) -> None:
    """A batch is one unit of work: it is not run again, and nothing of it is kept."""
    with pytest.raises(cb.StorageError), billing.batch():
        billing.create_customer(new_customer(company_name="Batched"), new_account())
        _end_sessions(postgres_database)
        billing.create_customer(new_customer(company_name="Batched"), new_account())
    assert _customers_named(billing, "Batched") == 0
