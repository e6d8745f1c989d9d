"""A bill run split across worker processes on the SQL stores is issued exactly once, even
when a worker is killed holding a part (writers racing on the rules' invariants are
``test_writers.py``'s)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import custbill as cb
from tests.storage import run_workers
from tests.storage.conftest import in_processes

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


def _check_run(name: str, charges: dict[str, cb.Money]) -> None:
    """Every part of the run issued once: the invoices are the whole run's, numbered
    uniquely, and the run is complete."""
    billing = run_workers.facade(name)
    status = billing.bill_run_status("m1", run_workers.RUN)
    assert status.complete and status.partitions == run_workers.PARTS
    invoices = [i for n in charges for i in billing.invoices(n)]
    assert len({i.number for i in invoices}) == len(invoices) == status.invoices
    whole = billing.plan_bill_run("m1", run_workers.RUN, charges)  # (a plan records nothing)
    assert sorted((i.billed_account, i.total) for i in invoices) == sorted(
        (i.billed_account, i.total) for i in whole.invoices
    )
    billing.close()


def test_worker_processes_issue_a_split_run_once(store_name: str) -> None:
    """4 worker processes started at once take the 8 parts between them, each part once."""
    charges = run_workers.populate(store_name, 40)
    done = in_processes(run_workers.issue_parts, [(store_name,)] * WORKERS)
    assert sorted(i for worker in done for i in worker) == list(range(run_workers.PARTS))
    _check_run(store_name, charges)


def test_a_worker_killed_holding_a_part_leaves_it_to_the_others(
    store_name: str, tmp_path: Path
) -> None:
    """A worker killed with SIGKILL while it holds a part leaves nothing of that part; the
    other workers then issue every part, that one included."""
    charges = run_workers.populate(store_name, 40)
    marker = tmp_path / "holding"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.run_workers", store_name, str(marker)], cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert worker.poll() is None, "the worker ended before it held a part"
        assert time.monotonic() < deadline, "the worker never held a part"
        time.sleep(0.05)
    status = run_workers.facade(store_name).bill_run_status  # (reads wait for no writer)
    assert status("m1", run_workers.RUN).issued == ()
    worker.send_signal(signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL
    done = in_processes(run_workers.issue_parts, [(store_name,)] * 2)
    assert sorted(i for worker in done for i in worker) == list(range(run_workers.PARTS))
    _check_run(store_name, charges)
