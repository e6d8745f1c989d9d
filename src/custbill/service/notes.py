"""Use cases of notes on customers and accounts; see the facade's ``add_note``, ``notes``
and ``delete_note``."""

from __future__ import annotations

from custbill.errors import NotFoundError
from custbill.model import Customer, Note
from custbill.rules.customer import check_not_erased
from custbill.rules.notes import check_note
from custbill.service._unit import (
    Context,
    customer_of,
    new_number,
    raise_if,
    record_event,
    require,
)
from custbill.storage.protocols import UnitOfWork


def _owner(uow: UnitOfWork, number: str) -> Customer:
    """The customer *number* names, or owns the account *number* names (NotFoundError for
    a number of neither)."""
    require(number, str, "number")
    customer = uow.customers.get(number)
    if customer is not None:
        return customer
    account = uow.accounts.get(number)
    if account is None:
        raise NotFoundError("customer or account", number)
    return customer_of(uow, account.customer)


def add_note(uow: UnitOfWork, ctx: Context, about: str, text: str, author: str) -> Note:
    """Add a note; see :meth:`custbill.CustomerBilling.add_note`."""
    require(text, str, "text")
    require(author, str, "author")
    owner = _owner(uow, about)
    stamp = ctx.stamp()
    raise_if(check_not_erased(owner))
    raise_if(check_note(text, author))
    note = Note(
        number=new_number(uow, "note", "N"), about=about, text=text, author=author, at=stamp.at
    )
    uow.notes.add(note)
    record_event(uow, stamp, about, "note", note.number)
    uow.commit()
    return note


def notes(uow: UnitOfWork, ctx: Context, about: str) -> tuple[Note, ...]:
    """The notes on a customer or an account, newest first."""
    _owner(uow, about)
    return tuple(reversed(uow.notes.of(about)))


def delete_note(uow: UnitOfWork, ctx: Context, number: str) -> None:
    """Delete a note; see :meth:`custbill.CustomerBilling.delete_note`."""
    require(number, str, "number")
    note = uow.notes.get(number)
    if note is None:
        raise NotFoundError("note", number)
    stamp = ctx.stamp()
    uow.notes.delete(number)
    record_event(uow, stamp, note.about, "note_deleted", number)
    uow.commit()


def delete_notes_of(uow: UnitOfWork, numbers: list[str]) -> None:
    """Delete every note on the customers and accounts of *numbers* (an erasure)."""
    for about in numbers:
        for note in uow.notes.of(about):
            uow.notes.delete(note.number)
