"""The command line: demo, codes, help, and ``python -m custbill``."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from custbill.cli import main
from custbill.rules.codes import CODES

WIDGETS = str(Path(__file__).parent.parent / "examples" / "widgets.toml")


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
    """`custbill codes` prints a header, then one line per violation code."""
    assert main(["codes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["code", "meaning"]
    assert [line.split()[0] for line in lines[1:]] == list(CODES)


def test_codes_as_json_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    """The same codes for a program: a JSON object, or CSV with a header and no blank line
    at the end."""
    assert main(["codes", "--format", "json"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == list(CODES)
    assert main(["codes", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["code", "meaning"] and [r[0] for r in rows[1:]] == list(CODES)
    assert out.endswith("\n") and not out.endswith("\n\n")


def test_simulate_tables_have_a_header_and_csv_no_blank_last_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", WIDGETS, "--months", "2", "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:4] == ["run", "date", "billed", "total"]
    assert main(["simulate", WIDGETS, "--months", "2", "--format", "csv", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n") and not out.endswith("\n\n")
    assert out.splitlines()[0].startswith("month,run_date")


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


@pytest.mark.parametrize(
    "command",
    [["codes"], ["demo"], ["simulate", WIDGETS, "--format", "csv"]],
)
def test_a_closed_pipe_ends_the_command_quietly(command: list[str]) -> None:
    """As ``custbill codes | head -1`` does: the reader goes away before the command writes;
    the command stops with 141 (128 + SIGPIPE) and no traceback."""
    child = subprocess.Popen(
        [sys.executable, "-m", "custbill", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # (before the child can have written anything)
    errors = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141
    assert "Traceback" not in errors and errors == ""


@pytest.mark.parametrize("months", ["0", "1201"])
def test_months_are_bounded_as_in_the_file(months: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", WIDGETS, "--months", months]) == 2
    assert "--months must be from 1 to 1200" in capsys.readouterr().err
