"""Status changes the library makes itself — dunning's steps, reinstating an account that
paid, terminating an ended one — checked by the rules as an edit of the status would be."""

from __future__ import annotations

import attrs

from custbill.model import AccountStatus, BillingAccount
from custbill.rules import check_account, check_hierarchy
from custbill.rules.account import check_status_transition
from custbill.service._unit import Context, Stamp, customer_of, raise_if, record_changes
from custbill.service.deposits import deactivation_violations
from custbill.storage.protocols import UnitOfWork


def set_status(
    uow: UnitOfWork, ctx: Context, stamp: Stamp, account: BillingAccount, status: AccountStatus
) -> BillingAccount:
    """Give *account* *status* (without committing), with its history; RuleViolationError
    where an edit would be refused — but for the way through ACTIVE between SUSPENDED and
    PENDING_COLLECTION, which this takes in one step."""
    if account.status is status:
        return account
    after = attrs.evolve(account, status=status, version=account.version + 1)
    through = account
    if check_status_transition(account.status, status):  # not directly: through ACTIVE
        through = attrs.evolve(account, status=AccountStatus.ACTIVE)
    lookup = ctx.lookup(uow, stamp.at)
    raise_if(
        [
            *check_account(after, customer_of(uow, account.customer), lookup, before=through),
            *check_hierarchy(after, lookup, before=account),
            *deactivation_violations(uow, account, after),
        ]
    )
    uow.accounts.update(after)
    record_changes(uow, stamp, account.number, account, after)
    return after
