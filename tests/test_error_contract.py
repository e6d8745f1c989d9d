"""The error contract at every public entry point: whatever it is given, a call answers,
or raises a :class:`~custbill.CustbillError` (or ``TypeError`` for a value of the wrong
type) — and a call that raises leaves the store exactly as it was, and every read works
afterwards.

Every public method of :class:`~custbill.CustomerBilling` is called on the memory, SQLite
and PostgreSQL stores with arguments drawn, each, from values it takes and from hostile
ones (wrong types, non-finite and huge numbers and amounts, the ends of the calendar,
naive and aware datetimes, empty and 1 MB strings, NUL, CR/LF, right-to-left override, lone
surrogates, deep nesting, SQL and format-string fragments); so are the model constructors,
the calendar functions, the facade and store constructors.  ``from_dict``, ``from_json``
and the scenario loader are held by the fuzz harness (``tests/fuzz``).
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.billing import calendar
from custbill.service.customers import ACCOUNT_EDITABLE, CUSTOMER_EDITABLE
from custbill.storage import MemoryStore, PostgresStore, SQLiteStore, Store
from custbill.testing import dump
from tests.conftest import (
    ALL_ON,
    add_catalog,
    assert_prints_whole,
    fixed_clock,
    new_account,
    new_customer,
)
from tests.strategies import (
    MODEL_STRATEGIES,
    built,
    hostile,
    hostile_dates,
    hostile_decimals,
    hostile_money,
    hostile_text,
)

#: Examples each entry point runs on each store (the PostgreSQL store takes a few
#: milliseconds a call and a reading of the whole store).
EXAMPLES = int(os.environ.get("CUSTBILL_CONTRACT_EXAMPLES", "12"))
CONTRACT = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # one store for the examples of a test, on purpose
    ],
)

#: What the store holds before the calls (made by :func:`_seeded`).
CUSTOMER, ACCOUNT, OTHER_ACCOUNT = "C-1", "A-1", "A-2"
RUN_DATE = date(2026, 7, 1)

numbers = st.sampled_from([CUSTOMER, ACCOUNT, OTHER_ACCOUNT, "C-404"]) | hostile_text
amounts = st.builds(Money, st.sampled_from([1, 10, "0.5"]), st.just("USD")) | hostile_money
days = st.sampled_from([RUN_DATE, date(2026, 6, 15)]) | hostile_dates
charges = st.dictionaries(numbers, amounts, max_size=3)


def _records(cls: type, plain: Callable[..., Any]) -> st.SearchStrategy[Any]:
    """Records of *cls*: a plain valid one, one with a text field set to hostile text, and
    random ones (of random, type-valid contents)."""
    fields = [a.name for a in attrs.fields(cls) if a.init and "str" in str(a.type)]

    def with_text(field: str, text: str) -> Any:
        try:
            return plain(**{field: text})
        except TypeError:  # a field that is not text after all
            return plain()

    return st.one_of(
        st.builds(plain),
        st.builds(with_text, st.sampled_from(fields), hostile_text),
        MODEL_STRATEGIES[cls],
    )


#: Values each parameter of the facade takes, by name (every value may also be hostile).
ARGUMENTS: dict[str, st.SearchStrategy[Any]] = {
    "number": numbers,
    "customer_number": numbers,
    "reseller_number": numbers,
    "account_number": numbers,
    "root_account": numbers,
    "customer": _records(cb.NewCustomer, new_customer),
    "account": _records(cb.NewAccount, new_account),
    "make_default": st.booleans(),
    "category": MODEL_STRATEGIES[cb.AccountCategory],
    "cycle": MODEL_STRATEGIES[cb.BillCycle],
    "definition": MODEL_STRATEGIES[cb.CustomFieldDefinition],
    "plan": MODEL_STRATEGIES[cb.DunningPlan],
    "term": MODEL_STRATEGIES[cb.PaymentTerm],
    "entry": st.one_of(
        *(
            MODEL_STRATEGIES[kind]
            for kind in (cb.ContractType, cb.Salesperson, cb.RatePlan, cb.BillCycle)
        )
    ),
    "kind": st.sampled_from([*cb.AdjustmentKind, cb.BillCycle, cb.PaymentTerm]),
    "target": st.sampled_from(cb.CustomFieldTarget),
    "bill_cycle": st.sampled_from(["m1", "m15", "nope"]) | hostile_text,
    "run_date": days,
    "on": days,
    "as_of": days,
    "received_on": days,
    "charges": charges,
    "usage": st.dictionaries(numbers, hostile_decimals, max_size=3),
    "allowance": st.sampled_from([Decimal(100)]) | hostile_decimals,
    "partition": st.none() | MODEL_STRATEGIES[cb.Partition],
    "partitions": st.integers(-2, 5) | st.sampled_from([2**63, 10**30]),
    "amount": amounts,
    "reason": st.just("goodwill") | hostile_text,
    "reference": st.none() | hostile_text,
    "text": st.just("acme") | hostile_text,
    "author": st.just("ann") | hostile_text,
    "description": st.just("setup fee") | hostile_text,
    "actor": st.none() | st.just("ann") | hostile_text,
    "invoice": st.sampled_from(["I-000001", "I-404"]) | hostile_text,
    "note_number": st.sampled_from(["N-000001", "N-404"]) | hostile_text,
    "limit": st.none() | st.integers() | st.sampled_from([2**64, -(2**64)]),
    "expected_version": st.none() | st.integers(),
}


def _argument(name: str) -> st.SearchStrategy[Any]:
    return st.one_of(ARGUMENTS[name], hostile.map(built))


def _changes(editable: frozenset[str]) -> st.SearchStrategy[dict[str, Any]]:
    names = st.sampled_from(sorted(editable)) | st.sampled_from(["number", "nope", "version"])
    return st.dictionaries(names, hostile.map(built) | hostile_text, max_size=3)


def _bill_run_plans() -> st.SearchStrategy[Any]:
    """A real plan of the seeded store, to be issued as it is or with a hostile part."""
    return st.sampled_from(["as planned", "hostile total", "random"])


#: The facade's methods the suite calls, with how each call is made from drawn values.
METHODS = sorted(
    name
    for name, member in inspect.getmembers(cb.CustomerBilling, inspect.isfunction)
    if not name.startswith("_") and name not in ("close", "batch")
)


def _facade_of(store: Store) -> cb.CustomerBilling:
    """A facade on *store*, seeded on first use (the examples of one test share a store:
    what one accepted, the next starts from)."""
    billing = cb.CustomerBilling(store=store, settings=ALL_ON, clock=fixed_clock)
    with store.unit_of_work(read_only=True) as uow:
        if uow.customers.get(CUSTOMER) is not None:
            return billing
    add_catalog(billing)
    billing.create_customer(
        new_customer(number=CUSTOMER), new_account(number=ACCOUNT, external_number="X-1")
    )
    billing.add_account(CUSTOMER, new_account(number=OTHER_ACCOUNT, responsible_account=ACCOUNT))
    billing.issue_bill_run(billing.plan_bill_run("m1", RUN_DATE, {ACCOUNT: Money(5, "USD")}))
    billing.record_payment(ACCOUNT, Money(2, "USD"), RUN_DATE, "ref")
    return billing


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Iterator[Store]:
    made = make_store()
    yield made
    made.close()


def _every_read_works(billing: cb.CustomerBilling, store: Store) -> None:
    """Every read of every record the store holds answers (nothing accepted poisoned a
    later read)."""
    dumped = dump(store)
    for customer in dumped["customers"]:
        billing.customer_summary(customer.number)
        billing.history(customer.number)
        billing.search_customers(customer.name or "x", limit=5)
    for account in dumped["accounts"]:
        billing.account_summary(account.number)
        billing.invoices(account.number)
        billing.payments(account.number)
        billing.adjustments(account.number)
        billing.charges(account.number)
        billing.deposits(account.number)
        billing.dunning_notices(account.number)
        billing.activity(account.number)
        billing.dunning_state(account.number, RUN_DATE)
    billing.validate_customers()


def _call(
    billing: cb.CustomerBilling,
    method: str,
    data: st.DataObject,
    planner: cb.CustomerBilling | None = None,
) -> Callable[[], Any]:
    """A call of *method* with drawn arguments (a plan to issue is made by *planner*, by
    default *billing*)."""
    function = getattr(billing, method)
    if method in ("edit_customer", "edit_account"):
        editable = CUSTOMER_EDITABLE if method == "edit_customer" else ACCOUNT_EDITABLE
        number = data.draw(_argument("number"), label="number")
        version = data.draw(_argument("expected_version"), label="expected_version")
        changes = data.draw(_changes(editable), label="changes")
        return lambda: function(number, expected_version=version, **changes)
    if method == "update_settings":
        fields = [a.name for a in attrs.fields(cb.Settings)]
        changes = data.draw(_changes(frozenset(fields)), label="changes")
        return lambda: function(**changes)
    if method == "issue_bill_run":
        how = data.draw(_bill_run_plans(), label="plan")
        if how == "random":
            plan = data.draw(MODEL_STRATEGIES[cb.BillRunPlan] | hostile.map(built), label="p")
        else:
            plan = (planner or billing).plan_bill_run(
                "m1", date(2026, 8, 1), {ACCOUNT: Money(3, "USD")}
            )
            if how == "hostile total":
                invoice = attrs.evolve(plan.invoices[0], total=data.draw(hostile_money))
                plan = attrs.evolve(plan, invoices=(invoice, *plan.invoices[1:]))
        return lambda: function(plan)
    parameters = list(inspect.signature(function).parameters.values())
    positional = [p for p in parameters if p.kind is not p.KEYWORD_ONLY]
    keywords = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
    args = [data.draw(_argument(p.name), label=p.name) for p in positional]
    kwargs = {p.name: data.draw(_argument(p.name), label=p.name) for p in keywords}
    return lambda: function(*args, **kwargs)


@pytest.mark.parametrize("method", METHODS)
@CONTRACT
@given(data=st.data())
def test_every_facade_method_keeps_the_contract(
    store: Store, method: str, data: st.DataObject
) -> None:
    billing = _facade_of(store)
    call = _call(billing, method, data)
    before = dump(store)
    try:
        call()
    except cb.CustbillError as error:
        assert dump(store) == before
        assert_prints_whole(error)
    except TypeError:
        assert dump(store) == before
    _every_read_works(billing, store)


def test_every_method_is_covered() -> None:
    """A new public method of the facade joins the suite, or this fails: every parameter
    has values."""
    for method in METHODS:
        for parameter in inspect.signature(getattr(cb.CustomerBilling, method)).parameters:
            assert parameter in (*ARGUMENTS, "self", "changes"), (method, parameter)


# -- the facade with a hostile clock --------------------------------------------------------


def _clocks() -> st.SearchStrategy[Callable[[], Any]]:
    def raising() -> datetime:
        raise RuntimeError("the clock broke")

    values = st.one_of(
        st.datetimes(),  # naive
        st.sampled_from([date(2026, 1, 1), "2026-01-01", None, 0, datetime.max]),
        st.datetimes(timezones=st.just(UTC)),
    )
    return st.one_of(values.map(lambda value: lambda: value), st.just(raising))


@CONTRACT
@given(clock=_clocks(), method=st.sampled_from(METHODS), data=st.data())
def test_a_hostile_clock_changes_nothing(
    clock: Callable[[], Any], method: str, data: st.DataObject
) -> None:
    """A clock that answers something other than an aware datetime makes every call that
    reads it a ``TypeError`` and changes nothing (a clock that raises raises its own
    error, which custbill passes on unchanged)."""
    store = MemoryStore()
    planner = _facade_of(store)
    billing = cb.CustomerBilling(store=store, clock=clock)
    call = _call(billing, method, data, planner)
    before = dump(store)
    try:
        call()
    except (cb.CustbillError, TypeError, RuntimeError) as error:
        if isinstance(error, RuntimeError):
            assert str(error) == "the clock broke"
        assert dump(store) == before


# -- model constructors, calendar functions, store constructors ------------------------------


MODEL_TYPES = sorted(MODEL_STRATEGIES, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", MODEL_TYPES, ids=lambda cls: cls.__name__)
@CONTRACT
@given(data=st.data())
def test_model_constructors_take_or_refuse(cls: type, data: st.DataObject) -> None:
    """A model object is made of any values of its types; a value of another type is a
    ``TypeError`` — never another exception."""
    valid = data.draw(MODEL_STRATEGIES[cls])
    fields = {a.name: getattr(valid, a.name) for a in attrs.fields(cls) if a.init}
    for name in data.draw(st.lists(st.sampled_from(sorted(fields)), max_size=3)):
        fields[name] = built(data.draw(hostile))
    with contextlib.suppress(TypeError):
        cls(**fields)


_CALENDAR = {
    "bill_dates": (MODEL_STRATEGIES[cb.BillCycle], days, days),
    "next_bill_date": (MODEL_STRATEGIES[cb.BillCycle], days),
    "due_date": (days, MODEL_STRATEGIES[cb.PaymentTerm]),
    "auto_pay_date": (days, days, st.integers() | st.sampled_from([10**30, -(10**30)])),
    "is_suppressed": (amounts, st.none() | amounts),
}


@pytest.mark.parametrize("function", sorted(_CALENDAR))
@CONTRACT
@given(data=st.data())
def test_calendar_functions_answer_or_refuse(function: str, data: st.DataObject) -> None:
    args = [data.draw(st.one_of(s, hostile.map(built))) for s in _CALENDAR[function]]
    with contextlib.suppress(cb.CustbillError, TypeError):
        getattr(calendar, function)(*args)


@CONTRACT
@given(store=st.one_of(st.just(None), hostile.map(built)), given_settings=hostile.map(built))
def test_the_facade_constructor_takes_or_refuses(store: Any, given_settings: Any) -> None:
    with contextlib.suppress(cb.CustbillError, TypeError):
        cb.CustomerBilling(store=store, settings=given_settings).close()


@CONTRACT
@given(
    name=hostile_text.filter(lambda t: "/" not in t),
    synchronous=st.sampled_from(["FULL", "NORMAL"]) | hostile.map(built),
    busy_timeout=st.sampled_from([1.0, 30]) | hostile.map(built),
)
def test_the_sqlite_store_constructor_takes_or_refuses(
    tmp_path_factory: pytest.TempPathFactory, name: str, synchronous: Any, busy_timeout: Any
) -> None:
    folder = tmp_path_factory.mktemp("stores")
    with contextlib.suppress(cb.CustbillError, TypeError):
        SQLiteStore(
            folder / f"{name[:200]}.db", synchronous=synchronous, busy_timeout=busy_timeout
        ).close()


@CONTRACT
@given(
    dsn=hostile_text,
    pool_size=st.sampled_from([1, 2]) | hostile.map(built),
    timeout=st.sampled_from([1.0, 2]) | hostile.map(built),
    prepared=st.booleans() | hostile.map(built),
)
def test_the_postgres_store_constructor_takes_or_refuses(
    postgres_database: str, dsn: str, pool_size: Any, timeout: Any, prepared: Any
) -> None:
    """A DSN of any text is refused as a storage error in at most the timeout given (one
    second here, when a hostile timeout is not); hostile pool sizes and timeouts are
    refused before any connection."""
    safe_timeout = timeout if isinstance(timeout, float | int) and 0 < timeout <= 2 else 1.0
    for target, size, wait in ((dsn, 1, 1.0), (postgres_database, pool_size, safe_timeout)):
        with contextlib.suppress(cb.CustbillError, TypeError):
            PostgresStore(
                target, pool_size=size, timeout=wait, prepared_statements=prepared
            ).close()


def test_the_store_path_may_hold_any_character(tmp_path: Path) -> None:
    """Characters a file name may hold make a store; one it may not (NUL) is a storage
    error."""
    SQLiteStore(tmp_path / "Ａ ' OR 1=1 -- \u202e.db").close()
    with pytest.raises(cb.StorageError):
        SQLiteStore(tmp_path / "a\x00b.db")
