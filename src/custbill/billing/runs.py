"""Bill runs split into partitions, and what makes an issued run the same run.

A run (a bill cycle and a run date) may be split into *count* partitions, each planned and
issued on its own, by any worker.  An account belongs to the partition of the top of its
responsible chain, so a billing hierarchy is never cut: :func:`partition_of` hashes that
top account's number (CRC-32, the same in every process and on every machine, unlike
Python's ``hash`` of a string).

An issued partition keeps the :func:`plan_digest` of the plan that was issued; issuing a
plan for a partition already issued returns its invoices when the digests are equal and
raises :class:`~custbill.ConflictError` otherwise — a different plan never silently gets
another plan's invoices.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Mapping

from moneyed import Money

from custbill.billing.plan import top_of
from custbill.model import BillRunPlan, Violation
from custbill.model.billing import Partition
from custbill.model.plan_row import NUMBER, RESPONSIBLE, PlanRow, PlanRows
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


def partition_of(top: str, count: int) -> int:
    """The partition (of *count*) that bills the hierarchy whose top account is *top*."""
    return zlib.crc32(top.encode("utf-8")) % count


def rows_in(rows: PlanRows, partition: Partition) -> PlanRows:
    """The plan rows of *partition*'s accounts (a cycle's rows, as a store hands them)."""
    if partition.count == 1:
        return rows
    index, count = partition.index, partition.count
    row_of = rows.row_of
    memo: dict[str, str] = {}

    def responsible_of(number: str) -> str | None:
        row = row_of(number)
        return None if row is None else row[RESPONSIBLE]

    kept: dict[str, PlanRow] = {}
    for row in rows.rows:
        number = row[NUMBER]
        top = number if row[RESPONSIBLE] is None else top_of(number, responsible_of, memo)
        if partition_of(top, count) == index:
            kept[number] = row
    return PlanRows(
        kept.values(),
        [row for row in rows.managed if row[NUMBER] in kept],
        kept.get,
        rows.read_many,
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
        if partition_of(top_of(number, responsible_of, memo), partition.count) == partition.index
    }


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
