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

import csv
import io
import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import attrs
from dateutil.relativedelta import relativedelta
from moneyed import Money

from custbill.billing.calendar import bill_dates, previous_bill_date
from custbill.billing.invoicing import has_ended
from custbill.errors import RuleViolationError
from custbill.model import AccountStatus, BillCycle, BillingAccount, DunningNotice
from custbill.model.plan_row import end_of
from custbill.scenario import (
    CATALOG_SECTIONS,
    Charge,
    PaymentHabit,
    QueuedCharge,
    Scenario,
    load_scenario,
    parse_scenario,
)
from custbill.service import CustomerBilling


@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One planned invoice of a simulated month, issued or suppressed."""

    month: str
    run_date: date
    bill_cycle: str
    invoice: str | None
    billed_account: str
    accounts: tuple[str, ...]
    total: Money
    due_date: date
    auto_pay_date: date | None
    suppressed: bool


@attrs.frozen(kw_only=True)
class MonthReport:
    """A simulated month: its invoices, every account's balance, pending charges and
    status at its end, the dunning steps and terminations of its last day, and what the
    rules refused (a queued charge past a credit limit, a dunning step, a termination)."""

    month: str
    invoices: tuple[InvoiceLine, ...]
    balances: Mapping[str, Money]
    pending: Mapping[str, Money]
    statuses: Mapping[str, AccountStatus] = attrs.field(factory=dict)
    dunning: tuple[DunningNotice, ...] = ()
    terminated: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class SimulationResult:
    """Every simulated month, in order."""

    months: tuple[MonthReport, ...]

    def to_records(self) -> list[dict[str, object]]:
        """One plain dict per invoice line, ready for ``pandas.DataFrame``."""
        return [
            {
                "month": line.month,
                "run_date": line.run_date,
                "bill_cycle": line.bill_cycle,
                "invoice": line.invoice,
                "billed_account": line.billed_account,
                "accounts": " ".join(line.accounts),
                "total": line.total.amount,
                "currency": line.total.currency.code,
                "due_date": line.due_date,
                "auto_pay_date": line.auto_pay_date,
                "suppressed": line.suppressed,
            }
            for month in self.months
            for line in month.invoices
        ]

    def _repr_html_(self) -> str:
        from custbill.model.html import table

        records = self.to_records()
        header = list(records[0]) if records else ["month"]
        return table("Simulation", header, [list(r.values()) for r in records])


# -- running ------------------------------------------------------------------------------


def build(scenario: Scenario) -> tuple[CustomerBilling, tuple[str, ...]]:
    """A fresh in-memory facade holding the scenario's settings, catalog and customers, and
    the numbers of the accounts it created, in order.

    Raises:
        RuleViolationError: when the scenario breaks a rule (with every violation).
    """
    billing = CustomerBilling(settings=scenario.settings)
    adders = dict(CATALOG_SECTIONS.values())
    for entry in scenario.catalog:
        adders[type(entry)](billing, entry)
    numbers = []
    for customer, (first, *others) in scenario.customers:
        created, account = billing.create_customer(customer, first)
        numbers.append(account.number)
        numbers.extend(billing.add_account(created.number, a).number for a in others)
    return billing, tuple(numbers)


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
    """Run the scenario month by month.

    Each month, day by day: the queued charges of the day are added (one a credit limit
    refuses is reported), then the day's bill runs planned and issued, then the payments
    due that day made; on the month's last day dunning runs and ended accounts are
    terminated.  An issued invoice is paid as its account's payment habit says (late, or
    never), else on its auto-pay date when ``pay_on_auto_pay`` (recorded as it is issued).

    Args:
        scenario: what to simulate.
        months: overrides the scenario's number of months.
        progress: called with (months done, months in all) after each month.

    Raises:
        RuleViolationError: when the scenario breaks a rule.
        NotFoundError: a charge or payment habit names an account that does not exist.
    """
    billing, numbers = build(scenario)
    total = months or scenario.months
    cycles = [e for e in scenario.catalog if isinstance(e, BillCycle)]
    named = {c.account for c in scenario.charges} | {q.account for q in scenario.queued_charges}
    for number in sorted(named | {p.account for p in scenario.payments}):
        billing.get_account(number)  # NotFoundError for an unknown account
    waiting: list[_Payment] = []
    reports = []
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
        reports.append(
            MonthReport(
                month=first.strftime("%Y-%m"),
                invoices=tuple(month.lines),
                balances={s.account.number: s.balance for s in summaries},
                pending={s.account.number: s.pending_charges for s in summaries},
                statuses={s.account.number: s.account.status for s in summaries},
                dunning=month.dunning,
                terminated=month.terminated,
                refused=tuple(month.refused),
            )
        )
        if progress is not None:
            progress(m + 1, total)
    return SimulationResult(months=tuple(reports))


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
                self.refused.append(f"{day} charge {_money(amount)} on {account.number}: {codes}")

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


# -- output -------------------------------------------------------------------------------


def _money(amount: Money) -> str:
    """``"1250.00 USD"``: the amount with at least its currency's decimal places."""
    from babel.numbers import get_currency_precision

    places = Decimal(1).scaleb(-get_currency_precision(amount.currency.code))
    value = amount.amount
    if value.as_tuple().exponent > places.as_tuple().exponent:  # type: ignore[operator]
        value = value.quantize(places)
    return f"{value} {amount.currency.code}"


def render(result: SimulationResult, fmt: str) -> str:
    """The result as ``table`` (text), ``json`` or ``csv``."""
    if fmt == "json":
        return json.dumps(
            [
                {
                    "month": month.month,
                    "invoices": [
                        {
                            **record,
                            "total": str(record["total"]),
                            "run_date": str(record["run_date"]),
                            "due_date": str(record["due_date"]),
                            "auto_pay_date": (
                                str(record["auto_pay_date"]) if record["auto_pay_date"] else None
                            ),
                        }
                        for record in SimulationResult(months=(month,)).to_records()
                    ],
                    "balances": {n: _money(b) for n, b in month.balances.items()},
                    "pending": {n: _money(p) for n, p in month.pending.items() if p.amount},
                    "statuses": {n: s.value for n, s in month.statuses.items()},
                    "dunning": [
                        {"account": d.account, "step": d.text, "days_overdue": d.days_overdue}
                        for d in month.dunning
                    ],
                    "terminated": list(month.terminated),
                    "refused": list(month.refused),
                }
                for month in result.months
            ],
            indent=2,
        )
    if fmt == "csv":
        out = io.StringIO()
        records = result.to_records()
        fields = list(records[0]) if records else ["month"]
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return out.getvalue()
    return _table(result)


#: The table's header: what each column of an invoice line holds.
TABLE_HEADER = f"  {'run date':<10} {'billed':<10} {'total':>14} due date   [invoice]  accounts"


def _table(result: SimulationResult) -> str:
    out: list[str] = [TABLE_HEADER]
    for month in result.months:
        out.append(f"== {month.month} ==")
        if not month.invoices:
            out.append("  no invoices")
        for line in month.invoices:
            status = "suppressed, carried forward" if line.suppressed else line.invoice
            auto = f" auto-pay {line.auto_pay_date}" if line.auto_pay_date else ""
            out.append(
                f"  {line.run_date} {line.billed_account:<10} {_money(line.total):>14} "
                f"due {line.due_date}{auto}  [{status}]  {' '.join(line.accounts)}"
            )
        for notice in month.dunning:
            status = f", now {notice.status.value}" if notice.status else ""
            out.append(
                f"  dunning {notice.account}: {notice.text} ({notice.days_overdue} days,"
                f" {_money(notice.overdue)} overdue{status})"
            )
        out.extend(f"  terminated {number}" for number in month.terminated)
        out.extend(f"  refused: {line}" for line in month.refused)
        out.append(
            "  balances: "
            + ", ".join(
                f"{n} {_money(b)}"
                + (f" (pending {_money(month.pending[n])})" if month.pending[n].amount else "")
                + _status(month.statuses.get(n))
                for n, b in month.balances.items()
            )
        )
    return "\n".join(out)


def _status(status: AccountStatus | None) -> str:
    """`` [SUSPENDED]`` for an account that is not ACTIVE."""
    return "" if status in (None, AccountStatus.ACTIVE) else f" [{status.value}]"


def progress_bar(stream: Any, width: int = 30) -> Callable[[int, int], None]:
    """A progress callback drawing ``[#####.....] 5/12 months`` on *stream*."""

    def show(done: int, total: int) -> None:
        filled = width * done // total
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} months")
        if done == total:
            stream.write("\n")
        stream.flush()

    return show


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
    "parse_scenario",
    "progress_bar",
    "render",
    "simulate",
]
