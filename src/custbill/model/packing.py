"""Records packed as tuples of plain values, which the garbage collector stops tracking.

The memory store holds millions of customers and accounts.  Held as model objects, each
record is one to four objects the cyclic garbage collector tracks (the record, its Money,
its payment methods, contacts and addresses), and every full collection visits each of
them: 1.9 s a collection at a million accounts, paid again whenever a program that holds
the store allocates enough (reading a large bill run's invoices paid it twice over).  A
tuple that holds only strings, numbers, dates, Decimals, None and such tuples is
untracked by the first collection that sees it (CPython's own rule), so a packed record
costs a full collection nothing.

A :class:`Packer` is compiled once per record class from its attrs fields and their
annotations: atomic values are kept as they are, an enum member as its value, Money as
``(amount, currency code)``, a nested record as its own packed tuple, a tuple of records
as a tuple of packed tuples, a mapping as a tuple of its items.  Nested tuples are built
before the tuple that holds them (through a list: ``tuple(map(...))`` allocates the tuple
first), because a collection untracks tuples in the order they were allocated, a tuple
only once what it holds is untracked.  Unpacking builds the
record with ``custbill.model.promote.assembler`` (no checks: the values were
checked when the record was made), a mapping as the read-only mapping its constructor
would hold.  The hypothesis tests in
``tests/model/test_packing.py`` hold ``unpack(pack(r)) == r`` for every kind of record
and check that packed records are untracked.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs
from moneyed import Money

from custbill.model._codegen import compile_function
from custbill.model._typecheck import EMPTY_MAPPING, FrozenMapping
from custbill.model.currencies import money_of
from custbill.model.promote import assembler

R = TypeVar("R")

#: A record as the memory store keeps it, a tuple of plain values (see the module's text).
Packed = tuple[Any, ...]

#: Types whose values the collector never tracks, kept as they are.
_ATOMIC: frozenset[type] = frozenset({str, int, bool, float, Decimal, date, datetime, type(None)})


class Packer(Generic[R]):
    """Packs records of one attrs class into tuples and back.

    ``pack(record)`` gives the tuple; ``unpack(packed)`` the equal record;
    ``position(field)`` where an atomic field's value sits in the tuple, for readers that
    need one field without building the record.

    The class's :data:`SPARSE_FIELDS` — fields most records leave at their defaults — are
    packed together in the tuple's last slot, which is None while all of them are at their
    defaults: one slot a record instead of one a field.
    """

    def __init__(self, cls: type[R]) -> None:
        self.cls = cls
        self._positions: dict[str, int] = {}
        env: dict[str, Any] = {"_assemble": assembler(cls)}
        hints = typing.get_type_hints(cls)
        sparse = SPARSE_FIELDS.get(cls.__name__, ())
        packs: list[str] = []
        sparse_packs: list[str] = []
        defaults: list[Any] = []
        unpacks: list[str] = []
        for i, field in enumerate(attrs.fields(cls)):  # type: ignore[arg-type]
            kind, optional = _strip_none(hints[field.name])
            in_sparse = field.name in sparse
            slot = f"s[{len(sparse_packs)}]" if in_sparse else f"p[{len(packs)}]"
            pack, unpack = _codecs(kind, f"f{i}", env)
            value = f"obj.{field.name}"
            if pack is None or unpack is None:
                packed_value, unpacked = value, slot
            elif optional:
                packed_value = f"None if {value} is None else ({pack.format(value)})"
                unpacked = f"None if {slot} is None else ({unpack.format(slot)})"
            else:
                packed_value, unpacked = pack.format(value), unpack.format(slot)
            if in_sparse:
                if field.default not in _SPARSE_DEFAULTS:  # pragma: no cover - caught at import
                    raise TypeError(f"a sparse field's default is None, False or (): {field.name}")
                sparse_packs.append(packed_value)
                defaults.append(field.default)
                unpacks.append(f"{field.default!r} if s is None else ({unpacked})")
                continue
            if pack is None:
                self._positions[field.name] = len(packs)
            packs.append(packed_value)
            unpacks.append(unpacked)
        prologue = ""
        if sparse_packs:
            packs.append(f"_sparse(({', '.join(sparse_packs)},))")
            env["_sparse"] = _sparse_or_none(tuple(defaults))
            prologue = f"    s = p[{len(packs) - 1}]\n"
        name = cls.__name__
        pack_source = "def pack(obj):\n    return (\n" + _lines(packs) + "    )\n"
        unpack_source = (
            "def unpack(p):\n" + prologue + "    return _assemble(\n" + _lines(unpacks) + "    )\n"
        )
        #: The packed tuple of a record.
        self.pack: Callable[[R], Packed] = compile_function(
            pack_source, "pack", f"packing of {name}", env
        )
        #: The record of a packed tuple.
        self.unpack: Callable[[Packed], R] = compile_function(
            unpack_source, "unpack", f"unpacking of {name}", env
        )

    def position(self, field: str) -> int:
        """Where the value of the atomic *field* sits in a packed tuple (not a sparse
        field's: those share one slot)."""
        return self._positions[field]


#: The defaults a sparse field may have: what packs as itself.
_SPARSE_DEFAULTS: tuple[Any, ...] = (None, False, ())

#: Per record class (by name), the fields most records leave at their defaults, packed in
#: one slot (see :class:`Packer`): at a million accounts, 8 bytes a field a record.  The
#: fields the memory store reads in place (a customer's name, emails, end date, erasure)
#: are not among them.
SPARSE_FIELDS: dict[str, tuple[str, ...]] = {
    "BillingAccount": (
        "taxable",
        "invoice_rendering",
        "parent_account",
        "dunning_enabled",
        "dunning_plan",
        "credit_limit",
        "end_date",
        "contract_type",
        "invoice_template",
        "web_template",
        "salesperson",
        "rate_plan",
        "invoice_note",
        "invoice_emails",
        "features",
        "locations",
    ),
    "Customer": (
        "date_of_birth",
        "tax_number",
        "tax_id_validated",
        "service_address",
        "shipping_address",
        "customer_type",
        "owner",
    ),
}


def _sparse_or_none(defaults: tuple[Any, ...]) -> Callable[[Packed], Packed | None]:
    """None for packed sparse values all at their *defaults*, else the values."""

    def sparse(values: Packed) -> Packed | None:
        return None if values == defaults else values

    return sparse


_PACKERS: dict[type, Packer[Any]] = {}


def packer_of(cls: type[R]) -> Packer[R]:
    """The packer of *cls*, compiled on first use."""
    found = _PACKERS.get(cls)
    if found is None:
        found = _PACKERS[cls] = Packer(cls)
    return found


def _frozen(items: tuple[tuple[str, Any], ...]) -> FrozenMapping:
    """The read-only mapping of packed *items*, as the record's constructor makes it."""
    return FrozenMapping(dict(items)) if items else EMPTY_MAPPING


def _lines(expressions: list[str]) -> str:
    return "".join(f"        {e},\n" for e in expressions)


def _strip_none(hint: Any) -> tuple[Any, bool]:
    """*hint* without None, and whether it allowed None (a union of several other types
    is left whole: only atomic ones occur, and None is atomic)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        present = [a for a in args if a is not type(None)]
        if len(present) == 1:
            return present[0], len(present) < len(args)
    return hint, False


def _is_atomic(kind: Any) -> bool:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return all(_is_atomic(a) for a in typing.get_args(kind))
    return kind in _ATOMIC or (
        typing.get_origin(kind) is tuple and all(_is_atomic(a) for a in _item_types(kind))
    )


def _item_types(kind: Any) -> tuple[Any, ...]:
    return tuple(a for a in typing.get_args(kind) if a is not Ellipsis)


def _codecs(kind: Any, name: str, env: dict[str, Any]) -> tuple[str | None, str | None]:
    """Format strings packing and unpacking a value of *kind* (``{0}`` stands for the
    value), with what they use added to *env* under names starting with *name*; None for
    a value kept as it is."""
    if _is_atomic(kind):
        return None, None
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        env[f"{name}_out"] = {member: member.value for member in kind}
        env[f"{name}_in"] = {member.value: member for member in kind}
        return f"{name}_out[{{0}}]", f"{name}_in[{{0}}]"
    if kind is Money:
        env["_money_of"] = money_of
        return "({0}.amount, {0}.currency.code)", "_money_of(*{0})"
    if attrs.has(kind):
        inner = packer_of(kind)
        env[f"{name}_pack"], env[f"{name}_unpack"] = inner.pack, inner.unpack
        return f"{name}_pack({{0}})", f"{name}_unpack({{0}})"
    origin = typing.get_origin(kind)
    if origin is tuple:
        (item,) = _item_types(kind)
        if not attrs.has(item):  # pragma: no cover - no such field
            raise TypeError(f"cannot pack a tuple of {item}")
        items = packer_of(item)
        env[f"{name}_pack"], env[f"{name}_unpack"] = items.pack, items.unpack
        return (
            f"tuple(list(map({name}_pack, {{0}}))) if {{0}} else ()",
            f"tuple(map({name}_unpack, {{0}})) if {{0}} else ()",
        )
    if origin in (Mapping, dict) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        key, value = typing.get_args(kind)
        if not (_is_atomic(key) and _is_atomic(value)):  # pragma: no cover - no such field
            raise TypeError(f"cannot pack a mapping of {kind}")
        env["_frozen"] = _frozen
        return "tuple(list({0}.items())) if {0} else ()", "_frozen({0})"
    raise TypeError(f"cannot pack a value of {kind}")  # pragma: no cover - caught at import
