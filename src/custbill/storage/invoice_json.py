"""Invoices as compact JSON, written by hand: the SQL ledger's hot path.

Issuing a run on a SQL store encodes each of its invoices;
:func:`custbill.serialization.to_compact_json` (cattrs, then ``json``) took 5.0 µs an
invoice here, :func:`invoice_json` 2.6.  Both give the same text for every invoice
(``tests/test_invoice_json.py`` holds them equal on random invoices), and
:func:`~custbill.serialization.from_json` reads either back.
"""

from __future__ import annotations

from json.encoder import encode_basestring as _string

from custbill.model.billing import Invoice


def invoice_json(invoice: Invoice) -> str:
    """``to_compact_json(invoice)``, the same text, built directly."""
    total = invoice.total
    auto_pay = "null" if invoice.auto_pay_date is None else f'"{invoice.auto_pay_date}"'
    accounts = ",".join(map(_string, invoice.accounts))
    note = invoice.invoice_note  # (left out at its default, as the library leaves it out)
    noted = "" if note is None else f',"invoice_note":{_string(note)}'
    return (
        f'{{"number":{_string(invoice.number)},"bill_cycle":{_string(invoice.bill_cycle)},'
        f'"billed_account":{_string(invoice.billed_account)},"accounts":[{accounts}],'
        f'"total":{{"amount":{_string(str(total.amount))},'
        f'"currency":{_string(total.currency.code)}}},'
        f'"invoice_date":"{invoice.invoice_date}","due_date":"{invoice.due_date}",'
        f'"auto_pay_date":{auto_pay}{noted}}}'
    )
