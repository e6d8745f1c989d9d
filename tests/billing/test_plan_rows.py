"""The planner over a store's plan rows against the planner over account objects: on random
stores built through the facade they plan the same invoices and skip the same accounts, and
the rows planner declines exactly the runs the other one rejects."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moneyed import Money

import custbill as cb
from custbill.billing import plan as planning
from custbill.billing.plan import plan_run
from custbill.billing.plan_rows import Declined, plan_rows
from custbill.model.billing import hierarchy_key
from custbill.model.plan_row import PROFILE
from custbill.service.ledger import ends_of
from custbill.storage import MemoryStore
from custbill.storage.cycle_rows import CycleRows
from tests.conftest import (
    ALL_ON,
    add_catalog,
    fixed_clock,
    new_account,
    new_customer,
    unless_refused,
)

RUN = {"m1": date(2026, 7, 1), "m15": date(2026, 7, 15)}
CARD = (cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="tok"),)
ENDS = [date(2026, 5, 20), date(2026, 6, 1), date(2026, 6, 10), date(2026, 6, 30)]


def both_plans(
    store: MemoryStore, cycle_id: str, run: date, charges: dict[str, Money]
) -> tuple[cb.BillRunPlan | None, cb.BillRunPlan | None]:
    """(rows planner's plan, objects planner's plan), None for a declined or rejected run."""
    with store.unit_of_work() as uow:
        cycle = uow.catalog.get(cb.BillCycle, cycle_id)
        assert cycle is not None
        tenant = uow.settings.get() or cb.Settings()
        terms = partial(uow.catalog.get, cb.PaymentTerm)
        pending = uow.ledger.pending_amounts()

        def primary_email(number: str) -> str | None:
            customer = uow.customers.get(number)
            return None if customer is None or customer.erased else customer.primary_email

        try:
            slow: cb.BillRunPlan | None = plan_run(
                cycle,
                run,
                map(uow.accounts.get, uow.accounts.on_bill_cycle(cycle_id)),  # type: ignore[arg-type]
                charges,
                account=uow.accounts.get,
                primary_email=primary_email,
                end_of=ends_of(uow),
                payment_term=terms,
                pending=pending,
                settings=tenant,
            )
        except cb.RuleViolationError:
            slow = None
        fast = plan_rows(
            cycle,
            run,
            uow.accounts.plan_rows(cycle_id),
            charges,
            account=uow.accounts.get,
            payment_term=terms,
            pending=pending,
            settings=tenant,
        )
        check_reading_ahead(uow, cycle, run, charges, fast)
    return (None if isinstance(fast, Declined) else fast), slow


def check_reading_ahead(
    uow: Any,
    cycle: cb.BillCycle,
    run: date,
    charges: dict[str, Money],
    plan: cb.BillRunPlan | Declined,
) -> None:
    """Planned from rows whose store reads several accounts at once (as the SQL stores'),
    the plan is *plan*; the accounts it reads one at a time are one of each profile (for
    the profile), and those it reads at once have recipients found per account (contacts
    or invoice addresses): a top of charged managed accounts is not read for its invoice."""
    rows = uow.accounts.plan_rows(cycle.id)
    at_once: list[str] = []
    one_by_one: list[str] = []

    def read_many(numbers: Any) -> dict[str, cb.BillingAccount]:
        at_once.extend(numbers)
        return {n: a for n in numbers if (a := uow.accounts.get(n)) is not None}

    def account(number: str) -> cb.BillingAccount | None:
        one_by_one.append(number)
        return uow.accounts.get(number)  # type: ignore[no-any-return]

    ahead = plan_rows(
        cycle,
        run,
        rows._replace(read_many=read_many),
        charges,
        account=account,
        payment_term=partial(uow.catalog.get, cb.PaymentTerm),
        pending=uow.ledger.pending_amounts(),
        settings=uow.settings.get() or cb.Settings(),
    )
    assert ahead == plan
    assert len({rows.row_of(n)[PROFILE] for n in one_by_one}) == len(one_by_one)
    for number in at_once:
        read = uow.accounts.get(number)
        assert read.contacts or read.invoice_emails, number


def check_partitions(
    billing: cb.CustomerBilling,
    cycle_id: str,
    run: date,
    charges: dict[str, Money],
    whole: cb.BillRunPlan | None,
    count: int,
) -> None:
    """The plans of a run's *count* partitions, together, are the plan of the whole run
    (*whole*; None when the run is refused: then some partition is refused, and refused
    for problems the whole run has)."""
    plans, refused = [], []
    for index in range(count):
        try:
            plans.append(
                billing.plan_bill_run(cycle_id, run, charges, partition=cb.Partition(index, count))
            )
        except cb.RuleViolationError as error:
            refused.append(error)
    if whole is None:
        assert refused
        with pytest.raises(cb.RuleViolationError) as caught:
            billing.plan_bill_run(cycle_id, run, charges)
        found = {(v.code, v.path) for v in caught.value.violations}
        assert {(v.code, v.path) for e in refused for v in e.violations} <= found
        return
    assert not refused
    assert all(p.partition is not None and p.partition.count == count for p in plans)
    for index, plan in enumerate(plans):  # each bills the hierarchies whose key it holds
        part = cb.Partition(index, count)
        assert all(part.holds(hierarchy_key(i.billed_account)) for i in plan.invoices)

    def key(invoice: cb.PlannedInvoice) -> tuple[str, tuple[str, ...]]:
        return invoice.billed_account, invoice.accounts

    together = sorted((i for p in plans for i in p.invoices), key=key)
    assert together == sorted(whole.invoices, key=key)
    skipped = sorted((s for p in plans for s in p.skipped), key=lambda s: s.account)
    assert skipped == sorted(whole.skipped, key=lambda s: s.account)
    assert {k: v for p in plans for k, v in p.carried_in.items()} == dict(whole.carried_in)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_rows_planner_agrees_with_objects_planner(data: st.DataObject) -> None:
    store = MemoryStore()
    billing = cb.CustomerBilling(store=store, settings=ALL_ON, clock=fixed_clock)
    add_catalog(billing)
    billing.add_payment_term(
        cb.PaymentTerm(id="eom15", name="EOM + 15", net_days=15, end_of_month=True)
    )
    billing.update_settings(
        distribute_invoice_all_accounts=data.draw(st.booleans()),
        distribute_invoice_contact_categories=data.draw(
            st.sampled_from([frozenset(), frozenset({"billing"})])
        ),
    )
    customers: list[cb.Customer] = []
    accounts: list[cb.BillingAccount] = []
    for _ in range(data.draw(st.integers(2, 8))):
        currency = data.draw(st.sampled_from(["USD", "USD", "EUR"]))
        cycle = data.draw(st.sampled_from(["m1", "m1", "m15"]))
        candidates = [
            a.number for a in accounts if (a.bill_cycle, a.invoice_currency) == (cycle, currency)
        ]
        auto_pay = data.draw(st.booleans())
        fields: dict[str, Any] = {
            "currency": currency,
            "bill_cycle": cycle,
            "start_date": data.draw(st.sampled_from([date(2024, 1, 1), date(2026, 7, 10)])),
            "payment_term": data.draw(st.sampled_from(["net30", "eom15"])),
            "invoice_type": data.draw(st.sampled_from(list(cb.InvoiceType))),
            "distribute_invoice": data.draw(st.booleans()),
            "minimum_invoice_amount": data.draw(
                st.none() | st.builds(Money, st.integers(0, 40), st.just(currency))
            ),
            "auto_pay": auto_pay,
            "payment_methods": CARD if auto_pay else (),
            "payment_mode": data.draw(
                st.sampled_from(
                    [cb.PaymentMode.INVOICE, cb.PaymentMode.AUTOMATIC]
                    if auto_pay
                    else [cb.PaymentMode.INVOICE, cb.PaymentMode.INVOICE, cb.PaymentMode.FREE]
                )
            ),
            "contacts": data.draw(
                st.lists(
                    st.builds(
                        cb.Contact,
                        name=st.just("Pat"),
                        email=st.none() | st.sampled_from(["pat@x.example", "ap@acme.example"]),
                        category=st.none() | st.sampled_from(["billing", "ops"]),
                    ),
                    max_size=2,
                ).map(tuple)
            ),
            "invoice_note": data.draw(st.sampled_from([None, None, "PO 7", "PO 8"])),
            "invoice_emails": data.draw(
                st.sampled_from([(), (), ("books@x.example",), ("ap@acme.example",)])
            ),
            # last days on either side of the runs' previous bill dates (06-01, 06-15)
            "end_date": data.draw(st.none() | st.sampled_from(ENDS)),
            "responsible_account": data.draw(st.none() | st.sampled_from(candidates))
            if candidates
            else None,
        }
        if customers and data.draw(st.booleans()):
            owner = data.draw(st.sampled_from(customers))
            account = unless_refused(billing.add_account, owner.number, new_account(**fields))
        else:
            made = unless_refused(billing.create_customer, new_customer(), new_account(**fields))
            account = None if made is None else made[1]
            if made is not None:
                customers.append(made[0])
        if account is not None:
            accounts.append(account)
    numbers = [a.number for a in accounts]
    for number in data.draw(st.lists(st.sampled_from(numbers), max_size=3)) if numbers else ():
        rendering = data.draw(st.sampled_from(list(cb.InvoiceRendering)))
        unless_refused(billing.edit_account, number, invoice_rendering=rendering)
    for number in data.draw(st.lists(st.sampled_from(numbers), max_size=2)) if numbers else ():
        # relinking, moving to another cycle: the rows of both ends must follow
        change = data.draw(st.sampled_from(["unlink", "relink", "cycle", "free"]))
        if change == "free":
            unless_refused(
                billing.edit_account, number, payment_mode=cb.PaymentMode.FREE, auto_pay=False
            )
        elif change == "unlink":
            unless_refused(billing.edit_account, number, responsible_account=None)
        elif change == "relink":
            unless_refused(
                billing.edit_account,
                number,
                responsible_account=data.draw(st.sampled_from(numbers)),
            )
        else:
            unless_refused(
                billing.edit_account, number, bill_cycle=data.draw(st.sampled_from(["m1", "m15"]))
            )
    for number in data.draw(st.lists(st.sampled_from(numbers), max_size=2)) if numbers else ():
        unless_refused(billing.edit_account, number, status=cb.AccountStatus.DEACTIVATED)
    if customers and data.draw(st.booleans()):
        billing.edit_customer(customers[0].number, primary_email="new@acme.example")
    if customers and data.draw(st.booleans()):
        ends = data.draw(st.sampled_from(ENDS))
        unless_refused(
            billing.edit_customer, data.draw(st.sampled_from(customers)).number, end_date=ends
        )
    if customers and data.draw(st.booleans()):
        billing.erase_customer(data.draw(st.sampled_from(customers)).number)

    def charges_for(cycle_id: str, run: date, fault: bool) -> dict[str, Money]:
        """Charges for most billable accounts of the cycle, in their own currency; with
        *fault*, one charge the run cannot bill (or, by chance, one it can)."""
        current = [billing.get_account(n) for n in numbers]

        def free(account: cb.BillingAccount) -> bool:
            """Whether *account* or the account at the top of its chain is FREE."""
            seen = set()
            while account.payment_mode is not cb.PaymentMode.FREE:
                above = account.responsible_account
                if above is None or above in seen:
                    return False
                seen.add(above)
                account = billing.get_account(above)
            return True

        charges = {}
        for a in current:
            if (
                not free(a)
                and a.bill_cycle == cycle_id
                and a.start_date <= run
                and a.status is not cb.AccountStatus.DEACTIVATED
                and data.draw(st.integers(0, 3)) < 3  # most accounts are charged
            ):
                charges[a.number] = Money(data.draw(st.integers(-5, 30)), a.invoice_currency)
        if fault:
            a = data.draw(st.sampled_from([*current, None]))
            if a is None:
                charges["A-999999"] = Money(1, "USD")
            else:
                currency = data.draw(st.sampled_from(["USD", "EUR"]))
                charges[a.number] = Money(data.draw(st.integers(-5, 30)), currency)
        return charges

    if accounts and data.draw(st.booleans()):  # small first charges leave amounts pending
        first_run = date(2026, 6, 1)
        plan = billing.plan_bill_run("m1", first_run, charges_for("m1", first_run, False))
        billing.issue_bill_run(plan)
    for cycle_id, run in RUN.items():
        fault = data.draw(st.integers(0, 2)) == 2
        charges = charges_for(cycle_id, run, fault) if accounts else {}
        fast, slow = both_plans(store, cycle_id, run, charges)
        assert (fast is None) == (slow is None)
        event("declined" if fast is None else f"planned, {min(len(fast.invoices), 3)} invoices")
        if fast is not None and slow is not None:
            assert list(fast.invoices) == list(slow.invoices)
            assert list(fast.skipped) == list(slow.skipped)
            assert fast.carried_in == slow.carried_in
        for count in (2, 3):
            check_partitions(billing, cycle_id, run, charges, slow, count)
    assert both_plans(store, "m1", date(2026, 7, 2), {}) == (None, None)  # not a bill date


def test_the_facade_plans_a_memory_store_from_its_rows(
    billing: cb.CustomerBilling, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A regular run never touches the objects planner; a run with a bad charge does."""
    _, account = billing.create_customer(new_customer(), new_account())
    calls: list[str] = []
    original = planning.plan_run

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("objects")
        return original(*args, **kwargs)

    monkeypatch.setattr("custbill.service.ledger.plan_run", counted)
    plan = billing.plan_bill_run("m1", RUN["m1"], {account.number: Money(3, "USD")})
    assert [i.total for i in plan.invoices] == [Money(3, "USD")]
    assert calls == []
    with pytest.raises(cb.RuleViolationError):
        billing.plan_bill_run("m1", RUN["m1"], {"A-999999": Money(3, "USD")})
    assert calls == ["objects"]


def test_rows_follow_customer_email_and_erasure(billing: cb.CustomerBilling) -> None:
    """A plan row carries the customer's primary email, renewed when it changes or is erased."""
    customer, account = billing.create_customer(
        new_customer(), new_account(distribute_invoice=True)
    )
    charges = {account.number: Money(3, "USD")}

    def recipients() -> tuple[str, ...]:
        return billing.plan_bill_run("m1", RUN["m1"], charges).invoices[0].recipients

    assert recipients() == ("ap@acme.example",)
    billing.edit_customer(customer.number, primary_email="new@acme.example")
    assert recipients() == ("new@acme.example",)
    billing.erase_customer(customer.number)
    assert recipients() == ()


def test_cycle_rows_come_back_in_number_order() -> None:
    """Rows that arrive out of order are read back sorted; replacing a row keeps its place."""
    rows = CycleRows()
    row: Any = ("A-3", False, date(2024, 1, 1), None, "USD", None, 0, None, False)
    for number in ("A-3", "A-1", "A-2"):
        rows.put((number, *row[1:]))
    rows.put(("A-1", *row[1:3], "A-3", *row[4:]))
    assert rows.numbers() == ["A-1", "A-2", "A-3"]
    assert list(rows.managed) == ["A-1"]
    rows.put(("A-1", *row[1:]))
    rows.drop("A-2")
    assert rows.numbers() == ["A-1", "A-3"]
    assert rows.managed == {}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["put", "put", "put", "drop"]),
            st.integers(0, 400),
            st.booleans(),
        ),
        max_size=300,
    )
)
def test_cycle_rows_against_a_sorted_dict(steps: list[tuple[str, int, bool]]) -> None:
    """Any sequence of puts and drops, numbers in any order: the rows read back as a dict
    sorted by number would give them, by order and by number, managed ones apart."""
    rows, oracle = CycleRows(), {}
    template: Any = ("", False, date(2024, 1, 1), None, "USD", None, 0, None, False)
    for action, n, managed in steps:
        number = f"A-{n:04d}"
        if action == "drop":
            if number in oracle:
                rows.drop(number)
                del oracle[number]
            continue
        row = (number, *template[1:3], "A-9999" if managed else None, *template[4:])
        rows.put(row)
        oracle[number] = row
    expected = [oracle[n] for n in sorted(oracle)]
    plan = rows.plan_rows()
    assert list(plan.rows) == expected
    assert rows.numbers() == sorted(oracle)
    assert all(plan.row_of(n) == oracle[n] for n in oracle)
    assert plan.row_of("A-9999") is None
    assert sorted(plan.managed) == sorted(r for r in expected if r[3] is not None)
