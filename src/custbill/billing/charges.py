"""The store's pending charges (:class:`~custbill.model.Charge`) in a bill run: which of
them a run takes, and the run's charges with them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date

from moneyed import Money

from custbill.billing.plan import EndOf, group_charges
from custbill.model import BillCycle, BillingAccount, Charge


def charges_taken(
    pending: Iterable[Charge],
    cycle: BillCycle,
    run_date: date,
    account: Callable[[str], BillingAccount | None],
    end_of: EndOf,
) -> tuple[Charge, ...]:
    """The *pending* charges the run of *cycle* on *run_date* bills: those dated on
    or before the run date, of accounts the run would accept a charge for (on the cycle,
    not deactivated, started, not ended, invoiced on an account it can bill).  The others wait."""
    taken: list[Charge] = []
    accepted: dict[str, bool] = {}
    for charge in pending:
        if charge.on > run_date:
            continue
        number = charge.account
        if number not in accepted:
            alone = {number: charge.amount}
            _, problems = group_charges(cycle, run_date, alone, account, end_of)
            accepted[number] = not problems
        if accepted[number]:
            taken.append(charge)
    return tuple(taken)


def with_stored(charges: Mapping[str, Money], stored: Sequence[Charge]) -> Mapping[str, Money]:
    """The caller's *charges* plus the *stored* ones, summed per account (*charges* itself
    when there are none stored).  A caller's charge in another currency than the account's
    stored ones is kept as it is: the plan refuses it (``billing.charge_currency_mismatch``).
    """
    if not stored:
        return charges
    merged = dict(charges.items())
    for charge in stored:
        current = merged.get(charge.account)
        if current is None:
            merged[charge.account] = charge.amount
        elif current.currency == charge.amount.currency:
            merged[charge.account] = current + charge.amount
    return merged
