"""What happens over time: the billing calendar, bill-run planning and usage pooling."""

from custbill.billing.calendar import (
    auto_pay_date,
    bill_dates,
    due_date,
    is_suppressed,
    next_bill_date,
    previous_bill_date,
)
from custbill.billing.plan import plan_run
from custbill.billing.pooling import allocate

__all__ = [
    "allocate",
    "auto_pay_date",
    "bill_dates",
    "due_date",
    "is_suppressed",
    "next_bill_date",
    "plan_run",
    "previous_bill_date",
]
