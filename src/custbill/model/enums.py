"""Enumerations of the domain.  Values equal names, so they read the same in JSON."""

from __future__ import annotations

import enum
from typing import Literal

#: The two account hierarchies: billing (``"responsible"``) and reporting (``"parent"``).
Hierarchy = Literal["responsible", "parent"]


class CustomerKind(enum.StrEnum):
    """Whether "Customer Name" is the company name or the personal name."""

    COMPANY = "COMPANY"
    PERSON = "PERSON"


class PaymentMode(enum.StrEnum):
    """How an account pays: the hosting platform's payment method Free / Invoice / Credit
    Card, and the telecom module's automatic payments.

    FREE accounts are never invoiced (a bill run skips them, saying so, and takes no charge
    for them); INVOICE accounts are invoiced and pay as they choose (auto-pay may still
    collect); AUTOMATIC accounts are invoiced and collected from the card or bank account on
    file, so they need auto-pay and, through it, a payment method.
    """

    FREE = "FREE"
    INVOICE = "INVOICE"
    AUTOMATIC = "AUTOMATIC"


class AccountStatus(enum.StrEnum):
    """Lifecycle state of a billing account."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    PENDING_COLLECTION = "PENDING_COLLECTION"
    DEACTIVATED = "DEACTIVATED"


class InvoiceType(enum.StrEnum):
    """How invoices reach the customer."""

    NONE = "NONE"
    EMAIL = "EMAIL"
    PAPER = "PAPER"
    PAPER_AND_EMAIL = "PAPER_AND_EMAIL"


class InvoiceRendering(enum.StrEnum):
    """How a responsible account renders its managed accounts' charges."""

    AGGREGATED = "AGGREGATED"
    PER_ACCOUNT = "PER_ACCOUNT"


class Channel(enum.StrEnum):
    """A channel an invoice is distributed through."""

    PDF = "PDF"
    EMAIL = "EMAIL"


class PhoneType(enum.StrEnum):
    """Kind of a phone number."""

    MOBILE = "MOBILE"
    WORK = "WORK"
    HOME = "HOME"
    FAX = "FAX"
    OTHER = "OTHER"


class PaymentMethodKind(enum.StrEnum):
    """Kind of a stored payment method (always a token, never the card itself)."""

    CARD = "CARD"
    BANK_ACCOUNT = "BANK_ACCOUNT"


class BillingPeriod(enum.StrEnum):
    """Length of a bill cycle's period."""

    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    SEMI_ANNUAL = "SEMI_ANNUAL"
    ANNUAL = "ANNUAL"


class CustomFieldTarget(enum.StrEnum):
    """What a custom field is defined on."""

    CUSTOMER = "CUSTOMER"
    ACCOUNT = "ACCOUNT"


class CustomFieldType(enum.StrEnum):
    """Type of a custom field's values."""

    TEXT = "TEXT"
    NUMBER = "NUMBER"
    DATE = "DATE"
    CHOICE = "CHOICE"


class AdjustmentKind(enum.StrEnum):
    """Whether an adjustment lowers (CREDIT) or raises (DEBIT) an account's balance."""

    CREDIT = "CREDIT"
    DEBIT = "DEBIT"


class DepositAction(enum.StrEnum):
    """What happened to a security deposit: received and HELD, APPLIED to an invoice (it
    then pays it, as a payment does), or REFUNDED to the customer."""

    HELD = "HELD"
    APPLIED = "APPLIED"
    REFUNDED = "REFUNDED"


class DunningAction(enum.StrEnum):
    """What a dunning step does to an overdue account: NOTIFY records a notice (a reminder,
    a letter, a call: the step's own ``action`` text says which); SUSPEND,
    PENDING_COLLECTION and DEACTIVATE also set the account's status."""

    NOTIFY = "NOTIFY"
    SUSPEND = "SUSPEND"
    PENDING_COLLECTION = "PENDING_COLLECTION"
    DEACTIVATE = "DEACTIVATE"

    @classmethod
    def of(cls, action: str) -> DunningAction:
        """The action a step's text names — its words in any case, separated by spaces,
        hyphens or underscores (``"Pending collection"``) — and NOTIFY for any other
        text."""
        key = "_".join(action.replace("-", " ").replace("_", " ").split()).upper()
        return cls.__members__.get(key, cls.NOTIFY)


class TransactionKind(enum.StrEnum):
    """What a transaction records, in the order the records of one day are listed: what
    the account owes first, then what settles it, then deposit movements."""

    INVOICE = "INVOICE"
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"
    PAYMENT = "PAYMENT"
    DEPOSIT_APPLIED = "DEPOSIT_APPLIED"
    DEPOSIT_HELD = "DEPOSIT_HELD"
    DEPOSIT_REFUNDED = "DEPOSIT_REFUNDED"
