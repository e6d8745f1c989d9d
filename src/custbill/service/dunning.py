"""Use cases of dunning: an account's overdue state, the steps due, a dunning run, and an
account reinstated when it pays; see the facade's ``dunning_state``, ``dunning_due`` and
``run_dunning``.

An account is dunned when ``dunning_enabled`` and its ``dunning_plan`` is set.  Its overdue
state comes from its own ledger (:func:`custbill.billing.dunning.overdue_on`): invoices
billed to it and debit adjustments owe, payments, credit adjustments and applied deposits
pay.  A step is *due* when the state reaches it (its days past due and any minimum) and it
was not applied in the same overdue spell (the spell is named by the due date of its oldest
overdue amount, ``since``): so a run applies each step once, and running again on the same
date applies nothing.  A payment that clears the overdue amount ends the spell; a later one
starts a new spell, dunned from the first step again.  When the plan ``reinstate_when_paid``,
the end of a spell returns an account dunning suspended or put in collection to ACTIVE:
at once for a payment or a credit adjustment, at the next run for a deposit applied.

Dunning acts on the account — its status — never on invoices or on periods already paid.
A status step is checked by the rules as an edit would be (an account cannot be
deactivated while it holds a deposit or is responsible for active accounts); a refused step
is reported and not recorded, so the next run tries it again.  Dunning moves an account
between SUSPENDED and PENDING_COLLECTION in one step, where an edit goes through ACTIVE
(:func:`custbill.service.status.set_status`).
"""

from __future__ import annotations

from datetime import date

from moneyed import Money

from custbill.billing.dunning import Credit, Overdue, Owed, overdue_on, step_reached, steps_reached
from custbill.errors import RuleViolationError
from custbill.model import AccountStatus, BillingAccount, DunningPlan
from custbill.model.dunning import (
    DunningDue,
    DunningNotice,
    DunningRefusal,
    DunningReport,
    DunningState,
)
from custbill.model.enums import AdjustmentKind, DepositAction, DunningAction
from custbill.service import logs
from custbill.service._unit import (
    Context,
    Stamp,
    account_of,
    record_event,
    require_date,
)
from custbill.service.status import set_status
from custbill.storage.protocols import UnitOfWork

#: The status each status-setting action gives an account.
STATUS_OF: dict[DunningAction, AccountStatus] = {
    DunningAction.SUSPEND: AccountStatus.SUSPENDED,
    DunningAction.PENDING_COLLECTION: AccountStatus.PENDING_COLLECTION,
    DunningAction.DEACTIVATE: AccountStatus.DEACTIVATED,
}


#: The statuses a payment that clears the overdue amount ends.
REINSTATABLE = (AccountStatus.SUSPENDED, AccountStatus.PENDING_COLLECTION)


def overdue_of(uow: UnitOfWork, account: BillingAccount, as_of: date) -> Overdue:
    """What of the account's own ledger is overdue on *as_of*."""
    ledger = uow.ledger
    number = account.number
    owed = [Owed(i.invoice_date, i.due_date, i.total.amount) for i in ledger.invoices_of(number)]
    credits = [Credit(p.received_on, p.amount.amount) for p in ledger.payments_of(number)]
    for adjustment in ledger.adjustments_of(number):
        if adjustment.kind is AdjustmentKind.DEBIT:
            owed.append(Owed(adjustment.on, adjustment.on, adjustment.amount.amount))
        else:
            credits.append(Credit(adjustment.on, adjustment.amount.amount))
    credits += [
        Credit(d.on, d.amount.amount)
        for d in ledger.deposits_of(number)
        if d.action is DepositAction.APPLIED
    ]
    return overdue_on(owed, credits, as_of)


def plan_of(uow: UnitOfWork, account: BillingAccount) -> DunningPlan | None:
    """The account's dunning plan, None when it is not dunned."""
    if not account.dunning_enabled or account.dunning_plan is None:
        return None
    return uow.catalog.get(DunningPlan, account.dunning_plan)


def state_of(uow: UnitOfWork, account: BillingAccount, as_of: date) -> DunningState:
    """The account's :class:`~custbill.model.dunning.DunningState` on *as_of*."""
    return _state(account, as_of, overdue_of(uow, account, as_of), plan_of(uow, account))


def _state(
    account: BillingAccount, as_of: date, overdue: Overdue, plan: DunningPlan | None
) -> DunningState:
    return DunningState(
        account=account.number,
        as_of=as_of,
        overdue=Money(overdue.amount, account.invoice_currency),
        since=overdue.since,
        days_overdue=overdue.days(as_of),
        step=None if plan is None else step_reached(plan, overdue, as_of),
    )


def dunning_state(uow: UnitOfWork, ctx: Context, number: str, as_of: date) -> DunningState:
    """See :meth:`custbill.CustomerBilling.dunning_state`."""
    require_date(as_of, "as_of")
    return state_of(uow, account_of(uow, number), as_of)


def _due_of(uow: UnitOfWork, account: BillingAccount, as_of: date) -> list[DunningDue]:
    """The steps of the account's plan due on *as_of*, in order."""
    plan = plan_of(uow, account)
    if plan is None or account.status is AccountStatus.DEACTIVATED:
        return []
    overdue = overdue_of(uow, account, as_of)
    reached = steps_reached(plan, overdue, as_of)
    if not reached:
        return []
    state = _state(account, as_of, overdue, plan)
    done = {
        n.step
        for n in uow.ledger.dunning_notices_of(account.number)
        if n.since == overdue.since and n.plan == plan.id
    }
    return [
        DunningDue(state=state, step=i, action=plan.steps[i].kind, text=plan.steps[i].action)
        for i in reached
        if i not in done
    ]


def dunning_due(uow: UnitOfWork, ctx: Context, as_of: date) -> tuple[DunningDue, ...]:
    """See :meth:`custbill.CustomerBilling.dunning_due`."""
    require_date(as_of, "as_of")
    return tuple(d for a in uow.accounts.all() for d in _due_of(uow, a, as_of))


def _apply(uow: UnitOfWork, ctx: Context, stamp: Stamp, due: DunningDue) -> DunningNotice:
    """Record *due*'s notice and set the status its action gives."""
    state = due.state
    account = account_of(uow, state.account)
    status = STATUS_OF.get(due.action)
    if status is not None:
        set_status(uow, ctx, stamp, account, status)
    assert state.since is not None
    assert account.dunning_plan is not None
    notice = DunningNotice(
        number=f"DN-{uow.next_number('dunning'):06d}",
        account=account.number,
        on=state.as_of,
        plan=account.dunning_plan,
        step=due.step,
        action=due.action,
        text=due.text,
        overdue=state.overdue,
        since=state.since,
        days_overdue=state.days_overdue,
        status=status,
    )
    uow.ledger.add_dunning_notice(notice)
    record_event(uow, stamp, account.number, "dunning", notice.number)
    return notice


def run_dunning(uow: UnitOfWork, ctx: Context, as_of: date) -> DunningReport:
    """See :meth:`custbill.CustomerBilling.run_dunning`."""
    require_date(as_of, "as_of")
    stamp = ctx.stamp()
    reinstated = _reinstate_all(uow, ctx, stamp, as_of)
    applied: list[DunningNotice] = []
    refused: list[DunningRefusal] = []
    for number in [a.number for a in uow.accounts.all() if a.dunning_enabled]:
        for due in _due_of(uow, account_of(uow, number), as_of):
            try:
                with uow.savepoint():
                    applied.append(_apply(uow, ctx, stamp, due))
            except RuleViolationError as error:
                refused.append(DunningRefusal(due=due, violations=error.violations))
                break  # (a later step of the account waits for this one)
    uow.commit()
    return logs.dunned(
        DunningReport(
            as_of=as_of, applied=tuple(applied), refused=tuple(refused), reinstated=reinstated
        )
    )


def reinstate_if_cleared(
    uow: UnitOfWork, ctx: Context, number: str, on: date, stamp: Stamp | None = None
) -> None:
    """Return the account to ACTIVE when a payment or credit on *on* cleared what was
    overdue, its plan reinstates, and its status is the one dunning last set."""
    account = account_of(uow, number)
    plan = plan_of(uow, account)
    if plan is None or not plan.reinstate_when_paid:
        return
    if account.status not in REINSTATABLE:
        return
    set_by_dunning = [n.status for n in uow.ledger.dunning_notices_of(number) if n.status]
    if not set_by_dunning or set_by_dunning[-1] is not account.status:
        return
    if overdue_of(uow, account, on).amount > 0:
        return
    set_status(uow, ctx, stamp or ctx.stamp(), account, AccountStatus.ACTIVE)


def _reinstate_all(uow: UnitOfWork, ctx: Context, stamp: Stamp, as_of: date) -> tuple[str, ...]:
    """Reinstate every account :func:`reinstate_if_cleared` would on *as_of*; their
    numbers."""
    reinstated = []
    for account in list(uow.accounts.all()):
        if account.dunning_enabled and account.status in REINSTATABLE:
            reinstate_if_cleared(uow, ctx, account.number, as_of, stamp)
            if account_of(uow, account.number).status is AccountStatus.ACTIVE:
                reinstated.append(account.number)
    return tuple(reinstated)


def dunning_notices(uow: UnitOfWork, ctx: Context, number: str) -> tuple[DunningNotice, ...]:
    """The account's dunning notices, oldest first."""
    return uow.ledger.dunning_notices_of(account_of(uow, number).number)
