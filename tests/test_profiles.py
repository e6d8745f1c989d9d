"""Platform profiles and the platforms' worked examples."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from moneyed import Money

import custbill as cb
from custbill.profiles import PROFILES, Profile
from custbill.simulation import build, load_scenario, parse_scenario, simulate
from custbill.storage import Store
from custbill.testing import dump

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_profile_makes_a_fresh_store_speak_its_platform(name: str, store: Store) -> None:
    """Applied once: the settings are the profile's, every entry and custom field is in the
    catalog; applied again: nothing changes."""
    profile = PROFILES[name]
    billing = cb.CustomerBilling(store=store)
    profile.apply(billing)
    assert billing.settings == profile.settings
    for entry in profile.catalog:
        assert entry in billing.catalog(type(entry))  # type: ignore[arg-type]
    for definition in profile.custom_fields:
        assert definition in billing.custom_fields(definition.applies_to)
    once = dump(store)
    profile.apply(billing)
    assert dump(store) == once


def test_a_profile_lands_whole_or_not_at_all(store: Store) -> None:
    """An id the store holds with other values refuses the profile: the store keeps its
    settings and gains none of the profile's entries."""
    billing = cb.CustomerBilling(store=store)
    billing.add_payment_term(cb.PaymentTerm(id="net30", name="Thirty days", net_days=30))
    before = dump(store)
    with pytest.raises(cb.RuleViolationError) as caught:
        PROFILES["reseller"].apply(billing)
    assert caught.value.codes == {"catalog.id_taken"}
    assert dump(store) == before


def test_profiles_describe_themselves() -> None:
    """The text lists the changed settings and every entry with its non-default fields."""
    text = PROFILES["reseller"].describe()
    assert "setting unique_customer_names = True" in text
    assert "CustomerType residential: Residential; features extension, number" in text
    assert "allow_links_across_customers" not in text  # (at its default)
    assert all(isinstance(p, Profile) for p in PROFILES.values())


def test_a_scenario_starts_from_its_profile() -> None:
    """``profile`` in ``[simulation]`` brings the profile's settings (the file's own win)
    and catalog; an unknown profile is named in the error."""
    scenario = parse_scenario(
        {"simulation": {"profile": "hosting"}, "settings": {"unique_customer_names": True}}
    )
    assert scenario.settings.unique_customer_names
    assert scenario.settings.allow_multi_customer_accounts  # the profile's
    assert cb.ContractType(id="annual", name="Annual") in scenario.catalog
    with pytest.raises(cb.InvalidDataError, match=r"expected a profile .* @ \$\.simulation"):
        parse_scenario({"simulation": {"profile": "zuora"}})
    with pytest.raises(cb.InvalidDataError, match=r"@ \$\.simulation\.profile"):
        parse_scenario({"simulation": {"profile": ["gtv"]}})


def test_the_hosting_example_bills_by_payment_mode() -> None:
    """Free is never invoiced; Invoice carries its note to its extra address; Credit Card
    is collected by auto-pay and ends with its contract."""
    scenario = load_scenario(EXAMPLES / "hosting.toml")
    result = simulate(scenario)
    billed = {line.billed_account for month in result.months for line in month.invoices}
    assert billed == {"H-INV", "H-CARD"}
    assert result.months[-1].statuses["H-CARD"] is cb.AccountStatus.DEACTIVATED
    billing, _ = build(scenario)
    plan = billing.plan_bill_run("monthly-1", date(2026, 2, 1), {"H-INV": Money(49, "EUR")})
    (invoice,) = plan.invoices
    assert invoice.invoice_note == "Please quote PO 2026-117 with every payment."
    assert invoice.recipients == ("ap@pixel.example", "books@pixel.example")
    assert [(s.account, s.reason) for s in plan.skipped if s.account == "H-FREE"] == [
        ("H-FREE", "free: never invoiced")
    ]


def test_the_telecom_example_links_a_subsidiary_and_dunns_a_consumer() -> None:
    result = simulate(load_scenario(EXAMPLES / "telecom.toml"))
    first = result.months[0].invoices
    assert [line.accounts for line in first if line.billed_account == "T-CORP"] == [
        ("T-CORP", "T-SUB")
    ]
    assert result.months[2].statuses["T-LATE"] is cb.AccountStatus.SUSPENDED
    assert result.months[-1].balances["T-AUTO"] == Money(0, "USD")


def test_the_reseller_example_keeps_residential_customers_in_their_set() -> None:
    scenario = load_scenario(EXAMPLES / "reseller.toml")
    result = simulate(scenario)
    refused = [r for month in result.months for r in month.refused]
    assert refused == ["2026-02-10 charge 75.00 GBP on R-HOME: account.credit_limit_exceeded"]
    billing, _ = build(scenario)
    with pytest.raises(cb.RuleViolationError) as caught:
        billing.edit_account("R-HOME", features=("extension", "ivr"))
    assert caught.value.codes == {"account.not_in_customer_type"}
    portal = billing.scoped("R-TOP")
    assert [c.name for c in portal.search_customers("bright")] == ["Bright Dental"]
    assert [c.owner for c in portal.search_customers("priya")] == ["R-TOP"]


def test_the_gtv_example_runs_both_hierarchies() -> None:
    result = simulate(load_scenario(EXAMPLES / "gtv.toml"))
    lines = [line for month in result.months for line in month.invoices]
    assert ("G-HQ", "G-EAST") in {line.accounts for line in lines}
    assert any(line.suppressed for line in lines if line.billed_account == "G-LAB")
