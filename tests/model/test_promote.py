"""Promoting checked inputs to records gives exactly what the constructors give."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

import custbill as cb
from custbill.billing.invoicing import InvoiceRecord, planned_invoice
from custbill.model.promote import promoter
from custbill.service._unit import Stamp
from custbill.service._unit import change as _change
from custbill.service._unit import init_fields as _init_fields
from custbill.service._unit import new_account_record as _new_account
from custbill.service._unit import new_customer_record as _new_customer
from tests import strategies as s


@given(s.new_customers)
def test_customer_promotion_matches_the_constructor(new: cb.NewCustomer) -> None:
    """Every field, the derived name included, is what Customer(...) would hold."""
    promoted = _new_customer(new, "C-1", "A-1", False, 1)
    built = cb.Customer(**_init_fields(new, without="number"), number="C-1", default_account="A-1")
    assert promoted == built
    assert promoted.name == built.name
    assert attrs.asdict(promoted, recurse=False) == attrs.asdict(built, recurse=False)


@given(s.new_accounts)
def test_account_promotion_matches_the_constructor(new: cb.NewAccount) -> None:
    """Every field is what BillingAccount(...) would hold."""
    promoted = _new_account(new, "A-1", "C-1", cb.AccountStatus.ACTIVE, 1)
    built = cb.BillingAccount(**_init_fields(new, without="number"), number="A-1", customer="C-1")
    assert attrs.asdict(promoted, recurse=False) == attrs.asdict(built, recurse=False)
    assert hash(promoted) == hash(built)


@given(s.changes)
def test_assembled_changes_match_the_constructor(change: cb.Change) -> None:
    """A history Change assembled from its values equals, and hashes as, Change(...)."""
    stamp = Stamp(change.at, change.actor, change.reason)
    assembled = _change(stamp, change.number, change.field, change.old, change.new)
    assert type(assembled) is cb.Change
    assert attrs.asdict(assembled, recurse=False) == attrs.asdict(change, recurse=False)
    assert assembled == change
    assert hash(assembled) == hash(change)


@given(s.planned_invoices)
def test_planned_invoices_read_from_a_plan_match_the_constructor(
    invoice: cb.PlannedInvoice,
) -> None:
    """The invoice a plan builds from its record (assembled, its Money from the currency
    code) equals, and hashes as, PlannedInvoice(...)."""
    record = InvoiceRecord(
        invoice.billed_account,
        invoice.accounts,
        invoice.total.amount,
        invoice.total.currency.code,
        invoice.due_date,
        invoice.auto_pay_date,
        invoice.suppressed,
        invoice.channels,
        invoice.recipients,
        invoice.notes,
        invoice.invoice_note,
    )
    built = planned_invoice(record, invoice.invoice_date)
    assert type(built) is cb.PlannedInvoice
    assert attrs.asdict(built, recurse=False) == attrs.asdict(invoice, recurse=False)
    assert built == invoice
    assert hash(built) == hash(invoice)


@attrs.frozen(slots=False)
class _Plain:
    a: int
    b: str


@attrs.frozen
class _Slotted:
    a: int
    b: str
    c: bool


@given(st.integers(), st.text(), st.booleans())
def test_promotion_sets_slotted_and_dict_attributes_alike(a: int, b: str, c: bool) -> None:
    """Fields held in slots and fields held in an instance dict are both copied."""
    promote = promoter(_Plain, _Slotted, ("c",))
    assert promote(_Plain(a, b), c) == _Slotted(a, b, c)
    back = promoter(_Slotted, _Plain, ())
    plain = back(_Slotted(a, b, c))
    assert plain == _Plain(a, b)
    assert vars(plain) == {"a": a, "b": b}
