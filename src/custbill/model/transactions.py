"""An account's transactions: its invoices, payments, adjustments and deposit movements in
one list, in date order, with the balance after each (the telecom module's Transactions)."""

from __future__ import annotations

from datetime import date

import attrs
from moneyed import Money

from custbill.model._typecheck import check_fields
from custbill.model.enums import TransactionKind
from custbill.model.records import Tabular


@attrs.frozen(kw_only=True)
class Transaction(Tabular):
    """One record of an account's ledger as a line of its transactions.

    ``amount`` is the record's own (positive) amount; ``change`` what it does to the
    balance (positive: the account owes more; zero for a deposit received or refunded,
    which is held apart from the balance); ``balance`` the balance after it.
    """

    on: date
    kind: TransactionKind
    number: str
    amount: Money
    change: Money
    balance: Money
    description: str = ""

    def __attrs_post_init__(self) -> None:
        check_fields(self)
