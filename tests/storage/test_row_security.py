"""PostgreSQL's row-level security holds a scope's boundary by itself: raw queries under
the scoped role see and change only the scope's rows; scoped facades work through it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from moneyed import Money

import custbill as cb
from custbill.storage import PostgresStore
from custbill.storage.pg_security import POLICIES
from tests.conftest import add_catalog, fixed_clock, new_account, new_customer, new_database
from tests.test_scopes import SETTINGS, TwoScopes

ROLE = "custbill_scoped"


@pytest.fixture
def dsn(postgres_dsn: str) -> str:
    return new_database(postgres_dsn)


@pytest.fixture
def billing(dsn: str) -> Iterator[cb.CustomerBilling]:
    store = PostgresStore(dsn, scoped_role=ROLE)
    with cb.CustomerBilling(store=store, settings=SETTINGS, clock=fixed_clock) as facade:
        add_catalog(facade)
        yield facade


def _as_scope(dsn: str, scope: str | None, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """*sql*'s rows, run as the scoped role with *scope* set (None: not set)."""
    with psycopg.connect(dsn) as connection:
        connection.execute(f"SET LOCAL ROLE {ROLE}")
        if scope is not None:
            connection.execute("SELECT set_config('custbill.scope', %s, true)", (scope,))
        return [row[0] for row in connection.execute(sql, params).fetchall()]


def test_every_table_of_customer_data_has_its_policy(dsn: str, billing: cb.CustomerBilling) -> None:
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT tablename FROM pg_policies WHERE policyname = 'custbill_scope'"
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(POLICIES)


def test_a_raw_query_under_the_scoped_role_sees_only_its_scope(
    dsn: str, billing: cb.CustomerBilling
) -> None:
    """No filter in the query: the policies keep the other scope's customers, accounts,
    ledger, history and runs out; with no scope set the role sees nothing; a row of
    another scope cannot be written."""
    north, _ = billing.create_customer(new_customer(company_name="North"), new_account())
    south, _ = billing.create_customer(new_customer(company_name="South"), new_account())
    n, s = billing.scoped(north.number), billing.scoped(south.number)
    a_customer, a = n.create_customer(new_customer(company_name="A"), new_account())
    b_customer, b = s.create_customer(new_customer(company_name="B"), new_account())
    n.issue_bill_run(n.plan_bill_run("m1", date(2026, 7, 1), {a.number: Money(5, "USD")}))
    s.issue_bill_run(s.plan_bill_run("m1", date(2026, 7, 1), {b.number: Money(6, "USD")}))
    s.add_note(b.number, "south only", author="ops")

    mine = {north.number, a_customer.number}
    assert set(_as_scope(dsn, north.number, "SELECT number FROM customers")) == mine
    assert set(_as_scope(dsn, north.number, "SELECT customer FROM accounts")) == mine
    assert _as_scope(dsn, north.number, "SELECT DISTINCT account FROM ledger") == [a.number]
    assert _as_scope(dsn, north.number, "SELECT about FROM notes") == []
    assert b.number not in _as_scope(dsn, north.number, "SELECT number FROM history")
    assert _as_scope(dsn, north.number, "SELECT bill_cycle FROM run_parts") == [
        f"m1@{north.number}"
    ]
    assert _as_scope(dsn, None, "SELECT number FROM customers") == []
    assert len(_as_scope(dsn, north.number, "SELECT id FROM catalog")) > 0  # shared
    changed = _as_scope(
        dsn,
        north.number,
        "UPDATE customers SET version = version + 1 WHERE number = %s RETURNING number",
        (b_customer.number,),
    )
    assert changed == []
    assert billing.get_customer(b_customer.number).version == b_customer.version
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _as_scope(
            dsn,
            north.number,
            "INSERT INTO customers (number, name_key, number_key, version, data, owner)"
            " VALUES ('C-X', 'x', 'c-x', 1, '{}', %s) RETURNING number",
            (south.number,),
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_scope(dsn, north.number, "DELETE FROM settings RETURNING id")


def test_scoped_facades_work_through_the_role(postgres_dsn: str) -> None:
    """The two-scope state machine over a store whose scoped units run as the role."""

    def make_store() -> PostgresStore:
        return PostgresStore(new_database(postgres_dsn), scoped_role=ROLE)

    class Machine(TwoScopes):
        def __init__(self) -> None:
            super().__init__(make_store)

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=5,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_a_scoped_role_is_a_role_name() -> None:
    with pytest.raises(TypeError, match="scoped_role"):
        PostgresStore("postgresql://nowhere/none", scoped_role="x; DROP TABLE customers")
