"""Run months of bill runs over a scenario described in a TOML or JSON file.

A scenario holds settings, a catalog, customers with their accounts, and recurring charges.
:func:`load_scenario` reads it strictly (every problem named with its path),
:func:`simulate` builds it in a fresh in-memory :class:`~custbill.CustomerBilling` and runs
every bill date of every cycle month by month: it plans each run, issues it, and — unless
``pay_on_auto_pay`` is false — records the auto-pay payment of each issued invoice on its
auto-pay date.  The file format is described in the documentation ("Simulating scenarios").
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta
from moneyed import Money

from custbill.billing.calendar import bill_dates
from custbill.errors import InvalidDataError
from custbill.model import (
    AccountCategory,
    AccountStatus,
    BillCycle,
    CustomFieldDefinition,
    DunningPlan,
    NewAccount,
    NewCustomer,
    PaymentTerm,
    Settings,
)
from custbill.serialization import from_dict
from custbill.service import CustomerBilling

_CATALOG: dict[str, tuple[type, Callable[[CustomerBilling, Any], None]]] = {
    "bill_cycles": (BillCycle, CustomerBilling.add_bill_cycle),
    "payment_terms": (PaymentTerm, CustomerBilling.add_payment_term),
    "account_categories": (AccountCategory, CustomerBilling.add_account_category),
    "dunning_plans": (DunningPlan, CustomerBilling.add_dunning_plan),
    "custom_fields": (CustomFieldDefinition, CustomerBilling.add_custom_field),
}
_SECTIONS = {"simulation", "settings", "customers", "charges", *_CATALOG}
_MONEY_FIELDS = ("minimum_invoice_amount", "credit_limit")


@attrs.frozen(kw_only=True)
class Charge:
    """A recurring charge: *amount* in the account's invoice currency at every bill run of
    the listed months (1-based months of the simulation; all when ``months`` is empty)."""

    account: str
    amount: Decimal
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


@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One planned invoice of a simulated month, issued or suppressed."""

    month: str
    run_date: date
    bill_cycle: str
    invoice: str | None
    billed_account: str
    accounts: tuple[str, ...]
    total: Money
    due_date: date
    auto_pay_date: date | None
    suppressed: bool


@attrs.frozen(kw_only=True)
class MonthReport:
    """A simulated month: its invoices and every account's balance and pending charges at
    its end."""

    month: str
    invoices: tuple[InvoiceLine, ...]
    balances: Mapping[str, Money]
    pending: Mapping[str, Money]


@attrs.frozen(kw_only=True)
class SimulationResult:
    """Every simulated month, in order."""

    months: tuple[MonthReport, ...]

    def to_records(self) -> list[dict[str, object]]:
        """One plain dict per invoice line, ready for ``pandas.DataFrame``."""
        return [
            {
                "month": line.month,
                "run_date": line.run_date,
                "bill_cycle": line.bill_cycle,
                "invoice": line.invoice,
                "billed_account": line.billed_account,
                "accounts": " ".join(line.accounts),
                "total": line.total.amount,
                "currency": line.total.currency.code,
                "due_date": line.due_date,
                "auto_pay_date": line.auto_pay_date,
                "suppressed": line.suppressed,
            }
            for month in self.months
            for line in month.invoices
        ]

    def _repr_html_(self) -> str:
        from custbill.model.html import table

        records = self.to_records()
        header = list(records[0]) if records else ["month"]
        return table("Simulation", header, [list(r.values()) for r in records])


# -- reading ----------------------------------------------------------------------------


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


def _parse_scenario(data: Any) -> Scenario:
    if not isinstance(data, Mapping):
        raise InvalidDataError(["expected a table/object @ $"])
    data = _plain(data)
    errors = [f"unknown section {k!r} @ $" for k in data if k not in _SECTIONS]
    sim = data.get("simulation", {})
    start, months, pay = date(2026, 1, 1), 12, True
    if not isinstance(sim, Mapping):
        errors.append("expected a table @ $.simulation")
        sim = {}
    for key in sim:
        if key not in {"start", "months", "pay_on_auto_pay"}:
            errors.append(f"unknown field {key!r} @ $.simulation")
    try:
        start = date.fromisoformat(sim.get("start", start.isoformat()))
    except (TypeError, ValueError):
        errors.append("expected a date (YYYY-MM-DD) @ $.simulation.start")
    months = sim.get("months", months)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 1200:
        errors.append("expected a number of months from 1 to 1200 @ $.simulation.months")
        months = 1
    pay = sim.get("pay_on_auto_pay", pay)
    if not isinstance(pay, bool):
        errors.append("expected true or false @ $.simulation.pay_on_auto_pay")
        pay = True
    settings = _build(Settings, data.get("settings", {}), "$.settings", errors)
    catalog = []
    for key, (cls, _) in _CATALOG.items():
        for i, entry in enumerate(_table_list(data, key, "$", errors)):
            catalog.append(_build(cls, entry, f"$.{key}[{i}]", errors))
    customers = []
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
        customers.append((customer, accounts))
    charges = []
    for i, raw in enumerate(_table_list(data, "charges", "$", errors)):
        charge = _charge(raw, f"$.charges[{i}]", errors)
        if charge is not None:
            charges.append(charge)
    if errors:
        raise InvalidDataError(errors)
    return Scenario(
        start=start,
        months=months,
        pay_on_auto_pay=pay,
        settings=settings,
        catalog=tuple(catalog),
        customers=tuple(customers),
        charges=tuple(charges),
    )


def _charge(raw: Any, path: str, errors: list[str]) -> Charge | None:
    if not isinstance(raw, Mapping) or not {"account", "amount"} <= set(raw):
        errors.append(f"a charge needs account and amount @ {path}")
        return None
    unknown = set(raw) - {"account", "amount", "months"}
    if unknown:
        errors.append(f"unknown field(s) {sorted(unknown)} @ {path}")
    try:
        amount = Decimal(str(raw["amount"]))
        if not amount.is_finite() or isinstance(raw["amount"], bool | float):
            raise InvalidOperation
    except InvalidOperation:
        errors.append(f"expected a decimal amount as a string or integer @ {path}.amount")
        return None
    months = raw.get("months", [])
    if not isinstance(months, list) or not all(
        isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in months
    ):
        errors.append(f"expected a list of month numbers from 1 @ {path}.months")
        return None
    if not isinstance(raw["account"], str):
        errors.append(f"expected an account number @ {path}.account")
        return None
    return Charge(account=raw["account"], amount=amount, months=tuple(months))


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a ``.toml`` or ``.json`` file.

    Raises:
        InvalidDataError: for unreadable files, malformed TOML/JSON, or any bad field.
    """
    path = Path(path)
    try:
        text = path.read_bytes()
        data = tomllib.loads(text.decode()) if path.suffix == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise InvalidDataError([f"cannot read {path}: {exc} @ $"]) from None
    except RecursionError:  # deeper than the interpreter's recursion limit
        raise InvalidDataError([f"cannot read {path}: nested too deeply @ $"]) from None
    return parse_scenario(data)


# -- running ------------------------------------------------------------------------------


def build(scenario: Scenario) -> tuple[CustomerBilling, tuple[str, ...]]:
    """A fresh in-memory facade holding the scenario's settings, catalog and customers, and
    the numbers of the accounts it created, in order.

    Raises:
        RuleViolationError: when the scenario breaks a rule (with every violation).
    """
    billing = CustomerBilling(settings=scenario.settings)
    adders = dict(_CATALOG.values())
    for entry in scenario.catalog:
        adders[type(entry)](billing, entry)
    numbers = []
    for customer, (first, *others) in scenario.customers:
        created, account = billing.create_customer(customer, first)
        numbers.append(account.number)
        numbers.extend(billing.add_account(created.number, a).number for a in others)
    return billing, tuple(numbers)


def simulate(
    scenario: Scenario,
    *,
    months: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Run the scenario month by month.

    Args:
        scenario: what to simulate.
        months: overrides the scenario's number of months.
        progress: called with (months done, months in all) after each month.

    Raises:
        RuleViolationError: when the scenario breaks a rule.
        NotFoundError: a charge names an account that does not exist.
    """
    billing, numbers = build(scenario)
    total = months or scenario.months
    cycles = [e for e in scenario.catalog if isinstance(e, BillCycle)]
    accounts = {c.account for c in scenario.charges}
    for number in sorted(accounts):
        billing.get_account(number)  # NotFoundError for a charge on an unknown account
    reports = []
    for m in range(total):
        first = scenario.start + relativedelta(months=m)
        last = first + relativedelta(months=1, days=-1)
        runs = sorted((d, c.id) for c in cycles for d in bill_dates(c, first, last))
        lines: list[InvoiceLine] = []
        for run_date, cycle in runs:
            lines.extend(_run(billing, scenario, cycle, run_date, m + 1, first))
        summaries = [billing.account_summary(n) for n in numbers]
        reports.append(
            MonthReport(
                month=first.strftime("%Y-%m"),
                invoices=tuple(lines),
                balances={s.account.number: s.balance for s in summaries},
                pending={s.account.number: s.pending_charges for s in summaries},
            )
        )
        if progress is not None:
            progress(m + 1, total)
    return SimulationResult(months=tuple(reports))


def _run(
    billing: CustomerBilling,
    scenario: Scenario,
    cycle: str,
    run_date: date,
    month: int,
    first: date,
) -> list[InvoiceLine]:
    charges: dict[str, Money] = {}
    for charge in scenario.charges:
        if charge.months and month not in charge.months:
            continue
        account = billing.get_account(charge.account)
        if (
            account.bill_cycle != cycle
            or account.status is AccountStatus.DEACTIVATED
            or account.start_date > run_date
        ):
            continue
        amount = Money(charge.amount, account.invoice_currency)
        previous = charges.get(account.number)
        charges[account.number] = amount if previous is None else previous + amount
    plan = billing.plan_bill_run(cycle, run_date, charges)
    issued = iter(billing.issue_bill_run(plan))
    lines = []
    for planned in plan.invoices:
        invoice = None if planned.suppressed else next(issued)
        if (
            invoice is not None
            and scenario.pay_on_auto_pay
            and invoice.auto_pay_date
            and invoice.total.amount > 0
        ):
            billing.record_payment(
                invoice.billed_account,
                invoice.total,
                invoice.auto_pay_date,
                reference=invoice.number,
            )
        lines.append(
            InvoiceLine(
                month=first.strftime("%Y-%m"),
                run_date=run_date,
                bill_cycle=cycle,
                invoice=invoice.number if invoice else None,
                billed_account=planned.billed_account,
                accounts=planned.accounts,
                total=planned.total,
                due_date=planned.due_date,
                auto_pay_date=planned.auto_pay_date,
                suppressed=planned.suppressed,
            )
        )
    return lines


# -- output -------------------------------------------------------------------------------


def _money(amount: Money) -> str:
    """``"1250.00 USD"``: the amount with at least its currency's decimal places."""
    from babel.numbers import get_currency_precision

    places = Decimal(1).scaleb(-get_currency_precision(amount.currency.code))
    value = amount.amount
    if value.as_tuple().exponent > places.as_tuple().exponent:  # type: ignore[operator]
        value = value.quantize(places)
    return f"{value} {amount.currency.code}"


def render(result: SimulationResult, fmt: str) -> str:
    """The result as ``table`` (text), ``json`` or ``csv``."""
    if fmt == "json":
        return json.dumps(
            [
                {
                    "month": month.month,
                    "invoices": [
                        {
                            **record,
                            "total": str(record["total"]),
                            "run_date": str(record["run_date"]),
                            "due_date": str(record["due_date"]),
                            "auto_pay_date": (
                                str(record["auto_pay_date"]) if record["auto_pay_date"] else None
                            ),
                        }
                        for record in SimulationResult(months=(month,)).to_records()
                    ],
                    "balances": {n: _money(b) for n, b in month.balances.items()},
                    "pending": {n: _money(p) for n, p in month.pending.items() if p.amount},
                }
                for month in result.months
            ],
            indent=2,
        )
    if fmt == "csv":
        out = io.StringIO()
        records = result.to_records()
        fields = list(records[0]) if records else ["month"]
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return out.getvalue()
    return _table(result)


def _table(result: SimulationResult) -> str:
    out: list[str] = []
    for month in result.months:
        out.append(f"== {month.month} ==")
        if not month.invoices:
            out.append("  no invoices")
        for line in month.invoices:
            status = "suppressed, carried forward" if line.suppressed else line.invoice
            auto = f" auto-pay {line.auto_pay_date}" if line.auto_pay_date else ""
            out.append(
                f"  {line.run_date} {line.billed_account:<10} {_money(line.total):>14} "
                f"due {line.due_date}{auto}  [{status}]  {' '.join(line.accounts)}"
            )
        out.append(
            "  balances: "
            + ", ".join(
                f"{n} {_money(b)}"
                + (f" (pending {_money(month.pending[n])})" if month.pending[n].amount else "")
                for n, b in month.balances.items()
            )
        )
    return "\n".join(out)


def progress_bar(stream: Any, width: int = 30) -> Callable[[int, int], None]:
    """A progress callback drawing ``[#####.....] 5/12 months`` on *stream*."""

    def show(done: int, total: int) -> None:
        filled = width * done // total
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} months")
        if done == total:
            stream.write("\n")
        stream.flush()

    return show


__all__ = [
    "Charge",
    "InvoiceLine",
    "MonthReport",
    "Scenario",
    "SimulationResult",
    "build",
    "load_scenario",
    "parse_scenario",
    "progress_bar",
    "render",
    "simulate",
]
