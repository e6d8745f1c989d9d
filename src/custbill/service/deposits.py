"""Use cases of security deposits; see the facade's ``record_deposit``, ``apply_deposit``,
``refund_deposit`` and ``deposits``.

A deposit is received and held apart from the account's receivable balance; applied to an
invoice it pays it (as a payment does), refunded it leaves.  What an account holds is what
it received less what was applied and refunded; an account holding a deposit cannot be
deactivated (``account.deposit_held``): apply or refund it first.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from moneyed import Money

from custbill.model import AccountStatus, BillingAccount, Deposit, DepositAction, Violation
from custbill.rules import violation
from custbill.rules.cards import card_violations
from custbill.rules.limits import MAX_KEY_LENGTH, MAX_TEXT_LENGTH, record_text_violations
from custbill.service._unit import (
    Context,
    account_of,
    new_number,
    raise_if,
    record_event,
    require,
)
from custbill.service.accounting import check_entry_amount
from custbill.storage.protocols import UnitOfWork

_SIGN = {DepositAction.HELD: 1, DepositAction.APPLIED: -1, DepositAction.REFUNDED: -1}


def held(uow: UnitOfWork, account: BillingAccount) -> Money:
    """What *account* holds as deposit, in its invoice currency."""
    total = sum(
        (_SIGN[d.action] * d.amount.amount for d in uow.ledger.deposits_of(account.number)),
        Decimal(0),
    )
    return Money(total, account.invoice_currency)


def _record(
    uow: UnitOfWork,
    ctx: Context,
    account_number: str,
    action: DepositAction,
    amount: Money,
    on: date,
    *,
    invoice: str | None = None,
    reference: str | None = None,
) -> Deposit:
    require(reference, (str, type(None)), "reference")
    raise_if(record_text_violations([("reference", reference, MAX_TEXT_LENGTH)]))
    raise_if(card_violations([("reference", reference)]))
    account = account_of(uow, account_number)
    check_entry_amount(account, amount, on)
    found: list[Violation] = []
    if action is not DepositAction.HELD:
        holding = held(uow, account)
        if amount.amount > holding.amount:
            found.append(
                violation(
                    "deposit.exceeds_held",
                    "amount",
                    f"{account.number} holds {holding.amount} {holding.currency.code}",
                    held=str(holding.amount),
                    currency=holding.currency.code,
                )
            )
    if action is DepositAction.APPLIED:
        if not isinstance(invoice, str):
            raise TypeError(f"invoice must be str, not {type(invoice).__name__}")
        raise_if(record_text_violations([("invoice", invoice, MAX_KEY_LENGTH)]))
        billed = uow.ledger.invoice(invoice)
        if billed is None or billed.billed_account != account.number:
            found.append(
                violation(
                    "account.reference_unknown",
                    "invoice",
                    f"{account.number} has no invoice {invoice}",
                    kind="invoice",
                    id=invoice,
                )
            )
    raise_if(found)
    stamp = ctx.stamp()
    deposit = Deposit(
        number=new_number(uow, "deposit", "D"),
        account=account.number,
        action=action,
        amount=amount,
        on=on,
        invoice=invoice,
        reference=reference,
    )
    uow.ledger.add_deposit(deposit)
    record_event(uow, stamp, account.number, "deposit", deposit.number)
    uow.commit()
    return deposit


def record_deposit(
    uow: UnitOfWork,
    ctx: Context,
    account_number: str,
    amount: Money,
    on: date,
    reference: str | None,
) -> Deposit:
    """Receive a deposit; see :meth:`custbill.CustomerBilling.record_deposit`."""
    return _record(uow, ctx, account_number, DepositAction.HELD, amount, on, reference=reference)


def apply_deposit(
    uow: UnitOfWork,
    ctx: Context,
    account_number: str,
    amount: Money,
    on: date,
    invoice: str,
) -> Deposit:
    """Apply held deposit to an invoice; see :meth:`custbill.CustomerBilling.apply_deposit`."""
    return _record(uow, ctx, account_number, DepositAction.APPLIED, amount, on, invoice=invoice)


def refund_deposit(
    uow: UnitOfWork,
    ctx: Context,
    account_number: str,
    amount: Money,
    on: date,
    reference: str | None,
) -> Deposit:
    """Refund held deposit; see :meth:`custbill.CustomerBilling.refund_deposit`."""
    return _record(
        uow, ctx, account_number, DepositAction.REFUNDED, amount, on, reference=reference
    )


def deposits(uow: UnitOfWork, ctx: Context, account_number: str) -> tuple[Deposit, ...]:
    """The movements of the account's deposit, oldest first."""
    return uow.ledger.deposits_of(account_of(uow, account_number).number)


def deactivation_violations(
    uow: UnitOfWork, before: BillingAccount, after: BillingAccount
) -> list[Violation]:
    """``account.deposit_held`` when an edit deactivates an account holding a deposit."""
    if after.status is not AccountStatus.DEACTIVATED or before.status is after.status:
        return []
    holding = held(uow, before)
    if holding.amount <= 0:
        return []
    return [
        violation(
            "account.deposit_held",
            "status",
            f"{before.number} holds a deposit of {holding.amount} {holding.currency.code}: "
            "apply or refund it first",
            held=str(holding.amount),
            currency=holding.currency.code,
        )
    ]
