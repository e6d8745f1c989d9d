"""Field-level type checks for the frozen model classes.

Each model class calls :func:`check_fields` from ``__attrs_post_init__``.  The checks are
built once per class from its resolved annotations, so constructing an object costs one
``isinstance`` per field.  Lists are accepted where a tuple is declared, sets where a
frozenset is, and any mapping where a ``Mapping`` is; they are copied into the immutable
type so a frozen object can never change under its owner's feet.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

# A checker returns the (possibly normalised) value or raises TypeError.
_Checker = Callable[[Any], Any]
_CHECKERS: dict[type, tuple[tuple[str, _Checker], ...]] = {}


def _describe(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _checker_for(tp: Any) -> _Checker:
    origin = typing.get_origin(tp)
    if tp is Any or tp is object:
        return lambda v: v
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        checkers = [_checker_for(o) for o in options]

        def check_union(value: Any) -> Any:
            for checker in checkers:
                try:
                    return checker(value)
                except TypeError:
                    continue
            raise TypeError(f"expected {' | '.join(_describe(o) for o in options)}")

        return check_union
    if tp is type(None):

        def check_none(value: Any) -> Any:
            if value is not None:
                raise TypeError("expected None")
            return value

        return check_none
    if origin is tuple:
        args = typing.get_args(tp)
        item = _checker_for(args[0])

        def check_tuple(value: Any) -> Any:
            if not isinstance(value, tuple | list):
                raise TypeError(f"expected a tuple, got {type(value).__name__}")
            return tuple(item(v) for v in value)

        return check_tuple
    if origin is frozenset:
        item = _checker_for(typing.get_args(tp)[0])

        def check_frozenset(value: Any) -> Any:
            if not isinstance(value, frozenset | set | tuple | list):
                raise TypeError(f"expected a frozenset, got {type(value).__name__}")
            return frozenset(item(v) for v in value)

        return check_frozenset
    if origin in (Mapping, dict) or origin is typing.Mapping:
        key_t, value_t = typing.get_args(tp)
        check_key, check_value = _checker_for(key_t), _checker_for(value_t)

        def check_mapping(value: Any) -> Any:
            if not isinstance(value, Mapping):
                raise TypeError(f"expected a mapping, got {type(value).__name__}")
            return types.MappingProxyType({check_key(k): check_value(v) for k, v in value.items()})

        return check_mapping
    if isinstance(tp, type):
        if tp is int:

            def check_int(value: Any) -> Any:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise TypeError(f"expected int, got {type(value).__name__}")
                return value

            return check_int
        if tp.__module__ == "datetime" and tp.__name__ == "date":

            def check_date(value: Any) -> Any:
                # a datetime is a date subclass, but never what a date field means
                if type(value).__name__ == "datetime" or not isinstance(value, tp):
                    raise TypeError(f"expected date, got {type(value).__name__}")
                return value

            return check_date

        def check_instance(value: Any) -> Any:
            if not isinstance(value, tp):
                raise TypeError(f"expected {tp.__name__}, got {type(value).__name__}")
            return value

        return check_instance
    raise NotImplementedError(f"no type check for annotation {tp!r}")  # pragma: no cover


def _build(cls: type) -> tuple[tuple[str, _Checker], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((a.name, _checker_for(hints[a.name])) for a in attrs.fields(cls) if a.init)


def check_fields(obj: Any) -> None:
    """Check every init field of the attrs instance *obj* against its annotation.

    Raises:
        TypeError: naming the class, the field and the expected type.
    """
    cls = type(obj)
    checkers = _CHECKERS.get(cls)
    if checkers is None:
        checkers = _CHECKERS[cls] = _build(cls)
    for name, checker in checkers:
        value = getattr(obj, name)
        try:
            normalised = checker(value)
        except TypeError as exc:
            raise TypeError(f"{cls.__name__}.{name}: {exc}") from None
        if normalised is not value:
            object.__setattr__(obj, name, normalised)
