"""The ``CustomerBilling`` facade: the public class, each method a thin delegation.

Every public method is atomic: it opens one unit of work (or joins the open batch's, in a
savepoint) and hands it to a use case of :mod:`custbill.service.customers`,
:mod:`~custbill.service.queries`, :mod:`~custbill.service.ledger` or
:mod:`~custbill.service.tenant`, which checks everything the operation touches, reports
*all* violations at once in a :class:`~custbill.RuleViolationError`, and commits only when
there are none, so a rejected operation leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import copy
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from moneyed import Money

from custbill.errors import ConnectionLostError, StorageError, TransactionConflictError
from custbill.model import (
    AccountCategory,
    BillCycle,
    BillingAccount,
    BillRunPlan,
    BillRunStatus,
    Change,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    DunningPlan,
    NewAccount,
    NewCustomer,
    Partition,
    PartitionIssued,
    PaymentTerm,
    Settings,
    ValidationReport,
)
from custbill.model.billing import Adjustment, Invoice, Payment, PoolResult
from custbill.model.enums import AdjustmentKind
from custbill.service import activity as activity_cases
from custbill.service import customers, ledger, queries, tenant
from custbill.service._unit import BatchUnit, Context
from custbill.service.over_time import AccountsOverTime
from custbill.service.platforms import PlatformCalls
from custbill.storage.memory import MemoryStore
from custbill.storage.protocols import CatalogKind, Store, UnitOfWork
from custbill.summary import AccountSummary, CustomerSummary

#: How many times a call runs when it keeps running into concurrent units of work (or
#: losing its connection).  Enough for a handful of writers on one row to each get
#: through, few enough that a call under a storm of conflicts gives up within a fraction
#: of a second.
ATTEMPTS = 5
#: The longest pause (seconds) before the second attempt, growing with each attempt; random,
#: so that two colliding units do not collide again in step.
PAUSE_S = 0.01
#: The pauses' own random numbers: drawing from the ``random`` module's would move the
#: sequence a host seeded for itself.
_PAUSES = random.Random()
#: No charges from the caller: a run then bills the queued ones only.
NO_CHARGES: Mapping[str, Money] = MappingProxyType({})

P = ParamSpec("P")
R = TypeVar("R")


class CustomerBilling(AccountsOverTime, PlatformCalls):
    """Customers and billing accounts, validated on every change.

    Args:
        store: where records live; a new :class:`~custbill.storage.MemoryStore` when omitted.
        settings: when given, validated against the stored data and persisted; when omitted,
            the store's settings are used, or the defaults if it has none.
        clock: returns the current time (timezone-aware); used for history timestamps and
            for "today" in rules.  Defaults to the system clock in UTC.
        actor: who the calls are made by (a user name, a service), recorded with every
            change; :meth:`acting` gives a facade for another actor, or with a reason.

    Raises:
        RuleViolationError: when *settings* contradict the stored data (``settings.in_use``).
        TypeError: a store that is not a :class:`~custbill.storage.protocols.Store`, settings
            that are not :class:`~custbill.Settings`, or a clock that cannot be called.
    """

    def __init__(
        self,
        store: Store | None = None,
        settings: Settings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        actor: str | None = None,
    ) -> None:
        if store is not None and not isinstance(store, Store):
            raise TypeError(f"store: expected a Store, got {type(store).__name__}")
        if clock is not None and not callable(clock):
            raise TypeError(f"clock: expected a callable, got {type(clock).__name__}")
        self._store: Store = store if store is not None else MemoryStore()
        self._batch = threading.local()
        self._context = Context(clock or (lambda: datetime.now(UTC)))
        if actor is not None:
            self._context = self._context.with_actor(actor, None)
        if settings is not None:
            self._run(tenant.put_settings, settings)

    def acting(self, actor: str | None, reason: str | None = None) -> CustomerBilling:
        """This facade, for calls made by *actor* (None: nobody named) and, when given, for
        *reason*: every change they make is recorded with both (:meth:`history`,
        :meth:`activity`).  It shares the store, the settings, the clock and an open
        batch::

            billing.acting("ann", reason="ticket 4411").edit_account(number, auto_pay=True)

        Raises:
            TypeError: an actor or reason that is not text.
            RuleViolationError: a blank actor or reason, one past 1,000 characters, with a
                refused character, or holding a card number (``actor``, ``reason``).
        """
        view = copy.copy(self)
        view._context = self._context.with_actor(actor, reason)
        return view

    # -- plumbing ---------------------------------------------------------------------------

    def _run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, Context, P], R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run *use_case* over a unit of work of its own (or the batch's).

        A unit of work of its own that ran into a concurrent one
        (:class:`~custbill.errors.TransactionConflictError`) or lost its connection
        (:class:`~custbill.errors.ConnectionLostError`), nothing of it committed, runs
        again, after a short random pause, up to :data:`ATTEMPTS` times in all.
        """
        return self._attempt(False, use_case, *args, **kwargs)

    def _read(
        self,
        use_case: Callable[Concatenate[UnitOfWork, Context, P], R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run *use_case*, which writes nothing, as :meth:`_run` does, over a read-only
        unit of work (on SQLite, one that waits for no writer)."""
        return self._attempt(True, use_case, *args, **kwargs)

    def _attempt(
        self,
        read_only: bool,
        use_case: Callable[Concatenate[UnitOfWork, Context, P], R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        batch: BatchUnit | None = getattr(self._batch, "unit", None)
        if batch is not None:
            with batch as joined, self._view(joined) as view:
                return use_case(view, self._context, *args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with (
                    self._store.unit_of_work(read_only=read_only) as uow,
                    self._view(uow) as view,
                ):
                    return use_case(view, self._context, *args, **kwargs)
            except (TransactionConflictError, ConnectionLostError):
                if attempt == ATTEMPTS:
                    raise
                time.sleep(_PAUSES.uniform(0, PAUSE_S * attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    @contextlib.contextmanager
    def batch(self) -> Iterator[CustomerBilling]:
        """Run many calls in one unit of work, committed together when the block ends.

        Inside the block (in this thread) every call of this facade joins the batch's unit
        of work instead of opening its own, which saves a transaction per call — on the
        SQLite store, a disk sync per call.  Each call runs in a savepoint of that unit of
        work: a call that fails, whatever it raises, changes nothing, and the batch goes on
        when the block catches the error.  If the block raises, nothing of the batch is
        committed (nor when a failed call's writes could not be undone:
        :class:`~custbill.StorageError` at the end of the block).  Batches nest: an inner
        one joins the outer.

        >>> import custbill as cb
        >>> billing = cb.CustomerBilling()
        >>> with billing.batch():
        ...     billing.add_account_category(cb.AccountCategory(id="a", name="A"))
        ...     billing.add_account_category(cb.AccountCategory(id="b", name="B"))
        >>> [c.id for c in billing.catalog(cb.AccountCategory)]
        ['a', 'b']
        """
        if getattr(self._batch, "unit", None) is not None:
            yield self
            return
        with self._store.unit_of_work() as uow:
            unit = BatchUnit(uow)
            self._batch.unit = unit
            try:
                yield self
            finally:
                self._batch.unit = None
            if unit.failed is not None:
                raise StorageError(
                    "a call in the batch failed; nothing was committed"
                ) from unit.failed
            uow.commit()

    # -- settings and catalog ------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The current settings (the defaults until any are stored)."""
        return self._read(queries.settings)

    def update_settings(self, **changes: Any) -> Settings:
        """Change settings, refusing values existing data contradicts (``settings.in_use``).

        Raises:
            TypeError: for an unknown setting or a value of the wrong type.
            RuleViolationError: ``settings.in_use``.
        """
        return self._run(tenant.update_settings, changes)

    def add_bill_cycle(self, cycle: BillCycle) -> None:
        """Add a bill cycle (``catalog.invalid``, ``catalog.id_taken``)."""
        self._run(tenant.add_catalog_entry, cycle, BillCycle)

    def add_payment_term(self, term: PaymentTerm) -> None:
        """Add a payment term (``catalog.invalid``, ``catalog.id_taken``)."""
        self._run(tenant.add_catalog_entry, term, PaymentTerm)

    def add_account_category(self, category: AccountCategory) -> None:
        """Add an account category (``catalog.invalid``, ``catalog.id_taken``)."""
        self._run(tenant.add_catalog_entry, category, AccountCategory)

    def add_dunning_plan(self, plan: DunningPlan) -> None:
        """Add a dunning plan (``catalog.invalid``, ``catalog.id_taken``)."""
        self._run(tenant.add_catalog_entry, plan, DunningPlan)

    def add_custom_field(self, definition: CustomFieldDefinition) -> None:
        """Define a custom field (``catalog.invalid``, ``catalog.id_taken`` for a name the
        target already has).  A new required field applies to later changes;
        :meth:`validate_customers` lists the records that lack it."""
        self._run(tenant.add_catalog_entry, definition, CustomFieldDefinition)

    def catalog(self, kind: type[CatalogKind]) -> tuple[CatalogKind, ...]:
        """Every catalog entry of *kind* (e.g. ``BillCycle``), in id order.

        Raises:
            TypeError: *kind* is not a catalog class.
        """
        return self._read(queries.catalog, kind)

    def custom_fields(self, target: CustomFieldTarget) -> tuple[CustomFieldDefinition, ...]:
        """The custom fields defined on customers or on accounts.

        Raises:
            TypeError: *target* is not a :class:`~custbill.CustomFieldTarget`.
        """
        return self._read(queries.custom_fields, target)

    # -- customers and accounts ----------------------------------------------------------

    def create_customer(
        self, customer: NewCustomer, account: NewAccount
    ) -> tuple[Customer, BillingAccount]:
        """Create a customer together with its first (default) billing account.

        Numbers are generated (``C-000001``, ``A-000001``) unless given.

        Raises:
            RuleViolationError: with every violation of the customer and the account.
        """
        return self._run(customers.create_customer, customer, account)

    def add_account(
        self, customer_number: str, account: NewAccount, make_default: bool = False
    ) -> BillingAccount:
        """Add a billing account to an existing customer, optionally as its default.

        Raises:
            NotFoundError: no such customer.
            RuleViolationError: e.g. ``account.multi_account_disabled``.
        """
        return self._run(customers.add_account, customer_number, account, make_default)

    def set_default_account(self, customer_number: str, account_number: str) -> Customer:
        """Make one of the customer's accounts its default account.

        Raises:
            NotFoundError: no such customer or account.
            RuleViolationError: ``account.reference_unknown`` when the account belongs to
                another customer; ``customer.erased``.
        """
        return self._run(customers.set_default_account, customer_number, account_number)

    def edit_customer(
        self, number: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> Customer:
        """Change fields of a customer and return the new customer.

        Args:
            number: the customer's number.
            expected_version: when given, the edit applies only to this version.
            **changes: new values of the fields of :class:`~custbill.NewCustomer` (except
                ``number``).

        Raises:
            TypeError: an unknown field, or a value of the wrong type.
            NotFoundError: no such customer.
            ConflictError: the customer is no longer at *expected_version*.
            RuleViolationError: every violation of the edited customer, plus invoice
                delivery violations of its accounts (e.g. removing the billing address of a
                customer with PAPER invoices).
        """
        return self._run(customers.edit_customer, number, expected_version, changes)

    def edit_account(
        self, number: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> BillingAccount:
        """Change fields of a billing account (status and hierarchy links included).

        ``number``, ``customer`` and ``currency`` never change (``account.field_immutable``);
        status follows the lifecycle (``account.status_transition_invalid``).

        Raises:
            TypeError: an unknown field, or a value of the wrong type.
            NotFoundError: no such account.
            ConflictError: the account is no longer at *expected_version*.
            RuleViolationError: every violation of the edited account and its links.
        """
        return self._run(customers.edit_account, number, expected_version, changes)

    def erase_customer(self, number: str) -> Customer:
        """Erase a customer's personal data, keeping its accounts and billing records.

        Names, emails, phones, addresses (except the country), tax number and date of birth
        are cleared (required text becomes ``"[erased]"``); the names and emails of the
        accounts' contacts are cleared too, and so are the erased values in the history.
        The customer becomes read-only.  History records that an erasure happened, not what
        was erased.  Erasing twice changes nothing.
        """
        return self._run(customers.erase_customer, number)

    # -- reading -------------------------------------------------------------------------

    def get_customer(self, number: str) -> Customer:
        """The customer with this number.  Raises NotFoundError."""
        return self._read(queries.get_customer, number)

    def get_account(self, number: str) -> BillingAccount:
        """The account with this number.  Raises NotFoundError."""
        return self._read(queries.get_account, number)

    def accounts_of(self, customer_number: str) -> tuple[BillingAccount, ...]:
        """The customer's accounts: the default first, then the others by number."""
        return self._read(queries.accounts_of, customer_number)

    def managed_accounts(self, number: str) -> tuple[BillingAccount, ...]:
        """The accounts invoiced on this (responsible) account, by number."""
        return self._read(queries.managed_accounts, number)

    def child_accounts(self, number: str) -> tuple[BillingAccount, ...]:
        """The accounts whose reporting parent is this account, by number."""
        return self._read(queries.child_accounts, number)

    def search_customers(self, text: str, *, limit: int | None = None) -> tuple[Customer, ...]:
        """Customers whose name words or numbers start with every word of *text*.

        Case- and accent-insensitive; ordered by number; an empty query finds nothing.
        With *limit*, only the first *limit* matches (in number order) — what a search box
        shows — which the stores find without collecting every match; a limit below 1
        finds nothing.
        """
        return self._read(queries.search_customers, text, limit)

    def search_accounts(self, text: str, *, limit: int | None = None) -> tuple[BillingAccount, ...]:
        """Accounts whose numbers, or whose customer's name words, start with every word of
        *text*.  Case- and accent-insensitive; ordered by number; *limit* as for
        :meth:`search_customers`."""
        return self._read(queries.search_accounts, text, limit)

    def responsible_account_candidates(self, number: str) -> tuple[BillingAccount, ...]:
        """Accounts that could become this account's responsible account: ACTIVE, on the
        same bill cycle, in the same invoice currency, neither the account itself nor one
        it is (indirectly) responsible for.  Ordered by number."""
        return self._read(queries.responsible_account_candidates, number)

    def parent_account_candidates(self, number: str) -> tuple[BillingAccount, ...]:
        """Accounts that could become this account's reporting parent: ACTIVE, SUSPENDED or
        PENDING_COLLECTION (and on the same bill cycle when the settings require it),
        neither the account itself nor one of its descendants.  Ordered by number."""
        return self._read(queries.parent_account_candidates, number)

    def customer_summary(self, number: str) -> CustomerSummary:
        """The Customer Summary page: the customer and a line per account, default first."""
        return self._read(queries.customer_summary, number)

    def account_summary(self, number: str) -> AccountSummary:
        """The Account page's summary: status, start and next invoice dates, payment term,
        auto-pay and hierarchy links.  ``next_invoice_date`` is the first bill date on or
        after the later of today and the start date, or None for a deactivated account."""
        return self._read(queries.account_summary, number)

    def history(self, number: str) -> tuple[Change, ...]:
        """Every recorded change of a customer's or account's fields, oldest first, each
        with who made it and why when the facade was told (:meth:`acting`); everything
        else that happened to it is in :meth:`activity`.

        Raises:
            NotFoundError: when no customer or account has this number.
        """
        return self._read(activity_cases.history, number)

    def validate_customers(self) -> ValidationReport:
        """Every violation across all stored customers and accounts, grouped by code.

        Useful before a bill run, or after a custom field became required.  Each
        violation's ``params["number"]`` names the customer or account it is about.
        Erased customers are skipped (they are read-only); their accounts are checked.
        Hierarchy links are checked when they are made, and are not re-checked here.
        """
        return self._read(queries.validate_customers)

    # -- bill runs and the ledger --------------------------------------------------------

    def plan_bill_run(
        self,
        bill_cycle: str,
        run_date: date,
        charges: Mapping[str, Money] = NO_CHARGES,
        *,
        partition: Partition | None = None,
    ) -> BillRunPlan:
        """Plan the run of *bill_cycle* on *run_date* without recording anything.

        Accounts on the cycle that are not DEACTIVATED and started on or before *run_date*
        are billed; a managed account's charges go to the top of its responsible chain;
        amounts carried forward from suppressed invoices are added to the billed account's
        (own) invoice.  The charges billed are *charges* (by account number) plus the
        charges queued with :meth:`add_charge` that are dated on or before *run_date* and
        whose account the run bills; the plan names those (``plan.charges``), and issuing
        it marks them billed.  See the bill-run documentation for the whole behaviour.

        With a *partition*, only the run's part that partition covers is planned: the
        hierarchies whose top account falls in it, and their charges — *charges* may hold
        the whole run's, the others are left to the other partitions.

        Raises:
            TypeError: arguments of the wrong type (a charge that is not Money, say).
            NotFoundError: no such bill cycle.
            RuleViolationError: ``billing.not_a_bill_date``, ``billing.charge_not_billable``,
                ``billing.charge_currency_mismatch``, ``billing.partition_invalid`` — every
                one found.
        """
        return self._read(ledger.plan_bill_run, bill_cycle, run_date, charges, partition)

    def issue_bill_run(self, plan: BillRunPlan) -> tuple[Invoice, ...]:
        """Record the plan's invoices, once.

        Every invoice that is not suppressed is recorded with a generated number
        (``I-000001``…) against its billed account; suppressed totals become the billed
        accounts' carried-forward amounts.  A run is identified by its bill cycle and run
        date (and a plan of a partition by its partition): issuing the same plan again —
        sequentially or concurrently — records nothing and returns the invoices recorded
        the first time.

        Raises:
            ConflictError: the carried-forward amounts changed since the plan was made
                (plan again); the run was issued from a different plan (other charges,
                accounts changed since: the invoices would differ); the run was split into
                another number of partitions; a queued charge the plan bills was billed
                by another run since.
        """
        return self._run(ledger.issue_bill_run, plan)

    def issue_next_partition(
        self,
        bill_cycle: str,
        run_date: date,
        charges: Mapping[str, Money] = NO_CHARGES,
        *,
        partitions: int,
    ) -> PartitionIssued | None:
        """Take a part of the run split into *partitions* that no other worker has taken,
        plan it and issue it — or return None when every part is issued or taken.

        Each worker (a process, a machine, a job of a queue) calls this in a loop with the
        same arguments until it returns None; :meth:`bill_run_status` then tells whether
        the whole run is issued.  A part is held by one worker at a time and issued in one
        transaction: a worker that dies mid-part leaves nothing of it, and the part is
        taken by the next call.  On the PostgreSQL store workers issue parts at the same
        time; on the SQLite and memory stores, one after another.

        Raises:
            TypeError, NotFoundError, RuleViolationError: as :meth:`plan_bill_run`
                (``billing.partition_invalid`` for a count out of range).
            ConflictError: the run was split into another number of partitions, or issued
                from another plan.
        """
        return self._run(ledger.issue_next_partition, bill_cycle, run_date, charges, partitions)

    def bill_run_status(self, bill_cycle: str, run_date: date) -> BillRunStatus:
        """How far the run of *bill_cycle* on *run_date* is issued."""
        return self._read(ledger.bill_run_status, bill_cycle, run_date)

    def record_payment(
        self, account_number: str, amount: Money, received_on: date, reference: str | None = None
    ) -> Payment:
        """Record a payment received for an account, in its invoice currency.

        A payment that clears what the account has overdue returns it to ACTIVE when its
        dunning suspended it or put it in collection (and its plan reinstates; see
        :meth:`run_dunning`).

        Raises:
            NotFoundError: no such account.
            RuleViolationError: ``billing.charge_currency_mismatch`` (another currency),
                ``billing.amount_invalid`` (not positive).
        """
        return self._run(ledger.record_payment, account_number, amount, received_on, reference)

    def record_adjustment(
        self, account_number: str, kind: AdjustmentKind, amount: Money, on: date, reason: str
    ) -> Adjustment:
        """Record a credit (lowers the balance) or debit (raises it) adjustment.

        Raises:
            NotFoundError: no such account.
            RuleViolationError: as for :meth:`record_payment`; a debit beyond the credit
                left on the account's chain (``account.credit_limit_exceeded``, see
                :meth:`add_charge`).
        """
        return self._run(ledger.record_adjustment, account_number, kind, amount, on, reason)

    def invoices(self, account_number: str) -> tuple[Invoice, ...]:
        """The invoices billed to the account, oldest first."""
        return self._read(ledger.invoices, account_number)

    def payments(self, account_number: str) -> tuple[Payment, ...]:
        """The account's payments, oldest first."""
        return self._read(ledger.payments, account_number)

    def adjustments(self, account_number: str) -> tuple[Adjustment, ...]:
        """The account's adjustments, oldest first."""
        return self._read(ledger.adjustments, account_number)

    def pool_usage(
        self, root_account: str, allowance: Decimal, usage: Mapping[str, Decimal]
    ) -> PoolResult:
        """Allocate a pooled *allowance* (units of usage) across the reporting-hierarchy
        subtree of *root_account* and report each account's overage.

        Allocation order is deterministic: the root first, then breadth first, each level's
        children in number order.  Each account takes as much of the remaining allowance as
        its usage needs; the rest of its usage is overage.

        Raises:
            TypeError: amounts that are not Decimal (or int).
            NotFoundError: no such root account.
            RuleViolationError: ``billing.amount_invalid`` for a negative allowance or usage;
                ``account.reference_unknown`` for usage of an account outside the subtree.
        """
        return self._read(ledger.pool_usage, root_account, allowance, usage)

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the store."""
        self._store.close()

    def __enter__(self) -> CustomerBilling:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
