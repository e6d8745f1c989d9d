"""Rules about changing the tenant's settings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from custbill.model import BillingAccount, Customer, Settings, Violation
from custbill.model.text import identity_key
from custbill.rules._support import violation


def check_settings(
    new: Settings,
    customers: Iterable[Customer],
    accounts: Iterable[BillingAccount],
) -> tuple[Violation, ...]:
    """Refuse settings that the stored customers and accounts contradict (``settings.in_use``).

    Reads every customer and account once; settings change rarely.  Each violation's
    ``params`` holds ``count`` and up to five ``examples``.
    """
    customers = [c for c in customers if not c.erased]
    accounts = list(accounts)
    by_number = {a.number: a for a in accounts}
    problems: dict[str, list[str]] = {}

    def note(setting: str, number: str) -> None:
        problems.setdefault(setting, []).append(number)

    if not new.allow_multi_customer_accounts:
        per_customer = Counter(a.customer for a in accounts)
        for customer, count in per_customer.items():
            if count > 1:
                note("allow_multi_customer_accounts", customer)
    for a in accounts:
        if a.responsible_account is not None and not new.enable_responsible_account_management:
            note("enable_responsible_account_management", a.number)
        if a.parent_account is not None:
            if not new.enable_account_hierarchy_management:
                note("enable_account_hierarchy_management", a.number)
            parent = by_number.get(a.parent_account)
            if (
                new.require_same_bill_cycle_for_account_hierarchy
                and parent is not None
                and parent.bill_cycle != a.bill_cycle
            ):
                note("require_same_bill_cycle_for_account_hierarchy", a.number)
        if a.invoice_type not in new.overall_invoice_distribution:
            note("overall_invoice_distribution", a.number)
        if not new.allow_links_across_customers:
            for above in (a.responsible_account, a.parent_account):
                linked = by_number.get(above) if above is not None else None
                if linked is not None and linked.customer != a.customer:
                    note("allow_links_across_customers", a.number)
                    break
    if new.unique_customer_names:
        names = Counter(identity_key(c.name) for c in customers)
        for c in customers:
            if names[identity_key(c.name)] > 1:
                note("unique_customer_names", c.number)
    return tuple(
        violation(
            "settings.in_use",
            setting,
            f"{len(numbers)} record(s) contradict this value, e.g. "
            f"{', '.join(sorted(numbers)[:5])}",
            count=len(numbers),
            examples=sorted(numbers)[:5],
        )
        for setting, numbers in problems.items()
    )
