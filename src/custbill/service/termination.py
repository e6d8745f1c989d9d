"""Use case of terminating ended accounts; see the facade's ``terminate_ended``.

An account's last day is its own ``end_date`` or its customer's, the earlier.  Bill runs
bill it for the last time in the run of its final period — the first bill date of its
cycle on or after its last day — and skip it after (``ended on …``).  Once its last day
has passed, :func:`terminate_ended` deactivates it; but only after that final run is
issued, so that the final period is billed: until then it is reported waiting.  A
deactivation the rules refuse (an account still responsible for active accounts, one
holding a deposit) is reported with its rule codes.  Accounts are tried again while some
are deactivated, so a responsible account ending with the accounts it manages goes after
them.  Running it again changes nothing.  The history of a deactivation gives, as its
reason, the one the facade was told or else ``ended on …``.
"""

from __future__ import annotations

from datetime import date

from custbill.billing.calendar import next_bill_date
from custbill.errors import RuleViolationError
from custbill.model import AccountStatus, BillCycle, BillingAccount
from custbill.model.termination import TerminationRefusal, TerminationReport, TerminationWait
from custbill.service import logs
from custbill.service._unit import Context, account_of, require_date
from custbill.service.ledger import ends_of
from custbill.service.status import set_status
from custbill.storage.protocols import UnitOfWork


def _final_run(uow: UnitOfWork, account: BillingAccount, end: date) -> date | None:
    """The date of the run that bills the account's final period, None when that run is
    issued (or no run could be: no cycle, no bill date before ``date.max``)."""
    cycle = uow.catalog.get(BillCycle, account.bill_cycle)
    if cycle is None:
        return None
    try:
        final = next_bill_date(cycle, end)
    except RuleViolationError:
        return None
    parts = uow.ledger.run_parts(cycle.id, final)
    issued = bool(parts) and len(parts) == parts[0].partitions
    return None if issued else final


def terminate_ended(uow: UnitOfWork, ctx: Context, as_of: date) -> TerminationReport:
    """See :meth:`custbill.CustomerBilling.terminate_ended`."""
    require_date(as_of, "as_of")
    stamp = ctx.stamp()
    end_of = ends_of(uow)
    ended: dict[str, date] = {}
    waiting: list[TerminationWait] = []
    for account in uow.accounts.all():
        end = end_of(account)
        if account.status is AccountStatus.DEACTIVATED or end is None or end >= as_of:
            continue
        final = _final_run(uow, account, end)
        if final is None:
            ended[account.number] = end
        else:
            waiting.append(TerminationWait(account=account.number, ended_on=end, final_run=final))
    terminated: list[str] = []
    refused: dict[str, TerminationRefusal] = {}
    left = list(ended)
    while left:
        refused = {}
        for number in left:
            try:
                with uow.savepoint():
                    account = account_of(uow, number)
                    why = stamp.reason or f"ended on {ended[number].isoformat()}"
                    ending = stamp._replace(reason=why)
                    set_status(uow, ctx, ending, account, AccountStatus.DEACTIVATED)
                terminated.append(number)
            except RuleViolationError as error:
                refused[number] = TerminationRefusal(
                    account=number, ended_on=ended[number], violations=error.violations
                )
        if len(refused) == len(left):  # nothing more gave way
            break
        left = list(refused)
    uow.commit()
    return logs.terminated(
        TerminationReport(
            as_of=as_of,
            terminated=tuple(sorted(terminated)),
            customers=_customers_ended(uow, terminated),
            waiting=tuple(waiting),
            refused=tuple(refused.values()),
        )
    )


def _customers_ended(uow: UnitOfWork, terminated: list[str]) -> tuple[str, ...]:
    """The customers of *terminated* accounts whose every account is now deactivated."""
    customers = sorted({account_of(uow, n).customer for n in terminated})
    return tuple(
        c
        for c in customers
        if all(
            account_of(uow, n).status is AccountStatus.DEACTIVATED
            for n in uow.accounts.of_customer(c)
        )
    )
