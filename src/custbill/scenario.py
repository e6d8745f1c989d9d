"""Scenario files: what :mod:`custbill.simulation` runs, read strictly from TOML or JSON
(every problem named with its path).  The format is described in the documentation
("Simulating scenarios"); the classes are documented with :mod:`custbill.simulation`."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

import attrs

from custbill.errors import InvalidDataError, RuleViolationError
from custbill.model import (
    AccountCategory,
    BillCycle,
    CustomFieldDefinition,
    DunningPlan,
    NewAccount,
    NewCustomer,
    PaymentTerm,
    Settings,
    Violation,
)
from custbill.model.references import (
    ContractType,
    CustomerType,
    Feature,
    InvoiceTemplate,
    RatePlan,
    Salesperson,
    WebTemplate,
)
from custbill.profiles import PROFILES, Profile
from custbill.serialization import from_dict, to_dict
from custbill.service import CustomerBilling

# The catalog sections of a scenario: the type of their entries, and the facade's call
# that adds one.
CATALOG_SECTIONS: dict[str, tuple[type, Callable[[CustomerBilling, Any], None]]] = {
    "bill_cycles": (BillCycle, CustomerBilling.add_bill_cycle),
    "payment_terms": (PaymentTerm, CustomerBilling.add_payment_term),
    "account_categories": (AccountCategory, CustomerBilling.add_account_category),
    "dunning_plans": (DunningPlan, CustomerBilling.add_dunning_plan),
    "custom_fields": (CustomFieldDefinition, CustomerBilling.add_custom_field),
    "contract_types": (ContractType, CustomerBilling.add_catalog_entry),
    "invoice_templates": (InvoiceTemplate, CustomerBilling.add_catalog_entry),
    "web_templates": (WebTemplate, CustomerBilling.add_catalog_entry),
    "salespeople": (Salesperson, CustomerBilling.add_catalog_entry),
    "rate_plans": (RatePlan, CustomerBilling.add_catalog_entry),
    "features": (Feature, CustomerBilling.add_catalog_entry),
    "customer_types": (CustomerType, CustomerBilling.add_catalog_entry),
}
_SECTIONS = {
    "simulation",
    "settings",
    "customers",
    "charges",
    "queued_charges",
    "payments",
    *CATALOG_SECTIONS,
}
_MONEY_FIELDS = ("minimum_invoice_amount", "credit_limit")
#: The most months a scenario simulates, a century of monthly runs, far past any plan a
#: person reads, and short enough to finish in minutes.
MAX_MONTHS = 1200


@attrs.frozen(kw_only=True)
class Charge:
    """A recurring charge: *amount* in the account's invoice currency at every bill run of
    the listed months (1-based months of the simulation; all when ``months`` is empty)."""

    account: str
    amount: Decimal
    months: tuple[int, ...] = ()


@attrs.frozen(kw_only=True)
class QueuedCharge:
    """A one-off charge queued on *account* on *on* (:meth:`custbill.CustomerBilling.add_charge`):
    the next run of its cycle bills it, and a credit limit may refuse it."""

    account: str
    amount: Decimal
    on: date
    description: str = "charge"


@attrs.frozen(kw_only=True)
class PaymentHabit:
    """How *account* pays the invoices billed to it in the listed months (all when
    ``months`` is empty): each ``days_late`` days after its due date, or — when
    ``missing`` — never, auto-pay included."""

    account: str
    days_late: int = 0
    missing: bool = False
    months: tuple[int, ...] = ()


@attrs.frozen(kw_only=True)
class Scenario:
    """A parsed scenario file."""

    start: date
    months: int
    pay_on_auto_pay: bool
    settings: Settings
    catalog: tuple[Any, ...]
    customers: tuple[tuple[NewCustomer, tuple[NewAccount, ...]], ...]
    charges: tuple[Charge, ...]
    queued_charges: tuple[QueuedCharge, ...] = ()
    payments: tuple[PaymentHabit, ...] = ()
    #: Where each catalog entry is in the file (``$.bill_cycles[0]``; ``$.simulation.profile``
    #: for a profile's entries), in the order of ``catalog``.
    catalog_paths: tuple[str, ...] = ()
    #: Where each customer is in the file (``$.customers[2]``), in the order of ``customers``.
    customer_paths: tuple[str, ...] = ()


def _plain(value: Any) -> Any:
    """TOML values as JSON would give them: dates become ISO strings."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _money_shorthand(data: dict[str, Any]) -> dict[str, Any]:
    """Accept ``"10.00 USD"`` for money fields, besides ``{amount, currency}``."""
    for field in _MONEY_FIELDS:
        value = data.get(field)
        if isinstance(value, str) and len(value.split()) == 2:
            amount, currency = value.split()
            data[field] = {"amount": amount, "currency": currency}
    return data


def _build(cls: type, data: Any, path: str, errors: list[str]) -> Any:
    try:
        return from_dict(cls, data)
    except InvalidDataError as exc:
        errors.extend(e.replace("@ $", f"@ {path}", 1) for e in exc.errors)
        return None


def _table_list(data: Mapping[str, Any], key: str, path: str, errors: list[str]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        errors.append(f"expected an array @ {path}.{key}")
        return []
    return value


def parse_scenario(data: Any) -> Scenario:
    """Build a :class:`Scenario` from parsed TOML or JSON.

    Raises:
        InvalidDataError: naming the path of every problem.
    """
    try:
        return _parse_scenario(data)
    except RecursionError:  # deeper than the interpreter's recursion limit
        raise InvalidDataError(["nested too deeply @ $"]) from None


class _Simulation(NamedTuple):
    """The ``[simulation]`` section, read."""

    start: date
    months: int
    pay_on_auto_pay: bool
    profile: Profile | None


def _simulation_section(sim: Any, errors: list[str]) -> _Simulation:
    """The ``[simulation]`` section's values (the defaults where it is wrong, each problem
    added to *errors*)."""
    start, months, pay = date(2026, 1, 1), 12, True
    if not isinstance(sim, Mapping):
        errors.append("expected a table @ $.simulation")
        sim = {}
    for key in sim:
        if key not in {"start", "months", "pay_on_auto_pay", "profile"}:
            errors.append(f"unknown field {key!r} @ $.simulation")
    name = sim.get("profile")
    profile = PROFILES.get(name) if isinstance(name, str) else None
    if "profile" in sim and profile is None:
        names = ", ".join(sorted(PROFILES))
        errors.append(f"expected a profile ({names}) @ $.simulation.profile")
    try:
        start = date.fromisoformat(sim.get("start", start.isoformat()))
    except (TypeError, ValueError):
        errors.append("expected a date (YYYY-MM-DD) @ $.simulation.start")
    months = sim.get("months", months)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        errors.append(f"expected a number of months from 1 to {MAX_MONTHS} @ $.simulation.months")
        months = 1
    pay = sim.get("pay_on_auto_pay", pay)
    if not isinstance(pay, bool):
        errors.append("expected true or false @ $.simulation.pay_on_auto_pay")
        pay = True
    return _Simulation(start, months, pay, profile)


def _parse_scenario(data: Any) -> Scenario:
    if not isinstance(data, Mapping):
        raise InvalidDataError(["expected a table/object @ $"])
    data = _plain(data)
    errors = [f"unknown section {k!r} @ $" for k in data if k not in _SECTIONS]
    start, months, pay, profile = _simulation_section(data.get("simulation", {}), errors)
    own_settings = data.get("settings", {})
    if profile is not None and isinstance(own_settings, Mapping):  # the file's win
        own_settings = {**to_dict(profile.settings), **own_settings}
    settings = _build(Settings, own_settings, "$.settings", errors)
    catalog: list[Any] = []
    catalog_paths: list[str] = []
    if profile is not None:
        catalog += [*profile.catalog, *profile.custom_fields]
        catalog_paths += ["$.simulation.profile"] * len(catalog)
    for key, (cls, _) in CATALOG_SECTIONS.items():
        for i, entry in enumerate(_table_list(data, key, "$", errors)):
            catalog.append(_build(cls, entry, f"$.{key}[{i}]", errors))
            catalog_paths.append(f"$.{key}[{i}]")
    customers, customer_paths = _customers_section(data, errors)
    charges = []
    for i, raw in enumerate(_table_list(data, "charges", "$", errors)):
        charge = _charge(raw, f"$.charges[{i}]", errors)
        if charge is not None:
            charges.append(charge)
    queued = []
    for i, raw in enumerate(_table_list(data, "queued_charges", "$", errors)):
        one = _queued_charge(raw, f"$.queued_charges[{i}]", errors)
        if one is not None:
            queued.append(one)
    payments = []
    for i, raw in enumerate(_table_list(data, "payments", "$", errors)):
        habit = _payment_habit(raw, f"$.payments[{i}]", errors)
        if habit is not None:
            payments.append(habit)
    kept = [(p, e) for p, e in zip(catalog_paths, catalog, strict=True) if e is not None]
    scenario = Scenario(
        start=start,
        months=months,
        pay_on_auto_pay=pay,
        settings=settings if settings is not None else Settings(),
        catalog=tuple(e for _, e in kept),
        catalog_paths=tuple(p for p, _ in kept),
        customers=tuple(customers),
        customer_paths=tuple(customer_paths),
        charges=tuple(charges),
        queued_charges=tuple(queued),
        payments=tuple(payments),
    )
    if errors:
        # what is well formed is held to the rules too, so that one run reports all
        if settings is not None:
            _, _, problems = assemble(scenario, references=False)
            errors += [f"{v.message} ({v.code}) @ {v.path}" for v in problems]
        raise InvalidDataError(errors)
    return scenario


def _customers_section(
    data: Mapping[str, Any], errors: list[str]
) -> tuple[list[tuple[NewCustomer, tuple[NewAccount, ...]]], list[str]]:
    """The well-formed customers with their accounts, and where each is in the file (a
    customer with a malformed field or account is left out, its problems added to
    *errors*)."""
    customers: list[tuple[NewCustomer, tuple[NewAccount, ...]]] = []
    paths: list[str] = []
    for i, raw in enumerate(_table_list(data, "customers", "$", errors)):
        path = f"$.customers[{i}]"
        if not isinstance(raw, Mapping):
            errors.append(f"expected a table @ {path}")
            continue
        fields = {k: v for k, v in raw.items() if k != "accounts"}
        customer = _build(NewCustomer, fields, path, errors)
        accounts = tuple(
            _build(
                NewAccount,
                _money_shorthand(dict(a)) if isinstance(a, Mapping) else a,
                f"{path}.accounts[{j}]",
                errors,
            )
            for j, a in enumerate(_table_list(raw, "accounts", path, errors))
        )
        if not accounts:
            errors.append(f"a customer needs at least one account @ {path}.accounts")
        elif customer is not None and None not in accounts:
            customers.append((customer, accounts))
            paths.append(path)
    return customers, paths


def _fields(
    raw: Any, path: str, errors: list[str], required: set[str], optional: set[str], what: str
) -> Mapping[str, Any] | None:
    """*raw* as a table with the *required* fields, or None (and an error naming what is
    missing); a field neither required nor *optional* is an error too."""
    if not isinstance(raw, Mapping) or not required <= set(raw):
        errors.append(f"{what} needs {' and '.join(sorted(required))} @ {path}")
        return None
    unknown = set(raw) - required - optional
    if unknown:
        errors.append(f"unknown field(s) {sorted(unknown)} @ {path}")
    if not isinstance(raw["account"], str):
        errors.append(f"expected an account number @ {path}.account")
        return None
    return raw


def _decimal(value: Any, path: str, errors: list[str]) -> Decimal | None:
    try:
        amount = Decimal(str(value))
        if not amount.is_finite() or isinstance(value, bool | float):
            raise InvalidOperation
    except InvalidOperation:
        errors.append(f"expected a decimal amount as a string or integer @ {path}")
        return None
    return amount


def _months(value: Any, path: str, errors: list[str]) -> tuple[int, ...] | None:
    if not isinstance(value, list) or not all(
        isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in value
    ):
        errors.append(f"expected a list of month numbers from 1 @ {path}")
        return None
    return tuple(value)


def _charge(raw: Any, path: str, errors: list[str]) -> Charge | None:
    fields = _fields(raw, path, errors, {"account", "amount"}, {"months"}, "a charge")
    if fields is None:
        return None
    amount = _decimal(fields["amount"], f"{path}.amount", errors)
    months = _months(fields.get("months", []), f"{path}.months", errors)
    if amount is None or months is None:
        return None
    return Charge(account=fields["account"], amount=amount, months=months)


def _queued_charge(raw: Any, path: str, errors: list[str]) -> QueuedCharge | None:
    required = {"account", "amount", "on"}
    fields = _fields(raw, path, errors, required, {"description"}, "a queued charge")
    if fields is None:
        return None
    amount = _decimal(fields["amount"], f"{path}.amount", errors)
    try:
        on = date.fromisoformat(fields["on"])
    except (TypeError, ValueError):
        errors.append(f"expected a date (YYYY-MM-DD) @ {path}.on")
        return None
    description = fields.get("description", "charge")
    if not isinstance(description, str):
        errors.append(f"expected text @ {path}.description")
        return None
    if amount is None:
        return None
    return QueuedCharge(account=fields["account"], amount=amount, on=on, description=description)


def _payment_habit(raw: Any, path: str, errors: list[str]) -> PaymentHabit | None:
    optional = {"days_late", "missing", "months"}
    fields = _fields(raw, path, errors, {"account"}, optional, "a payment habit")
    if fields is None:
        return None
    days_late, missing = fields.get("days_late", 0), fields.get("missing", False)
    if isinstance(days_late, bool) or not isinstance(days_late, int) or not days_late >= 0:
        errors.append(f"expected a number of days from 0 @ {path}.days_late")
        return None
    if not isinstance(missing, bool):
        errors.append(f"expected true or false @ {path}.missing")
        return None
    months = _months(fields.get("months", []), f"{path}.months", errors)
    if months is None:
        return None
    return PaymentHabit(
        account=fields["account"], days_late=days_late, missing=missing, months=months
    )


def assemble(
    scenario: Scenario, *, references: bool = True
) -> tuple[CustomerBilling, tuple[str, ...], list[Violation]]:
    """A fresh in-memory facade holding what of the scenario the rules accept, the numbers
    of the accounts it created (in order), and every rule problem, each at its path from
    the file's root: catalog entries, customers and their accounts, and (with
    *references*) the charges and payment habits naming an account the scenario does not
    create (``scenario.account_unknown``)."""
    billing = CustomerBilling(settings=scenario.settings)
    problems: list[Violation] = []
    adders = dict(CATALOG_SECTIONS.values())
    paths = scenario.catalog_paths or ("$",) * len(scenario.catalog)
    for path, entry in zip(paths, scenario.catalog, strict=True):
        try:
            adders[type(entry)](billing, entry)
        except RuleViolationError as error:
            problems += _at(path, error.violations)
    numbers: list[str] = []
    roots = scenario.customer_paths or tuple(
        f"$.customers[{i}]" for i in range(len(scenario.customers))
    )
    for path, (customer, (first, *others)) in zip(roots, scenario.customers, strict=True):
        try:
            created, account = billing.create_customer(customer, first)
        except RuleViolationError as error:  # paths "customer.x" and "account.x"
            records = {"customer": path, "account": f"{path}.accounts[0]"}
            problems += _at(path, error.violations, records)
            continue
        numbers.append(account.number)
        for j, other in enumerate(others, start=1):
            try:
                numbers.append(billing.add_account(created.number, other).number)
            except RuleViolationError as error:
                problems += _at(f"{path}.accounts[{j}]", error.violations)
    if references:
        problems += _unknown_accounts(scenario, set(numbers))
    return billing, tuple(numbers), problems


def _at(
    root: str, violations: Iterable[Violation], records: Mapping[str, str] | None = None
) -> list[Violation]:
    """*violations* of the record at *root* in the file, their paths made the file's:
    ``bill_cycle`` becomes ``$.customers[0].accounts[1].bill_cycle``.  For a call that
    checks several records at once, *records* maps the prefix naming each (``account`` in
    ``account.bill_cycle``) to where that record is in the file."""
    placed = []
    for v in violations:
        head, _, rest = v.path.partition(".")
        if records is not None and head in records:
            base, path = records[head], rest
        else:
            base, path = root, v.path
        placed.append(attrs.evolve(v, path=f"{base}.{path}" if path else base))
    return placed


def _unknown_accounts(scenario: Scenario, numbers: set[str]) -> list[Violation]:
    """``scenario.account_unknown`` for each charge, queued charge and payment habit whose
    account the scenario does not create."""
    named = [
        *((f"$.charges[{i}]", c.account) for i, c in enumerate(scenario.charges)),
        *((f"$.queued_charges[{i}]", q.account) for i, q in enumerate(scenario.queued_charges)),
        *((f"$.payments[{i}]", p.account) for i, p in enumerate(scenario.payments)),
    ]
    return [
        Violation(
            code="scenario.account_unknown",
            path=f"{path}.account",
            message=f"no account {account!r} in the scenario",
            params={"account": account},
        )
        for path, account in named
        if account not in numbers
    ]


#: The file types a scenario is read from, by extension.
FILE_TYPES = {".toml": "TOML", ".json": "JSON"}


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a ``.toml`` or ``.json`` file (the extension says which).

    Every problem of the file's content is reported at once, each with its path from the
    file's root (``$.customers[0].accounts[1].bill_cycle``); a TOML or JSON syntax error
    says its line and column.

    Raises:
        InvalidDataError: for a file that is missing or unreadable, of another type, not
            valid TOML/JSON, or with any bad field.
    """
    path = Path(path)
    kind = FILE_TYPES.get(path.suffix.lower())
    if kind is None:
        known = " or ".join(FILE_TYPES)
        given = repr(path.suffix) if path.suffix else "a file without an extension"
        raise InvalidDataError([f"{path}: a scenario is a {known} file, not {given} @ $"])
    try:
        text = path.read_bytes().decode()
    except FileNotFoundError:
        raise InvalidDataError([f"{path}: no such file @ $"]) from None
    except OSError as exc:
        raise InvalidDataError([f"{path}: cannot read it ({exc.strerror}) @ $"]) from None
    except UnicodeDecodeError as exc:
        raise InvalidDataError([f"{path}: not UTF-8 text (byte {exc.start}) @ $"]) from None
    try:
        data = tomllib.loads(text) if kind == "TOML" else json.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
        raise InvalidDataError([f"{path}: invalid TOML: {exc} @ $"]) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise InvalidDataError([f"{path}: invalid JSON at {where}: {exc.msg} @ $"]) from None
    except RecursionError:  # deeper than the interpreter's recursion limit
        raise InvalidDataError([f"{path}: nested too deeply @ $"]) from None
    return parse_scenario(data)
