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
    StorageError,
)
from custbill.model import (
    AccountCategory,
    AccountStatus,
    Address,
    Adjustment,
    AdjustmentKind,
    BillCycle,
    BillingAccount,
    BillingPeriod,
    BillRunPlan,
    BillRunStatus,
    Change,
    Channel,
    Charge,
    Contact,
    Customer,
    CustomerKind,
    CustomFieldDefinition,
    CustomFieldTarget,
    CustomFieldType,
    Deposit,
    DepositAction,
    DunningPlan,
    DunningStep,
    Invoice,
    InvoiceRendering,
    InvoiceType,
    NewAccount,
    NewCustomer,
    Note,
    Partition,
    PartitionIssued,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentTerm,
    Phone,
    PhoneType,
    PlannedInvoice,
    PoolAllocation,
    PoolResult,
    Settings,
    SkippedAccount,
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
    "Adjustment",
    "AdjustmentKind",
    "BillCycle",
    "BillRunPlan",
    "BillRunStatus",
    "BillingAccount",
    "BillingPeriod",
    "Change",
    "Channel",
    "Charge",
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
    "Deposit",
    "DepositAction",
    "DunningPlan",
    "DunningStep",
    "InvalidDataError",
    "Invoice",
    "InvoiceRendering",
    "InvoiceType",
    "Money",
    "NewAccount",
    "NewCustomer",
    "NotFoundError",
    "Note",
    "Partition",
    "PartitionIssued",
    "Payment",
    "PaymentMethod",
    "PaymentMethodKind",
    "PaymentTerm",
    "Phone",
    "PhoneType",
    "PlannedInvoice",
    "PoolAllocation",
    "PoolResult",
    "RuleViolationError",
    "Settings",
    "SkippedAccount",
    "StorageError",
    "Violation",
    "__version__",
]
