"""What custbill logs: the operations a host wants in its logs, by number and count, and
never a personal value — checked at DEBUG with planted values."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import pytest
from moneyed import Money

import custbill as cb
from custbill.storage import SQLiteStore, Store
from tests.conftest import add_catalog, fixed_clock, new_account

#: Values no log line may hold.
PLANTED = {
    "tax_number": "TAXPLANT-778899",
    "date_of_birth": date(1961, 7, 23),
    "first_name": "Zebulonplant",
    "last_name": "Quixoteplant",
    "primary_email": "plant.person@secret.example",
}


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


def test_operations_are_logged_without_personal_values(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custbill")
    billing = cb.CustomerBilling(store=store, clock=fixed_clock)
    add_catalog(billing)
    person = cb.NewCustomer(kind=cb.CustomerKind.PERSON, **PLANTED)  # type: ignore[arg-type]
    customer, account = billing.create_customer(
        person, new_account(dunning_enabled=True, dunning_plan="std")
    )
    plan = billing.plan_bill_run("m1", date(2026, 7, 1), {account.number: Money(9, "USD")})
    billing.issue_bill_run(plan)
    billing.run_dunning(date(2026, 9, 15))
    billing.edit_account(account.number, end_date=date(2026, 7, 31))
    billing.issue_bill_run(billing.plan_bill_run("m1", date(2026, 8, 1)))
    billing.terminate_ended(date(2026, 8, 2))
    billing.erase_customer(customer.number)
    text = "\n".join(record.getMessage() for record in caplog.records)
    for value in PLANTED.values():
        assert str(value) not in text
    assert "7/23" not in text and "1961" not in text
    expected = [
        f"created customer {customer.number}",
        "planned bill run m1 2026-07-01: 1 invoices, 0 accounts skipped, 0 queued charges",
        "issued bill run m1 2026-07-01: 1 invoices recorded",
        "dunning on 2026-09-15: 2 steps applied, 0 refused, 0 accounts reinstated",
        "terminations on 2026-08-02: 1 accounts deactivated, 0 waiting, 0 refused",
        f"erased customer {customer.number}",
    ]
    for line in expected:
        assert line in text
    assert all(r.name.startswith("custbill") for r in caplog.records)


def test_a_migration_is_logged(tmp_path: object, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="custbill")
    SQLiteStore(f"{tmp_path}/new.db").close()
    assert any("migrated" in r.getMessage() and "to" in r.getMessage() for r in caplog.records)


def test_nothing_is_printed_unless_the_host_configures_logging() -> None:
    """A library's logger: a NullHandler of its own, no level, no handler on the root."""
    logger = logging.getLogger("custbill")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert logger.level == logging.NOTSET
