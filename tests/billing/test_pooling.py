"""Usage pooling over the reporting hierarchy."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custbill as cb
from custbill.billing.pooling import allocate, subtree
from custbill.storage import MemoryStore
from tests.conftest import new_account, new_customer, rejected


def test_allocation_order_and_overage(billing: cb.CustomerBilling) -> None:
    """Root first, then breadth first by number; each takes what remains."""
    customer, root = billing.create_customer(new_customer(), new_account())
    b = billing.add_account(customer.number, new_account(parent_account=root.number))
    c = billing.add_account(customer.number, new_account(parent_account=root.number))
    d = billing.add_account(customer.number, new_account(parent_account=b.number))
    result = billing.pool_usage(
        root.number,
        Decimal(100),
        {root.number: Decimal(30), d.number: Decimal(50), c.number: Decimal(40)},
    )
    assert [(x.account, x.usage, x.allocated, x.overage) for x in result.allocations] == [
        (root.number, 30, 30, 0),
        (b.number, 0, 0, 0),
        (c.number, 40, 40, 0),
        (d.number, 50, 30, 20),
    ]
    assert result.remaining == 0
    assert result.to_records()[3]["overage"] == 20
    sub = billing.pool_usage(b.number, 10, {d.number: Decimal(4)})
    assert sub.remaining == 6


def test_usage_outside_the_subtree_is_refused(
    billing: cb.CustomerBilling, store: MemoryStore
) -> None:
    """Usage of an account outside the subtree, or negative amounts, are violations."""
    customer, root = billing.create_customer(new_customer(), new_account())
    _, other = billing.create_customer(new_customer(company_name="B"), new_account())
    rejected(
        store,
        lambda: billing.pool_usage(root.number, Decimal(1), {other.number: Decimal(1)}),
        "account.reference_unknown",
    )
    rejected(
        store, lambda: billing.pool_usage(root.number, Decimal(-1), {}), "billing.amount_invalid"
    )
    with pytest.raises(TypeError):
        billing.pool_usage(root.number, 1.5, {})  # type: ignore[arg-type]


@given(
    st.lists(st.integers(0, 20), max_size=25),
    st.lists(st.decimals(0, 100, places=2), min_size=26, max_size=26),
    st.decimals(0, 1000, places=2),
)
def test_pooling_conserves_usage(
    links: list[int], usages: list[Decimal], allowance: Decimal
) -> None:
    """Allocated + overage = usage per account; total allocated + remaining = allowance;
    nothing is allocated while an earlier account has overage."""
    children: dict[str, list[str]] = {}
    for i, parent in enumerate(links):
        children.setdefault(str(parent % (i + 1)), []).append(str(i + 1))
    order = subtree("0", lambda n: tuple(children.get(n, ())))
    usage = {n: usages[int(n)] for n in order}
    result = allocate("0", allowance, usage, lambda n: tuple(children.get(n, ())))
    assert [a.account for a in result.allocations] == order
    assert sum(a.allocated for a in result.allocations) + result.remaining == allowance
    short = False
    for a in result.allocations:
        assert a.allocated + a.overage == a.usage
        assert not (short and a.allocated > 0)
        short = short or a.overage > 0
