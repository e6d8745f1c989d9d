"""Sphinx configuration for custbill's documentation."""

from __future__ import annotations

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
]
exclude_patterns = ["_build"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
html_theme = "alabaster"

# Types from other libraries and the standard library are not cross-referenced (the build
# runs offline, without intersphinx inventories).
nitpick_ignore_regex = [
    (
        "py:class",
        r"(datetime|decimal|moneyed|collections\.abc|typing|types|enum|attrs"
        r"|threading|os|pathlib|hypothesis|pytest)(\..*)?",
    ),
    (
        "py:class",
        r"(date|datetime|Decimal|Money|Mapping|Iterable|Iterator|Callable|Sequence"
        r"|Any|TracebackType|T|CustomValue|CatalogItem|optional|Database|Transaction)",
    ),
    ("py:class", r"custbill\..*\.(T|_\w+)"),
    ("py:obj", r"custbill\..*\.(T|_\w+)"),
]

doctest_global_setup = "import custbill as cb\nfrom datetime import date\n"


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


_write_codes_table()
