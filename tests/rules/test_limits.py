"""Bounded work: every limit enforced identically on every store, at once, with a bounded
message."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from moneyed import Money

import custbill as cb
from custbill.errors import MAX_LISTED_VIOLATIONS
from custbill.rules.limits import (
    MAX_EMAIL_LENGTH,
    MAX_ITEMS,
    MAX_KEY_LENGTH,
    MAX_SEARCH_LENGTH,
    MAX_SEARCH_WORDS,
    MAX_TEXT_LENGTH,
)
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import (
    fixed_clock,
    new_account,
    new_customer,
    standard_facade,
)

_DAY = fixed_clock().date()


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        yield facade


def _email(length: int) -> str:
    return "a" * (length - len("@b.example")) + "@b.example"


#: (path, the customer's fields at a limit, the same one over it)
CUSTOMER_CASES = [
    ("company_name", {"company_name": "x" * MAX_TEXT_LENGTH}, {"company_name": "x" * 1_001}),
    ("external_number", {"external_number": "e" * MAX_KEY_LENGTH}, {"external_number": "e" * 65}),
    ("number", {"number": "C" * MAX_KEY_LENGTH}, {"number": "C" * 65}),
    (
        "primary_email",
        {"primary_email": _email(MAX_EMAIL_LENGTH)},
        {"primary_email": _email(MAX_EMAIL_LENGTH + 1)},
    ),
    (
        "secondary_emails",
        {"secondary_emails": tuple(f"s{i}@b.example" for i in range(MAX_ITEMS))},
        {"secondary_emails": tuple(f"s{i}@b.example" for i in range(MAX_ITEMS + 1))},
    ),
]


@pytest.mark.parametrize(("path", "at", "over"), CUSTOMER_CASES)
def test_customer_limits_on_every_store(
    billing: cb.CustomerBilling,
    store: Store,
    path: str,
    at: dict[str, object],
    over: dict[str, object],
) -> None:
    """At a limit a customer is created; one past it is refused on that field, the store
    unchanged — the same on every store."""
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.create_customer(new_customer(**over), new_account())
    assert refused.value.violations[0].path == f"customer.{path}"
    assert refused.value.codes <= {"limit.text_too_long", "limit.too_many"}
    assert dump(store) == before
    billing.create_customer(new_customer(**at), new_account())


def test_account_limits(billing: cb.CustomerBilling) -> None:
    customer, _ = billing.create_customer(new_customer(), new_account())
    contacts = tuple(cb.Contact(name=f"c{i}") for i in range(MAX_ITEMS + 1))
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.add_account(customer.number, new_account(contacts=contacts))
    assert [(v.code, v.path) for v in refused.value.violations] == [("limit.too_many", "contacts")]
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.add_account(customer.number, new_account(external_number="x" * 65))
    assert [(v.code, v.path) for v in refused.value.violations] == [
        ("limit.text_too_long", "external_number")
    ]
    billing.add_account(customer.number, new_account(contacts=contacts[:MAX_ITEMS]))


def test_a_million_phones_is_one_violation_at_once(billing: cb.CustomerBilling) -> None:
    """A million phone entries are refused as one violation, without checking each (the
    bound is generous: a hundred times the time it takes)."""
    phones = (cb.Phone(type=cb.PhoneType.MOBILE, number="not a phone"),) * 1_000_000
    started = time.perf_counter()
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.create_customer(new_customer(phones=phones), new_account())
    assert time.perf_counter() - started < 10
    found = [(v.code, v.path) for v in refused.value.violations]
    assert found == [("limit.too_many", "customer.phones")]
    assert len(str(refused.value)) < 500


def test_a_message_lists_a_bounded_number_of_violations() -> None:
    many = [cb.Violation(code="x.y", path=f"f{i}", message="bad") for i in range(75)]
    message = str(cb.RuleViolationError(many))
    assert message.count("x.y @") == MAX_LISTED_VIOLATIONS
    assert message.endswith(f"and {75 - MAX_LISTED_VIOLATIONS} more")
    assert len(cb.RuleViolationError(many).violations) == 75
    lines = message.splitlines()  # the count first, then one violation a line
    assert lines[0] == "75 rule violations:"
    assert lines[1:3] == ["  x.y @ f0: bad", "  x.y @ f1: bad"]
    assert len(lines) == MAX_LISTED_VIOLATIONS + 2
    assert str(cb.RuleViolationError(many[:1])).splitlines()[0] == "1 rule violation:"


def test_invalid_data_lists_its_problems_one_a_line() -> None:
    problems = [f"expected text @ $.customers[{i}].name" for i in range(30)]
    lines = str(cb.InvalidDataError(problems)).splitlines()
    assert lines[0] == "invalid data, 30 problems:"
    assert lines[1] == "  expected text @ $.customers[0].name"
    assert lines[-1] == f"  and {30 - MAX_LISTED_VIOLATIONS} more"
    assert len(lines) == MAX_LISTED_VIOLATIONS + 2
    assert str(cb.InvalidDataError(problems[:1])) == f"invalid data: {problems[0]}"


def test_search_limits_on_every_store(billing: cb.CustomerBilling) -> None:
    """Every store answers a search of MAX_SEARCH_WORDS words and refuses one more word,
    or a text past MAX_SEARCH_LENGTH (a 10 MB text at once)."""
    billing.create_customer(new_customer(company_name="Acme"), new_account())
    assert billing.search_customers(" ".join(["acme"] * MAX_SEARCH_WORDS))
    for text in (
        " ".join(["acme"] * (MAX_SEARCH_WORDS + 1)),
        "a" * (MAX_SEARCH_LENGTH + 1),
        "acme " * 2_000_000,
    ):
        started = time.perf_counter()
        with pytest.raises(cb.RuleViolationError) as refused:
            billing.search_customers(text)
        assert refused.value.codes == {"limit.search_too_long"}
        assert time.perf_counter() - started < 5
        with pytest.raises(cb.RuleViolationError):
            billing.search_accounts(text)


def test_a_refused_first_creation_leaves_a_new_store_working(billing: cb.CustomerBilling) -> None:
    """The first creation on a new store is refused after its numbers were drawn; the next
    creation works (on PostgreSQL, the sequence created by the refused call went with its
    rollback, and the store must not believe it exists)."""
    with pytest.raises(cb.RuleViolationError):
        billing.create_customer(new_customer(company_name="x" * 1_001), new_account())
    customer, account = billing.create_customer(new_customer(), new_account())
    assert billing.get_customer(customer.number) == customer
    assert billing.get_account(account.number) == account


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"company_name": "Acme\x00"}, "company_name"),
        ({"company_name": "Acme\ud800"}, "company_name"),
        ({"external_number": "X\udfff"}, "external_number"),
        ({"company_name": "Acme\x1b[31m"}, "company_name"),
        ({"company_name": "Acme\x85"}, "company_name"),
    ],
)
def test_characters_no_store_keeps_are_refused_on_every_store(
    billing: cb.CustomerBilling, store: Store, changes: dict[str, str], path: str
) -> None:
    """NUL, control characters and lone surrogates are refused on the field that holds
    them, on every store alike (the SQL stores once raised UnicodeEncodeError), and the
    message does not repeat the text."""
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as refused:
        billing.create_customer(new_customer(**changes), new_account())
    assert [(v.code, v.path) for v in refused.value.violations] == [
        ("text.invalid_character", f"customer.{path}")
    ]
    assert "Acme" not in str(refused.value)
    assert dump(store) == before


def test_searches_with_refused_characters_are_refused_on_every_store(
    billing: cb.CustomerBilling,
) -> None:
    for text in ("acme\ud800", "\x00"):
        with pytest.raises(cb.RuleViolationError) as refused:
            billing.search_customers(text)
        assert refused.value.codes == {"text.invalid_character"}


def test_tabs_and_line_breaks_are_text(billing: cb.CustomerBilling) -> None:
    """A reason may run over lines; right-to-left marks and other printable characters
    are text like any other."""
    _, account = billing.create_customer(new_customer(company_name="Acme \u202eInc"), new_account())
    adjustment = billing.record_adjustment(
        account.number, cb.AdjustmentKind.CREDIT, Money(1, "USD"), _DAY, "line 1\n\tline 2\r\n"
    )
    assert adjustment.reason == "line 1\n\tline 2\r\n"
