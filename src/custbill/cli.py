"""The ``custbill`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from custbill.simulation import MonthReport


def _parser() -> argparse.ArgumentParser:
    from custbill import __version__

    parser = argparse.ArgumentParser(
        prog="custbill",
        description="Customers and billing accounts for billing platforms.",
    )
    parser.add_argument("--version", action="version", version=f"custbill {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run the Widgets International scenario in memory and print its customer "
        "summary and a year of invoice dates",
    )
    demo.add_argument("--format", choices=("table", "json", "csv"), default="table")
    codes = commands.add_parser("codes", help="list every violation code and what it means")
    codes.add_argument("--format", choices=("table", "json", "csv"), default="table")
    sim = commands.add_parser(
        "simulate",
        help="run months of bill runs over a scenario file (TOML or JSON) and print "
        "invoices, due and auto-pay dates, suppressed amounts and balances",
    )
    sim.add_argument("scenario", help="path of a .toml or .json scenario file")
    sim.add_argument("--months", type=int, help="months to simulate (default: the file's)")
    sim.add_argument("--format", choices=("table", "json", "csv"), default="table")
    bar = sim.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="draw a progress bar on stderr (default: when it is a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    sim.add_argument(
        "--plot",
        metavar="PNG",
        help="also draw the simulation into this image file (needs custbill[plot])",
    )
    return parser


#: The exit status of a command whose reader went away (a closed pipe, as ``| head``
#: closes it): 128 + SIGPIPE, what a shell reports for a process the signal ended.
EXIT_CLOSED_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.  A reader that closes the pipe
    early ends the command quietly (:data:`EXIT_CLOSED_PIPE`, no traceback)."""
    try:
        status = _main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # what is left in the buffer goes nowhere, so flushing at exit raises nothing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    return status


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from custbill.demo import run

        _write(run(args.format))
        return 0
    if args.command == "codes":
        _write(_codes(args.format))
        return 0
    if args.command == "simulate":
        return _simulate(args)
    parser.print_help(sys.stderr)
    return 2


def _simulate(args: argparse.Namespace) -> int:
    from custbill.errors import CustbillError
    from custbill.scenario import MAX_MONTHS
    from custbill.simulation import load_scenario, simulate_months
    from custbill.simulation_output import stream

    show = args.progress if args.progress is not None else sys.stderr.isatty()
    if args.months is not None and not 1 <= args.months <= MAX_MONTHS:
        print(f"custbill simulate: --months must be from 1 to {MAX_MONTHS}", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
        total = args.months or scenario.months
        months = simulate_months(scenario, months=total)
        kept: list[MonthReport] | None = [] if args.plot is not None else None
        last = ""
        with _progress(total, show) as bar:
            for piece in stream(_tapped(months, kept, bar), args.format):
                with bar.external_write_mode(file=sys.stdout):  # the bar steps aside
                    sys.stdout.write(piece)
                    sys.stdout.flush()  # each month as it comes
                last = piece or last
        if not last.endswith("\n"):
            sys.stdout.write("\n")
        if kept is not None:
            from custbill.simulation import SimulationResult

            SimulationResult(months=tuple(kept)).plot().savefig(args.plot)
    except CustbillError as error:
        print(f"custbill simulate: {error}", file=sys.stderr)
        return 1
    return 0


def _tapped(
    months: Iterator[MonthReport], kept: list[MonthReport] | None, bar: Any
) -> Iterator[MonthReport]:
    """*months* as they come, each counted on the progress bar (and kept, for a plot)."""
    for month in months:
        if kept is not None:
            kept.append(month)
        bar.update(1)
        yield month


def _progress(total: int, show: bool) -> Any:
    """A progress bar of *total* months on stderr (tqdm), drawn only when *show*."""
    from tqdm import tqdm

    return tqdm(total=total, unit="month", file=sys.stderr, disable=not show, leave=False)


def _write(text: str) -> None:
    """*text* on stdout, ending with one line break (none added to one it has)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _codes(fmt: str) -> str:
    """Every violation code and its meaning, as ``table`` (with a header), ``json`` (an
    object) or ``csv``."""
    import csv
    import io
    import json

    from custbill.rules.codes import CODES

    meanings = {code: meaning.replace("``", "") for code, meaning in CODES.items()}
    if fmt == "json":
        return json.dumps(meanings, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "meaning"])
        writer.writerows(meanings.items())
        return out.getvalue()
    width = max(map(len, CODES))
    lines = [f"{'code':<{width}}  meaning"]
    lines += [f"{code:<{width}}  {meaning}" for code, meaning in meanings.items()]
    return "\n".join(lines)
