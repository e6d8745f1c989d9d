"""The primary seed's scenarios, end to end."""

from __future__ import annotations

from datetime import date

import pytest

import custbill as cb
from custbill.demo import LOCATIONS, widgets_international
from tests.conftest import fixed_clock


def test_widgets_international() -> None:
    """One customer, five accounts with their currencies and Location options."""
    billing, customer = widgets_international(cb.CustomerBilling(clock=fixed_clock))
    accounts = billing.accounts_of(customer.number)
    assert [(a.custom_fields["Location"], a.currency) for a in accounts] == [
        (location, currency) for location, currency, *_ in LOCATIONS
    ]
    assert customer.default_account == accounts[0].number
    assert billing.search_customers("widgets") == (customer,)
    assert len(billing.search_accounts("widg intern")) == 5
    with pytest.raises(cb.RuleViolationError) as info:
        billing.add_account(
            customer.number,
            cb.NewAccount(
                currency="ZWL",
                bill_cycle="monthly-1",
                start_date=date(2026, 1, 1),
                category="corporate",
                payment_term="net30",
                invoice_type=cb.InvoiceType.EMAIL,
                custom_fields={"Location": "Zimbabwe "},
            ),
        )
    assert info.value.codes == {"account.custom_field_invalid"}
    summary = billing.customer_summary(customer.number)
    assert [line.currency for line in summary.accounts] == ["USD", "USD", "MXN", "RUB", "SEK"]
    assert billing.validate_customers() == {}


def test_acme_brick() -> None:
    """Acme Brick: a US default account, then England and France accounts; the default
    moves; the Customer Summary and search follow the guide's setup steps."""
    billing = cb.CustomerBilling(clock=fixed_clock)
    billing.add_bill_cycle(
        cb.BillCycle(
            id="monthly",
            name="Monthly",
            period=cb.BillingPeriod.MONTHLY,
            bill_day=1,
            start_date=date(2026, 1, 1),
        )
    )
    billing.add_payment_term(cb.PaymentTerm(id="net30", name="Net 30", net_days=30))
    billing.add_account_category(cb.AccountCategory(id="std", name="Standard"))

    def account(currency: str, language: str) -> cb.NewAccount:
        return cb.NewAccount(
            currency=currency,
            bill_cycle="monthly",
            start_date=date(2026, 1, 1),
            category="std",
            payment_term="net30",
            invoice_type=cb.InvoiceType.EMAIL,
            preferred_language=language,
        )

    customer, us = billing.create_customer(
        cb.NewCustomer(
            kind=cb.CustomerKind.COMPANY,
            company_name="Acme Brick",
            primary_email="ap@acmebrick.example",
            tax_number="74-1234567",
        ),
        account("USD", "en_US"),
    )
    # Step 1 of the guide: more accounts need Allow Multi-Customer Accounts.
    with pytest.raises(cb.RuleViolationError) as info:
        billing.add_account(customer.number, account("GBP", "en_GB"))
    assert info.value.codes == {"account.multi_account_disabled"}
    billing.update_settings(allow_multi_customer_accounts=True)
    england = billing.add_account(customer.number, account("GBP", "en_GB"))
    france = billing.add_account(customer.number, account("EUR", "fr_FR"), make_default=True)
    assert [a.number for a in billing.accounts_of(customer.number)] == [
        france.number,
        us.number,
        england.number,
    ]
    # Accounts share the customer's tax number but are billed separately.
    assert billing.get_customer(customer.number).tax_number == "74-1234567"
    # Switching multi-accounts off again is refused while the customer has three.
    with pytest.raises(cb.RuleViolationError) as off:
        billing.update_settings(allow_multi_customer_accounts=False)
    assert off.value.violations[0].params["examples"] == [customer.number]
    assert [a.number for a in billing.search_accounts("acme")] == [
        us.number,
        england.number,
        france.number,
    ]
    history = billing.history(customer.number)
    assert [(c.field, c.old, c.new) for c in history] == [
        ("created", None, None),
        ("default_account", us.number, france.number),
    ]
