"""What dunning finds and does: an account's overdue state, the notices its plan's steps
record, and the report of a dunning run."""

from __future__ import annotations

from datetime import date

import attrs
from moneyed import Money

from custbill.model._typecheck import check_fields
from custbill.model.enums import AccountStatus, DunningAction
from custbill.model.records import Tabular
from custbill.model.values import Violation


@attrs.frozen(kw_only=True)
class DunningState(Tabular):
    """How overdue an account is on ``as_of``, and how far its dunning plan reaches.

    ``overdue`` is what is unpaid of the amounts due before ``as_of``; ``since`` the due
    date of the oldest of them (None when nothing is overdue), and ``days_overdue`` the
    days from it to ``as_of``.  ``step`` is the index of the deepest step of the account's
    plan that this reaches (None for none, or without dunning).
    """

    account: str
    as_of: date
    overdue: Money
    since: date | None
    days_overdue: int
    step: int | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class DunningNotice(Tabular):
    """One step of a dunning plan applied to an account on ``on``: what it did
    (``action``, with the step's own text), how overdue the account was, and the status it
    set (None for a notice only).  ``since`` identifies the overdue spell: a step is applied
    once per spell."""

    number: str
    account: str
    on: date
    plan: str
    step: int
    action: DunningAction
    text: str
    overdue: Money
    since: date
    days_overdue: int
    status: AccountStatus | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class DunningDue(Tabular):
    """A step of an account's plan that is reached and not yet applied in this spell."""

    state: DunningState
    step: int
    action: DunningAction
    text: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class DunningRefusal(Tabular):
    """A due step that could not be applied: the rules refused the status it sets."""

    due: DunningDue
    violations: tuple[Violation, ...]

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class DunningReport(Tabular):
    """What a dunning run on ``as_of`` did: the accounts it returned to ACTIVE (their
    overdue amount was cleared), the notices it recorded (in account order, each account's
    steps in order) and the steps the rules refused."""

    as_of: date
    applied: tuple[DunningNotice, ...] = ()
    refused: tuple[DunningRefusal, ...] = ()
    reinstated: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    def to_records(self) -> list[dict[str, object]]:
        """One plain dict per applied or refused step, ready for ``pandas.DataFrame``."""
        applied: list[dict[str, object]] = [
            {
                "account": n.account,
                "step": n.step,
                "action": n.action.value,
                "text": n.text,
                "overdue": n.overdue.amount,
                "currency": n.overdue.currency.code,
                "days_overdue": n.days_overdue,
                "status": None if n.status is None else n.status.value,
                "refused": "",
            }
            for n in self.applied
        ]
        refused: list[dict[str, object]] = [
            {
                "account": r.due.state.account,
                "step": r.due.step,
                "action": r.due.action.value,
                "text": r.due.text,
                "overdue": r.due.state.overdue.amount,
                "currency": r.due.state.overdue.currency.code,
                "days_overdue": r.due.state.days_overdue,
                "status": None,
                "refused": ", ".join(v.code for v in r.violations),
            }
            for r in self.refused
        ]
        reinstated: list[dict[str, object]] = [
            {
                "account": account,
                "step": None,
                "action": "reinstated",
                "text": "",
                "overdue": None,
                "currency": None,
                "days_overdue": 0,
                "status": None,
                "refused": "",
            }
            for account in self.reinstated
        ]
        return applied + refused + reinstated
