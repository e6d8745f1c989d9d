"""What terminating ended accounts did (:meth:`custbill.CustomerBilling.terminate_ended`)."""

from __future__ import annotations

from datetime import date

import attrs

from custbill.model._typecheck import check_fields
from custbill.model.records import Tabular
from custbill.model.values import Violation


@attrs.frozen(kw_only=True)
class TerminationWait(Tabular):
    """An ended account left ACTIVE until the run of its final period is issued."""

    account: str
    ended_on: date
    #: The date of the run that bills the account's final period.
    final_run: date

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class TerminationRefusal(Tabular):
    """An ended account the rules would not deactivate."""

    account: str
    ended_on: date
    violations: tuple[Violation, ...]

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class TerminationReport(Tabular):
    """What :meth:`~custbill.CustomerBilling.terminate_ended` on ``as_of`` did: the accounts
    it deactivated, the customers whose accounts have all ended with them, the ended
    accounts waiting for the run of their final period, and those the rules refused."""

    as_of: date
    terminated: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    waiting: tuple[TerminationWait, ...] = ()
    refused: tuple[TerminationRefusal, ...] = ()

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    def to_records(self) -> list[dict[str, object]]:
        """One flat dict per account or customer: its ``number`` and ``outcome``
        (terminated, customer_closed, waiting with the ``final_run``, refused with the
        rule ``codes``)."""
        rows: list[dict[str, object]] = [
            {"number": n, "outcome": "terminated", "final_run": None, "codes": ""}
            for n in self.terminated
        ]
        rows += [
            {"number": n, "outcome": "customer_closed", "final_run": None, "codes": ""}
            for n in self.customers
        ]
        rows += [
            {"number": w.account, "outcome": "waiting", "final_run": w.final_run, "codes": ""}
            for w in self.waiting
        ]
        rows += [
            {
                "number": r.account,
                "outcome": "refused",
                "final_run": None,
                "codes": ", ".join(sorted({v.code for v in r.violations})),
            }
            for r in self.refused
        ]
        return rows

    @property
    def refused_by_code(self) -> dict[str, tuple[str, ...]]:
        """The refused accounts by the rule code that refused them."""
        found: dict[str, list[str]] = {}
        for refusal in self.refused:
            for code in sorted({v.code for v in refusal.violations}):
                found.setdefault(code, []).append(refusal.account)
        return {code: tuple(accounts) for code, accounts in sorted(found.items())}
