"""The migrations that fill new columns from what is stored write every row, on both SQL
stores, for stores larger than one statement of a fill writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg

import custbill as cb
from custbill.model.billing import hierarchy_key
from custbill.storage._sql import MIGRATIONS
from custbill.storage._sql_plan import (
    FILL_ROWS_PER_STATEMENT,
    fill_plan_columns,
    fill_profiles,
    fill_top_keys,
    profile_text,
)
from custbill.storage._sql_writes import Execute
from custbill.storage.postgres import _pg
from tests.conftest import ALL_ON, add_catalog, fixed_clock, new_account, new_customer
from tests.storage.writers import open_store

#: Accounts in the store: two full statements of a fill and a part of a third.
ACCOUNTS = 2 * FILL_ROWS_PER_STATEMENT + 37

#: The migration that adds ``top_key`` (the schema version it makes).
TOP_KEY_VERSION = next(i for i, steps in enumerate(MIGRATIONS, 1) if fill_top_keys in steps)
#: The migration that writes the profile texts again, with the invoice rendering.
PROFILE_VERSION = next(i for i, steps in enumerate(MIGRATIONS, 1) if fill_profiles in steps)


@contextmanager
def raw(name: str) -> Iterator[Execute]:
    """Statements (``?`` placeholders) on the store named *name*, outside custbill,
    committed at the end."""
    if name.startswith("postgresql://"):
        with psycopg.connect(name) as pg:
            yield lambda sql, params: pg.execute(_pg(sql), params)
    else:
        with sqlite3.connect(name) as db:
            yield db.execute


def build(name: str) -> None:
    """:data:`ACCOUNTS` accounts in chains of one to five, some with a minimum amount."""
    with cb.CustomerBilling(store=open_store(name), settings=ALL_ON, clock=fixed_clock) as billing:
        add_catalog(billing)
        made = customers = 0
        with billing.batch():
            while made < ACCOUNTS:
                customer, above = billing.create_customer(new_customer(), new_account())
                made, customers = made + 1, customers + 1
                for depth in range(customers % 5):
                    minimum = cb.Money(depth + 1, "USD") if depth % 2 else None
                    above = billing.add_account(
                        customer.number,
                        new_account(
                            responsible_account=above.number, minimum_invoice_amount=minimum
                        ),
                    )
                    made += 1


def read(execute: Execute, sql: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in execute(sql, ()).fetchall())


def roll_back(execute: Execute, store_name: str, version: int) -> None:
    """Mark the store as of schema *version* (its later migrations run again when it
    opens)."""
    if store_name.startswith("postgresql://"):
        execute("DELETE FROM custbill_schema WHERE version > ?", (version,))
    else:
        execute(f"PRAGMA user_version = {version}", ())


def test_top_keys_are_filled_when_a_store_of_the_schema_before_opens(store_name: str) -> None:
    build(store_name)
    # (the migrations after it add no column: they run again as they are)
    assert MIGRATIONS[TOP_KEY_VERSION:] == ((fill_profiles,),), "roll them back here too"
    with raw(store_name) as execute:
        execute("ALTER TABLE accounts DROP COLUMN top_key", ())
        roll_back(execute, store_name, TOP_KEY_VERSION - 1)
    assert open_store(store_name).schema_version == len(MIGRATIONS)
    with raw(store_name) as execute:
        rows = read(execute, "SELECT number, responsible, top_key FROM accounts")
    above = {number: responsible for number, responsible, _ in rows}
    assert len(rows) >= ACCOUNTS and max(len(chain(n, above)) for n in above) == 5
    for number, _, key in rows:
        assert key == hierarchy_key(chain(number, above)[-1]), number


def chain(number: str, above: dict[str, str | None]) -> list[str]:
    """*number* and the accounts above it, to the top."""
    found = [number]
    while (up := above[found[-1]]) is not None:
        found.append(up)
    return found


def recording(execute: Execute, sent: list[str]) -> Execute:
    """*execute*, keeping the text of every statement in *sent*."""

    def recorded(sql: str, params: Sequence[Any]) -> Any:
        sent.append(sql)
        return execute(sql, params)

    return recorded


def test_plan_columns_are_filled_from_the_records(store_name: str) -> None:
    build(store_name)
    accounts = "SELECT number, deactivated, start_date, invoice_currency, minimum, profile"
    customers = "SELECT number, primary_email FROM customers"
    sent: list[str] = []
    with raw(store_name) as execute:
        before = read(execute, accounts + " FROM accounts"), read(execute, customers)
        execute("UPDATE accounts SET minimum = NULL, profile = '', invoice_currency = ''", ())
        execute("UPDATE customers SET primary_email = NULL", ())
        assert (read(execute, accounts + " FROM accounts"), read(execute, customers)) != before
        fill_plan_columns(recording(execute, sent))
        after = read(execute, accounts + " FROM accounts"), read(execute, customers)
    assert any(minimum is not None for *_, minimum, _ in before[0])
    assert after == before
    statements = -(-len(before[0]) // FILL_ROWS_PER_STATEMENT)  # (rounded up)
    assert sum(sql.startswith("UPDATE accounts") for sql in sent) == statements


def test_a_fill_of_no_rows_sends_no_update(store_name: str) -> None:
    open_store(store_name)  # (a new store: its tables, no account)
    sent: list[str] = []
    with raw(store_name) as execute:
        fill_top_keys(recording(execute, sent))
    assert sent == ["SELECT number, responsible FROM accounts"]


def test_profile_texts_are_written_again_when_a_store_of_the_schema_before_opens(
    store_name: str,
) -> None:
    build(store_name)
    with raw(store_name) as execute:
        numbers = [number for (number,) in read(execute, "SELECT number FROM accounts")]
    with cb.CustomerBilling(store=open_store(store_name), settings=ALL_ON) as billing:
        tops = [n for n in numbers if billing.managed_accounts(n)]
        for top in tops[::2]:
            billing.edit_account(top, invoice_rendering=cb.InvoiceRendering.PER_ACCOUNT)
        accounts = {number: billing.get_account(number) for number in numbers}
    with raw(store_name) as execute:
        execute("UPDATE accounts SET profile = ''", ())
        roll_back(execute, store_name, PROFILE_VERSION - 1)
    assert open_store(store_name).schema_version == PROFILE_VERSION
    with raw(store_name) as execute:
        rows = read(execute, "SELECT number, profile FROM accounts")
    assert len(rows) == len(accounts) >= ACCOUNTS
    assert all(text == profile_text(accounts[number]) for number, text in rows)
    rendered = {profile_text(accounts[top]) for top in tops[::2]}
    assert rendered and rendered.isdisjoint(profile_text(accounts[top]) for top in tops[1::2])


def test_a_profile_text_of_an_older_format_is_its_accounts_own(store_name: str) -> None:
    """An account that an older custbill wrote to a migrated database (during a rolling
    upgrade) holds a profile text of the earlier format, which lacked the invoice
    rendering: two such accounts alike but for their rendering are not planned alike."""
    with cb.CustomerBilling(store=open_store(store_name), settings=ALL_ON) as billing:
        add_catalog(billing)
        tops, charges = [], {}
        for rendering in cb.InvoiceRendering:
            customer, top = billing.create_customer(new_customer(), new_account())
            member = billing.add_account(
                customer.number, new_account(responsible_account=top.number)
            )
            billing.edit_account(top.number, invoice_rendering=rendering)
            tops.append(top.number)
            charges |= {top.number: cb.Money(7, "USD"), member.number: cb.Money(3, "USD")}
        before = billing.plan_bill_run("m1", date(2026, 7, 1), charges)
        assert len(before.invoices) == 3  # one aggregated, two per account
        with raw(store_name) as execute:
            older = '["net30", false, 0, "EMAIL", false, null]'
            execute("UPDATE accounts SET profile = ? WHERE number IN (?, ?)", (older, *tops))
        assert billing.plan_bill_run("m1", date(2026, 7, 1), charges) == before
