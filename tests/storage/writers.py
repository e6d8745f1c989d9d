"""Code run in other processes by the multi-process tests of the SQL stores: writers that
race one another, or are killed mid-operation.

A store is named by a string: a PostgreSQL DSN (``postgresql://…``) or a SQLite path.
Run as a script (``python -m tests.storage.writers STORE PREFIX``) it is a writer that
creates and edits customers until it is killed.
"""

from __future__ import annotations

import sys
import time
from datetime import date

import custbill as cb
from custbill.storage import PostgresStore, SQLiteStore, Store


class Refused(Exception):
    """Raised inside a batch to undo it: the batch is meant to leave nothing."""


def open_store(name: str) -> Store:
    return PostgresStore(name) if name.startswith("postgresql://") else SQLiteStore(name)


def facade(name: str) -> cb.CustomerBilling:
    return cb.CustomerBilling(store=open_store(name))


def catalog(billing: cb.CustomerBilling) -> None:
    """The one cycle, term and category the workers use."""
    billing.add_bill_cycle(
        cb.BillCycle(
            id="m1",
            name="M",
            period=cb.BillingPeriod.MONTHLY,
            bill_day=1,
            start_date=date(2020, 1, 1),
        )
    )
    billing.add_payment_term(cb.PaymentTerm(id="n30", name="Net 30", net_days=30))
    billing.add_account_category(cb.AccountCategory(id="c", name="C"))


def new_account(number: str | None = None, responsible: str | None = None) -> cb.NewAccount:
    """An account on the workers' catalog (under *responsible*, if given)."""
    return cb.NewAccount(
        number=number,
        responsible_account=responsible,
        currency="USD",
        bill_cycle="m1",
        start_date=date(2020, 1, 1),
        category="c",
        payment_term="n30",
        invoice_type=cb.InvoiceType.NONE,
    )


def edit_many(name: str, account: str, count: int) -> int:
    """Read-modify-write *count* increments of the account's auto-pay offset, retrying on
    ConflictError; returns how many conflicts it met."""
    billing = facade(name)
    done = conflicts = 0
    while done < count:
        current = billing.get_account(account)
        try:
            billing.edit_account(
                account,
                auto_pay_offset_days=current.auto_pay_offset_days + 1,
                expected_version=current.version,
            )
        except cb.ConflictError:
            conflicts += 1
            continue
        done += 1
    billing.close()
    return conflicts


def create_many(name: str, count: int) -> list[str]:
    """Create *count* customers; their numbers."""
    billing = facade(name)
    numbers = []
    for index in range(count):
        customer, _ = billing.create_customer(
            cb.NewCustomer(
                kind=cb.CustomerKind.COMPANY,
                company_name=f"Many {index}",
                primary_email=f"m{index}@x.example",
            ),
            new_account(),
        )
        numbers.append(customer.number)
    billing.close()
    return numbers


def add_defaults(name: str, customer: str, count: int) -> int:
    """Add *count* accounts to *customer*, each made its default (retrying stale reads);
    returns the conflicts met."""
    billing = facade(name)
    conflicts = 0
    for _ in range(count):
        while True:
            try:
                billing.add_account(customer, new_account(), make_default=True)
                break
            except cb.ConflictError:
                conflicts += 1
    billing.close()
    return conflicts


def write_batches(name: str, prefix: str, count: int, start: float) -> list[str]:
    """From time *start*, *count* batches, each creating a customer with two more accounts
    (one made its default) and renaming it; every third batch is refused at its end, after
    all its writes.  Returns the numbers of the customers of the batches that committed."""
    billing = facade(name)
    time.sleep(max(0.0, start - time.time()))
    kept = []
    for index in range(count):
        try:
            with billing.batch():
                customer, _ = billing.create_customer(
                    cb.NewCustomer(
                        number=f"{prefix}-{index}",
                        kind=cb.CustomerKind.COMPANY,
                        company_name=f"Batch {prefix} {index}",
                        primary_email="b@x.example",
                    ),
                    new_account(),
                )
                billing.add_account(customer.number, new_account())
                billing.add_account(customer.number, new_account(), make_default=True)
                billing.edit_customer(customer.number, company_name=f"Batched {prefix} {index}")
                if index % 3 == 2:
                    raise Refused(customer.number)
            kept.append(customer.number)
        except Refused:
            pass
    billing.close()
    return kept


def link(name: str, account: str, responsible: str, start: float) -> str:
    """At time *start*, make *responsible* the responsible account of *account*: "linked",
    "conflict", or the first rule code that refused it."""
    billing = facade(name)
    time.sleep(max(0.0, start - time.time()))
    try:
        billing.edit_account(account, responsible_account=responsible)
        outcome = "linked"
    except cb.RuleViolationError as error:
        outcome = error.violations[0].code
    except cb.ConflictError:
        outcome = "conflict"
    billing.close()
    return outcome


def churn(name: str, role: str, chains: list[list[str]], rounds: int, start: float) -> int:
    """From time *start*, *rounds* times over the *chains* (each a top account, then the
    accounts below it, each under the one before): as "mover", move each chain's second
    account under the next chain's top, or make it a top of its own; as "adder", add an
    account under each chain's last account.  Returns the calls made (conflicts retried)."""
    billing = facade(name)
    time.sleep(max(0.0, start - time.time()))
    calls = 0
    for round_ in range(rounds):
        for index, chain in enumerate(chains):
            while True:
                try:
                    if role == "mover":
                        target = None if round_ % 2 else chains[(index + 1) % len(chains)][0]
                        billing.edit_account(chain[1], responsible_account=target)
                    else:
                        customer = billing.get_account(chain[-1]).customer
                        billing.add_account(customer, new_account(responsible=chain[-1]))
                    break
                except cb.ConflictError:
                    continue
            calls += 1
    billing.close()
    return calls


def write_forever(name: str, prefix: str) -> None:
    """Create customers (each with its account) and edit them, until killed."""
    billing = facade(name)
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        customer, account = billing.create_customer(
            cb.NewCustomer(
                number=f"{prefix}-{i}",
                kind=cb.CustomerKind.COMPANY,
                company_name=f"Killed {prefix} {i}",
                primary_email="k@x.example",
            ),
            new_account(f"{prefix}-{i}-A"),
        )
        billing.edit_customer(customer.number, company_name=f"Edited {prefix} {i}")


if __name__ == "__main__":
    write_forever(sys.argv[1], sys.argv[2])
