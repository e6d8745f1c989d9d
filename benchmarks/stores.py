"""The stores side by side: the same realistic data in memory, SQLite and PostgreSQL.

Every store is filled through the public API with the same accounts (:func:`populate`):
four cycles of three periods, three currencies, a tenth of the accounts suspended or
deactivated, a tenth without charges, billing hierarchies up to five deep, distinct emails
and contacts.  Then, on each store, with the same calls:

* ``plan``: plan_bill_run alone; ``plan_and_read``: the plan with every invoice and
  skipped account read (a lazy plan must not move a store's work to read time); both best
  of the same number of runs, and the plans of every store asserted equal;
* ``issue``: issue_bill_run of three runs on three dates (the same runs on every store);
  the best one's time per invoice;
* single calls (get_customer, edit_account, account_summary, search_customers with a
  rare word beside a common one, and with common words only): median and p99;
* ``contention`` (SQL stores): the p99 of get_customer in this process while another
  process plans a run on the same store (``read_p99_ms``), and while another thread of
  this process plans on the same store object (``thread_read_p99_ms``);
* ``split_run`` (PostgreSQL): a run split into 8 parts issued by 1, 2 and 4 worker
  processes; invoices per second, the speedup of 2 workers over 1, and what splitting
  costs one worker against a run issued whole.

PostgreSQL is measured when its server binaries are installed (a throw-away server is
started); otherwise its keys are absent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import custbill as cb
from custbill.storage import MemoryStore, PostgresStore, SQLiteStore, Store

ROOT = Path(__file__).resolve().parents[1]
#: The last words of the customers' names (``Company 12 Ltd``); ``co`` also starts
#: ``company``, which every name holds.
COMMON_WORDS = ("co", "ltd", "inc")
START = date(2020, 1, 1)
CURRENCIES = ("USD", "EUR", "GBP")
#: The cycles: most accounts on m1 (the run measured), the others on three more periods.
CYCLES = (
    cb.BillCycle(
        id="m1", name="Monthly 1st", period=cb.BillingPeriod.MONTHLY, bill_day=1, start_date=START
    ),
    cb.BillCycle(
        id="m15",
        name="Monthly 15th",
        period=cb.BillingPeriod.MONTHLY,
        bill_day=15,
        start_date=START,
    ),
    cb.BillCycle(
        id="q1", name="Quarterly", period=cb.BillingPeriod.QUARTERLY, bill_day=1, start_date=START
    ),
    cb.BillCycle(
        id="w1", name="Weekly", period=cb.BillingPeriod.WEEKLY, bill_day=1, start_date=START
    ),
)
#: The three runs issued on every store: bill dates of m1.
RUNS = (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1))
SPLIT_RUNS = {1: date(2026, 10, 1), 2: date(2026, 11, 1), 4: date(2026, 12, 1)}
#: The run issued whole by one worker, beside which the split runs' cost is set.
WHOLE_RUN_DATE = date(2027, 1, 1)
PARTS = 8
SETTINGS = cb.Settings(
    allow_multi_customer_accounts=True,
    enable_responsible_account_management=True,
    enable_account_hierarchy_management=True,
    overall_invoice_distribution=frozenset(cb.InvoiceType),
    distribute_invoice_contact_categories=frozenset({"billing"}),
)
ADDRESS = cb.Address(line1="1 Main St", city="Austin", postal_code="78701", country="US")
CARD = (cb.PaymentMethod(kind=cb.PaymentMethodKind.CARD, token="tok_bench", last4="4242"),)


def catalog(billing: cb.CustomerBilling) -> None:
    for cycle in CYCLES:
        billing.add_bill_cycle(cycle)
    billing.add_payment_term(cb.PaymentTerm(id="net30", name="Net 30", net_days=30))
    billing.add_payment_term(
        cb.PaymentTerm(id="eom15", name="EOM 15", net_days=15, end_of_month=True)
    )
    billing.add_account_category(cb.AccountCategory(id="std", name="Standard"))


def _account(i: int, currency: str, cycle: str, **links: Any) -> cb.NewAccount:
    contacts = (
        (cb.Contact(name=f"Pat {i}", email=f"ap{i}@example.com", category="billing"),)
        if i % 7 == 0
        else ()
    )
    return cb.NewAccount(
        currency=currency,
        bill_cycle=cycle,
        start_date=START if i % 50 else date(2027, 1, 1),  # a few start later
        category="std",
        payment_term="eom15" if i % 5 == 0 else "net30",
        invoice_type=cb.InvoiceType.EMAIL if i % 2 else cb.InvoiceType.PAPER_AND_EMAIL,
        distribute_invoice=i % 3 == 1,
        minimum_invoice_amount=cb.Money(5, currency) if i % 3 == 0 else None,
        auto_pay=i % 4 == 0,
        auto_pay_offset_days=-3 if i % 4 == 0 else 0,
        payment_methods=CARD if i % 4 == 0 else (),
        contacts=contacts,
        **links,
    )


def populate(billing: cb.CustomerBilling, size: int) -> list[str]:
    """*size* accounts (see the module's docstring); the numbers of those on m1."""
    catalog(billing)
    rng = random.Random(size)
    on_m1: list[str] = []
    with billing.batch():
        i = 0
        while i < size:
            currency = CURRENCIES[i % 3]
            cycle = "m1" if i % 10 < 7 else CYCLES[1 + i % 3].id
            customer, top = billing.create_customer(
                cb.NewCustomer(
                    kind=cb.CustomerKind.COMPANY,
                    company_name=f"Company {i} {rng.choice(COMMON_WORDS).title()}",
                    primary_email=f"billing{i}@example.com",
                    billing_address=ADDRESS,
                ),
                _account(i, currency, cycle),
            )
            chain = [top.number]
            i += 1
            # one customer in six has a hierarchy below its account, up to five deep
            for _ in range(rng.choice((0, 0, 0, 0, 0, 1, 2, 4))):
                if i >= size:
                    break
                managed = billing.add_account(
                    customer.number, _account(i, currency, cycle, responsible_account=chain[-1])
                )
                chain.append(managed.number)
                i += 1
            if cycle == "m1":
                on_m1.extend(chain)
        for n, number in enumerate(on_m1):
            if n % 20 == 3:
                billing.edit_account(number, status=cb.AccountStatus.SUSPENDED)
            elif n % 20 == 11 and n % 40 != 11:  # a top deactivated: none managed below it
                with contextlib.suppress(cb.RuleViolationError):  # it manages active ones
                    billing.edit_account(number, status=cb.AccountStatus.DEACTIVATED)
    return on_m1


def charges_for(on_m1: list[cb.BillingAccount], run: date) -> dict[str, cb.Money]:
    """A charge for nine accounts in ten of those the run bills, in their currency.

    *on_m1* are the accounts on m1 as read once after :func:`populate`: what decides a
    charge (status, start date, currency) does not change after it, and reading them
    again for every run took most of the stores' part of the run on PostgreSQL."""
    charges = {}
    for n, account in enumerate(on_m1):
        if (
            n % 10 != 5
            and account.status is not cb.AccountStatus.DEACTIVATED
            and account.start_date <= run
        ):
            amount = Decimal(n % 97) + Decimal("0.99")
            charges[account.number] = cb.Money(amount, account.invoice_currency)
    return charges


def best(function: Callable[[], Any], repeat: int = 3) -> float:
    """The best wall time of *repeat* calls, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def _quantiles(latencies: list[float]) -> tuple[float, float]:
    """(median, p99) in milliseconds."""
    latencies = sorted(latencies)
    return (
        statistics.median(latencies) * 1000,
        latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
    )


def _plan_and_read(billing: cb.CustomerBilling, charges: dict[str, cb.Money]) -> cb.BillRunPlan:
    plan = billing.plan_bill_run("m1", RUNS[0], charges)
    list(plan.invoices)
    list(plan.skipped)
    return plan


def measure_store(
    name: str, store: Store, size: int, repeat: int
) -> tuple[dict[str, float], cb.BillRunPlan, cb.CustomerBilling, list[cb.BillingAccount]]:
    """Plan, plan and read, issue and single calls on one store; the accounts on m1."""
    billing = cb.CustomerBilling(store=store, settings=SETTINGS)
    started = time.perf_counter()
    numbers = populate(billing, size)
    print(f"  {name}: built in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    on_m1 = [billing.get_account(number) for number in numbers]
    charges = charges_for(on_m1, RUNS[0])
    plan = _plan_and_read(billing, charges)
    figures = {
        f"plan.seconds.{name}": best(lambda: billing.plan_bill_run("m1", RUNS[0], charges), repeat),
        f"plan_and_read.seconds.{name}": best(lambda: _plan_and_read(billing, charges), repeat),
    }
    issue_times = []
    for run in RUNS:
        run_charges = charges_for(on_m1, run)
        issued_plan = billing.plan_bill_run("m1", run, run_charges)
        list(issued_plan.invoices)
        started = time.perf_counter()
        issued = billing.issue_bill_run(issued_plan)
        issue_times.append((time.perf_counter() - started) / max(1, len(issued)))
    figures[f"issue.invoices_per_s.{name}"] = 1 / min(issue_times)
    figures.update(_single_calls(name, billing, numbers))
    return figures, plan, billing, on_m1


def _single_calls(name: str, billing: cb.CustomerBilling, on_m1: list[str]) -> dict[str, float]:
    rng = random.Random(7)
    numbers = rng.sample(on_m1, min(300, len(on_m1)))
    figures = {}
    calls: dict[str, Callable[[str], object]] = {
        "get": lambda n: billing.get_customer(billing.get_account(n).customer),
        "edit": lambda n: billing.edit_account(n, taxable=not billing.get_account(n).taxable),
        "summary": lambda n: billing.account_summary(n),
        "search": lambda n: billing.search_customers(f"company {n[-3:]}", limit=25),
        # every word shared by a third of the customers or more (the names' last word)
        "search_common": lambda n: billing.search_customers(
            f"company {COMMON_WORDS[int(n[-1]) % 3]}", limit=25
        ),
    }
    for call, function in calls.items():
        latencies = []
        for number in numbers:
            started = time.perf_counter()
            function(number)
            latencies.append(time.perf_counter() - started)
        median, p99 = _quantiles(latencies)
        figures[f"latency_ms.{call}.median.{name}"] = median
        figures[f"latency_ms.{call}.p99.{name}"] = p99
    return figures


# -- other processes ------------------------------------------------------------------------


def _open(name: str) -> Store:
    return PostgresStore(name) if name.startswith("postgresql://") else SQLiteStore(name)


def plan_repeatedly(name: str, charges_file: str, seconds: float) -> int:
    """In another process: plan (and read) the run over and over for *seconds*."""
    with open(charges_file, "rb") as source:
        charges = pickle.load(source)
    billing = cb.CustomerBilling(store=_open(name))
    deadline = time.monotonic() + seconds
    plans = 0
    while time.monotonic() < deadline:
        _plan_and_read(billing, charges)
        plans += 1
    return plans


def measure_contention(name: str, store_name: str, charges: dict[str, cb.Money]) -> float:
    """The p99 (ms) of get_customer here while another process plans on the store."""
    billing = cb.CustomerBilling(store=_open(store_name))
    customers = [c.number for c in billing.search_customers("company", limit=500)]
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as out:
        pickle.dump(charges, out)
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        planner = pool.apply_async(plan_repeatedly, (store_name, out.name, 6.0))
        time.sleep(1.5)  # the other process is planning by now
        latencies = []
        while not planner.ready():
            number = customers[len(latencies) % len(customers)]
            started = time.perf_counter()
            billing.get_customer(number)
            latencies.append(time.perf_counter() - started)
            time.sleep(0.002)
        assert planner.get() >= 1
    os.unlink(out.name)
    billing.close()
    print(f"  {name}: {len(latencies)} reads during the plans", file=sys.stderr, flush=True)
    return _quantiles(latencies)[1]


#: Seconds a thread plans beside the reading one in measure_thread_contention.
THREAD_PLANNING_S = 3.0


def measure_thread_contention(
    name: str, billing: cb.CustomerBilling, charges: dict[str, cb.Money]
) -> float:
    """The p99 (ms) of get_customer in one thread while another thread of this process
    plans on the same store object (the threads of a web server sharing one store)."""
    customers = [c.number for c in billing.search_customers("company", limit=500)]
    stop = threading.Event()

    def plan() -> None:
        while not stop.is_set():
            _plan_and_read(billing, charges)

    planner = threading.Thread(target=plan)
    planner.start()
    latencies = []
    deadline = time.monotonic() + THREAD_PLANNING_S
    try:
        while time.monotonic() < deadline:
            number = customers[len(latencies) % len(customers)]
            started = time.perf_counter()
            billing.get_customer(number)
            latencies.append(time.perf_counter() - started)
            time.sleep(0.002)
    finally:
        stop.set()
        planner.join()
    print(f"  {name}: {len(latencies)} reads beside a planning thread", file=sys.stderr)
    return _quantiles(latencies)[1]


_worker_charges: dict[str, cb.Money] = {}


def _load_charges(charges_file: str) -> None:
    global _worker_charges
    with open(charges_file, "rb") as source:
        _worker_charges = pickle.load(source)


def issue_parts(name: str, run: date, parts: int = PARTS) -> int:
    """A split-run worker: issue parts until none is left; the invoices it issued."""
    billing = cb.CustomerBilling(store=_open(name))
    issued = 0
    while part := billing.issue_next_partition("m1", run, _worker_charges, partitions=parts):
        issued += len(part.invoices)
    billing.close()
    return issued


def measure_split_runs(
    store_name: str, billing: cb.CustomerBilling, on_m1: list[cb.BillingAccount]
) -> dict[str, float]:
    """Invoices per second of a run split in :data:`PARTS` parts, by 1, 2 and 4 workers,
    and what splitting costs: one worker's time an invoice on the split run against its
    time an invoice on a run issued whole (``split_run.cost_vs_whole``; 1 when the parts
    together do no more work than the whole)."""
    figures = {}
    rates = {}
    runs = [*((w, run, PARTS) for w, run in SPLIT_RUNS.items()), (0, WHOLE_RUN_DATE, 1)]
    for workers, run, parts in runs:
        charges = charges_for(on_m1, run)
        with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as out:
            pickle.dump(charges, out)
        context = multiprocessing.get_context("spawn")
        processes = max(1, workers)
        with context.Pool(processes, initializer=_load_charges, initargs=(out.name,)) as pool:
            pool.map(abs, range(processes))  # every worker has started and loaded the charges
            started = time.perf_counter()
            issued = sum(pool.starmap(issue_parts, [(store_name, run, parts)] * processes))
            rates[workers] = issued / (time.perf_counter() - started)
        os.unlink(out.name)
        status = billing.bill_run_status("m1", run)
        assert status.complete
        assert status.invoices == issued
        if workers:
            figures[f"split_run.invoices_per_s.{workers}_workers.postgres"] = rates[workers]
    figures["split_run.speedup_2_workers.postgres"] = rates[2] / rates[1]
    figures["split_run.invoices_per_s.whole.postgres"] = rates[0]
    figures["split_run.cost_vs_whole.postgres"] = rates[0] / rates[1]
    return figures


@contextmanager
def postgres_dsn() -> Iterator[str | None]:
    """A throw-away server's DSN, or None without PostgreSQL's binaries."""
    sys.path.insert(0, str(ROOT))
    from tests.storage.postgres_server import ServerUnavailable, postgres_server

    try:
        with postgres_server() as dsn:
            import psycopg

            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute("CREATE DATABASE custbill_bench")
            yield dsn.rsplit("/", 1)[0] + "/custbill_bench"
    except ServerUnavailable as exc:
        print(f"  no PostgreSQL: {exc}", file=sys.stderr)
        yield None


def measure_stores(size: int, repeat: int = 3) -> dict[str, float]:
    """Every key of the module's docstring, for *size* accounts."""
    figures: dict[str, float] = {"stores.accounts": size}
    plans: dict[str, cb.BillRunPlan] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="custbill-bench-") as folder:
        dsn = stack.enter_context(postgres_dsn())
        names = {"memory": None, "sqlite": os.path.join(folder, "bench.db"), "postgres": dsn}
        for name, location in names.items():
            if name == "postgres" and location is None:
                continue
            store = MemoryStore() if location is None else _open(location)
            found, plans[name], billing, on_m1 = measure_store(name, store, size, repeat)
            figures.update(found)
            if location is not None:
                charges = charges_for(on_m1, RUNS[0])
                figures[f"contention.read_p99_ms.{name}"] = measure_contention(
                    name, location, charges
                )
                figures[f"contention.thread_read_p99_ms.{name}"] = measure_thread_contention(
                    name, billing, charges
                )
                if name == "postgres":
                    figures.update(measure_split_runs(location, billing, on_m1))
            billing.close()
        figures["stores.accounts_on_run"] = len(on_m1)
    for name, plan in plans.items():
        assert plan == plans["memory"], f"the {name} store planned other invoices"
    memory = figures["plan_and_read.seconds.memory"]
    for name in ("sqlite", "postgres"):
        if f"plan.seconds.{name}" in figures:
            # (with every invoice read: what the targets are set on)
            figures[f"plan.vs_memory.{name}"] = figures[f"plan_and_read.seconds.{name}"] / memory
            figures[f"issue.vs_memory.{name}"] = (
                figures["issue.invoices_per_s.memory"] / figures[f"issue.invoices_per_s.{name}"]
            )
    return figures
