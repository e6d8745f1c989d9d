"""The facade's calls for the concepts of other platforms' customer modules — the catalog
entries accounts refer to, an account's transactions, facades scoped to a reseller's
customers — mixed into
:class:`~custbill.CustomerBilling`, whose units of work they run in (see
:doc:`/platforms`)."""

from __future__ import annotations

import contextlib
import copy
from contextlib import AbstractContextManager
from typing import Self

import attrs

from custbill.model.transactions import Transaction
from custbill.service import queries, tenant
from custbill.service import transactions as transaction_cases
from custbill.service._calls import FacadeCalls
from custbill.service._unit import Context, require
from custbill.service.queries import CATALOG_KINDS
from custbill.storage.protocols import CatalogItem, UnitOfWork
from custbill.storage.scoped import ScopedUnitOfWork


class PlatformCalls(FacadeCalls):
    """Catalog entries of any kind, an account's transactions, scoped facades (see
    :doc:`/platforms`)."""

    #: The customer whose subtree this facade sees, or None for the whole store.
    _scope: str | None = None
    _context: Context

    def _view(self, uow: UnitOfWork) -> AbstractContextManager[UnitOfWork]:
        """*uow* as this facade sees it, for the ``with`` block of one call: the whole
        store, or its scope's part."""
        if self._scope is None:
            return contextlib.nullcontext(uow)
        return ScopedUnitOfWork(uow, self._scope)

    def scoped(self, reseller_number: str) -> Self:
        """This facade, seeing only customer *reseller_number* and the customers under it
        (their ``owner`` chains reach it, to any depth), with their accounts and records.

        Through it every read, search, listing, edit, bill run and issue stays inside the
        scope; a number outside it is not found, exactly as a number that does not exist;
        hierarchy links and their candidates never leave it; every customer created
        through it sits under *reseller_number* unless it names an owner inside the scope.
        It shares the store, the clock, the actor and an open batch, reads the shared
        settings and catalog, and does not change them (``scope.shared_read_only``).
        Numbers stay unique store-wide.  On PostgreSQL the boundary is also held by
        row-level security (:doc:`/storage`).

        Raises:
            NotFoundError: no customer *reseller_number* in this facade's view.
            TypeError: *reseller_number* is not text.
        """
        require(reseller_number, str, "reseller_number")
        root = self._read(queries.get_customer, reseller_number)
        view = copy.copy(self)
        view._scope = root.number
        view._context = attrs.evolve(self._context, scope=root.number)
        return view

    def transactions(self, account_number: str) -> tuple[Transaction, ...]:
        """The account's invoices, payments, adjustments and deposit movements in date
        order, each with the balance after it (the last balance is the summary's).

        Raises:
            NotFoundError: no such account.
        """
        return self._read(transaction_cases.transactions, account_number)

    def add_catalog_entry(self, entry: CatalogItem) -> None:
        """Add a catalog entry of any kind: a bill cycle, payment term, account category or
        dunning plan, or one of the entries accounts refer to — a
        :class:`~custbill.ContractType`, :class:`~custbill.InvoiceTemplate`,
        :class:`~custbill.WebTemplate`, :class:`~custbill.Salesperson`,
        :class:`~custbill.RatePlan`, :class:`~custbill.Feature` or
        :class:`~custbill.CustomerType` (``catalog.invalid``, ``catalog.id_taken``; ids
        are unique within their kind).

        Raises:
            TypeError: *entry* is not a catalog entry.
        """
        self._run(tenant.add_catalog_entry, entry, CATALOG_KINDS)
