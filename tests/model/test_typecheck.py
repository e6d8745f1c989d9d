"""The compiled field checks accept, normalise and reject exactly what the interpreted
checks do, with the same messages; their generated source is visible to tracebacks."""

from __future__ import annotations

import inspect
import traceback
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.model import _typecheck
from custbill.model._typecheck import FrozenMapping, check_fields, check_fields_plainly
from custbill.model.promote import assembler
from tests.strategies import MODEL_STRATEGIES

#: Values of many types, right for some fields and wrong for others.
_ODD_VALUES: list[Any] = [
    None,
    0,
    7,
    True,
    1.5,
    "",
    "x",
    b"x",
    date(2024, 2, 29),
    datetime(2024, 2, 29, 12, tzinfo=UTC),
    Decimal("1.5"),
    Money("1.50", "USD"),
    [],
    ["a", "b"],
    [1],
    (),
    ("a",),
    set(),
    {"a"},
    frozenset({"a"}),
    {},
    {"a": "b"},
    {"a": 1},
    {1: "a"},
    FrozenMapping({"a": "b"}),
    cb.AccountStatus.ACTIVE,
    cb.InvoiceType.EMAIL,
    cb.Channel.PDF,
    [cb.Channel.PDF],
    cb.Address(line1="1 Main St", city="Austin", postal_code="78701", country="US"),
    cb.Phone(type=cb.PhoneType.WORK, number="+1 555 0100"),
    [cb.Phone(type=cb.PhoneType.WORK, number="+1 555 0100")],
    (cb.Contact(name="Ann"),),
]

#: Every model class whose constructor runs the field checks.
_CHECKED = [
    cls
    for cls in MODEL_STRATEGIES
    if hasattr(cls, "__attrs_post_init__")
    and "check_fields(self)" in inspect.getsource(cls.__attrs_post_init__)
]


def _raw(cls: type, values: dict[str, Any]) -> Any:
    """An instance of *cls* holding *values*, built without its constructor's checks."""
    obj = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    return obj


def _outcome(check: Any, obj: Any) -> tuple[str, Any]:
    """What *check* makes of *obj*: its message, or every field with its type."""
    try:
        check(obj)
    except TypeError as exc:
        return "rejected", str(exc)
    fields = attrs.fields(type(obj))
    return "accepted", [(a.name, type(getattr(obj, a.name)), getattr(obj, a.name)) for a in fields]


def test_every_checked_class_is_covered() -> None:
    """The comparison below runs over the classes that check their fields."""
    assert {cb.Customer, cb.BillingAccount, cb.Address, cb.Invoice} <= set(_CHECKED)


@pytest.mark.parametrize("cls", _CHECKED, ids=lambda c: c.__name__)
@given(data=st.data())
def test_compiled_checks_match_the_interpreted_ones(cls: type, data: st.DataObject) -> None:
    """Random field values (mostly valid, some of another type) get the same verdict,
    message and normalised values from both."""
    valid = data.draw(MODEL_STRATEGIES[cls])
    values = {a.name: getattr(valid, a.name) for a in attrs.fields(cls)}
    for a in attrs.fields(cls):
        if a.init and data.draw(st.integers(0, 3)) == 0:
            values[a.name] = data.draw(st.sampled_from(_ODD_VALUES))
    compiled = _outcome(check_fields, _raw(cls, values))
    plain = _outcome(check_fields_plainly, _raw(cls, values))
    assert compiled == plain


def test_a_rejection_names_class_field_and_type() -> None:
    """Both paths say which field of which class was wrong, and what it expects."""
    values = {a.name: getattr(_address(), a.name) for a in attrs.fields(cb.Address)}
    values["city"] = 5
    for check in (check_fields, check_fields_plainly):
        with pytest.raises(TypeError, match=r"^Address\.city: expected str, got int$"):
            check(_raw(cb.Address, values))


def _address() -> cb.Address:
    return cb.Address(line1="1 Main St", city="Austin", postal_code="78701", country="US")


def test_generated_source_is_visible() -> None:
    """inspect and tracebacks show the generated checks and builders, as for attrs."""
    _address()
    check = _typecheck._COMPILED[cb.Address]
    assert "def check(self):" in inspect.getsource(check)
    build = assembler(cb.Change)
    assert "def build(" in inspect.getsource(build)
    with pytest.raises(TypeError) as info:
        check(_raw(cb.Address, {"line1": 1}))
    shown = "".join(traceback.format_exception(info.value))
    assert "custbill generated type checks of Address" in shown
    assert "_c_line1(v)" in shown  # the generated line that raised
