"""Bill runs split into partitions, and what makes an issued run the same run.

A run (a bill cycle and a run date) may be split into *count* partitions, each planned and
issued on its own, by any worker.  An account belongs to the partition of the top of its
responsible chain, so a billing hierarchy is never cut: the partition that
:meth:`~custbill.Partition.holds` that top account's
:func:`~custbill.model.billing.hierarchy_key`.  A store that keeps plan rows
hands the planner a partition's rows alone
(:meth:`~custbill.storage.protocols.PlanRowSource.plan_rows`); :func:`charges_of_rows`
picks the partition's charges beside them.

An issued partition keeps the :func:`plan_digest` of the plan that was issued; issuing a
plan for a partition already issued returns its invoices when the digests are equal and
raises :class:`~custbill.ConflictError` otherwise — a different plan never silently gets
another plan's invoices.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from moneyed import Money

from custbill.model import BillRunPlan, Violation
from custbill.model.billing import Partition, hierarchy_key, top_of
from custbill.model.plan_row import PlanRows
from custbill.rules import violation

#: The most partitions a run may be split into.  A partition is a row of the run table
#: that workers claim; more partitions than a few per worker only add claims, and a
#: thousand covers any fleet of workers custbill's stores can serve at once.
MAX_PARTITIONS = 1024


def check_partition(partition: Partition, field: str = "partition") -> tuple[Violation, ...]:
    """``billing.partition_invalid`` (on *field*) unless
    ``0 <= index < count <= MAX_PARTITIONS``."""
    if 1 <= partition.count <= MAX_PARTITIONS and 0 <= partition.index < partition.count:
        return ()
    return (
        violation(
            "billing.partition_invalid",
            field,
            f"{partition} is not a partition: the count must be 1 to {MAX_PARTITIONS}"
            " and the index 0 to count - 1",
            index=partition.index,
            count=partition.count,
        ),
    )


def charges_in(
    charges: Mapping[str, Money],
    partition: Partition,
    responsible_of: Callable[[str], str | None],
) -> Mapping[str, Money]:
    """The charges *partition* bills: those of accounts whose chain's top falls in it.

    *responsible_of* answers for the accounts of the run's cycle only (None for any other),
    so a charge for an account the run does not bill falls in the partition of its own
    number, and exactly one partition reports it.
    """
    if partition.count == 1:
        return charges
    memo: dict[str, str] = {}
    return {
        number: money
        for number, money in charges.items()
        if partition.holds(hierarchy_key(top_of(number, responsible_of, memo)))
    }


def charges_of_rows(
    charges: Mapping[str, Money], partition: Partition, rows: PlanRows
) -> Mapping[str, Money]:
    """The charges *partition* bills, where *rows* are the partition's own plan rows: those
    of its accounts, and those for no account of the cycle whose own number falls in the
    partition (so that exactly one partition reports each of them), as
    :func:`charges_in` finds them.  Only the second kind are looked up
    (:attr:`~custbill.model.plan_row.PlanRows.on_cycle`), a few in each partition."""
    if partition.count == 1:
        return charges
    row_of = rows.row_of
    billed: dict[str, Money] = {}
    strays: list[str] = []  # charges for no account of these rows, falling in the partition
    for number, money in charges.items():
        if row_of(number) is not None:
            billed[number] = money
        elif partition.holds(hierarchy_key(number)):
            strays.append(number)
    elsewhere = rows.on_cycle(strays) if strays else ()
    billed.update((n, charges[n]) for n in strays if n not in elsewhere)
    return billed


def plan_digest(plan: BillRunPlan) -> str:
    """A digest of what issuing *plan* records: its partition, each invoice's billed
    account, accounts, total, dates and suppression, in order, and the stored charges it
    bills (SHA-256, hex).  Two plans
    with equal digests issue the same invoices."""
    partition = plan.partition or Partition(0, 1)
    digest = hashlib.sha256(
        f"{plan.bill_cycle}|{plan.run_date.isoformat()}|{partition.index}|{partition.count}".encode()
    )
    for i in plan.invoices:
        line = (
            f"\n{i.billed_account}|{','.join(i.accounts)}|{i.total.amount.normalize():f}"
            f"|{i.total.currency.code}|{i.invoice_date.isoformat()}|{i.due_date.isoformat()}"
            f"|{i.auto_pay_date.isoformat() if i.auto_pay_date else ''}|{int(i.suppressed)}"
        )
        digest.update(line.encode())
    if plan.charges:  # (absent from a plan billing none, so such a plan keeps its digest)
        digest.update(f"\ncharges|{','.join(plan.charges)}".encode())
    return digest.hexdigest()


def run_name(bill_cycle: str, run_date: object, partition: Partition | None = None) -> str:
    """How errors name a run: ``"run m1 2026-07-01"`` (with ``", partition 1 of 4"``)."""
    name = f"run {bill_cycle} {run_date}"
    return name if partition is None or partition.count == 1 else f"{name}, {partition}"
