"""One SQLiteStore shared by the threads of a process: each unit of work runs on a
connection of its own, so a reading thread waits for no writing one (and a writer for no
reader), the writing threads queue on the process's lock, and a server that starts a
thread per request keeps a bounded number of connections.  (The threads once shared one
connection and took turns: a get_customer waited for a whole bill run's plan.)"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import custbill as cb
from custbill.storage import SQLiteStore
from custbill.storage.sqlite import IDLE_CONNECTIONS
from custbill.testing import facade_for
from tests.conftest import in_threads, new_account, new_customer

#: Seconds a thread is given to finish what must not wait for the other: generous, since
#: the failure this guards against is waiting until the other lets go (here, forever).
PROMPT_S = 20


def _open_files(path: Path) -> int:
    """How many of this process's file descriptors are open on the database file."""
    descriptors = "/proc/self/fd"
    count = 0
    for name in os.listdir(descriptors):
        try:
            count += os.readlink(os.path.join(descriptors, name)) == str(path)
        except OSError:
            continue
    return count


#: Requests a thread each, all at once, in the thread-per-request test: more than the
#: connections kept idle.
REQUESTS = 3 * IDLE_CONNECTIONS

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")


def _in_thread(work: Callable[[], object]) -> threading.Thread:
    """*work* started in a thread (a daemon: a test that fails leaves none waiting)."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_a_reading_thread_waits_for_no_writing_one(tmp_path: Path) -> None:
    """While one thread holds a writing unit of work open, another reads at once, and sees
    none of its uncommitted writes; once it commits, they are seen."""
    store = SQLiteStore(tmp_path / "t.db")
    billing = facade_for(store)
    kept, _ = billing.create_customer(new_customer(company_name="Kept"), new_account())
    writing, done = threading.Event(), threading.Event()

    def write() -> None:
        with store.unit_of_work() as unit:
            unit.customers.add(
                cb.Customer(
                    number="C-900",
                    default_account="A-1",
                    kind=cb.CustomerKind.COMPANY,
                    company_name="Pending",
                    primary_email="p@example.com",
                )
            )
            unit.customers.get("C-900")  # (the row goes to the database)
            writing.set()
            done.wait(PROMPT_S)
            unit.commit()

    writer = _in_thread(write)
    assert writing.wait(PROMPT_S)
    reader = _in_thread(lambda: billing.get_customer(kept.number))
    reader.join(PROMPT_S)
    assert not reader.is_alive(), "the reader waited for the writer"
    assert billing.search_customers("pending") == ()
    done.set()
    writer.join(PROMPT_S)
    assert [c.number for c in billing.search_customers("pending")] == ["C-900"]


def test_a_writing_thread_waits_for_no_reading_one(tmp_path: Path) -> None:
    """While one thread holds a reading unit of work open (a plan streaming its rows), another
    writes at once."""
    store = SQLiteStore(tmp_path / "t.db")
    billing = facade_for(store)
    billing.create_customer(new_customer(), new_account())
    reading, done = threading.Event(), threading.Event()

    def read() -> None:
        with store.unit_of_work(read_only=True) as unit:
            assert unit.customers.get("C-000001") is not None
            reading.set()
            done.wait(PROMPT_S)

    reader = _in_thread(read)
    assert reading.wait(PROMPT_S)
    writer = _in_thread(
        lambda: billing.create_customer(new_customer(company_name="Meanwhile"), new_account())
    )
    writer.join(PROMPT_S)
    assert not writer.is_alive(), "the writer waited for the reader"
    done.set()
    reader.join(PROMPT_S)
    assert len(billing.search_customers("meanwhile")) == 1


def test_writing_threads_queue_on_the_process_lock(tmp_path: Path) -> None:
    """Writers of one process take turns on its lock, not on SQLite's: with no busy
    timeout at all, none of them finds the file locked."""
    store = SQLiteStore(tmp_path / "t.db", busy_timeout=0)
    billing = facade_for(store)

    def create(thread: int) -> None:
        for i in range(25):
            billing.create_customer(new_customer(company_name=f"W{thread} {i}"), new_account())

    assert in_threads(create, 4) == []
    numbers = [c.number for c in billing.search_customers("w")]
    assert len(numbers) == len(set(numbers)) == 100


@needs_proc
def test_a_thread_per_request_keeps_a_bounded_number_of_connections(tmp_path: Path) -> None:
    """Threads that each read once, all at once, and end leave IDLE_CONNECTIONS
    connections open, and never more files open than units ran at once (SQLite keeps a
    closed connection's file open for the next while others hold the file); closing the
    store closes every connection, one still in use as its unit ends."""
    path = tmp_path / "t.db"
    store = SQLiteStore(path)
    billing = facade_for(store)
    customer, _ = billing.create_customer(new_customer(), new_account())
    together = threading.Barrier(REQUESTS)  # (a barrier serves again once passed)

    def request(_: int) -> None:
        with store.unit_of_work(read_only=True) as unit:
            together.wait()  # every request's unit is open at once
            assert unit.customers.get(customer.number) is not None

    for _ in range(5):
        assert in_threads(request, REQUESTS) == []
        assert _open_files(path) <= REQUESTS  # (not a connection per thread ever run)
        assert store._connections.get().idle() == IDLE_CONNECTIONS
    inside = threading.Event()
    leave = threading.Event()

    def hold() -> None:
        with store.unit_of_work(read_only=True):
            inside.set()
            leave.wait(PROMPT_S)

    holder = _in_thread(hold)
    assert inside.wait(PROMPT_S)
    store.close()
    assert _open_files(path) >= 1  # the one still in use
    leave.set()
    holder.join(PROMPT_S)
    assert _open_files(path) == 0
