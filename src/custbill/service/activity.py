"""Use cases of the activity log: the history of field changes, and everything that
happened to a customer or account in order; see the facade's ``history`` and
``activity``.

Both read one log (:class:`~custbill.storage.protocols.HistoryRepository`): each change of
a field, and each event on a record — a payment, a note, a dunning step — under a field
marked :data:`~custbill.service._unit.EVENT`, naming the record.  The activity finds each
event's amount in the record it names, and adds the invoices billed to an account from the
ledger (a bill run issues a million of them: they are not logged one by one).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from moneyed import Money

from custbill.errors import NotFoundError
from custbill.model import Change
from custbill.model.activity import Activity
from custbill.service._unit import EVENT, Context, require
from custbill.storage.protocols import UnitOfWork

#: The kind of a field's change, by field (any other field: ``changed``).
_KIND_OF_FIELD = {"created": "created", "erased": "erased", "status": "status"}


def _require_known(uow: UnitOfWork, number: str) -> bool:
    """Whether *number* is an account (else a customer); NotFoundError for neither."""
    require(number, str, "number")
    if uow.accounts.get(number) is not None:
        return True
    if uow.customers.get(number) is None:
        raise NotFoundError("customer or account", number)
    return False


def history(uow: UnitOfWork, ctx: Context, number: str) -> tuple[Change, ...]:
    """Every recorded change of a customer's or account's fields, oldest first."""
    _require_known(uow, number)
    return tuple(c for c in uow.history.of(number) if not c.field.startswith(EVENT))


def _records(uow: UnitOfWork, number: str) -> dict[str, tuple[Money | None, str | None]]:
    """Each ledger record of the account *number*, by its number: (amount, detail)."""
    ledger = uow.ledger
    found: dict[str, tuple[Money | None, str | None]] = {}
    for payment in ledger.payments_of(number):
        found[payment.number] = (payment.amount, payment.reference)
    for adjustment in ledger.adjustments_of(number):
        detail = f"{adjustment.kind.value}: {adjustment.reason}"
        found[adjustment.number] = (adjustment.amount, detail)
    for deposit in ledger.deposits_of(number):
        found[deposit.number] = (deposit.amount, deposit.action.value)
    for charge in ledger.charges_of(number):
        found[charge.number] = (charge.amount, charge.description)
    for notice in ledger.dunning_notices_of(number):
        found[notice.number] = (notice.overdue, notice.text)
    return found


def activity(uow: UnitOfWork, ctx: Context, number: str) -> tuple[Activity, ...]:
    """See :meth:`custbill.CustomerBilling.activity`."""
    is_account = _require_known(uow, number)
    records = _records(uow, number) if is_account else {}
    lines: list[Activity] = []
    for c in uow.history.of(number):
        if c.field.startswith(EVENT):
            amount, detail = records.get(c.new or "", (None, None))
            kind = c.field[len(EVENT) :]
            lines.append(
                Activity(
                    at=c.at,
                    number=number,
                    kind=kind,
                    record=c.new,
                    amount=amount,
                    detail=detail,
                    actor=c.actor,
                    reason=c.reason,
                )
            )
        else:
            lines.append(
                Activity(
                    at=c.at,
                    number=number,
                    kind=_KIND_OF_FIELD.get(c.field, "changed"),
                    field=c.field,
                    old=c.old,
                    new=c.new,
                    actor=c.actor,
                    reason=c.reason,
                )
            )
    if is_account:
        lines += [
            Activity(
                at=datetime.combine(i.invoice_date, time.min, UTC),
                number=number,
                kind="invoice",
                record=i.number,
                amount=i.total,
            )
            for i in uow.ledger.invoices_of(number)
        ]
    lines.sort(key=lambda line: line.at)  # (stable: the log's order within an instant)
    return tuple(lines)
