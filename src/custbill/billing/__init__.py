"""What happens over time: the billing calendar (and, built on it, bill runs)."""

from custbill.billing.calendar import (
    auto_pay_date,
    bill_dates,
    due_date,
    is_suppressed,
    next_bill_date,
)

__all__ = ["auto_pay_date", "bill_dates", "due_date", "is_suppressed", "next_bill_date"]
