"""The text checks the rules share: emails, phones, countries, locales."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbill.rules._support import (
    blank,
    countries,
    email_valid,
    filled,
    locale_known,
    phone_valid,
)


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org", "x_y@a-b.io"])
def test_valid_emails(email: str) -> None:
    """Ordinary addresses pass."""
    assert email_valid(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "a",
        "a@",
        "@b.co",
        "a@b",
        "a b@c.io",
        "a@@b.io",
        "a@-b.io",
        "a@b.io.",
        "x" * 250 + "@b.io",
    ],
)
def test_invalid_emails(email: str) -> None:
    """Malformed or over-long addresses fail."""
    assert not email_valid(email)


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("+1 (512) 555-0100", True),
        ("0046.8.123.456", True),
        ("911", False),
        ("call me", False),
        ("", False),
        ("+", False),
        ("1" * 16, False),
        ("١٢٣٤٥", False),
    ],
)
def test_phones(phone: str, ok: bool) -> None:
    """An optional + and 4–15 ASCII digits with common separators."""
    assert phone_valid(phone) is ok


def test_countries_are_iso_alpha2() -> None:
    """Real countries are in, CLDR's non-country codes are out."""
    known = countries()
    assert {"US", "SE", "MX", "RU", "ZW", "GB", "FR"} <= known
    assert not {"EU", "ZZ", "UN", "001", "us"} & known
    assert all(len(c) == 2 and c.isupper() for c in known)


@pytest.mark.parametrize(
    ("locale", "ok"),
    [
        ("en_US", True),
        ("sv_SE", True),
        ("es_MX", True),
        ("ru_RU", True),
        ("en_ZW", True),
        ("xx_XX", False),
        ("", False),
        ("en-US", False),
        ("english", False),
        ("ñ", False),
    ],
)
def test_locales(locale: str, ok: bool) -> None:
    """Babel locale identifiers, underscore-separated."""
    assert locale_known(locale) is ok


@given(st.lists(st.one_of(st.none(), st.integers(), st.text(alphabet=" \tab\n", max_size=3))))
def test_filled_is_not_blank_for_each(texts: list[object]) -> None:
    """filled() holds exactly when no text is blank."""
    assert filled(*texts) == (not any(blank(t) for t in texts))
