"""Pictures of a simulation (:meth:`custbill.simulation.SimulationResult.plot`), drawn with
matplotlib.

matplotlib is optional: ``pip install 'custbill[plot]'``.  The figure is a
``matplotlib.figure.Figure`` made without pyplot, so drawing one changes no process-wide
state (no backend is chosen, no figure is registered); save it with ``fig.savefig(path)``,
or let a notebook show it.  Three panels, one above the other:

1. **Invoiced per month**: the total of the invoices issued each month (suppressed ones
   excluded), a line per currency.
2. **Balances**: each account's balance at each month's end, a line per account; with more
   than :data:`MAX_ACCOUNT_LINES` accounts, a line per currency of their sum instead.
3. **Suppressed and dunned**: per month, how many planned invoices were suppressed under a
   minimum invoice amount and how many dunning steps were applied, as bars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from moneyed import Money

from custbill.errors import CustbillError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The most accounts drawn a line each; beyond it the lines would be unreadable, and
#: balances are summed per currency instead.
MAX_ACCOUNT_LINES = 12

#: The figure's size in inches, width and height, for three panels stacked.
FIGURE_SIZE = (8.0, 9.0)

#: What to install when matplotlib is missing.
PLOT_EXTRA = "pip install 'custbill[plot]'"


class _Line(Protocol):
    """What the plot reads of an invoice line (:class:`custbill.simulation.InvoiceLine`)."""

    @property
    def total(self) -> Money: ...

    @property
    def suppressed(self) -> bool: ...


class _Month(Protocol):
    """What the plot reads of a month (:class:`custbill.simulation.MonthReport`)."""

    @property
    def month(self) -> str: ...

    @property
    def invoices(self) -> Sequence[_Line]: ...

    @property
    def balances(self) -> Mapping[str, Money]: ...

    @property
    def dunning(self) -> Sequence[object]: ...


class Simulated(Protocol):
    """What the plot reads of a simulation (:class:`custbill.simulation.SimulationResult`):
    its months, in order."""

    @property
    def months(self) -> Sequence[_Month]: ...


class PlotUnavailableError(CustbillError):
    """matplotlib, which drawing needs, is not installed."""


def _figure() -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise PlotUnavailableError(f"plotting needs matplotlib: {PLOT_EXTRA}") from exc
    return Figure(figsize=FIGURE_SIZE, layout="constrained")


def invoiced_by_currency(result: Simulated) -> dict[str, list[Decimal]]:
    """Per currency, the total issued in each month of ``result`` (zero where none)."""
    months = [m.month for m in result.months]
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(months))
    for index, month in enumerate(result.months):
        for line in month.invoices:
            if not line.suppressed:
                totals[line.total.currency.code][index] += line.total.amount
    return dict(sorted(totals.items()))


def balance_lines(result: Simulated) -> dict[str, list[Decimal | None]]:
    """The balance lines of the second panel: per account ("A-1 (USD)"), or per currency
    ("all USD") beyond :data:`MAX_ACCOUNT_LINES` accounts; None for a month the account
    did not exist yet."""
    accounts: dict[str, list[Decimal | None]] = {}
    labels: dict[str, str] = {}
    for index, month in enumerate(result.months):
        for number, balance in month.balances.items():
            series = accounts.setdefault(number, [None] * len(result.months))
            series[index] = balance.amount
            labels[number] = balance.currency.code
    if len(accounts) <= MAX_ACCOUNT_LINES:
        return {f"{n} ({labels[n]})": series for n, series in accounts.items()}
    summed: dict[str, list[Decimal | None]] = {}
    for number, series in accounts.items():
        total = summed.setdefault(f"all {labels[number]}", [Decimal(0)] * len(result.months))
        for index, amount in enumerate(series):
            total[index] = (total[index] or Decimal(0)) + (amount or Decimal(0))
    return dict(sorted(summed.items()))


def plot_simulation(result: Simulated) -> Figure:
    """The figure described in this module's introduction."""
    fig = _figure()
    months = [m.month for m in result.months]
    positions = list(range(len(months)))
    invoiced, balances, counts = fig.subplots(3, 1, sharex=True)

    for currency, totals in invoiced_by_currency(result).items():
        invoiced.plot(positions, [float(t) for t in totals], marker="o", label=currency)
    invoiced.set_title("Invoiced per month")
    invoiced.set_ylabel("amount")

    for label, series in balance_lines(result).items():
        values = [float("nan") if v is None else float(v) for v in series]
        balances.plot(positions, values, marker=".", label=label)
    balances.set_title("Balances at month end")
    balances.set_ylabel("amount")

    suppressed = [sum(1 for line in m.invoices if line.suppressed) for m in result.months]
    dunned = [len(m.dunning) for m in result.months]
    width = 0.4
    counts.bar([p - width / 2 for p in positions], suppressed, width, label="suppressed")
    counts.bar([p + width / 2 for p in positions], dunned, width, label="dunning steps")
    counts.set_title("Suppressed invoices and dunning steps")
    counts.set_ylabel("count")
    counts.set_xticks(positions, months, rotation=45, ha="right")

    for axes in (invoiced, balances, counts):
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="upper left", fontsize="small")
    return fig
