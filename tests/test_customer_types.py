"""Customer types with what their accounts may use, features, and links across customers,
through the facade, on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import custbill as cb
from custbill.storage import Store
from custbill.testing import dump
from tests.conftest import new_account, new_customer, standard_facade

CATALOG = (
    cb.Feature(id="ext", name="Extension"),
    cb.Feature(id="number", name="Phone number"),
    cb.Feature(id="queue", name="Call queue"),
    cb.RatePlan(id="home", name="Home"),
    cb.RatePlan(id="master", name="Master"),
    cb.CustomerType(id="normal", name="Normal"),
    cb.CustomerType(
        id="residential",
        name="Residential",
        features=("ext", "number"),
        rate_plans=("home",),
        payment_modes=(cb.PaymentMode.AUTOMATIC, cb.PaymentMode.INVOICE),
        links_across_customers=False,
    ),
)


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def billing(store: Store) -> Iterator[cb.CustomerBilling]:
    with standard_facade(store) as facade:
        for entry in CATALOG:
            facade.add_catalog_entry(entry)
        yield facade


def _refused(store: Store, operation: Callable[[], object]) -> list[tuple[str, str]]:
    """The (code, path) of each violation of *operation*, which must leave the store as
    it was."""
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as caught:
        operation()
    assert dump(store) == before
    return [(v.code, v.path) for v in caught.value.violations]


def test_a_customer_type_names_entries_the_catalog_has(
    billing: cb.CustomerBilling, store: Store
) -> None:
    bad = cb.CustomerType(id="x", name="X", features=("ext", "fax"), rate_plans=("gold",))
    assert _refused(store, lambda: billing.add_catalog_entry(bad)) == [
        ("catalog.invalid", "features[1]"),
        ("catalog.invalid", "rate_plans[0]"),
    ]
    assert [t.id for t in billing.catalog(cb.CustomerType)] == ["normal", "residential"]


def test_a_residential_customer_has_only_its_types_features_and_plans(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """What the type lists is allowed; anything else is refused at its own path, with the
    option, the value and the type in the params; a type that lists nothing allows all."""
    home, account = billing.create_customer(
        new_customer(customer_type="residential"),
        new_account(features=("ext", "number"), rate_plan="home"),
    )
    assert (home.customer_type, account.features) == ("residential", ("ext", "number"))
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as caught:
        billing.create_customer(
            new_customer(customer_type="residential"),
            new_account(
                features=("ext", "queue"),
                rate_plan="master",
                payment_mode=cb.PaymentMode.FREE,
            ),
        )
    assert dump(store) == before
    assert [(v.path, v.params) for v in caught.value.violations] == [
        (
            "account.features[1]",
            {"option": "feature", "value": "queue", "customer_type": "residential"},
        ),
        (
            "account.rate_plan",
            {"option": "rate plan", "value": "master", "customer_type": "residential"},
        ),
        (
            "account.payment_mode",
            {"option": "payment mode", "value": "FREE", "customer_type": "residential"},
        ),
    ]
    assert {v.code for v in caught.value.violations} == {"account.not_in_customer_type"}
    assert _refused(store, lambda: billing.edit_account(account.number, features=("queue",))) == [
        ("account.not_in_customer_type", "features[0]")
    ]
    _, business = billing.create_customer(
        new_customer(customer_type="normal"),
        new_account(features=("queue",), rate_plan="master", payment_mode=cb.PaymentMode.FREE),
    )
    assert business.features == ("queue",)
    assert _refused(store, lambda: billing.edit_account(business.number, features=("fax",))) == [
        ("account.reference_unknown", "features[0]")
    ]


def test_a_customer_takes_a_type_its_accounts_fit(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """Retyping a customer checks each of its accounts against the new type; an unknown
    type is customer.reference_unknown."""
    customer, _ = billing.create_customer(new_customer(), new_account(features=("queue",)))
    assert _refused(
        store, lambda: billing.edit_customer(customer.number, customer_type="residential")
    ) == [("account.not_in_customer_type", "features[0]")]
    assert _refused(store, lambda: billing.edit_customer(customer.number, customer_type="vip")) == [
        ("customer.reference_unknown", "customer_type")
    ]
    assert billing.edit_customer(customer.number, customer_type="normal").customer_type == "normal"


def test_links_across_customers_follow_the_setting_and_the_type(
    billing: cb.CustomerBilling, store: Store
) -> None:
    """Links across customers are allowed by default (a corporate customer pays for a
    subsidiary's account); not under a customer whose type takes no linked accounts, nor
    at all with the setting off — and the setting cannot be turned off while one exists."""
    corporate, head = billing.create_customer(new_customer(customer_type="normal"), new_account())
    home, own = billing.create_customer(new_customer(customer_type="residential"), new_account())
    linked = billing.create_customer(
        new_customer(company_name="Subsidiary"), new_account(responsible_account=head.number)
    )[1]
    assert linked.responsible_account == head.number
    # the residential customer's own accounts may link to each other
    second = billing.add_account(home.number, new_account(parent_account=own.number))
    assert second.parent_account == own.number
    assert _refused(
        store,
        lambda: billing.create_customer(
            new_customer(company_name="Lodger"), new_account(parent_account=own.number)
        ),
    ) == [("hierarchy.cross_customer_link_not_allowed", "account.parent_account")]
    with pytest.raises(cb.RuleViolationError) as caught:
        billing.update_settings(allow_links_across_customers=False)
    assert [(v.code, v.path, v.params["examples"]) for v in caught.value.violations] == [
        ("settings.in_use", "allow_links_across_customers", [linked.number])
    ]
    billing.edit_account(linked.number, responsible_account=None)
    billing.update_settings(allow_links_across_customers=False)
    assert _refused(
        store, lambda: billing.edit_account(linked.number, responsible_account=head.number)
    ) == [("hierarchy.cross_customer_link_not_allowed", "responsible_account")]
    assert corporate.number != home.number
