"""Which currency codes custbill accepts: the ISO 4217 codes py-moneyed knows."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1024)
def currency_known(code: str) -> bool:
    """True when *code* is an ISO 4217 currency code that py-moneyed knows.

    >>> currency_known("SEK"), currency_known("sek"), currency_known("XYZ")
    (True, False, False)
    """
    from moneyed import CURRENCIES

    return code in CURRENCIES and code.isupper()
