"""Use cases of pending charges and credit limits; see the facade's ``add_charge`` and
``charges``.

A charge queued with ``add_charge`` waits in the store until a bill run of its account's
cycle, on or after the charge's date, bills it:
:func:`custbill.billing.charges.charges_taken` gives a run the charges it takes, and
issuing the run marks each billed, once.

The credit a charge may take is checked by
:func:`custbill.service.accounting.credit_violations`.
"""

from __future__ import annotations

from datetime import date

from moneyed import Money

from custbill.model import AccountStatus, Charge, PaymentMode, Violation
from custbill.rules import violation
from custbill.rules.cards import card_violations
from custbill.rules.limits import MAX_TEXT_LENGTH, record_text_violations
from custbill.service._unit import Context, account_of, raise_if, record_event, require
from custbill.service.accounting import billing_chain, check_entry_amount, credit_violations
from custbill.storage.protocols import UnitOfWork


def add_charge(
    uow: UnitOfWork,
    ctx: Context,
    account_number: str,
    amount: Money,
    description: str,
    on: date,
) -> Charge:
    """Queue a charge; see :meth:`custbill.CustomerBilling.add_charge`."""
    require(description, str, "description")
    raise_if(record_text_violations([("description", description, MAX_TEXT_LENGTH)]))
    raise_if(card_violations([("description", description)]))
    account = account_of(uow, account_number)
    check_entry_amount(account, amount, on)
    found: list[Violation] = []
    if not description.strip():
        found.append(
            violation("charge.description_required", "description", "a charge needs a text")
        )
    if account.status is AccountStatus.DEACTIVATED:
        found.append(
            violation(
                "billing.charge_not_billable",
                "account",
                f"{account.number} is deactivated: no run bills it",
                account=account.number,
            )
        )
    payer = billing_chain(uow, account)[-1]  # (the account itself when nobody pays for it)
    free = [a.number for a in (account, payer) if a.payment_mode is PaymentMode.FREE]
    if free:
        found.append(
            violation(
                "charge.account_free",
                "account",
                f"{free[0]} is FREE: no invoice bills {account.number}",
                account=free[0],
            )
        )
    raise_if(found or credit_violations(uow, account, amount))
    stamp = ctx.stamp()
    charge = Charge(
        number=f"CH-{uow.next_number('charge'):06d}",
        account=account.number,
        amount=amount,
        description=description,
        on=on,
    )
    uow.ledger.add_charge(charge)
    record_event(uow, stamp, account.number, "charge", charge.number)
    uow.commit()
    return charge


def charges(uow: UnitOfWork, ctx: Context, account_number: str) -> tuple[Charge, ...]:
    """The account's charges, billed and pending, oldest first."""
    return uow.ledger.charges_of(account_of(uow, account_number).number)
