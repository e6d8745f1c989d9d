"""The ``custbill`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    from custbill import __version__

    parser = argparse.ArgumentParser(
        prog="custbill",
        description="Customers and billing accounts for billing platforms.",
    )
    parser.add_argument("--version", action="version", version=f"custbill {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="run the Widgets International scenario in memory and print its customer "
        "summary and a year of invoice dates",
    )
    commands.add_parser("codes", help="list every violation code and what it means")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from custbill.demo import run

        print(run())
        return 0
    if args.command == "codes":
        from custbill.rules.codes import CODES

        width = max(map(len, CODES))
        for code, meaning in CODES.items():
            print(f"{code:<{width}}  {meaning.replace('``', '')}")
        return 0
    parser.print_help(sys.stderr)
    return 2
