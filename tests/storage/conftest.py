"""What the multi-process tests of the SQL stores share: a store other processes can open,
named by a string, and a way to run one function in several processes at once."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import new_database


@pytest.fixture(params=["sqlite", "postgres"])
def store_name(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new empty SQL store, by name (a SQLite path or a PostgreSQL DSN); a test asking
    for it runs once for each."""
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    return new_database(request.getfixturevalue("postgres_dsn"))


def in_processes(function: Callable[..., Any], calls: list[tuple[Any, ...]]) -> list[Any]:
    """``function(*call)`` for every call, each in a process of its own, all at once (new
    interpreters, as on another machine); the results in the order of *calls*."""
    with multiprocessing.get_context("spawn").Pool(len(calls)) as pool:
        return pool.starmap(function, calls)
