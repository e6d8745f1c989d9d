"""Rules about the billing (responsible) and reporting (parent) hierarchies.

Hierarchies may be arbitrarily deep, so every walk is a loop, never a recursion.  The cycle
check asks the store (:meth:`~custbill.rules.lookup.Lookup.in_chain`), which walks its own
compact links in O(depth), never O(accounts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

from custbill.model import AccountStatus, BillingAccount, NewAccount, Settings, Violation
from custbill.model.enums import Hierarchy
from custbill.model.references import CustomerType
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


@attrs.frozen
class _Link:
    """What differs between the two hierarchies' link checks."""

    hierarchy: Hierarchy
    #: The account's field holding the link, and what the linked account is called.
    field: str
    role: str
    #: The setting that allows links, and the code when it is off.
    setting: str
    disabled: str
    #: The statuses a newly linked account may have, and the code when it has another.
    statuses: frozenset[AccountStatus]
    status_code: str
    #: The code when the linked account is on another bill cycle, and whether the two must
    #: share it under *settings*.
    cycle_code: str
    same_cycle: Callable[[Settings], bool]
    #: Whether the two must share the invoice currency.
    same_currency: bool
    #: What a link that closes a loop is told.
    loop: str


_RESPONSIBLE = _Link(
    hierarchy="responsible",
    field="responsible_account",
    role="responsible",
    setting="enable_responsible_account_management",
    disabled="hierarchy.responsible_disabled",
    statuses=frozenset({AccountStatus.ACTIVE}),
    status_code="hierarchy.responsible_not_active",
    cycle_code="hierarchy.responsible_bill_cycle_mismatch",
    same_cycle=lambda _: True,
    same_currency=True,
    loop="is already invoiced on this account",
)
_PARENT = _Link(
    hierarchy="parent",
    field="parent_account",
    role="parent",
    setting="enable_account_hierarchy_management",
    disabled="hierarchy.parent_disabled",
    statuses=PARENT_STATUSES,
    status_code="hierarchy.parent_status_ineligible",
    cycle_code="hierarchy.parent_bill_cycle_mismatch",
    same_cycle=lambda settings: settings.require_same_bill_cycle_for_account_hierarchy,
    same_currency=False,
    loop="is already below this account",
)


def check_responsible_link(
    account: NewAccount | BillingAccount, lookup: Lookup, *, before: BillingAccount | None
) -> tuple[Violation, ...]:
    """A responsible account is allowed, exists, is ACTIVE, shares bill cycle and invoice
    currency, and is not below the account in the billing hierarchy."""
    return _check_link(_RESPONSIBLE, account, lookup, before=before)


def check_parent_link(
    account: NewAccount | BillingAccount, lookup: Lookup, *, before: BillingAccount | None
) -> tuple[Violation, ...]:
    """A parent account is allowed, exists, has an eligible status, shares the bill cycle
    when the setting asks, and is not below the account in the reporting hierarchy."""
    return _check_link(_PARENT, account, lookup, before=before)


def _check_link(
    link: _Link,
    account: NewAccount | BillingAccount,
    lookup: Lookup,
    *,
    before: BillingAccount | None,
) -> tuple[Violation, ...]:
    """Check the account's link in *link*'s hierarchy, when it or what it depends on (bill
    cycle, invoice currency) changed."""
    target_number: str | None = getattr(account, link.field)
    if target_number is None:
        return ()
    watched = (link.field, "bill_cycle", "invoice_currency")
    if not _changed(account, before, *watched[: 3 if link.same_currency else 2]):
        return ()
    link_changed = before is None or getattr(before, link.field) != target_number
    path, role = link.field, link.role
    if link_changed and not getattr(lookup.settings, link.setting):
        return (violation(link.disabled, path, f"{link.setting} is off"),)
    if target_number == account.number:
        return (
            violation(
                "hierarchy.cycle",
                path,
                f"an account cannot be its own {role} account",
                hierarchy=link.hierarchy,
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
    found = list(_fit(link, account, target, link_changed, lookup.settings))
    if link_changed:
        found.extend(_across_customers(link, account, target, lookup))
    # linking a stored account under an account below it closes a loop; a new account has
    # nothing below it
    if (
        link_changed
        and before is not None
        and lookup.in_chain(before.number, target_number, link.hierarchy)
    ):
        found.append(
            violation(
                "hierarchy.cycle", path, f"{target_number} {link.loop}", hierarchy=link.hierarchy
            )
        )
    return tuple(found)


def _fit(
    link: _Link,
    account: NewAccount | BillingAccount,
    target: BillingAccount,
    link_changed: bool,
    settings: Settings,
) -> Iterator[Violation]:
    """What is wrong with *target* as the account *link*s *account* to: its status (for a
    new link), its bill cycle, its invoice currency."""
    path, role = link.field, link.role
    if link_changed and target.status not in link.statuses:
        yield violation(
            link.status_code,
            path,
            f"{role} account {target.number} is {target.status.value}",
            status=target.status.value,
        )
    if link.same_cycle(settings) and target.bill_cycle != account.bill_cycle:
        yield violation(
            link.cycle_code,
            path,
            f"{role} account {target.number} is on bill cycle "
            f"{target.bill_cycle!r}, this account on {account.bill_cycle!r}",
            **{role: target.number},
        )
    if link.same_currency and target.invoice_currency != account.invoice_currency:
        yield violation(
            "hierarchy.responsible_currency_mismatch",
            path,
            f"{role} account {target.number} invoices in {target.invoice_currency}, "
            f"this account in {account.invoice_currency}",
            **{role: target.number},
        )


def _across_customers(
    link: _Link, account: NewAccount | BillingAccount, target: BillingAccount, lookup: Lookup
) -> tuple[Violation, ...]:
    """A link to an account of another customer needs the setting on, and a customer type
    of the linked account's customer (if it has one) that takes links across customers."""
    customer = getattr(account, "customer", None)  # (a NewAccount has no customer yet)
    if customer is None or customer == target.customer:
        return ()
    if not lookup.settings.allow_links_across_customers:
        why = "allow_links_across_customers is off"
    else:
        owner = lookup.customer(target.customer)
        type_id = None if owner is None else owner.customer_type
        kind = None if type_id is None else lookup.reference(CustomerType, type_id)
        if kind is None or kind.links_across_customers:
            return ()
        why = f"{target.customer} is a {kind.name} customer, which takes no linked accounts"
    return (
        violation(
            "hierarchy.cross_customer_link_not_allowed",
            link.field,
            f"{link.role} account {target.number} belongs to another customer: {why}",
            customer=target.customer,
        ),
    )


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
    if not _changed(account, before, "bill_cycle", "invoice_currency", "status"):
        return ()  # (nothing the accounts below depend on: they are not read)
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
