"""Amounts that cannot poison a ledger.

Every amount that enters custbill — charges, payments, adjustments, minimum invoice
amounts, credit limits, pooled allowances and usage — is finite, at most
:data:`MAX_AMOUNT` in magnitude, and (for money) has no more decimal places than its
currency has (:func:`decimal_places`).  A NaN charge once issued would make every later
summary of its account fail; an absurd payment would overflow them.  Each problem has its
code:

* ``money.not_finite`` — NaN or an infinity;
* ``money.too_large`` — more than :data:`MAX_AMOUNT` either way;
* ``money.too_precise`` — more decimal places than the currency has (``1.005 USD``).
  Trailing zeros do not count: ``Decimal("1.500")`` is 1.50 USD.

Signs are the business of each field's own rule (``billing.amount_invalid``,
``account.minimum_invoice_invalid``, ``account.credit_limit_invalid``).

:func:`amount_violations` checks one amount; :func:`charges_violations` checks a bill
run's charges at once, in a few passes in C when every charge is fine, and falls back to
the plain check to report them when one is not (``tests/rules/test_money.py`` holds the two
equal).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Final

from babel.numbers import get_currency_precision
from moneyed import Money

from custbill.model import Violation
from custbill.rules._support import violation

#: The largest magnitude of an amount, in major units of its currency (a trillion).  A
#: sum of fewer than a trillion such amounts, with their four decimal places at most,
#: has at most 28 digits: Decimal's default precision, so every balance, total and
#: carried amount custbill adds up is exact and none overflows.
MAX_AMOUNT: Final = Decimal(10) ** 12

#: What any currency allows at most (ISO 4217 has none finer than four decimal places).
MAX_DECIMAL_PLACES: Final = 4


@functools.lru_cache(maxsize=512)
def decimal_places(currency: str) -> int:
    """How many decimal places an amount in *currency* may have: its digits in the
    Unicode CLDR, through babel.

    >>> from custbill.rules.money import decimal_places
    >>> decimal_places("USD"), decimal_places("JPY"), decimal_places("BHD")
    (2, 0, 3)
    """
    return min(get_currency_precision(currency), MAX_DECIMAL_PLACES)


def amount_violations(amount: Decimal, currency: str | None, path: str) -> list[Violation]:
    """What is wrong with *amount* (in *currency*; None for a quantity such as pooled
    usage, which may have any number of decimal places), reported on *path*."""
    if not amount.is_finite():
        return [violation("money.not_finite", path, "the amount must be a finite number")]
    if abs(amount) > MAX_AMOUNT:
        return [
            violation(
                "money.too_large",
                path,
                f"the amount must be at most {MAX_AMOUNT:,} either way",
                maximum=str(MAX_AMOUNT),
            )
        ]
    if currency is not None:
        places = decimal_places(currency)
        if amount != amount.quantize(Decimal(1).scaleb(-places)):
            return [
                violation(
                    "money.too_precise",
                    path,
                    f"an amount in {currency} has at most {places} decimal places",
                    currency=currency,
                    places=places,
                )
            ]
    return []


def money_violations(money: Money, path: str) -> list[Violation]:
    """:func:`amount_violations` of a Money, in its own currency."""
    return amount_violations(money.amount, money.currency.code, path)


def charges_violations(charges: Mapping[str, Money], field: str = "charges") -> list[Violation]:
    """:func:`money_violations` of every amount of *charges* (on ``FIELD[KEY]``), quickly
    when there are none.

    The quick test adds the amounts up: a NaN or an infinity makes the sum so; the sum of
    Decimals keeps the smallest exponent of its terms (exactly, when it needs at most 28
    digits, which amounts within :data:`MAX_AMOUNT` guarantee), so a sum with no more
    decimal places than the least precise currency's proves every term has none either.
    When the test fails, each charge is checked on its own.
    """
    if not charges:
        return []
    amounts = list(map(attrgetter("amount"), charges.values()))
    currencies = set(map(attrgetter("currency.code"), charges.values()))
    try:
        total = sum(amounts, Decimal(0))
        fine = (
            total.is_finite()
            and max(amounts) <= MAX_AMOUNT
            and min(amounts) >= -MAX_AMOUNT
            and _exponent(total) >= -min(map(decimal_places, currencies))
        )
    except InvalidOperation:  # a signalling NaN, or infinities of both signs
        fine = False
    if fine:
        return []
    return [
        found
        for number, money in charges.items()
        for found in money_violations(money, f"{field}[{number}]")
    ]


def _exponent(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # (a str only for NaN and infinities)
    return exponent
