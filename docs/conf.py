"""Sphinx configuration for custbill's documentation."""

from __future__ import annotations

import json
from pathlib import Path

from custbill import __version__
from custbill.rules.codes import CODES

project = "custbill"
author = "custbill developers"
copyright = "2026, custbill developers"
release = __version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
    "myst_nb",  # renders the example notebook, executed at build time
]
exclude_patterns = ["_build", "jupyter_execute"]
# the notebook is stored without outputs; the build runs it (as the tests do) and shows them
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
html_theme = "furo"
html_title = f"custbill {release}"

# Types from other libraries and the standard library are not cross-referenced (the build
# runs offline, without intersphinx inventories).
nitpick_ignore_regex = [
    (
        "py:class",
        r"(datetime|decimal|moneyed|collections\.abc|contextlib|typing|types|enum|attrs"
        r"|threading|os|pathlib|sqlite3|hypothesis|pytest)(\..*)?",
    ),
    (
        "py:class",
        r"(date|datetime|Decimal|Money|Mapping|Iterable|Iterator|Callable|Sequence"
        r"|Any|TracebackType|T|R|CustomValue|CatalogItem|optional|Database|Transaction|Undo"
        r"|Figure"
        r"|Entry|_\w+)",
    ),
    ("py:class", r"custbill\..*\.(T|R|_\w+)"),
    ("py:obj", r"custbill\..*\.(T|R|_\w+)"),
    # bases that only split a documented class across modules (their members are listed
    # on CustomerBilling and StoreContract)
    (
        "py:class",
        r"custbill\.(service\.over_time\.AccountsOverTime|service\.platforms\.PlatformCalls"
        r"|testing\._contract_logs\.LogsContract|testing\._contract_optional\.OptionalContract)",
    ),
]

# No global doctest setup: every page imports what its examples use, visibly, so that code
# copied from the docs runs as it is.


def _write_codes_table() -> None:
    """Generate the rules reference's table from the code, so it cannot drift."""
    out = Path(__file__).parent / "_generated" / "codes.rst"
    out.parent.mkdir(exist_ok=True)
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 35 65",
        "",
        "   * - code",
        "     - when",
    ]
    for code, meaning in CODES.items():
        lines += [f"   * - ``{code}``", f"     - {meaning}"]
    text = "\n".join(lines) + "\n"
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


def _write_benchmark_table() -> None:
    """The performance page's table, from the figures the last full benchmark run saved."""
    here = Path(__file__).parent
    out = here / "_generated" / "benchmark.rst"
    out.parent.mkdir(exist_ok=True)
    source = here / "benchmark_latest.json"
    if not source.exists():
        out.write_text("No benchmark figures are recorded yet: run ``benchmarks/run.py``.\n")
        return
    figures = json.loads(source.read_text())
    columns = [
        ("accounts", "accounts", "{:,.0f}"),
        ("plan_bill_run.accounts_per_s", "plan_bill_run accounts/s", "{:,.0f}"),
        ("plan_bill_run.vs_floor", "vs floor", "{:.1f}x"),
        ("plan_and_read.accounts_per_s", "plan and read accounts/s", "{:,.0f}"),
        ("plan_and_read.vs_naive", "vs naive", "{:.1f}x"),
        ("create_customer_per_s.memory", "create_customer/s", "{:,.0f}"),
        ("search_p99_ms", "search p99 ms", "{:.2f}"),
        ("bytes_per_account", "bytes/account", "{:,.0f}"),
        ("rss_bytes_per_account", "RSS bytes/account", "{:,.0f}"),
        ("gc_full_collection_s", "full collection s", "{:.2f}"),
    ]
    lines = _list_table(
        [title for _, title, _ in columns],
        [
            [fmt.format(row[key]) if key in row else "-" for key, _, fmt in columns]
            for row in figures["scaling"]
        ],
    )
    lines += ["", "Independent of the number of accounts:", ""]
    for key in (
        "bill_dates.vs_rrule",
        "cycle_check_ms",
        "create_customer_per_s.sqlite",
        "create_customer_per_s.sqlite_batch",
        "plan_cost_growth",
        "plan_cost_growth.floor",
    ):
        if key in figures:  # (runs before a key was measured lack it)
            lines.append(f"* ``{key}``: {figures[key]:,.2f}")
    lines += _stores_table(figures)
    text = "\n".join(lines) + "\n"
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


def _list_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - " + header[0]]
    lines += [f"     - {title}" for title in header[1:]]
    for cells in rows:
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {cell}" for cell in cells[1:]]
    return lines


def _stores_table(figures: dict) -> list[str]:
    """The stores side by side (benchmarks/stores.py), when the run measured them."""
    stores = [n for n in ("memory", "sqlite", "postgres") if f"plan.seconds.{n}" in figures]
    if not stores:
        return []
    accounts = figures["stores.accounts_on_run"]

    def cell(key: str, scale: float = 1.0, fmt: str = "{:,.2f}") -> list[str]:
        return [
            fmt.format(figures[key.format(n)] * scale) if key.format(n) in figures else "-"
            for n in stores
        ]

    rows = [
        ["plan µs/account", *cell("plan.seconds.{}", 1e6 / accounts)],
        ["plan and read µs/account", *cell("plan_and_read.seconds.{}", 1e6 / accounts)],
        ["× memory (plan and read)", "1", *cell("plan.vs_memory.{}")[1:]],
        [
            "issue µs/invoice",
            *[f"{1e6 / figures[f'issue.invoices_per_s.{n}']:,.2f}" for n in stores],
        ],
        ["× memory (issue)", "1", *cell("issue.vs_memory.{}")[1:]],
    ]
    for call in ("get", "edit", "summary", "search", "search_common"):
        medians = cell(f"latency_ms.{call}.median.{{}}", fmt="{:.3f}")
        p99s = cell(f"latency_ms.{call}.p99.{{}}", fmt="{:.3f}")
        rows.append(
            [f"{call} median / p99 ms", *(f"{m} / {p}" for m, p in zip(medians, p99s, strict=True))]
        )
    rows.append(["get p99 ms while another process plans", *cell("contention.read_p99_ms.{}")])
    rows.append(["get p99 ms beside a planning thread", *cell("contention.thread_read_p99_ms.{}")])
    lines = [
        "",
        f"The stores side by side, {figures['stores.accounts']:,} accounts"
        f" ({accounts:,} on the run):",
        "",
    ]
    lines += _list_table(["figure", *stores], rows)
    split = sorted(k for k in figures if k.startswith("split_run."))
    if split:
        lines += ["", "A run split in 8 parts on PostgreSQL, issued by worker processes:", ""]
        lines += [f"* ``{key}``: {figures[key]:,.2f}" for key in split]
    return lines


def _copy_notebook() -> None:
    """The example notebook and the scenario it reads, beside the pages (from examples/)."""
    here = Path(__file__).parent
    out = here / "_generated"
    out.mkdir(exist_ok=True)
    for name in ("explore.ipynb", "collections.toml"):
        text = (here.parent / "examples" / name).read_text()
        if not (out / name).exists() or (out / name).read_text() != text:
            (out / name).write_text(text)


def _draw_simulation() -> None:
    """The simulation page's picture: the collections example's year, drawn now."""
    from custbill.simulation import load_scenario, simulate

    here = Path(__file__).parent
    out = here / "_generated" / "simulation.png"
    out.parent.mkdir(exist_ok=True)
    result = simulate(load_scenario(here.parent / "examples" / "collections.toml"))
    result.plot().savefig(out, dpi=80)


_write_codes_table()
_write_benchmark_table()
_copy_notebook()
_draw_simulation()
