"""Card numbers, however written, in every text field: refused on every store without
being echoed, and never found in a store's files."""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.rules.cards import (
    MAX_DIGITS,
    MIN_DIGITS,
    SEPARATORS,
    card_number_fields,
    holds_card_number,
    luhn_valid,
)
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import ALL_ON, add_catalog, fixed_clock, new_account, new_customer

#: A Luhn-valid test card number, and the same digits in other scripts.
CARD = "4111111111111111"
FULL_WIDTH = "".join(chr(0xFF10 + int(d)) for d in CARD)
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in CARD)


@pytest.mark.parametrize(
    ("text", "card"),
    [
        (CARD, True),
        ("4111 1111 1111 1111", True),
        ("tok_5500-0000-0000-0004", True),
        ("4111\u00a01111\u00a01111\u00a01111", True),  # non-breaking spaces
        ("4111\u200b1111\u200b1111\u200b1111", True),  # zero-width spaces
        ("4\u00ad1\u00ad11111111111111", True),  # soft hyphens
        ("4111.1111.1111.1111", True),
        (FULL_WIDTH, True),
        (ARABIC_INDIC, True),
        ("order 12 4111 1111 1111 1111", True),  # a card among other groups of digits
        ("4111111111111112", False),
        ("411111111111", False),
        ("12345678901234567890123", False),
        ("4111 1111 x 1111 1111", False),  # a letter ends the run
        ("tok_abc", False),
        ("", False),
    ],
)
def test_card_numbers(text: str, card: bool) -> None:
    assert holds_card_number(text) is card


def _textbook_luhn(digits: list[int]) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        d *= 2 if i % 2 else 1
        total += d // 10 + d % 10
    return total % 10 == 0


def _brute_force(text: str) -> bool:
    """Every run of whole digit groups (split at separators, ended by anything else),
    with the textbook Luhn test."""
    runs: list[list[list[int]]] = [[]]
    group: list[int] = []
    for char in text + "\x00":
        if char.isdecimal():
            group.append(int(char))
            continue
        if group:
            runs[-1].append(group)
            group = []
        separator = char.isspace() or char in SEPARATORS or unicodedata.category(char) == "Cf"
        if not separator:
            runs.append([])
    for groups in runs:
        for i, j in itertools.combinations(range(len(groups) + 1), 2):
            digits = [d for g in groups[i:j] for d in g]
            if MIN_DIGITS <= len(digits) <= MAX_DIGITS and _textbook_luhn(digits):
                return True
    return False


_DIGITS = "0123456789" + FULL_WIDTH[:4] + ARABIC_INDIC[4:8]
_TEXT = st.text(alphabet=_DIGITS * 6 + " -.\u00a0\u200b\u00adab", max_size=60)


@given(st.one_of(_TEXT, _TEXT.map(lambda t: t + CARD), st.text(max_size=40)))
def test_the_reading_is_the_brute_force_one(text: str) -> None:
    """holds_card_number answers as trying every run of groups does."""
    assert holds_card_number(text) is _brute_force(text)


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_against_the_textbook_definition(digits: str) -> None:
    assert luhn_valid(digits) is _textbook_luhn([int(d) for d in digits])


@given(st.lists(st.tuples(st.text(max_size=5), st.none() | _TEXT), max_size=6))
def test_the_quick_fields_check_is_the_plain_one(fields: list[tuple[str, str | None]]) -> None:
    """Checking the digits of all fields at once first changes no answer."""
    plain = [path for path, text in fields if text and holds_card_number(text)]
    assert card_number_fields(fields) == plain


def test_a_long_text_is_read_in_linear_time() -> None:
    """A megabyte of single digits between spaces (the most groups a text can have) is
    read without trying every run of groups (generous: a second is a hundred times the
    time it takes)."""
    import time

    started = time.perf_counter()
    assert holds_card_number("1 " * 500_000) is False
    assert time.perf_counter() - started < 30


# -- planted in every field, on every store -----------------------------------------------------


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


def _card_forms() -> Iterator[str]:
    yield CARD
    yield "4111 1111 1111 1111"
    yield "4111\u200b1111\u200b1111\u200b1111"
    yield FULL_WIDTH


def _plantings(card: str, customer: str, account: str) -> Iterator[tuple[str, Any]]:
    """(path, a call putting *card* in that field)."""
    address = cb.Address(line1="1 Main St", city="Austin", postal_code="78701", country="US")
    customers = {
        "company_name": {"company_name": f"Acme {card}"},
        "first_name": {
            "kind": cb.CustomerKind.PERSON,
            "company_name": None,
            "first_name": card,
            "last_name": "Doe",
        },
        "external_number": {"external_number": card},
        "number": {"number": f"C{card}"},
        "primary_email": {"primary_email": f"{card}@example.com"},
        "secondary_emails[0]": {"secondary_emails": (f"x{card}@example.com",)},
        "billing_address.line1": {"billing_address": attrs.evolve(address, line1=card)},
        "billing_address.line2": {"billing_address": attrs.evolve(address, line2=card)},
        "shipping_address.city": {"shipping_address": attrs.evolve(address, city=card)},
        "service_address.postal_code": {"service_address": attrs.evolve(address, postal_code=card)},
    }
    for path, changes in customers.items():  # create_customer's paths name the record
        yield (
            f"customer.{path}",
            lambda b, c=changes: b.create_customer(new_customer(**c), new_account()),
        )
    accounts = {
        "external_number": {"external_number": card},
        "number": {"number": f"A{card}"},
        "contacts[0].name": {"contacts": (cb.Contact(name=card),)},
        "contacts[0].email": {"contacts": (cb.Contact(name="x", email=f"{card}@a.example"),)},
        "contacts[0].category": {"contacts": (cb.Contact(name="x", category=card),)},
    }
    for path, changes in accounts.items():
        yield path, lambda b, c=changes: b.add_account(customer, new_account(**c))
    yield "reference", lambda b: b.record_payment(account, Money(1, "USD"), _DAY, card)
    yield (
        "reason",
        lambda b: b.record_adjustment(
            account, cb.AdjustmentKind.CREDIT, Money(1, "USD"), _DAY, card
        ),
    )
    yield "name", lambda b: b.add_account_category(cb.AccountCategory(id="c2", name=card))


_DAY = fixed_clock().date()


def _is_key(path: str) -> bool:
    return path.removeprefix("customer.") in ("number", "external_number")


def test_a_card_number_in_any_text_field_is_refused(store: Store, tmp_path: Path) -> None:
    """Each field refuses a card number, however written, with text.card_number on that
    field and a message without its digits; nothing of it reaches the store or its
    files."""
    with cb.CustomerBilling(store=store, settings=ALL_ON, clock=fixed_clock) as billing:
        add_catalog(billing)
        customer, account = billing.create_customer(new_customer(), new_account())
        for card in _card_forms():
            for path, plant in _plantings(card, customer.number, account.number):
                before = dump(store)
                with pytest.raises(cb.RuleViolationError) as refused:
                    plant(billing)
                found = [(v.code, v.path) for v in refused.value.violations]
                # a key refuses invisible characters before anything is read in it
                code = "text.invalid_character" if _is_key(path) and "\u200b" in card else None
                assert (code or "text.card_number", path) in found, (card, path, found)
                assert "1111" not in str(refused.value) and card not in str(refused.value)
                assert dump(store) == before
        assert CARD not in repr(dump(store))
    for file in tmp_path.glob("cards.db*"):
        data = file.read_bytes()
        for form in (CARD, FULL_WIDTH):
            assert form.encode() not in data and form.encode("utf-16-le") not in data


@pytest.mark.parametrize(
    "token",
    [
        "4111\u00a01111\u00a01111\u00a01111",  # non-breaking spaces
        "4111\u200b1111\u200b1111\u200b1111",  # zero-width spaces
        FULL_WIDTH,
        "tok_" + "\u2060".join(CARD),  # a word joiner between every digit
    ],
)
def test_a_payment_method_token_holding_a_hidden_card_number_is_refused(
    store: Store, token: str
) -> None:
    """A card number in a payment method's token is refused however its digits are
    separated or written (it was once accepted with non-breaking or zero-width spaces, or
    in full-width digits)."""
    method = cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token=token, last4="1111")
    with cb.CustomerBilling(store=store, settings=ALL_ON, clock=fixed_clock) as billing:
        add_catalog(billing)
        before = dump(store)
        with pytest.raises(cb.RuleViolationError) as refused:
            billing.create_customer(new_customer(), new_account(payment_methods=(method,)))
        found = {(v.code, v.path) for v in refused.value.violations}
        assert ("account.payment_method_invalid", "account.payment_methods[0].token") in found
        assert "1111 1111" not in str(refused.value) and token not in str(refused.value)
        assert dump(store) == before
