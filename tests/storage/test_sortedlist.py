"""The bucketed SortedList, against sorted() and sortedcontainers as oracles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbill.storage import sortedlist
from custbill.storage.search import normalise
from custbill.storage.sortedlist import SortedList

words = st.text(alphabet="abcAB-é", max_size=4)


@pytest.fixture(autouse=True)
def _small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sortedlist, "LOAD", 4)  # split often, so every path runs


@given(
    st.lists(st.tuples(st.booleans(), words), max_size=200),
    words,
    st.sampled_from([None, normalise]),
)
def test_matches_sorted(operations: list[tuple[bool, str]], prefix: str, key: object) -> None:
    """Any sequence of adds and removes gives sorted()'s order and prefix ranges."""
    sort_key = key or (lambda v: v)
    listed = SortedList(key)  # type: ignore[arg-type]
    oracle: list[str] = []
    for add, value in operations:
        if add or value not in oracle:
            listed.add(value)
            oracle.append(value)
        else:
            listed.remove(value)
            oracle.remove(value)
        assert len(listed) == len(oracle)
    expected = sorted(oracle, key=sort_key)  # type: ignore[arg-type]
    assert [sort_key(v) for v in listed] == [sort_key(v) for v in expected]  # type: ignore[operator]
    assert sorted(listed) == sorted(oracle)
    p = sort_key(prefix)  # type: ignore[operator]
    assert sorted(listed.with_prefix(p)) == sorted(v for v in oracle if sort_key(v).startswith(p))  # type: ignore[operator]
    assert listed.has_prefix(p) == any(sort_key(v).startswith(p) for v in oracle)  # type: ignore[operator]
    assert [sort_key(v) for v in listed.from_key(p)] == [
        sort_key(v) for v in expected if sort_key(v) >= p
    ]  # type: ignore[operator]


def test_remove_missing_raises() -> None:
    """Removing what is not there is a ValueError, as for list."""
    listed = SortedList()
    listed.add("a")
    with pytest.raises(ValueError, match="not in the list"):
        listed.remove("b")


@given(
    st.lists(st.tuples(st.booleans(), words), max_size=200),
    words,
    st.sampled_from([None, normalise]),
)
def test_matches_sortedcontainers(
    operations: list[tuple[bool, str]], prefix: str, key: object
) -> None:
    """The same adds and removes leave the same sequence as sortedcontainers' SortedKeyList
    (the package whose layout SortedList takes), equal keys in the same order, and the
    same values from a key on."""
    from sortedcontainers import SortedKeyList

    sort_key = key or (lambda v: v)
    listed = SortedList(key)  # type: ignore[arg-type]
    oracle = SortedKeyList(key=sort_key)
    for add, value in operations:
        if add or value not in oracle:
            listed.add(value)
            oracle.add(value)
        else:
            listed.remove(value)
            oracle.remove(value)
    assert list(listed) == list(oracle)
    p = sort_key(prefix)  # type: ignore[operator]
    assert list(listed.from_key(p)) == list(oracle.irange_key(p))
