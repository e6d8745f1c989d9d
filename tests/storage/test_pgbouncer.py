"""The PostgreSQL store behind PgBouncer in *transaction* mode, where each transaction may
run on another server session: with ``prepared_statements=False`` every call works.  (With
psycopg's prepared statements, which live in one server session, the same calls failed:
"prepared statement "_pg3_0" already exists".)"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date

import pytest
from moneyed import Money

from custbill.storage import PostgresStore
from tests.conftest import in_threads, new_account, new_customer, standard_facade
from tests.storage.pgbouncer import pgbouncer
from tests.storage.postgres_server import ServerUnavailable

#: Client threads, each with a connection of the store's pool, beside fewer server sessions,
#: so that sessions pass from one client connection to another.
THREADS = 4
SERVER_SESSIONS = 2


@pytest.fixture
def bouncer(postgres_database: str) -> Callable[[int], AbstractContextManager[str]]:
    """Starts PgBouncer before the test's database with so many server sessions, and
    yields the DSN through it (the test skips without PgBouncer, but in CI)."""

    @contextmanager
    def start(server_sessions: int) -> Iterator[str]:
        try:
            with pgbouncer(postgres_database, server_sessions=server_sessions) as dsn:
                yield dsn
        except ServerUnavailable as exc:
            if os.environ.get("CI"):
                pytest.fail(f"CI must run the PgBouncer tests: {exc}")
            pytest.skip(str(exc))

    return start


def test_every_call_works_behind_a_transaction_pooler(
    bouncer: Callable[[int], AbstractContextManager[str]],
) -> None:
    """From an empty database (migrated through the pooler) to an issued bill run and a
    split one, with threads creating, reading, searching and editing at once."""
    with (
        bouncer(SERVER_SESSIONS) as dsn,
        standard_facade(
            PostgresStore(dsn, pool_size=THREADS, prepared_statements=False)
        ) as billing,
    ):
        accounts: list[str] = []

        def work(thread: int) -> None:
            for i in range(15):
                customer, account = billing.create_customer(
                    new_customer(company_name=f"Pooled {thread} {i}"), new_account()
                )
                accounts.append(account.number)
                assert billing.get_account(account.number) == account
                billing.edit_account(
                    account.number, expected_version=account.version, taxable=False
                )
                assert billing.customer_summary(customer.number).customer == customer
                assert customer in billing.search_customers(f"pooled {thread} {i}")

        assert in_threads(work, THREADS) == []
        plan = billing.plan_bill_run(
            "m1", date(2026, 7, 1), {number: Money(5, "USD") for number in accounts}
        )
        issued = billing.issue_bill_run(plan)
        assert len(issued) == len(accounts) == THREADS * 15
        assert billing.issue_bill_run(plan) == issued  # the run was issued once
        # and a run split in parts, each claimed with FOR UPDATE SKIP LOCKED
        later = date(2026, 8, 1)
        charges = {number: Money(3, "USD") for number in accounts}
        while billing.issue_next_partition("m1", later, charges, partitions=3) is not None:
            pass
        status = billing.bill_run_status("m1", later)
        assert status.complete and status.invoices == len(accounts)
