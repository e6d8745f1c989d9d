"""The facade's calls about what happens to accounts after they are created — queued
charges, security deposits, dunning, termination and notes — mixed into
:class:`~custbill.CustomerBilling`, whose units of work they run in."""

from __future__ import annotations

from datetime import date

from moneyed import Money

from custbill.model import (
    Activity,
    Charge,
    Deposit,
    DunningDue,
    DunningNotice,
    DunningReport,
    DunningState,
    Note,
    TerminationReport,
)
from custbill.service import activity as activity_cases
from custbill.service import charges as charge_cases
from custbill.service import deposits as deposit_cases
from custbill.service import dunning as dunning_cases
from custbill.service import notes as note_cases
from custbill.service import termination as termination_cases
from custbill.service._calls import FacadeCalls


class AccountsOverTime(FacadeCalls):
    """Charges, deposits, dunning, termination and notes (see
    :doc:`/accounts_over_time`)."""

    # -- charges ---------------------------------------------------------------------------

    def add_charge(
        self, account_number: str, amount: Money, description: str, *, on: date
    ) -> Charge:
        """Queue a one-off charge on the account, dated *on*: the first bill run of the
        account's cycle on or after that date bills it (see :meth:`plan_bill_run`), once.

        Refused when it would take the account's exposure above a credit limit: the
        exposure is counted at the account that pays (the top of the billing hierarchy)
        — its balance, carried amount and pending charges and those of every account it
        pays for — and checked against the limit of the charged account and of each
        account above it (``account.credit_limit_exceeded``, whose params give the limit,
        the exposure and what is ``available``).

        Raises:
            NotFoundError: no such account.
            RuleViolationError: an amount that is not positive, finite and in the account's
                invoice currency (``billing.amount_invalid``, ``money.*``,
                ``billing.charge_currency_mismatch``), a blank description
                (``charge.description_required``) or one with a card number, a deactivated
                account (``billing.charge_not_billable``), or a credit limit exceeded.
        """
        return self._run(charge_cases.add_charge, account_number, amount, description, on)

    def charges(self, account_number: str) -> tuple[Charge, ...]:
        """The account's queued charges, billed and pending, oldest first; what is pending
        is in :meth:`account_summary`.

        Raises:
            NotFoundError: no such account.
        """
        return self._read(charge_cases.charges, account_number)

    # -- deposits --------------------------------------------------------------------------

    def record_deposit(
        self, account_number: str, amount: Money, on: date, reference: str | None = None
    ) -> Deposit:
        """Receive a security deposit for the account, held apart from its balance.

        Raises:
            NotFoundError: no such account.
            RuleViolationError: an amount that is not positive, finite and in the account's
                invoice currency (``billing.amount_invalid``, ``money.*``,
                ``billing.charge_currency_mismatch``), or a reference with a card number.
        """
        return self._run(deposit_cases.record_deposit, account_number, amount, on, reference)

    def apply_deposit(self, account_number: str, amount: Money, on: date, invoice: str) -> Deposit:
        """Apply *amount* of the account's held deposit to one of its invoices: it pays
        the invoice as a payment does, and the account holds that much less.

        Raises:
            NotFoundError: no such account.
            RuleViolationError: more than the account holds (``deposit.exceeds_held``), an
                invoice that is not the account's (``account.reference_unknown``), or an
                amount :meth:`record_deposit` refuses.
        """
        return self._run(deposit_cases.apply_deposit, account_number, amount, on, invoice)

    def refund_deposit(
        self, account_number: str, amount: Money, on: date, reference: str | None = None
    ) -> Deposit:
        """Refund *amount* of the account's held deposit.

        Raises:
            NotFoundError: no such account.
            RuleViolationError: more than the account holds (``deposit.exceeds_held``), or
                an amount :meth:`record_deposit` refuses.
        """
        return self._run(deposit_cases.refund_deposit, account_number, amount, on, reference)

    def deposits(self, account_number: str) -> tuple[Deposit, ...]:
        """The movements of the account's deposit (held, applied, refunded), oldest first;
        what it holds is in :meth:`account_summary`."""
        return self._read(deposit_cases.deposits, account_number)

    # -- dunning ---------------------------------------------------------------------------

    def dunning_state(self, account_number: str, as_of: date) -> DunningState:
        """How overdue the account is on *as_of* — the unpaid part of what fell due before
        it, since when, and the deepest step of its dunning plan that reaches — from its
        own invoices, adjustments, payments and applied deposits (each payment pays the
        oldest due amounts first).

        Raises:
            NotFoundError: no such account.
        """
        return self._read(dunning_cases.dunning_state, account_number, as_of)

    def dunning_due(self, as_of: date) -> tuple[DunningDue, ...]:
        """The steps of the accounts' dunning plans that :meth:`run_dunning` on *as_of*
        would apply, by account: each step reached on that date and not applied yet in
        the account's overdue spell.  Reads every account."""
        return self._read(dunning_cases.dunning_due, as_of)

    def run_dunning(self, as_of: date) -> DunningReport:
        """Apply every dunning step due on *as_of* (see :meth:`dunning_due`): record a
        notice for each and set the status SUSPEND, PENDING_COLLECTION or DEACTIVATE
        steps give; first return to ACTIVE the accounts dunning suspended whose overdue
        amount was cleared (when their plan reinstates).  A step the rules refuse (a
        deposit held, active managed accounts) is reported, not recorded, and the
        account's later steps wait.  Running it twice on one date changes nothing the
        second time."""
        return self._run(dunning_cases.run_dunning, as_of)

    def dunning_notices(self, account_number: str) -> tuple[DunningNotice, ...]:
        """The dunning steps applied to the account, oldest first.

        Raises:
            NotFoundError: no such account.
        """
        return self._read(dunning_cases.dunning_notices, account_number)

    # -- termination -----------------------------------------------------------------------

    def terminate_ended(self, as_of: date) -> TerminationReport:
        """Deactivate every account whose last day (its ``end_date`` or its customer's,
        the earlier) is before *as_of* and the run of whose final period is issued; report
        those still waiting for that run, those the rules refused (by rule code), and the
        customers whose accounts have now all ended.  Running it again changes nothing."""
        return self._run(termination_cases.terminate_ended, as_of)

    # -- the activity log ------------------------------------------------------------------

    def activity(self, number: str) -> tuple[Activity, ...]:
        """Everything that happened to the customer or account *number*, in order: its
        creation, field and status changes, notes, queued charges, invoices, payments,
        adjustments, deposits, dunning steps, termination and erasure — each with when,
        who (:meth:`acting`), why and the amount involved, personal values masked as
        :meth:`history` masks them.

        Raises:
            NotFoundError: no customer or account has this number.
        """
        return self._read(activity_cases.activity, number)

    # -- notes -----------------------------------------------------------------------------

    def add_note(self, number: str, text: str, *, author: str) -> Note:
        """Add a note by *author* to the customer or account *number*, timed by the clock.

        Raises:
            NotFoundError: no customer or account has this number.
            RuleViolationError: blank text (``note.text_required``) or author
                (``note.author_required``), text past its limit (4,000 characters; the
                author 1,000), a refused character or a card number in either, or an
                erased customer (``customer.erased``).
        """
        return self._run(note_cases.add_note, number, text, author)

    def notes(self, number: str) -> tuple[Note, ...]:
        """The notes on the customer or account *number*, newest first.

        Raises:
            NotFoundError: no customer or account has this number.
        """
        return self._read(note_cases.notes, number)

    def delete_note(self, note_number: str) -> None:
        """Delete the note *note_number*.

        Raises:
            NotFoundError: there is no such note.
        """
        self._run(note_cases.delete_note, note_number)
