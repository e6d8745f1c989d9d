"""A partition's plan rows, as each store reads them alone: on random billing hierarchies
built, relinked and cut through the facade (in batches too, some of them undone), the
SQL stores' ``top_key`` of every account is the key of the top of its responsible chain,
and the parts of a split run are together the whole run, on every store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.model.billing import hierarchy_key
from custbill.storage import MemoryStore, PostgresStore, SQLiteStore, Store
from tests.billing.test_plan_rows import check_partitions
from tests.conftest import (
    ALL_ON,
    add_catalog,
    fixed_clock,
    new_account,
    new_customer,
    new_database,
    unless_refused,
)

RUN = date(2026, 7, 1)


class Undone(Exception):
    """Raised inside a batch to undo it."""


#: Reads ``(number, responsible, top_key)`` of every account from a SQL store's table.
Rows = Callable[[], list[tuple[str, str | None, int]]]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def new_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], tuple[Store, Rows | None]]:
    """Makes a new empty store of one kind on every call, with a way to read its accounts'
    top keys (None for the memory store, which keeps none)."""
    query = "SELECT number, responsible, top_key FROM accounts"
    if request.param == "memory":
        return lambda: (MemoryStore(), None)
    if request.param == "sqlite":

        def sqlite_store() -> tuple[Store, Rows]:
            path = tmp_path_factory.mktemp("parts") / "store.db"

            def rows() -> list[tuple[str, str | None, int]]:
                with sqlite3.connect(path) as db:
                    return db.execute(query).fetchall()

            return SQLiteStore(path), rows

        return sqlite_store
    server = request.getfixturevalue("postgres_dsn")

    def postgres_store() -> tuple[Store, Rows]:
        dsn = new_database(server)

        def rows() -> list[tuple[str, str | None, int]]:
            with psycopg.connect(dsn) as db:
                return db.execute(query).fetchall()

        return PostgresStore(dsn), rows

    return postgres_store


def build(billing: cb.CustomerBilling, data: st.DataObject) -> list[str]:
    """Accounts in hierarchies up to a few deep on two cycles, some made in batches (one in
    three of those undone); then links moved, cut and made again.  Their numbers."""
    numbers: list[str] = []
    for _ in range(data.draw(st.integers(3, 12), label="accounts")):
        cycle = data.draw(st.sampled_from(["m1", "m1", "m15"]))
        same = [n for n in numbers if billing.get_account(n).bill_cycle == cycle]
        above = data.draw(st.none() | st.sampled_from(same)) if same else None
        in_batch = data.draw(st.sampled_from(["alone", "batch", "undone"]))
        fields = new_account(bill_cycle=cycle, responsible_account=above)
        if in_batch == "alone":
            made = unless_refused(billing.create_customer, new_customer(), fields)
            numbers += [made[1].number] if made else []
            continue
        try:
            with billing.batch():
                made = unless_refused(billing.create_customer, new_customer(), fields)
                if made is None:
                    continue
                below = billing.add_account(
                    made[0].number,
                    new_account(bill_cycle=cycle, responsible_account=made[1].number),
                )
                if in_batch == "undone":
                    raise Undone
                numbers += [made[1].number, below.number]
        except Undone:
            pass
    for _ in range(data.draw(st.integers(0, 6)) if numbers else 0):
        managing = sorted(  # (so that whole subtrees move)
            {billing.get_account(n).responsible_account for n in numbers} - {None}
        )
        number = data.draw(st.sampled_from(managing or numbers))
        change = data.draw(st.sampled_from(["relink", "unlink", "batch"]))
        if change == "unlink":
            unless_refused(billing.edit_account, number, responsible_account=None)
        elif change == "relink":
            target = data.draw(st.sampled_from(numbers))
            unless_refused(billing.edit_account, number, responsible_account=target)
        else:  # two moves in one batch, the second refused or not
            with billing.batch():
                unless_refused(billing.edit_account, number, responsible_account=None)
                target = data.draw(st.sampled_from(numbers))
                unless_refused(billing.edit_account, target, responsible_account=number)
    return numbers


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_partitions_read_their_own_rows(
    new_store: Callable[[], tuple[Store, Rows | None]], data: st.DataObject
) -> None:
    store, rows = new_store()
    with cb.CustomerBilling(store=store, settings=ALL_ON, clock=fixed_clock) as billing:
        add_catalog(billing)
        numbers = build(billing, data)
        if rows is not None:
            keys = {number: (above, key) for number, above, key in rows()}
            for number, (above, key) in keys.items():
                top, seen = number, {number}
                while (up := keys[top][0]) is not None and up not in seen:
                    top = up
                    seen.add(top)
                assert key == hierarchy_key(top), (number, above)
        for cycle in ("m1", "m15"):
            on_cycle = [n for n in numbers if billing.get_account(n).bill_cycle == cycle]
            charges = {n: Money(data.draw(st.integers(1, 9)), "USD") for n in on_cycle}
            run = RUN if cycle == "m1" else date(2026, 7, 15)
            whole = billing.plan_bill_run(cycle, run, charges)
            for count in (2, 3, 5):
                check_partitions(billing, cycle, run, charges, whole, count)
            stray = {**charges, "A-999999": Money(1, "USD")}  # reported by one part only
            refused = []
            for index in range(3):
                try:
                    billing.plan_bill_run(cycle, run, stray, partition=cb.Partition(index, 3))
                except cb.RuleViolationError as error:
                    refused.append([v.code for v in error.violations])
            assert refused == [["billing.charge_not_billable"]]
