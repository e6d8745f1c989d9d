"""What planning a bill run needs of an account, kept in columns of the SQL stores'
accounts (and the customer's email and end date in columns of theirs), so that a run's plan rows
(:mod:`custbill.model.plan_row`) come from one query, without decoding a record."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from custbill.model import BillingAccount, Customer
from custbill.model.enums import AccountStatus
from custbill.model.plan_row import PlanRow, PlanRows, end_of, profile_key
from custbill.serialization import from_json
from custbill.storage._sql_writes import Execute, Writes


def iso_date(day: date | None) -> str | None:
    """A date as its column holds it (ISO text; NULL for None)."""
    return None if day is None else day.isoformat()


def customer_email(customer: Customer) -> str | None:
    """The customer's email as plan rows hold it: None once erased."""
    return None if customer.erased else customer.primary_email


class PlanColumns(NamedTuple):
    """What planning a run needs of an account, as stored in the accounts' columns."""

    deactivated: int
    start_date: str
    invoice_currency: str
    minimum: str | None
    #: :func:`profile_text` of the account.
    profile: str


def profile_text(account: BillingAccount) -> str:
    """The account's :func:`~custbill.model.plan_row.profile_key` as text: equal for two
    accounts exactly when their keys are."""
    term, auto_pay, offset, invoice_type, distribute, categories, emails, note = profile_key(
        account
    )
    listed = None if categories is None else sorted(categories, key=lambda c: (c is not None, c))
    key = [term, auto_pay, offset, invoice_type.value, distribute, listed]
    if emails or note is not None:  # (so that the text of an account without either, as
        key += [emails, note]  # every account stored before they existed, is unchanged)
    return json.dumps(key)


def plan_columns(account: BillingAccount) -> PlanColumns:
    """The plan columns of *account*."""
    minimum = account.minimum_invoice_amount
    return PlanColumns(
        int(account.status is AccountStatus.DEACTIVATED),
        account.start_date.isoformat(),
        account.invoice_currency,
        None if minimum is None else str(minimum.amount),
        profile_text(account),
    )


def fill_plan_columns(execute: Execute) -> None:
    """Fill the plan columns of every account and customer from their records (the
    migration that added the columns)."""
    for number, data in execute("SELECT number, data FROM accounts", ()).fetchall():
        execute(
            "UPDATE accounts SET deactivated = ?, start_date = ?, invoice_currency = ?,"
            " minimum = ?, profile = ? WHERE number = ?",
            (*plan_columns(from_json(BillingAccount, data)), number),
        )
    for number, data in execute("SELECT number, data FROM customers", ()).fetchall():
        email = customer_email(from_json(Customer, data))
        execute("UPDATE customers SET primary_email = ? WHERE number = ?", (email, number))


# A cycle's plan rows (custbill.model.plan_row), in number order.
_PLAN_ROWS = (
    "SELECT a.number, a.deactivated, a.start_date, a.responsible, a.invoice_currency,"
    " a.minimum, a.profile, c.primary_email,"
    " EXISTS (SELECT 1 FROM accounts m WHERE m.responsible = a.number),"
    " a.end_date, c.end_date, a.free"
    " FROM accounts a JOIN customers c ON c.number = a.customer"
    " WHERE a.bill_cycle = ? ORDER BY a.number"
)


#: How many numbers a read of several accounts names in one statement, under SQLite's
#: default limit of host parameters (32,766 since 3.32, 999 before) with room to spare.
READ_MANY = 900


def read_many(db: Writes, numbers: Collection[str]) -> dict[str, BillingAccount]:
    """The accounts of *numbers* (those that exist), :data:`READ_MANY` per statement."""
    ordered = sorted(numbers)
    found: dict[str, BillingAccount] = {}
    for start in range(0, len(ordered), READ_MANY):
        chunk = ordered[start : start + READ_MANY]
        marks = ", ".join("?" * len(chunk))
        for number, data in db.all(
            f"SELECT number, data FROM accounts WHERE number IN ({marks})", chunk
        ):
            found[number] = from_json(BillingAccount, data)
    return found


def plan_rows(db: Writes, bill_cycle: str) -> PlanRows:
    """The plan rows of the cycle's accounts, streamed from their columns in one query."""
    profiles: dict[str, int] = {}
    rows: dict[str, PlanRow] = {}
    managed: list[PlanRow] = []
    as_date, as_decimal = date.fromisoformat, Decimal
    for (
        number,
        off,
        start,
        above,
        currency,
        minimum,
        key,
        email,
        managing,
        account_end,
        customer_end,
        free,
    ) in db.stream(_PLAN_ROWS, (bill_cycle,)):
        profile = profiles.get(key)
        if profile is None:
            profile = profiles[key] = len(profiles)
        row = (
            number,
            bool(off),
            as_date(start),
            above,
            currency,
            None if minimum is None else as_decimal(minimum),
            profile,
            email,
            bool(managing),
            end_of(
                None if account_end is None else as_date(account_end),
                None if customer_end is None else as_date(customer_end),
            ),
            bool(free),
        )
        rows[number] = row
        if above is not None:
            managed.append(row)
    return PlanRows(rows.values(), managed, rows.get, partial(read_many, db))
