"""Turning custbill objects into plain data and JSON, and back, exactly.

Amounts are strings (``{"amount": "12.50", "currency": "USD"}``), dates ISO 8601 strings,
enums their values, sets sorted lists.  A custom field value is a JSON string when it is
text, ``{"number": "12.5"}`` when it is a number and ``{"date": "2024-01-31"}`` when it is
a date, so every value comes back with its type.  Derived fields (``Customer.name``) are
not written.

Reading is strict: unknown keys, missing required keys and values of the wrong type raise
:class:`~custbill.InvalidDataError`, which names the path of every bad field.

>>> from custbill import PaymentTerm
>>> from custbill.serialization import from_json, to_json
>>> to_json(PaymentTerm(id="net30", name="Net 30", net_days=30))
'{"id": "net30", "name": "Net 30", "net_days": 30, "end_of_month": false}'
>>> from_json(PaymentTerm, '{"id": "net30", "name": "Net 30", "net_days": "30"}')
Traceback (most recent call last):
...
custbill.errors.InvalidDataError: invalid data: expected int, got str @ $.net_days
"""

from __future__ import annotations

import enum
import json
import math
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from moneyed import Money

from custbill.errors import InvalidDataError
from custbill.model import CustomValue, enums
from custbill.model.currencies import currency_known

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def _strict(tp: type) -> Any:
    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise TypeError(f"expected {tp.__name__}, got {type(value).__name__}")
        return value

    return structure


for _tp in (str, int, bool):
    converter.register_structure_hook(_tp, _strict(_tp))


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def _structure_enum(value: Any, tp: Any) -> Any:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    try:
        return tp(value)
    except ValueError:
        allowed = ", ".join(m.value for m in tp)
        raise ValueError(f"{value!r} is not one of {allowed}") from None


# by class, so that each enum (a str subclass) wins over the strict str hook
for _enum in vars(enums).values():
    if _is_enum(_enum) and _enum.__module__ == enums.__name__:
        converter.register_structure_hook(_enum, _structure_enum)
converter.register_unstructure_hook_func(_is_enum, lambda member: member.value)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected {what} as a string, got {type(value).__name__}")
    return value


def _structure_date(value: Any, _: Any) -> date:
    text = _text(value, "an ISO 8601 date")
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 date (YYYY-MM-DD), got {text!r}") from None


def _structure_datetime(value: Any, _: Any) -> datetime:
    text = _text(value, "an ISO 8601 date-time")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 date-time, got {text!r}") from None


def _structure_decimal(value: Any, _: Any = None) -> Decimal:
    text = _text(value, "a decimal number")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"expected a decimal number, got {text!r}") from None
    if not number.is_finite():
        raise ValueError(f"expected a finite decimal number, got {text!r}")
    return number


def _unstructure_money(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency.code}


def _structure_money(value: Any, _: Any) -> Money:
    if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
        raise ValueError('expected {"amount": "…", "currency": "…"}')
    currency = _text(value["currency"], "a currency code")
    if not currency_known(currency):
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    return Money(_structure_decimal(value["amount"]), currency)


def _unstructure_custom_value(value: CustomValue) -> Any:
    if isinstance(value, Decimal):
        return {"number": str(value)}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def _structure_custom_value(value: Any) -> CustomValue:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "number":
            return _structure_decimal(raw)
        if tag == "date":
            return _structure_date(raw, date)
    raise ValueError('expected a string, {"number": "…"} or {"date": "YYYY-MM-DD"}')


_CUSTOM_FIELDS = Mapping[str, CustomValue]


def _structure_custom_fields(value: Any, _: Any) -> dict[str, CustomValue]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    result = {}
    for key, raw in value.items():
        if not isinstance(key, str):
            raise TypeError("custom field names are strings")
        try:
            result[key] = _structure_custom_value(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"custom field {key!r}: {exc}") from None
    return result


def _is_custom_fields(tp: Any) -> bool:
    return bool(tp == _CUSTOM_FIELDS)


converter.register_unstructure_hook(Money, _unstructure_money)
converter.register_structure_hook(Money, _structure_money)
converter.register_unstructure_hook(date, date.isoformat)
converter.register_structure_hook(date, _structure_date)
converter.register_unstructure_hook(datetime, datetime.isoformat)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(Decimal, str)
converter.register_structure_hook(Decimal, _structure_decimal)
converter.register_unstructure_hook_func(
    _is_custom_fields,
    lambda fields: {k: _unstructure_custom_value(v) for k, v in fields.items()},
)
converter.register_structure_hook_func(_is_custom_fields, _structure_custom_fields)


def _json_value(value: Any, path: str) -> Any:
    """*value* if it is JSON data — text, a whole or finite number, a boolean, null, or a
    list or object of them — which writes out and reads back equal; else ValueError."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, list):
        return [_json_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _json_value(v, f"{path}[{k!r}]") for k, v in value.items()}
    raise ValueError(f"{path}: {type(value).__name__} is not JSON data")


def _structure_params(value: Any, _: Any) -> dict[str, Any]:
    """A violation's params: an object of JSON data (what :func:`to_dict` writes)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"params: expected an object, got {type(value).__name__}")
    return _json_value(value, "params")  # type: ignore[no-any-return]


converter.register_structure_hook_func(lambda tp: tp == Mapping[str, Any], _structure_params)


def _is_frozenset(tp: Any) -> bool:
    return typing.get_origin(tp) is frozenset


def _is_tuple(tp: Any) -> bool:
    return typing.get_origin(tp) is tuple


def _sorted_list(items: frozenset[Any]) -> list[Any]:
    return sorted(converter.unstructure(item) for item in items)


def _sequence_hook(tp: Any, conv: cattrs.Converter) -> Any:
    """Structure tuples and frozensets from JSON arrays only (never from a string)."""
    item = typing.get_args(tp)[0]
    inner = homogenous_tuple_structure_factory(tuple[item, ...], conv)  # type: ignore[valid-type]
    wrap = frozenset if _is_frozenset(tp) else tuple

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected an array, got {type(value).__name__}")
        return wrap(inner(value, tp))

    return structure


converter.register_unstructure_hook_func(_is_frozenset, _sorted_list)
converter.register_structure_hook_factory(_is_frozenset, _sequence_hook)
converter.register_structure_hook_factory(_is_tuple, _sequence_hook)


def _format_error(exc: BaseException, tp: type | None) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown field(s) {sorted(exc.extra_fields)}"
    if isinstance(exc, TypeError | ValueError) and str(exc):
        return str(exc)
    return f"invalid value for {getattr(tp, '__name__', tp)}"


def to_dict(obj: Any) -> Any:
    """Plain data (dicts, lists, strings, numbers, booleans) for a custbill object."""
    if not attrs.has(type(obj)):
        raise TypeError(f"expected a custbill model object, got {type(obj).__name__}")
    return converter.unstructure(obj, unstructure_as=type(obj))


#: The converter stores use: like :data:`converter`, but fields equal to their default are
#: left out, which makes stored records about a third of the size.
compact_converter = converter.copy(omit_if_default=True)


#: One encoder for every compact document (json.dumps with options builds one per call);
#: what the converter gives is a tree, so the encoder need not look for cycles.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def to_compact_json(obj: Any) -> str:
    """JSON for a custbill object without the fields that hold their default value;
    :func:`from_json` reads it back exactly.  The SQL stores keep records this way."""
    return _COMPACT.encode(compact_converter.unstructure(obj, unstructure_as=type(obj)))


def from_dict(cls: type[T], data: Any) -> T:
    """Rebuild an object of *cls* from :func:`to_dict`'s output.

    Raises:
        InvalidDataError: naming the path of each bad field.
    """
    if not attrs.has(cls):
        raise TypeError(f"expected a custbill model class, got {cls!r}")
    if not isinstance(data, Mapping):
        raise InvalidDataError([f"expected an object, got {type(data).__name__} @ $"])
    try:
        result = typing.cast(T, converter.structure(data, cls))
    except cattrs.BaseValidationError as exc:
        raise InvalidDataError(
            cattrs.transform_error(exc, path="$", format_exception=_format_error)
        ) from None
    except (TypeError, ValueError) as exc:
        raise InvalidDataError([f"{exc} @ $"]) from None
    except RecursionError:
        raise InvalidDataError(["nested too deeply @ $"]) from None
    return result


def to_json(obj: Any) -> str:
    """JSON text for a custbill object."""
    return json.dumps(to_dict(obj), ensure_ascii=False)


def from_json(cls: type[T], text: str | bytes) -> T:
    """Rebuild an object of *cls* from :func:`to_json`'s output.

    Raises:
        InvalidDataError: for malformed JSON or any bad field.
    """
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise InvalidDataError([f"not JSON: {exc} @ $"]) from None
    except RecursionError:  # deeper than the interpreter's recursion limit
        raise InvalidDataError(["not JSON custbill reads: nested too deeply @ $"]) from None
    return from_dict(cls, data)


__all__ = ["converter", "from_dict", "from_json", "to_compact_json", "to_dict", "to_json"]
