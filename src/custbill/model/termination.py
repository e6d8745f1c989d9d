"""What terminating ended accounts did (:meth:`custbill.CustomerBilling.terminate_ended`)."""

from __future__ import annotations

from datetime import date

import attrs

from custbill.model._typecheck import check_fields
from custbill.model.values import Violation


@attrs.frozen(kw_only=True)
class TerminationWait:
    """An ended account left ACTIVE until the run of its final period is issued."""

    account: str
    ended_on: date
    #: The date of the run that bills the account's final period.
    final_run: date

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class TerminationRefusal:
    """An ended account the rules would not deactivate."""

    account: str
    ended_on: date
    violations: tuple[Violation, ...]

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class TerminationReport:
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

    @property
    def refused_by_code(self) -> dict[str, tuple[str, ...]]:
        """The refused accounts by the rule code that refused them."""
        found: dict[str, list[str]] = {}
        for refusal in self.refused:
            for code in sorted({v.code for v in refusal.violations}):
                found.setdefault(code, []).append(refusal.account)
        return {code: tuple(accounts) for code, accounts in sorted(found.items())}
