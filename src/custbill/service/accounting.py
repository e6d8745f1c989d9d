"""An account's money: its balance, what waits for its next invoice, and the credit its
chain has left — what summaries show and what the ledger's writes check.

**Credit limits.** An account's *exposure* is counted at the account that pays for it (the
top of its billing hierarchy): the balance, the amount carried forward and the pending
charges of that account and of every account it pays for.  A held security deposit is not
counted (it is kept apart from the balance), and a credit balance lowers the exposure.
A charge or a debit adjustment that would take the exposure above the credit limit of the
charged account, or of any account above it up to the payer, is refused with
``account.credit_limit_exceeded``; its params give the limit, the exposure before the
charge, and what is still ``available``.  Invoices a bill run issues are not refused: they
bill what was accepted before.  Checking costs a read of each account the payer pays for,
and only where an account of the chain has a limit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from moneyed import Money

from custbill.billing.pooling import subtree
from custbill.model import BillingAccount, Violation
from custbill.model.enums import AdjustmentKind, DepositAction
from custbill.rules import violation
from custbill.rules.money import money_violations
from custbill.service._unit import raise_if, require, require_date
from custbill.storage.protocols import UnitOfWork


def check_entry_amount(account: BillingAccount, amount: Money, on: date) -> None:
    """Refuse an amount a payment, adjustment or deposit of *account* cannot have: not
    Money, not in its invoice currency, not finite, too large or precise, or not positive
    (and an *on* that is not a date)."""
    require(amount, Money, "amount")
    require_date(on, "on")
    found = []
    if amount.currency.code != account.invoice_currency:
        found.append(
            violation(
                "billing.charge_currency_mismatch",
                "amount",
                f"{account.number} is billed in {account.invoice_currency}, "
                f"not {amount.currency.code}",
                currency=amount.currency.code,
                invoice_currency=account.invoice_currency,
            )
        )
    problems = money_violations(amount, "amount")
    found.extend(problems)
    if not problems and amount.amount <= 0:
        found.append(violation("billing.amount_invalid", "amount", "the amount must be positive"))
    raise_if(found)


APPLIED = DepositAction.APPLIED


def balances(uow: UnitOfWork, account: BillingAccount) -> tuple[Money, Money]:
    """The account's balance (what it owes; negative is a credit) and its unapplied
    payments (payments beyond what was owed), in its invoice currency.  A deposit applied
    to an invoice pays as a payment does; a deposit held is not in the balance."""
    ledger = uow.ledger
    owed = sum((i.total.amount for i in ledger.invoices_of(account.number)), Decimal(0))
    for adjustment in ledger.adjustments_of(account.number):
        sign = 1 if adjustment.kind is AdjustmentKind.DEBIT else -1
        owed += sign * adjustment.amount.amount
    paid = sum((p.amount.amount for p in ledger.payments_of(account.number)), Decimal(0))
    paid += sum(
        (d.amount.amount for d in ledger.deposits_of(account.number) if d.action is APPLIED),
        Decimal(0),
    )
    currency = account.invoice_currency
    return Money(owed - paid, currency), Money(
        max(Decimal(0), paid - max(owed, Decimal(0))), currency
    )


def pending_total(uow: UnitOfWork, account: BillingAccount) -> Money:
    """What the account's next invoice will carry besides new charges: its pending
    charges and the amount carried forward from suppressed invoices."""
    total = sum(
        (c.amount.amount for c in uow.ledger.charges_of(account.number) if c.pending),
        Decimal(0),
    )
    carried = uow.ledger.pending(account.number)
    if carried is not None:
        total += carried.amount
    return Money(total, account.invoice_currency)


def billing_chain(uow: UnitOfWork, account: BillingAccount) -> list[BillingAccount]:
    """*account* and the accounts above it in the billing hierarchy, the payer last."""
    chain = [account]
    seen = {account.number}
    while (above := chain[-1].responsible_account) is not None and above not in seen:
        found = uow.accounts.get(above)
        if found is None:  # (past the rules)
            break
        chain.append(found)
        seen.add(above)
    return chain


def exposure(uow: UnitOfWork, payer: BillingAccount) -> Decimal:
    """The payer's exposure: balance, carried amount and pending charges of the payer and
    of every account it pays for (in its invoice currency, which theirs is)."""
    total = Decimal(0)
    for number in subtree(payer.number, uow.accounts.managed_by):
        member = payer if number == payer.number else uow.accounts.get(number)
        if member is not None:
            total += balances(uow, member)[0].amount + pending_total(uow, member).amount
    return total


def available_credit(uow: UnitOfWork, account: BillingAccount) -> Money | None:
    """What can still be charged to *account* before a credit limit on its chain is
    reached (never below zero), or None when no account of the chain has a limit."""
    chain = billing_chain(uow, account)
    limits = [a.credit_limit.amount for a in chain if a.credit_limit is not None]
    if not limits:
        return None
    left = min(limits) - exposure(uow, chain[-1])
    return Money(max(left, Decimal(0)), account.invoice_currency)


def credit_violations(uow: UnitOfWork, account: BillingAccount, amount: Money) -> list[Violation]:
    """``account.credit_limit_exceeded`` when *amount* more would take the exposure above
    the tightest credit limit on the account's chain (see the module's docstring)."""
    chain = billing_chain(uow, account)
    limited = [a for a in chain if a.credit_limit is not None]
    if not limited:
        return []
    before = exposure(uow, chain[-1])
    tightest = min(limited, key=lambda a: a.credit_limit.amount if a.credit_limit else 0)
    assert tightest.credit_limit is not None
    limit = tightest.credit_limit.amount
    if before + amount.amount <= limit:
        return []
    available = max(limit - before, Decimal(0))
    code = account.invoice_currency
    where = "" if tightest is account else f" (the limit of {tightest.number})"
    return [
        violation(
            "account.credit_limit_exceeded",
            "amount",
            f"{amount.amount} {code} is more than the {available} {code} of credit "
            f"left on {account.number}{where}",
            account=tightest.number,
            limit=str(limit),
            exposure=str(before),
            available=str(available),
            currency=code,
        )
    ]
