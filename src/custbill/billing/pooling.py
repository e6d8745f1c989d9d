"""Usage pooling over the reporting hierarchy."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal

from custbill.model.billing import PoolAllocation, PoolResult


def subtree(root: str, children: Callable[[str], tuple[str, ...]]) -> list[str]:
    """*root* and every account below it, breadth first, each level's children by number."""
    order = [root]
    seen = {root}
    queue = deque([root])
    while queue:
        for child in sorted(children(queue.popleft())):
            if child not in seen:
                seen.add(child)
                order.append(child)
                queue.append(child)
    return order


def allocate(
    root: str,
    allowance: Decimal,
    usage: Mapping[str, Decimal],
    children: Callable[[str], tuple[str, ...]],
) -> PoolResult:
    """Allocate *allowance* across the subtree of *root*, in the order of ``subtree``.

    Each account in turn takes as much of what remains as its usage needs; what it cannot
    get is its overage.  Accounts without usage are listed with zeros.  The caller checks
    that every account in *usage* is in the subtree and that amounts are not negative.
    """
    remaining = allowance
    allocations = []
    for number in subtree(root, children):
        used = usage.get(number, Decimal(0))
        allocated = min(used, remaining)
        remaining -= allocated
        allocations.append(
            PoolAllocation(
                account=number, usage=used, allocated=allocated, overage=used - allocated
            )
        )
    return PoolResult(
        root=root, allowance=allowance, allocations=tuple(allocations), remaining=remaining
    )
