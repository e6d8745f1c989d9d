"""Every violation code of the SPEC, provoked through the facade, leaving the store as it
was; and the list of codes itself, which is a contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
import pytest
from moneyed import Money

import custbill as cb
from custbill.billing import next_bill_date
from custbill.rules.codes import CODES
from custbill.scenario import Charge
from custbill.simulation import parse_scenario, simulate
from custbill.storage import MemoryStore
from tests.conftest import new_account, new_customer, rejected

SPEC_CODES = {
    "customer.name_required",
    "customer.email_invalid",
    "customer.date_of_birth_not_personal",
    "customer.date_of_birth_in_future",
    "customer.number_taken",
    "customer.external_number_taken",
    "customer.name_taken",
    "customer.address_invalid",
    "customer.phone_invalid",
    "customer.erased",
    "account.number_taken",
    "account.external_number_taken",
    "account.currency_unknown",
    "account.reference_unknown",
    "account.bill_cycle_currency_mismatch",
    "account.start_before_bill_cycle",
    "account.multi_account_disabled",
    "account.invoice_type_not_allowed",
    "account.email_invoice_requires_primary_email",
    "account.paper_invoice_requires_billing_address",
    "account.minimum_invoice_invalid",
    "account.auto_pay_requires_payment_method",
    "account.dunning_plan_required",
    "account.invoice_rendering_requires_managed_accounts",
    "account.status_transition_invalid",
    "account.field_immutable",
    "account.custom_field_invalid",
    "customer.custom_field_invalid",
    "account.language_unknown",
    "account.contact_invalid",
    "account.payment_method_invalid",
    "account.credit_limit_invalid",
    "hierarchy.responsible_disabled",
    "hierarchy.responsible_not_active",
    "hierarchy.responsible_bill_cycle_mismatch",
    "hierarchy.responsible_currency_mismatch",
    "hierarchy.parent_disabled",
    "hierarchy.parent_status_ineligible",
    "hierarchy.parent_bill_cycle_mismatch",
    "hierarchy.cycle",
    "hierarchy.has_active_dependents",
    "settings.in_use",
    "billing.not_a_bill_date",
    "billing.charge_not_billable",
    "billing.charge_currency_mismatch",
    "billing.date_out_of_range",
    "catalog.invalid",
    "catalog.id_taken",
}

# custbill's own additions, documented as such in the rules reference.
EXTENSION_CODES = {
    "billing.amount_invalid",
    "billing.partition_invalid",
    "money.not_finite",
    "money.too_large",
    "money.too_precise",
    "text.card_number",
    "limit.text_too_long",
    "limit.too_many",
    "limit.search_too_long",
    "text.invalid_character",
    "note.text_required",
    "note.author_required",
    "deposit.exceeds_held",
    "account.deposit_held",
    "charge.description_required",
    "account.credit_limit_exceeded",
    "account.end_date_before_start",
    "account.end_date_passed",
    "customer.end_date_passed",
    "activity.actor_required",
    "activity.reason_required",
    "account.payment_mode_requires_auto_pay",
    "account.auto_pay_on_free_account",
    "charge.account_free",
    "account.invoice_email_invalid",
    "customer.reference_unknown",
    "account.not_in_customer_type",
    "hierarchy.cross_customer_link_not_allowed",
    "account.location_invalid",
    "scope.shared_read_only",
    "scenario.account_unknown",
}

Scenario = Callable[[cb.CustomerBilling], Callable[[], object]]

_CARD = (cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="tok_visa", last4="4242"),)


def _account(billing: cb.CustomerBilling, **changes: object) -> cb.BillingAccount:
    customer, account = billing.create_customer(
        new_customer(company_name=f"Co {len(billing.search_customers('c'))}"),
        new_account(**changes),
    )
    return account


def _erased(billing: cb.CustomerBilling) -> Callable[[], object]:
    customer, _ = billing.create_customer(new_customer(), new_account())
    billing.erase_customer(customer.number)
    return lambda: billing.edit_customer(customer.number, company_name="New")


def _name_taken(billing: cb.CustomerBilling) -> Callable[[], object]:
    billing.create_customer(new_customer(company_name="Acme"), new_account())
    billing.update_settings(unique_customer_names=True)
    return lambda: billing.create_customer(new_customer(company_name="ACME"), new_account())


def _multi(billing: cb.CustomerBilling) -> Callable[[], object]:
    customer, _ = billing.create_customer(new_customer(), new_account())
    billing.update_settings(allow_multi_customer_accounts=False)
    return lambda: billing.add_account(customer.number, new_account())


def _managed_pair(billing: cb.CustomerBilling) -> tuple[cb.BillingAccount, cb.BillingAccount]:
    top = _account(billing)
    below = _account(billing, responsible_account=top.number)
    return top, below


def _rendering(billing: cb.CustomerBilling) -> Callable[[], object]:
    lone = _account(billing)
    return lambda: billing.edit_account(
        lone.number, invoice_rendering=cb.InvoiceRendering.AGGREGATED
    )


def _responsible_disabled(billing: cb.CustomerBilling) -> Callable[[], object]:
    top = _account(billing)
    billing.update_settings(enable_responsible_account_management=False)
    return lambda: _account(billing, responsible_account=top.number)


def _responsible_not_active(billing: cb.CustomerBilling) -> Callable[[], object]:
    top = _account(billing)
    billing.edit_account(top.number, status=cb.AccountStatus.SUSPENDED)
    return lambda: _account(billing, responsible_account=top.number)


def _parent_disabled(billing: cb.CustomerBilling) -> Callable[[], object]:
    top = _account(billing)
    billing.update_settings(enable_account_hierarchy_management=False)
    return lambda: _account(billing, parent_account=top.number)


def _parent_ineligible(billing: cb.CustomerBilling) -> Callable[[], object]:
    top = _account(billing)
    billing.edit_account(top.number, status=cb.AccountStatus.DEACTIVATED)
    return lambda: _account(billing, parent_account=top.number)


def _parent_cycle_mismatch(billing: cb.CustomerBilling) -> Callable[[], object]:
    top = _account(billing)
    billing.update_settings(require_same_bill_cycle_for_account_hierarchy=True)
    return lambda: _account(billing, bill_cycle="m15", parent_account=top.number)


def _cycle(billing: cb.CustomerBilling) -> Callable[[], object]:
    top, below = _managed_pair(billing)
    return lambda: billing.edit_account(top.number, responsible_account=below.number)


def _dependents(billing: cb.CustomerBilling) -> Callable[[], object]:
    top, _ = _managed_pair(billing)
    return lambda: billing.edit_account(top.number, status=cb.AccountStatus.DEACTIVATED)


def _in_use(billing: cb.CustomerBilling) -> Callable[[], object]:
    _managed_pair(billing)
    return lambda: billing.update_settings(enable_responsible_account_management=False)


def _id_taken(billing: cb.CustomerBilling) -> Callable[[], object]:
    return lambda: billing.add_payment_term(cb.PaymentTerm(id="net30", name="x", net_days=1))


def _date_out_of_range(billing: cb.CustomerBilling) -> Callable[[], object]:
    cycle = cb.BillCycle(
        id="y",
        name="Yearly",
        period=cb.BillingPeriod.ANNUAL,
        bill_day=30,
        start_date=date(2000, 12, 1),
    )
    return lambda: next_bill_date(cycle, date.max)


def _bill_run(
    billing: cb.CustomerBilling, charge: Money, run: date = date(2026, 7, 1), on: str | None = None
) -> Callable[[], object]:
    account = _account(billing)
    return lambda: billing.plan_bill_run("m1", run, {on or account.number: charge})


def _amount_invalid(billing: cb.CustomerBilling) -> Callable[[], object]:
    return _payment_of(billing, "0")


def _payment_of(billing: cb.CustomerBilling, amount: str) -> Callable[[], object]:
    account = _account(billing)
    money = Money(Decimal(amount), "USD")
    return lambda: billing.record_payment(account.number, money, date(2026, 7, 1))


SCENARIOS: dict[str, Scenario] = {
    "billing.not_a_bill_date": lambda b: _bill_run(b, Money(1, "USD"), date(2026, 7, 2)),
    "billing.charge_not_billable": lambda b: _bill_run(b, Money(1, "USD"), on="A-404"),
    "billing.charge_currency_mismatch": lambda b: _bill_run(b, Money(1, "EUR")),
    "billing.amount_invalid": _amount_invalid,
    "money.not_finite": lambda b: _payment_of(b, "NaN"),
    "money.too_large": lambda b: _payment_of(b, "1E+13"),
    "money.too_precise": lambda b: _payment_of(b, "1.005"),
    "limit.text_too_long": lambda b: (
        lambda: b.create_customer(new_customer(company_name="x" * 1_001), new_account())
    ),
    "limit.too_many": lambda b: (
        lambda: b.create_customer(
            new_customer(secondary_emails=("a@b.example",) * 101), new_account()
        )
    ),
    "limit.search_too_long": lambda b: lambda: b.search_customers("a " * 17),
    "text.invalid_character": lambda b: (
        lambda: b.create_customer(new_customer(company_name="Acme\x00"), new_account())
    ),
    "text.card_number": lambda b: (
        lambda: b.create_customer(new_customer(company_name="4111 1111 1111 1111"), new_account())
    ),
    "deposit.exceeds_held": lambda b: (
        a := _account(b),
        b.record_deposit(a.number, Money(50, "USD"), date(2026, 6, 1)),
        lambda: b.refund_deposit(a.number, Money(51, "USD"), date(2026, 6, 2)),
    )[-1],
    "account.deposit_held": lambda b: (
        a := _account(b),
        b.record_deposit(a.number, Money(50, "USD"), date(2026, 6, 1)),
        lambda: b.edit_account(a.number, status=cb.AccountStatus.DEACTIVATED),
    )[-1],
    "charge.description_required": lambda b: (
        a := _account(b),
        lambda: b.add_charge(a.number, Money(5, "USD"), " ", on=date(2026, 6, 1)),
    )[-1],
    "account.credit_limit_exceeded": lambda b: (
        a := _account(b, credit_limit=Money(10, "USD")),
        lambda: b.add_charge(a.number, Money(11, "USD"), "setup", on=date(2026, 6, 1)),
    )[-1],
    "account.payment_mode_requires_auto_pay": lambda b: (
        lambda: _account(b, payment_mode=cb.PaymentMode.AUTOMATIC)
    ),
    "account.auto_pay_on_free_account": lambda b: (
        a := _account(b, auto_pay=True, payment_methods=_CARD),
        lambda: b.edit_account(a.number, payment_mode=cb.PaymentMode.FREE),
    )[-1],
    "charge.account_free": lambda b: (
        a := _account(b, payment_mode=cb.PaymentMode.FREE),
        lambda: b.add_charge(a.number, Money(5, "USD"), "setup", on=date(2026, 6, 1)),
    )[-1],
    "customer.reference_unknown": lambda b: (
        lambda: b.create_customer(new_customer(customer_type="nope"), new_account())
    ),
    "account.not_in_customer_type": lambda b: (
        b.add_catalog_entry(cb.RatePlan(id="basic", name="Basic")),
        b.add_catalog_entry(cb.RatePlan(id="pro", name="Pro")),
        b.add_catalog_entry(cb.CustomerType(id="res", name="Residential", rate_plans=("basic",))),
        lambda: b.create_customer(new_customer(customer_type="res"), new_account(rate_plan="pro")),
    )[-1],
    "hierarchy.cross_customer_link_not_allowed": lambda b: (
        a := _account(b),
        b.update_settings(allow_links_across_customers=False),
        lambda: _account(b, responsible_account=a.number),
    )[-1],
    "scenario.account_unknown": lambda b: (
        lambda: simulate(
            attrs.evolve(
                parse_scenario({"simulation": {"months": 1}}),
                charges=(Charge(account="ZZ", amount=Decimal(1)),),
            )
        )
    ),
    "scope.shared_read_only": lambda b: (
        c := b.create_customer(new_customer(), new_account())[0],
        lambda: b.scoped(c.number).update_settings(unique_customer_names=True),
    )[-1],
    "account.location_invalid": lambda b: (
        lambda: _account(
            b,
            locations=(
                cb.ServiceLocation(
                    name="",
                    address=cb.Address(
                        line1="1 Main", city="Austin", postal_code="1", country="US"
                    ),
                ),
            ),
        )
    ),
    "account.invoice_email_invalid": lambda b: (
        lambda: _account(b, invoice_emails=("billing@acme.example", "not an email"))
    ),
    "account.end_date_before_start": lambda b: (
        lambda: _account(b, start_date=date(2026, 3, 1), end_date=date(2026, 2, 1))
    ),
    "account.end_date_passed": lambda b: (
        a := _account(b, end_date=date(2026, 6, 1)),
        lambda: b.edit_account(a.number, end_date=date(2030, 1, 1)),
    )[-1],
    "customer.end_date_passed": lambda b: (
        a := _account(b),
        b.edit_customer(a.customer, end_date=date(2020, 6, 1)),
        lambda: b.edit_customer(a.customer, end_date=None),
    )[-1],
    "activity.actor_required": lambda b: lambda: b.acting(" "),
    "activity.reason_required": lambda b: lambda: b.acting("ann", reason=""),
    "note.text_required": lambda b: (
        c := _account(b),
        lambda: b.add_note(c.number, " ", author="ann"),
    )[-1],
    "note.author_required": lambda b: (
        c := _account(b),
        lambda: b.add_note(c.number, "Called.", author=""),
    )[-1],
    "billing.partition_invalid": lambda b: (
        lambda: b.issue_next_partition("m1", date(2026, 7, 1), {}, partitions=2_000)
    ),
    "customer.name_required": lambda b: (
        lambda: b.create_customer(new_customer(company_name=" "), new_account())
    ),
    "customer.email_invalid": lambda b: (
        lambda: b.create_customer(new_customer(primary_email="not-an-email"), new_account())
    ),
    "customer.date_of_birth_not_personal": lambda b: (
        lambda: b.create_customer(new_customer(date_of_birth=date(1980, 1, 1)), new_account())
    ),
    "customer.date_of_birth_in_future": lambda b: (
        lambda: b.create_customer(
            new_customer(
                kind=cb.CustomerKind.PERSON,
                first_name="A",
                last_name="B",
                date_of_birth=date(2030, 1, 1),
            ),
            new_account(),
        )
    ),
    "customer.number_taken": lambda b: (
        b.create_customer(new_customer(number="X-1"), new_account()),
        lambda: b.create_customer(new_customer(number="X-1"), new_account()),
    )[1],
    "customer.external_number_taken": lambda b: (
        b.create_customer(new_customer(external_number="E1"), new_account()),
        lambda: b.create_customer(new_customer(external_number="E1"), new_account()),
    )[1],
    "customer.name_taken": _name_taken,
    "customer.address_invalid": lambda b: (
        lambda: b.create_customer(
            new_customer(
                billing_address=cb.Address(line1="x", city="y", postal_code="1", country="ZZ")
            ),
            new_account(),
        )
    ),
    "customer.phone_invalid": lambda b: (
        lambda: b.create_customer(
            new_customer(phones=(cb.Phone(type=cb.PhoneType.WORK, number="call me"),)),
            new_account(),
        )
    ),
    "customer.erased": _erased,
    "customer.custom_field_invalid": lambda b: (
        lambda: b.create_customer(new_customer(custom_fields={"Nope": "x"}), new_account())
    ),
    "account.number_taken": lambda b: (
        b.create_customer(new_customer(), new_account(number="N-1")),
        lambda: b.create_customer(new_customer(company_name="Other"), new_account(number="N-1")),
    )[1],
    "account.external_number_taken": lambda b: (
        b.create_customer(new_customer(), new_account(external_number="E1")),
        lambda: b.create_customer(
            new_customer(company_name="Other"), new_account(external_number="E1")
        ),
    )[1],
    "account.currency_unknown": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(currency="XYZ"))
    ),
    "account.reference_unknown": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(bill_cycle="nope"))
    ),
    "account.bill_cycle_currency_mismatch": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(currency="EUR", bill_cycle="usd"))
    ),
    "account.start_before_bill_cycle": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(start_date=date(2019, 12, 31)))
    ),
    "account.multi_account_disabled": _multi,
    "account.invoice_type_not_allowed": lambda b: (
        b.update_settings(overall_invoice_distribution=frozenset({cb.InvoiceType.NONE})),
        lambda: b.create_customer(new_customer(), new_account()),
    )[1],
    "account.email_invoice_requires_primary_email": lambda b: (
        lambda: b.create_customer(new_customer(primary_email=""), new_account())
    ),
    "account.paper_invoice_requires_billing_address": lambda b: (
        lambda: b.create_customer(
            new_customer(billing_address=None), new_account(invoice_type=cb.InvoiceType.PAPER)
        )
    ),
    "account.minimum_invoice_invalid": lambda b: (
        lambda: b.create_customer(
            new_customer(), new_account(minimum_invoice_amount=Money("-1", "USD"))
        )
    ),
    "account.auto_pay_requires_payment_method": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(auto_pay=True))
    ),
    "account.dunning_plan_required": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(dunning_enabled=True))
    ),
    "account.invoice_rendering_requires_managed_accounts": _rendering,
    "account.status_transition_invalid": lambda b: (
        a := _account(b),
        b.edit_account(a.number, status=cb.AccountStatus.SUSPENDED),
        lambda: b.edit_account(a.number, status=cb.AccountStatus.PENDING_COLLECTION),
    )[-1],
    "account.field_immutable": lambda b: (
        a := _account(b),
        lambda: b.edit_account(a.number, currency="EUR"),
    )[-1],
    "account.custom_field_invalid": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(custom_fields={"Nope": "x"}))
    ),
    "account.language_unknown": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(preferred_language="xx_XX"))
    ),
    "account.contact_invalid": lambda b: (
        lambda: b.create_customer(
            new_customer(), new_account(contacts=(cb.Contact(name="", email="a@b.example"),))
        )
    ),
    "account.payment_method_invalid": lambda b: (
        lambda: b.create_customer(
            new_customer(),
            new_account(
                payment_methods=(
                    cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="4111 1111 1111 1111"),
                )
            ),
        )
    ),
    "account.credit_limit_invalid": lambda b: (
        lambda: b.create_customer(new_customer(), new_account(credit_limit=Money("100", "EUR")))
    ),
    "hierarchy.responsible_disabled": _responsible_disabled,
    "hierarchy.responsible_not_active": _responsible_not_active,
    "hierarchy.responsible_bill_cycle_mismatch": lambda b: (
        top := _account(b),
        lambda: _account(b, bill_cycle="m15", responsible_account=top.number),
    )[-1],
    "hierarchy.responsible_currency_mismatch": lambda b: (
        top := _account(b),
        lambda: _account(b, currency="EUR", responsible_account=top.number),
    )[-1],
    "hierarchy.parent_disabled": _parent_disabled,
    "hierarchy.parent_status_ineligible": _parent_ineligible,
    "hierarchy.parent_bill_cycle_mismatch": _parent_cycle_mismatch,
    "hierarchy.cycle": _cycle,
    "hierarchy.has_active_dependents": _dependents,
    "settings.in_use": _in_use,
    "billing.date_out_of_range": _date_out_of_range,
    "catalog.invalid": lambda b: (
        lambda: b.add_bill_cycle(
            cb.BillCycle(
                id="w",
                name="Weekly",
                period=cb.BillingPeriod.WEEKLY,
                bill_day=8,
                start_date=date(2020, 1, 1),
            )
        )
    ),
    "catalog.id_taken": _id_taken,
}


def test_codes_are_the_specs() -> None:
    """The registry lists exactly the SPEC's codes, each with a description."""
    assert set(CODES) == SPEC_CODES | EXTENSION_CODES
    assert all(meaning.strip() for meaning in CODES.values())


def test_every_code_has_a_scenario() -> None:
    """Every code is provoked below."""
    assert set(SCENARIOS) == set(CODES)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_code_is_provoked_and_changes_nothing(
    code: str, billing: cb.CustomerBilling, store: MemoryStore
) -> None:
    """The scenario raises a RuleViolationError carrying the code, and the store is as
    before."""
    operation = SCENARIOS[code](billing)
    error = rejected(store, operation, code)
    for v in error.violations:
        assert v.code in CODES
        assert v.path and v.message


def test_valid_operations_raise_nothing(billing: cb.CustomerBilling) -> None:
    """The same fixtures, used correctly, are accepted."""
    customer, account = billing.create_customer(new_customer(), new_account())
    other = billing.add_account(
        customer.number,
        new_account(responsible_account=account.number, parent_account=account.number),
    )
    billing.edit_account(account.number, invoice_rendering=cb.InvoiceRendering.PER_ACCOUNT)
    billing.edit_account(other.number, status=cb.AccountStatus.SUSPENDED)
    assert billing.validate_customers() == {}
    assert attrs.asdict(billing.settings)
