"""Which currency codes custbill accepts: the ISO 4217 codes py-moneyed knows."""

from __future__ import annotations

import functools
from decimal import Decimal

from moneyed import Currency, Money, get_currency


@functools.lru_cache(maxsize=1024)
def currency_known(code: str) -> bool:
    """True when *code* is an ISO 4217 currency code that py-moneyed knows.

    >>> currency_known("SEK"), currency_known("sek"), currency_known("XYZ")
    (True, False, False)
    """
    from moneyed import CURRENCIES

    return code in CURRENCIES and code.isupper()


#: Currencies by code, looked up once (``Money(amount, "EUR")`` upper-cases the code and
#: looks it up on every construction: half the cost of building the Money).
_CURRENCIES: dict[str, Currency] = {}


def money_of(amount: Decimal, currency: str) -> Money:
    """``Money(amount, currency)`` for a currency code already checked, such as one a
    store holds.

    >>> from decimal import Decimal
    >>> from moneyed import Money
    >>> from custbill.model.currencies import money_of
    >>> money_of(Decimal("1.50"), "SEK") == Money("1.50", "SEK")
    True
    """
    found = _CURRENCIES.get(currency)
    if found is None:
        found = _CURRENCIES[currency] = get_currency(currency)
    return Money(amount, found)
