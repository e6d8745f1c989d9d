"""Run months of bill runs over a scenario described in a TOML or JSON file.

A scenario holds settings, a catalog, customers with their accounts, recurring charges,
one-off charges queued on a day, and how accounts pay (late, or never).
:func:`load_scenario` reads it strictly (every problem named with its path; see
:mod:`custbill.scenario`), :func:`simulate` builds it in a fresh in-memory
:class:`~custbill.CustomerBilling` and runs every bill date of every cycle month by month:
it plans each run, issues it, pays the invoices as the accounts do, and at each month's end
runs dunning and terminates the accounts that ended.  The file format is described in the
documentation ("Simulating scenarios").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from moneyed import Money

from custbill.billing.calendar import bill_dates, previous_bill_date
from custbill.billing.invoicing import has_ended
from custbill.errors import RuleViolationError
from custbill.model import AccountStatus, BillCycle, BillingAccount, DunningNotice
from custbill.model.plan_row import end_of
from custbill.scenario import (
    Charge,
    PaymentHabit,
    QueuedCharge,
    Scenario,
    assemble,
    load_scenario,
    parse_scenario,
)
from custbill.service import CustomerBilling
from custbill.simulation_output import (
    InvoiceLine,
    MonthReport,
    SimulationResult,
    money_text,
    render,
)

# -- running ------------------------------------------------------------------------------


def build(scenario: Scenario) -> tuple[CustomerBilling, tuple[str, ...]]:
    """A fresh in-memory facade holding the scenario's settings, catalog and customers, and
    the numbers of the accounts it created, in order.

    Raises:
        RuleViolationError: when the scenario breaks a rule (with every violation).
    """
    billing, numbers, problems = assemble(scenario)
    if problems:
        raise RuleViolationError(problems)
    return billing, numbers


class _Payment(NamedTuple):
    """A payment a habit makes, waiting for its day."""

    on: date
    account: str
    amount: Money
    reference: str


def simulate(
    scenario: Scenario,
    *,
    months: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Run the scenario month by month (:func:`simulate_months`) and gather the months.

    Args:
        scenario: what to simulate.
        months: overrides the scenario's number of months.
        progress: called with (months done, months in all) after each month.

    Raises:
        RuleViolationError: when the scenario breaks a rule (every violation, with its
            path from the file's root) or names an account it does not create.
    """
    total = months or scenario.months
    reports = []
    for report in simulate_months(scenario, months=total):
        reports.append(report)
        if progress is not None:
            progress(len(reports), total)
    return SimulationResult(months=tuple(reports))


def simulate_months(scenario: Scenario, *, months: int | None = None) -> Iterator[MonthReport]:
    """The scenario's months, each as soon as it is simulated.

    Each month, day by day: the queued charges of the day are added (one a credit limit
    refuses is reported), then the day's bill runs planned and issued, then the payments
    due that day made; on the month's last day dunning runs and ended accounts are
    terminated.  An issued invoice is paid as its account's payment habit says (late, or
    never), else on its auto-pay date when ``pay_on_auto_pay`` (recorded as it is issued).
    The scenario is built (and every rule checked) before the first month comes.

    Raises:
        RuleViolationError: as :func:`simulate`.
    """
    billing, numbers = build(scenario)
    return _months(billing, numbers, scenario, months or scenario.months)


def _months(
    billing: CustomerBilling, numbers: tuple[str, ...], scenario: Scenario, total: int
) -> Iterator[MonthReport]:
    cycles = [e for e in scenario.catalog if isinstance(e, BillCycle)]
    waiting: list[_Payment] = []
    for m in range(total):
        first = scenario.start + relativedelta(months=m)
        last = first + relativedelta(months=1, days=-1)
        month = _Month(billing, scenario, m + 1, first, waiting)
        runs = sorted((d, c.id) for c in cycles for d in bill_dates(c, first, last))
        day = first
        while day <= last:  # (a run schedules payments a later day of the month may make)
            month.queue_charges(day)
            for cycle in (c for d, c in runs if d == day):
                month.run(cycle, day)
            month.pay(day)
            day += timedelta(days=1)
        month.close(last)
        summaries = [billing.account_summary(n) for n in numbers]
        yield MonthReport(
            month=first.strftime("%Y-%m"),
            invoices=tuple(month.lines),
            balances={s.account.number: s.balance for s in summaries},
            pending={s.account.number: s.pending_charges for s in summaries},
            statuses={s.account.number: s.account.status for s in summaries},
            dunning=month.dunning,
            terminated=month.terminated,
            refused=tuple(month.refused),
        )


class _Month:
    """One simulated month's work, and what it found."""

    def __init__(
        self,
        billing: CustomerBilling,
        scenario: Scenario,
        index: int,
        first: date,
        waiting: list[_Payment],
    ) -> None:
        self.billing, self.scenario, self.index, self.first = billing, scenario, index, first
        #: The payments habits will make, by day (shared by every month).
        self.waiting = waiting
        self.lines: list[InvoiceLine] = []
        self.refused: list[str] = []
        self.dunning: tuple[DunningNotice, ...] = ()
        self.terminated: tuple[str, ...] = ()

    def queue_charges(self, day: date) -> None:
        for queued in self.scenario.queued_charges:
            if queued.on != day:
                continue
            account = self.billing.get_account(queued.account)
            amount = Money(queued.amount, account.invoice_currency)
            try:
                self.billing.add_charge(account.number, amount, queued.description, on=day)
            except RuleViolationError as error:
                codes = ", ".join(sorted(error.codes))
                self.refused.append(
                    f"{day} charge {money_text(amount)} on {account.number}: {codes}"
                )

    def run(self, cycle: str, run_date: date) -> None:
        self.lines.extend(_run(self, cycle, run_date))

    def habit(self, account: str) -> PaymentHabit | None:
        """The payment habit of *account* for this month's invoices, if any."""
        return next(
            (
                h
                for h in self.scenario.payments
                if h.account == account and (not h.months or self.index in h.months)
            ),
            None,
        )

    def pay(self, day: date) -> None:
        for payment in [p for p in self.waiting if p.on == day]:
            self.waiting.remove(payment)
            self.billing.record_payment(
                payment.account, payment.amount, payment.on, reference=payment.reference
            )

    def close(self, last: date) -> None:
        report = self.billing.run_dunning(last)
        self.dunning = report.applied
        self.refused += [
            f"{last} dunning step {r.due.step + 1} of {r.due.state.account}: "
            + ", ".join(v.code for v in r.violations)
            for r in report.refused
        ]
        ended = self.billing.terminate_ended(last)
        self.terminated = ended.terminated
        self.refused += [
            f"{last} termination of {r.account}: " + ", ".join(v.code for v in r.violations)
            for r in ended.refused
        ]


def _run(month: _Month, cycle: str, run_date: date) -> list[InvoiceLine]:
    billing, scenario = month.billing, month.scenario
    charges: dict[str, Money] = {}
    for charge in scenario.charges:
        if charge.months and month.index not in charge.months:
            continue
        account = billing.get_account(charge.account)
        if (
            account.bill_cycle != cycle
            or account.status is AccountStatus.DEACTIVATED
            or account.start_date > run_date
            or _ended(billing, account, run_date)
        ):
            continue
        amount = Money(charge.amount, account.invoice_currency)
        previous = charges.get(account.number)
        charges[account.number] = amount if previous is None else previous + amount
    plan = billing.plan_bill_run(cycle, run_date, charges)
    issued = iter(billing.issue_bill_run(plan))
    lines = []
    for planned in plan.invoices:
        invoice = None if planned.suppressed else next(issued)
        if invoice is not None and invoice.total.amount > 0:
            habit = month.habit(invoice.billed_account)
            if habit is not None:
                if not habit.missing:
                    on = invoice.due_date + timedelta(days=habit.days_late)
                    month.waiting.append(
                        _Payment(on, invoice.billed_account, invoice.total, invoice.number)
                    )
            elif scenario.pay_on_auto_pay and invoice.auto_pay_date:
                billing.record_payment(
                    invoice.billed_account,
                    invoice.total,
                    invoice.auto_pay_date,
                    reference=invoice.number,
                )
        lines.append(
            InvoiceLine(
                month=month.first.strftime("%Y-%m"),
                run_date=run_date,
                bill_cycle=cycle,
                invoice=invoice.number if invoice else None,
                billed_account=planned.billed_account,
                accounts=planned.accounts,
                total=planned.total,
                due_date=planned.due_date,
                auto_pay_date=planned.auto_pay_date,
                suppressed=planned.suppressed,
            )
        )
    return lines


def _ended(billing: CustomerBilling, account: BillingAccount, run_date: date) -> bool:
    """Whether a run before the one on *run_date* billed the account's final period."""
    end = end_of(account.end_date, billing.get_customer(account.customer).end_date)
    cycle = next(c for c in billing.catalog(BillCycle) if c.id == account.bill_cycle)
    return has_ended(end, previous_bill_date(cycle, run_date))


__all__ = [
    "Charge",
    "InvoiceLine",
    "MonthReport",
    "PaymentHabit",
    "QueuedCharge",
    "Scenario",
    "SimulationResult",
    "build",
    "load_scenario",
    "money_text",
    "parse_scenario",
    "render",
    "simulate",
    "simulate_months",
]
