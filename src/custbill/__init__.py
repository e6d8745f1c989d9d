"""custbill: customers and billing accounts for billing platforms.

>>> import custbill as cb
>>> billing = cb.CustomerBilling()
>>> billing.settings.allow_multi_customer_accounts
False
"""

from importlib.metadata import PackageNotFoundError, version

from moneyed import Money

from custbill.errors import (
    ConflictError,
    CurrencyMismatchError,
    CustbillError,
    InvalidDataError,
    NotFoundError,
    RuleViolationError,
)
from custbill.model import (
    AccountCategory,
    AccountStatus,
    Address,
    BillCycle,
    BillingAccount,
    BillingPeriod,
    Change,
    Channel,
    Contact,
    Customer,
    CustomerKind,
    CustomFieldDefinition,
    CustomFieldTarget,
    CustomFieldType,
    DunningPlan,
    DunningStep,
    InvoiceRendering,
    InvoiceType,
    NewAccount,
    NewCustomer,
    PaymentMethod,
    PaymentMethodKind,
    PaymentTerm,
    Phone,
    PhoneType,
    Settings,
    Violation,
)
from custbill.service import CustomerBilling
from custbill.summary import AccountLine, AccountSummary, CustomerSummary

try:
    __version__ = version("custbill")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "AccountCategory",
    "AccountLine",
    "AccountStatus",
    "AccountSummary",
    "Address",
    "BillCycle",
    "BillingAccount",
    "BillingPeriod",
    "Change",
    "Channel",
    "ConflictError",
    "Contact",
    "CurrencyMismatchError",
    "CustbillError",
    "CustomFieldDefinition",
    "CustomFieldTarget",
    "CustomFieldType",
    "Customer",
    "CustomerBilling",
    "CustomerKind",
    "CustomerSummary",
    "DunningPlan",
    "DunningStep",
    "InvalidDataError",
    "InvoiceRendering",
    "InvoiceType",
    "Money",
    "NewAccount",
    "NewCustomer",
    "NotFoundError",
    "PaymentMethod",
    "PaymentMethodKind",
    "PaymentTerm",
    "Phone",
    "PhoneType",
    "RuleViolationError",
    "Settings",
    "Violation",
    "__version__",
]
