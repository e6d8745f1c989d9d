"""Hostile input that once escaped the error contract: only CustbillError subclasses (or
TypeError for a value of the wrong type) come out of a public call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import custbill as cb
from custbill.serialization import from_dict, from_json
from custbill.simulation import load_scenario, parse_scenario
from custbill.storage import SQLiteStore, Store
from tests.conftest import ALL_ON, add_catalog, fixed_clock, new_account, new_customer


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deeply_nested_json_is_invalid_data(depth: int) -> None:
    """JSON nested past the interpreter's recursion limit is refused as invalid data."""
    with pytest.raises(cb.InvalidDataError, match="nested too deeply"):
        from_json(cb.Customer, "[" * depth + "]" * depth)
    nested: dict[str, object] = {}
    inner = nested
    for _ in range(depth // 10):
        inner["custom_fields"] = inner = {}
    with pytest.raises(cb.InvalidDataError):
        from_dict(cb.Customer, nested)


def test_a_database_path_with_a_nul_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(cb.StorageError, match="cannot open"):
        SQLiteStore(f"{tmp_path}/bad\x00name.db")


@pytest.fixture
def billing(make_store: Callable[[], Store]) -> Iterator[cb.CustomerBilling]:
    with cb.CustomerBilling(store=make_store(), settings=ALL_ON, clock=fixed_clock) as facade:
        add_catalog(facade)
        yield facade


def test_a_search_limit_beyond_64_bits_is_no_limit(billing: cb.CustomerBilling) -> None:
    """Every store answers a limit past any integer SQL takes as it answers no limit."""
    for name in ("Acme One", "Acme Two"):
        billing.create_customer(new_customer(company_name=name), new_account())
    everything = billing.search_customers("acme")
    assert len(everything) == 2
    for limit in (2**63, 2**70, 10**100):
        assert billing.search_customers("acme", limit=limit) == everything
        assert billing.search_accounts("acme", limit=limit) == billing.search_accounts("acme")
    assert billing.search_customers("acme", limit=1) == everything[:1]


def test_a_scenario_nested_too_deeply_is_invalid_data(tmp_path: Path) -> None:
    """The scenario loader refuses nesting past the recursion limit, parsed or in a file
    (found by the fuzz harness)."""
    deep: object = []
    for _ in range(5_000):
        deep = [deep]
    with pytest.raises(cb.InvalidDataError, match="nested too deeply"):
        parse_scenario({"customers": deep})
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(cb.InvalidDataError, match="nested too deeply"):
        load_scenario(path)
