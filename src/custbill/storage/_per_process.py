"""A store's connection, opened again by a process forked from the one that opened it.

A pre-fork server (gunicorn with ``--preload``), a Celery prefork worker or a
``multiprocessing`` pool started by *fork* makes the store before the fork and uses it in
every child.  A child must not use the parent's connection: the socket to PostgreSQL is the
same one, so two processes talking over it read each other's answers (the parent once
read a child's answer as its row), and SQLite's file locks and log index belong to the
process that opened the file.  :class:`PerProcess` gives each process its own.

A memory store has nothing to open again: a child holds a copy of it, and what the child
writes no other process sees.  :class:`MadeIn` warns the child that writes to one.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    """A resource for the calling process: the one *open_one* opened when this was made,
    in that process, and a new one in a process forked from it, opened on its first
    :meth:`get`.

    The inherited resource is kept, never used nor closed, in the child: closing it there
    would end the parent's session (PostgreSQL) or release what the parent holds (SQLite).
    The lock that guards opening is taken only by a forked process opening its own, never
    in the process that opened the first, so a child of that process never inherits it
    held by a thread that did not come along.
    """

    __slots__ = ("_inherited", "_lock", "_open", "_pid", "_value")

    def __init__(self, open_one: Callable[[], T]) -> None:
        self._open = open_one
        self._value = open_one()
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._inherited: list[T] = []

    def get(self) -> T:
        """This process's resource."""
        if self._pid == os.getpid():  # the common case: the process that opened it
            return self._value
        with self._lock:
            if self._pid != os.getpid():
                self._inherited.append(self._value)
                self._value = self._open()
                self._pid = os.getpid()
            return self._value

    def opened_here(self) -> T | None:
        """This process's resource if it has opened one, else None: what a store closes
        (a child that never used the store has nothing of its own to close)."""
        return self._value if self._pid == os.getpid() else None


class MadeIn:
    """The process an in-process store was made in, so that a process forked from it that
    writes to its copy is told, once, that no other process sees the write.

    A warning (``RuntimeWarning``) rather than an error: a child may mean to work on its
    own copy (scenarios simulated side by side from one prepared store), and a host that
    does can filter the warning by its message, which starts ``"a MemoryStore made in
    process"``.
    """

    __slots__ = ("_pid", "_warned")

    def __init__(self) -> None:
        self._pid = self._warned = os.getpid()

    def check_write(self) -> None:
        """Warn when the calling process is not the one the store was made in, the first
        time it writes."""
        pid = os.getpid()
        if pid in (self._pid, self._warned):  # the common case: the process that made it
            return
        self._warned = pid
        warnings.warn(
            f"a MemoryStore made in process {self._pid} is written in process {pid}, which "
            "holds a copy of it: no other process sees this write (share records between "
            "processes through SQLiteStore or PostgresStore)",
            RuntimeWarning,
            stacklevel=2,
        )
