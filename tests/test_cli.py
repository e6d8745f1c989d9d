"""The command line: demo, codes, help, and ``python -m custbill``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from custbill.cli import main
from custbill.rules.codes import CODES


def test_demo_prints_the_summary_and_a_year_of_dates(capsys: pytest.CaptureFixture[str]) -> None:
    """Five accounts in their currencies and languages, then twelve invoice dates."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Widgets International (C-000001)" in out
    for fragment in (
        "$1,500.00",
        "US$250.00",
        "$5,000.00",
        "25\xa0000,00\xa0₽",
        "2\xa0500,00\xa0kr",
        "Location=Sweden",
    ):
        assert fragment in out
    assert out.count("  due ") == 12
    assert "2026-12-01  due 2026-12-31" in out


def test_codes_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    """`custbill codes` prints one line per violation code."""
    assert main(["codes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(CODES)


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command, usage goes to stderr and the status is 2."""
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_python_dash_m() -> None:
    """`python -m custbill --help` lists the commands."""
    done = subprocess.run(
        [sys.executable, "-m", "custbill", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("demo", "codes", "simulate"):
        assert command in done.stdout
