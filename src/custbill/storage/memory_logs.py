"""The in-memory store's logs: the history of changes, notes, and the ledger (invoices,
payments, adjustments, deposits, charges, dunning notices, carried amounts, issued runs).

Like every repository of :class:`~custbill.storage.MemoryStore`, each write logs how to undo
itself in the undo log of the unit of work holding the store's lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol, TypeVar

import attrs
from moneyed import Money

from custbill.model import Change, Note
from custbill.model.billing import Adjustment, Charge, Deposit, Invoice, IssuedPart, Payment
from custbill.model.dunning import DunningNotice

R = TypeVar("R", Invoice, Payment, Adjustment, Deposit, DunningNotice)
#: A history entry as stored: (at, field, old, new), with (actor, reason) after them only
#: when either was given — most entries name neither, and a million of them would pay
#: sixteen bytes each for two Nones.
Entry = (
    tuple[datetime, str, str | None, str | None]
    | tuple[datetime, str, str | None, str | None, str | None, str | None]
)
#: A step of the undo log.
Undo = Callable[[], None]


class MemoryRun(NamedTuple):
    """An opened bill run: how many parts it has, and those issued by index."""

    partitions: int
    parts: dict[int, IssuedPart]


class MemoryState(Protocol):
    """What these repositories keep in the store (:class:`~custbill.storage.MemoryStore`)."""

    #: The undo log of the unit of work holding the store's lock.
    undo: list[Undo]
    history: dict[str, tuple[Entry, ...]]
    invoices: dict[str, Invoice]
    #: Account -> kind of record -> the records, oldest first.
    entries: dict[str, dict[type, list[Any]]]
    pending: dict[str, Money]
    charges: dict[str, Charge]
    #: The numbers of the charges no run has billed, oldest first.
    pending_charges: dict[str, None]
    runs: dict[tuple[str, date], MemoryRun]
    notes: dict[str, Note]
    #: The numbers of the notes on each customer or account, oldest first.
    notes_of: dict[str, tuple[str, ...]]


class MemoryNotes:
    """Notes by number, and the numbers of each record's notes."""

    def __init__(self, store: MemoryState) -> None:
        self.store = store

    def _set(self, number: str, note: Note | None, about: str, numbers: tuple[str, ...]) -> None:
        notes, notes_of = self.store.notes, self.store.notes_of
        old_note, old_numbers = notes.get(number), notes_of.get(about)
        if note is None:
            del notes[number]
        else:
            notes[number] = note
        if numbers:
            notes_of[about] = numbers
        else:
            del notes_of[about]

        def undo() -> None:
            if old_note is None:
                del notes[number]
            else:
                notes[number] = old_note
            if old_numbers is None:
                notes_of.pop(about, None)
            else:
                notes_of[about] = old_numbers

        self.store.undo.append(undo)

    def add(self, note: Note) -> None:
        numbers = (*self.store.notes_of.get(note.about, ()), note.number)
        self._set(note.number, note, note.about, numbers)

    def get(self, number: str) -> Note | None:
        return self.store.notes.get(number)

    def of(self, about: str) -> tuple[Note, ...]:
        notes = self.store.notes
        return tuple(notes[n] for n in self.store.notes_of.get(about, ()))

    def delete(self, number: str) -> None:
        about = self.store.notes[number].about
        numbers = tuple(n for n in self.store.notes_of[about] if n != number)
        self._set(number, None, about, numbers)


class MemoryHistory:
    """The history: each number's entries as one tuple of plain tuples."""

    def __init__(self, store: MemoryState) -> None:
        self.store = store

    def _replace(self, number: str, entries: tuple[Entry, ...]) -> None:
        history = self.store.history
        old = history.get(number)
        history[number] = entries

        def undo() -> None:
            if old is None:
                del history[number]
            else:
                history[number] = old

        self.store.undo.append(undo)

    def append(self, changes: Sequence[Change]) -> None:
        history = self.store.history
        before: list[tuple[str, tuple[Entry, ...] | None]] = []
        previous: tuple[Entry] | None = None  # the last entry, alone in a tuple
        for change in changes:
            entry: Entry = (change.at, change.field, change.old, change.new)
            if change.actor is not None or change.reason is not None:
                entry = (*entry, change.actor, change.reason)
            # an entry equal to the last one (a customer and its first account "created" at
            # one instant) is kept once, and so is the history holding only it
            first = previous if previous is not None and previous[0] == entry else (entry,)
            previous = first
            entry = first[0]
            number = change.number
            old = history.setdefault(number, first)  # one lookup for a new number
            if old is first:
                before.append((number, None))
            else:
                before.append((number, old))
                history[number] = (*old, entry)

        def undo() -> None:
            for number, old in reversed(before):
                if old is None:
                    del history[number]
                else:
                    history[number] = old

        self.store.undo.append(undo)

    def of(self, number: str) -> tuple[Change, ...]:
        return tuple(_change(number, entry) for entry in self.store.history.get(number, ()))

    def redact(self, number: str, fields: frozenset[str], mask: str) -> None:
        entries = self.store.history.get(number)
        if entries:
            self._replace(
                number,
                tuple(
                    (
                        entry[0],
                        entry[1],
                        None if entry[2] is None else mask,
                        None if entry[3] is None else mask,
                        *entry[4:],
                    )
                    if entry[1] in fields
                    else entry
                    for entry in entries
                ),
            )


def _change(number: str, entry: Entry) -> Change:
    at, field, old, new = entry[:4]
    actor, reason = entry[4:] if len(entry) == 6 else (None, None)
    return Change(at=at, number=number, field=field, old=old, new=new, actor=actor, reason=reason)


class MemoryLedger:
    """The ledger: each account's records by kind, invoices also by number."""

    def __init__(self, store: MemoryState) -> None:
        self.store = store

    def _append(self, account: str, record: Any, kind: type | None = None) -> None:
        """Append *record* to *account*'s records of *kind* (its own type by default)."""
        kind = type(record) if kind is None else kind
        records = self.store.entries.setdefault(account, {}).setdefault(kind, [])
        records.append(record)
        self.store.undo.append(records.pop)

    def _of(self, account: str, kind: type[R]) -> tuple[R, ...]:
        return tuple(self.store.entries.get(account, {}).get(kind, ()))

    def invoice(self, number: str) -> Invoice | None:
        return self.store.invoices.get(number)

    def add_invoice(self, invoice: Invoice) -> None:
        self.store.invoices[invoice.number] = invoice
        self.store.undo.append(lambda: self.store.invoices.__delitem__(invoice.number))
        self._append(invoice.billed_account, invoice)

    def invoices_of(self, account: str) -> tuple[Invoice, ...]:
        return self._of(account, Invoice)

    def add_payment(self, payment: Payment) -> None:
        self._append(payment.account, payment)

    def payments_of(self, account: str) -> tuple[Payment, ...]:
        return self._of(account, Payment)

    def add_adjustment(self, adjustment: Adjustment) -> None:
        self._append(adjustment.account, adjustment)

    def adjustments_of(self, account: str) -> tuple[Adjustment, ...]:
        return self._of(account, Adjustment)

    def add_deposit(self, deposit: Deposit) -> None:
        self._append(deposit.account, deposit)

    def deposits_of(self, account: str) -> tuple[Deposit, ...]:
        return self._of(account, Deposit)

    def add_charge(self, charge: Charge) -> None:
        store = self.store
        store.charges[charge.number] = charge
        store.pending_charges[charge.number] = None
        store.undo.append(lambda: store.charges.__delitem__(charge.number))
        store.undo.append(lambda: store.pending_charges.__delitem__(charge.number))
        self._append(charge.account, charge.number, Charge)  # (by number: billing renews it)

    def charge(self, number: str) -> Charge | None:
        return self.store.charges.get(number)

    def charges_of(self, account: str) -> tuple[Charge, ...]:
        numbers = self.store.entries.get(account, {}).get(Charge, ())
        return tuple(self.store.charges[n] for n in numbers)

    def pending_charges(self) -> tuple[Charge, ...]:
        return tuple(self.store.charges[n] for n in self.store.pending_charges)

    def bill_charge(self, number: str, billed_on: date, invoice: str | None) -> None:
        store = self.store
        old = store.charges[number]
        store.charges[number] = attrs.evolve(old, billed_on=billed_on, invoice=invoice)
        del store.pending_charges[number]

        def undo() -> None:
            # back among the pending in its place, oldest first: a rollback may pay to
            # walk every charge, a run billing them may not
            store.charges[number] = old
            pending = store.pending_charges
            pending[number] = None
            in_order = [n for n in store.charges if n in pending]
            pending.clear()
            pending.update(dict.fromkeys(in_order))

        store.undo.append(undo)

    def add_dunning_notice(self, notice: DunningNotice) -> None:
        self._append(notice.account, notice)

    def dunning_notices_of(self, account: str) -> tuple[DunningNotice, ...]:
        return self._of(account, DunningNotice)

    def pending(self, account: str) -> Money | None:
        return self.store.pending.get(account)

    def pending_amounts(self) -> Mapping[str, Money]:
        return dict(self.store.pending)

    def set_pending(self, account: str, amount: Money | None) -> None:
        old = self.store.pending.get(account)
        if amount is None:
            self.store.pending.pop(account, None)
        else:
            self.store.pending[account] = amount

        def undo() -> None:
            if old is None:
                self.store.pending.pop(account, None)
            else:
                self.store.pending[account] = old

        self.store.undo.append(undo)

    def open_run(self, bill_cycle: str, run_date: date, partitions: int) -> int:
        key = (bill_cycle, run_date)
        run = self.store.runs.get(key)
        if run is not None:
            return run.partitions
        self.store.runs[key] = MemoryRun(partitions, {})
        self.store.undo.append(lambda: self.store.runs.__delitem__(key))
        return partitions

    def claim_part(self, bill_cycle: str, run_date: date, partition: int | None) -> int | None:
        # units of work take turns on the store's lock: no part is ever held by another
        run = self.store.runs[(bill_cycle, run_date)]
        if partition is not None:
            return None if partition in run.parts else partition
        return next((i for i in range(run.partitions) if i not in run.parts), None)

    def run_parts(self, bill_cycle: str, run_date: date) -> tuple[IssuedPart, ...]:
        run = self.store.runs.get((bill_cycle, run_date))
        return () if run is None else tuple(run.parts[i] for i in sorted(run.parts))

    def record_part(self, bill_cycle: str, run_date: date, part: IssuedPart) -> None:
        parts = self.store.runs[(bill_cycle, run_date)].parts
        parts[part.partition] = part
        self.store.undo.append(lambda: parts.__delitem__(part.partition))
