"""custbill's errors.  Every one derives from :class:`CustbillError`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from custbill.model.text import SHOWN_LENGTH, printable
from custbill.model.values import Violation


class CustbillError(Exception):
    """Base class of every error custbill raises on purpose.

    Its message prints whole, whatever a caller passed: each of its lines is
    :func:`~custbill.model.text.printable` (control characters and lone surrogates shown
    as escapes), the line breaks between them kept, and a line longer than
    :data:`~custbill.model.text.SHOWN_LENGTH` characters shows its start and its end (a
    megabyte key makes no megabyte message).  The attributes an error names values
    by (``ConflictError.number``, ``NotFoundError.key``) keep them as given.  Every error
    pickles with its message and attributes, so one raised in a worker process arrives
    whole where a pool or a job queue hands it back.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(_printable_lines(a) if isinstance(a, str) else a for a in args))

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its message and attributes, rebuilt without calling __init__ (whose
        # arguments differ by class): an error raised in a worker process reaches the
        # process that waits for it (multiprocessing, Celery, RQ, Dask) whole.
        return (_restored, (type(self), self.args, self.__dict__))


def _restored(cls: type[CustbillError], args: tuple[object, ...], state: dict[str, Any]) -> Any:
    """An error of *cls* with the message *args* and the attributes *state*."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


def _printable_lines(message: str) -> str:
    if len(message) <= SHOWN_LENGTH and message.isprintable():  # the common case
        return message
    return "\n".join(map(printable, message.split("\n")))


#: The most violations an error message lists; it says how many more there were.
MAX_LISTED_VIOLATIONS = 20


class RuleViolationError(CustbillError, ValueError):
    """An operation broke one or more rules; nothing was changed.

    ``violations`` holds every broken rule of the operation, not just the first.  The
    message's first line says how many there are; then one line each for the first
    ``MAX_LISTED_VIOLATIONS`` (20), and a last line says how many more there were.
    """

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        count = len(self.violations)
        listed = self.violations[:MAX_LISTED_VIOLATIONS]
        lines = [f"{count:,} rule violation{'' if count == 1 else 's'}:"]
        lines += [f"  {v}" for v in listed]
        if count > len(listed):
            lines.append(f"  and {count - len(listed):,} more")
        super().__init__("\n".join(lines))

    @property
    def codes(self) -> frozenset[str]:
        """The distinct codes of the violations."""
        return frozenset(v.code for v in self.violations)


class NotFoundError(CustbillError, LookupError):
    """No customer, account or catalog entry has the number or id asked for."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class ConflictError(CustbillError):
    """A write was based on state that is no longer the stored one.

    ``what`` names that state: ``"version"`` for optimistic versions, ``"pending amount"``
    for a bill-run plan whose carried-forward amounts changed since it was made.
    """

    def __init__(
        self, number: str, expected: object, actual: object, *, what: str = "version"
    ) -> None:
        self.number = number
        self.expected = expected
        self.actual = actual
        self.what = what
        named, found, wanted = (printable(str(value)) for value in (number, actual, expected))
        super().__init__(f"{named}: {what} is {found}, not {wanted}: reload and retry")


class TransactionConflictError(ConflictError):
    """The unit of work ran into another one that was writing the same rows at the same
    time (a serialization failure, a deadlock, or a key the other inserted first), and
    nothing of it was committed.

    The facade runs the call again a few times before letting this surface
    (:data:`custbill.service.facade.ATTEMPTS`); a call inside
    :meth:`~custbill.CustomerBilling.batch` is not run again: the batch fails.
    """

    def __init__(self, reason: str) -> None:
        CustbillError.__init__(self, f"a concurrent unit of work got there first: {reason}")
        self.number = ""
        self.expected = None
        self.actual = None
        self.what = "transaction"


class CurrencyMismatchError(CustbillError, ValueError):
    """Two amounts in different currencies met where one currency is required."""

    def __init__(self, left: str, right: str) -> None:
        self.currencies = (left, right)
        super().__init__(f"currencies differ: {left} and {right}")


class InvalidDataError(CustbillError, ValueError):
    """Data could not be turned into a custbill object.

    ``errors`` names the path of each bad field, e.g. ``"... @ $.accounts[0].currency"``.
    The message is ``invalid data: <the problem>`` for one; for several, its first line
    says how many, then one line each for the first ``MAX_LISTED_VIOLATIONS`` (20), as
    for :class:`RuleViolationError`.
    """

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        count = len(self.errors)
        if count == 1:
            super().__init__(f"invalid data: {printable(self.errors[0])}")
            return
        listed = self.errors[:MAX_LISTED_VIOLATIONS]
        lines = [f"invalid data, {count:,} problems:", *(f"  {printable(e)}" for e in listed)]
        if count > len(listed):
            lines.append(f"  and {count - len(listed):,} more")
        super().__init__("\n".join(lines))


class StorageError(CustbillError):
    """The store failed: the database is locked past its timeout, unreachable, or broken.

    Nothing of the failed operation was committed, save in one case no client of a
    database server can rule out, which the message names: the connection broke during
    the commit itself, so whether the server committed before it went is unknown.
    """


class ConnectionLostError(StorageError):
    """The connection to the database broke before the unit of work committed — the server
    restarted or failed over, or something between ended an idle session — so nothing of
    it was committed.

    The facade runs the call again on another connection, as for
    :class:`TransactionConflictError` (up to :data:`custbill.service.facade.ATTEMPTS`
    times in all); a call inside :meth:`~custbill.CustomerBilling.batch` is not run again:
    the batch fails.  A connection that breaks *during* the commit is a plain
    :class:`StorageError` saying so: whether that unit committed is unknown, so it is
    never run again by custbill.
    """
