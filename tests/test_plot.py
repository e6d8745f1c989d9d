"""SimulationResult.plot(): drawn headless (matplotlib's Agg), checked through its data and
its pixels."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure
from matplotlib.image import imread

from custbill.cli import main
from custbill.plot import (
    MAX_ACCOUNT_LINES,
    balance_lines,
    invoiced_by_currency,
)
from custbill.simulation import SimulationResult, load_scenario, simulate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(load_scenario(EXAMPLES / "managed.json"))


def test_the_panels_carry_the_simulation(result: SimulationResult) -> None:
    """Each line and bar holds the numbers of the months it stands for."""
    fig = result.plot()
    assert isinstance(fig, Figure)
    invoiced, balances, counts = fig.axes
    expected = invoiced_by_currency(result)
    lines = {line.get_label(): list(line.get_ydata()) for line in invoiced.get_lines()}
    assert lines == {c: [float(t) for t in totals] for c, totals in expected.items()}
    for currency, totals in expected.items():  # against the records, independently
        by_month = [
            sum(
                (
                    line.total.amount
                    for line in m.invoices
                    if not line.suppressed and line.total.currency.code == currency
                ),
                Decimal(0),
            )
            for m in result.months
        ]
        assert totals == by_month
    accounts = {n for m in result.months for n in m.balances}
    assert len(balances.get_lines()) == len(accounts) <= MAX_ACCOUNT_LINES
    last = result.months[-1]
    for line in balances.get_lines():
        number = str(line.get_label()).split(" ")[0]
        assert line.get_ydata()[-1] == float(last.balances[number].amount)
    suppressed = [sum(1 for i in m.invoices if i.suppressed) for m in result.months]
    dunned = [len(m.dunning) for m in result.months]
    bars = [patch.get_height() for patch in counts.patches]
    assert bars == suppressed + dunned
    assert [t.get_text() for t in counts.get_xticklabels()] == [m.month for m in result.months]


def test_many_accounts_are_summed_per_currency(result: SimulationResult) -> None:
    """Past the limit of lines, balances are summed per currency."""
    months = tuple(
        m.__class__(
            month=m.month,
            invoices=m.invoices,
            balances={
                f"{n}-{k}": b for k in range(MAX_ACCOUNT_LINES) for n, b in m.balances.items()
            },
            pending={f"{n}-{k}": p for k in range(MAX_ACCOUNT_LINES) for n, p in m.pending.items()},
        )
        for m in result.months
    )
    many = SimulationResult(months=months)
    lines = balance_lines(many)
    assert all(label.startswith("all ") for label in lines)
    last = result.months[-1]
    for label, series in lines.items():
        currency = label.removeprefix("all ")
        expected = sum(
            (b.amount for b in last.balances.values() if b.currency.code == currency), Decimal(0)
        )
        assert series[-1] == expected * MAX_ACCOUNT_LINES


def test_cli_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--plot writes an image with something drawn on it, and the usual output."""
    out = tmp_path / "sim.png"
    assert main(["simulate", str(EXAMPLES / "managed.json"), "--plot", str(out)]) == 0
    assert "== 2026-01 ==" in capsys.readouterr().out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(out)
    height, width = pixels.shape[:2]
    assert (width, height) == (800, 900)  # FIGURE_SIZE at matplotlib's 100 dpi
    colours = {tuple(p) for p in pixels.reshape(-1, pixels.shape[2])[::97]}
    assert len(colours) > 20  # lines, bars, text: not a blank canvas


def test_without_matplotlib_the_error_says_what_to_install(
    result: SimulationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing matplotlib is a custbill error naming the extra."""
    import custbill

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(custbill.CustbillError, match=r"custbill\[plot\]"):
        result.plot()
