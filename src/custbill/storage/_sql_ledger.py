"""The ledger of the SQL stores: invoices, payments, adjustments, deposits, dunning notices,
charges (in a table of their own: a run reads the pending ones by an index of them), carried
amounts and the parts of bill runs (claimed with row locks where the database has them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

import attrs
from moneyed import Money

from custbill.model.billing import Adjustment, Charge, Deposit, Invoice, IssuedPart, Payment
from custbill.model.dunning import DunningNotice
from custbill.serialization import from_json
from custbill.serialization import to_compact_json as to_json
from custbill.storage._sql_writes import Dialect, Writes
from custbill.storage.invoice_json import invoice_json

R = TypeVar("R", Invoice, Payment, Adjustment, Deposit, DunningNotice)


class SQLLedger:
    def __init__(self, db: Writes, dialect: Dialect) -> None:
        self.db = db
        self.dialect = dialect

    def _add(
        self,
        record: Invoice | Payment | Adjustment | Deposit | DunningNotice,
        account: str,
        data: str,
    ) -> None:
        self.db.insert(
            "INSERT INTO ledger (number, account, kind, data) VALUES (?, ?, ?, ?)",
            [(record.number, account, type(record).__name__, data)],
        )

    def _of(self, account: str, kind: type[R]) -> tuple[R, ...]:
        rows = self.db.all(
            "SELECT data FROM ledger WHERE account = ? AND kind = ? ORDER BY seq",
            (account, kind.__name__),
        )
        return tuple(from_json(kind, r[0]) for r in rows)

    def invoice(self, number: str) -> Invoice | None:
        row = self.db.one(
            "SELECT data FROM ledger WHERE number = ? AND kind = 'Invoice'", (number,)
        )
        return None if row is None else from_json(Invoice, row[0])

    def add_invoice(self, invoice: Invoice) -> None:
        self._add(invoice, invoice.billed_account, invoice_json(invoice))

    def invoices_of(self, account: str) -> tuple[Invoice, ...]:
        return self._of(account, Invoice)

    def add_payment(self, payment: Payment) -> None:
        self._add(payment, payment.account, to_json(payment))

    def payments_of(self, account: str) -> tuple[Payment, ...]:
        return self._of(account, Payment)

    def add_adjustment(self, adjustment: Adjustment) -> None:
        self._add(adjustment, adjustment.account, to_json(adjustment))

    def adjustments_of(self, account: str) -> tuple[Adjustment, ...]:
        return self._of(account, Adjustment)

    def add_deposit(self, deposit: Deposit) -> None:
        self._add(deposit, deposit.account, to_json(deposit))

    def deposits_of(self, account: str) -> tuple[Deposit, ...]:
        return self._of(account, Deposit)

    def add_dunning_notice(self, notice: DunningNotice) -> None:
        self._add(notice, notice.account, to_json(notice))

    def dunning_notices_of(self, account: str) -> tuple[DunningNotice, ...]:
        return self._of(account, DunningNotice)

    def add_charge(self, charge: Charge) -> None:
        self.db.insert(
            "INSERT INTO charges (number, account, billed_on, data) VALUES (?, ?, ?, ?)",
            [(charge.number, charge.account, None, to_json(charge))],
        )

    def _charges(self, where: str, params: tuple[str, ...]) -> tuple[Charge, ...]:
        rows = self.db.all(f"SELECT data FROM charges WHERE {where} ORDER BY seq", params)
        return tuple(from_json(Charge, r[0]) for r in rows)

    def charge(self, number: str) -> Charge | None:
        found = self._charges("number = ?", (number,))
        return found[0] if found else None

    def charges_of(self, account: str) -> tuple[Charge, ...]:
        return self._charges("account = ?", (account,))

    def pending_charges(self) -> tuple[Charge, ...]:
        return self._charges("billed_on IS NULL", ())

    def bill_charge(self, number: str, billed_on: date, invoice: str | None) -> None:
        charge = self.charge(number)
        assert charge is not None, "only a stored charge is billed"
        billed = attrs.evolve(charge, billed_on=billed_on, invoice=invoice)
        self.db.run(
            "UPDATE charges SET billed_on = ?, data = ? WHERE number = ?",
            (billed_on.isoformat(), to_json(billed), number),
        )

    def pending(self, account: str) -> Money | None:
        row = self.db.one(
            "SELECT data FROM pending WHERE account = ? AND data IS NOT NULL", (account,)
        )
        if row is None:
            return None
        amount, currency = row[0].split()
        return Money(amount, currency)

    def pending_amounts(self) -> Mapping[str, Money]:
        found = {}
        for account, data in self.db.all(
            "SELECT account, data FROM pending WHERE data IS NOT NULL"
        ):
            amount, currency = data.split()
            found[account] = Money(amount, currency)
        return found

    def set_pending(self, account: str, amount: Money | None) -> None:
        # an upsert, NULL for none: it waits with the unit's other inserts, so a run that
        # moves many accounts' amounts sends them together
        data = None if amount is None else f"{amount.amount} {amount.currency.code}"
        self.db.insert(
            "INSERT INTO pending (account, data) VALUES (?, ?)"
            " ON CONFLICT (account) DO UPDATE SET data = excluded.data",
            [(account, data)],
        )

    def open_run(self, bill_cycle: str, run_date: date, partitions: int) -> int:
        on = run_date.isoformat()
        self.db.many(
            "INSERT INTO run_parts (bill_cycle, run_date, part, parts) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (bill_cycle, run_date, part) DO NOTHING",
            [(bill_cycle, on, part, partitions) for part in range(partitions)],
        )
        row = self.db.one(
            "SELECT parts FROM run_parts WHERE bill_cycle = ? AND run_date = ? AND part = 0",
            (bill_cycle, on),
        )
        assert row is not None, "a run's part 0 is there once the run is opened"
        return int(row[0])

    def claim_part(self, bill_cycle: str, run_date: date, partition: int | None) -> int | None:
        where = "bill_cycle = ? AND run_date = ? AND invoices IS NULL"
        params: tuple[Any, ...] = (bill_cycle, run_date.isoformat())
        if partition is None:
            sql = f"SELECT part FROM run_parts WHERE {where} ORDER BY part LIMIT 1"
            row = self.db.one(sql + self.dialect.lock_skipping, params)
        else:
            sql = f"SELECT part FROM run_parts WHERE {where} AND part = ?"
            row = self.db.one(sql + self.dialect.lock, (*params, partition))
        return None if row is None else int(row[0])

    def run_parts(self, bill_cycle: str, run_date: date) -> tuple[IssuedPart, ...]:
        rows = self.db.all(
            "SELECT part, parts, digest, invoices FROM run_parts WHERE bill_cycle = ?"
            " AND run_date = ? AND invoices IS NOT NULL ORDER BY part",
            (bill_cycle, run_date.isoformat()),
        )
        return tuple(
            IssuedPart(part, parts, digest, tuple(n for n in invoices.split(",") if n))
            for part, parts, digest, invoices in rows
        )

    def record_part(self, bill_cycle: str, run_date: date, part: IssuedPart) -> None:
        self.db.run(
            "UPDATE run_parts SET digest = ?, invoices = ?"
            " WHERE bill_cycle = ? AND run_date = ? AND part = ?",
            (
                part.digest,
                ",".join(part.invoices),
                bill_cycle,
                run_date.isoformat(),
                part.partition,
            ),
        )
