"""Reference data: bill cycles, payment terms, categories, dunning plans, custom fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from custbill.model._typecheck import check_fields
from custbill.model.enums import BillingPeriod, CustomFieldTarget, CustomFieldType, DunningAction
from custbill.model.records import Tabular


@attrs.frozen(kw_only=True)
class BillCycle(Tabular):
    """When accounts on the cycle are invoiced.

    ``bill_day`` is the ISO weekday (1 = Monday … 7 = Sunday) for WEEKLY cycles and the day
    of the month (1–31, clamped to short months) for the others.  ``currency=None`` lets
    accounts of any currency use the cycle.
    """

    id: str
    name: str
    period: BillingPeriod
    bill_day: int
    start_date: date
    currency: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class PaymentTerm(Tabular):
    """When an invoice is due: ``net_days`` after the invoice date, or after its month's end."""

    id: str
    name: str
    net_days: int
    end_of_month: bool = False

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class AccountCategory(Tabular):
    """A category accounts are filed under (e.g. "Enterprise", "Residential")."""

    id: str
    name: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class DunningStep(Tabular):
    """One step of a dunning plan: an action taken so many days past the due date.

    ``action`` is the step's text; the words ``notify``, ``suspend``, ``pending
    collection`` and ``deactivate`` name what it does (:attr:`kind`), any other text is a
    notice.  With ``minimum_overdue`` the step waits until at least that much (in the
    account's currency) is overdue.
    """

    days_past_due: int
    action: str
    minimum_overdue: Decimal | None = None

    @property
    def kind(self) -> DunningAction:
        """What the step does (:meth:`DunningAction.of` its ``action``)."""
        return DunningAction.of(self.action)

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class DunningPlan(Tabular):
    """An ordered list of collection steps.

    With ``reinstate_when_paid`` (the default) a payment that clears what is overdue
    returns an account the plan suspended or put in collection to ACTIVE.
    """

    id: str
    name: str
    steps: tuple[DunningStep, ...] = ()
    reinstate_when_paid: bool = True

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class CustomFieldDefinition(Tabular):
    """A tenant-defined field on customers or accounts.

    ``options`` lists the allowed values of a CHOICE field; ``required`` fields must be set
    on every new or edited customer/account they apply to.
    """

    name: str
    applies_to: CustomFieldTarget
    type: CustomFieldType
    options: tuple[str, ...] = ()
    required: bool = False

    def __attrs_post_init__(self) -> None:
        check_fields(self)
