"""Hostile input that once escaped the error contract: only CustbillError subclasses (or
TypeError for a value of the wrong type) come out of a public call."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from moneyed import Money

import custbill as cb
from custbill.billing import calendar
from custbill.errors import TransactionConflictError
from custbill.model.billing import hierarchy_key
from custbill.model.text import printable
from custbill.serialization import from_dict, from_json, to_dict
from custbill.simulation import load_scenario, parse_scenario
from custbill.storage import PostgresStore, SQLiteStore, Store
from tests.conftest import (
    assert_prints_whole,
    new_account,
    new_customer,
    new_database,
    standard_facade,
)


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deeply_nested_json_is_invalid_data(depth: int) -> None:
    """JSON nested past the interpreter's recursion limit is refused as invalid data."""
    with pytest.raises(cb.InvalidDataError, match="nested too deeply"):
        from_json(cb.Customer, "[" * depth + "]" * depth)
    nested: dict[str, object] = {}
    inner = nested
    for _ in range(depth // 10):
        inner["custom_fields"] = inner = {}
    with pytest.raises(cb.InvalidDataError):
        from_dict(cb.Customer, nested)


def test_a_database_path_with_a_nul_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(cb.StorageError, match="cannot open"):
        SQLiteStore(f"{tmp_path}/bad\x00name.db")


@pytest.fixture
def billing(make_store: Callable[[], Store]) -> Iterator[cb.CustomerBilling]:
    with standard_facade(make_store()) as facade:
        yield facade


def test_a_search_limit_beyond_64_bits_is_no_limit(billing: cb.CustomerBilling) -> None:
    """Every store answers a limit past any integer SQL takes as it answers no limit."""
    for name in ("Acme One", "Acme Two"):
        billing.create_customer(new_customer(company_name=name), new_account())
    everything = billing.search_customers("acme")
    assert len(everything) == 2
    for limit in (2**63, 2**70, 10**100):
        assert billing.search_customers("acme", limit=limit) == everything
        assert billing.search_accounts("acme", limit=limit) == billing.search_accounts("acme")
    assert billing.search_customers("acme", limit=1) == everything[:1]


def test_a_scenario_nested_too_deeply_is_invalid_data(tmp_path: Path) -> None:
    """The scenario loader refuses nesting past the recursion limit, parsed or in a file
    (found by the fuzz harness)."""
    deep: object = []
    for _ in range(5_000):
        deep = [deep]
    with pytest.raises(cb.InvalidDataError, match="nested too deeply"):
        parse_scenario({"customers": deep})
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(cb.InvalidDataError, match="nested too deeply"):
        load_scenario(path)


# -- found by the error-contract suite (tests/test_error_contract.py) -------------------------


@pytest.mark.parametrize("key", ["\ud800", "a\x00b", "A-1\udfff"])
def test_a_key_no_store_holds_is_not_found(billing: cb.CustomerBilling, key: str) -> None:
    """A number holding a NUL or a lone surrogate names no record on any store: not found,
    or nothing, as any unknown number (the SQL stores once raised UnicodeEncodeError, and
    PostgreSQL a storage error)."""
    for read in (billing.get_customer, billing.get_account, billing.history):
        with pytest.raises(cb.NotFoundError):
            read(key)
    for listing in (billing.managed_accounts, billing.responsible_account_candidates):
        with pytest.raises(cb.NotFoundError):
            listing(key)
    assert billing.bill_run_status(key, date(2026, 7, 1)).issued == ()


#: Charge keys no account number holds: a NUL, a lone surrogate, a terminal's escape
#: sequence, a line break.
UNHELD_KEYS = ["A-1\x00", "A-\ud800", "A-1\x1b[2J", "A-1\nforged line"]


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_a_charge_keyed_by_text_no_number_holds_is_refused_by_one_part(
    billing: cb.CustomerBilling, parts: int
) -> None:
    """A charge keyed by text no account number holds is not billable, refused by exactly
    one part of the run and only it, beside charges for managed accounts that other parts
    bill, with an error that prints whole: its path and message show the key escaped,
    its params the key as given.  (A lone surrogate was a UnicodeEncodeError on a split
    run, and messages carried the raw characters.)"""
    charges: dict[str, Money] = {}
    managed: list[tuple[str, str]] = []  # (managed account, its top)
    for _ in range(24):
        customer, top = billing.create_customer(new_customer(), new_account())
        below = billing.add_account(customer.number, new_account(responsible_account=top.number))
        charges[top.number] = charges[below.number] = Money(5, "USD")
        managed.append((below.number, top.number))
    partitions = [cb.Partition(i, parts) for i in range(parts)] if parts > 1 else [None]
    for key in UNHELD_KEYS:  # the part a key falls in looks up a managed account of another
        own = next(p for p in partitions if p is None or p.holds(hierarchy_key(key)))
        assert own is None or any(
            own.holds(hierarchy_key(below)) and not own.holds(hierarchy_key(top))
            for below, top in managed
        )
    for key in UNHELD_KEYS:
        refused = []
        for partition in partitions:
            try:
                billing.plan_bill_run(
                    "m1", date(2026, 7, 1), {**charges, key: Money(1, "USD")}, partition=partition
                )
            except cb.RuleViolationError as error:
                refused.append(error)
        assert len(refused) == 1, key
        (error,) = refused
        assert [(v.code, v.params["account"]) for v in error.violations] == [
            ("billing.charge_not_billable", key)
        ]
        assert error.violations[0].path == f"charges[{printable(key)}]"
        message = str(error)
        assert printable(key) in message
        assert all(line.isprintable() for line in message.split("\n"))
        message.encode("utf-8")


@pytest.mark.parametrize("key", UNHELD_KEYS)
def test_every_error_message_prints_whole(key: str) -> None:
    """Whatever text an error names, its message shows it escaped, on the error's own
    lines (found by the error-contract suite: a plan's charge unknown to the store was a
    ConflictError naming the raw key); the attributes keep the value as given."""
    conflict = cb.ConflictError(key, "pending", "unknown", what="charge")
    assert str(conflict) == f"{printable(key)}: charge is unknown, not pending: reload and retry"
    assert conflict.number == key
    naming: list[Callable[[str], cb.CustbillError]] = [
        lambda text: cb.ConflictError(text, "pending", "unknown", what="charge"),
        lambda text: cb.NotFoundError("account", text),
        lambda text: cb.InvalidDataError([text]),
        lambda text: cb.InvalidDataError([text, text]),
        lambda text: cb.RuleViolationError(
            [cb.Violation(code="c", path=text, message=text, params={})]
        ),
    ]
    for make in naming:
        error, plain = make(key), make("A-1")
        assert_prints_whole(error)
        assert str(error).count("\n") == str(plain).count("\n")  # no line forged
    # a message of several lines (a database's ERROR and DETAIL) keeps them, escaped within
    storage = cb.StorageError(f"ERROR {key}\nDETAIL: {key}")
    assert_prints_whole(storage)
    assert str(storage).split("\n")[0] == printable(f"ERROR {key}".split("\n")[0])
    assert_prints_whole(TransactionConflictError(key))


#: Keys no record could hold, too long to show whole: a megabyte of digits, and a lone
#: surrogate repeated (each shown as a six-character escape).
HUGE_KEYS = ["A-" + "9" * 1_000_000, "A-" + "\ud800" * 300_000]


@pytest.mark.parametrize("key", HUGE_KEYS, ids=["digits", "surrogates"])
def test_an_error_naming_a_huge_key_keeps_a_short_message(
    billing: cb.CustomerBilling, key: str
) -> None:
    """An error naming a megabyte of a caller's text shows its start and its end, each
    line at most SHOWN_LENGTH characters, on every store; the error's attributes and a
    violation's params keep the key whole.  (Such an error was as long as the key.)"""

    def assert_short(error: cb.CustbillError) -> None:
        assert_prints_whole(error)  # each line at most SHOWN_LENGTH
        assert printable(key[:4]) in str(error) and "characters left out" in str(error)

    for read in (billing.get_customer, billing.get_account):
        with pytest.raises(cb.NotFoundError) as missing:
            read(key)
        assert_short(missing.value)
        assert missing.value.key == key
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.plan_bill_run("m1", date(2026, 7, 1), {key: Money(1, "USD")})
    assert_short(refused.value)
    assert refused.value.violations[0].params["account"] == key
    for error in (
        cb.ConflictError(key, 1, 2),
        cb.InvalidDataError([key]),
        cb.InvalidDataError([key, key]),
        cb.StorageError(f"ERROR {key}\nDETAIL: {key}"),
    ):
        assert_short(error)
    assert cb.ConflictError(key, 1, 2).number == key


def test_reads_of_the_catalog_check_their_kind(billing: cb.CustomerBilling) -> None:
    with pytest.raises(TypeError, match="kind"):
        billing.catalog(None)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="kind"):
        billing.catalog(cb.Customer)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="target"):
        billing.custom_fields(None)  # type: ignore[arg-type]


def test_the_facade_checks_its_store_and_clock() -> None:
    with pytest.raises(TypeError, match="store"):
        cb.CustomerBilling(store=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="clock"):
        cb.CustomerBilling(clock="now")  # type: ignore[arg-type]


def test_calendar_functions_check_their_arguments() -> None:
    cycle = cb.BillCycle(
        id="m1", name="m", period=cb.BillingPeriod.MONTHLY, bill_day=1, start_date=date(2024, 1, 1)
    )
    term = cb.PaymentTerm(id="n30", name="Net 30", net_days=30)
    day = date(2026, 7, 1)
    with pytest.raises(TypeError, match="cycle"):
        calendar.bill_dates(None, day, day)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on_or_after"):
        calendar.next_bill_date(cycle, datetime(2026, 7, 1))
    with pytest.raises(TypeError, match="term"):
        calendar.due_date(day, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="offset_days"):
        calendar.auto_pay_date(day, calendar.due_date(day, term), math.nan)  # type: ignore[arg-type]
    with pytest.raises(cb.RuleViolationError, match=r"money\.not_finite"):
        calendar.is_suppressed(Money("NaN", "USD"), Money(1, "USD"))
    with pytest.raises(TypeError, match="total"):
        calendar.is_suppressed(None, None)  # type: ignore[arg-type]


def test_store_options_outside_their_values_are_type_errors(tmp_path: Path) -> None:
    """Option values the parameters' types do not admit are TypeErrors naming the option
    (``synchronous`` was once a bare ValueError, a NaN timeout a ValueError from int())."""
    for options in ({"synchronous": None}, {"busy_timeout": math.nan}, {"busy_timeout": -1}):
        with pytest.raises(TypeError, match=next(iter(options))):
            SQLiteStore(tmp_path / "o.db", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "o.db").exists()


def test_postgres_store_refuses_bad_options_at_once(postgres_dsn: str) -> None:
    """A DSN that reaches no server is a storage error at once, not after the pool's
    timeout; a DSN UTF-8 cannot hold is one too; bad pool sizes and timeouts are
    TypeErrors before any connection."""
    started = time.perf_counter()
    for dsn in ("", "host=/nonexistent", "dbname=\ud800", "not a dsn"):
        with pytest.raises(cb.StorageError, match="cannot connect"):
            PostgresStore(dsn, timeout=20)
    assert time.perf_counter() - started < 15  # (each would have waited 20 s in the pool)
    for options in (
        {"pool_size": 0},
        {"pool_size": True},
        {"timeout": math.inf},
        {"prepared_statements": "no"},
        {"prepared_statements": 0},
    ):
        with pytest.raises(TypeError, match=next(iter(options))):
            PostgresStore(new_database(postgres_dsn), **options)  # type: ignore[arg-type]


def test_a_postgres_store_of_one_connection_opens_an_existing_database(
    postgres_dsn: str,
) -> None:
    """A pool of one connection opens a database custbill already migrated (opening once
    asked for a second connection while holding the first, and timed out)."""
    dsn = new_database(postgres_dsn)
    PostgresStore(dsn).close()
    store = PostgresStore(dsn, pool_size=1, timeout=2)
    with cb.CustomerBilling(store=store) as billing:
        assert billing.search_customers("nobody") == ()


def test_a_search_ending_before_the_surrogates_finds_its_matches(
    billing: cb.CustomerBilling,
) -> None:
    """A search word ending in U+D7FF, the last code point before the surrogates, finds
    the names it starts on every store (the SQL stores once raised UnicodeEncodeError
    building its range)."""
    customer, _ = billing.create_customer(
        new_customer(company_name="Acme \ud7ff\ud7ff"), new_account()
    )
    billing.create_customer(new_customer(company_name="Acme \ue000"), new_account())
    assert [c.number for c in billing.search_customers("\ud7ff")] == [customer.number]
    assert [c.number for c in billing.search_customers("acme \ud7ff\ud7ff")] == [customer.number]


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("1.5"), math.nan, (1, 2), date.max])
def test_violation_params_are_json_data(value: object) -> None:
    """A violation read from outside holds JSON data in its params, which writes out and
    reads back equal; anything else is invalid data (the fuzz harness found a Decimal that
    came back a string)."""
    document = {"code": "x", "path": "p", "message": "m", "params": {"k": [value]}}
    with pytest.raises(cb.InvalidDataError, match="not JSON data"):
        from_dict(cb.Violation, document)
    plain = {**document, "params": {"k": [1, "a", None, True, 2.5, {"n": []}]}}
    assert to_dict(from_dict(cb.Violation, plain)) == plain


@pytest.mark.parametrize(
    ("period", "bill_day"),
    [(cb.BillingPeriod.MONTHLY, 0), (cb.BillingPeriod.ANNUAL, 32), (cb.BillingPeriod.WEEKLY, 8)],
)
def test_a_cycle_made_past_the_catalog_rules_is_refused_by_the_calendar(
    period: cb.BillingPeriod, bill_day: int
) -> None:
    """A bill day no calendar has (the catalog refuses such a cycle; the calendar functions
    take any BillCycle) is ``catalog.invalid``, not a ValueError from deep inside."""
    cycle = cb.BillCycle(
        id="x", name="x", period=period, bill_day=bill_day, start_date=date(2000, 1, 1)
    )
    day = date(2026, 7, 1)
    for call in (
        lambda: calendar.next_bill_date(cycle, day),
        lambda: calendar.bill_dates(cycle, day, day),
        lambda: calendar.previous_bill_date(cycle, day),
    ):
        with pytest.raises(cb.RuleViolationError) as caught:
            call()
        assert [(v.code, v.path) for v in caught.value.violations] == [
            ("catalog.invalid", "bill_day")
        ]


def test_a_closed_sql_store_refuses_every_call_as_a_storage_error(
    make_store: Callable[[], Store], request: pytest.FixtureRequest
) -> None:
    """Once closed, a SQL store refuses reads and writes as a StorageError (PostgreSQL's
    pool once raised its own PoolClosed); the memory store stays readable."""
    store = make_store()
    with standard_facade(store) as billing:
        customer, _ = billing.create_customer(new_customer(), new_account())
    if request.node.callspec.params["make_store"] == "memory":
        assert billing.get_customer(customer.number) == customer
        return
    for call in (
        lambda: billing.get_customer(customer.number),
        lambda: billing.create_customer(new_customer(), new_account()),
        lambda: billing.plan_bill_run("m1", date(2026, 7, 1)),
    ):
        with pytest.raises(cb.StorageError, match="the store is closed"):
            call()
