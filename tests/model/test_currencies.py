"""Which currency codes custbill accepts."""

from __future__ import annotations

import pytest

from custbill.model.currencies import currency_known


@pytest.mark.parametrize(
    ("code", "ok"), [("USD", True), ("SEK", True), ("usd", False), ("XYZ", False), ("", False)]
)
def test_currencies(code: str, ok: bool) -> None:
    """ISO 4217 codes that py-moneyed knows, upper case."""
    assert currency_known(code) is ok
