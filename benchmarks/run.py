"""custbill's benchmarks: every figure beside references measured in the same run.

    python benchmarks/run.py            # 10,000 / 100,000 / 1,000,000 accounts
    python benchmarks/run.py --quick    # 10,000 / 50,000 accounts; stores at 10,000
    python benchmarks/run.py --json figures.json

Each custbill operation is timed beside two references written here: a *floor* (the same
computation in the leanest pure Python: tuples, date ordinals, integer minor units, lookup
tables) and a *naive* version (what a user would write with the same dependencies:
``relativedelta``, ``rrule``, ``Money``, one object at a time); the three must give the
same invoices, and every side is timed the same way.  Then the stores side by side on
realistic data (``stores.py``: memory, SQLite, PostgreSQL when its binaries are
installed).  Data is built through the public API.  The JSON keys are flat, e.g.
``"plan_bill_run.accounts_per_s"``, ``"issue.vs_memory.sqlite"``.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, WEEKLY, rrule
from moneyed import Money
from stores import best as _best  # (benchmarks/stores.py, beside this file)
from stores import measure_stores

import custbill as cb
from custbill.billing import bill_dates
from custbill.model.promote import assembler
from custbill.storage import MemoryStore, SQLiteStore

RUN = date(2026, 7, 1)
START = date(2020, 1, 1)
SETTINGS = cb.Settings(
    allow_multi_customer_accounts=True,
    enable_responsible_account_management=True,
    enable_account_hierarchy_management=True,
    overall_invoice_distribution=frozenset(cb.InvoiceType),
)
ADDRESS = cb.Address(line1="1 Main St", city="Austin", postal_code="78701", country="US")
CARD = (cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="tok_bench", last4="4242"),)


def _best_of_pair(
    ours: Callable[[], Any], theirs: Callable[[], Any], repeat: int = 9
) -> tuple[float, float]:
    """The best wall times of *ours* and *theirs*, called in turn *repeat* times each, so
    that a slower or faster spell of the machine falls on both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for function, spent in ((ours, times[0]), (theirs, times[1])):
            started = time.perf_counter()
            function()
            spent.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


# -- data -----------------------------------------------------------------------------------


def vocabulary(rng: random.Random, size: int = 50_000) -> list[str]:
    """Made-up, pronounceable words for customer names: two to four of 60 syllables."""
    pairs = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"][:48]
    syllables = [
        *pairs,
        "bri",
        "dra",
        "fen",
        "gor",
        "hul",
        "jin",
        "kre",
        "lum",
        "mor",
        "nix",
        "pra",
        "ste",
    ]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).title())
    return sorted(words)


def catalog(billing: cb.CustomerBilling) -> None:
    """One monthly cycle, two payment terms, one category."""
    billing.add_bill_cycle(
        cb.BillCycle(
            id="m1", name="Monthly", period=cb.BillingPeriod.MONTHLY, bill_day=1, start_date=START
        )
    )
    billing.add_payment_term(cb.PaymentTerm(id="net30", name="Net 30", net_days=30))
    billing.add_payment_term(
        cb.PaymentTerm(id="eom15", name="EOM 15", net_days=15, end_of_month=True)
    )
    billing.add_account_category(cb.AccountCategory(id="std", name="Standard"))


def new_account(i: int, **links: Any) -> cb.NewAccount:
    """The i-th account: a mix of terms, minimums, auto-pay and invoice types."""
    return cb.NewAccount(
        currency="USD",
        bill_cycle="m1",
        start_date=START,
        category="std",
        payment_term="eom15" if i % 5 == 0 else "net30",
        invoice_type=cb.InvoiceType.EMAIL if i % 2 else cb.InvoiceType.PAPER,
        distribute_invoice=i % 2 == 1,
        minimum_invoice_amount=Money(5, "USD") if i % 3 == 0 else None,
        auto_pay=i % 4 == 0,
        auto_pay_offset_days=-3 if i % 4 == 0 else 0,
        payment_methods=CARD if i % 4 == 0 else (),
        **links,
    )


class Built:
    """A facade holding the synthetic data, and what the measurements need to know of it."""

    def __init__(self, billing: cb.CustomerBilling) -> None:
        self.billing = billing
        #: The customers' numbers and names, for the search measurement (not the Customer
        #: objects: a million of those held here would be the benchmark's cost in a full
        #: garbage collection, not the store's).
        self.customer_numbers: list[str] = []
        self.customer_names: list[str] = []
        self.accounts: list[str] = []


def build(size: int, rng: random.Random, words: list[str]) -> Built:
    """*size* accounts through the public API, one in ten managed by the account before it
    (rendered AGGREGATED: one invoice per hierarchy, as the references compute them)."""
    store = MemoryStore()
    billing = cb.CustomerBilling(store=store, settings=SETTINGS)
    catalog(billing)
    built = Built(billing)
    address = ADDRESS
    customer = account = None
    for i in range(size):
        if i % 10 == 9 and account is not None and customer is not None:
            managed = billing.add_account(
                customer.number, new_account(i, responsible_account=account.number)
            )
            built.accounts.append(managed.number)
            continue
        name = f"{rng.choice(words)} {rng.choice(words)} {rng.choice(('Co', 'Ltd', 'Inc'))}"
        new = cb.NewCustomer(
            kind=cb.CustomerKind.COMPANY,
            company_name=name,
            primary_email="billing@example.com",
            billing_address=address,
        )
        customer, account = billing.create_customer(new, new_account(i))
        built.customer_numbers.append(customer.number)
        built.customer_names.append(customer.name)
        built.accounts.append(account.number)
    return built


def charges_for(numbers: list[str]) -> dict[str, Money]:
    """A charge for every account."""
    return {n: Money(Decimal(i % 97) + Decimal("0.99"), "USD") for i, n in enumerate(numbers)}


# -- plan_bill_run and its references ---------------------------------------------------------


def compact(built: Built, charges: dict[str, Money]) -> dict[str, Any]:
    """The accounts as the floor reference wants them: parallel lists and integers."""
    accounts = [built.billing.get_account(n) for n in sorted(built.accounts)]
    terms = {t.id: t for t in built.billing.catalog(cb.PaymentTerm)}
    index = {a.number: i for i, a in enumerate(accounts) if a is not None}
    rows = []
    for a in accounts:
        assert a is not None
        term = terms[a.payment_term]
        rows.append(
            (
                a.status is not cb.AccountStatus.DEACTIVATED and a.start_date <= RUN,
                index[a.responsible_account] if a.responsible_account else -1,
                term.net_days,
                term.end_of_month,
                a.auto_pay,
                a.auto_pay_offset_days,
                int(a.minimum_invoice_amount.amount * 100) if a.minimum_invoice_amount else -1,
            )
        )
    cents = [int(charges[a.number].amount * 100) for a in accounts if a is not None]
    return {"rows": rows, "cents": cents, "accounts": accounts, "terms": terms}


def floor_plan(data: dict[str, Any]) -> list[tuple[int, int, int, int, bool]]:
    """The leanest computation of the same invoices: ordinals and minor units."""
    rows, cents = data["rows"], data["cents"]
    run = RUN.toordinal()
    month_end = (RUN.replace(day=28) + timedelta(days=4)).replace(day=1).toordinal() - 1
    top = list(range(len(rows)))
    totals = [0] * len(rows)
    charged = [False] * len(rows)
    for i, (billed, parent, *_rest) in enumerate(rows):
        if billed:
            if parent >= 0:
                top[i] = top[parent]
            totals[top[i]] += cents[i]
            charged[top[i]] = True
    out = []
    for i, (_billed, parent, net, eom, auto, offset, minimum) in enumerate(rows):
        if parent < 0 and charged[i]:
            due = (month_end if eom else run) + net
            pay = max(run, due + offset) if auto else -1
            total = totals[i]
            out.append((i, total, due, pay, 0 <= total < minimum))
    return out


def naive_plan(
    data: dict[str, Any], charges: dict[str, Money], cycle: cb.BillCycle
) -> list[dict[str, Any]]:
    """What a user would write, one account object at a time: relativedelta for the next bill
    date (from the cycle's anchor, as it should be), Money sums, relativedelta due and
    auto-pay dates."""
    accounts, terms = data["accounts"], data["terms"]
    by_number = {a.number: a for a in accounts}
    anchor = cycle.start_date.replace(day=1)
    totals: dict[str, Money] = {}
    members: dict[str, list[str]] = {}
    for a in accounts:
        months = (RUN.year - anchor.year) * 12 + RUN.month - anchor.month
        next_bill = anchor + relativedelta(months=months, day=cycle.bill_day)
        if next_bill < RUN:
            next_bill = anchor + relativedelta(months=months + 1, day=cycle.bill_day)
        if a.status is cb.AccountStatus.DEACTIVATED or a.start_date > RUN or next_bill != RUN:
            continue
        top = a
        while top.responsible_account is not None:
            top = by_number[top.responsible_account]
        totals[top.number] = totals.get(top.number, Money(0, "USD")) + charges[a.number]
        members.setdefault(top.number, []).append(a.number)
    invoices = []
    for number, total in totals.items():
        a = by_number[number]
        term = terms[a.payment_term]
        base = RUN + relativedelta(day=31) if term.end_of_month else RUN
        due = base + relativedelta(days=term.net_days)
        pay = max(RUN, due + relativedelta(days=a.auto_pay_offset_days)) if a.auto_pay else None
        minimum = a.minimum_invoice_amount
        suppressed = minimum is not None and Money(0, "USD") <= total < minimum
        invoices.append(
            {
                "billed": number,
                "accounts": members[number],
                "total": total,
                "due": due,
                "auto_pay": pay,
                "suppressed": suppressed,
            }
        )
    return invoices


def date_to_datetime(day: date) -> Any:
    from datetime import datetime

    return datetime(day.year, day.month, day.day)


#: One invoice as every side computes it: (billed account, total in cents, due date,
#: auto-pay date or None, suppressed).
Outcome = tuple[str, int, date, date | None, bool]


def outcomes(
    plan: cb.BillRunPlan,
    floor: list[tuple[int, int, int, int, bool]],
    naive: list[dict[str, Any]],
    data: dict[str, Any],
) -> tuple[list[Outcome], list[Outcome], list[Outcome]]:
    """The invoices of custbill's plan, the floor's and the naive version's, as
    :data:`Outcome` lists in one order, to be compared."""
    ours = sorted(
        (i.billed_account, int(i.total.amount * 100), i.due_date, i.auto_pay_date, i.suppressed)
        for i in plan.invoices
    )
    accounts = data["accounts"]
    floors = sorted(
        (
            accounts[i].number,
            total,
            date.fromordinal(due),
            date.fromordinal(pay) if pay >= 0 else None,
            suppressed,
        )
        for i, total, due, pay, suppressed in floor
    )
    naives = sorted(
        (d["billed"], int(d["total"].amount * 100), d["due"], d["auto_pay"], d["suppressed"])
        for d in naive
    )
    return ours, floors, naives


def measure_plan(built: Built) -> dict[str, float]:
    """plan_bill_run beside the floor and the naive version: all three must give the same
    invoices, and every side is timed the same way (best of the same number of runs).
    ``plan_bill_run`` times the plan alone (its invoices are built when read);
    ``plan_and_read`` also reads every invoice and skipped account, the work a caller gets,
    and is what the references are set against."""
    billing = built.billing
    charges = charges_for(built.accounts)
    data = compact(built, charges)
    cycle = billing.catalog(cb.BillCycle)[0]
    accounts = len(data["rows"])
    repeat = 3 if accounts <= 100_000 else 2  # the naive side takes seconds a run at 1M

    def plan() -> cb.BillRunPlan:
        return billing.plan_bill_run("m1", RUN, charges)

    def plan_and_read() -> cb.BillRunPlan:
        made = plan()
        list(made.invoices)
        list(made.skipped)
        return made

    ours, floors, naives = outcomes(
        plan_and_read(), floor_plan(data), naive_plan(data, charges, cycle), data
    )
    assert ours == floors == naives, "custbill, the floor and the naive version disagree"
    plan_s = _best(plan, repeat)
    read_s = _best(plan_and_read, repeat)
    floor_s = _best(lambda: floor_plan(data), repeat)
    naive_s = _best(lambda: naive_plan(data, charges, cycle), repeat)
    objects_s = _best(invoice_objects(plan_and_read()), repeat)
    return {
        "plan_bill_run.accounts_per_s": accounts / plan_s,
        "plan_bill_run.vs_floor": plan_s / floor_s,
        "plan_bill_run.vs_naive": naive_s / plan_s,
        "plan_bill_run.seconds": plan_s,
        "plan_and_read.accounts_per_s": accounts / read_s,
        "plan_and_read.vs_floor": read_s / floor_s,
        "plan_and_read.vs_naive": naive_s / read_s,
        "plan_and_read.objects_s": objects_s,
        "plan_and_read.ceiling_vs_naive": naive_s / (plan_s + objects_s),
    }


def invoice_objects(plan: cb.BillRunPlan) -> Callable[[], list[cb.PlannedInvoice]]:
    """Building the plan's invoices again from their values, ready in memory: one
    PlannedInvoice and one Money each, kept in a list, as reading a plan hands them out.

    No reading of a plan can cost less, so ``naive / (plan + this)`` is the ceiling of
    ``plan_and_read.vs_naive`` (reported as ``plan_and_read.ceiling_vs_naive``)."""
    assemble = assembler(cb.PlannedInvoice)
    values = [
        (
            i.billed_account,
            i.accounts,
            i.total.amount,
            i.total.currency,
            i.invoice_date,
            i.due_date,
            i.auto_pay_date,
            i.suppressed,
            i.channels,
            i.recipients,
            i.notes,
            i.invoice_note,
        )
        for i in plan.invoices
    ]

    def build() -> list[cb.PlannedInvoice]:
        return [
            assemble(bill, acc, Money(amount, cur), day, due, auto, low, ch, to, notes, text)
            for bill, acc, amount, cur, day, due, auto, low, ch, to, notes, text in values
        ]

    return build


# -- calendar -------------------------------------------------------------------------------


def rrule_dates(cycle: cb.BillCycle, start: date, end: date) -> list[date]:
    """Bill dates with dateutil: rrule, the bill day clamped with bysetpos."""
    from datetime import datetime

    until = datetime(end.year, end.month, end.day)
    if cycle.period is cb.BillingPeriod.WEEKLY:
        rule = rrule(
            WEEKLY,
            dtstart=datetime(cycle.start_date.year, cycle.start_date.month, cycle.start_date.day),
            byweekday=cycle.bill_day - 1,
            until=until,
        )
    else:
        months = {
            cb.BillingPeriod.MONTHLY: 1,
            cb.BillingPeriod.QUARTERLY: 3,
            cb.BillingPeriod.SEMI_ANNUAL: 6,
            cb.BillingPeriod.ANNUAL: 12,
        }[cycle.period]
        anchor = datetime(cycle.start_date.year, cycle.start_date.month, 1)
        rule = rrule(
            MONTHLY,
            interval=months,
            dtstart=anchor,
            bymonthday=(cycle.bill_day, -1),
            bysetpos=1,
            until=until,
        )
    low = max(start, cycle.start_date)
    return [d.date() for d in rule if d.date() >= low]


def measure_calendar() -> dict[str, float]:
    cycles = [
        cb.BillCycle(id=f"{p}{d}", name="c", period=p, bill_day=d, start_date=date(2020, 1, 15))
        for p in cb.BillingPeriod
        for d in ((1, 3, 7) if p is cb.BillingPeriod.WEEKLY else (1, 15, 29, 30, 31))
    ]
    start, end = date(2020, 1, 1), date(2029, 12, 31)
    for cycle in cycles:
        assert bill_dates(cycle, start, end) == rrule_dates(cycle, start, end), cycle
    ours, theirs = _best_of_pair(
        lambda: [bill_dates(c, start, end) for c in cycles],
        lambda: [rrule_dates(c, start, end) for c in cycles],
    )
    return {"bill_dates.vs_rrule": theirs / ours}


# -- hierarchy, search, stores -----------------------------------------------------------------


def measure_cycle_check(depth: int = 100_000) -> dict[str, float]:
    store = MemoryStore()
    billing = cb.CustomerBilling(store=store, settings=SETTINGS)
    catalog(billing)
    customer, top = billing.create_customer(
        cb.NewCustomer(
            kind=cb.CustomerKind.COMPANY,
            company_name="Deep",
            primary_email="d@example.com",
            billing_address=ADDRESS,
        ),
        new_account(1),
    )
    with billing.batch():
        previous = top.number
        for i in range(depth - 1):
            previous = billing.add_account(
                customer.number, new_account(1, number=f"D-{i:07d}", responsible_account=previous)
            ).number

    def check() -> None:
        codes: frozenset[str] = frozenset()
        try:
            billing.edit_account(top.number, responsible_account=previous)
        except cb.RuleViolationError as error:
            codes = error.codes
        if codes != {"hierarchy.cycle"}:
            raise AssertionError(f"the cycle was not found: {codes}")

    return {"cycle_check_ms": _best(check, repeat=5) * 1000}


#: Results a search box shows at once.
PAGE = 25


def measure_search(built: Built, rng: random.Random) -> dict[str, float]:
    """1,000 queries as a user types them into a search box (half a whole or partial word
    of four letters or more, a quarter two partial words, a quarter a customer number),
    each returning the first page of matches in number order; the p99 latency."""
    billing, numbers, names = built.billing, built.customer_numbers, built.customer_names
    queries = []
    for _ in range(1000):
        chosen = rng.randrange(len(numbers))
        words = names[chosen].split()
        kind = rng.random()
        if kind < 0.5:
            w = rng.choice(words[:2])
            queries.append(w[: rng.randint(min(4, len(w)), len(w))])
        elif kind < 0.75:
            queries.append(f"{words[0][:4]} {words[1][:3]}")
        else:
            queries.append(numbers[chosen])
    latencies = []
    for q in queries:
        started = time.perf_counter()
        found = billing.search_customers(q, limit=PAGE)
        latencies.append(time.perf_counter() - started)
        assert found
    latencies.sort()
    full = []
    for q in queries[:200]:
        started = time.perf_counter()
        billing.search_customers(q)
        full.append(time.perf_counter() - started)
    full.sort()
    return {
        "search_p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "search_median_ms": statistics.median(latencies) * 1000,
        "search_all_matches_p99_ms": full[int(len(full) * 0.99) - 1] * 1000,
    }


def measure_sqlite(operations: int, batch: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="custbill-bench-") as directory:
        return _measure_sqlite_in(directory, operations, batch)


def _measure_sqlite_in(directory: str, operations: int, batch: int) -> dict[str, float]:
    new = cb.NewCustomer(
        kind=cb.CustomerKind.COMPANY,
        company_name="Acme Brick",
        primary_email="billing@example.com",
        billing_address=ADDRESS,
    )
    # the inputs are built before the clock starts, as for the in-memory store: the figure is
    # create_customer's own
    accounts = [new_account(i) for i in range(max(operations, batch))]
    with cb.CustomerBilling(
        store=SQLiteStore(os.path.join(directory, "single.db")), settings=SETTINGS
    ) as billing:
        catalog(billing)
        started = time.perf_counter()
        for account in accounts[:operations]:
            billing.create_customer(new, account)
        single = operations / (time.perf_counter() - started)

    times = []
    for attempt in range(3):  # best of three, as for plans; a new file each time
        with cb.CustomerBilling(
            store=SQLiteStore(os.path.join(directory, f"batch{attempt}.db")), settings=SETTINGS
        ) as batched:
            catalog(batched)
            started = time.perf_counter()
            with batched.batch():
                for account in accounts[:batch]:
                    batched.create_customer(new, account)
            times.append(time.perf_counter() - started)
    return {
        "create_customer_per_s.sqlite": single,
        "create_customer_per_s.sqlite_batch": batch / min(times),
    }


def resident_per_account(size: int, words: list[str]) -> float:
    """In a new process: how much its resident memory grows, per account, while a store of
    *size* accounts is built (a process that freed earlier stores would reuse their
    memory and show less)."""
    gc.collect()
    before = _resident_bytes()
    kept = build(size, random.Random(size), words)
    gc.collect()
    grown = (_resident_bytes() - before) / size
    del kept
    return grown


def _resident_bytes() -> int:
    """The process's resident memory (Linux: /proc/self/statm), in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _phase(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label}: {now - started:.1f} s", file=sys.stderr, flush=True)
    return now


def measure_size(
    size: int, rng: random.Random, words: list[str], *, traced: bool = True
) -> dict[str, float]:
    """Every size-dependent figure for a store of *size* accounts (its memory only when
    *traced*: tracemalloc slows the build several times over).

    Memory is measured on a build of its own, thrown away before the store the timings use
    is built: a store built under tracemalloc leaves the process slower afterwards (creating
    customers on it ran at a third of the speed), which would be tracemalloc's cost, not
    custbill's.
    """
    clock = time.perf_counter()
    figures: dict[str, float] = {"accounts": size}
    if traced:
        with multiprocessing.get_context("spawn").Pool(1) as fresh:
            figures["rss_bytes_per_account"] = fresh.apply(resident_per_account, (size, words))
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        built = build(size, random.Random(size), words)
        gc.collect()
        figures["bytes_per_account"] = (tracemalloc.get_traced_memory()[0] - before) / size
        tracemalloc.stop()
        del built
        clock = _phase("build (traced, for memory)", clock)
    gc.collect()
    built = build(size, random.Random(size), words)
    gc.collect()
    figures["gc_full_collection_s"] = _best(gc.collect)
    clock = _phase("build", clock)
    # 20,000 creations (fewer on a small store) in three parts; the figure is the best
    # part's rate, as plans and SQLite batches are the best of three runs
    extra = min(20_000, size) // 3
    parts = [
        iter(
            [
                cb.NewCustomer(
                    kind=cb.CustomerKind.COMPANY,
                    company_name=f"Extra {part * extra + i}",
                    primary_email="x@example.com",
                    billing_address=ADDRESS,
                )
                for i in range(extra)
            ]
        )
        for part in range(3)
    ]
    account = new_account(1)
    create = built.billing.create_customer

    def create_part() -> None:
        for customer in parts.pop(0):
            create(customer, account)

    figures["create_customer_per_s.memory"] = extra / _best(create_part)
    clock = _phase("create_customer", clock)
    figures.update(measure_plan(built))
    clock = _phase("plan and references", clock)
    figures.update(measure_search(built, rng))
    _phase("search", clock)
    return figures


# -- the table ----------------------------------------------------------------------------------

COLUMNS = [
    ("accounts", "accounts", "{:,.0f}"),
    ("plan_bill_run.accounts_per_s", "plan/s", "{:,.0f}"),
    ("plan_bill_run.vs_floor", "vs floor", "{:.1f}x"),
    ("plan_and_read.accounts_per_s", "plan+read/s", "{:,.0f}"),
    ("plan_and_read.vs_naive", "vs naive", "{:.1f}x"),
    ("plan_and_read.ceiling_vs_naive", "ceiling", "{:.1f}x"),
    ("gc_full_collection_s", "full gc s", "{:.2f}"),
    ("create_customer_per_s.memory", "create/s", "{:,.0f}"),
    ("search_p99_ms", "search p99 ms", "{:.3f}"),
    ("bytes_per_account", "bytes/account", "{:,.0f}"),
]
TARGETS = {
    "plan_bill_run.accounts_per_s": (">=", 500_000),
    "plan_and_read.vs_naive": (">=", 10),
    "bill_dates.vs_rrule": (">=", 10),
    "cycle_check_ms": ("<=", 10),
    "create_customer_per_s.memory": (">=", 20_000),
    "create_customer_per_s.sqlite_batch": (">=", 10_000),
    "search_p99_ms": ("<=", 1),
    "bytes_per_account": ("<=", 1_500),
    "rss_bytes_per_account": ("<=", 1_500),
    "gc_full_collection_s": ("<=", 1),
    "plan.vs_memory.sqlite": ("<=", 5),
    "plan.vs_memory.postgres": ("<=", 10),
    "issue.vs_memory.sqlite": ("<=", 2),
    "issue.vs_memory.postgres": ("<=", 2),
    "contention.read_p99_ms.sqlite": ("<=", 50),
    "contention.read_p99_ms.postgres": ("<=", 50),
    "split_run.speedup_2_workers.postgres": (">=", 1.4),
    "plan_cost_growth": ("<=", 1.3),
}


def table(rows: list[dict[str, float]], fixed: dict[str, float]) -> str:
    lines = [
        "| " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|" + "|".join("---:" for _ in COLUMNS) + "|",
    ]
    for row in rows:
        lines.append(
            "| "
            + " | ".join(fmt.format(row[key]) if key in row else "-" for key, _, fmt in COLUMNS)
            + " |"
        )
    lines.append("")
    for key, value in fixed.items():
        lines.append(f"- {key}: {value:,.2f}")
    return "\n".join(lines)


def stores_table(figures: dict[str, float]) -> str:
    """The stores side by side, as a Markdown table."""
    names = [n for n in ("memory", "sqlite", "postgres") if f"plan.seconds.{n}" in figures]
    accounts = figures["stores.accounts_on_run"]
    rows = [
        ("plan µs/account", lambda n: figures[f"plan.seconds.{n}"] / accounts * 1e6),
        (
            "plan and read µs/account",
            lambda n: figures[f"plan_and_read.seconds.{n}"] / accounts * 1e6,
        ),
        ("issue µs/invoice", lambda n: 1e6 / figures[f"issue.invoices_per_s.{n}"]),
        *(
            (
                f"{call} median / p99 ms",
                lambda n, call=call: (
                    f"{figures[f'latency_ms.{call}.median.{n}']:.3f} / "
                    f"{figures[f'latency_ms.{call}.p99.{n}']:.3f}"
                ),
            )
            for call in ("get", "edit", "summary", "search", "search_common")
        ),
        ("get p99 ms while planning", lambda n: figures.get(f"contention.read_p99_ms.{n}", "-")),
        (
            "get p99 ms beside a planning thread",
            lambda n: figures.get(f"contention.thread_read_p99_ms.{n}", "-"),
        ),
    ]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for title, value in rows:
        cells = [value(n) for n in names]
        lines.append(
            f"| {title} | "
            + " | ".join(f"{c:,.2f}" if isinstance(c, float) else str(c) for c in cells)
            + " |"
        )
    split = [k for k in figures if k.startswith("split_run.")]
    lines.extend(f"- {key}: {figures[key]:,.2f}" for key in split)
    return "\n".join(lines)


def plan_cost_growth(rows: list[dict[str, float]]) -> float:
    """How many times a planned account costs more on the largest store than on the
    smallest (the planner is meant to stay near linear)."""
    return rows[0]["plan_bill_run.accounts_per_s"] / rows[-1]["plan_bill_run.accounts_per_s"]


def floor_cost_growth(rows: list[dict[str, float]]) -> float:
    """The same for the floor, in the same run: how much of the growth the machine's
    caches give any planner (the floor's rate is custbill's times ``vs_floor``)."""
    first, last = rows[0], rows[-1]
    return (first["plan_bill_run.accounts_per_s"] * first["plan_bill_run.vs_floor"]) / (
        last["plan_bill_run.accounts_per_s"] * last["plan_bill_run.vs_floor"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10,000 and 50,000 accounts instead of up to 1,000,000, stores at 10,000",
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args(argv)
    # the quick run's second size is half the full run's, so that it stays within three
    # minutes in this machine's slower spells too (it took up to 3 min 22 s at 100,000)
    sizes = [10_000, 50_000] if args.quick else [10_000, 100_000, 1_000_000]
    stores_size = 10_000 if args.quick else 100_000
    rng = random.Random(20261122)
    words = vocabulary(rng)
    # the figures that do not depend on the store's size first, in a process that has not
    # yet built (and freed) a large store
    print("measuring the calendar, the cycle check and SQLite...", file=sys.stderr, flush=True)
    fixed: dict[str, float] = {}
    fixed.update(measure_calendar())
    fixed.update(measure_cycle_check())
    fixed.update(measure_sqlite(1_000, 10_000))
    rows = []
    for size in sizes:
        print(f"measuring {size:,} accounts...", file=sys.stderr, flush=True)
        # the quick run traces memory on its small size only, to stay within a minute
        rows.append(measure_size(size, rng, words, traced=not args.quick or size == sizes[0]))
    traced = [row for row in rows if "bytes_per_account" in row]
    print(f"measuring the stores side by side ({stores_size:,} accounts)...", file=sys.stderr)
    side_by_side = measure_stores(stores_size)
    figures = {
        **rows[-1],
        "plan_cost_growth": plan_cost_growth(rows),
        "plan_cost_growth.floor": floor_cost_growth(rows),
        "bytes_per_account": traced[-1]["bytes_per_account"],
        "rss_bytes_per_account": traced[-1]["rss_bytes_per_account"],
        "gc_full_collection_s": rows[-1]["gc_full_collection_s"],
        "bytes_per_account.accounts": traced[-1]["accounts"],
        **fixed,
        **side_by_side,
        "scaling": rows,
    }
    print(table(rows, fixed))
    print(
        f"- plan_cost_growth: {figures['plan_cost_growth']:.2f}"
        f" (the floor's: {figures['plan_cost_growth.floor']:.2f})"
    )
    print(stores_table(side_by_side))
    misses = [
        f"{key} = {figures[key]:,.2f} (target {op} {bound:,})"
        if key in figures
        else f"{key} not measured"
        for key, (op, bound) in TARGETS.items()
        if key not in figures
        or not (figures[key] >= bound if op == ">=" else figures[key] <= bound)
    ]
    print("\nall targets met" if not misses else "\nmissed: " + "; ".join(misses))
    if args.quick:
        print("(the targets are set for the full run's sizes; a quick run only shows the way)")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
