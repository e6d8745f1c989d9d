"""The storage protocols a host application implements to keep custbill's records.

A :class:`Store` opens a :class:`UnitOfWork`; the unit of work gives repositories for
customers, accounts, catalog, settings and history.  Everything written through a unit of
work becomes visible at once on :meth:`UnitOfWork.commit`, or not at all: leaving the
``with`` block without committing (an exception included) rolls everything back.

A savepoint (:meth:`UnitOfWork.savepoint`) marks a point inside a unit of work that its
writes can go back to: the facade runs every call of a batch in one, so a failing call
leaves nothing behind while the batch goes on.

Repositories hand out and take frozen model objects.  ``update`` methods check the
optimistic version: the stored record must be at ``new.version - 1``, else
:class:`~custbill.ConflictError`.

A store may offer more than the protocols ask: the facade looks (with ``isinstance``) for
two optional capabilities, :class:`PlanRowSource` and :class:`ReadsMany`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from types import TracebackType
from typing import Protocol, TypeVar, runtime_checkable

from moneyed import Money

from custbill.model import (
    BillingAccount,
    Change,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    Note,
    Settings,
)
from custbill.model.billing import (
    WHOLE_RUN,
    Adjustment,
    Charge,
    Deposit,
    Invoice,
    IssuedPart,
    Partition,
    Payment,
)
from custbill.model.dunning import DunningNotice
from custbill.model.enums import Hierarchy as Hierarchy  # re-exported: stores name it here
from custbill.model.plan_row import PlanRows
from custbill.model.references import CatalogItem as CatalogItem  # re-exported
from custbill.model.references import CatalogKind as CatalogKind  # re-exported

#: A record a repository reads (:class:`ReadsMany`).
Record_co = TypeVar("Record_co", covariant=True)


class CustomerRepository(Protocol):
    """Customers, with lookups by external number and name, and word-prefix search."""

    def get(self, number: str) -> Customer | None:
        """The customer with this number, or None."""
        ...

    def add(self, customer: Customer) -> None:
        """Store a new customer (its number is known to be free)."""
        ...

    def update(self, customer: Customer) -> None:
        """Replace the stored customer; ConflictError unless it is at ``version - 1``."""
        ...

    def with_external_number(self, external_number: str) -> str | None:
        """Number of the customer with this external number, or None."""
        ...

    def named(self, name: str) -> tuple[str, ...]:
        """Numbers of the customers whose name equals *name* ignoring case."""
        ...

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        """Numbers, in order, of the customers matching every normalised query word (the
        first *limit* of them when given).

        A word matches when it starts a token of the name
        (:func:`custbill.storage.search.name_tokens`) or the normalised number or external
        number.
        """
        ...

    def all(self) -> Iterator[Customer]:
        """Every customer, in number order."""
        ...


class AccountRepository(Protocol):
    """Billing accounts, with the indexes the facade and the rules need."""

    def get(self, number: str) -> BillingAccount | None:
        """The account with this number, or None."""
        ...

    def add(self, account: BillingAccount) -> None:
        """Store a new account (its number is known to be free)."""
        ...

    def update(self, account: BillingAccount) -> None:
        """Replace the stored account; ConflictError unless it is at ``version - 1``."""
        ...

    def with_external_number(self, external_number: str) -> str | None:
        """Number of the account with this external number, or None."""
        ...

    def of_customer(self, customer: str) -> tuple[str, ...]:
        """Numbers of the customer's accounts, in number order."""
        ...

    def managed_by(self, number: str) -> tuple[str, ...]:
        """Numbers of the accounts whose responsible account is *number*, in order."""
        ...

    def children_of(self, number: str) -> tuple[str, ...]:
        """Numbers of the accounts whose parent account is *number*, in order."""
        ...

    def in_chain(self, number: str, start: str, hierarchy: Hierarchy) -> bool:
        """True when *number* is *start* or above it in the hierarchy (``"responsible"``:
        the billing hierarchy, ``"parent"``: the reporting one).

        The cycle check of every link: linking A under B makes a cycle exactly when A is B
        or above B.  Must end on a cycle already stored, and should cost the depth of the
        chain, not the number of accounts.
        """
        ...

    def on_bill_cycle(self, bill_cycle: str) -> Sequence[str]:
        """Numbers of the accounts on the bill cycle, in order."""
        ...

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        """Numbers, in order, of the accounts matching every normalised query word (the
        first *limit* of them when given).

        A word matches when it starts the account's normalised number or external number,
        or a token of its customer's name.
        """
        ...

    def all(self) -> Iterator[BillingAccount]:
        """Every account, in number order."""
        ...


class CatalogRepository(Protocol):
    """Reference data, keyed by kind and id (custom fields by target and name)."""

    def get(self, kind: type[CatalogKind], id: str) -> CatalogKind | None:
        """The entry of this kind with this id, or None."""
        ...

    def all(self, kind: type[CatalogKind]) -> tuple[CatalogKind, ...]:
        """Every entry of this kind, in id order."""
        ...

    def add(self, entry: CatalogItem | CustomFieldDefinition) -> None:
        """Store a new entry (its id is known to be free)."""
        ...

    def custom_fields(self, target: CustomFieldTarget) -> tuple[CustomFieldDefinition, ...]:
        """The custom field definitions of this target, in the order they were added."""
        ...


class SettingsRepository(Protocol):
    """The tenant's single settings record."""

    def get(self) -> Settings | None:
        """The stored settings, or None before any were stored."""
        ...

    def put(self, settings: Settings) -> None:
        """Store the settings, replacing any before."""
        ...


class HistoryRepository(Protocol):
    """An append-only log of field changes."""

    def append(self, changes: Sequence[Change]) -> None:
        """Add changes at the end of the log."""
        ...

    def of(self, number: str) -> tuple[Change, ...]:
        """The changes of one customer or account, oldest first."""
        ...

    def redact(self, number: str, fields: frozenset[str], mask: str) -> None:
        """Replace the old and new values of *number*'s changes to *fields* by *mask*
        (values that were None stay None)."""
        ...


class NoteRepository(Protocol):
    """Notes on customers and accounts."""

    def add(self, note: Note) -> None:
        """Store a new note (its number is known to be free)."""
        ...

    def get(self, number: str) -> Note | None:
        """The note with this number, or None."""
        ...

    def of(self, about: str) -> tuple[Note, ...]:
        """The notes on the customer or account *about*, in the order they were added."""
        ...

    def delete(self, number: str) -> None:
        """Remove the note with this number (known to exist)."""
        ...


class LedgerRepository(Protocol):
    """Issued invoices, payments, adjustments, deposits, charges waiting for a run,
    dunning notices, carried-forward amounts and issued runs."""

    def invoice(self, number: str) -> Invoice | None:
        """The invoice with this number, or None."""
        ...

    def add_invoice(self, invoice: Invoice) -> None:
        """Record an issued invoice."""
        ...

    def invoices_of(self, account: str) -> tuple[Invoice, ...]:
        """Invoices billed to *account*, oldest first."""
        ...

    def add_payment(self, payment: Payment) -> None:
        """Record a payment."""
        ...

    def payments_of(self, account: str) -> tuple[Payment, ...]:
        """Payments of *account*, oldest first."""
        ...

    def add_adjustment(self, adjustment: Adjustment) -> None:
        """Record an adjustment."""
        ...

    def adjustments_of(self, account: str) -> tuple[Adjustment, ...]:
        """Adjustments of *account*, oldest first."""
        ...

    def add_deposit(self, deposit: Deposit) -> None:
        """Store a movement of an account's deposit."""
        ...

    def deposits_of(self, account: str) -> tuple[Deposit, ...]:
        """The movements of the account's deposit, oldest first."""
        ...

    def add_charge(self, charge: Charge) -> None:
        """Store a new charge (its number is known to be free)."""
        ...

    def charge(self, number: str) -> Charge | None:
        """The charge with this number, or None."""
        ...

    def charges_of(self, account: str) -> tuple[Charge, ...]:
        """Every charge of *account*, billed or pending, oldest first."""
        ...

    def pending_charges(self) -> tuple[Charge, ...]:
        """Every charge no run has billed yet, of every account, oldest first.

        A bill run asks for them once: a store should answer from an index of the pending
        charges, not by reading every charge ever queued.
        """
        ...

    def bill_charge(self, number: str, billed_on: date, invoice: str | None) -> None:
        """Mark the pending charge *number* billed by the run of *billed_on*, on *invoice*
        (None when the invoice was suppressed and its total carried forward)."""
        ...

    def add_dunning_notice(self, notice: DunningNotice) -> None:
        """Record a step of a dunning plan applied to an account."""
        ...

    def dunning_notices_of(self, account: str) -> tuple[DunningNotice, ...]:
        """The dunning notices of *account*, oldest first."""
        ...

    def pending(self, account: str) -> Money | None:
        """The amount carried forward from suppressed invoices of *account*, if any."""
        ...

    def pending_amounts(self) -> Mapping[str, Money]:
        """Every carried-forward amount, by account."""
        ...

    def set_pending(self, account: str, amount: Money | None) -> None:
        """Replace the carried-forward amount of *account* (None clears it)."""
        ...

    def open_run(self, bill_cycle: str, run_date: date, partitions: int) -> int:
        """Make the run of *bill_cycle* on *run_date* claimable in *partitions* parts,
        unless it already is; return the number of parts the run has (the first caller's
        count).  On a store shared by several processes the parts must be visible to
        other units of work once this unit commits."""
        ...

    def claim_part(self, bill_cycle: str, run_date: date, partition: int | None) -> int | None:
        """Hold one part of an opened run until this unit of work ends, and return its index.

        With *partition* None: a part that is neither issued nor held by another unit of
        work (without waiting for one), or None when there is none.  With an index: that
        part (waiting while another unit holds it), or None once it is issued.
        """
        ...

    def run_parts(self, bill_cycle: str, run_date: date) -> tuple[IssuedPart, ...]:
        """The issued parts of the run, by index (empty when nothing of it was issued)."""
        ...

    def record_part(self, bill_cycle: str, run_date: date, part: IssuedPart) -> None:
        """Mark a claimed part of the run issued, with its digest and invoices."""
        ...


class UnitOfWork(Protocol):
    """One atomic piece of work: all of its writes are committed together or not at all."""

    @property
    def customers(self) -> CustomerRepository:
        """The customers."""
        ...

    @property
    def accounts(self) -> AccountRepository:
        """The billing accounts."""
        ...

    @property
    def catalog(self) -> CatalogRepository:
        """The reference data."""
        ...

    @property
    def settings(self) -> SettingsRepository:
        """The tenant's settings."""
        ...

    @property
    def history(self) -> HistoryRepository:
        """The change log."""
        ...

    @property
    def notes(self) -> NoteRepository:
        """Notes on customers and accounts."""
        ...

    @property
    def ledger(self) -> LedgerRepository:
        """Invoices, payments and adjustments."""
        ...

    def next_number(self, kind: str) -> int:
        """The next value of the named sequence (``"customer"``, ``"account"``).

        Committed values never repeat (a value handed out by a unit of work that rolled
        back may be handed out again).
        """
        ...

    def next_numbers(self, kind: str, count: int) -> list[int]:
        """The next *count* values of the named sequence, in increasing order, as *count*
        calls of :meth:`next_number` give them (a store may fetch them at once)."""
        ...

    def number_taken(self, number: str) -> bool:
        """True when a customer or an account has this number (one question, where a store
        would otherwise answer two)."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A point of this unit of work its writes can go back to.

        Leaving the ``with`` block by an exception undoes every write made inside it, then
        lets the exception through; leaving it normally keeps them (the unit's commit makes
        them durable, its end without a commit undoes them with the rest).  Savepoints
        nest.  A commit inside the block ends it: what was committed stays.

        Raises:
            StorageError: when the writes cannot be undone (the whole unit of work must
                then be given up).
        """
        ...

    def commit(self) -> None:
        """Make every write of this unit of work durable and visible."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...


@runtime_checkable
class RowSecurity(Protocol):
    """A unit of work whose database holds a scope's boundary itself (PostgreSQL's
    row-level security, :mod:`custbill.storage.postgres`).

    Optional: a scoped facade (:meth:`custbill.CustomerBilling.scoped`) enters the scope
    of its calls' units of work that offer it, and leaves it when the call ends; the
    facade's own filtering holds the boundary on every store either way.
    """

    def enter_scope(self, root: str) -> None:
        """From now on, the database shows this unit the scope of customer *root* only."""
        ...

    def leave_scope(self) -> None:
        """From now on, the database shows this unit everything again."""
        ...


@runtime_checkable
class PlanRowSource(Protocol):
    """An account repository that keeps a plan row beside each account
    (:mod:`custbill.model.plan_row`), renewed on every write that changes it.

    Optional: the facade plans a bill run from the rows when the unit of work's accounts
    offer them (``isinstance(uow.accounts, PlanRowSource)``), and from the account objects
    otherwise; both give the same plan.
    """

    def plan_rows(self, bill_cycle: str, partition: Partition = WHOLE_RUN) -> PlanRows:
        """The plan rows of the accounts on *bill_cycle* in *partition*: those whose
        responsible chain's top has a :func:`~custbill.model.billing.hierarchy_key` the
        partition :meth:`~custbill.Partition.holds` (every account of the
        cycle for the whole run), with the cycle's other accounts answered by
        :attr:`~custbill.model.plan_row.PlanRows.on_cycle`."""
        ...


@runtime_checkable
class ReadsMany(Protocol[Record_co]):
    """A customer or account repository that reads several records at once.

    Optional: where reading a record costs a round trip to a database, the facade's
    listings and searches read their records together from a repository that offers this
    (``isinstance(uow.customers, ReadsMany)``), and one at a time otherwise; both give the
    same records.
    """

    def get_many(self, numbers: Collection[str]) -> Mapping[str, Record_co]:
        """The records of *numbers* that exist, by number (a number with no record is left
        out, as is one holding text no record holds: a NUL, a lone surrogate)."""
        ...


@runtime_checkable
class Store(Protocol):
    """Somewhere custbill's records live."""

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work; use it as a context manager.

        With *read_only* the caller promises not to write: a store may then read without
        waiting for writers (SQLite begins a deferred transaction).
        """
        ...

    def close(self) -> None:
        """Release the store's resources; it is not used afterwards."""
        ...
