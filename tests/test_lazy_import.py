"""``import custbill`` loads almost nothing; every public name still resolves, to the same
object type checkers see."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import custbill

INIT = Path(custbill.__file__)


def _loaded_after(code: str) -> set[str]:
    script = f"import sys; {code}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_import_custbill_loads_only_its_version() -> None:
    loaded = {m for m in _loaded_after("import custbill") if m.startswith(("custbill", "moneyed"))}
    assert loaded == {"custbill", "custbill.version"}


def test_the_memory_store_never_loads_the_sql_stores() -> None:
    code = (
        "import custbill as cb; from custbill.storage import MemoryStore; "
        "cb.CustomerBilling(store=MemoryStore()).settings"
    )
    loaded = _loaded_after(code)
    assert "custbill.service.facade" in loaded
    assert not {"custbill.storage.sqlite", "custbill.storage.postgres", "sqlite3"} & loaded


def test_every_public_name_resolves_where_type_checkers_look() -> None:
    """The names imported under TYPE_CHECKING are exactly those resolved lazily, from the
    same modules, and are all in ``__all__``."""
    tree = ast.parse(INIT.read_text())
    checked: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module
                checked.update((alias.name, statement.module) for alias in statement.names)
    assert checked == custbill._HOMES
    assert set(checked) | {"__version__"} == set(custbill.__all__)
    for name, module in checked.items():
        assert getattr(custbill, name) is getattr(__import__(module, fromlist=[name]), name)
    assert set(custbill.__all__) <= set(dir(custbill))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        custbill.NoSuchThing  # noqa: B018
