"""Every rule, fed hostile but well-typed data, returns violations and never raises."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custbill as cb
from custbill.rules import (
    check_account,
    check_catalog_entry,
    check_customer,
    check_hierarchy,
    check_settings,
    check_status_transition,
)
from custbill.rules.codes import CODES
from custbill.storage import MemoryStore
from tests import strategies as s
from tests.conftest import ALL_ON, add_catalog, lookup_for, new_account, new_customer

_store = MemoryStore()
with cb.CustomerBilling(store=_store, settings=ALL_ON) as _billing:
    add_catalog(_billing)
    _customer, _account = _billing.create_customer(new_customer(), new_account())
    _billing.add_account(
        _customer.number,
        new_account(responsible_account=_account.number, parent_account=_account.number),
    )


def _valid(found: tuple[cb.Violation, ...]) -> None:
    assert isinstance(found, tuple)
    for v in found:
        assert v.code in CODES and isinstance(v.path, str) and v.message


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    customer=s.new_customers | s.customers,
    settings_=s.settings,
    today=st.dates(min_value=date(1, 1, 1)),
)
def test_customer_rules_never_raise(
    customer: cb.Customer, settings_: cb.Settings, today: date
) -> None:
    """check_customer returns known codes for any customer, new or stored."""
    with lookup_for(_store, settings_, today) as lookup:
        _valid(check_customer(customer, lookup))
        if isinstance(customer, cb.Customer):
            _valid(check_customer(customer, lookup, before=customer))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    account=s.new_accounts | s.accounts,
    customer=s.customers,
    settings_=s.settings,
    before=st.none() | s.accounts,
)
def test_account_and_hierarchy_rules_never_raise(
    account: cb.BillingAccount,
    customer: cb.Customer,
    settings_: cb.Settings,
    before: cb.BillingAccount | None,
) -> None:
    """check_account and check_hierarchy return known codes for any account."""
    with lookup_for(_store, settings_) as lookup:
        _valid(check_account(account, customer, lookup))
        _valid(check_hierarchy(account, lookup))
        if before is not None and isinstance(account, cb.BillingAccount):
            _valid(check_account(account, customer, lookup, before=before))
            _valid(check_hierarchy(account, lookup, before=before))


@given(
    entry=st.one_of(
        s.bill_cycles,
        s.payment_terms,
        s.account_categories,
        s.dunning_plans,
        s.custom_field_definitions,
    )
)
def test_catalog_rules_never_raise(entry: object) -> None:
    """check_catalog_entry returns known codes for any catalog entry."""
    with lookup_for(_store) as lookup:
        _valid(check_catalog_entry(entry, lookup))  # type: ignore[arg-type]


@given(
    settings_=s.settings,
    accounts=st.lists(s.accounts, max_size=5),
    customers=st.lists(s.customers, max_size=5),
)
def test_settings_rules_never_raise(
    settings_: cb.Settings, accounts: list[cb.BillingAccount], customers: list[cb.Customer]
) -> None:
    """check_settings returns known codes for any data."""
    _valid(check_settings(settings_, customers, accounts))


@given(old=st.sampled_from(cb.AccountStatus), new=st.sampled_from(cb.AccountStatus))
def test_status_rule_never_raises(old: cb.AccountStatus, new: cb.AccountStatus) -> None:
    """The lifecycle check answers every pair of statuses."""
    _valid(check_status_transition(old, new))
