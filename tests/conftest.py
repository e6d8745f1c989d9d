"""Shared fixtures: a catalog-ready facade on a real MemoryStore, a fixed clock, and a
snapshot of a store's whole state for "a rejected operation changes nothing"."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

import custbill as cb
from custbill.model.text import SHOWN_LENGTH
from custbill.service._unit import UnitLookup
from custbill.storage import MemoryStore, PostgresStore, SQLiteStore, Store
from tests.storage.postgres_server import ServerUnavailable, postgres_server

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

ALL_ON = cb.Settings(
    allow_multi_customer_accounts=True,
    enable_responsible_account_management=True,
    enable_account_hierarchy_management=True,
    overall_invoice_distribution=frozenset(cb.InvoiceType),
)


def fixed_clock() -> datetime:
    """The tests' now."""
    return NOW


def add_catalog(billing: cb.CustomerBilling) -> None:
    """The catalog most tests use: two monthly cycles, a USD-only cycle, terms, categories."""
    start = date(2020, 1, 1)
    billing.add_bill_cycle(
        cb.BillCycle(
            id="m1",
            name="Monthly 1st",
            period=cb.BillingPeriod.MONTHLY,
            bill_day=1,
            start_date=start,
        )
    )
    billing.add_bill_cycle(
        cb.BillCycle(
            id="m15",
            name="Monthly 15th",
            period=cb.BillingPeriod.MONTHLY,
            bill_day=15,
            start_date=start,
        )
    )
    billing.add_bill_cycle(
        cb.BillCycle(
            id="usd",
            name="USD only",
            period=cb.BillingPeriod.MONTHLY,
            bill_day=1,
            start_date=start,
            currency="USD",
        )
    )
    billing.add_payment_term(cb.PaymentTerm(id="net30", name="Net 30", net_days=30))
    billing.add_account_category(cb.AccountCategory(id="corp", name="Corporate"))
    billing.add_dunning_plan(
        cb.DunningPlan(
            id="std",
            name="Standard",
            steps=(
                cb.DunningStep(days_past_due=10, action="remind"),
                cb.DunningStep(days_past_due=30, action="suspend"),
            ),
        )
    )


def unless_refused(operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``operation(*args, **kwargs)``, or None when the rules refuse it."""
    try:
        return operation(*args, **kwargs)
    except cb.RuleViolationError:
        return None


def assert_prints_whole(error: Exception) -> None:
    """The message of *error* encodes as UTF-8, has no control character but the line
    breaks between its lines, and no line longer than SHOWN_LENGTH: whatever a caller
    passed, it prints and logs as it reads."""
    message = str(error)
    message.encode("utf-8")
    assert all(line.isprintable() for line in message.split("\n")), repr(message[:500])
    assert max(map(len, message.split("\n"))) <= SHOWN_LENGTH, repr(message[:500])


def in_threads(work: Callable[[int], object], count: int) -> list[BaseException]:
    """Run ``work(i)`` for i in range(count), each in a thread of its own, all started
    together (a barrier), and wait for them; what they raised."""
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
        except BaseException as exc:  # handed to the caller
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def new_customer(**changes: Any) -> cb.NewCustomer:
    """A valid company customer, with *changes* applied."""
    fields: dict[str, Any] = {
        "kind": cb.CustomerKind.COMPANY,
        "company_name": "Acme Brick",
        "primary_email": "ap@acme.example",
        "billing_address": cb.Address(
            line1="1 Main St", city="Austin", postal_code="78701", country="US"
        ),
    }
    fields.update(changes)
    return cb.NewCustomer(**fields)


def new_account(**changes: Any) -> cb.NewAccount:
    """A valid USD account on cycle m1, with *changes* applied."""
    fields: dict[str, Any] = {
        "currency": "USD",
        "bill_cycle": "m1",
        "start_date": date(2024, 1, 1),
        "category": "corp",
        "payment_term": "net30",
        "invoice_type": cb.InvoiceType.EMAIL,
    }
    fields.update(changes)
    return cb.NewAccount(**fields)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A running server for the session; in CI the tests must run, elsewhere they skip
    when no server can be started."""
    try:
        with postgres_server() as dsn:
            yield dsn
    except ServerUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(f"no PostgreSQL server could be started: {exc}")


_databases = itertools.count(1)


def new_database(dsn: str) -> str:
    """The DSN of a new, empty database on the server of *dsn*."""
    name = f"custbill_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def postgres_database(postgres_dsn: str) -> str:
    """The DSN of a new, empty database on the session's server."""
    return new_database(postgres_dsn)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    """Makes a new empty store of one kind on every call; a test asking for it runs once
    for each kind (PostgreSQL on a throw-away server, a new database each call)."""
    if request.param == "memory":
        return MemoryStore
    made = itertools.count()
    if request.param == "sqlite":
        return lambda: SQLiteStore(tmp_path / f"store-{next(made)}.db")
    server = request.getfixturevalue("postgres_dsn")
    return lambda: PostgresStore(new_database(server))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@contextmanager
def standard_facade(store: Store) -> Iterator[cb.CustomerBilling]:
    """A facade on *store* with every capability switched on, the tests' clock and the
    standard catalog, closed afterwards."""
    with cb.CustomerBilling(store=store, settings=ALL_ON, clock=fixed_clock) as facade:
        add_catalog(facade)
        yield facade


@pytest.fixture
def billing(store: MemoryStore) -> Iterator[cb.CustomerBilling]:
    """A facade with every capability switched on and the standard catalog."""
    with standard_facade(store) as facade:
        yield facade


@pytest.fixture
def plain_billing(store: MemoryStore) -> Iterator[cb.CustomerBilling]:
    """A facade with default settings and the standard catalog."""
    with cb.CustomerBilling(store=store, clock=fixed_clock) as facade:
        add_catalog(facade)
        yield facade


@contextmanager
def lookup_for(
    store: MemoryStore, settings: cb.Settings | None = None, today: date = TODAY
) -> Iterator[UnitLookup]:
    """The rules' lookup over *store* (a real unit of work, rolled back afterwards)."""
    with store.unit_of_work() as uow:
        yield UnitLookup(uow, settings or uow.settings.get() or cb.Settings(), today)


def _copy(value: Any) -> Any:
    """A copy of a store's container deep enough that later writes cannot change it."""
    from array import array

    from custbill.storage.cycle_rows import CycleRows
    from custbill.storage.memory_search import NameIndex
    from custbill.storage.sortedlist import SortedList
    from custbill.storage.token_index import TokenIndex

    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, array):
        return ("array", value.typecode, value.tolist())
    if isinstance(value, SortedList):
        return ("sorted", list(value))
    if isinstance(value, CycleRows):
        return ("rows", list(value.rows_in_order()), dict(value.managed))
    if isinstance(value, TokenIndex):
        return ("tokens", value.entries(), value.tokens())
    if isinstance(value, NameIndex):
        return ("names", _copy(value.tokens), _copy(value.tokenless))
    return value


def snapshot(store: MemoryStore) -> dict[str, Any]:
    """Everything a MemoryStore holds, indexes included, except its lock, sequences and
    plan profile numbers (which never go back), the undo log of the unit of work that
    is open (inside a batch) and the accounts it keeps unpacked (a cache reads fill)."""
    return {
        name: _copy(value)
        for name, value in vars(store).items()
        if name not in ("lock", "sequences", "closed", "profiles", "undo", "managing")
    }


def rejected(
    store: MemoryStore, operation: Callable[[], object], *codes: str
) -> cb.RuleViolationError:
    """Run *operation*, expect a RuleViolationError with at least *codes*, and check that
    the store is exactly as before."""
    before = snapshot(store)
    with pytest.raises(cb.RuleViolationError) as info:
        operation()
    assert set(codes) <= info.value.codes, info.value.violations
    assert snapshot(store) == before
    return info.value
