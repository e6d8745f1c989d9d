"""Code run in other processes by the multi-process tests of the SQL stores: bill-run
workers (writers racing on the rules' invariants are :mod:`tests.storage.writers`).

A store is named by a string: a PostgreSQL DSN (``postgresql://…``) or a SQLite path.
Run as a script (``python -m tests.storage.run_workers STORE MARKER``) it is a bill-run
worker that stops, holding its part, once it has claimed one: it writes MARKER and sleeps
until it is killed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import date

from moneyed import Money

import custbill as cb
from tests.storage.writers import catalog, facade, new_account, open_store

RUN = date(2026, 7, 1)
PARTS = 8


def populate(name: str, tops: int) -> dict[str, Money]:
    """*tops* customers, each with a top account and two managed below it; returns a charge
    for every account."""
    billing = cb.CustomerBilling(
        store=open_store(name),
        settings=cb.Settings(
            allow_multi_customer_accounts=True, enable_responsible_account_management=True
        ),
    )
    catalog(billing)
    with billing.batch():
        for index in range(tops):
            customer, top = billing.create_customer(
                cb.NewCustomer(
                    kind=cb.CustomerKind.COMPANY,
                    company_name=f"Co {index}",
                    primary_email=f"c{index}@x.example",
                ),
                new_account(),
            )
            for _ in range(2):
                account = billing.add_account(customer.number, new_account())
                billing.edit_account(account.number, responsible_account=top.number)
    billing.close()
    return charges_of(name)


def charges_of(name: str) -> dict[str, Money]:
    """A charge of 10 USD for every account of the customers :func:`populate` made."""
    billing = facade(name)
    charges = {
        account.number: Money(10, "USD")
        for customer in billing.search_customers("co")
        for account in billing.accounts_of(customer.number)
    }
    billing.close()
    return charges


def issue_parts(name: str) -> list[int]:
    """A worker: issue parts of the run until none is left; the indexes it issued."""
    billing = facade(name)
    charges = charges_of(name)
    done = []
    while (part := billing.issue_next_partition("m1", RUN, charges, partitions=PARTS)) is not None:
        done.append(part.partition.index)
    billing.close()
    return done


class _Stalling(Mapping[str, Money]):
    """Charges that stall the worker once its part is held: the first ``items()`` after
    the checks (the partition's charges are picked out) writes *marker* and sleeps."""

    def __init__(self, charges: dict[str, Money], marker: str) -> None:
        self.charges = charges
        self.marker = marker

    def __getitem__(self, key: str) -> Money:
        return self.charges[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.charges)

    def __len__(self) -> int:
        return len(self.charges)

    def items(self):  # type: ignore[no-untyped-def,override]
        with open(self.marker, "w") as out:
            out.write(str(os.getpid()))
        time.sleep(600)
        return self.charges.items()


if __name__ == "__main__":
    store_name, marker = sys.argv[1], sys.argv[2]
    worker = facade(store_name)
    worker.issue_next_partition(
        "m1", RUN, _Stalling(charges_of(store_name), marker), partitions=PARTS
    )
