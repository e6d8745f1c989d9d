"""Turning checked inputs into stored records without checking them again.

``Customer(**fields_of(new_customer), number=…)`` runs attrs' ``__init__`` and the field
checks a second time over values :class:`~custbill.NewCustomer` already checked; on the
create path that is a quarter of the work.  :func:`promoter` compiles, once per pair of
classes, a function that copies the shared fields slot by slot onto a new record and sets
the extra ones.  :func:`assembler` does the same for values the library builds itself
from values it trusts (history entries).  The tests check both against the plain
constructors as oracles.  The facade is their user; they live here because they build
model objects.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from custbill.model._codegen import compile_function

R = TypeVar("R")


def promoter(source: type, target: type[R], extra: tuple[str, ...]) -> Callable[..., R]:
    """A function ``(source_obj, *extra_values) -> target_obj``.

    Every field of *target* must be a field of *source* or be named in *extra*; the
    source's own fields that *target* lacks (and those named in *extra*) are not copied.
    """
    source_fields = {a.name for a in attrs.fields(source)}
    target_fields = [a.name for a in attrs.fields(target)]  # type: ignore[arg-type]
    missing = [n for n in target_fields if n not in source_fields and n not in extra]
    if missing:  # pragma: no cover - a programming error caught at import
        raise TypeError(f"{target.__name__} fields {missing} are neither copied nor given")
    values = [name if name in extra else f"src.{name}" for name in target_fields]
    return _setter(
        f"promotion of {source.__name__} to {target.__name__}", ["src", *extra], target, values
    )


def assembler(target: type[R]) -> Callable[..., R]:
    """A function taking every field of *target* positionally, in declaration order, and
    setting them without the checks its constructor runs — for values whose types the
    caller guarantees."""
    names = [a.name for a in attrs.fields(target)]  # type: ignore[arg-type]
    return _setter(f"assembly of {target.__name__}", names, target, names)


def _setter(label: str, params: list[str], target: type[R], values: list[str]) -> Callable[..., R]:
    """Compile ``def f(*params)`` building a *target* whose fields, in order, are set to the
    expressions *values* without running its ``__init__``.

    A slotted class's fields are set through their slots' own setters (half the cost of
    ``object.__setattr__``, which looks the slot up by name on every call).
    """
    names = [a.name for a in attrs.fields(target)]  # type: ignore[arg-type]
    env: dict[str, Any] = {"_new": object.__new__, "_set": object.__setattr__, "_target": target}
    lines = [f"def build({', '.join(params)}):", "    obj = _new(_target)"]
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        slot = _slot(target, name)
        if slot is None:
            lines.append(f"    _set(obj, {name!r}, {value})")
        else:
            env[f"_slot{i}"] = slot.__set__
            lines.append(f"    _slot{i}(obj, {value})")
    lines.append("    return obj")
    build: Callable[..., R] = compile_function("\n".join(lines), "build", label, env)
    return build


def _slot(cls: type, name: str) -> types.MemberDescriptorType | None:
    """The slot descriptor of attribute *name* of *cls*, if it is held in a slot."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(name)
        if found is not None:
            return found if isinstance(found, types.MemberDescriptorType) else None
    return None
