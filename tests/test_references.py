"""What an account names for its invoices — catalog references, an invoice note, extra
invoice addresses — through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from moneyed import Money

import custbill as cb
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import new_account, new_customer, standard_facade

JULY = date(2026, 7, 1)

#: One entry of each kind accounts refer to, by the account's field.
ENTRIES = {
    "contract_type": cb.ContractType(id="12m", name="12 months"),
    "invoice_template": cb.InvoiceTemplate(id="plain", name="Plain"),
    "web_template": cb.WebTemplate(id="blue", name="Blue"),
    "salesperson": cb.Salesperson(id="kim", name="Kim Lee", email="kim@seller.example"),
    "rate_plan": cb.RatePlan(id="basic", name="Basic"),
}


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        for entry in ENTRIES.values():
            facade.add_catalog_entry(entry)
        yield facade


def _refused(store: Store, operation: Callable[[], object]) -> cb.RuleViolationError:
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as caught:
        operation()
    assert dump(store) == before
    return caught.value


def test_the_catalog_keeps_each_kind_apart(billing: cb.CustomerBilling, store: Store) -> None:
    """Each kind lists its own entries; an id is unique within its kind only; a
    salesperson's email must be an email; any catalog kind goes through
    add_catalog_entry."""
    for entry in ENTRIES.values():
        assert billing.catalog(type(entry)) == (entry,)
    billing.add_catalog_entry(cb.RatePlan(id="12m", name="Twelve"))  # a contract type's id
    assert [p.id for p in billing.catalog(cb.RatePlan)] == ["12m", "basic"]
    error = _refused(store, lambda: billing.add_catalog_entry(cb.WebTemplate(id="blue", name="B")))
    assert [(v.code, v.path) for v in error.violations] == [("catalog.id_taken", "id")]
    error = _refused(
        store,
        lambda: billing.add_catalog_entry(cb.Salesperson(id="x", name="X", email="not mail")),
    )
    assert [(v.code, v.path) for v in error.violations] == [("catalog.invalid", "email")]
    billing.add_catalog_entry(cb.PaymentTerm(id="net10", name="Net 10", net_days=10))
    assert "net10" in [t.id for t in billing.catalog(cb.PaymentTerm)]
    with pytest.raises(TypeError, match="entry"):
        billing.add_catalog_entry(cb.Settings())  # type: ignore[arg-type]


def test_an_account_names_only_entries_the_catalog_has(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """Known references are kept; an unknown one is account.reference_unknown at its own
    field, naming its kind, on creation and on edit alike."""
    ids = {field: entry.id for field, entry in ENTRIES.items()}
    _, account = billing.create_customer(new_customer(), new_account(**ids))
    assert {field: getattr(account, field) for field in ENTRIES} == ids
    unknown = dict.fromkeys(ENTRIES, "nope")
    error = _refused(store, lambda: billing.create_customer(new_customer(), new_account(**unknown)))
    assert sorted((v.code, v.path, v.params["kind"]) for v in error.violations) == [
        ("account.reference_unknown", "account.contract_type", "contract type"),
        ("account.reference_unknown", "account.invoice_template", "invoice template"),
        ("account.reference_unknown", "account.rate_plan", "rate plan"),
        ("account.reference_unknown", "account.salesperson", "salesperson"),
        ("account.reference_unknown", "account.web_template", "web template"),
    ]
    error = _refused(store, lambda: billing.edit_account(account.number, salesperson="ghost"))
    assert [(v.path, v.params["id"]) for v in error.violations] == [("salesperson", "ghost")]
    # an entry of another kind with the id is not the one named
    error = _refused(store, lambda: billing.edit_account(account.number, rate_plan="12m"))
    assert [v.path for v in error.violations] == ["rate_plan"]
    assert billing.edit_account(account.number, contract_type=None).contract_type is None


def test_the_invoice_note_reaches_the_planned_and_the_issued_invoice(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """The billed account's note, not a managed account's, on each invoice; kept with the
    issued invoice in the store."""
    _, top = billing.create_customer(
        new_customer(), new_account(invoice_note="PO 4471 — quote on every payment")
    )
    managed = billing.add_account(
        top.customer,
        new_account(responsible_account=top.number, invoice_note="ignored: not billed to it"),
    )
    _, plain = billing.create_customer(new_customer(company_name="Plain"), new_account())
    charges = {top.number: Money(5, "USD"), managed.number: Money(7, "USD")}
    charges[plain.number] = Money(3, "USD")
    plan = billing.plan_bill_run("m1", JULY, charges)
    notes = {i.billed_account: i.invoice_note for i in plan.invoices}
    assert notes == {top.number: "PO 4471 — quote on every payment", plain.number: None}
    issued = billing.issue_bill_run(plan)
    assert {i.billed_account: i.invoice_note for i in issued} == notes
    assert billing.invoices(top.number)[0].invoice_note == notes[top.number]


def test_invoice_addresses_receive_the_invoice(billing: cb.CustomerBilling, store: Store) -> None:
    """An account's invoice addresses receive its EMAIL invoices — alone when Distribute
    Invoice is off, after the primary email when it is on, each address once."""
    extra = ("ap@acme.example", "books@acme.example")
    _, alone = billing.create_customer(new_customer(), new_account(invoice_emails=extra[1:]))
    _, both = billing.create_customer(
        new_customer(company_name="Both"),
        new_account(invoice_emails=extra, distribute_invoice=True),
    )
    _, neither = billing.create_customer(new_customer(company_name="Neither"), new_account())
    charges = {n: Money(4, "USD") for n in (alone.number, both.number, neither.number)}
    plan = billing.plan_bill_run("m1", JULY, charges)
    by_account = {i.billed_account: i for i in plan.invoices}
    assert by_account[alone.number].recipients == ("books@acme.example",)
    assert by_account[alone.number].channels == frozenset({cb.Channel.EMAIL})
    assert by_account[both.number].recipients == extra  # the primary email is the first
    assert by_account[neither.number].recipients == ()
    assert by_account[neither.number].channels == frozenset()
    error = _refused(
        store,
        lambda: billing.edit_account(alone.number, invoice_emails=("a@b.example", "A@B.example")),
    )
    assert [(v.code, v.path) for v in error.violations] == [
        ("account.invoice_email_invalid", "invoice_emails[1]")
    ]
