"""Plan rows: what planning a bill run needs of one account, as a plain tuple.

A store may keep a plan row beside each account and renew it on every write that changes
it (:class:`~custbill.storage.protocols.PlanRowSource`); the row planner
(:mod:`custbill.billing.plan_rows`) then plans a run from the rows of the cycle without
reading an account object for the usual invoice.  The row format lives here, below both
the stores and the planners, so that neither imports the other.

A row is a plain ``tuple`` of plain values, its fields at the positions named below (read
them by these names, or unpack the whole row).  Plain on purpose: the garbage collector
stops tracking a tuple of atomic values, so a million rows add nothing to a full
collection, and unpacking an exact tuple is three times quicker than unpacking a
``NamedTuple`` (measured: 32 ns against 85–110 ns a row of nine fields), which a run pays
once per account.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Final, NamedTuple

from custbill.model.account import BillingAccount
from custbill.model.enums import AccountStatus, InvoiceRendering, InvoiceType, PaymentMode

#: The account's number.
NUMBER: Final = 0
#: Whether the account is DEACTIVATED.
DEACTIVATED: Final = 1
#: The account's start date.
START: Final = 2
#: The account's responsible account, or None.
RESPONSIBLE: Final = 3
#: The account's invoice currency.
INVOICE_CURRENCY: Final = 4
#: The minimum invoice amount as a Decimal (in the invoice currency), or None.
MINIMUM: Final = 5
#: A small number, equal for two accounts only when their :func:`profile_key` is (and for
#: any two with equal keys, but where a store cannot tell an account's key from what it
#: holds: then the account has a number of its own).
PROFILE: Final = 6
#: The customer's primary email, None once the customer is erased.
EMAIL: Final = 7
#: Whether some account has this one as its responsible account.
MANAGING: Final = 8
#: The account's last day (:func:`end_of`), or None.
END: Final = 9
#: Whether the account is FREE (:class:`~custbill.PaymentMode`): never invoiced.
FREE: Final = 10

#: One account's plan row (fields at the positions named above).
PlanRow = tuple[
    str, bool, date, str | None, str, Decimal | None, int, str | None, bool, date | None, bool
]

#: What invoices billed to an account share with those of every account with an equal key.
ProfileKey = tuple[
    str, bool, int, InvoiceType, bool, frozenset[str | None] | None, bool, str | None, bool
]


def profile_key(account: BillingAccount) -> ProfileKey:
    """What an invoice billed to *account* shares with every invoice billed to an account
    with an equal key: payment term, auto-pay, invoice type, distribution, whether it has
    contacts and of which categories, whether it has invoice addresses (the recipients of
    both are found per account), its invoice note, and whether its managed accounts'
    charges are rendered per account."""
    contacts = account.contacts
    return (
        account.payment_term,
        account.auto_pay,
        account.auto_pay_offset_days,
        account.invoice_type,
        account.distribute_invoice,
        frozenset(c.category for c in contacts) if contacts else None,
        bool(account.invoice_emails),
        account.invoice_note,
        account.invoice_rendering is InvoiceRendering.PER_ACCOUNT,
    )


def end_of(account_end: date | None, customer_end: date | None) -> date | None:
    """An account's last day: its own end date or its customer's, the earlier."""
    if account_end is None or customer_end is None:
        return account_end or customer_end
    return min(account_end, customer_end)


def plan_row(
    account: BillingAccount,
    email: str | None,
    profile: int,
    managing: bool,
    customer_end: date | None = None,
) -> PlanRow:
    """The plan row of *account*, whose customer's primary email is *email* (None once the
    customer is erased) and end date *customer_end*; *profile* numbers the account's
    :func:`profile_key`; *managing* when some account has it as responsible account."""
    minimum = account.minimum_invoice_amount
    return (
        account.number,
        account.status is AccountStatus.DEACTIVATED,
        account.start_date,
        account.responsible_account,
        account.invoice_currency,
        None if minimum is None else minimum.amount,
        profile,
        email,
        managing,
        end_of(account.end_date, customer_end),
        account.payment_mode is PaymentMode.FREE,
    )


def _none_elsewhere(numbers: Collection[str]) -> frozenset[str]:
    return frozenset()


class PlanRows(NamedTuple):
    """The plan rows of one bill cycle, or of one partition of its runs
    (:class:`~custbill.model.billing.Partition`), as a store hands them to the row
    planner."""

    #: Every account's row, in number order (read once per plan).
    rows: Iterable[PlanRow]
    #: The rows of the accounts that have a responsible account.
    managed: Iterable[PlanRow]
    #: The row of an account of the rows by number (None for any other number).
    row_of: Callable[[str], PlanRow | None]
    #: Reads the accounts of several numbers at once, for a store where reading one
    #: account costs a round trip (None where one read costs no more than a lookup).
    read_many: Callable[[Collection[str]], Mapping[str, BillingAccount]] | None = None
    #: Which of several numbers, none of them in these rows, are accounts of the cycle (in
    #: other partitions); for the rows of a whole cycle, none are.
    on_cycle: Callable[[Collection[str]], Collection[str]] = _none_elsewhere
