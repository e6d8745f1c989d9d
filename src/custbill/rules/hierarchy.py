"""Rules about the billing (responsible) and reporting (parent) hierarchies.

Hierarchies may be arbitrarily deep, so every walk is a loop, never a recursion.  The cycle
check asks the store (:meth:`~custbill.rules.lookup.Lookup.in_chain`), which walks its own
compact links in O(depth), never O(accounts).
"""

from __future__ import annotations

from collections.abc import Callable

from custbill.model import AccountStatus, BillingAccount, NewAccount, Violation
from custbill.rules._support import violation
from custbill.rules.lookup import Lookup

#: Statuses a parent account may have.
PARENT_STATUSES = frozenset(
    {AccountStatus.ACTIVE, AccountStatus.SUSPENDED, AccountStatus.PENDING_COLLECTION}
)


def descendants(start: str, down: Callable[[str], tuple[str, ...]]) -> set[str]:
    """Every account below *start* (not *start* itself), following *down*."""
    found: set[str] = set()
    stack = list(down(start))
    while stack:
        number = stack.pop()
        if number not in found:
            found.add(number)
            stack.extend(down(number))
    return found


def check_hierarchy(
    account: NewAccount | BillingAccount,
    lookup: Lookup,
    *,
    before: BillingAccount | None = None,
) -> tuple[Violation, ...]:
    """Check the account's responsible and parent links, and what its edit does to accounts
    linked below it."""
    if before is None and account.responsible_account is None and account.parent_account is None:
        return ()  # a new account without links: nothing to check
    return (
        *check_responsible_link(account, lookup, before=before),
        *check_parent_link(account, lookup, before=before),
        *check_dependents(account, lookup, before=before),
    )


def _changed(
    account: NewAccount | BillingAccount, before: BillingAccount | None, *fields: str
) -> bool:
    return before is None or any(getattr(account, f) != getattr(before, f) for f in fields)


def check_responsible_link(
    account: NewAccount | BillingAccount, lookup: Lookup, *, before: BillingAccount | None
) -> tuple[Violation, ...]:
    """A responsible account is allowed, exists, is ACTIVE, shares bill cycle and invoice
    currency, and is not below the account in the billing hierarchy."""
    target_number = account.responsible_account
    if target_number is None:
        return ()
    link_changed = before is None or before.responsible_account != target_number
    if not _changed(account, before, "responsible_account", "bill_cycle", "invoice_currency"):
        return ()
    path = "responsible_account"
    if link_changed and not lookup.settings.enable_responsible_account_management:
        return (
            violation(
                "hierarchy.responsible_disabled",
                path,
                "enable_responsible_account_management is off",
            ),
        )
    if target_number == account.number:
        return (
            violation(
                "hierarchy.cycle",
                path,
                "an account cannot be responsible for itself",
                hierarchy="responsible",
            ),
        )
    target = lookup.account(target_number)
    if target is None:
        return (
            violation(
                "account.reference_unknown",
                path,
                f"no account {target_number!r}",
                kind="account",
                id=target_number,
            ),
        )
    found = []
    if link_changed and target.status is not AccountStatus.ACTIVE:
        found.append(
            violation(
                "hierarchy.responsible_not_active",
                path,
                f"responsible account {target.number} is {target.status.value}",
                status=target.status.value,
            )
        )
    if target.bill_cycle != account.bill_cycle:
        found.append(
            violation(
                "hierarchy.responsible_bill_cycle_mismatch",
                path,
                f"responsible account {target.number} is on bill cycle "
                f"{target.bill_cycle!r}, this account on {account.bill_cycle!r}",
                responsible=target.number,
            )
        )
    if target.invoice_currency != account.invoice_currency:
        found.append(
            violation(
                "hierarchy.responsible_currency_mismatch",
                path,
                f"responsible account {target.number} invoices in "
                f"{target.invoice_currency}, this account in "
                f"{account.invoice_currency}",
                responsible=target.number,
            )
        )
    # linking a stored account under one of its own managed accounts closes a loop; a new
    # account has nothing below it
    if (
        link_changed
        and before is not None
        and lookup.in_chain(before.number, target_number, "responsible")
    ):
        found.append(
            violation(
                "hierarchy.cycle",
                path,
                f"{target_number} is already invoiced on this account",
                hierarchy="responsible",
            )
        )
    return tuple(found)


def check_parent_link(
    account: NewAccount | BillingAccount, lookup: Lookup, *, before: BillingAccount | None
) -> tuple[Violation, ...]:
    """A parent account is allowed, exists, has an eligible status, shares the bill cycle
    when the setting asks, and is not below the account in the reporting hierarchy."""
    target_number = account.parent_account
    if target_number is None:
        return ()
    link_changed = before is None or before.parent_account != target_number
    if not _changed(account, before, "parent_account", "bill_cycle"):
        return ()
    path = "parent_account"
    settings = lookup.settings
    if link_changed and not settings.enable_account_hierarchy_management:
        return (
            violation(
                "hierarchy.parent_disabled", path, "enable_account_hierarchy_management is off"
            ),
        )
    if target_number == account.number:
        return (
            violation(
                "hierarchy.cycle", path, "an account cannot be its own parent", hierarchy="parent"
            ),
        )
    target = lookup.account(target_number)
    if target is None:
        return (
            violation(
                "account.reference_unknown",
                path,
                f"no account {target_number!r}",
                kind="account",
                id=target_number,
            ),
        )
    found = []
    if link_changed and target.status not in PARENT_STATUSES:
        found.append(
            violation(
                "hierarchy.parent_status_ineligible",
                path,
                f"parent account {target.number} is {target.status.value}",
                status=target.status.value,
            )
        )
    if (
        settings.require_same_bill_cycle_for_account_hierarchy
        and target.bill_cycle != account.bill_cycle
    ):
        found.append(
            violation(
                "hierarchy.parent_bill_cycle_mismatch",
                path,
                f"parent account {target.number} is on bill cycle "
                f"{target.bill_cycle!r}, this account on {account.bill_cycle!r}",
                parent=target.number,
            )
        )
    if (
        link_changed
        and before is not None
        and lookup.in_chain(before.number, target_number, "parent")
    ):
        found.append(
            violation(
                "hierarchy.cycle",
                path,
                f"{target_number} is already below this account",
                hierarchy="parent",
            )
        )
    return tuple(found)


def check_dependents(
    account: NewAccount | BillingAccount, lookup: Lookup, *, before: BillingAccount | None
) -> tuple[Violation, ...]:
    """An edit keeps the accounts linked below this one valid.

    Managed accounts must keep sharing bill cycle and invoice currency; children must keep
    sharing the bill cycle when the setting requires it; an account is deactivated only
    after every account it is responsible for or parent of.
    """
    if before is None or not isinstance(account, BillingAccount):
        return ()
    found: list[Violation] = []
    managed = [
        a for n in lookup.managed_accounts(account.number) if (a := lookup.account(n)) is not None
    ]
    children = [
        a for n in lookup.child_accounts(account.number) if (a := lookup.account(n)) is not None
    ]
    if account.bill_cycle != before.bill_cycle:
        found.extend(
            violation(
                "hierarchy.responsible_bill_cycle_mismatch",
                "bill_cycle",
                f"managed account {m.number} stays on bill cycle {m.bill_cycle!r}",
                managed=m.number,
            )
            for m in managed
            if m.bill_cycle != account.bill_cycle
        )
        if lookup.settings.require_same_bill_cycle_for_account_hierarchy:
            found.extend(
                violation(
                    "hierarchy.parent_bill_cycle_mismatch",
                    "bill_cycle",
                    f"child account {c.number} stays on bill cycle {c.bill_cycle!r}",
                    child=c.number,
                )
                for c in children
                if c.bill_cycle != account.bill_cycle
            )
    if account.invoice_currency != before.invoice_currency:
        found.extend(
            violation(
                "hierarchy.responsible_currency_mismatch",
                "invoice_currency",
                f"managed account {m.number} invoices in {m.invoice_currency}",
                managed=m.number,
            )
            for m in managed
            if m.invoice_currency != account.invoice_currency
        )
    if (
        account.status is AccountStatus.DEACTIVATED
        and before.status is not AccountStatus.DEACTIVATED
    ):
        active = sorted(
            d.number for d in (*managed, *children) if d.status is not AccountStatus.DEACTIVATED
        )
        if active:
            found.append(
                violation(
                    "hierarchy.has_active_dependents",
                    "status",
                    f"deactivate {', '.join(active)} first",
                    dependents=active,
                )
            )
    return tuple(found)
