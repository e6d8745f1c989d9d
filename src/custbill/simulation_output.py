"""What a simulation gives: its months and invoice lines, and the text of them
(``table``, ``json`` or ``csv``), whole or month by month.

:func:`render` gives a whole :class:`SimulationResult`; :func:`stream` gives the same text in
pieces as the months come (:func:`~custbill.simulation.simulate_months`), so that a long
simulation shows its first month at once; joined, the pieces are exactly what
:func:`render` gives.  The classes are importable from :mod:`custbill.simulation` too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from moneyed import Money

from custbill.model import AccountStatus, DunningNotice
from custbill.model.records import Tabular, flatten, records_html

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@attrs.frozen(kw_only=True)
class InvoiceLine(Tabular):
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
class MonthReport(Tabular):
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

    def invoice_records(self) -> list[dict[str, object]]:
        """One flat dict per invoice line of the month."""
        return [flatten(line) for line in self.invoices]

    def to_records(self) -> list[dict[str, object]]:
        """One flat dict per account: its balance (with its currency), pending charges and
        status at the month's end."""
        return [
            {
                "month": self.month,
                "account": number,
                "balance": balance.amount,
                "currency": balance.currency.code,
                "pending": self.pending[number].amount if number in self.pending else None,
                "status": self.statuses[number].value if number in self.statuses else None,
            }
            for number, balance in self.balances.items()
        ]

    def _repr_html_(self) -> str:
        return records_html(f"Month {self.month}", self.to_records(), rows=True)


@attrs.frozen(kw_only=True)
class SimulationResult(Tabular):
    """Every simulated month, in order."""

    months: tuple[MonthReport, ...]

    def to_records(self) -> list[dict[str, object]]:
        """One flat dict per invoice line, ready for ``pandas.DataFrame``."""
        return [row for month in self.months for row in month.invoice_records()]

    def account_records(self) -> list[dict[str, object]]:
        """One flat dict per account and month: its balance, pending charges and status at
        the month's end (:meth:`MonthReport.to_records`)."""
        return [row for month in self.months for row in month.to_records()]

    def _repr_html_(self) -> str:
        return records_html("Simulation", self.to_records(), rows=True)

    def plot(self) -> Figure:
        """A figure of the simulation: invoiced amounts per month by currency, every
        account's balance at each month's end, and the suppressed invoices and dunning
        steps per month.  Needs matplotlib (the ``plot`` extra); see
        :mod:`custbill.plot`."""
        from custbill.plot import plot_simulation

        return plot_simulation(self)


def money_text(amount: Money) -> str:
    """``"1250.00 USD"``: the amount with at least its currency's decimal places."""
    from babel.numbers import get_currency_precision

    places = Decimal(1).scaleb(-get_currency_precision(amount.currency.code))
    value = amount.amount
    if value.as_tuple().exponent > places.as_tuple().exponent:  # type: ignore[operator]
        value = value.quantize(places)
    return f"{value} {amount.currency.code}"


#: The formats a simulation is written in.
FORMATS = ("table", "json", "csv")

#: The table's header, naming what each column of an invoice line holds.
TABLE_HEADER = f"  {'run date':<10} {'billed':<10} {'total':>14} due date   [invoice]  accounts"

#: The CSV columns, those of an invoice line's record
#: (:meth:`custbill.simulation.SimulationResult.to_records`).
CSV_COLUMNS = (
    "month",
    "run_date",
    "bill_cycle",
    "invoice",
    "billed_account",
    "accounts",
    "total",
    "currency",
    "due_date",
    "auto_pay_date",
    "suppressed",
)

#: How far the JSON output indents.
JSON_INDENT = 2


def render(result: SimulationResult, fmt: str) -> str:
    """The result as ``table`` (text), ``json`` or ``csv``."""
    return "".join(stream(result.months, fmt))


def stream(months: Iterable[MonthReport], fmt: str) -> Iterator[str]:
    """The text of *months* in *fmt*, a piece as each month comes: first what precedes the
    months (a header, an opening bracket), then a piece per month, then what closes.

    Raises:
        ValueError: *fmt* is not one of :data:`FORMATS`.
    """
    if fmt == "json":
        return _json(months)
    if fmt == "csv":
        return _csv(months)
    if fmt == "table":
        return _table(months)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _json(months: Iterable[MonthReport]) -> Iterator[str]:
    separator = "[\n"
    for month in months:
        text = json.dumps(_json_month(month), indent=JSON_INDENT, default=str)
        yield separator + "\n".join(" " * JSON_INDENT + line for line in text.splitlines())
        separator = ",\n"
    yield "[]" if separator == "[\n" else "\n]"


def _json_month(month: MonthReport) -> dict[str, Any]:
    return {
        "month": month.month,
        "invoices": month.invoice_records(),  # amounts and dates as text (default=str)
        "balances": {n: money_text(b) for n, b in month.balances.items()},
        "pending": {n: money_text(p) for n, p in month.pending.items() if p.amount},
        "statuses": {n: s.value for n, s in month.statuses.items()},
        "dunning": [
            {"account": d.account, "step": d.text, "days_overdue": d.days_overdue}
            for d in month.dunning
        ],
        "terminated": list(month.terminated),
        "refused": list(month.refused),
    }


def _csv(months: Iterable[MonthReport]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    yield out.getvalue()
    for month in months:
        out.seek(0)
        out.truncate()
        writer.writerows(month.invoice_records())
        yield out.getvalue()


def _table(months: Iterable[MonthReport]) -> Iterator[str]:
    yield TABLE_HEADER
    for month in months:
        yield "\n" + "\n".join(_table_month(month))


def _table_month(month: MonthReport) -> list[str]:
    out = [f"== {month.month} =="]
    if not month.invoices:
        out.append("  no invoices")
    for line in month.invoices:
        status = "suppressed, carried forward" if line.suppressed else line.invoice
        auto = f" auto-pay {line.auto_pay_date}" if line.auto_pay_date else ""
        out.append(
            f"  {line.run_date} {line.billed_account:<10} {money_text(line.total):>14} "
            f"due {line.due_date}{auto}  [{status}]  {' '.join(line.accounts)}"
        )
    for notice in month.dunning:
        status = f", now {notice.status.value}" if notice.status else ""
        out.append(
            f"  dunning {notice.account}: {notice.text} ({notice.days_overdue} days,"
            f" {money_text(notice.overdue)} overdue{status})"
        )
    out.extend(f"  terminated {number}" for number in month.terminated)
    out.extend(f"  refused: {line}" for line in month.refused)
    out.append(
        "  balances: "
        + ", ".join(
            f"{n} {money_text(b)}"
            + (f" (pending {money_text(month.pending[n])})" if month.pending[n].amount else "")
            + _status(month.statuses.get(n))
            for n, b in month.balances.items()
        )
    )
    return out


def _status(status: AccountStatus | None) -> str:
    """`` [SUSPENDED]`` for an account that is not ACTIVE."""
    return "" if status in (None, AccountStatus.ACTIVE) else f" [{status.value}]"
