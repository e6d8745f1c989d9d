"""What the SQL repositories write through: a database inside a transaction, whose inserts
of new rows wait and go in together, and whose savepoints are set only when needed.

Shared by the SQLite and PostgreSQL stores.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, NamedTuple, Protocol

from custbill.errors import StorageError

#: The longest wait a store takes, in seconds: SQLite keeps its busy timeout as a C int of
#: milliseconds (2**31 - 1 ms, some 24 days).
MAX_WAIT_SECONDS = (2**31 - 1) // 1000


#: Text no SQL store holds: NUL (PostgreSQL refuses it in text) and lone surrogates (UTF-8
#: cannot encode them).  custbill's rules refuse both in what it writes.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(params: Sequence[Any]) -> bool:
    """Whether one of *params* is text no SQL store holds: a read by it matches no row,
    and is answered without the database (where PostgreSQL would fail the transaction)."""
    return any(isinstance(p, str) and _UNSTORABLE.search(p) for p in params)


def is_seconds(value: object) -> bool:
    """Whether *value* is a wait a store can take: an int or a float (not a bool), from 0
    to :data:`MAX_WAIT_SECONDS` (which rules out NaN and infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 <= value <= MAX_WAIT_SECONDS


#: Runs one statement (``?`` placeholders) with its parameters; returns a cursor.
Execute = Callable[[str, Sequence[Any]], Any]

#: How many numbers one statement names (``number IN (…)``): under SQLite's default limit
#: of host parameters (32,766 since 3.32, 999 before) with room to spare.
NUMBERS_PER_STATEMENT = 900


def rows_naming(
    db: Database, sql: str, numbers: Collection[str], params: Sequence[Any] = ()
) -> Iterator[tuple[Any, ...]]:
    """The rows of the query *sql* for *numbers*, whose ``{numbers}`` stands for their
    placeholders (after those of *params*): :data:`NUMBERS_PER_STATEMENT` a statement.
    A number no store can hold (with a NUL or a lone surrogate: a caller's charge key, say)
    names no row and is left out, not sent."""
    ordered = sorted(n for n in numbers if not _UNSTORABLE.search(n))
    for start in range(0, len(ordered), NUMBERS_PER_STATEMENT):
        chunk = ordered[start : start + NUMBERS_PER_STATEMENT]
        yield from db.all(sql.format(numbers=", ".join("?" * len(chunk))), [*params, *chunk])


class Dialect(NamedTuple):
    """What differs between the SQL stores' statements."""

    #: Appended to a SELECT to hold its rows until the transaction ends (empty where the
    #: whole database is held by a writing transaction, as on SQLite).
    lock: str
    #: The same, skipping rows another transaction holds.
    lock_skipping: str
    #: A statement that holds, until the transaction ends, the right to walk a hierarchy
    #: and link accounts (None where a writing transaction holds the whole database).
    hierarchy_lock: str | None = None
    #: Ends a correlated subquery that must be run for each outer row, looking its rows up
    #: by an index, rather than read whole once and hashed (PostgreSQL's ``OFFSET 0``:
    #: without statistics its planner takes a word's matches for few and hashes them all;
    #: SQLite runs such a subquery for each row anyway).
    per_row: str = ""


class Database(Protocol):
    """What the repositories need of a connection inside a transaction."""

    def one(
        self, sql: str, params: Sequence[Any] = (), *, each_time: bool = False
    ) -> tuple[Any, ...] | None:
        """The first row of a query, or None.  With *each_time*, the query is planned for
        its values every time it runs (on PostgreSQL it is never prepared: a plan kept for
        other values of a search's key ranges may read a whole range)."""
        ...

    def all(
        self, sql: str, params: Sequence[Any] = (), *, each_time: bool = False
    ) -> list[tuple[Any, ...]]:
        """Every row of a query (*each_time* as for :meth:`one`)."""
        ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement; the number of rows it changed."""
        ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute a statement once per row of parameters."""
        ...

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched a batch at a time as they are read (the
        transaction must stay open until the last is read)."""
        ...

    def erased(self) -> None:
        """Personal data was erased in this transaction: once it commits, remove what the
        store's files still hold of the erased values, as far as the store can."""
        ...


#: Rows :class:`Writes` keeps waiting at most; more go in at once.
WAITING_ROWS = 20_000


class Savepoint:
    """A savepoint of a :class:`Writes`; see :meth:`Writes.savepoint`."""

    __slots__ = ("generation", "marks", "name", "set")

    def __init__(self, name: str, generation: int, marks: dict[str, int]) -> None:
        #: The SQL name of the savepoint.
        self.name = name
        #: The unit of work's generation it belongs to (a commit starts a new one).
        self.generation = generation
        #: How many rows of each insert statement were waiting when it was taken.
        self.marks = marks
        #: Whether the database has it (its ``SAVEPOINT`` statement was sent).
        self.set = False


class Writes:
    """A unit of work's database: inserts of new rows wait and go in together.

    :meth:`insert` keeps rows in memory; the rows waiting go in, one ``executemany`` per
    statement in the order the statements were first used, before any other statement
    runs, at :meth:`flush` (the unit of work flushes before it commits), and whenever
    ``WAITING_ROWS`` (20,000) are waiting.  Every read therefore sees every earlier write,
    and a batch of creations sends a handful of statements instead of four per creation.
    Nothing waits across units of work: :meth:`discard` drops what a unit left waiting.
    An insert the database refuses (say, a duplicate key) raises
    :class:`~custbill.StorageError` when its rows go in, and the unit of work does not
    commit.

    Savepoints are lazy, so that they cost nothing while only inserts happen (a batch of
    creations runs each creation in one): :meth:`savepoint` notes how many rows wait; the
    ``SAVEPOINT`` statement is sent only when something goes to the database, between the
    rows that waited before it and those that came after.  Going back to a savepoint that
    was never sent just drops the rows that came after it.
    """

    __slots__ = ("broken", "count", "db", "generation", "names", "unsent", "waiting")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.waiting: dict[str, list[Sequence[Any]]] = {}
        self.count = 0
        self.unsent: list[Savepoint] = []  # savepoints taken but not sent, oldest first
        self.generation = 0
        self.broken = False  # rows failed to go in: no savepoint taken before can be trusted
        self.names = itertools.count(1)

    def insert(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Insert *rows* with *sql*, now or later but before any other statement."""
        waiting = self.waiting.get(sql)
        if waiting is None:
            self.waiting[sql] = list(rows)
        else:
            waiting.extend(rows)
        self.count += len(rows)
        if self.count >= WAITING_ROWS:
            self.flush()

    def erased(self) -> None:
        """See ``Database.erased``."""
        self.db.erased()

    def flush(self) -> None:
        """Insert every waiting row, and set the savepoints taken between them."""
        if not self.waiting and not self.unsent:
            return
        waiting, unsent = self.waiting, self.unsent
        self.waiting, self.count, self.unsent = {}, 0, []
        sent = dict.fromkeys(waiting, 0)  # rows of each statement already sent
        try:
            for point in unsent:
                self._send(waiting, sent, point.marks)
                self.db.run(f"SAVEPOINT {point.name}")
                point.set = True
            self._send(waiting, sent, {sql: len(rows) for sql, rows in waiting.items()})
        except BaseException:
            self.broken = True
            raise

    def _send(
        self, waiting: dict[str, list[Sequence[Any]]], sent: dict[str, int], upto: dict[str, int]
    ) -> None:
        for sql, rows in waiting.items():
            end = upto.get(sql, 0)
            if end > sent[sql]:
                self.db.many(sql, rows[sent[sql] : end])
                sent[sql] = end

    def savepoint(self) -> Savepoint:
        """Take a savepoint (sent to the database with the next statement)."""
        marks = {sql: len(rows) for sql, rows in self.waiting.items()}
        point = Savepoint(f"custbill_{next(self.names)}", self.generation, marks)
        self.unsent.append(point)
        return point

    def release(self, point: Savepoint) -> None:
        """Keep what was written since *point*, and forget it."""
        if point.generation != self.generation:
            return  # committed since: nothing left to keep or forget
        if point.set:
            self.db.run(f"RELEASE SAVEPOINT {point.name}")
        elif point in self.unsent:
            self.unsent.remove(point)

    def rollback_to(self, point: Savepoint) -> None:
        """Undo what was written since *point*, and forget it.

        Raises:
            StorageError: rows written before *point* failed to go in, so the database
                cannot be put back as it was at *point*.
        """
        if point.generation != self.generation:
            return  # committed since: what was committed stays
        if point.set:
            self.waiting, self.count, self.unsent = {}, 0, []
            self.db.run(f"ROLLBACK TO SAVEPOINT {point.name}")
            self.db.run(f"RELEASE SAVEPOINT {point.name}")
            self.broken = False
            return
        if self.broken or point not in self.unsent:
            raise StorageError("earlier writes failed: the unit of work cannot go back")
        del self.unsent[self.unsent.index(point) :]
        for sql in list(self.waiting):
            rows = self.waiting[sql]
            del rows[point.marks.get(sql, 0) :]
            if not rows:
                del self.waiting[sql]
        self.count = sum(map(len, self.waiting.values()))

    def discard(self) -> None:
        """Forget the waiting rows and every savepoint (the transaction ended)."""
        self.waiting.clear()
        self.count = 0
        self.unsent.clear()
        self.generation += 1
        self.broken = False

    def one(
        self, sql: str, params: Sequence[Any] = (), *, each_time: bool = False
    ) -> tuple[Any, ...] | None:
        self.flush()
        return self.db.one(sql, params, each_time=each_time)

    def all(
        self, sql: str, params: Sequence[Any] = (), *, each_time: bool = False
    ) -> list[tuple[Any, ...]]:
        self.flush()
        return self.db.all(sql, params, each_time=each_time)

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.flush()
        return self.db.run(sql, params)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.flush()
        self.db.many(sql, rows)

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        self.flush()
        return self.db.stream(sql, params)
