"""Small value objects shared by customers and accounts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from custbill.model._typecheck import check_fields
from custbill.model.enums import PaymentMethodKind, PhoneType
from custbill.model.records import Tabular
from custbill.model.text import printable


@attrs.frozen(kw_only=True)
class Address(Tabular):
    """A postal address; ``country`` is an ISO 3166 alpha-2 code such as ``"US"``."""

    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class ServiceLocation(Tabular):
    """A place an account's services are delivered (the telecom module's Locations), by a
    name unique within the account; at most one is ``primary``."""

    name: str
    address: Address
    primary: bool = False

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class Phone(Tabular):
    """A phone number and its type."""

    type: PhoneType
    number: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class Contact(Tabular):
    """A person to contact about an account; ``category`` drives invoice distribution."""

    name: str
    email: str | None = None
    category: str | None = None
    phone: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class PaymentMethod(Tabular):
    """A stored payment method, held as the payment processor's token.

    custbill never accepts a card number or a CVV: there is no field for a CVV, and a rule
    (``account.payment_method_invalid``) rejects any field that holds a card number.
    ``expiry`` is ``"MM/YY"``.
    """

    kind: PaymentMethodKind
    token: str
    brand: str | None = None
    last4: str | None = None
    expiry: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


def _shown(text: str) -> str:
    """A violation's path or message as it keeps it: :func:`~custbill.model.text.printable`."""
    if not isinstance(text, str):
        raise TypeError(f"a violation's path and message are str, not {type(text).__name__}")
    return printable(text)


@attrs.frozen(kw_only=True)
class Violation(Tabular):
    """One broken rule: a stable ``code``, the ``path`` of the field, a readable message.

    ``params`` holds machine-readable details (never protected personal data), values as
    given.  ``path`` and ``message`` are kept :func:`~custbill.model.text.printable`: a
    control character or a lone surrogate of a caller's text (a charge keyed
    ``"A-1\\x1b[2J"``) is shown as its escape, so an error prints and logs whole and
    cannot drive a terminal; one longer than :data:`~custbill.model.text.SHOWN_LENGTH`
    characters is shown by its start and its end.
    """

    code: str
    path: str = attrs.field(converter=_shown)
    message: str = attrs.field(converter=_shown)
    params: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def __str__(self) -> str:
        return f"{self.code} @ {self.path}: {self.message}"


class ValidationReport(dict[str, tuple[Violation, ...]]):
    """Violations found across stored records, grouped by code (codes in order).

    A plain dict of code to violations, so it reads, compares and serializes as one;
    ``to_records()`` gives one row per violation (``number`` names the customer or account
    it is about) and notebooks show it as a table.
    """

    def to_records(self) -> list[dict[str, object]]:
        """One flat dict per violation: code, number, path, message."""
        return [
            {"code": v.code, "number": v.params.get("number"), "path": v.path, "message": v.message}
            for violations in self.values()
            for v in violations
        ]

    def _repr_html_(self) -> str:
        from custbill.model.records import records_html

        records = self.to_records()
        return records_html(f"{len(records)} violation(s)", records, rows=True)


@attrs.frozen(kw_only=True)
class Change(Tabular):
    """One recorded change of one field of a customer or account.

    ``old`` and ``new`` are the values as text (ISO dates, ``"12.00 USD"``, enum values),
    with protected values masked.  Creation is recorded as ``field="created"`` and an
    erasure as ``field="erased"``.  ``actor`` is who made the change and ``reason`` why,
    when the facade was told (:meth:`custbill.CustomerBilling.acting`).

    The same log keeps what else happened to the record — a payment, a note, a dunning
    step — under a field starting with ``@`` (``"@payment"``), ``new`` naming the record
    (``"P-000042"``): :meth:`~custbill.CustomerBilling.activity` reads those,
    :meth:`~custbill.CustomerBilling.history` leaves them out.
    """

    at: datetime
    number: str
    field: str
    old: str | None
    new: str | None
    actor: str | None = None
    reason: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class Note(Tabular):
    """A note on a customer or an account: what someone wrote about it, and when.

    ``number`` (``N-000001``) is the note's own; ``about`` is the customer's or the
    account's number.  Notes are kept until deleted, and erased with their customer.
    """

    number: str
    about: str
    text: str
    author: str
    at: datetime

    def __attrs_post_init__(self) -> None:
        check_fields(self)
