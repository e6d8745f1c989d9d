"""The store contract's tests of the logs: history, notes, deposits, charges, dunning
notices and the ledger (a part of :class:`~custbill.testing.StoreContract`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
from moneyed import Money

from custbill.model import AccountStatus, Change, Note
from custbill.model.billing import (
    Adjustment,
    Charge,
    Deposit,
    Invoice,
    IssuedPart,
    Payment,
)
from custbill.model.dunning import DunningNotice
from custbill.model.enums import AdjustmentKind, DepositAction, DunningAction
from custbill.storage.protocols import Store
from custbill.testing._data import START, usd


class LogsContract:
    """The logs' part of the store contract."""

    def test_history(self, store: Store) -> None:
        """Changes come back per number, oldest first; redaction masks values."""
        at = datetime(2026, 1, 1, tzinfo=UTC)
        changes = [
            Change(at=at, number=n, field=f, old=o, new="x")
            for n, f, o in (
                ("C-1", "created", None),
                ("A-1", "taxable", "false"),
                ("C-1", "company_name", "Acme"),
                ("C-1", "phones", None),
            )
        ]
        changes[1] = attrs.evolve(changes[1], actor="ann", reason="ticket 7")
        changes[3] = attrs.evolve(changes[3], actor="bob")
        with store.unit_of_work() as uow:
            uow.history.append(changes)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.history.of("C-1") == (changes[0], changes[2], changes[3])
            uow.history.redact("C-1", frozenset({"company_name", "phones"}), "[erased]")
            uow.commit()
        with store.unit_of_work() as uow:
            redacted = uow.history.of("C-1")
            assert redacted[0] == changes[0]
            assert (redacted[1].old, redacted[1].new) == ("[erased]", "[erased]")
            assert (redacted[2].old, redacted[2].new) == (None, "[erased]")
            assert uow.history.of("A-1") == (changes[1],)

    def test_notes(self, store: Store) -> None:
        """Notes come back per record in the order added; a deleted note is gone; a unit
        of work that does not commit leaves none."""
        at = datetime(2026, 1, 1, tzinfo=UTC)
        notes = [
            Note(number=f"N-{i}", about=about, text=f"note {i}", author="ann", at=at)
            for i, about in enumerate(("C-1", "A-1", "C-1", "C-1"), start=1)
        ]
        with store.unit_of_work() as uow:
            for note in notes:
                uow.notes.add(note)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.notes.of("C-1") == (notes[0], notes[2], notes[3])
            assert uow.notes.get("N-2") == notes[1]
            uow.notes.delete("N-3")
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.notes.of("C-1") == (notes[0], notes[3])
            assert uow.notes.get("N-3") is None
            uow.notes.delete("N-1")
            uow.notes.add(Note(number="N-9", about="C-1", text="x", author="b", at=at))
        with store.unit_of_work() as uow:  # not committed: nothing of it stayed
            assert uow.notes.of("C-1") == (notes[0], notes[3])
            assert uow.notes.of("C-404") == ()

    def test_deposits(self, store: Store) -> None:
        """Deposit movements come back per account, oldest first; uncommitted ones do
        not stay."""
        day = date(2026, 1, 1)
        moves = [
            Deposit(number="D-1", account="A-1", action=DepositAction.HELD, amount=usd(9), on=day),
            Deposit(
                number="D-2",
                account="A-1",
                action=DepositAction.APPLIED,
                amount=usd(4),
                on=day,
                invoice="I-1",
            ),
            Deposit(number="D-3", account="A-2", action=DepositAction.HELD, amount=usd(1), on=day),
        ]
        with store.unit_of_work() as uow:
            for move in moves:
                uow.ledger.add_deposit(move)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.ledger.deposits_of("A-1") == tuple(moves[:2])
            uow.ledger.add_deposit(attrs.evolve(moves[2], number="D-4", account="A-1"))
        with store.unit_of_work() as uow:
            assert uow.ledger.deposits_of("A-1") == tuple(moves[:2])
            assert uow.ledger.deposits_of("A-2") == (moves[2],)

    def test_charges(self, store: Store) -> None:
        """Charges come back by number and per account, oldest first; the pending ones of
        every account in the order queued; billing one takes it off the pending, in the
        unit of work that commits it only."""
        day = date(2026, 1, 1)
        queued = [
            Charge(number=f"CH-{i}", account=a, amount=usd(i), description=f"fee {i}", on=day)
            for i, a in enumerate(("A-1", "A-2", "A-1", "A-3"), start=1)
        ]
        with store.unit_of_work() as uow:
            for charge in queued:
                uow.ledger.add_charge(charge)
            uow.commit()
        billed_on = date(2026, 2, 1)
        with store.unit_of_work() as uow:
            assert uow.ledger.pending_charges() == tuple(queued)
            uow.ledger.bill_charge("CH-1", billed_on, "I-7")
            uow.ledger.bill_charge("CH-4", billed_on, None)
            uow.commit()
        first = attrs.evolve(queued[0], billed_on=billed_on, invoice="I-7")
        with store.unit_of_work() as uow:
            assert uow.ledger.charge("CH-1") == first
            assert uow.ledger.charge("CH-9") is None
            assert uow.ledger.charges_of("A-1") == (first, queued[2])
            assert uow.ledger.pending_charges() == (queued[1], queued[2])
            assert uow.ledger.charges_of("A-3") == (attrs.evolve(queued[3], billed_on=billed_on),)
            uow.ledger.bill_charge("CH-2", billed_on, "I-8")
            uow.ledger.add_charge(attrs.evolve(queued[1], number="CH-5"))
        with store.unit_of_work() as uow:  # not committed: nothing of it stayed
            assert uow.ledger.pending_charges() == (queued[1], queued[2])
            assert uow.ledger.charge("CH-2") == queued[1]
            assert uow.ledger.charge("CH-5") is None

    def test_dunning_notices(self, store: Store) -> None:
        """Dunning notices come back per account, oldest first; uncommitted ones do not
        stay."""
        day = date(2026, 3, 14)
        notices = [
            DunningNotice(
                number=f"DN-{i}",
                account=account,
                on=day,
                plan="std",
                step=i,
                action=action,
                text=action.value.lower(),
                overdue=usd(100),
                since=date(2026, 3, 3),
                days_overdue=11,
                status=status,
            )
            for i, (account, action, status) in enumerate(
                (
                    ("A-1", DunningAction.NOTIFY, None),
                    ("A-2", DunningAction.NOTIFY, None),
                    ("A-1", DunningAction.SUSPEND, AccountStatus.SUSPENDED),
                )
            )
        ]
        with store.unit_of_work() as uow:
            for notice in notices:
                uow.ledger.add_dunning_notice(notice)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.ledger.dunning_notices_of("A-1") == (notices[0], notices[2])
            uow.ledger.add_dunning_notice(attrs.evolve(notices[1], number="DN-9"))
        with store.unit_of_work() as uow:
            assert uow.ledger.dunning_notices_of("A-2") == (notices[1],)
            assert uow.ledger.dunning_notices_of("A-3") == ()

    def test_ledger(self, store: Store) -> None:
        """Invoices, payments, adjustments, pending amounts and issued runs."""
        usd = Money("12.50", "USD")
        invoice = Invoice(
            number="I-1",
            bill_cycle="m1",
            billed_account="A-1",
            accounts=("A-1", "A-2"),
            total=usd,
            invoice_date=START,
            due_date=START,
            auto_pay_date=None,
        )
        payment = Payment(number="P-1", account="A-1", amount=usd, received_on=START)
        adjustment = Adjustment(
            number="J-1",
            account="A-1",
            kind=AdjustmentKind.CREDIT,
            amount=usd,
            on=START,
            reason="goodwill",
        )
        with store.unit_of_work() as uow:
            assert uow.ledger.run_parts("m1", START) == ()
            uow.ledger.add_invoice(invoice)
            uow.ledger.add_payment(payment)
            uow.ledger.add_adjustment(adjustment)
            uow.ledger.set_pending("A-1", usd)
            uow.ledger.set_pending("A-2", usd)
            uow.ledger.set_pending("A-2", None)
            assert uow.ledger.open_run("m1", START, 1) == 1
            assert uow.ledger.claim_part("m1", START, 0) == 0
            uow.ledger.record_part("m1", START, IssuedPart(0, 1, "d1", ("I-1",)))
            assert uow.ledger.open_run("m15", START, 3) == 3
            assert uow.ledger.open_run("m15", START, 2) == 3  # the first count stays
            uow.commit()
        with store.unit_of_work() as uow:
            taken = uow.ledger.claim_part("m15", START, None)
            assert taken is not None
            uow.ledger.record_part("m15", START, IssuedPart(taken, 3, "d2", ()))
            assert uow.ledger.claim_part("m15", START, taken) is None  # issued now
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.ledger.invoice("I-1") == invoice
            assert uow.ledger.invoice("P-1") is None
            assert uow.ledger.invoices_of("A-1") == (invoice,)
            assert uow.ledger.payments_of("A-1") == (payment,)
            assert uow.ledger.adjustments_of("A-1") == (adjustment,)
            assert uow.ledger.invoices_of("A-2") == ()
            assert uow.ledger.pending("A-1") == usd
            assert uow.ledger.pending("A-2") is None
            assert uow.ledger.run_parts("m1", START) == (IssuedPart(0, 1, "d1", ("I-1",)),)
            assert uow.ledger.run_parts("m15", START) == (IssuedPart(taken, 3, "d2", ()),)
            assert uow.ledger.claim_part("m1", START, None) is None
            rest = {uow.ledger.claim_part("m15", START, i) for i in range(3)} - {None}
            assert rest == set(range(3)) - {taken}
