"""Rules about end dates: an account ends on or after it starts, and an end date that has
passed no longer changes (the runs after it billed the record as ended)."""

from __future__ import annotations

from datetime import date

from custbill.model import BillingAccount, Customer, NewAccount, NewCustomer, Violation
from custbill.rules._support import violation
from custbill.rules.lookup import Lookup


def check_end_date(
    record: NewAccount | BillingAccount | NewCustomer | Customer,
    before: BillingAccount | Customer | None,
    lookup: Lookup,
) -> tuple[Violation, ...]:
    """``*.end_date_passed`` when an edit changes an end date before today;
    ``account.end_date_before_start`` when an account ends before it starts."""
    kind = "account" if isinstance(record, NewAccount | BillingAccount) else "customer"
    found: list[Violation] = []
    end = record.end_date
    if (
        isinstance(record, NewAccount | BillingAccount)
        and end is not None
        and end < record.start_date
    ):
        found.append(
            violation(
                "account.end_date_before_start",
                "end_date",
                f"the account starts on {record.start_date.isoformat()}",
                start_date=record.start_date.isoformat(),
            )
        )
    if before is not None and _passed(before.end_date, lookup.today) and end != before.end_date:
        assert before.end_date is not None
        found.append(
            violation(
                f"{kind}.end_date_passed",
                "end_date",
                f"the {kind} ended on {before.end_date.isoformat()}; that no longer changes",
                end_date=before.end_date.isoformat(),
            )
        )
    return tuple(found)


def _passed(end: date | None, today: date) -> bool:
    return end is not None and end < today
