"""One text policy on every store: the memory, SQLite and PostgreSQL stores, driven side
by side with the same hostile text, accept and refuse the same calls with the same rule
codes, answer every search with the same records, and end in the same state."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

import custbill as cb
from custbill.storage import MemoryStore, PostgresStore, SQLiteStore, Store
from custbill.testing import dump, facade_for, new_account, new_customer
from tests.conftest import fixed_clock, new_database

#: Words that meet or differ under the text policy: spellings of one name (case, width,
#: composition, invisible characters), accents that count, and hostile fragments.
_WORDS = [
    "Acme",
    "acme",
    "ＡＣＭＥ",
    "Ac\u200bme",
    "Ac\u00adme",
    "Café",
    "Cafe\u0301",
    "CAFÉ",
    "Cafe",
    "Émile",
    "O'Brien",
    "o'b",
    "Ltd",
    "Straße",
    "STRASSE",
    "İstanbul",
    "ﬁsh",
    "①",
    "\u202eevil",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "a\x00b",
    "\ud800",
    "\x1f",
    "\uffff",
    "\ud7ff",
    "a\ud7ff\ud7ff",
    "\U0010ffff",
    "x" * 70,
]
_TEXT = st.one_of(
    st.lists(st.sampled_from(_WORDS), max_size=4).map(" ".join),
    st.text(max_size=8),
    st.sampled_from(["x" * 1_001, " ".join(["a"] * 17), "a" * 501]),
)


def _outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What a call did, as comparable across stores: its records' numbers and names, or
    the rule codes and fields of its refusal, or the kind of any other custbill error."""
    try:
        value = call()
    except cb.RuleViolationError as refused:
        return ("refused", sorted((v.code, v.path) for v in refused.violations))
    except cb.CustbillError as error:
        return (type(error).__name__,)
    return ("ok", _shown(value))


def _shown(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_shown(v) for v in value)
    if isinstance(value, cb.Customer):
        return (value.number, value.name, value.external_number, value.version)
    if isinstance(value, cb.BillingAccount):
        return (value.number, value.customer, value.external_number, value.version)
    return value


def _emptied(dsn: str) -> str:
    """*dsn*, its database emptied of custbill's records and its numbers started again
    (a new database for every example would take most of the test's time)."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'custbill_schema'"
            )
        ]
        if tables:
            connection.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
        for (sequence,) in connection.execute("SELECT sequencename FROM pg_sequences").fetchall():
            connection.execute(f"ALTER SEQUENCE {sequence} RESTART")
    return dsn


class SideBySide(RuleBasedStateMachine):
    """The same calls on three new stores."""

    postgres: str
    folder: Path
    serial = itertools.count(1)

    def __init__(self) -> None:
        super().__init__()
        self.stores: list[Store] = [
            MemoryStore(),
            SQLiteStore(self.folder / f"side-{next(self.serial)}.db"),
            PostgresStore(_emptied(self.postgres)),
        ]
        self.facades = [facade_for(store, clock=fixed_clock) for store in self.stores]
        for billing in self.facades:
            billing.update_settings(unique_customer_names=True)
        self.made = itertools.count(1)
        self.customers: list[str] = []

    def each(self, call: Callable[[cb.CustomerBilling], Any]) -> tuple[Any, ...]:
        """The outcome of *call* on every store, which must be one outcome."""
        outcomes = [_outcome(lambda b=billing: call(b)) for billing in self.facades]
        assert outcomes[1] == outcomes[0], ("SQLite differs from memory", outcomes)
        assert outcomes[2] == outcomes[0], ("PostgreSQL differs from memory", outcomes)
        return outcomes[0]

    @rule(name=_TEXT, external=st.none() | _TEXT, hostile_number=st.none() | _TEXT)
    def create(self, name: str, external: str | None, hostile_number: str | None) -> None:
        # numbers given: the memory and PostgreSQL stores leave a gap in their generated
        # numbers for a refused call, SQLite does not (docs/storage.rst)
        serial = next(self.made)
        number = hostile_number or f"C-{serial}"
        customer = new_customer(name, number=number, external_number=external)
        account = new_account(number=f"A-{serial}")
        outcome = self.each(lambda b: b.create_customer(customer, account))
        if outcome[0] == "ok":
            self.customers.append(outcome[1][0][0])

    @rule(data=st.data(), name=_TEXT)
    def rename(self, data: st.DataObject, name: str) -> None:
        if self.customers:
            number = data.draw(st.sampled_from(self.customers))
            self.each(lambda b: b.edit_customer(number, company_name=name))

    @rule(text=_TEXT, limit=st.none() | st.integers(-1, 3) | st.just(2**64))
    def search(self, text: str, limit: int | None) -> None:
        self.each(lambda b: b.search_customers(text, limit=limit))
        self.each(lambda b: b.search_accounts(text, limit=limit))

    def teardown(self) -> None:
        try:
            memory, *others = (dump(store) for store in self.stores)
            for other in others:
                assert other == memory
        finally:
            for billing in self.facades:
                billing.close()


def test_the_stores_take_text_alike(tmp_path: Path, postgres_dsn: str) -> None:
    SideBySide.postgres = new_database(postgres_dsn)
    SideBySide.folder = tmp_path
    run_state_machine_as_test(
        SideBySide,
        settings=settings(
            max_examples=60,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def _spellings() -> Iterator[str]:
    yield "Cafe\u0301 Noir"  # decomposed
    yield "ＣＡＦÉ ＮＯＩＲ"  # full-width, upper case
    yield "Ca\u200bfé Noir"  # a zero-width space
    yield "CAFÉ\u00ad NOIR"  # a soft hyphen


def test_a_name_in_another_spelling_is_taken(make_store: Callable[[], Store]) -> None:
    """With unique names on, a decomposed, full-width, upper-case or invisibly split
    spelling of a taken name is refused; a name without its accent is another name."""
    with facade_for(make_store(), clock=fixed_clock) as billing:
        billing.update_settings(unique_customer_names=True)
        taken, _ = billing.create_customer(new_customer("Café Noir"), new_account())
        for spelling in _spellings():
            with pytest.raises(cb.RuleViolationError) as refused:
                billing.create_customer(new_customer(spelling), new_account())
            assert [v.code for v in refused.value.violations] == ["customer.name_taken"]
            found = billing.search_customers(spelling)
            assert [c.number for c in found] == [taken.number]
        billing.create_customer(new_customer("Cafe Noir"), new_account())  # accents count


def test_a_name_of_no_search_token_is_taken(make_store: Callable[[], Store]) -> None:
    """A name of punctuation alone, or of combining marks alone, has no search token; with
    unique names on it is still taken by its second holder (the memory store once let it
    through while the SQL stores refused it). A name of invisible characters alone is no
    name."""
    with facade_for(make_store(), clock=fixed_clock) as billing:
        billing.update_settings(unique_customer_names=True)
        for name in (">", "\u0301", "(( ))"):
            billing.create_customer(new_customer(name), new_account())
            with pytest.raises(cb.RuleViolationError) as refused:
                billing.create_customer(new_customer(name), new_account())
            assert [v.code for v in refused.value.violations] == ["customer.name_taken"]
        with pytest.raises(cb.RuleViolationError) as refused:
            billing.create_customer(new_customer("\u200b\u00ad"), new_account())
        assert [(v.code, v.path) for v in refused.value.violations] == [
            ("customer.name_required", "customer.company_name")
        ]
