"""The scenario simulator: reading files strictly, running months, rendering formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from moneyed import Money

import custbill as cb
from custbill.cli import main
from custbill.simulation import load_scenario, parse_scenario, render, simulate

EXAMPLES = Path(__file__).parent.parent / "examples"


def _minimal(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "simulation": {"start": "2026-01-01", "months": 3},
        "bill_cycles": [
            {
                "id": "m1",
                "name": "M",
                "period": "MONTHLY",
                "bill_day": 1,
                "start_date": "2026-01-01",
            }
        ],
        "payment_terms": [{"id": "n30", "name": "Net 30", "net_days": 30}],
        "account_categories": [{"id": "c", "name": "C"}],
        "customers": [
            {
                "kind": "COMPANY",
                "company_name": "Acme",
                "primary_email": "a@acme.example",
                "accounts": [
                    {
                        "number": "A",
                        "currency": "USD",
                        "bill_cycle": "m1",
                        "start_date": "2026-01-01",
                        "category": "c",
                        "payment_term": "n30",
                        "invoice_type": "NONE",
                        "minimum_invoice_amount": "25 USD",
                    }
                ],
            }
        ],
        "charges": [{"account": "A", "amount": "10.00"}],
    }
    data.update(extra)
    return data


def test_examples_load_and_run() -> None:
    """Both shipped examples parse and simulate."""
    for name in ("widgets.toml", "managed.json", "collections.toml"):
        result = simulate(load_scenario(EXAMPLES / name))
        assert result.months
        assert any(month.invoices for month in result.months)


def test_suppressed_amounts_carry_forward_until_the_minimum() -> None:
    """10/month against a 25 minimum: suppressed, suppressed, then 30 invoiced."""
    result = simulate(parse_scenario(_minimal()))
    lines = [line for month in result.months for line in month.invoices]
    assert [(line.total, line.suppressed, line.invoice) for line in lines] == [
        (Money("10.00", "USD"), True, None),
        (Money("20.00", "USD"), True, None),
        (Money("30.00", "USD"), False, "I-000001"),
    ]
    assert result.months[1].pending["A"] == Money("20.00", "USD")
    assert result.months[2].balances["A"] == Money("30.00", "USD")


def test_auto_pay_settles_invoices() -> None:
    """With auto-pay and pay_on_auto_pay, balances return to zero after each invoice."""
    data = _minimal()
    account = data["customers"][0]["accounts"][0]  # type: ignore[index]
    account.update(
        auto_pay=True,
        minimum_invoice_amount=None,
        payment_methods=[{"kind": "CARD", "token": "tok"}],
    )
    result = simulate(parse_scenario(data))
    assert all(m.balances["A"].amount == 0 for m in result.months)
    unpaid = simulate(
        parse_scenario(
            {**data, "simulation": {"start": "2026-01-01", "months": 3, "pay_on_auto_pay": False}}
        )
    )
    assert unpaid.months[-1].balances["A"] == Money(30, "USD")


def test_months_filter_and_override() -> None:
    """A charge's months limit when it applies; the months argument overrides the file."""
    scenario = parse_scenario(_minimal(charges=[{"account": "A", "amount": 40, "months": [2]}]))
    result = simulate(scenario, months=2)
    assert [len(m.invoices) for m in result.months] == [0, 1]


def test_bad_scenarios_name_every_problem() -> None:
    """Unknown sections and fields, bad values and bad charges are listed with paths."""
    data = _minimal(extra={}, charges=[{"account": "A", "amount": 1.5}, {"amount": "1"}])
    data["customers"][0]["accounts"][0]["currency"] = 5  # type: ignore[index]
    data["simulation"] = {"start": "soon", "months": 0, "speed": 2}
    with pytest.raises(cb.InvalidDataError) as info:
        parse_scenario(data)
    text = "\n".join(info.value.errors)
    for fragment in (
        "unknown section 'extra' @ $",
        "@ $.simulation.start",
        "@ $.simulation.months",
        "unknown field 'speed' @ $.simulation",
        "@ $.customers[0].accounts[0].currency",
        "@ $.charges[0].amount",
        "@ $.charges[1]",
    ):
        assert fragment in text


def test_rule_violations_surface() -> None:
    """A scenario that breaks a rule raises the facade's RuleViolationError."""
    data = _minimal()
    data["customers"][0]["accounts"][0]["bill_cycle"] = "nope"  # type: ignore[index]
    with pytest.raises(cb.RuleViolationError):
        simulate(parse_scenario(data))


def test_formats(tmp_path: Path) -> None:
    """json and csv carry the same invoice lines as the records."""
    result = simulate(parse_scenario(_minimal()))
    records = result.to_records()
    parsed = json.loads(render(result, "json"))
    assert [len(m["invoices"]) for m in parsed] == [1, 1, 1]
    assert parsed[2]["invoices"][0]["total"] == "30.00"
    assert parsed[1]["pending"] == {"A": "20.00 USD"}
    rows = list(csv.DictReader(io.StringIO(render(result, "csv"))))
    assert [r["total"] for r in rows] == [str(r["total"]) for r in records]
    assert rows[0]["run_date"] == "2026-01-01"
    assert "suppressed, carried forward" in render(result, "table")
    assert "<table>" in result._repr_html_()


def test_cli_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command prints the chosen format and a progress bar when asked."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_minimal()))
    assert main(["simulate", str(path), "--format", "csv", "--progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("month,run_date")
    assert "/3 [" in captured.err and "month" in captured.err  # tqdm's bar of 3 months
    assert main(["simulate", str(path), "--no-progress", "--months", "1"]) == 0
    captured = capsys.readouterr()
    assert "== 2026-01 ==" in captured.out
    assert captured.err == ""


def test_cli_simulate_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unreadable or invalid files exit 1 with the problem on stderr."""
    bad = tmp_path / "bad.toml"
    bad.write_text("simulation = [")
    assert main(["simulate", str(bad)]) == 1
    assert "bad.toml: invalid TOML" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path / "missing.json")]) == 1
    assert "missing.json: no such file" in capsys.readouterr().err
    unknown = tmp_path / "u.json"
    unknown.write_text(json.dumps(_minimal(charges=[{"account": "Z", "amount": "1"}])))
    assert main(["simulate", str(unknown)]) == 1
    assert "no account 'Z'" in capsys.readouterr().err


def test_dates_in_toml_are_native(tmp_path: Path) -> None:
    """TOML dates need no quotes."""
    path = tmp_path / "s.toml"
    path.write_text("[simulation]\nstart = 2026-02-01\nmonths = 1\n")
    scenario = load_scenario(path)
    assert scenario.start == date(2026, 2, 1)
    assert simulate(scenario).months[0].month == "2026-02"


def test_a_year_of_collections() -> None:
    """The shipped collections example: a customer who stops paying is dunned step by
    step to deactivation, a late payer is suspended and reinstated by each payment, a
    seasonal account is billed for its final period and terminated, and a credit limit
    refuses the second queued charge."""
    result = simulate(load_scenario(EXAMPLES / "collections.toml"))
    by_month = {m.month: m for m in result.months}
    steps = [(m.month, d.text) for m in result.months for d in m.dunning if d.account == "GD-1"]
    assert steps == [
        ("2026-05", "Reminder email"),
        ("2026-05", "Suspend"),
        ("2026-06", "Pending collection"),
        ("2026-07", "Deactivate"),
    ]
    assert by_month["2026-07"].statuses["GD-1"] is cb.AccountStatus.DEACTIVATED
    assert not [i for m in result.months[7:] for i in m.invoices if i.billed_account == "GD-1"]
    # a late payer: suspended at the end of a month, back to ACTIVE when the payment comes
    assert by_month["2026-04"].statuses["LL-1"] is cb.AccountStatus.SUSPENDED
    suspensions = sum(1 for m in result.months for d in m.dunning if d.account == "LL-1")
    assert suspensions >= 10
    # the seasonal account: its last day 2026-08-15, its final run 2026-09-01
    seasonal = [i.run_date for m in result.months for i in m.invoices if i.billed_account == "SS-1"]
    assert seasonal[-1] == date(2026, 9, 1)
    assert by_month["2026-09"].terminated == ("SS-1",)
    (refusal,) = by_month["2026-02"].refused
    assert "SC-1" in refusal and "account.credit_limit_exceeded" in refusal
    assert by_month["2026-03"].invoices[-1].total == Money("120.00", "USD")  # 20 + handsets
    rendered = json.loads(render(result, "json"))
    assert rendered[8]["terminated"] == ["SS-1"]
    assert "terminated SS-1" in render(result, "table")


def test_payment_habits_and_queued_charges_are_read_strictly() -> None:
    data = _minimal(
        queued_charges=[
            {"account": "A", "amount": "5"},
            {"account": "A", "amount": "5", "on": "x"},
        ],
        payments=[{"account": "A", "days_late": -1}, {"account": "A", "missing": "yes"}],
    )
    with pytest.raises(cb.InvalidDataError) as info:
        parse_scenario(data)
    text = "\n".join(info.value.errors)
    for fragment in (
        "a queued charge needs account and amount and on @ $.queued_charges[0]",
        "@ $.queued_charges[1].on",
        "@ $.payments[0].days_late",
        "@ $.payments[1].missing",
    ):
        assert fragment in text


def test_a_missing_payment_leaves_the_invoice_unpaid_and_a_late_one_pays_it() -> None:
    data = _minimal()
    data["customers"][0]["accounts"][0]["minimum_invoice_amount"] = None  # type: ignore[index]
    late = simulate(parse_scenario({**data, "payments": [{"account": "A", "days_late": 45}]}))
    assert [m.balances["A"] for m in late.months] == [
        Money("10.00", "USD"),
        Money("20.00", "USD"),
        Money("20.00", "USD"),  # January's invoice, due 2026-01-31, paid on 2026-03-17
    ]
    never = simulate(parse_scenario({**data, "payments": [{"account": "A", "missing": True}]}))
    assert never.months[-1].balances["A"] == Money("30.00", "USD")


def test_syntax_errors_say_line_and_column(tmp_path: Path) -> None:
    """A TOML or JSON syntax error names the file, the line and the column."""
    toml = tmp_path / "bad.toml"
    toml.write_text("[simulation]\nstart = 2026-01-01\nmonths = \n")
    with pytest.raises(cb.InvalidDataError, match=r"bad.toml: invalid TOML: .*line 3, column"):
        load_scenario(toml)
    js = tmp_path / "bad.json"
    js.write_text('{\n  "simulation": {"months": 2,}\n}')
    with pytest.raises(cb.InvalidDataError, match=r"invalid JSON at line 2, column 30"):
        load_scenario(js)


@pytest.mark.parametrize("name", ["s.yaml", "s.yml", "scenario", "s.txt"])
def test_file_type_is_the_extension(tmp_path: Path, name: str) -> None:
    """Only .toml and .json are read, whatever the content; others are refused plainly."""
    path = tmp_path / name
    path.write_text(json.dumps(_minimal()))
    with pytest.raises(cb.InvalidDataError, match=r"a scenario is a \.toml or \.json file"):
        load_scenario(path)
    upper = tmp_path / "S.JSON"
    upper.write_text(json.dumps(_minimal()))
    assert load_scenario(upper).months == 3


def test_every_rule_problem_in_one_run_with_paths_from_the_root() -> None:
    """Violations of several customers and accounts and unknown references come together,
    each at its path in the file."""
    good = _minimal()
    customer = dict(good["customers"][0])  # type: ignore[index]
    bad_account = {**customer["accounts"][0], "bill_cycle": "nope", "number": "B-1"}
    second = {**customer, "company_name": "", "accounts": [bad_account]}
    third_accounts = [customer["accounts"][0] | {"number": "C-1"}, bad_account | {"number": "C-2"}]
    third = {**customer, "company_name": "Third", "accounts": third_accounts}
    data = _minimal(
        settings={"allow_multi_customer_accounts": True},
        customers=[customer, second, third],
        charges=[{"account": "ZZ", "amount": "1"}],
        payments=[{"account": "YY", "days_late": 2}],
    )
    with pytest.raises(cb.RuleViolationError) as caught:
        simulate(parse_scenario(data))
    found = {(v.code, v.path) for v in caught.value.violations}
    assert found == {
        ("customer.name_required", "$.customers[1].company_name"),
        ("account.reference_unknown", "$.customers[1].accounts[0].bill_cycle"),
        ("account.reference_unknown", "$.customers[2].accounts[1].bill_cycle"),
        ("scenario.account_unknown", "$.charges[0].account"),
        ("scenario.account_unknown", "$.payments[0].account"),
    }


def test_streamed_output_is_the_rendered_output(tmp_path: Path) -> None:
    """The months written as they come make exactly what render() makes of the result."""
    from custbill.simulation import simulate_months
    from custbill.simulation_output import stream

    scenario = load_scenario(EXAMPLES / "collections.toml")
    result = simulate(scenario)
    for fmt in ("table", "json", "csv"):
        streamed = "".join(stream(simulate_months(scenario), fmt))
        assert streamed == render(result, fmt)
    assert json.loads(render(simulate(scenario, months=1), "json"))[0]["month"] == "2026-01"


def test_streaming_yields_a_month_before_the_next_is_simulated() -> None:
    """The first month comes out while later ones are not yet computed."""
    from custbill.simulation import simulate_months

    months = simulate_months(load_scenario(EXAMPLES / "collections.toml"), months=1200)
    first = next(iter(months))
    assert first.month == "2026-01"  # a century was asked for; one month was simulated


def test_cli_demo_formats(capsys: pytest.CaptureFixture[str]) -> None:
    """demo prints a table, JSON or CSV."""
    assert main(["demo", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {a["currency"] for a in data["accounts"]} == {"USD", "MXN", "RUB", "SEK"}
    assert data["invoice_dates"][0]["account"] == data["accounts"][0]["account"]
    assert main(["demo", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 5 and not out.endswith("\n\n")


def test_shape_and_rule_problems_come_together() -> None:
    """A malformed field and a broken rule elsewhere in the file are reported in one run;
    the malformed customer itself is left out of the rule checks."""
    good = _minimal()
    customer = dict(good["customers"][0])  # type: ignore[index]
    malformed = {**customer, "kind": "ALIEN"}
    breaks_a_rule = {
        **customer,
        "company_name": "Other",
        "accounts": [{**customer["accounts"][0], "number": "B", "bill_cycle": "nope"}],
    }
    data = _minimal(customers=[malformed, breaks_a_rule], charges=[])
    with pytest.raises(cb.InvalidDataError) as caught:
        parse_scenario(data)
    errors = caught.value.errors
    assert any(e.endswith("@ $.customers[0].kind") for e in errors)
    assert any(
        "(account.reference_unknown) @ $.customers[1].accounts[0].bill_cycle" in e for e in errors
    )
    assert not any("$.customers[0]" in e and "account.reference_unknown" in e for e in errors)
