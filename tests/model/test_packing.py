"""Packed records: unpacking gives the record back, and the collector stops tracking them."""

from __future__ import annotations

import gc
from datetime import date
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custbill as cb
from custbill.model.packing import SPARSE_FIELDS, Packer
from tests import strategies as s

CUSTOMERS = Packer(cb.Customer)
ACCOUNTS = Packer(cb.BillingAccount)


@given(
    st.one_of(s.customers.map(lambda c: (CUSTOMERS, c)), s.accounts.map(lambda a: (ACCOUNTS, a)))
)
def test_unpacking_gives_the_record_back(case: tuple[Packer[Any], Any]) -> None:
    """Every field, nested records, Money, enums and custom fields included, is equal and
    of the same type."""
    packer, record = case
    again = packer.unpack(packer.pack(record))
    assert again == record
    assert hash(again) == hash(record)
    for field in attrs.fields(type(record)):
        mine, theirs = getattr(again, field.name), getattr(record, field.name)
        assert mine == theirs and type(mine) is type(theirs), field.name


@settings(max_examples=20)  # (each example runs five full collections)
@given(st.lists(s.customers, max_size=5), st.lists(s.accounts, max_size=5))
def test_packed_records_are_untracked_by_the_collector(
    customers: list[cb.Customer], accounts: list[cb.BillingAccount]
) -> None:
    """What the store keeps holds nothing the collector tracks, once collections have seen
    it (one a level of nesting at most: an account's sparse slot holds its locations,
    which hold addresses, five levels)."""
    records = [*map(CUSTOMERS.pack, customers), *map(ACCOUNTS.pack, accounts)]
    for _ in range(5):
        gc.collect()
    assert not any(gc.is_tracked(r) for r in records)


@given(s.customers)
def test_an_atomic_field_can_be_read_in_place(customer: cb.Customer) -> None:
    """position() names where a plain field sits, and refuses a field that is packed."""
    packed = CUSTOMERS.pack(customer)
    assert packed[CUSTOMERS.position("name")] == customer.name
    assert packed[CUSTOMERS.position("primary_email")] == customer.primary_email
    with pytest.raises(KeyError):
        CUSTOMERS.position("kind")


def test_sparse_fields_share_one_slot_none_while_at_their_defaults() -> None:
    """An account that sets none of its sparse fields packs them as one None; setting one
    packs them all, and either way the record comes back equal."""
    plain = cb.BillingAccount(
        number="A-1",
        customer="C-1",
        currency="USD",
        bill_cycle="m1",
        start_date=date(2026, 1, 1),
        category="c",
        payment_term="p",
        invoice_type=cb.InvoiceType.EMAIL,
    )
    noted = attrs.evolve(plain, invoice_note="PO 7", taxable=True)
    packed_plain, packed_noted = ACCOUNTS.pack(plain), ACCOUNTS.pack(noted)
    assert packed_plain[-1] is None
    assert packed_noted[-1] is not None and "PO 7" in packed_noted[-1]
    assert (
        len(packed_plain)
        == len(attrs.fields(cb.BillingAccount)) - len(SPARSE_FIELDS["BillingAccount"]) + 1
    )
    assert ACCOUNTS.unpack(packed_plain) == plain and ACCOUNTS.unpack(packed_noted) == noted
    with pytest.raises(KeyError):
        ACCOUNTS.position("invoice_note")
