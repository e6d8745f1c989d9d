"""SQLiteStore specifics: schema versions, pragmas, and indexes for every lookup."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import date
from functools import partial
from pathlib import Path

import pytest
from moneyed import Money

import custbill as cb
from custbill.billing.plan import plan_run
from custbill.model.billing import hierarchy_key
from custbill.service.ledger import ends_of
from custbill.storage import SQLiteStore, _sql_writes
from custbill.storage._sql import MIGRATIONS
from custbill.testing import facade_for, new_account, new_customer


def test_schema_is_versioned_and_migrated_once(tmp_path: Path) -> None:
    """A new file gets every migration; reopening it applies none again."""
    path = tmp_path / "v.db"
    store = SQLiteStore(path)
    assert store.schema_version == len(MIGRATIONS)
    facade_for(store).create_customer(new_customer(), new_account())
    store.close()
    again = SQLiteStore(path)
    assert again.schema_version == len(MIGRATIONS)
    assert cb.CustomerBilling(store=again).get_customer("C-000001").name == "Acme Brick"


def test_durable_settings(tmp_path: Path) -> None:
    """WAL and synchronous=FULL unless asked otherwise."""
    store = SQLiteStore(tmp_path / "p.db")
    assert store.connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store.connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    normal = SQLiteStore(tmp_path / "n.db", synchronous="NORMAL")
    assert normal.connection.execute("PRAGMA synchronous").fetchone() == (1,)
    with pytest.raises(TypeError, match="synchronous"):
        SQLiteStore(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]


def test_a_locked_database_is_a_storage_error(tmp_path: Path) -> None:
    """While another connection holds the write lock, reads (and opening an up-to-date
    store) go on from a snapshot; a write that cannot get the lock in time raises
    StorageError (a CustbillError), and so does opening a store that must migrate."""
    path = tmp_path / "l.db"
    store = SQLiteStore(path, busy_timeout=0.1)
    billing = cb.CustomerBilling(store=store)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(cb.NotFoundError):
        billing.get_customer("C-1")
    SQLiteStore(path, busy_timeout=0.1).close()
    with pytest.raises(cb.StorageError):
        billing.add_account_category(cb.AccountCategory(id="x", name="X"))
    fresh = tmp_path / "fresh.db"
    fresh_blocker = sqlite3.connect(fresh, isolation_level=None)
    fresh_blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(cb.CustbillError):
        SQLiteStore(fresh, busy_timeout=0.1)
    fresh_blocker.execute("ROLLBACK")
    blocker.execute("ROLLBACK")
    billing.add_account_category(cb.AccountCategory(id="x", name="X"))
    assert [c.id for c in billing.catalog(cb.AccountCategory)] == ["x"]


# Listings of everything, the count of custom field definitions, and the carried-forward
# amounts a bill run reads whole (a small table: only suppressed invoices' amounts).
_FULL_LISTINGS = (
    "FROM customers ORDER BY number",
    "FROM accounts ORDER BY number",
    "COUNT(*) FROM custom_fields",
    "FROM pending",
)


def test_lookups_use_indexes(tmp_path: Path) -> None:
    """Every statement the facade runs finds its rows through an index; only the listings
    of everything (and counting custom field definitions) read a whole table."""
    store = SQLiteStore(tmp_path / "i.db")
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)
    billing = facade_for(store)
    customer, top = billing.create_customer(
        new_customer(external_number="X"), new_account(external_number="Y")
    )
    below = billing.add_account(
        customer.number, new_account(responsible_account=top.number, parent_account=top.number)
    )
    billing.edit_customer(customer.number, company_name="Renamed")
    billing.edit_account(below.number, taxable=True)
    billing.search_customers("ren")
    billing.search_accounts("ren x")
    billing.accounts_of(customer.number)
    billing.managed_accounts(top.number)
    billing.child_accounts(top.number)
    billing.history(customer.number)
    billing.erase_customer(customer.number)
    billing.add_charge(top.number, Money(3, "USD"), "setup", on=date(2026, 6, 5))
    billing.charges(top.number)
    plan = billing.plan_bill_run("m1", date(2026, 7, 1), {below.number: Money(5, "USD")})
    billing.issue_bill_run(plan)
    billing.record_payment(top.number, Money(5, "USD"), date(2026, 7, 2))
    billing.account_summary(top.number)
    store.connection.set_trace_callback(None)
    checked = 0
    for sql in set(statements):
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            continue
        if any(listing in sql for listing in _FULL_LISTINGS):
            continue
        plan_rows = store.connection.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        details = [row[-1] for row in plan_rows]
        # a SCAN of a search's sub-query result (w0, w1, ..., counted, found) reads rows
        # already found by index; a scan of the partial index of pending charges reads
        # only those
        scans = [
            d
            for d in details
            if d.startswith("SCAN")
            and "CONSTANT ROW" not in d
            and not re.match(r"SCAN (w\d+|counted|found)\b", d)
            and not d.endswith("USING INDEX charges_pending")
        ]
        assert not scans, (sql, details)
        checked += 1
    assert checked >= 20


def _record(number: str, name: str) -> cb.Customer:
    """A stored customer record, written past the facade."""
    return cb.Customer(
        number=number,
        default_account="A-1",
        kind=cb.CustomerKind.COMPANY,
        company_name=name,
        primary_email="a@b.example",
    )


def test_waiting_inserts_are_seen_by_every_later_statement(tmp_path: Path) -> None:
    """Inside a batch, rows that wait are read back, searched and counted as taken."""
    billing = facade_for(SQLiteStore(tmp_path / "w.db"))
    with billing.batch():
        customer, account = billing.create_customer(new_customer("Waiting Co"), new_account())
        assert billing.get_customer(customer.number) == customer
        assert billing.get_account(account.number) == account
        assert [c.number for c in billing.search_customers("waiting")] == [customer.number]
        assert [c.field for c in billing.history(customer.number)] == ["created"]
        with pytest.raises(cb.RuleViolationError) as caught:
            billing.create_customer(new_customer(number=customer.number), new_account())
        assert caught.value.violations[0].code == "customer.number_taken"
    assert billing.get_customer(customer.number) == customer


def test_waiting_inserts_go_in_when_too_many_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past WAITING_ROWS rows, the waiting rows are inserted at once."""
    monkeypatch.setattr(_sql_writes, "WAITING_ROWS", 5)
    store = SQLiteStore(tmp_path / "m.db")
    billing = facade_for(store)
    with store.unit_of_work() as uow:
        for i in range(3):  # three rows each: customer, two name tokens
            uow.customers.add(_record(f"C-{i}", "Two Words"))
            assert uow.db.count == [3, 0, 3][i]  # the second customer's rows make six
        inserted = uow.db.db.one("SELECT count(*) FROM customers")  # not through Writes
        assert inserted == (2,)
        uow.commit()
    assert [c.number for c in billing.search_customers("two")] == ["C-0", "C-1", "C-2"]


def test_waiting_inserts_of_a_rolled_back_unit_are_dropped(tmp_path: Path) -> None:
    """A unit of work left without commit leaves no row, waiting or written."""
    store = SQLiteStore(tmp_path / "r.db")
    billing = facade_for(store)
    with store.unit_of_work() as uow:
        uow.customers.add(_record("C-9", "Gone"))
        assert uow.db.count == 2
    with store.unit_of_work() as uow:
        assert uow.db.count == 0
        uow.commit()
    assert billing.search_customers("gone") == ()
    assert store.connection.execute("SELECT count(*) FROM customer_tokens").fetchone() == (0,)


def test_a_failing_waiting_insert_commits_nothing(tmp_path: Path) -> None:
    """Two records under one number: the commit fails with a StorageError and writes none."""
    store = SQLiteStore(tmp_path / "f.db")
    billing = facade_for(store)
    record = _record("C-1", "Twice")
    with pytest.raises(cb.StorageError, match="UNIQUE"), store.unit_of_work() as uow:
        uow.customers.add(record)
        uow.customers.add(record)
        uow.commit()
    assert billing.search_customers("twice") == ()
    assert store.connection.execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_a_savepoint_is_sent_only_when_a_statement_follows(tmp_path: Path) -> None:
    """Inserts inside a savepoint wait with the others; the SAVEPOINT statement goes to the
    database only with the next read, between the rows before it and those after."""
    store = SQLiteStore(tmp_path / "s.db")
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)
    with store.unit_of_work() as uow:
        uow.customers.add(_record("C-1", "Before"))
        with uow.savepoint():
            uow.customers.add(_record("C-2", "Inside"))
            assert not any("SAVEPOINT" in s for s in statements)
            assert uow.customers.get("C-1") is not None  # a read: the rows and the savepoint go
        uow.commit()
    sent = [s.split()[0] + (" " + s.split()[2] if "INTO" in s else "") for s in statements]
    first_savepoint = sent.index("SAVEPOINT")
    assert "INSERT customers" in sent[:first_savepoint]  # C-1 before the savepoint...
    assert "INSERT customers" in sent[first_savepoint:]  # ...and C-2 after it
    assert "RELEASE" in sent


def test_a_savepoint_behind_rows_that_failed_cannot_be_gone_back_to(tmp_path: Path) -> None:
    """When rows that waited before a savepoint are refused by the database, going back to
    the savepoint is impossible: StorageError, and the unit commits nothing."""
    store = SQLiteStore(tmp_path / "b.db")
    with store.unit_of_work() as uow:
        uow.customers.add(_record("C-1", "First"))
        uow.commit()
    with store.unit_of_work() as uow:
        uow.customers.add(_record("C-1", "Again"))  # waits; refused when it goes in
        with pytest.raises(cb.StorageError, match="cannot go back"), uow.savepoint():
            uow.customers.get("C-1")  # sends the waiting rows: the duplicate fails
    with store.unit_of_work() as uow:
        assert [c.company_name for c in uow.customers.all()] == ["First"]


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def test_a_database_of_the_first_schema_is_migrated(tmp_path: Path) -> None:
    """A file written by custbill's first schema (``data/schema_v1.db``: three accounts, a
    run issued, an amount carried) opens migrated: the plan columns filled from the
    records, the carried amount kept, the issued run its part 0 of 1 — the same plan gives
    back its invoices, a different one is a conflict."""
    path = tmp_path / "v1.db"
    shutil.copy(Path(__file__).parent / "data" / "schema_v1.db", path)
    store = SQLiteStore(path)
    assert store.schema_version == len(MIGRATIONS)
    billing = cb.CustomerBilling(store=store)
    july, august = date(2026, 7, 1), date(2026, 8, 1)
    charges = {"A-000001": usd(4), "A-000002": usd(20), "A-000003": usd(5)}
    (issued,) = billing.issue_bill_run(billing.plan_bill_run("m1", july, charges))
    assert (issued.number, issued.total) == ("I-000001", usd(25))
    with pytest.raises(cb.ConflictError, match="run m1 2026-07-01"):
        billing.issue_bill_run(billing.plan_bill_run("m1", july, {"A-000002": usd(1)}))
    assert billing.account_summary("A-000001").pending_charges == usd(4)
    plan = billing.plan_bill_run("m1", august, {"A-000001": usd(7), "A-000002": usd(1)})
    with store.unit_of_work(read_only=True) as uow:
        cycle = uow.catalog.get(cb.BillCycle, "m1")
        assert cycle is not None
        oracle = plan_run(
            cycle,
            august,
            [a for n in uow.accounts.on_bill_cycle("m1") if (a := uow.accounts.get(n))],
            {"A-000001": usd(7), "A-000002": usd(1)},
            account=uow.accounts.get,
            primary_email=lambda n: c.primary_email if (c := uow.customers.get(n)) else None,
            end_of=ends_of(uow),
            payment_term=partial(uow.catalog.get, cb.PaymentTerm),
            pending=uow.ledger.pending_amounts(),
            settings=uow.settings.get() or cb.Settings(),
        )
    assert list(plan.invoices) == list(oracle.invoices)
    assert plan.invoices[0].total == usd(11)  # the carried 4 with the new 7
    assert plan.invoices[1].recipients == ("ap@brick.example",)
    with sqlite3.connect(path) as db:  # each account's top key is its chain top's
        keys = dict(db.execute("SELECT number, top_key FROM accounts"))
        above = dict(db.execute("SELECT number, responsible FROM accounts"))
    assert any(above.values())  # (the file has a hierarchy)
    for number, key in keys.items():
        top = number
        while above[top] is not None:
            top = above[top]
        assert key == hierarchy_key(top)
    for count in (2, 3):  # so the parts of a split run are the whole run's
        parts = [
            billing.plan_bill_run(
                "m1",
                august,
                {"A-000001": usd(7), "A-000002": usd(1)},
                partition=cb.Partition(i, count),
            )
            for i in range(count)
        ]
        assert sorted(i.billed_account for p in parts for i in p.invoices) == sorted(
            i.billed_account for i in plan.invoices
        )


def test_keys_written_before_identity_keys_are_refreshed(tmp_path: Path) -> None:
    """A database of the second schema, whose name keys were only case-folded and whose
    tokens kept invisible characters, opens with identity keys: a full-width name with a
    zero-width space is found by its plain spelling and taken by it."""
    path = tmp_path / "v2.db"
    name, number = "\uff21\uff23\uff2d\uff25\u200b Ltd", "\uff23-1"  # full-width ACME, C
    with facade_for(SQLiteStore(path)) as billing:
        billing.update_settings(unique_customer_names=True)
        billing.create_customer(new_customer(name, number=number), new_account())
        billing.create_customer(new_customer("Plain Co"), new_account())
    with sqlite3.connect(path) as db:  # as the second schema wrote them
        db.execute(
            "UPDATE customers SET name_key = ?, number_key = ? WHERE number = ?",
            (name.casefold(), number.casefold(), number),
        )
        db.execute("DELETE FROM customer_tokens WHERE number = ?", (number,))
        db.execute("INSERT INTO customer_tokens VALUES (?, ?)", ("acme\u200b", number))
        db.execute("DROP TABLE notes")  # (the fourth schema's)
        db.execute("DROP TABLE charges")  # (the fifth's)
        db.execute("ALTER TABLE accounts DROP COLUMN end_date")  # (the sixth's)
        db.execute("ALTER TABLE customers DROP COLUMN end_date")
        db.execute("ALTER TABLE history DROP COLUMN actor")  # (the seventh's)
        db.execute("ALTER TABLE history DROP COLUMN reason")
        db.execute("ALTER TABLE accounts DROP COLUMN free")  # (the eighth's)
        db.execute("DROP INDEX customers_owner")  # (the ninth's)
        db.execute("ALTER TABLE customers DROP COLUMN owner")
        db.execute("ALTER TABLE accounts DROP COLUMN top_key")  # (the tenth's)
        db.execute("PRAGMA user_version = 2")
    store = SQLiteStore(path)
    assert store.schema_version == len(MIGRATIONS)
    with cb.CustomerBilling(store=store) as billing:
        assert [c.number for c in billing.search_customers("acme")] == [number]
        assert [c.number for c in billing.search_customers("c-1")] == [number]
        with pytest.raises(cb.RuleViolationError, match=r"customer\.name_taken"):
            billing.create_customer(new_customer("acme ltd"), new_account())
        assert [c.name for c in billing.search_customers("plain")] == ["Plain Co"]


def test_an_edit_reads_only_what_its_fields_need(tmp_path: Path) -> None:
    """An edit of a field that neither the accounts below an account nor its ledger
    depend on reads neither (each a round trip to a database server); an edit of the
    status or the invoice currency still checks them."""
    store = SQLiteStore(tmp_path / "store.db")
    billing = facade_for(store)
    customer, top = billing.create_customer(new_customer(), new_account())
    billing.add_account(customer.number, new_account(responsible_account=top.number))
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)

    def read(what: str) -> bool:
        return any(what in statement for statement in statements)

    billing.edit_account(top.number, taxable=not top.taxable)
    assert read("UPDATE accounts")
    assert not read("FROM ledger") and not read("FROM pending")
    assert not read("WHERE responsible =") and not read("WHERE parent =")
    statements.clear()
    with pytest.raises(cb.RuleViolationError) as raised:
        billing.edit_account(top.number, status=cb.AccountStatus.DEACTIVATED)
    assert raised.value.codes == {"hierarchy.has_active_dependents"}
    assert read("WHERE responsible =")
    statements.clear()
    with pytest.raises(cb.RuleViolationError):
        billing.edit_account(top.number, invoice_currency="EUR")
    assert read("FROM ledger") or read("FROM pending")


def test_a_customer_edit_reads_its_accounts_in_one_query(tmp_path: Path) -> None:
    """Editing a customer checks each of its accounts (invoice delivery), read together."""
    store = SQLiteStore(tmp_path / "store.db")
    billing = facade_for(store)
    customer, _ = billing.create_customer(new_customer(), new_account())
    for _ in range(3):
        billing.add_account(customer.number, new_account())
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)
    billing.edit_customer(customer.number, company_name="Acme Tiles")
    reads = [s for s in statements if "FROM accounts WHERE number" in s]
    assert len(reads) == 1 and " IN " in reads[0]
    statements.clear()
    with pytest.raises(cb.RuleViolationError) as raised:  # every account is checked
        billing.edit_customer(customer.number, primary_email=" ")
    needs_email = "account.email_invoice_requires_primary_email"
    assert [v.code for v in raised.value.violations].count(needs_email) == 4
