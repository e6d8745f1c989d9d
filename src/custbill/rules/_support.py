"""Helpers shared by the rule modules: building violations and checking text."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from custbill.model import CustomFieldDefinition, CustomFieldType, Violation
from custbill.model.text import identity_key
from custbill.rules.codes import CODES
from custbill.rules.lookup import Lookup


def violation(code: str, path: str, message: str, **params: Any) -> Violation:
    """Build a :class:`~custbill.Violation`; *code* must be one of
    :data:`~custbill.rules.codes.CODES`."""
    assert code in CODES, code
    return Violation(code=code, path=path, message=message, params=params)


def blank(text: object) -> bool:
    """True for None, a non-string, or a string of only white space and invisible
    characters (see :mod:`custbill.model.text`)."""
    if not isinstance(text, str):
        return True
    if text.isascii():
        return not text.strip()
    return not identity_key(text).strip()


def filled(*texts: object) -> bool:
    """True when every one of *texts* is a string with more than white space (the opposite
    of :func:`blank` for each)."""
    # a plain loop, not all() over a generator: it runs several times per creation
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            return False
        if not text.isascii() and not identity_key(text).strip():
            return False
    return True


def check_numbers(
    kind: str,
    number: str | None,
    external_number: str | None,
    own: str | None,
    lookup: Lookup,
) -> tuple[Violation, ...]:
    """A *kind* (``"customer"`` or ``"account"``) record's number is free (customers and
    accounts share one namespace) and its external number belongs to no other record of
    its kind.  *own* is the record's stored number when it is edited (it keeps its own
    values); a new record's number is checked only when it is given."""
    found = []
    if (
        own is None
        and number is not None
        and (lookup.customer(number) is not None or lookup.account(number) is not None)
    ):
        found.append(
            violation(
                f"{kind}.number_taken", "number", f"{number} is already in use", number=number
            )
        )
    if external_number is not None:
        holder = (
            lookup.customer_with_external_number(external_number)
            if kind == "customer"
            else lookup.account_with_external_number(external_number)
        )
        if holder is not None and holder != own:
            found.append(
                violation(
                    f"{kind}.external_number_taken",
                    "external_number",
                    f"external number {external_number!r} belongs to {kind} {holder}",
                    holder=holder,
                )
            )
    return tuple(found)


# The WHATWG HTML "valid email address" pattern: what a browser's email field accepts.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


def email_valid(text: object) -> bool:
    """True when *text* is a syntactically valid email address of at most 254 characters."""
    return isinstance(text, str) and len(text) <= 254 and _EMAIL.fullmatch(text) is not None


_PHONE_SEPARATORS = re.compile(r"[\s.\-()/]")


def phone_valid(text: object) -> bool:
    """True for an optional ``+`` then 4–15 digits, separated by spaces, dots, dashes,
    slashes or parentheses (E.164 allows at most 15 digits)."""
    if not isinstance(text, str):
        return False
    compact = _PHONE_SEPARATORS.sub("", text.strip())
    compact = compact.removeprefix("+")
    return compact.isascii() and compact.isdigit() and 4 <= len(compact) <= 15


# Two-letter codes CLDR knows that are not ISO 3166-1 countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ"})


@functools.cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 country codes, from babel's CLDR territory data."""
    from babel import Locale  # lazy: babel's locale data is large

    return frozenset(
        code
        for code in map(str, Locale("en").territories)
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


@functools.lru_cache(maxsize=1024)
def locale_known(identifier: str) -> bool:
    """True when babel can load the locale *identifier* (``en_US``, ``sv_SE``, …)."""
    from babel import Locale, UnknownLocaleError

    if not identifier or not identifier.isascii():
        return False
    try:
        Locale.parse(identifier)
    except (ValueError, UnknownLocaleError, TypeError):
        return False
    return True


def check_custom_fields(
    values: Mapping[str, object],
    definitions: Sequence[CustomFieldDefinition],
    code: str,
) -> tuple[Violation, ...]:
    """Check custom field *values* against the *definitions* that apply to them."""
    if not values and not definitions:  # the common case: nothing to check
        return ()
    found: list[Violation] = []
    by_name = {d.name: d for d in definitions}
    for name, value in values.items():
        path = f"custom_fields[{name}]"
        definition = by_name.get(name)
        if definition is None:
            found.append(
                violation(
                    code, path, f"no custom field {name!r} is defined", field=name, reason="unknown"
                )
            )
        elif not _fits(definition, value):
            found.append(
                violation(
                    code,
                    path,
                    f"{name!r} takes a {definition.type.value} value"
                    + (f" among {list(definition.options)}" if definition.options else ""),
                    field=name,
                    reason="type",
                )
            )
    for definition in by_name.values():
        value = values.get(definition.name)
        if definition.required and (value is None or (isinstance(value, str) and blank(value))):
            found.append(
                violation(
                    code,
                    f"custom_fields[{definition.name}]",
                    f"custom field {definition.name!r} is required",
                    field=definition.name,
                    reason="required",
                )
            )
    return tuple(found)


def _fits(definition: CustomFieldDefinition, value: object) -> bool:
    match definition.type:
        case CustomFieldType.TEXT:
            return isinstance(value, str)
        case CustomFieldType.NUMBER:
            return isinstance(value, Decimal) and value.is_finite()
        case CustomFieldType.DATE:
            return isinstance(value, date) and not isinstance(value, datetime)
        case CustomFieldType.CHOICE:
            return isinstance(value, str) and value in definition.options
    return False  # pragma: no cover - every type is matched above
