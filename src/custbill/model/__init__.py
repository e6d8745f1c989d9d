"""What things are: frozen value objects and enums, with no I/O and no rule logic."""

from custbill.model.account import BillingAccount, NewAccount
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
    "BillCycle",
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
    "InvoiceRendering",
    "InvoiceType",
    "NewAccount",
    "NewCustomer",
    "PaymentMethod",
    "PaymentMethodKind",
    "PaymentTerm",
    "Phone",
    "PhoneType",
    "Settings",
    "Violation",
]
