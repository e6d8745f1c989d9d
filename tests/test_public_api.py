"""The public surface of ``custbill`` is the SPEC's."""

from __future__ import annotations

import importlib.metadata

import custbill as cb

SPEC_EXPORTS = {
    "CustomerBilling",
    "Settings",
    "Customer",
    "BillingAccount",
    "NewCustomer",
    "NewAccount",
    "Address",
    "Phone",
    "PhoneType",
    "Contact",
    "PaymentMethod",
    "PaymentMethodKind",
    "CustomerKind",
    "AccountStatus",
    "InvoiceType",
    "InvoiceRendering",
    "Channel",
    "BillCycle",
    "BillingPeriod",
    "PaymentTerm",
    "AccountCategory",
    "DunningPlan",
    "DunningStep",
    "CustomFieldDefinition",
    "CustomFieldTarget",
    "CustomFieldType",
    "Violation",
    "Change",
    "Money",
    "CustbillError",
    "RuleViolationError",
    "NotFoundError",
    "ConflictError",
    "CurrencyMismatchError",
    "InvalidDataError",
    "BillRunPlan",
    "PlannedInvoice",
    "SkippedAccount",
}


def test_exports() -> None:
    """Every SPEC name is importable from custbill and listed in __all__."""
    assert set(cb.__all__) >= SPEC_EXPORTS
    for name in cb.__all__:
        assert getattr(cb, name) is not None


def test_error_hierarchy() -> None:
    """Errors derive from CustbillError and the documented builtins."""
    assert issubclass(cb.RuleViolationError, cb.CustbillError)
    assert issubclass(cb.RuleViolationError, ValueError)
    assert issubclass(cb.InvalidDataError, ValueError)
    assert issubclass(cb.NotFoundError, LookupError)
    for error in (cb.ConflictError, cb.CurrencyMismatchError, cb.NotFoundError):
        assert issubclass(error, cb.CustbillError)


def test_version_comes_from_metadata() -> None:
    """__version__ is the installed distribution's version."""
    assert cb.__version__ == importlib.metadata.version("custbill")


def test_money_is_py_moneyed() -> None:
    """custbill.Money is py-moneyed's Money."""
    import moneyed

    assert cb.Money is moneyed.Money


def test_the_package_says_what_it_is() -> None:
    """SPDX license with its file in the distribution, authors, classifiers, one tests
    extra."""
    meta = importlib.metadata.metadata("custbill")
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Author"] == "The custbill authors"
    assert "Development Status :: 3 - Alpha" in meta.get_all("Classifier")
    extras = set(meta.get_all("Provides-Extra"))
    assert {"postgres", "tests"} <= extras and "testing" not in extras
    files = importlib.metadata.files("custbill") or []
    assert any(f.name == "LICENSE" for f in files)  # (in licenses/ of a wheel)
