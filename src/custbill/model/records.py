"""Any custbill value as flat records: plain dicts for pandas, CSV and notebooks.

Every entity and result type has ``to_records()``, a list of flat dicts with stable
column names (its fields', in declaration order), so that
``pandas.DataFrame.from_records(x.to_records())`` gives named columns; and an HTML repr
(``_repr_html_``) that notebooks show as a table.  :func:`to_records` does the same for
a sequence of them, such as :meth:`custbill.CustomerBilling.accounts_of`'s answer.

How a field becomes columns:

- an amount (``Money``) is its ``Decimal`` amount under the field's name, and its
  currency is the ``currency`` column (a record's amounts share one currency; one that
  differs from the first gets a ``<field>_currency`` column of its own);
- an enum is its value; a date, text, number or flag is itself; None stays None;
- a value object (an address, a partition) spreads into ``<field>_<its field>`` columns;
- a mapping (custom fields) spreads into ``<field>_<key>`` columns;
- a collection of text or enums is one text cell, joined by ", " (sets sorted); a
  collection of value objects is one text cell, each item's filled fields joined by
  spaces and the items by "; ".

Protected personal values are masked as in ``repr``: a tax number shows its last four
characters only, a date of birth never (:mod:`custbill.model.masking`).  The values
themselves are on the records' attributes, for a host that is allowed to read them.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, cast

import attrs
from moneyed import Money

from custbill.model.html import table
from custbill.model.masking import (
    mask_date_of_birth,
    mask_tax_number,
    repr_date_of_birth,
    repr_tax_number,
)

#: One flat record, column name to a scalar (text, number, Decimal, date, flag or None).
Record = dict[str, object]

#: How each masked field's value is shown, keyed by the ``repr`` attrs shows it with.
_MASKS: dict[object, Any] = {
    repr_tax_number: mask_tax_number,
    repr_date_of_birth: mask_date_of_birth,
}

#: The column holding the currency of a record's amounts.
CURRENCY_COLUMN = "currency"


class HasRecords(Protocol):
    """Anything with ``to_records()``: every custbill entity and result type."""

    def to_records(self) -> list[Record]: ...


def _scalar(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Money):
        return value.amount
    return value


def _fields_of(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(cast("type[attrs.AttrsInstance]", cls))
    return fields


def _fields(value: object) -> tuple[attrs.Attribute[Any], ...]:
    return _fields_of(type(value))


def _item_text(value: object) -> str:
    if attrs.has(type(value)):
        parts = (_scalar(getattr(value, f.name)) for f in _fields(value))
        return " ".join(str(p) for p in parts if p not in (None, "", ()))
    return str(_scalar(value))


@functools.cache
def _declared(cls: type) -> dict[str, tuple[type, ...]]:
    """Per field of ``cls``, the classes its annotation names (``X | None`` gives X)."""
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # an annotation only a type checker can resolve
        return {}
    found: dict[str, tuple[type, ...]] = {}
    for name, hint in hints.items():
        members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        found[name] = tuple(m for m in members if isinstance(m, type))
    return found


def _spread_none(record: Record, name: str, declared: tuple[type, ...]) -> None:
    """A None where a value object or an amount may stand gives the same columns a value
    would, empty, so that every record of a type has the same columns."""
    nested = next((t for t in declared if attrs.has(t)), None)
    if nested is not None:
        hints = _declared(nested)
        for field in _fields_of(nested):
            _spread_none(record, f"{name}_{field.name}", hints.get(field.name, ()))
        return
    record[name] = None
    if Money in declared:
        record.setdefault(CURRENCY_COLUMN, None)


def _spread(record: Record, name: str, value: object) -> None:
    if isinstance(value, Money):
        record[name] = value.amount
        code = value.currency.code
        if record.get(CURRENCY_COLUMN) is None:
            record[CURRENCY_COLUMN] = code
        elif record[CURRENCY_COLUMN] != code:
            record[f"{name}_currency"] = code
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _spread(record, f"{name}_{key}", item)
    elif isinstance(value, tuple | frozenset | list):
        items = sorted(value, key=str) if isinstance(value, frozenset) else value
        separator = "; " if any(attrs.has(type(i)) for i in items) else ", "
        record[name] = separator.join(_item_text(i) for i in items)
    elif attrs.has(type(value)):
        for field in _fields(value):
            _spread(record, f"{name}_{field.name}", getattr(value, field.name))
    else:
        record[name] = _scalar(value)


def flatten(value: object) -> Record:
    """One attrs record as a flat dict, by the rules of this module.

    >>> from datetime import date
    >>> from moneyed import Money
    >>> import custbill as cb
    >>> from custbill.model.records import flatten
    >>> payment = cb.Payment(
    ...     number="P-1", account="A-1", amount=Money("12.50", "USD"),
    ...     received_on=date(2026, 3, 1))
    >>> flatten(payment)
    {'number': 'P-1', 'account': 'A-1', 'amount': Decimal('12.50'), 'currency': 'USD', \
'received_on': datetime.date(2026, 3, 1), 'reference': None}
    """
    record: Record = {}
    cls: type = type(value)
    declared = _declared(cls)
    for field in _fields(value):
        item = getattr(value, field.name)
        mask = _MASKS.get(field.repr)
        if mask is not None:
            record[field.name] = mask(item)
        elif item is None:
            _spread_none(record, field.name, declared.get(field.name, ()))
        else:
            _spread(record, field.name, item)
    return record


def to_records(values: HasRecords | Iterable[HasRecords]) -> list[Record]:
    """The records of one custbill value, or of each of a sequence of them, in order.

    >>> import custbill as cb
    >>> rows = cb.to_records([cb.SkippedAccount(account="A-1", reason="closed")])
    >>> rows
    [{'account': 'A-1', 'reason': 'closed'}]
    """
    if hasattr(values, "to_records"):
        return values.to_records()
    return [row for value in values for row in value.to_records()]


def records_html(caption: str, records: list[Record], *, rows: bool = False) -> str:
    """The records as an HTML table: a single record as a row per field that has a value
    (unless ``rows``), several as a row per record and a column per field."""
    if len(records) == 1 and not rows:
        filled = [[k, _cell(v)] for k, v in records[0].items() if v not in (None, "")]
        return table(caption, ["field", "value"], filled)
    header: dict[str, None] = {}
    for record in records:
        header.update(dict.fromkeys(record))
    body = [[_cell(record.get(column)) for column in header] for record in records]
    return table(caption, list(header), body)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


class Tabular:
    """What gives a custbill type ``to_records()`` (one flat record of its fields) and a
    notebook HTML repr of it; a type with rows of its own overrides ``to_records``."""

    __slots__ = ()

    def to_records(self) -> list[Record]:
        """This value as a list of flat dicts (:mod:`custbill.model.records`)."""
        return [flatten(self)]

    def _repr_html_(self) -> str:
        return records_html(type(self).__name__, self.to_records())
