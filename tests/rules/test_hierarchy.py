"""Hierarchy walks: iterative, O(subtree), no recursion limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from custbill.rules.hierarchy import descendants


def test_deep_subtree_walk_is_a_loop() -> None:
    """A 200,000-deep chain is walked without recursion."""
    depth = 200_000
    children = {str(i): (str(i + 1),) for i in range(depth - 1)}
    assert len(descendants("0", lambda n: children.get(n, ()))) == depth - 1


@given(st.lists(st.integers(0, 30), min_size=1, max_size=30))
def test_descendants_match_brute_force(links: list[int]) -> None:
    """descendants agrees with a brute-force closure over a random forest."""
    parent = {str(i + 1): str(p % (i + 1)) for i, p in enumerate(links)}
    children: dict[str, list[str]] = {}
    for c, p in parent.items():
        children.setdefault(p, []).append(c)

    def above(node: str) -> set[str]:
        found = set()
        while node in parent:
            node = parent[node]
            found.add(node)
        return found

    for node in {"0", *parent}:
        expected = {c for c in parent if node in above(c)}
        assert descendants(node, lambda n: tuple(children.get(n, ()))) == expected
