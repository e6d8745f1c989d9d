"""A SQL store made before a fork serves the parent and every child: a pre-fork server
(gunicorn with ``--preload``), a Celery prefork worker or a ``multiprocessing`` pool
started by fork makes the store once and uses it in each worker.  Each process opens its
own connection (``storage/_per_process.py``); before, the children talked to PostgreSQL
over the parent's socket and read each other's answers (the parent got a child's row).
A memory store cannot be shared so: a child holds a copy, and its first write warns."""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterator

import pytest

import custbill as cb
from custbill.storage import MemoryStore, Store
from custbill.storage._per_process import PerProcess
from tests.conftest import new_account, new_customer, standard_facade

#: The facade the forked workers inherit (set before the fork).
_INHERITED: list[cb.CustomerBilling] = []

#: Reads and writes each side makes: enough for the parent and three children to talk to
#: the database at the same time.
CALLS = 60


def _in_child(task: int, numbers: list[str]) -> tuple[list[tuple[str, str]], str, int]:
    """In a forked worker: read customers (what was asked, what came back), create one,
    and say which process did it."""
    billing = _INHERITED[0]
    read = [(n, billing.get_customer(n).number) for n in numbers for _ in range(3)]
    made, _ = billing.create_customer(new_customer(company_name=f"Child {task}"), new_account())
    return read, made.number, os.getpid()


@pytest.fixture
def billing(
    make_store: Callable[[], Store], request: pytest.FixtureRequest
) -> Iterator[cb.CustomerBilling]:
    if request.node.callspec.params["make_store"] == "memory":
        pytest.skip("the memory store serves one process")
    with standard_facade(make_store()) as facade:
        yield facade


def test_a_store_made_before_a_fork_serves_every_process(billing: cb.CustomerBilling) -> None:
    numbers = [
        billing.create_customer(new_customer(company_name=f"Parent {i}"), new_account())[0].number
        for i in range(6)
    ]
    _INHERITED[:] = [billing]
    try:
        with multiprocessing.get_context("fork").Pool(3) as pool:
            waiting = pool.starmap_async(_in_child, [(t, numbers) for t in range(12)])
            for i in range(CALLS):  # the parent keeps using its connection meanwhile
                number = numbers[i % len(numbers)]
                assert billing.get_customer(number).number == number
            results = waiting.get(timeout=120)
    finally:
        _INHERITED.clear()
    for read, _, _ in results:
        assert all(asked == got for asked, got in read)
    assert len({pid for _, _, pid in results} - {os.getpid()}) >= 2  # children did the work
    made = [number for _, number, _ in results]
    assert len(set(made)) == len(made)
    found = billing.search_customers("child")
    assert sorted(c.number for c in found) == sorted(made)
    assert billing.get_customer(numbers[0]).number == numbers[0]  # the parent's still works


_RESOURCES: list[PerProcess[int]] = []


def _value_in_child() -> tuple[int | None, int, int, int]:
    resource = _RESOURCES[0]
    before = resource.opened_here()  # nothing of its own yet
    return before, resource.get(), resource.get(), os.getpid()


def test_a_forked_process_opens_its_own() -> None:
    """PerProcess opens a resource again in a forked child (once), and the parent keeps
    its own."""
    resource = PerProcess(os.getpid)  # (the resource: the pid of the process that opened it)
    _RESOURCES[:] = [resource]
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            before, first, again, child = pool.apply(_value_in_child)
    finally:
        _RESOURCES.clear()
    assert before is None
    assert first == again == child != os.getpid()
    assert resource.get() == resource.opened_here() == os.getpid()


def _close_in_child() -> int:
    _INHERITED[0].close()  # a child that never used the store has nothing to close
    return os.getpid()


def test_a_child_closing_the_store_leaves_the_parent_connected(
    billing: cb.CustomerBilling,
) -> None:
    """Closing the store in a forked process that never used it closes nothing of the
    parent's (closing the inherited pool would end the parent's sessions)."""
    customer, _ = billing.create_customer(new_customer(), new_account())
    _INHERITED[:] = [billing]
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            assert os.getpid() not in pool.starmap(_close_in_child, [()] * 4)
    finally:
        _INHERITED.clear()
    for _ in range(CALLS):
        assert billing.get_customer(customer.number) == customer


def _write_in_child(task: int, number: str) -> tuple[list[str], list[str], bool]:
    """In a forked worker holding a copy of a memory store: read (no warning), write
    twice (warned once), and say what it saw."""
    billing = _INHERITED[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read = billing.get_customer(number).number == number
        before = [str(w.message) for w in caught]
        for i in range(2):
            billing.create_customer(new_customer(company_name=f"Child {task} {i}"), new_account())
        after = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return before, after, read


def test_a_forked_copy_of_a_memory_store_warns_on_its_first_write() -> None:
    """A child forked from a process that made a memory store holds a copy: its first
    write warns, once, that no other process sees it; reads do not warn, and the parent's
    writes never do.  (Each worker of a pre-fork server silently kept records of its own.)"""
    with standard_facade(MemoryStore()) as billing:
        customer, _ = billing.create_customer(new_customer(), new_account())
        _INHERITED[:] = [billing]
        try:
            with multiprocessing.get_context("fork").Pool(1) as pool:
                before, after, read = pool.apply(_write_in_child, (1, customer.number))
        finally:
            _INHERITED.clear()
        assert read and before == []
        assert len(after) == 1, after
        assert after[0].startswith(f"a MemoryStore made in process {os.getpid()} is written")
        assert billing.search_customers("child") == ()  # the copy's writes stayed there
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            billing.create_customer(new_customer(company_name="Parent"), new_account())
