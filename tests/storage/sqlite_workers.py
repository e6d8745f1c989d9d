"""Code run in other processes by the SQLite multi-process tests."""

from __future__ import annotations

import sys
from datetime import date

import custbill as cb
from custbill.storage import SQLiteStore


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


def new_account(number: str | None = None) -> cb.NewAccount:
    """An account on the workers' catalog."""
    return cb.NewAccount(
        number=number,
        currency="USD",
        bill_cycle="m1",
        start_date=date(2020, 1, 1),
        category="c",
        payment_term="n30",
        invoice_type=cb.InvoiceType.NONE,
    )


def edit_many(path: str, account: str, count: int) -> int:
    """Read-modify-write *count* increments of the account's auto-pay offset, retrying on
    ConflictError; returns how many conflicts it met."""
    billing = cb.CustomerBilling(store=SQLiteStore(path))
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


def write_forever(path: str, prefix: str) -> None:
    """Create customers (each with its account) and edit them, until killed."""
    billing = cb.CustomerBilling(store=SQLiteStore(path))
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
