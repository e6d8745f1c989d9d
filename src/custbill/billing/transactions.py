"""An account's transactions (:class:`~custbill.Transaction`) from its ledger records: a
pure merge, the running balance ending where
:func:`custbill.service.accounting.balances` puts it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from moneyed import Money

from custbill.model import Adjustment, Deposit, Invoice, Payment
from custbill.model.enums import AdjustmentKind, DepositAction, TransactionKind
from custbill.model.transactions import Transaction

#: Where each kind of record sits among the records of one day.
_RANK = {kind: rank for rank, kind in enumerate(TransactionKind)}
_DEPOSIT_KINDS = {
    DepositAction.HELD: TransactionKind.DEPOSIT_HELD,
    DepositAction.APPLIED: TransactionKind.DEPOSIT_APPLIED,
    DepositAction.REFUNDED: TransactionKind.DEPOSIT_REFUNDED,
}


class _Line(NamedTuple):
    """A record before the running balance is known: its sign on the balance (1 owes
    more, -1 owes less, 0 no change)."""

    record: Invoice | Payment | Adjustment | Deposit
    kind: TransactionKind
    sign: int
    description: str


def _lines(
    invoices: Iterable[Invoice],
    payments: Iterable[Payment],
    adjustments: Iterable[Adjustment],
    deposits: Iterable[Deposit],
) -> list[_Line]:
    lines = [_Line(i, TransactionKind.INVOICE, 1, f"bill run {i.bill_cycle}") for i in invoices]
    lines += [_Line(p, TransactionKind.PAYMENT, -1, p.reference or "") for p in payments]
    for a in adjustments:
        debit = a.kind is AdjustmentKind.DEBIT
        kind = TransactionKind.DEBIT if debit else TransactionKind.CREDIT
        lines.append(_Line(a, kind, 1 if debit else -1, a.reason))
    for d in deposits:
        applied = d.action is DepositAction.APPLIED
        description = f"to {d.invoice}" if applied and d.invoice else d.reference or ""
        lines.append(_Line(d, _DEPOSIT_KINDS[d.action], -1 if applied else 0, description))
    return lines


def _day(record: Invoice | Payment | Adjustment | Deposit) -> date:
    if isinstance(record, Invoice):
        return record.invoice_date
    if isinstance(record, Payment):
        return record.received_on
    return record.on


def transactions_of(
    currency: str,
    invoices: Iterable[Invoice],
    payments: Iterable[Payment],
    adjustments: Iterable[Adjustment],
    deposits: Iterable[Deposit],
) -> tuple[Transaction, ...]:
    """The account's records in date order (the records of one day in
    :class:`~custbill.TransactionKind` order, then by number), each with the balance after
    it, in the account's invoice *currency*."""
    lines = _lines(invoices, payments, adjustments, deposits)
    lines.sort(key=lambda line: (_day(line.record), _RANK[line.kind], line.record.number))
    balance = Decimal(0)
    found = []
    for line in lines:
        amount = line.record.total if isinstance(line.record, Invoice) else line.record.amount
        change = line.sign * amount.amount
        balance += change
        found.append(
            Transaction(
                on=_day(line.record),
                kind=line.kind,
                number=line.record.number,
                amount=amount,
                change=Money(change, currency),
                balance=Money(balance, currency),
                description=line.description,
            )
        )
    return tuple(found)
