"""What an invoice of a bill run is made of, whichever planner finds it.

Both planners — the readable one (:mod:`custbill.billing.plan`) and the row planner
(:mod:`custbill.billing.plan_rows`) — work out an invoice's dates and delivery with
:func:`invoice_profile`, split a billed account's charges into invoices with
:func:`invoices_billed_to`, and build every :class:`~custbill.PlannedInvoice` with
:func:`planned_invoice`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from moneyed import Money

from custbill.billing.calendar import auto_pay_date, due_date
from custbill.model import (
    BillingAccount,
    Channel,
    InvoiceRendering,
    InvoiceType,
    PaymentTerm,
    PlannedInvoice,
    Settings,
)
from custbill.model.currencies import money_of
from custbill.model.promote import assembler

#: The reason a deactivated account gets no invoice.
REASON_DEACTIVATED = "deactivated"
#: The reason a FREE account (:class:`~custbill.PaymentMode`) gets no invoice.
REASON_FREE = "free: never invoiced"
#: The reason an account with nothing to bill gets no invoice.
REASON_NO_CHARGES = "no charges"
#: The note of an invoice whose email has nobody to go to.
NO_RECIPIENT = "email is enabled but no recipient has an email address"

_CHANNELS = {
    InvoiceType.NONE: frozenset(),
    InvoiceType.PAPER: frozenset({Channel.PDF}),
    InvoiceType.EMAIL: frozenset({Channel.EMAIL}),
    InvoiceType.PAPER_AND_EMAIL: frozenset({Channel.PDF, Channel.EMAIL}),
}


def reason_starts_later(start: date) -> str:
    """Why an account that starts after the run gets no invoice."""
    return f"starts on {start.isoformat()}"


def reason_ended(end: date) -> str:
    """Why an account whose final period a run before this one billed gets no invoice."""
    return f"ended on {end.isoformat()}"


def has_ended(end: date | None, last_run: date | None) -> bool:
    """Whether an account whose last day is *end* was billed for the last time by a run
    before this one, *last_run* being the cycle's bill date before this run's: the first
    bill date on or after *end* — the run of its final period — is then already past."""
    return end is not None and last_run is not None and end <= last_run


def suppression_note(minimum: Money) -> str:
    """The note of an invoice below the billed account's minimum invoice amount."""
    return (
        f"below the minimum invoice amount of {minimum.amount} {minimum.currency.code}: "
        "suppressed and carried forward"
    )


def carried_note(carried: Money) -> str:
    """The note of an invoice that an amount carried forward went into."""
    return (
        f"includes {carried.amount} {carried.currency.code} carried forward from suppressed"
        " invoices"
    )


def channels_and_notes(
    billed: BillingAccount, settings: Settings
) -> tuple[frozenset[Channel], tuple[str, ...]]:
    """The channels of an invoice billed to *billed*, and why a channel its invoice type asks
    for is missing (they do not depend on who receives the invoice)."""
    channels = _CHANNELS[billed.invoice_type]
    if Channel.EMAIL not in channels:
        none = billed.invoice_type is InvoiceType.NONE
        return channels, ("invoice type NONE: nothing is sent",) if none else ()
    categories = settings.distribute_invoice_contact_categories
    if (
        not (billed.distribute_invoice or settings.distribute_invoice_all_accounts)
        and not billed.invoice_emails
        and not any(c.category in categories for c in billed.contacts)
    ):
        return channels - {Channel.EMAIL}, (
            f"invoice type {billed.invoice_type.value} asks for email, but Distribute "
            "Invoice is enabled neither for this account, nor for all accounts, nor "
            "for a category of its contacts, and it lists no invoice addresses",
        )
    return channels, ()


def recipients_of(
    billed: BillingAccount, primary_email: str | None, settings: Settings
) -> tuple[str, ...]:
    """Who receives the invoice email: the customer's primary email when Distribute Invoice
    is enabled for the account or all accounts, then contacts of an enabled category, then
    the account's own invoice addresses (each address once)."""
    recipients: list[str] = []
    if primary_email and (billed.distribute_invoice or settings.distribute_invoice_all_accounts):
        recipients.append(primary_email)
    categories = settings.distribute_invoice_contact_categories
    for contact in billed.contacts:
        if contact.category in categories and contact.email and contact.email not in recipients:
            recipients.append(contact.email)
    recipients.extend(e for e in billed.invoice_emails if e not in recipients)
    return tuple(recipients)


class Recipients(enum.Enum):
    """How the invoices of a profile find their email recipients."""

    #: No email goes out.
    NONE = "none"
    #: The customer's primary email only (the billed account has no contacts and no
    #: invoice addresses).
    PRIMARY_ONLY = "primary only"
    #: Worked out per billed account, from its contacts and invoice addresses
    #: (:func:`recipients_of`).
    PER_ACCOUNT = "per account"


class InvoiceProfile(NamedTuple):
    """What every invoice billed to accounts of one profile shares on a run date."""

    due_date: date
    auto_pay_date: date | None
    channels: frozenset[Channel]
    #: The notes of an invoice that reaches its recipients (or sends no email).
    notes: tuple[str, ...]
    recipients: Recipients
    #: The notes of an invoice whose email has nobody to go to.
    unreached_notes: tuple[str, ...]
    #: The billed account's invoice note (printed on each invoice), or None.
    invoice_note: str | None
    #: Whether the billed account's managed accounts' charges each get an invoice of their
    #: own (PER_ACCOUNT rendering), rather than one listing them all (AGGREGATED).
    per_account: bool


def invoice_profile(
    billed: BillingAccount,
    run_date: date,
    payment_term: Callable[[str], PaymentTerm | None],
    settings: Settings,
) -> InvoiceProfile:
    """Due date, auto-pay date, channels, notes, rendering and the way to find recipients
    of the invoices billed on *run_date* to accounts like *billed* (an unknown payment term,
    which only data stored past the rules can have, makes the invoice due at once)."""
    term = payment_term(billed.payment_term)
    due = due_date(run_date, term) if term is not None else run_date
    auto = auto_pay_date(run_date, due, billed.auto_pay_offset_days) if billed.auto_pay else None
    channels, notes = channels_and_notes(billed, settings)
    if Channel.EMAIL not in channels:
        how = Recipients.NONE
    elif not billed.contacts and not billed.invoice_emails:
        how = Recipients.PRIMARY_ONLY
    else:
        how = Recipients.PER_ACCOUNT
    unreached = notes if how is Recipients.NONE else (*notes, NO_RECIPIENT)
    per_account = billed.invoice_rendering is InvoiceRendering.PER_ACCOUNT
    return InvoiceProfile(
        due, auto, channels, notes, how, unreached, billed.invoice_note, per_account
    )


def recipients_for(
    profile: InvoiceProfile, billed: BillingAccount, primary_email: str | None, settings: Settings
) -> tuple[str, ...]:
    """The email recipients of an invoice of *profile* billed to *billed*."""
    if profile.recipients is Recipients.PER_ACCOUNT:
        return recipients_of(billed, primary_email, settings)
    return shared_recipients(profile, primary_email)


def shared_recipients(profile: InvoiceProfile, primary_email: str | None) -> tuple[str, ...]:
    """The email recipients of an invoice of *profile* whose recipients are not found per
    account (:attr:`Recipients.NONE` or :attr:`Recipients.PRIMARY_ONLY`): no account
    needed."""
    if profile.recipients is Recipients.PRIMARY_ONLY and primary_email:
        return (primary_email,)
    return ()


def delivery_notes(profile: InvoiceProfile, recipients: tuple[str, ...]) -> tuple[str, ...]:
    """The profile's notes, and one more when email should go out but has nobody to go to."""
    return profile.notes if recipients else profile.unreached_notes


class Billed(NamedTuple):
    """What :func:`invoices_billed_to` needs of the billed account beyond its profile: all
    of it in the account's plan row (:mod:`custbill.model.plan_row`), so that the row
    planner splits an account's charges into invoices without reading the account."""

    number: str
    invoice_currency: str
    #: The minimum invoice amount (in the invoice currency), or None.
    minimum: Decimal | None


def billed_of(account: BillingAccount) -> Billed:
    """What :func:`invoices_billed_to` needs of *account*."""
    minimum = account.minimum_invoice_amount
    return Billed(
        account.number, account.invoice_currency, None if minimum is None else minimum.amount
    )


class InvoiceRecord(NamedTuple):
    """A planned invoice before it is read: its total as a Decimal in ``currency``."""

    billed_account: str
    accounts: tuple[str, ...]
    total: Decimal
    currency: str
    due_date: date
    auto_pay_date: date | None
    suppressed: bool
    channels: frozenset[Channel]
    recipients: tuple[str, ...]
    notes: tuple[str, ...]
    invoice_note: str | None


#: ``PlannedInvoice(...)`` over values the planners computed, given positionally in field
#: order, without attrs' frozen ``__init__`` (one ``object.__setattr__`` a field): a plan of a
#: million accounts builds a million invoices when read, and this halves their cost.
#: ``tests/model/test_promote.py`` holds it equal to the constructor.
assemble_invoice: Callable[..., PlannedInvoice] = assembler(PlannedInvoice)


def planned_invoice(record: InvoiceRecord, invoice_date: date) -> PlannedInvoice:
    """The :class:`~custbill.PlannedInvoice` of *record*, issued on *invoice_date*."""
    billed, accounts, total, currency, due, auto, suppressed, channels, recipients, notes, text = (
        record
    )
    return assemble_invoice(
        billed,
        accounts,
        money_of(total, currency),
        invoice_date,
        due,
        auto,
        suppressed,
        channels,
        recipients,
        notes,
        text,
    )


_ZERO = Decimal(0)


def is_below(total: Decimal, minimum: Decimal | None) -> bool:
    """Whether an invoice of *total* is suppressed by a *minimum*: what
    :func:`~custbill.billing.calendar.is_suppressed` tells of Money, over Decimals of one
    currency (never a credit, never an amount equal to the minimum)."""
    return minimum is not None and _ZERO <= total < minimum


def invoices_billed_to(
    billed: Billed,
    own_amount: Decimal | None,
    members: Sequence[str] | None,
    member_amounts: Mapping[str, Decimal],
    carried: Money | None,
    profile: InvoiceProfile,
    recipients: tuple[str, ...],
) -> list[InvoiceRecord]:
    """The invoices billed to *billed* for its own charge (*own_amount*), the charges of
    the managed accounts *members* (by number, in *member_amounts*) and an amount carried
    forward from suppressed invoices.

    AGGREGATED rendering (the default) gives one invoice listing the billed account first
    (when it has a charge) and its members in number order; PER_ACCOUNT gives one invoice
    for the billed account's own charge (or carried amount) and one per member (the
    profile says which).  The carried amount goes into the first invoice.
    """
    number, currency, floor = billed
    own = _ZERO if own_amount is None else own_amount
    parts: list[tuple[tuple[str, ...], Decimal]]
    if members is None:
        parts = [((number,), own)]
    else:
        if len(members) > 1:  # (most have one)
            members = sorted(members)
        if not profile.per_account:  # AGGREGATED, the default
            total = own
            for member in members:
                total += member_amounts[member]
            listed = (number, *members) if own_amount is not None else tuple(members)
            parts = [(listed, total)]
        else:
            has_own = own_amount is not None or carried is not None
            parts = [((number,), own)] if has_own else []
            parts.extend(((m,), member_amounts[m]) for m in members)
    due, auto, channels = profile.due_date, profile.auto_pay_date, profile.channels
    shared_notes = delivery_notes(profile, recipients)
    records: list[InvoiceRecord] = []
    for listed, total in parts:
        notes = shared_notes
        if carried is not None and not records:  # the first invoice takes the carried amount
            total += carried.amount
            notes = (*notes, carried_note(carried))
        suppressed = is_below(total, floor)
        if suppressed and floor is not None:
            notes = (*notes, suppression_note(Money(floor, currency)))
        records.append(
            InvoiceRecord(
                number,
                listed,
                total,
                currency,
                due,
                auto,
                suppressed,
                channels,
                recipients,
                notes,
                profile.invoice_note,
            )
        )
    return records
