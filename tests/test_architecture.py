"""The house's rules, read off the source: imports run one way between the layers, no
module imports another package's private module, and no room grows past what a newcomer
reads in one sitting (docs/architecture.rst)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "custbill"

#: What each layer may reach, directly or through others (besides itself and the errors).
ALLOWED = {
    "custbill.model": set(),
    "custbill.rules": {"custbill.model"},
    "custbill.billing": {"custbill.model", "custbill.rules"},
    "custbill.storage": {"custbill.model", "custbill.serialization"},
    "custbill.serialization": {"custbill.model"},
}
#: Longest module and function, in lines (STYLE.md: a room past them is split).
MODULE_LINES = 600
FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every custbill module and the custbill modules it imports."""
    modules = {_module_name(p): p for p in SOURCE.rglob("*.py")}
    found: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        found[name] = {d for d in deps if d in modules}
    return found


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _reach(imports: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:  # (a loop: the graph may be deep)
        for dep in imports[stack.pop()]:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_one_way(layer: str) -> None:
    """A layer reaches only the layers below it (storage never reaches billing or rules)."""
    imports = _imports()
    reached = {
        _package(dep)
        for module in imports
        if _package(module) == layer
        for dep in _reach(imports, module)
    }
    assert reached - {layer, "custbill.errors"} <= ALLOWED[layer]


def test_no_private_module_of_another_package_is_imported() -> None:
    """``custbill.x._y`` is imported only from inside ``custbill.x``."""
    crossing = [
        (module, dep)
        for module, deps in _imports().items()
        for dep in deps
        if any(part.startswith("_") and not part.startswith("__") for part in dep.split("."))
        and _package(dep) != _package(module)
    ]
    assert crossing == []


def test_rooms_stay_readable() -> None:
    """No module is longer than MODULE_LINES, no function than FUNCTION_LINES."""
    too_long = []
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > MODULE_LINES:
            too_long.append(str(path))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > FUNCTION_LINES:
                    too_long.append(f"{path}:{node.lineno} {node.name}")
    assert too_long == []
