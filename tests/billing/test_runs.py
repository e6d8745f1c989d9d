"""Runs split into partitions, on every store: each part issued once, the run complete when
every part is, and a different plan for what was issued a conflict naming the run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from moneyed import Money

import custbill as cb
from custbill.model.billing import hierarchy_key
from custbill.storage import Store
from tests.conftest import (
    new_account,
    new_customer,
    standard_facade,
)

RUN = date(2026, 7, 1)


@pytest.fixture
def billing(make_store: Callable[[], Store]) -> Iterator[cb.CustomerBilling]:
    with standard_facade(make_store()) as facade:
        yield facade


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def _hierarchies(billing: cb.CustomerBilling, count: int) -> dict[str, Money]:
    """*count* tops, each with a managed account below it; a charge for every account."""
    charges = {}
    for index in range(count):
        customer, top = billing.create_customer(new_customer(), new_account())
        managed = billing.add_account(customer.number, new_account(responsible_account=top.number))
        charges[top.number] = usd(index + 1)
        charges[managed.number] = usd(100 + index)
    return charges


def test_workers_issue_every_part_once(billing: cb.CustomerBilling) -> None:
    """Calls of issue_next_partition take the parts one by one until none is left; the
    invoices together are the whole run's, each hierarchy on one part."""
    charges = _hierarchies(billing, 12)
    whole = billing.plan_bill_run("m1", RUN, charges)
    assert billing.bill_run_status("m1", RUN) == cb.BillRunStatus(
        bill_cycle="m1", run_date=RUN, partitions=None, issued=(), invoices=0
    )
    issued: list[cb.PartitionIssued] = []
    while (part := billing.issue_next_partition("m1", RUN, charges, partitions=4)) is not None:
        issued.append(part)
    assert sorted(p.partition.index for p in issued) == [0, 1, 2, 3]
    invoices = [i for p in issued for i in p.invoices]
    assert len({i.number for i in invoices}) == len(invoices)
    assert sorted((i.billed_account, i.accounts, i.total) for i in invoices) == sorted(
        (i.billed_account, i.accounts, i.total) for i in whole.invoices
    )
    status = billing.bill_run_status("m1", RUN)
    assert status.complete
    assert (status.partitions, status.issued) == (4, (0, 1, 2, 3))
    assert status.invoices == len(whole.invoices) == 12  # one per hierarchy (AGGREGATED)
    # the parts, planned again from the same charges, are the parts issued
    for part in issued:
        plan = billing.plan_bill_run("m1", RUN, charges, partition=part.partition)
        assert billing.issue_bill_run(plan) == part.invoices


def test_a_part_issued_from_another_plan_is_a_conflict(billing: cb.CustomerBilling) -> None:
    """Issuing half the charges, then the other half, as the same (whole) run: the second
    raises ConflictError naming the run and records nothing."""
    charges = _hierarchies(billing, 4)
    numbers = sorted(charges)
    first = {n: charges[n] for n in numbers[:4]}
    second = {n: charges[n] for n in numbers[4:]}
    issued = billing.issue_bill_run(billing.plan_bill_run("m1", RUN, first))
    with pytest.raises(cb.ConflictError, match="run m1 2026-07-01"):
        billing.issue_bill_run(billing.plan_bill_run("m1", RUN, second))
    assert sum(len(billing.invoices(n)) for n in numbers) == len(issued)


def test_another_split_of_the_same_run_is_a_conflict(billing: cb.CustomerBilling) -> None:
    """A run split in 2 cannot be issued as 3 parts, nor whole."""
    charges = _hierarchies(billing, 3)
    assert billing.issue_next_partition("m1", RUN, charges, partitions=2) is not None
    with pytest.raises(cb.ConflictError) as caught:
        billing.issue_next_partition("m1", RUN, charges, partitions=3)
    assert (caught.value.what, caught.value.expected, caught.value.actual) == (
        "partition count",
        3,
        2,
    )
    with pytest.raises(cb.ConflictError):
        billing.issue_bill_run(billing.plan_bill_run("m1", RUN, charges))
    assert billing.bill_run_status("m1", RUN).issued in ((0,), (1,))


@pytest.mark.parametrize(
    "partition",
    [cb.Partition(2, 2), cb.Partition(-1, 2), cb.Partition(0, 0), cb.Partition(0, 1025)],
)
def test_a_partition_out_of_range_is_refused(
    billing: cb.CustomerBilling, partition: cb.Partition
) -> None:
    with pytest.raises(cb.RuleViolationError) as caught:
        billing.plan_bill_run("m1", RUN, {}, partition=partition)
    assert [(v.code, v.path) for v in caught.value.violations] == [
        ("billing.partition_invalid", "partition")
    ]


def test_bad_calls_open_nothing(billing: cb.CustomerBilling) -> None:
    """A refused issue_next_partition leaves no trace of the run."""
    charges = _hierarchies(billing, 2)
    with pytest.raises(cb.RuleViolationError) as caught:
        billing.issue_next_partition("m1", RUN, charges, partitions=0)
    assert caught.value.violations[0].path == "partitions"
    with pytest.raises(cb.RuleViolationError):
        billing.issue_next_partition("m1", date(2026, 7, 2), charges, partitions=2)
    with pytest.raises(cb.NotFoundError):
        billing.issue_next_partition("nope", RUN, charges, partitions=2)
    with pytest.raises(TypeError):
        billing.issue_next_partition("m1", RUN, {"A-1": 5}, partitions=2)  # type: ignore[dict-item]
    assert billing.bill_run_status("m1", RUN).partitions is None
    # and the run can still be split as anyone likes
    assert billing.issue_next_partition("m1", RUN, charges, partitions=3) is not None


def test_a_part_refused_for_its_charges_stays_to_be_issued(billing: cb.CustomerBilling) -> None:
    """A worker whose part is refused (a charge it alone reports: a key no account holds)
    issues nothing of it; the other parts are issued, the refused part is taken again, and
    issued once the caller's charges are mended."""
    charges = _hierarchies(billing, 12)
    key = "A-\ud800"
    assert cb.Partition(2, 3).holds(hierarchy_key(key))  # the part workers take last
    bad = {**charges, key: usd(1)}
    outcomes = []
    for _ in range(4):  # a part each, then the refused one again
        try:
            part = billing.issue_next_partition("m1", RUN, bad, partitions=3)
            outcomes.append("none" if part is None else "issued")
        except cb.RuleViolationError as error:
            assert error.codes == {"billing.charge_not_billable"}
            outcomes.append("refused")
    assert outcomes == ["issued", "issued", "refused", "refused"]
    status = billing.bill_run_status("m1", RUN)
    assert len(status.issued) == 2 and not status.complete
    last = billing.issue_next_partition("m1", RUN, charges, partitions=3)
    assert last is not None and last.partition.index not in status.issued
    assert billing.issue_next_partition("m1", RUN, charges, partitions=3) is None
    done = billing.bill_run_status("m1", RUN)
    assert done.complete
    whole = billing.plan_bill_run("m1", RUN, charges)
    assert done.invoices == sum(not i.suppressed for i in whole.invoices)
