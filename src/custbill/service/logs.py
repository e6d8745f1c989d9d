"""What custbill tells a host's logs: the operations an operator wants to see (bill runs
planned and issued, dunning, terminations, customers created and erased) under the
``custbill`` logger, with numbers, codes and counts — never a personal value (names,
emails, tax numbers, dates of birth, addresses).

custbill configures no logging: the host's configuration decides what is shown (the
``custbill`` logger has a ``NullHandler``, as a library's should, so nothing is printed
unless the host asks)."""

from __future__ import annotations

import logging
from datetime import date

from custbill.model import BillRunPlan, DunningReport, Invoice, TerminationReport

_log = logging.getLogger("custbill")


def planned(plan: BillRunPlan) -> BillRunPlan:
    """Log a planned run (INFO) and hand it back."""
    _log.info(
        "planned bill run %s %s: %d invoices, %d accounts skipped, %d queued charges",
        plan.bill_cycle,
        plan.run_date,
        len(plan.invoices),
        len(plan.skipped),
        len(plan.charges),
    )
    return plan


def issued(cycle: str, run_date: date, invoices: tuple[Invoice, ...]) -> tuple[Invoice, ...]:
    """Log an issued run (INFO) and hand its invoices back."""
    _log.info("issued bill run %s %s: %d invoices recorded", cycle, run_date, len(invoices))
    return invoices


def dunned(report: DunningReport) -> DunningReport:
    """Log a dunning run (INFO, each step at DEBUG) and hand its report back."""
    _log.info(
        "dunning on %s: %d steps applied, %d refused, %d accounts reinstated",
        report.as_of,
        len(report.applied),
        len(report.refused),
        len(report.reinstated),
    )
    for notice in report.applied:
        _log.debug("dunning step on %s: %s", notice.account, notice.action.value)
    return report


def terminated(report: TerminationReport) -> TerminationReport:
    """Log a termination run (INFO) and hand its report back."""
    _log.info(
        "terminations on %s: %d accounts deactivated, %d waiting, %d refused",
        report.as_of,
        len(report.terminated),
        len(report.waiting),
        len(report.refused),
    )
    return report


def changed(what: str, number: str) -> None:
    """Log a customer or account created or erased (DEBUG), by number only."""
    _log.debug("%s %s", what, number)
