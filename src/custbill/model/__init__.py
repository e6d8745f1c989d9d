"""What things are: frozen value objects and enums, with no I/O and no rule logic."""

from custbill.model.account import BillingAccount, NewAccount
from custbill.model.billing import (
    Adjustment,
    BillRunPlan,
    Invoice,
    Payment,
    PlannedInvoice,
    PoolAllocation,
    PoolResult,
    SkippedAccount,
)
from custbill.model.catalog import (
    AccountCategory,
    BillCycle,
    CustomFieldDefinition,
    DunningPlan,
    DunningStep,
    PaymentTerm,
)
from custbill.model.customer import Customer, CustomValue, NewCustomer
from custbill.model.enums import (
    AccountStatus,
    AdjustmentKind,
    BillingPeriod,
    Channel,
    CustomerKind,
    CustomFieldTarget,
    CustomFieldType,
    InvoiceRendering,
    InvoiceType,
    PaymentMethodKind,
    PhoneType,
)
from custbill.model.settings import Settings
from custbill.model.values import Address, Change, Contact, PaymentMethod, Phone, Violation

__all__ = [
    "AccountCategory",
    "AccountStatus",
    "Address",
    "Adjustment",
    "AdjustmentKind",
    "BillCycle",
    "BillRunPlan",
    "BillingAccount",
    "BillingPeriod",
    "Change",
    "Channel",
    "Contact",
    "CustomFieldDefinition",
    "CustomFieldTarget",
    "CustomFieldType",
    "CustomValue",
    "Customer",
    "CustomerKind",
    "DunningPlan",
    "DunningStep",
    "Invoice",
    "InvoiceRendering",
    "InvoiceType",
    "NewAccount",
    "NewCustomer",
    "Payment",
    "PaymentMethod",
    "PaymentMethodKind",
    "PaymentTerm",
    "Phone",
    "PhoneType",
    "PlannedInvoice",
    "PoolAllocation",
    "PoolResult",
    "Settings",
    "SkippedAccount",
    "Violation",
]
