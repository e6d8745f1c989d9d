"""The CustomerBilling facade: lifecycle of customers and accounts, hierarchies, search,
summaries, history, erasure, validation, concurrency."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

import pytest
from moneyed import Money

import custbill as cb
from custbill.errors import TransactionConflictError
from custbill.service.facade import ATTEMPTS
from custbill.storage import MemoryStore
from custbill.storage.memory import MemoryUnitOfWork
from tests.conftest import (
    ALL_ON,
    NOW,
    add_catalog,
    fixed_clock,
    new_account,
    new_customer,
    rejected,
    snapshot,
)


def test_create_customer_generates_numbers_and_default(billing: cb.CustomerBilling) -> None:
    """Numbers are generated in sequence and the first account is the default."""
    c1, a1 = billing.create_customer(new_customer(), new_account())
    c2, a2 = billing.create_customer(new_customer(company_name="Other"), new_account())
    assert (c1.number, a1.number, c2.number, a2.number) == (
        "C-000001",
        "A-000001",
        "C-000002",
        "A-000002",
    )
    assert c1.default_account == a1.number and a1.customer == c1.number
    assert a1.status is cb.AccountStatus.ACTIVE and a1.version == c1.version == 1
    assert billing.get_customer(c1.number) == c1 and billing.get_account(a1.number) == a1


def test_generated_numbers_skip_numbers_callers_took(billing: cb.CustomerBilling) -> None:
    """A number a caller chose is never generated again, in either namespace."""
    billing.create_customer(new_customer(number="C-000001"), new_account(number="C-000002"))
    customer, account = billing.create_customer(new_customer(company_name="B"), new_account())
    assert customer.number == "C-000003"
    assert account.number == "A-000001"


def test_customer_and_account_numbers_share_a_namespace(billing: cb.CustomerBilling) -> None:
    """An account cannot take a customer's number, nor a new customer an account's."""
    billing.create_customer(new_customer(number="X"), new_account(number="Y"))
    with pytest.raises(cb.RuleViolationError) as info:
        billing.create_customer(new_customer(number="Y", company_name="B"), new_account(number="X"))
    assert info.value.codes == {"customer.number_taken", "account.number_taken"}
    with pytest.raises(cb.RuleViolationError) as same:
        billing.create_customer(new_customer(number="Z", company_name="B"), new_account(number="Z"))
    assert same.value.codes == {"account.number_taken"}


def test_all_violations_are_reported_at_once(
    billing: cb.CustomerBilling, store: MemoryStore
) -> None:
    """One rejected call lists the customer's and the account's violations together."""
    error = rejected(
        store,
        lambda: billing.create_customer(
            new_customer(company_name="", primary_email="bad"),
            new_account(currency="XYZ", bill_cycle="nope", preferred_language="??"),
        ),
        "customer.name_required",
        "customer.email_invalid",
        "account.currency_unknown",
        "account.reference_unknown",
        "account.language_unknown",
    )
    assert {v.path for v in error.violations} >= {  # each prefixed with its record
        "customer.company_name",
        "customer.primary_email",
        "account.currency",
        "account.bill_cycle",
        "account.preferred_language",
    }


def test_wrong_python_types_raise_type_error(billing: cb.CustomerBilling) -> None:
    """Arguments of the wrong Python type are TypeErrors, not rule violations."""
    with pytest.raises(TypeError):
        billing.create_customer(new_account(), new_account())  # type: ignore[arg-type]
    customer, account = billing.create_customer(new_customer(), new_account())
    with pytest.raises(TypeError, match="taxable"):
        billing.edit_account(account.number, taxable="yes")
    with pytest.raises(TypeError, match="editable"):
        billing.edit_customer(customer.number, version=5)
    with pytest.raises(TypeError):
        billing.get_customer(5)  # type: ignore[arg-type]


def test_not_found(billing: cb.CustomerBilling) -> None:
    """Unknown numbers raise NotFoundError, a LookupError."""
    for call in (
        lambda: billing.get_customer("nope"),
        lambda: billing.get_account("nope"),
        lambda: billing.accounts_of("nope"),
        lambda: billing.history("nope"),
        lambda: billing.edit_account("nope", taxable=True),
        lambda: billing.add_account("nope", new_account()),
    ):
        with pytest.raises(cb.NotFoundError) as info:
            call()
        assert isinstance(info.value, LookupError)


def test_add_account_and_change_default(billing: cb.CustomerBilling) -> None:
    """Accounts list the default first; make_default and set_default_account move it."""
    customer, first = billing.create_customer(new_customer(), new_account())
    second = billing.add_account(customer.number, new_account(currency="EUR"))
    third = billing.add_account(customer.number, new_account(currency="SEK"), make_default=True)
    assert [a.number for a in billing.accounts_of(customer.number)] == [
        third.number,
        first.number,
        second.number,
    ]
    updated = billing.set_default_account(customer.number, second.number)
    assert updated.default_account == second.number and updated.version == 3
    assert billing.accounts_of(customer.number)[0] == second
    assert billing.set_default_account(customer.number, second.number) == updated


def test_default_account_must_be_the_customers(
    billing: cb.CustomerBilling, store: MemoryStore
) -> None:
    """Another customer's account cannot become the default."""
    c1, _ = billing.create_customer(new_customer(), new_account())
    _, a2 = billing.create_customer(new_customer(company_name="B"), new_account())
    rejected(
        store,
        lambda: billing.set_default_account(c1.number, a2.number),
        "account.reference_unknown",
    )


def test_multi_account_setting_is_enforced(
    plain_billing: cb.CustomerBilling, store: MemoryStore
) -> None:
    """With default settings a customer has exactly one account."""
    customer, _ = plain_billing.create_customer(new_customer(), new_account())
    rejected(
        store,
        lambda: plain_billing.add_account(customer.number, new_account()),
        "account.multi_account_disabled",
    )


def test_edit_customer_versions_and_history(billing: cb.CustomerBilling) -> None:
    """Edits bump the version once per committed change and record each changed field."""
    customer, _ = billing.create_customer(new_customer(tax_number="123-45-6789"), new_account())
    edited = billing.edit_customer(
        customer.number, company_name="Acme Brick Co", tax_number="987-65-4321", expected_version=1
    )
    assert edited.version == 2 and edited.name == "Acme Brick Co"
    assert billing.edit_customer(customer.number, company_name="Acme Brick Co") == edited
    history = billing.history(customer.number)
    assert [c.field for c in history] == ["created", "company_name", "tax_number"]
    assert history[1].old == "Acme Brick" and history[1].new == "Acme Brick Co"
    assert history[2].old == "****6789" and history[2].new == "****4321"
    assert all(c.at == fixed_clock() for c in history)


def test_a_clock_that_is_not_a_datetime_writes_nothing(store: MemoryStore) -> None:
    """History takes its time from the clock unchecked by Change: a clock giving anything
    but a datetime is refused, and the creation is rolled back."""
    from tests.conftest import add_catalog

    class Today:  # has a date() as datetimes do, but is not one
        def date(self) -> date:
            return fixed_clock().date()

    clock: list[object] = [fixed_clock]
    billing = cb.CustomerBilling(store=store, settings=ALL_ON, clock=lambda: clock[0]())  # type: ignore[operator]
    add_catalog(billing)
    clock[0] = Today
    before = snapshot(store)
    with pytest.raises(TypeError, match=r"clock\(\) must be datetime"):
        billing.create_customer(new_customer(), new_account())
    assert snapshot(store) == before


def test_stale_version_is_a_conflict(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """expected_version must match the stored version; nothing changes otherwise."""
    customer, account = billing.create_customer(new_customer(), new_account())
    billing.edit_account(account.number, taxable=True, expected_version=1)
    before = snapshot(store)
    with pytest.raises(cb.ConflictError) as info:
        billing.edit_account(account.number, taxable=False, expected_version=1)
    assert (info.value.expected, info.value.actual) == (1, 2)
    with pytest.raises(cb.ConflictError):
        billing.edit_customer(customer.number, company_name="X", expected_version=7)
    assert snapshot(store) == before


def test_account_immutable_fields(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """number, customer and currency never change; invoice_currency does."""
    c2, _ = billing.create_customer(new_customer(company_name="B"), new_account())
    _, account = billing.create_customer(new_customer(), new_account())
    error = rejected(
        store,
        lambda: billing.edit_account(
            account.number, number="A-9", customer=c2.number, currency="EUR"
        ),
        "account.field_immutable",
    )
    assert {v.path for v in error.violations} == {"number", "customer", "currency"}
    edited = billing.edit_account(account.number, invoice_currency="EUR")
    assert edited.invoice_currency == "EUR" and edited.currency == "USD"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["SUSPENDED", "ACTIVE", "PENDING_COLLECTION", "ACTIVE", "DEACTIVATED"], True),
        (["SUSPENDED", "DEACTIVATED"], True),
        (["PENDING_COLLECTION", "DEACTIVATED"], True),
        (["SUSPENDED", "PENDING_COLLECTION"], False),
        (["PENDING_COLLECTION", "SUSPENDED"], False),
        (["DEACTIVATED", "ACTIVE"], False),
    ],
)
def test_status_lifecycle(billing: cb.CustomerBilling, path: list[str], allowed: bool) -> None:
    """ACTIVE ↔ SUSPENDED, ACTIVE ↔ PENDING_COLLECTION, any → DEACTIVATED, which is final."""
    _, account = billing.create_customer(new_customer(), new_account())
    *steps, last = [cb.AccountStatus(s) for s in path]
    for status in steps:
        billing.edit_account(account.number, status=status)
    if allowed:
        assert billing.edit_account(account.number, status=last).status is last
    else:
        with pytest.raises(cb.RuleViolationError) as info:
            billing.edit_account(account.number, status=last)
        assert info.value.codes == {"account.status_transition_invalid"}


def _chain(billing: cb.CustomerBilling, length: int, field: str) -> list[cb.BillingAccount]:
    customer, top = billing.create_customer(new_customer(), new_account())
    chain = [top]
    for _ in range(length - 1):
        chain.append(billing.add_account(customer.number, new_account(**{field: chain[-1].number})))
    return chain


@pytest.mark.parametrize("field", ["responsible_account", "parent_account"])
def test_cycles_are_refused_in_both_hierarchies(
    billing: cb.CustomerBilling, store: MemoryStore, field: str
) -> None:
    """Linking the top of a chain under its bottom, or an account to itself, is a cycle."""
    chain = _chain(billing, 5, field)
    rejected(
        store,
        lambda: billing.edit_account(chain[0].number, **{field: chain[-1].number}),
        "hierarchy.cycle",
    )
    rejected(
        store,
        lambda: billing.edit_account(chain[2].number, **{field: chain[2].number}),
        "hierarchy.cycle",
    )
    moved = billing.edit_account(chain[3].number, **{field: chain[0].number})
    assert getattr(moved, field) == chain[0].number


def test_deep_chain_has_no_recursion_limit(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """A 100,000-deep responsible chain is checked for cycles by a loop, not recursion."""
    customer, top = billing.create_customer(new_customer(), new_account())
    previous = top
    # build the chain directly in the store: the facade would take minutes of validation
    with store.unit_of_work() as uow:
        for i in range(100_000):
            account = cb.BillingAccount(
                number=f"D-{i:06d}",
                customer=customer.number,
                currency="USD",
                bill_cycle="m1",
                start_date=date(2024, 1, 1),
                category="corp",
                payment_term="net30",
                invoice_type=cb.InvoiceType.EMAIL,
                responsible_account=previous.number,
            )
            uow.accounts.add(account)
            previous = account
        uow.commit()
    rejected(
        store,
        lambda: billing.edit_account(top.number, responsible_account=previous.number),
        "hierarchy.cycle",
    )
    assert len(billing.managed_accounts(top.number)) == 1


def test_candidate_listings(billing: cb.CustomerBilling) -> None:
    """Responsible candidates: ACTIVE, same cycle and invoice currency, not self or below.
    Parent candidates: eligible status, not self or below."""
    customer, a = billing.create_customer(new_customer(), new_account())
    b = billing.add_account(
        customer.number, new_account(responsible_account=a.number, parent_account=a.number)
    )
    c = billing.add_account(
        customer.number, new_account(responsible_account=b.number, parent_account=b.number)
    )
    d = billing.add_account(customer.number, new_account())
    eur = billing.add_account(customer.number, new_account(currency="EUR"))
    other_cycle = billing.add_account(customer.number, new_account(bill_cycle="m15"))
    suspended = billing.add_account(customer.number, new_account())
    billing.edit_account(suspended.number, status=cb.AccountStatus.SUSPENDED)
    gone = billing.add_account(customer.number, new_account())
    billing.edit_account(gone.number, status=cb.AccountStatus.DEACTIVATED)

    def numbers(accounts: tuple[cb.BillingAccount, ...]) -> list[str]:
        return [x.number for x in accounts]

    assert numbers(billing.responsible_account_candidates(a.number)) == [d.number]
    assert numbers(billing.responsible_account_candidates(c.number)) == [
        a.number,
        b.number,
        d.number,
    ]
    assert numbers(billing.parent_account_candidates(a.number)) == sorted(
        [d.number, eur.number, other_cycle.number, suspended.number]
    )
    billing.update_settings(require_same_bill_cycle_for_account_hierarchy=True)
    assert other_cycle.number not in numbers(billing.parent_account_candidates(a.number))
    assert b.number in numbers(billing.responsible_account_candidates(c.number))


def test_editing_a_responsible_account_keeps_managed_accounts_consistent(
    billing: cb.CustomerBilling, store: MemoryStore
) -> None:
    """A responsible account cannot move to another cycle or currency than its managed
    accounts."""
    customer, top = billing.create_customer(new_customer(), new_account())
    billing.add_account(customer.number, new_account(responsible_account=top.number))
    rejected(
        store,
        lambda: billing.edit_account(top.number, bill_cycle="m15"),
        "hierarchy.responsible_bill_cycle_mismatch",
    )
    rejected(
        store,
        lambda: billing.edit_account(top.number, invoice_currency="EUR"),
        "hierarchy.responsible_currency_mismatch",
    )


def test_deactivation_order(billing: cb.CustomerBilling) -> None:
    """Dependents are deactivated first; then the account they depended on can be."""
    customer, top = billing.create_customer(new_customer(), new_account())
    child = billing.add_account(customer.number, new_account(parent_account=top.number))
    with pytest.raises(cb.RuleViolationError) as info:
        billing.edit_account(top.number, status=cb.AccountStatus.DEACTIVATED)
    assert info.value.violations[0].params["dependents"] == [child.number]
    billing.edit_account(child.number, status=cb.AccountStatus.DEACTIVATED)
    assert billing.edit_account(top.number, status=cb.AccountStatus.DEACTIVATED).status is (
        cb.AccountStatus.DEACTIVATED
    )


def test_settings_persist_and_refuse_contradictions(store: MemoryStore) -> None:
    """Settings given to the facade are persisted; a later facade on the store sees them."""
    with cb.CustomerBilling(store=store, settings=ALL_ON) as first:
        assert first.settings == ALL_ON
    second = cb.CustomerBilling(store=store)
    assert second.settings == ALL_ON
    assert cb.CustomerBilling().settings == cb.Settings()
    with pytest.raises(TypeError):
        second.update_settings(no_such_setting=True)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("allow_multi_customer_accounts", False),
        ("enable_responsible_account_management", False),
        ("enable_account_hierarchy_management", False),
        ("require_same_bill_cycle_for_account_hierarchy", True),
        ("overall_invoice_distribution", frozenset({cb.InvoiceType.NONE})),
        ("unique_customer_names", True),
    ],
)
def test_settings_in_use(
    billing: cb.CustomerBilling, store: MemoryStore, setting: str, value: object
) -> None:
    """Each setting that data can contradict is refused while it is contradicted."""
    customer, top = billing.create_customer(new_customer(), new_account())
    billing.add_account(customer.number, new_account(bill_cycle="m15", parent_account=top.number))
    billing.add_account(customer.number, new_account(responsible_account=top.number))
    billing.create_customer(new_customer(), new_account())  # same name
    error = rejected(store, lambda: billing.update_settings(**{setting: value}), "settings.in_use")
    assert [v.path for v in error.violations] == [setting]
    assert error.violations[0].params["count"] >= 1


def test_search(billing: cb.CustomerBilling) -> None:
    """Word-prefix, AND, case- and accent-insensitive, by name or number, ordered."""
    c1, a1 = billing.create_customer(
        new_customer(company_name="Société Générale"), new_account(external_number="EXT-77")
    )
    c2, _ = billing.create_customer(
        new_customer(company_name="Widgets International", external_number="W-1"), new_account()
    )
    c3, _ = billing.create_customer(
        new_customer(company_name="International Société"), new_account()
    )
    assert billing.search_customers("societe") == (c1, c3)
    assert billing.search_customers("SOC inter") == (c3,)
    assert billing.search_customers("gen") == (c1,)
    assert billing.search_customers("w-1") == (c2,)
    assert billing.search_customers(c2.number.lower()) == (c2,)
    assert billing.search_customers("ciété") == ()
    assert billing.search_customers("   ") == ()
    assert billing.search_accounts("société") == (a1, billing.accounts_of(c3.number)[0])
    assert billing.search_accounts("ext-7") == (a1,)
    billing.edit_customer(c1.number, company_name="Renamed Bank")
    assert billing.search_customers("societe") == (c3,)
    assert billing.search_accounts("renamed") == (a1,)


def test_search_ignores_settings(plain_billing: cb.CustomerBilling) -> None:
    """Search works with every capability switched off."""
    customer, account = plain_billing.create_customer(new_customer(), new_account())
    assert plain_billing.search_customers("acme") == (customer,)
    assert plain_billing.search_accounts("acme brick") == (account,)


def test_customer_summary_formats_in_each_language(billing: cb.CustomerBilling) -> None:
    """Each account line formats amounts in its preferred language."""
    customer, _ = billing.create_customer(
        new_customer(), new_account(minimum_invoice_amount=Money("1234.5", "USD"))
    )
    billing.add_account(
        customer.number,
        new_account(
            currency="SEK", preferred_language="sv_SE", minimum_invoice_amount=Money("2500", "SEK")
        ),
    )
    summary = billing.customer_summary(customer.number)
    assert [line.minimum_text for line in summary.accounts] == ["$1,234.50", "2\xa0500,00\xa0kr"]
    assert summary.accounts[1].balance_text == "0,00\xa0kr"
    assert summary.accounts[0].is_default and not summary.accounts[1].is_default
    text = str(summary)
    assert "Acme Brick (C-000001)" in text and "2\xa0500,00\xa0kr" in text


def test_account_summary(billing: cb.CustomerBilling) -> None:
    """Next invoice date, payment term and hierarchy links are summarised."""
    customer, top = billing.create_customer(new_customer(), new_account())
    below = billing.add_account(customer.number, new_account(responsible_account=top.number))
    summary = billing.account_summary(top.number)
    assert summary.next_invoice_date == date(2026, 7, 1)  # the 1st after 2026-06-15
    assert summary.payment_term is not None and summary.payment_term.net_days == 30
    assert summary.managed_accounts == (below.number,)
    assert summary.customer_name == "Acme Brick"
    assert "manages: " + below.number in str(summary)
    billing.edit_account(below.number, status=cb.AccountStatus.DEACTIVATED)
    assert billing.account_summary(below.number).next_invoice_date is None


def test_protected_data_never_shown(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """Tax number (beyond its last four) and date of birth stay out of repr, str, errors,
    violations and history."""
    person = new_customer(
        kind=cb.CustomerKind.PERSON,
        company_name=None,
        first_name="Ada",
        last_name="Lovelace",
        tax_number="123-45-6789",
        date_of_birth=date(1815, 12, 10),
    )
    customer, _ = billing.create_customer(person, new_account())
    billing.edit_customer(
        customer.number, date_of_birth=date(1815, 12, 11), tax_number="999-99-1234"
    )
    with pytest.raises(cb.RuleViolationError) as info:
        billing.edit_customer(
            customer.number,
            date_of_birth=date(2099, 1, 1),
            tax_number="555-55-5555",
            kind=cb.CustomerKind.COMPANY,
        )
    shown = " ".join(
        [
            repr(customer),
            str(customer),
            repr(person),
            str(info.value),
            repr(info.value.violations),
            repr(billing.history(customer.number)),
            str(billing.customer_summary(customer.number)),
        ]
    )
    for secret in ("123-45", "45-6789", "999-99", "555-55", "1815", "2099", "12-10"):
        assert secret not in shown
    assert "****6789" in repr(customer)


def test_erasure(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """Erasure clears personal data (countries kept), keeps accounts, redacts history,
    records that it happened, makes the customer read-only, and is idempotent."""
    customer, account = billing.create_customer(
        new_customer(
            tax_number="123456789",
            secondary_emails=("b@acme.example",),
            phones=(cb.Phone(type=cb.PhoneType.WORK, number="+1 512 555 0100"),),
        ),
        new_account(
            contacts=(cb.Contact(name="Bob", email="bob@acme.example", category="finance"),)
        ),
    )
    billing.edit_customer(customer.number, company_name="Acme Bricks")
    erased = billing.erase_customer(customer.number)
    assert erased.erased and erased.company_name == "[erased]" and erased.tax_number is None
    assert erased.primary_email == "[erased]" and erased.phones == ()
    assert erased.billing_address is not None and erased.billing_address.country == "US"
    assert erased.billing_address.line1 == "[erased]"
    kept = billing.get_account(account.number)
    assert kept.contacts == (cb.Contact(name="[erased]", category="finance"),)
    texts = repr(billing.history(customer.number)) + repr(billing.history(account.number))
    assert "Acme Brick" not in texts and "bob@" not in texts
    assert billing.history(customer.number)[-1].field == "erased"
    before = snapshot(store)
    assert billing.erase_customer(customer.number) == erased
    assert snapshot(store) == before
    rejected(
        store,
        lambda: billing.edit_customer(customer.number, company_name="Back"),
        "customer.erased",
    )
    rejected(store, lambda: billing.add_account(customer.number, new_account()), "customer.erased")


def test_validate_customers_groups_by_code(billing: cb.CustomerBilling) -> None:
    """A custom field made required later is reported for every record that lacks it."""
    _, a1 = billing.create_customer(new_customer(), new_account())
    _, a2 = billing.create_customer(new_customer(company_name="B"), new_account())
    billing.add_custom_field(
        cb.CustomFieldDefinition(
            name="Region",
            applies_to=cb.CustomFieldTarget.ACCOUNT,
            type=cb.CustomFieldType.TEXT,
            required=True,
        )
    )
    report = billing.validate_customers()
    assert list(report) == ["account.custom_field_invalid"]
    assert [v.params["number"] for v in report["account.custom_field_invalid"]] == [
        a1.number,
        a2.number,
    ]


def test_custom_fields_are_validated(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """Types, options and required fields of custom fields are enforced."""
    billing.add_custom_field(
        cb.CustomFieldDefinition(
            name="Location",
            applies_to=cb.CustomFieldTarget.ACCOUNT,
            type=cb.CustomFieldType.CHOICE,
            options=("US", "SE"),
            required=True,
        )
    )
    billing.add_custom_field(
        cb.CustomFieldDefinition(
            name="Since", applies_to=cb.CustomFieldTarget.CUSTOMER, type=cb.CustomFieldType.DATE
        )
    )
    error = rejected(
        store,
        lambda: billing.create_customer(
            new_customer(custom_fields={"Since": "yesterday"}),
            new_account(custom_fields={"Location": "MX"}),
        ),
        "account.custom_field_invalid",
        "customer.custom_field_invalid",
    )
    assert {v.path for v in error.violations} == {
        "customer.custom_fields[Since]",
        "account.custom_fields[Location]",
    }
    rejected(
        store,
        lambda: billing.create_customer(new_customer(), new_account()),
        "account.custom_field_invalid",
    )
    customer, _ = billing.create_customer(
        new_customer(custom_fields={"Since": date(2020, 1, 1)}),
        new_account(custom_fields={"Location": "SE"}),
    )
    assert customer.custom_fields["Since"] == date(2020, 1, 1)


def test_card_numbers_are_never_accepted(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """Any payment-method field holding a Luhn-valid 13–19 digit run is refused."""
    for method in (
        cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="tok_4111111111111111"),
        cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="t", brand="5500-0000-0000-0004"),
        cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="t", last4="4242"),
    ):
        call = lambda m=method: billing.create_customer(  # noqa: E731
            new_customer(), new_account(payment_methods=(m,), auto_pay=True)
        )
        if method.last4 == "4242":
            customer, account = call()
            assert account.payment_methods == (method,)
        else:
            rejected(store, call, "account.payment_method_invalid")


def test_context_manager_closes_the_store(store: MemoryStore) -> None:
    """Leaving the with block closes the store."""
    with cb.CustomerBilling(store=store):
        assert not store.closed
    assert store.closed


def test_batch_commits_together(billing: cb.CustomerBilling, store: MemoryStore) -> None:
    """Calls in a batch land together; a rejected call inside changes nothing and the batch
    goes on; an exception out of the block leaves nothing."""
    with billing.batch():
        first, _ = billing.create_customer(new_customer(), new_account())
        with pytest.raises(cb.RuleViolationError):
            billing.create_customer(new_customer(company_name=""), new_account())
        with billing.batch():  # nested: joins
            second, _ = billing.create_customer(new_customer(company_name="B"), new_account())
    assert billing.get_customer(first.number) == first
    assert billing.get_customer(second.number) == second
    before = snapshot(store)
    with pytest.raises(RuntimeError), billing.batch():
        billing.create_customer(new_customer(company_name="C"), new_account())
        raise RuntimeError
    assert snapshot(store) == before


def test_a_failed_call_in_a_batch_leaves_nothing_of_itself(
    billing: cb.CustomerBilling, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that fails after writing, whatever it raises, is undone to its savepoint; the
    batch goes on and commits the other calls."""
    history = store.repositories[4]

    def broken(changes: object) -> None:
        raise OSError("disk full")

    with billing.batch():
        kept, _ = billing.create_customer(new_customer(company_name="Kept"), new_account())
        before = snapshot(store)
        monkeypatch.setattr(history, "append", broken)
        with pytest.raises(OSError, match="disk full"):
            billing.create_customer(new_customer(company_name="Half"), new_account())
        monkeypatch.undo()
        assert snapshot(store) == before
    assert [c.name for c in billing.search_customers("kept half")] == []
    assert billing.get_customer(kept.number) == kept
    assert snapshot(store) == before


def test_a_bad_clock_in_a_batch_leaves_the_store_as_it_was(store: MemoryStore) -> None:
    """A clock that returns a date (not a datetime) makes an erasure in a batch fail with a
    TypeError and leaves the store exactly as before: the customer not erased, its history
    whole."""
    now: list[object] = [NOW]
    billing = cb.CustomerBilling(store=store, settings=ALL_ON, clock=lambda: now[0])  # type: ignore[arg-type,return-value]
    add_catalog(billing)
    customer, _ = billing.create_customer(new_customer(), new_account())
    before = snapshot(store)
    now[0] = NOW.date()
    with billing.batch():
        with pytest.raises(TypeError, match="clock"):
            billing.erase_customer(customer.number)
        with pytest.raises(TypeError, match="clock"):  # writes the account, then reads the clock
            billing.add_account(customer.number, new_account(), make_default=True)
    assert snapshot(store) == before
    assert not billing.get_customer(customer.number).erased


def test_a_call_that_cannot_be_undone_spoils_the_batch(
    billing: cb.CustomerBilling, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a failed call's writes cannot be undone, the batch commits nothing and says so
    with a StorageError."""
    before = snapshot(store)

    @contextlib.contextmanager
    def unusable(self: object) -> Iterator[None]:
        try:
            yield
        except BaseException as exc:
            raise cb.StorageError("cannot go back") from exc

    monkeypatch.setattr(MemoryUnitOfWork, "savepoint", unusable)
    with pytest.raises(cb.StorageError, match="nothing was committed"), billing.batch():
        billing.create_customer(new_customer(company_name="Kept?"), new_account())
        with pytest.raises(cb.StorageError, match="cannot go back"):
            billing.create_customer(new_customer(company_name=""), new_account())
    assert snapshot(store) == before


class _CollidingUnit(MemoryUnitOfWork):
    """A memory unit of work that runs into a concurrent one at commit while its store
    counts collisions (as the PostgreSQL store reports a serialization failure)."""

    __slots__ = ("owner",)

    def __init__(self, store: _Colliding) -> None:
        super().__init__(store)
        self.owner = store

    def commit(self) -> None:
        if self.owner.collisions > 0:
            self.owner.collisions -= 1
            raise TransactionConflictError("could not serialize access")
        super().commit()


class _Colliding(MemoryStore):
    """A memory store whose units of work collide at commit, the first *collisions*
    times; it counts the units it made."""

    def __init__(self) -> None:
        super().__init__()
        self.collisions = 0
        self.units = 0

    def unit_of_work(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        self.units += 1
        return _CollidingUnit(self)


def test_a_call_that_runs_into_another_runs_again() -> None:
    """A unit of work that collides is rolled back and the call runs again: it succeeds
    once the collisions stop, and surfaces as a ConflictError after ATTEMPTS tries,
    having written nothing; a call in a batch is not run again."""
    store = _Colliding()
    billing = cb.CustomerBilling(store=store, clock=fixed_clock)
    add_catalog(billing)
    store.collisions, store.units = ATTEMPTS - 1, 0
    customer, _ = billing.create_customer(new_customer(), new_account())
    assert store.units == ATTEMPTS
    assert billing.get_customer(customer.number) == customer

    def state() -> dict[str, object]:  # the store's, not the counters of this test
        return {k: v for k, v in snapshot(store).items() if k not in ("units", "collisions")}

    before = state()
    store.collisions, store.units = ATTEMPTS, 0
    with pytest.raises(cb.ConflictError) as caught:
        billing.create_customer(new_customer(), new_account())
    assert isinstance(caught.value, TransactionConflictError)
    assert store.units == ATTEMPTS
    assert state() == before
    store.collisions, store.units = 1, 0
    with pytest.raises(TransactionConflictError), billing.batch():
        billing.create_customer(new_customer(), new_account())
    assert store.units == 1
    assert state() == before
