"""The in-memory store's plan rows, kept per bill cycle for the row planner.

See :mod:`custbill.model.plan_row` for what a row holds and
:mod:`custbill.billing.plan_rows` for how runs are planned from them.
"""

from __future__ import annotations

from custbill.model.plan_row import NUMBER, RESPONSIBLE, PlanRow, PlanRows


class CycleRows:
    """The plan rows of one bill cycle's accounts, by number, kept in number order.

    Numbers mostly arrive in order, so the rows live in a plain dict (insertion order) and
    are only re-sorted, once, when a number arrived out of order since the last read.  The
    rows of managed accounts are also kept apart: planning walks them first.
    """

    __slots__ = ("last", "managed", "ordered", "rows")

    def __init__(self) -> None:
        self.rows: dict[str, PlanRow] = {}
        self.managed: dict[str, PlanRow] = {}
        self.ordered = True
        self.last = ""

    def put(self, row: PlanRow) -> None:
        """Add or replace the row of the row's account."""
        number = row[NUMBER]
        if self.rows.setdefault(number, row) is row:  # a new number: one lookup
            if number < self.last:
                self.ordered = False
            else:
                self.last = number
        else:
            self.rows[number] = row
        if row[RESPONSIBLE] is not None:
            self.managed[number] = row
        elif self.managed:
            self.managed.pop(number, None)

    def drop(self, number: str) -> None:
        """Forget the row of *number*."""
        del self.rows[number]
        self.managed.pop(number, None)

    def in_order(self) -> dict[str, PlanRow]:
        """The rows by number, the dict in number order."""
        if not self.ordered:
            self.rows = dict(sorted(self.rows.items()))
            self.ordered = True
        return self.rows

    def plan_rows(self) -> PlanRows:
        """The rows as the row planner takes them."""
        rows = self.in_order()
        return PlanRows(rows.values(), self.managed.values(), rows.get)
