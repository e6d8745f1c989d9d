"""One line of a customer's or account's activity (:meth:`custbill.CustomerBilling.activity`)."""

from __future__ import annotations

from datetime import datetime

import attrs
from moneyed import Money

from custbill.model._typecheck import check_fields
from custbill.model.records import Tabular


@attrs.frozen(kw_only=True)
class Activity(Tabular):
    """Something that happened to a customer or an account, and who did it.

    ``kind`` is ``created``, ``changed`` (``field`` from ``old`` to ``new``, protected
    values masked as history masks them), ``status``, ``erased``, or an event on a record —
    ``note``, ``note_deleted``, ``charge``, ``invoice``, ``payment``, ``adjustment``,
    ``deposit``, ``dunning`` — named by ``record``, with its ``amount`` and what it says
    (``detail``: an adjustment's kind and reason, a deposit's action, a charge's
    description, a dunning step's text).  ``at`` is when it was recorded; an invoice, which
    a bill run issues for many accounts at once, is placed at the start of its invoice
    date, without an actor.
    """

    at: datetime
    number: str
    kind: str
    field: str | None = None
    old: str | None = None
    new: str | None = None
    record: str | None = None
    amount: Money | None = None
    detail: str | None = None
    actor: str | None = None
    reason: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)
