"""Uses of the public API that mypy --strict must accept (checked, never run)."""

from __future__ import annotations

from datetime import date

import custbill as cb
from custbill.billing import bill_dates, next_bill_date
from custbill.serialization import from_json, to_json
from custbill.storage import MemoryStore, Store


def use() -> None:
    store: Store = MemoryStore()
    with cb.CustomerBilling(store=store, settings=cb.Settings()) as billing:
        cycle = cb.BillCycle(
            id="m",
            name="M",
            period=cb.BillingPeriod.MONTHLY,
            bill_day=1,
            start_date=date(2026, 1, 1),
        )
        billing.add_bill_cycle(cycle)
        customer, account = billing.create_customer(
            cb.NewCustomer(
                kind=cb.CustomerKind.PERSON, first_name="A", last_name="B", primary_email="a@b.io"
            ),
            cb.NewAccount(
                currency="USD",
                bill_cycle="m",
                start_date=date(2026, 1, 1),
                category="c",
                payment_term="p",
                invoice_type=cb.InvoiceType.NONE,
                minimum_invoice_amount=cb.Money("10", "USD"),
            ),
        )
        number: str = customer.number
        edited: cb.BillingAccount = billing.edit_account(
            account.number, taxable=True, expected_version=1
        )
        found: tuple[cb.Customer, ...] = billing.search_customers("a")
        changes: tuple[cb.Change, ...] = billing.history(number)
        report: dict[str, tuple[cb.Violation, ...]] = billing.validate_customers()
        dates: list[date] = bill_dates(cycle, date(2026, 1, 1), date(2026, 12, 31))
        first: date = next_bill_date(cycle, date(2026, 1, 2))
        again: cb.BillingAccount = from_json(cb.BillingAccount, to_json(edited))
        try:
            billing.get_account("missing")
        except cb.NotFoundError as error:
            print(error.key)
        except cb.RuleViolationError as error:
            codes: frozenset[str] = error.codes
            print(codes)
        print(found, changes, report, dates, first, again)
