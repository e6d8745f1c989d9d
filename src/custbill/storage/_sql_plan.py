"""What planning a bill run needs of an account, kept in columns of the SQL stores'
accounts (and the customer's email and end date in columns of theirs), so that a run's plan rows
(:mod:`custbill.model.plan_row`) come from one query, without decoding a record."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

from custbill.model import BillingAccount, Customer
from custbill.model.billing import WHOLE_RUN, Partition, hierarchy_key, top_of
from custbill.model.enums import AccountStatus
from custbill.model.plan_row import PlanRow, PlanRows, end_of, profile_key
from custbill.serialization import from_json
from custbill.storage._sql_writes import Execute, Writes, rows_naming


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


#: The format of :func:`profile_text`, its first element.  Texts of earlier formats began
#: with the payment term and lacked the invoice rendering; the migration that added it
#: wrote every account's text again, and an older custbill that writes an account to a
#: migrated database (during a rolling upgrade) writes one of them, which
#: :func:`plan_rows` reads as a profile of that account alone.
PROFILE_TEXT_FORMAT = 2
_PROFILE_TEXT_START = f"[{PROFILE_TEXT_FORMAT}, "


def profile_text(account: BillingAccount) -> str:
    """The account's :func:`~custbill.model.plan_row.profile_key` as text: equal for two
    accounts exactly when their keys are."""
    term, auto_pay, offset, invoice_type, distribute, categories, emails, note, per_account = (
        profile_key(account)
    )
    listed = None if categories is None else sorted(categories, key=lambda c: (c is not None, c))
    return json.dumps(
        [
            PROFILE_TEXT_FORMAT,
            term,
            auto_pay,
            offset,
            invoice_type.value,
            distribute,
            listed,
            emails,
            note,
            per_account,
        ]
    )


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


#: Accounts written by one statement of a migration's fill (:func:`update_rows`): at six
#: values a row, 3,000 parameters, far below SQLite's limit of 32,766 and PostgreSQL's of
#: 65,535, and few enough statements (2,000 for a million accounts) that the round trips
#: no longer dominate.
FILL_ROWS_PER_STATEMENT = 500


def update_rows(
    execute: Execute, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Set *columns* of the rows of *table* named by number: each of *rows* is the number
    followed by the columns' values.  ``UPDATE … FROM (VALUES …)`` writes
    :data:`FILL_ROWS_PER_STATEMENT` rows a statement (SQLite 3.33 or later; PostgreSQL)."""
    assignments = ", ".join(f"{column} = v.column{i}" for i, column in enumerate(columns, 2))
    chunk: list[Sequence[Any]] = []

    def write() -> None:
        values = ", ".join(["(" + ", ".join("?" * (len(columns) + 1)) + ")"] * len(chunk))
        execute(
            f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v"
            f" WHERE {table}.number = v.column1",
            [value for row in chunk for value in row],
        )
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) == FILL_ROWS_PER_STATEMENT:
            write()
    if chunk:
        write()


def fill_accounts(
    execute: Execute, columns: Sequence[str], values: Callable[[BillingAccount], Sequence[Any]]
) -> None:
    """Set *columns* of every account to the *values* of its record."""
    accounts = execute("SELECT number, data FROM accounts", ()).fetchall()
    update_rows(
        execute,
        "accounts",
        columns,
        ((number, *values(from_json(BillingAccount, data))) for number, data in accounts),
    )


def fill_plan_columns(execute: Execute) -> None:
    """Fill the plan columns of every account and customer from their records (the
    migration that added the columns)."""
    plan_fields = ("deactivated", "start_date", "invoice_currency", "minimum", "profile")
    fill_accounts(execute, plan_fields, plan_columns)
    customers = execute("SELECT number, data FROM customers", ()).fetchall()
    update_rows(
        execute,
        "customers",
        ("primary_email",),
        ((number, customer_email(from_json(Customer, data))) for number, data in customers),
    )


def fill_profiles(execute: Execute) -> None:
    """Write every account's profile column again from its record (the migration that
    added the invoice rendering to :func:`profile_text`)."""
    fill_accounts(execute, ("profile",), lambda account: (profile_text(account),))


def fill_top_keys(execute: Execute) -> None:
    """Fill every account's ``top_key`` from the responsible column (the migration that
    added it)."""
    above = dict(execute("SELECT number, responsible FROM accounts", ()).fetchall())
    tops: dict[str, str] = {}
    update_rows(
        execute,
        "accounts",
        ("top_key",),
        ((number, hierarchy_key(top_of(number, above.get, tops))) for number in above),
    )


def _stored_key(db: Writes, number: str) -> int:
    """The top key of account *number* as stored (for an account that is not stored, past
    the rules, its own: it is the top of the chains that reach it)."""
    row = db.one("SELECT top_key FROM accounts WHERE number = ?", (number,))
    return hierarchy_key(number) if row is None or row[0] is None else int(row[0])


# Gives the accounts below one (by responsible account, at any depth) its new top key.
# (UNION, not UNION ALL, drops repeats: a cycle stored past the rules ends the walk.)
_KEY_BELOW = (
    "WITH RECURSIVE below(number) AS ("
    "SELECT number FROM accounts WHERE responsible = ?"
    " UNION SELECT a.number FROM accounts a JOIN below b ON a.responsible = b.number)"
    " UPDATE accounts SET top_key = ? WHERE number IN (SELECT number FROM below)"
)

#: An account whose responsible account this transaction has not read yet.
_UNREAD = object()


class TopKeys:
    """Keeps the accounts' ``top_key`` column right, for one unit of work's accounts.

    An account's key is the :func:`~custbill.model.billing.hierarchy_key` of the top of
    its responsible chain: its responsible account's key, or its own number's at the top.
    A new account takes the key of the account above it (:meth:`of_new`); an account moved
    in the billing hierarchy takes a new one and gives it to every account below it
    (:meth:`of_moved`, then :meth:`give_below`).  Both happen under the store's hierarchy
    lock (*hold*: PostgreSQL's transaction-scoped advisory lock, the one cycle checks
    take; SQLite runs one writer at a time anyway), so that a move committed meanwhile
    cannot change the key a new account copied, nor a move miss an account created below
    it meanwhile.  Other writes leave keys alone and take no lock.
    """

    __slots__ = ("db", "generation", "hold", "keys", "responsible")

    def __init__(self, db: Writes, hold: Callable[[], None]) -> None:
        self.db = db
        self.hold = hold
        self.generation = -1  # the transaction (Writes generation) the notes below are of
        #: The keys of the accounts this transaction added (read again after any move).
        self.keys: dict[str, int] = {}
        #: Each account's responsible account, as this transaction last read or wrote it.
        self.responsible: dict[str, str | None] = {}

    def _notes(self) -> None:
        if self.generation != self.db.generation:
            self.keys.clear()
            self.responsible.clear()
            self.generation = self.db.generation

    def seen(self, account: BillingAccount) -> None:
        """Note the responsible account of *account*, as read."""
        self._notes()
        self.responsible[account.number] = account.responsible_account

    def of_new(self, account: BillingAccount) -> int:
        """The key of *account*, about to be added (no account is below a new one)."""
        self._notes()
        number, above = account.number, account.responsible_account
        self.responsible[number] = above
        if above is None:
            key = hierarchy_key(number)
        else:
            self.hold()
            known = self.keys.get(above)
            key = _stored_key(self.db, above) if known is None else known
        self.keys[number] = key
        return key

    def of_moved(self, account: BillingAccount) -> int | None:
        """The new key of *account*, about to be updated, when the update moves it in the
        billing hierarchy; None when it stays where it is (and so does its key)."""
        self._notes()
        number, above = account.number, account.responsible_account
        before = self.responsible.get(number, _UNREAD)
        if before is _UNREAD:
            row = self.db.one("SELECT responsible FROM accounts WHERE number = ?", (number,))
            before = None if row is None else row[0]
        self.responsible[number] = above
        if before == above:
            return None
        self.hold()
        self.keys.clear()  # (those below it change)
        return hierarchy_key(number) if above is None else _stored_key(self.db, above)

    def give_below(self, number: str, key: int) -> None:
        """Give every account below *number* in the billing hierarchy *number*'s new
        *key*."""
        self.db.run(_KEY_BELOW, (number, key))


# A cycle's plan rows (custbill.model.plan_row), in number order; {partition} narrows
# them to a partition's accounts.
_PLAN_ROWS = (
    "SELECT a.number, a.deactivated, a.start_date, a.responsible, a.invoice_currency,"
    " a.minimum, a.profile, c.primary_email,"
    " EXISTS (SELECT 1 FROM accounts m WHERE m.responsible = a.number),"
    " a.end_date, c.end_date, a.free"
    " FROM accounts a JOIN customers c ON c.number = a.customer"
    " WHERE a.bill_cycle = ?{partition} ORDER BY a.number"
)
_IN_PARTITION = " AND a.top_key % ? = ?"


def read_many(db: Writes, numbers: Collection[str]) -> dict[str, BillingAccount]:
    """The accounts of *numbers* (those that exist), read together
    (:func:`~custbill.storage._sql_writes.rows_naming`)."""
    sql = "SELECT number, data FROM accounts WHERE number IN ({numbers})"
    return {
        number: from_json(BillingAccount, data) for number, data in rows_naming(db, sql, numbers)
    }


def on_cycle(db: Writes, bill_cycle: str, numbers: Collection[str]) -> set[str]:
    """Which of *numbers* are accounts on *bill_cycle* (read together)."""
    sql = "SELECT number FROM accounts WHERE bill_cycle = ? AND number IN ({numbers})"
    return {number for (number,) in rows_naming(db, sql, numbers, (bill_cycle,))}


def plan_rows(db: Writes, bill_cycle: str, partition: Partition = WHOLE_RUN) -> PlanRows:
    """The plan rows of the cycle's accounts in *partition*, streamed from their columns in
    one query (a partition's alone: the database picks them by ``top_key``).  Accounts
    whose profile texts are equal share a profile number; a text of an earlier format
    (:data:`PROFILE_TEXT_FORMAT`) has a number of its own."""
    params: list[str | int]
    if partition.count == 1:
        query, params = _PLAN_ROWS.format(partition=""), [bill_cycle]
    else:
        query = _PLAN_ROWS.format(partition=_IN_PARTITION)
        params = [bill_cycle, partition.count, partition.index]
    profiles: dict[str, int] = {}
    numbered = 0  # (profile numbers given: those of profiles, and one per older text)
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
    ) in db.stream(query, params):
        profile = profiles.get(key)
        if profile is None:
            profile, numbered = numbered, numbered + 1
            if key.startswith(_PROFILE_TEXT_START):  # (else an older format's: see above)
                profiles[key] = profile
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
    if partition.count == 1:
        return PlanRows(rows.values(), managed, rows.get, partial(read_many, db))
    elsewhere = partial(on_cycle, db, bill_cycle)
    return PlanRows(rows.values(), managed, rows.get, partial(read_many, db), elsewhere)
