"""Planning a bill run: which invoices a cycle's run date produces, billed to whom.

The planner is a pure function over the accounts of one bill cycle and a few lookups, so the
facade can feed it from any store.  Charges of a managed account go to the top of its
responsible chain; the top account's rendering decides whether they share one invoice
(AGGREGATED, the default) or get one invoice each (PER_ACCOUNT).  Totals are summed as
Decimals in the billed account's invoice currency and become Money once per invoice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from moneyed import Money

from custbill.billing.calendar import auto_pay_date, bill_dates, due_date
from custbill.errors import RuleViolationError
from custbill.model import (
    AccountStatus,
    BillCycle,
    BillingAccount,
    Channel,
    InvoiceRendering,
    InvoiceType,
    PaymentTerm,
    Settings,
    Violation,
)
from custbill.model.billing import BillRunPlan, LazySequence, PlannedInvoice, SkippedAccount
from custbill.rules import violation

_CHANNELS = {
    InvoiceType.NONE: frozenset(),
    InvoiceType.PAPER: frozenset({Channel.PDF}),
    InvoiceType.EMAIL: frozenset({Channel.EMAIL}),
    InvoiceType.PAPER_AND_EMAIL: frozenset({Channel.PDF, Channel.EMAIL}),
}


def check_run_date(cycle: BillCycle, run_date: date) -> tuple[Violation, ...]:
    """``billing.not_a_bill_date`` unless *run_date* is a bill date of *cycle*."""
    if bill_dates(cycle, run_date, run_date):
        return ()
    return (
        violation(
            "billing.not_a_bill_date",
            "run_date",
            f"{run_date.isoformat()} is not a bill date of {cycle.id!r}",
            bill_cycle=cycle.id,
        ),
    )


def top_of_chain(
    number: str, account: Callable[[str], BillingAccount | None], memo: dict[str, str]
) -> str:
    """The account at the top of *number*'s responsible chain (itself if it has none).

    Walks iteratively and remembers every account it passed in *memo*, so a whole run costs
    one step per account.
    """
    path: list[str] = []
    on_path: set[str] = set()
    current = number
    while current not in memo:
        path.append(current)
        on_path.add(current)
        found = account(current)
        parent = found.responsible_account if found is not None else None
        if parent is None or parent in on_path:
            memo[current] = current
            break
        current = parent
    top = memo[current]
    for n in path:
        memo[n] = top
    return top


_NO_RECIPIENT = "email is enabled but no recipient has an email address"


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
    if not (billed.distribute_invoice or settings.distribute_invoice_all_accounts) and not any(
        c.category in categories for c in billed.contacts
    ):
        return channels - {Channel.EMAIL}, (
            f"invoice type {billed.invoice_type.value} asks for email, but Distribute "
            "Invoice is enabled neither for this account, nor for all accounts, nor "
            "for a category of its contacts",
        )
    return channels, ()


def recipients_of(
    billed: BillingAccount, primary_email: str | None, settings: Settings
) -> tuple[str, ...]:
    """Who receives the invoice email: the customer's primary email when Distribute Invoice
    is enabled for the account or all accounts, then contacts of an enabled category."""
    recipients: list[str] = []
    if primary_email and (billed.distribute_invoice or settings.distribute_invoice_all_accounts):
        recipients.append(primary_email)
    categories = settings.distribute_invoice_contact_categories
    for contact in billed.contacts:
        if contact.category in categories and contact.email and contact.email not in recipients:
            recipients.append(contact.email)
    return tuple(recipients)


def distribution(
    billed: BillingAccount, primary_email: str | None, settings: Settings
) -> tuple[frozenset[Channel], tuple[str, ...], tuple[str, ...]]:
    """Channels, recipients and notes of an invoice billed to *billed*.

    Email goes out when Distribute Invoice is enabled for the account, for all accounts, or
    for a contact category of one of its contacts; the customer's primary email receives it
    in the first two cases, the contacts of an enabled category in every case.
    """
    channels, notes = channels_and_notes(billed, settings)
    if Channel.EMAIL not in channels:
        return channels, (), notes
    recipients = recipients_of(billed, primary_email, settings)
    return channels, recipients, notes if recipients else (*notes, _NO_RECIPIENT)


def profile_key(account: BillingAccount) -> tuple[Any, ...]:
    """What an invoice billed to *account* shares with every invoice billed to an account
    with an equal key: payment term, auto-pay, invoice type, distribution, and whether it has
    contacts and of which categories (its recipients are found per account)."""
    contacts = account.contacts
    return (
        account.payment_term,
        account.auto_pay,
        account.auto_pay_offset_days,
        account.invoice_type,
        account.distribute_invoice,
        frozenset(c.category for c in contacts) if contacts else None,
    )


# A plan row (see plan_row).
PlanRow = tuple[str, bool, date, "str | None", str, "Decimal | None", Any, "str | None", bool]


def plan_row(account: BillingAccount, email: str | None, profile: Any, managing: bool) -> PlanRow:
    """The plan row of *account*, whose customer's primary email is *email*; *managing*
    when some account has it as responsible account.

    A plan row is what planning needs of one account, as a plain tuple a store can keep
    beside the account and renew on every write that changes it: (number, deactivated,
    start date, responsible account, invoice currency, minimum invoice amount as a Decimal,
    profile, the customer's primary email — None once erased —, managing).  *profile* is
    any hashable value equal for two accounts exactly when their :func:`profile_key` is.
    Every item is a plain value, so the garbage collector stops tracking the tuple: a
    million rows add nothing to a full collection.
    """
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
    )


_NO_CHARGES = "no charges"
_DEACTIVATED = "deactivated"
_NO_EMAIL, _PRIMARY_ONLY, _FULL = 0, 1, 2  # how an invoice profile finds its recipients


def _planned_invoice(run_date: date, record: tuple[Any, ...]) -> PlannedInvoice:
    (billed, accounts, total, currency, due, auto, suppressed, channels, recipients, notes) = record
    return PlannedInvoice(
        billed_account=billed,
        accounts=accounts,
        total=Money(total, currency),
        invoice_date=run_date,
        due_date=due,
        auto_pay_date=auto,
        suppressed=suppressed,
        channels=channels,
        recipients=recipients,
        notes=notes,
    )


def _skipped(record: tuple[str, str]) -> SkippedAccount:
    return SkippedAccount(account=record[0], reason=record[1])


def _suppression_note(minimum: Money) -> str:
    return (
        f"below the minimum invoice amount of {minimum.amount} {minimum.currency.code}: "
        "suppressed and carried forward"
    )


def plan_run(
    cycle: BillCycle,
    run_date: date,
    on_cycle: Iterable[BillingAccount],
    charges: Mapping[str, Money],
    *,
    account: Callable[[str], BillingAccount | None],
    primary_email: Callable[[str], str | None],
    payment_term: Callable[[str], PaymentTerm | None],
    pending: Mapping[str, Money],
    settings: Settings,
) -> BillRunPlan:
    """Plan the run of *cycle* on *run_date* for the accounts *on_cycle*.

    Two passes: one over the charges (checking each is billable and in the right currency,
    and grouping managed accounts' charges under the top of their responsible chain), one
    over the cycle's accounts in number order (emitting invoices and skipped accounts, so
    that nothing needs sorting).  What every invoice of a billed account shares — due date,
    auto-pay date, channels, notes — is computed once per distinct combination of payment
    term, auto-pay offset, invoice type and distribution settings.

    Args:
        cycle: the bill cycle.
        run_date: a bill date of the cycle; every invoice's invoice date.
        on_cycle: every account on the cycle, in number order.
        charges: new charges by account number.
        account: finds any account by number.
        primary_email: a customer's primary email by customer number.
        payment_term: a payment term by id.
        pending: the carried-forward (suppressed) amounts by billed account.
        settings: the tenant's settings (invoice distribution).

    Returns:
        The plan; its invoices and skipped accounts are built as they are read.

    Raises:
        RuleViolationError: ``billing.not_a_bill_date``, ``billing.charge_not_billable``,
            ``billing.charge_currency_mismatch`` — all of them at once.
    """
    problems = list(check_run_date(cycle, run_date))
    deactivated = AccountStatus.DEACTIVATED
    cycle_id = cycle.id
    memo: dict[str, str] = {}
    managed: dict[str, list[str]] = {}  # top -> managed accounts with charges
    managed_amounts: dict[str, Decimal] = {}
    checked_currency: object = None  # the last currency found right, and its code
    checked_code = ""
    for number, money in charges.items():
        charged = account(number)
        if (
            charged is None
            or charged.bill_cycle != cycle_id
            or charged.status is deactivated
            or charged.start_date > run_date
        ):
            problems.append(
                violation(
                    "billing.charge_not_billable",
                    f"charges[{number}]",
                    f"{number} is not billed by this run",
                    account=number,
                )
            )
            continue
        top = charged
        if charged.responsible_account is not None:
            found = account(top_of_chain(number, account, memo))
            if found is None or found.status is deactivated:  # only past the rules
                problems.append(
                    violation(
                        "billing.charge_not_billable",
                        f"charges[{number}]",
                        f"{number} is invoiced on an account that cannot be billed",
                        account=number,
                    )
                )
                continue
            top = found
        money_currency = money.currency
        if money_currency is not checked_currency or top.invoice_currency != checked_code:
            code = money_currency.code
            if code != top.invoice_currency:
                problems.append(
                    violation(
                        "billing.charge_currency_mismatch",
                        f"charges[{number}]",
                        f"charge in {code}, but {top.number} invoices in {top.invoice_currency}",
                        currency=code,
                        invoice_currency=top.invoice_currency,
                    )
                )
                continue
            checked_currency, checked_code = money_currency, code
        if top is not charged:
            managed.setdefault(top.number, []).append(number)
            managed_amounts[number] = money.amount
    if problems:
        raise RuleViolationError(problems)

    zero = Decimal(0)
    profiles: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    records: list[tuple[Any, ...]] = []
    skipped: list[tuple[str, str]] = []
    carried_in: dict[str, Money] = {}
    for top in on_cycle:
        number = top.number
        if top.status is deactivated:
            skipped.append((number, _DEACTIVATED))
            continue
        if top.start_date > run_date and (
            top.responsible_account is not None or number not in managed
        ):
            # (a responsible account that starts later still bills its managed accounts)
            skipped.append((number, f"starts on {top.start_date.isoformat()}"))
            continue
        if top.responsible_account is not None:
            if number not in managed_amounts:
                skipped.append((number, _NO_CHARGES))
            continue
        charge = charges.get(number)
        own_amount = charge.amount if charge is not None else None
        members = managed.get(number) if managed else None
        carried = pending.get(number) if pending else None
        if own_amount is None and members is None and carried is None:
            skipped.append((number, _NO_CHARGES))
            continue
        # what every invoice billed to this account shares, computed once per profile
        key = profile_key(top)
        profile = profiles.get(key)
        if profile is None:
            profile = profiles[key] = _profile(top, run_date, payment_term, settings)
        due, auto, channels, notes, how = profile
        if how == _NO_EMAIL:
            recipients: tuple[str, ...] = ()
        elif how == _PRIMARY_ONLY:
            address = primary_email(top.customer)
            recipients = (address,) if address else ()
        else:
            recipients = recipients_of(top, primary_email(top.customer), settings)
        if how != _NO_EMAIL and not recipients:
            notes = (*notes, _NO_RECIPIENT)
        minimum = top.minimum_invoice_amount
        currency = top.invoice_currency
        if members is None and carried is None:  # the common case: one invoice, own charges
            assert own_amount is not None
            suppressed = minimum is not None and zero <= own_amount < minimum.amount
            records.append(
                (
                    number,
                    (number,),
                    own_amount,
                    currency,
                    due,
                    auto,
                    suppressed,
                    channels,
                    recipients,
                    (*notes, _suppression_note(minimum)) if minimum and suppressed else notes,
                )
            )
            continue
        _emit_parts(
            records,
            carried_in,
            top,
            own_amount,
            members,
            managed_amounts,
            carried,
            (due, auto, channels, recipients, notes),
        )
    return BillRunPlan(
        bill_cycle=cycle.id,
        run_date=run_date,
        invoices=LazySequence[PlannedInvoice](records, partial(_planned_invoice, run_date)),
        skipped=LazySequence[SkippedAccount](skipped, _skipped),
        carried_in=carried_in,
    )


def plan_rows(
    cycle: BillCycle,
    run_date: date,
    rows: Iterable[PlanRow],
    managed_rows: Iterable[PlanRow],
    row_of: Callable[[str], PlanRow | None],
    charges: Mapping[str, Money],
    *,
    account: Callable[[str], BillingAccount | None],
    payment_term: Callable[[str], PaymentTerm | None],
    pending: Mapping[str, Money],
    settings: Settings,
) -> BillRunPlan | None:
    """:func:`plan_run` over a store's plan rows, for a run where every charge is billable;
    None when it is not (the caller then plans with :func:`plan_run`, which finds every
    problem).

    One pass over the cycle's managed accounts groups their charges under the top of their
    chain, one pass over all the cycle's rows emits the invoices; each charge is looked up
    once and counted, so a charge for an account the passes never reached (another cycle's,
    or no account's) shows as a count that falls short.  The result equals
    :func:`plan_run`'s whenever it is not None (the tests check it on random stores).

    Args:
        cycle: the bill cycle.
        run_date: the run date.
        rows: the plan rows of every account on the cycle, in number order.
        managed_rows: the rows of the cycle's accounts that have a responsible account.
        row_of: a plan row of the cycle by account number (None for other cycles').
        charges: new charges by account number.
        account: finds an account by number (for what rows do not hold: contacts,
            rendering).
        payment_term: a payment term by id.
        pending: the carried-forward (suppressed) amounts by billed account.
        settings: the tenant's settings.
    """
    if not bill_dates(cycle, run_date, run_date):
        return None
    charge_of = charges.get
    # managed accounts' charges, grouped under the top of their responsible chain
    groups: dict[str, Any] = {}  # top -> the number of its only charged member, or a list
    managed_amounts: dict[str, Decimal] = {}
    memo: dict[str, str] = {}
    consumed = 0
    for number, deactivated, start, responsible, _, _, _, _, _ in managed_rows:
        money = charge_of(number)
        if money is None:
            continue
        if deactivated or start > run_date or responsible is None:
            return None
        top_row = row_of(responsible)  # usually the top itself
        if top_row is not None and top_row[3] is not None:
            top_row = _top_row(number, responsible, row_of, memo)
        if top_row is None or top_row[1] or money.currency.code != top_row[4]:
            return None
        top_number = top_row[0]
        group = groups.get(top_number)
        if group is None:  # one member, as a plain string: no list for the usual single one
            groups[top_number] = number
        elif type(group) is str:
            groups[top_number] = [group, number]
        else:
            group.append(number)
        managed_amounts[number] = money.amount
        consumed += 1

    profiles: dict[Any, tuple[Any, ...]] = {}
    # an invoice of an account's own charges is kept as its plan row and total (nothing is
    # allocated for it); any other invoice as a whole record, with the total None
    records: list[Any] = []
    totals: list[Decimal | None] = []
    skipped: list[tuple[str, str]] = []
    carried_in: dict[str, Money] = {}
    checked_currency: object = None  # the last currency found right, and its code
    checked_code = ""
    for row in rows:
        number, deactivated, start, responsible, currency, _, key, email, managing = row
        if responsible is not None:  # a managed account: its charge went to its top
            if deactivated:
                skipped.append((number, _DEACTIVATED))
            elif start > run_date:
                skipped.append((number, f"starts on {start.isoformat()}"))
            elif number not in managed_amounts:
                skipped.append((number, _NO_CHARGES))
            continue
        money = charge_of(number)
        if deactivated:
            if money is not None:
                return None
            skipped.append((number, _DEACTIVATED))
            continue
        members = groups.get(number) if managing else None
        if start > run_date:
            if money is not None:
                return None
            if members is None:
                skipped.append((number, f"starts on {start.isoformat()}"))
                continue
        carried = pending.get(number) if pending else None
        if money is None:
            if members is None and carried is None:
                skipped.append((number, _NO_CHARGES))
                continue
            own_amount = None
        else:
            consumed += 1
            money_currency = money.currency
            if money_currency is not checked_currency or currency != checked_code:
                if money_currency.code != currency:
                    return None
                checked_currency, checked_code = money_currency, currency
            own_amount = money.amount
        profile = profiles.get(key)
        if profile is None:
            top = account(number)
            assert top is not None
            profile = profiles[key] = _profile(top, run_date, payment_term, settings)
        due, auto, channels, notes, how = profile
        if members is None and carried is None and how != _FULL:  # the common case
            records.append(row)
            totals.append(own_amount)
            continue
        if type(members) is str:
            members = [members]
        top = account(number)
        assert top is not None
        recipients = _recipients(how, top, email, settings)
        if how != _NO_EMAIL and not recipients:
            notes = (*notes, _NO_RECIPIENT)
        emitted = _emit_parts(
            records,
            carried_in,
            top,
            own_amount,
            members,
            managed_amounts,
            carried,
            (due, auto, channels, recipients, notes),
        )
        totals.extend([None] * emitted)
    if consumed != len(charges):
        return None
    build = partial(_row_invoice, run_date, profiles, settings)
    return BillRunPlan(
        bill_cycle=cycle.id,
        run_date=run_date,
        invoices=LazySequence[PlannedInvoice](_Pairs(records, totals), build),
        skipped=LazySequence[SkippedAccount](skipped, _skipped),
        carried_in=carried_in,
    )


def _recipients(
    how: int, account: BillingAccount, email: str | None, settings: Settings
) -> tuple[str, ...]:
    if how == _NO_EMAIL:
        return ()
    if how == _PRIMARY_ONLY:
        return (email,) if email else ()
    return recipients_of(account, email, settings)


class _Pairs(Sequence[tuple[Any, Any]]):
    """Two lists read as one list of pairs (so that neither list holds pairs)."""

    __slots__ = ("_first", "_second")

    def __init__(self, first: list[Any], second: list[Any]) -> None:
        self._first, self._second = first, second

    def __len__(self) -> int:
        return len(self._first)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(zip(self._first[index], self._second[index], strict=True))
        return self._first[index], self._second[index]

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return zip(self._first, self._second, strict=True)


def _row_invoice(
    run_date: date,
    profiles: Mapping[Any, tuple[Any, ...]],
    settings: Settings,
    item: tuple[Any, Decimal | None],
) -> PlannedInvoice:
    """The invoice of a plan row's own charges (*item* is the row and the total), or of a
    whole record (the total None)."""
    entry, total = item
    if total is None:
        return _planned_invoice(run_date, entry)
    number, _, _, _, currency, minimum, key, email, _ = entry
    due, auto, channels, notes, how = profiles[key]
    recipients = (email,) if how == _PRIMARY_ONLY and email else ()  # (never _FULL here)
    if how != _NO_EMAIL and not recipients:
        notes = (*notes, _NO_RECIPIENT)
    suppressed = minimum is not None and Decimal(0) <= total < minimum
    if suppressed:
        notes = (*notes, _suppression_note(Money(minimum, currency)))
    return PlannedInvoice(
        billed_account=number,
        accounts=(number,),
        total=Money(total, currency),
        invoice_date=run_date,
        due_date=due,
        auto_pay_date=auto,
        suppressed=suppressed,
        channels=channels,
        recipients=recipients,
        notes=notes,
    )


def _top_row(
    number: str, responsible: str, row_of: Callable[[str], PlanRow | None], memo: dict[str, str]
) -> PlanRow | None:
    """The row at the top of *number*'s responsible chain, or None when the chain leaves
    the cycle or loops.  *memo* remembers the top of every account passed."""
    path = [number]
    current: str | None = responsible
    while current is not None:
        known = memo.get(current)
        if known is not None:
            current = known
            break
        row = row_of(current)
        if row is None or current in path:
            return None
        path.append(current)
        if row[3] is None:
            break
        current = row[3]
    assert current is not None
    for passed in path:
        memo[passed] = current
    return row_of(current)


def _emit_parts(
    records: list[tuple[Any, ...]],
    carried_in: dict[str, Money],
    top: BillingAccount,
    own_amount: Decimal | None,
    members: list[str] | None,
    managed_amounts: Mapping[str, Decimal],
    carried: Money | None,
    shared: tuple[Any, ...],
) -> int:
    """Append the invoices billed to *top* when it has managed accounts' charges or a
    carried-forward amount (the uncommon case of both planners); return how many."""
    number, currency = top.number, top.invoice_currency
    minimum = top.minimum_invoice_amount
    floor = None if minimum is None else minimum.amount
    due, auto, channels, recipients, notes = shared
    zero = Decimal(0)
    parts: list[tuple[tuple[str, ...], Decimal]]
    if members is None:
        parts = [((number,), zero if own_amount is None else own_amount)]
    else:
        if len(members) > 1:
            members.sort()
        if (top.invoice_rendering or InvoiceRendering.AGGREGATED) is InvoiceRendering.AGGREGATED:
            total = zero if own_amount is None else own_amount
            for member in members:
                total += managed_amounts[member]
            listed = (number, *members) if own_amount is not None else tuple(members)
            parts = [(listed, total)]
        else:
            own = own_amount is not None or carried is not None
            parts = [((number,), own_amount or zero)] if own else []
            parts.extend(((m,), managed_amounts[m]) for m in members)
    for index, (listed, total) in enumerate(parts):
        part_notes = notes
        if carried is not None and index == 0:
            carried_in[number] = carried
            total += carried.amount
            part_notes = (
                *part_notes,
                f"includes {carried.amount} {carried.currency.code}"
                " carried forward from suppressed invoices",
            )
        suppressed = floor is not None and zero <= total < floor
        if suppressed:
            part_notes = (*part_notes, _suppression_note(minimum))  # type: ignore[arg-type]
        records.append(
            (
                number,
                listed,
                total,
                currency,
                due,
                auto,
                suppressed,
                channels,
                recipients,
                part_notes,
            )
        )
    return len(parts)


def _profile(
    top: BillingAccount,
    run_date: date,
    payment_term: Callable[[str], PaymentTerm | None],
    settings: Settings,
) -> tuple[Any, ...]:
    """Due date, auto-pay date, channels, notes and the way to find recipients of the
    invoices billed to accounts like *top*."""
    term = payment_term(top.payment_term)
    due = due_date(run_date, term) if term is not None else run_date
    auto = auto_pay_date(run_date, due, top.auto_pay_offset_days) if top.auto_pay else None
    channels, notes = channels_and_notes(top, settings)
    if Channel.EMAIL not in channels:
        how = _NO_EMAIL
    elif not top.contacts:
        how = _PRIMARY_ONLY
    else:
        how = _FULL
    return due, auto, channels, notes, how
