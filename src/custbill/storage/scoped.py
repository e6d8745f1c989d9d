"""A unit of work seen from one scope: the customers under a reseller customer (to any
depth, the reseller included) and their accounts, and nothing else.

:class:`ScopedUnitOfWork` wraps any store's unit of work (it is what
:meth:`custbill.CustomerBilling.scoped` runs its calls over).  Every read that names a
record outside the scope answers as for a record that does not exist (None, an empty
tuple, no search hit), so a use case cannot tell another tenant's record from a missing
one; every listing — all customers, a bill cycle's accounts, pending charges — leaves the
other scopes out; bill runs are told apart by scope, so two tenants may run the same cycle
on the same day.

What stays store-wide, on purpose: numbers are unique across the store (a number given by
hand that another scope holds is ``number_taken``; generated numbers never meet), external
numbers and, with ``unique_customer_names``, names too — a uniqueness check may therefore
tell that a value is taken, never by whom (the holder is named :data:`ELSEWHERE`).  The
settings and the catalog are the host's and are shared (a scoped facade does not change
them).  The plan-row fast path is not offered: a scoped bill run plans from the accounts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from types import TracebackType
from typing import Any

from moneyed import Money

from custbill.model import BillingAccount, Change, Customer, Note
from custbill.model.billing import Adjustment, Charge, Deposit, Invoice, IssuedPart, Payment
from custbill.model.dunning import DunningNotice
from custbill.storage.protocols import (
    AccountRepository,
    CatalogRepository,
    CustomerRepository,
    Hierarchy,
    HistoryRepository,
    LedgerRepository,
    NoteRepository,
    RowSecurity,
    SettingsRepository,
    UnitOfWork,
)

#: How a uniqueness check names a holder outside the scope.
ELSEWHERE = "(another scope)"


class Scope:
    """Which customers a scope holds: *root* and every customer whose chain of owners
    reaches it, remembered per customer for the unit of work.  Where the database holds
    the boundary too (:class:`~custbill.storage.protocols.RowSecurity`), uniqueness is
    asked :meth:`unrestricted`."""

    def __init__(self, root: str, customers: CustomerRepository, security: Any) -> None:
        self.root = root
        self._customers = customers
        self._known: dict[str, bool] = {root: True}
        self._security: RowSecurity | None = security if isinstance(security, RowSecurity) else None

    @contextlib.contextmanager
    def unrestricted(self) -> Iterator[None]:
        """Outside the database's boundary for the ``with`` block (a uniqueness check sees
        the whole store; what it reports of another scope is masked)."""
        if self._security is None:
            yield
            return
        self._security.leave_scope()
        try:
            yield
        finally:
            self._security.enter_scope(self.root)

    def holds(self, number: str | None) -> bool:
        """Whether the customer *number* is in the scope (a walk up its owners, each step
        remembered; a chain that loops, which only data stored past the rules can hold,
        is outside)."""
        if number is None:
            return False
        walked: list[str] = []
        found = False
        current: str | None = number
        while current is not None:
            known = self._known.get(current)
            if known is not None:
                found = known
                break
            if current in walked:
                break
            walked.append(current)
            customer = self._customers.get(current)
            current = None if customer is None else customer.owner
        for step in walked:
            self._known[step] = found
        return found

    def account_visible(self, account: BillingAccount | None) -> bool:
        return account is not None and self.holds(account.customer)


class ScopedCustomers:
    """The customers of a scope."""

    def __init__(self, inner: CustomerRepository, scope: Scope) -> None:
        self.inner, self.scope = inner, scope

    def get(self, number: str) -> Customer | None:
        found = self.inner.get(number)
        return found if found is not None and self.scope.holds(found.number) else None

    def add(self, customer: Customer) -> None:
        self.inner.add(customer)

    def update(self, customer: Customer) -> None:
        self.inner.update(customer)

    def with_external_number(self, external_number: str) -> str | None:
        with self.scope.unrestricted():
            holder = self.inner.with_external_number(external_number)
        return holder if holder is None or self.scope.holds(holder) else ELSEWHERE

    def named(self, name: str) -> tuple[str, ...]:
        with self.scope.unrestricted():
            found = self.inner.named(name)
        return tuple(n if self.scope.holds(n) else ELSEWHERE for n in found)

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        found = [n for n in self.inner.search(words) if self.scope.holds(n)]
        return found if limit is None else found[:limit]

    def all(self) -> Iterator[Customer]:
        return (c for c in self.inner.all() if self.scope.holds(c.number))


class ScopedAccounts:
    """The accounts of a scope's customers."""

    def __init__(self, inner: AccountRepository, scope: Scope) -> None:
        self.inner, self.scope = inner, scope

    def _visible(self, numbers: Sequence[str]) -> tuple[str, ...]:
        return tuple(n for n in numbers if self.scope.account_visible(self.inner.get(n)))

    def get(self, number: str) -> BillingAccount | None:
        found = self.inner.get(number)
        return found if self.scope.account_visible(found) else None

    def add(self, account: BillingAccount) -> None:
        self.inner.add(account)

    def update(self, account: BillingAccount) -> None:
        self.inner.update(account)

    def with_external_number(self, external_number: str) -> str | None:
        with self.scope.unrestricted():
            holder = self.inner.with_external_number(external_number)
        if holder is None or self.scope.account_visible(self.inner.get(holder)):
            return holder
        return ELSEWHERE

    def of_customer(self, customer: str) -> tuple[str, ...]:
        return self.inner.of_customer(customer) if self.scope.holds(customer) else ()

    def managed_by(self, number: str) -> tuple[str, ...]:
        return self._visible(self.inner.managed_by(number))

    def children_of(self, number: str) -> tuple[str, ...]:
        return self._visible(self.inner.children_of(number))

    def in_chain(self, number: str, start: str, hierarchy: Hierarchy) -> bool:
        return self.inner.in_chain(number, start, hierarchy)

    def on_bill_cycle(self, bill_cycle: str) -> Sequence[str]:
        return self._visible(self.inner.on_bill_cycle(bill_cycle))

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        found = list(self._visible(self.inner.search(words)))
        return found if limit is None else found[:limit]

    def all(self) -> Iterator[BillingAccount]:
        return (a for a in self.inner.all() if self.scope.holds(a.customer))


class ScopedHistory:
    """The change log of a scope's records."""

    def __init__(self, inner: HistoryRepository, scope: Scope, accounts: ScopedAccounts) -> None:
        self.inner, self.scope, self.accounts = inner, scope, accounts

    def _visible(self, number: str) -> bool:
        return self.scope.holds(number) or self.accounts.get(number) is not None

    def append(self, changes: Sequence[Change]) -> None:
        self.inner.append(changes)

    def of(self, number: str) -> tuple[Change, ...]:
        return self.inner.of(number) if self._visible(number) else ()

    def redact(self, number: str, fields: frozenset[str], mask: str) -> None:
        self.inner.redact(number, fields, mask)


class ScopedNotes:
    """The notes on a scope's records."""

    def __init__(self, inner: NoteRepository, history: ScopedHistory) -> None:
        self.inner, self.history = inner, history

    def add(self, note: Note) -> None:
        self.inner.add(note)

    def get(self, number: str) -> Note | None:
        found = self.inner.get(number)
        return found if found is not None and self.history._visible(found.about) else None

    def of(self, about: str) -> tuple[Note, ...]:
        return self.inner.of(about) if self.history._visible(about) else ()

    def delete(self, number: str) -> None:
        self.inner.delete(number)


class ScopedLedger:
    """The ledger of a scope's accounts; its bill runs told apart from other scopes'."""

    def __init__(self, inner: LedgerRepository, scope: Scope, accounts: ScopedAccounts) -> None:
        self.inner, self.scope, self.accounts = inner, scope, accounts

    def _mine(self, account: str) -> bool:
        return self.accounts.get(account) is not None

    def _run(self, bill_cycle: str) -> str:
        """The name the store knows this scope's runs of *bill_cycle* by."""
        return f"{bill_cycle}@{self.scope.root}"

    def invoice(self, number: str) -> Invoice | None:
        found = self.inner.invoice(number)
        return found if found is not None and self._mine(found.billed_account) else None

    def add_invoice(self, invoice: Invoice) -> None:
        self.inner.add_invoice(invoice)

    def invoices_of(self, account: str) -> tuple[Invoice, ...]:
        return self.inner.invoices_of(account) if self._mine(account) else ()

    def add_payment(self, payment: Payment) -> None:
        self.inner.add_payment(payment)

    def payments_of(self, account: str) -> tuple[Payment, ...]:
        return self.inner.payments_of(account) if self._mine(account) else ()

    def add_adjustment(self, adjustment: Adjustment) -> None:
        self.inner.add_adjustment(adjustment)

    def adjustments_of(self, account: str) -> tuple[Adjustment, ...]:
        return self.inner.adjustments_of(account) if self._mine(account) else ()

    def add_deposit(self, deposit: Deposit) -> None:
        self.inner.add_deposit(deposit)

    def deposits_of(self, account: str) -> tuple[Deposit, ...]:
        return self.inner.deposits_of(account) if self._mine(account) else ()

    def add_charge(self, charge: Charge) -> None:
        self.inner.add_charge(charge)

    def charge(self, number: str) -> Charge | None:
        found = self.inner.charge(number)
        return found if found is not None and self._mine(found.account) else None

    def charges_of(self, account: str) -> tuple[Charge, ...]:
        return self.inner.charges_of(account) if self._mine(account) else ()

    def pending_charges(self) -> tuple[Charge, ...]:
        return tuple(c for c in self.inner.pending_charges() if self._mine(c.account))

    def bill_charge(self, number: str, billed_on: date, invoice: str | None) -> None:
        self.inner.bill_charge(number, billed_on, invoice)

    def add_dunning_notice(self, notice: DunningNotice) -> None:
        self.inner.add_dunning_notice(notice)

    def dunning_notices_of(self, account: str) -> tuple[DunningNotice, ...]:
        return self.inner.dunning_notices_of(account) if self._mine(account) else ()

    def pending(self, account: str) -> Money | None:
        return self.inner.pending(account) if self._mine(account) else None

    def pending_amounts(self) -> Mapping[str, Money]:
        return {a: m for a, m in self.inner.pending_amounts().items() if self._mine(a)}

    def set_pending(self, account: str, amount: Money | None) -> None:
        self.inner.set_pending(account, amount)

    def open_run(self, bill_cycle: str, run_date: date, partitions: int) -> int:
        return self.inner.open_run(self._run(bill_cycle), run_date, partitions)

    def claim_part(self, bill_cycle: str, run_date: date, partition: int | None) -> int | None:
        return self.inner.claim_part(self._run(bill_cycle), run_date, partition)

    def run_parts(self, bill_cycle: str, run_date: date) -> tuple[IssuedPart, ...]:
        return self.inner.run_parts(self._run(bill_cycle), run_date)

    def record_part(self, bill_cycle: str, run_date: date, part: IssuedPart) -> None:
        self.inner.record_part(self._run(bill_cycle), run_date, part)


class ScopedUnitOfWork:
    """*inner*, seen from the scope of customer *root* (see the module's text)."""

    def __init__(self, inner: UnitOfWork, root: str) -> None:
        self.inner = inner
        self.scope = scope = Scope(root, inner.customers, inner)
        self.customers: CustomerRepository = ScopedCustomers(inner.customers, scope)
        accounts = ScopedAccounts(inner.accounts, scope)
        self.accounts: AccountRepository = accounts
        history = ScopedHistory(inner.history, scope, accounts)
        self.history: HistoryRepository = history
        self.notes: NoteRepository = ScopedNotes(inner.notes, history)
        self.ledger: LedgerRepository = ScopedLedger(inner.ledger, scope, accounts)
        self.catalog: CatalogRepository = inner.catalog
        self.settings: SettingsRepository = inner.settings

    def next_number(self, kind: str) -> int:
        return self.inner.next_number(kind)

    def next_numbers(self, kind: str, count: int) -> list[int]:
        return self.inner.next_numbers(kind, count)

    def number_taken(self, number: str) -> bool:
        with self.scope.unrestricted():
            return self.inner.number_taken(number)

    def savepoint(self) -> AbstractContextManager[None]:
        return self.inner.savepoint()

    def commit(self) -> None:
        self.inner.commit()

    def __enter__(self) -> ScopedUnitOfWork:
        """Enter the scope where the database holds the boundary too (the unit of work it
        wraps is entered and left by its owner)."""
        if isinstance(self.inner, RowSecurity):
            self.inner.enter_scope(self.scope.root)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Leave the database's scope (a batch goes on with other calls)."""
        if isinstance(self.inner, RowSecurity):
            self.inner.leave_scope()
