"""Use case of an account's transactions; see the facade's ``transactions``."""

from __future__ import annotations

from custbill.billing.transactions import transactions_of
from custbill.model.transactions import Transaction
from custbill.service._unit import Context, account_of
from custbill.storage.protocols import UnitOfWork


def transactions(uow: UnitOfWork, ctx: Context, account_number: str) -> tuple[Transaction, ...]:
    """The account's ledger as transactions with a running balance."""
    account = account_of(uow, account_number)
    ledger, number = uow.ledger, account.number
    return transactions_of(
        account.invoice_currency,
        ledger.invoices_of(number),
        ledger.payments_of(number),
        ledger.adjustments_of(number),
        ledger.deposits_of(number),
    )
