"""A SQL store made before a fork serves the parent and every child: a pre-fork server
(gunicorn with ``--preload``), a Celery prefork worker or a ``multiprocessing`` pool
started by fork makes the store once and uses it in each worker.  Each process opens its
own connection (``storage/_per_process.py``); before, the children talked to PostgreSQL
over the parent's socket and read each other's answers (the parent got a child's row)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator

import pytest

import custbill as cb
from custbill.storage import Store
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
