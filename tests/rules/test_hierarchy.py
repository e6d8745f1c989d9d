"""Hierarchy walks: iterative, O(depth), safe on stored cycles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from custbill.rules.hierarchy import ancestors, descendants, would_cycle


def _up(parents: dict[str, str]):  # type: ignore[no-untyped-def]
    return parents.get


def test_ancestors_walk_to_the_top() -> None:
    """ancestors yields the start and everything above it, in order."""
    parents = {"c": "b", "b": "a"}
    assert list(ancestors("c", parents.get)) == ["c", "b", "a"]


def test_deep_chain_walk_is_a_loop() -> None:
    """A 200,000-deep chain is walked without recursion."""
    depth = 200_000
    parents = {str(i): str(i - 1) for i in range(1, depth)}
    assert would_cycle("0", str(depth - 1), parents.get)
    assert not would_cycle("x", str(depth - 1), parents.get)
    assert sum(1 for _ in ancestors(str(depth - 1), parents.get)) == depth


def test_cycle_check_costs_depth_not_size() -> None:
    """Only the target's ancestors are looked at, however many accounts exist."""
    parents = {str(i): "root" for i in range(10_000)}
    parents["leaf"] = "0"
    looked: list[str] = []

    def up(n: str) -> str | None:
        looked.append(n)
        return parents.get(n)

    assert not would_cycle("new", "leaf", up)
    assert looked == ["leaf", "0", "root"]


def test_stored_cycles_do_not_hang() -> None:
    """A cycle written past the rules ends the walk instead of looping forever."""
    parents = {"a": "b", "b": "a"}
    assert not would_cycle("x", "a", parents.get)
    assert would_cycle("a", "b", parents.get)


@given(st.lists(st.integers(0, 30), min_size=1, max_size=30))
def test_descendants_match_brute_force(links: list[int]) -> None:
    """descendants agrees with a brute-force closure over a random forest."""
    parent = {str(i + 1): str(p % (i + 1)) for i, p in enumerate(links)}
    children: dict[str, list[str]] = {}
    for c, p in parent.items():
        children.setdefault(p, []).append(c)
    for node in {"0", *parent}:
        expected = {c for c in parent if node in list(ancestors(c, parent.get))[1:]}
        assert descendants(node, lambda n: tuple(children.get(n, ()))) == expected
