"""The hand-written invoice encoder against the library's: the same text, read back equal."""

from __future__ import annotations

from hypothesis import given

import custbill as cb
from custbill.serialization import from_json, to_compact_json
from custbill.storage.invoice_json import invoice_json
from tests.strategies import invoices


@given(invoices)
def test_the_same_text_as_the_library(invoice: cb.Invoice) -> None:
    text = invoice_json(invoice)
    assert text == to_compact_json(invoice)
    assert from_json(cb.Invoice, text) == invoice
