"""The facade's calls for the concepts of other platforms' customer modules — the catalog
entries accounts refer to, an account's transactions — mixed into
:class:`~custbill.CustomerBilling`, whose units of work they run in (see
:doc:`/platforms`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from custbill.model.transactions import Transaction
from custbill.service import tenant
from custbill.service import transactions as transaction_cases
from custbill.service._unit import Context
from custbill.service.queries import CATALOG_KINDS
from custbill.storage.protocols import CatalogItem, UnitOfWork

P = ParamSpec("P")
R = TypeVar("R")


class PlatformCalls:
    """Catalog entries of any kind, an account's transactions (see :doc:`/platforms`)."""

    def _run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, Context, P], R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        raise NotImplementedError  # (CustomerBilling's)

    def _read(
        self,
        use_case: Callable[Concatenate[UnitOfWork, Context, P], R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        raise NotImplementedError  # (CustomerBilling's)

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
        :class:`~custbill.WebTemplate`, :class:`~custbill.Salesperson` or
        :class:`~custbill.RatePlan` (``catalog.invalid``, ``catalog.id_taken``; ids are
        unique within their kind).

        Raises:
            TypeError: *entry* is not a catalog entry.
        """
        self._run(tenant.add_catalog_entry, entry, CATALOG_KINDS)
