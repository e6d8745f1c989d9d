"""The contract tests every store runs: :class:`StoreContract`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from moneyed import Money

from custbill.errors import ConflictError, RuleViolationError
from custbill.model import (
    AccountStatus,
    BillCycle,
    Change,
    CustomFieldDefinition,
    CustomFieldTarget,
    CustomFieldType,
    DunningPlan,
    PaymentTerm,
    Settings,
)
from custbill.storage.protocols import Store
from custbill.testing._contract_logs import LogsContract
from custbill.testing._contract_optional import OptionalContract
from custbill.testing._data import (
    ALL_ON,
    CATALOG,
    CUSTOM_FIELD,
    account_record,
    created,
    customer_record,
    dump,
    facade_for,
    new_account,
    new_customer,
)
from custbill.testing._machine import facade_machine


class StoreContract(LogsContract, OptionalContract):
    """Contract tests for a storage adapter; subclass it and implement :meth:`make_store`."""

    def make_store(self) -> Store:
        """A fresh, empty store."""
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """The store under test, closed afterwards."""
        store = self.make_store()
        yield store
        store.close()

    # -- repositories ------------------------------------------------------------------------

    def test_customers(self, store: Store) -> None:
        """Customers are added, read, updated with versions, and found by their indexes."""
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record("C-2", company_name="Zed", external_number="X2"))
            uow.customers.add(customer_record("C-1"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.get("C-1") == customer_record("C-1")
            assert uow.customers.get("C-9") is None
            assert uow.customers.with_external_number("X2") == "C-2"
            assert uow.customers.named("ACME brick") == ("C-1",)
            assert [c.number for c in uow.customers.all()] == ["C-1", "C-2"]
            renamed = customer_record(
                "C-2", company_name="Acme Brick", external_number="X3", version=2
            )
            uow.customers.update(renamed)
            with pytest.raises(ConflictError):
                uow.customers.update(customer_record("C-1", version=3))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.get("C-2") == renamed
            assert uow.customers.with_external_number("X2") is None
            assert uow.customers.with_external_number("X3") == "C-2"
            assert uow.customers.named("acme brick") == ("C-1", "C-2")

    def test_accounts_and_their_indexes(self, store: Store) -> None:
        """Accounts are indexed by customer, both hierarchies, bill cycle, external number;
        the indexes follow updates."""
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record())
            uow.accounts.add(account_record("A-1", external_number="E1"))
            uow.accounts.add(account_record("A-2", responsible_account="A-1", parent_account="A-1"))
            uow.accounts.add(account_record("A-3", responsible_account="A-1", bill_cycle="m15"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.accounts.of_customer("C-1") == ("A-1", "A-2", "A-3")
            assert uow.accounts.managed_by("A-1") == ("A-2", "A-3")
            assert uow.accounts.children_of("A-1") == ("A-2",)
            assert tuple(uow.accounts.on_bill_cycle("m1")) == ("A-1", "A-2")
            assert uow.accounts.with_external_number("E1") == "A-1"
            moved = account_record(
                "A-2", parent_account="A-3", bill_cycle="m15", version=2, external_number="E2"
            )
            uow.accounts.update(moved)
            with pytest.raises(ConflictError):
                uow.accounts.update(account_record("A-1", version=5))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.accounts.get("A-2") == moved
            assert uow.accounts.children_of("A-1") == ()
            assert uow.accounts.children_of("A-3") == ("A-2",)
            assert tuple(uow.accounts.on_bill_cycle("m15")) == ("A-2", "A-3")
            assert uow.accounts.with_external_number("E2") == "A-2"
            assert [a.number for a in uow.accounts.all()] == ["A-1", "A-2", "A-3"]

    def test_in_chain(self, store: Store) -> None:
        """in_chain follows each hierarchy up from the start, and ends on stored cycles."""
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record())
            uow.accounts.add(account_record("A-1"))
            uow.accounts.add(account_record("A-2", responsible_account="A-1"))
            uow.accounts.add(account_record("A-3", responsible_account="A-2", parent_account="A-1"))
            # a loop written past the rules: the walk must still end
            uow.accounts.add(account_record("L-1", responsible_account="L-2"))
            uow.accounts.add(account_record("L-2", responsible_account="L-1"))
            uow.commit()
        with store.unit_of_work() as uow:
            chain = uow.accounts.in_chain
            assert chain("A-1", "A-3", "responsible")
            assert chain("A-2", "A-3", "responsible")
            assert chain("A-3", "A-3", "responsible")
            assert not chain("A-3", "A-1", "responsible")
            assert chain("A-1", "A-3", "parent")
            assert not chain("A-2", "A-3", "parent")
            assert not chain("X-9", "A-3", "responsible")
            assert not chain("A-1", "L-1", "responsible")
            assert chain("L-2", "L-1", "responsible")
            moved = account_record("A-3", parent_account="A-2", version=2)
            uow.accounts.update(moved)
            assert chain("A-2", "A-3", "parent")
            assert not chain("A-1", "A-3", "responsible")

    def test_catalog_and_custom_fields(self, store: Store) -> None:
        """Catalog entries by kind and id; custom fields per target in the order added."""
        fields = [
            CustomFieldDefinition(name=n, applies_to=t, type=CustomFieldType.TEXT)
            for n, t in (
                ("b", CustomFieldTarget.ACCOUNT),
                ("a", CustomFieldTarget.ACCOUNT),
                ("a", CustomFieldTarget.CUSTOMER),
            )
        ]
        with store.unit_of_work() as uow:
            for entry in (*CATALOG, *fields):
                uow.catalog.add(entry)  # type: ignore[arg-type]
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.catalog.get(BillCycle, "m15") == CATALOG[1]
            assert uow.catalog.get(PaymentTerm, "m15") is None
            assert uow.catalog.all(BillCycle) == CATALOG[:2]
            assert uow.catalog.all(DunningPlan) == (CATALOG[4],)
            assert uow.catalog.custom_fields(CustomFieldTarget.ACCOUNT) == tuple(fields[:2])
            assert uow.catalog.custom_fields(CustomFieldTarget.CUSTOMER) == (fields[2],)

    def test_settings(self, store: Store) -> None:
        """No settings until some are put; put replaces."""
        with store.unit_of_work() as uow:
            assert uow.settings.get() is None
            uow.settings.put(Settings())
            uow.settings.put(ALL_ON)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.settings.get() == ALL_ON

    def test_sequences_increase(self, store: Store) -> None:
        """Sequences count up per name, and committed values never repeat."""
        with store.unit_of_work() as uow:
            first = [uow.next_number("customer") for _ in range(3)]
            other = uow.next_number("account")
            uow.commit()
        with store.unit_of_work() as uow:
            then = uow.next_number("customer")
            assert then > first[-1]
            block = uow.next_numbers("customer", 4)
            assert len(block) == 4 == len(set(block))
            assert block == sorted(block)
            assert block[0] > then
            assert uow.next_number("customer") > block[-1]
            assert uow.next_numbers("customer", 0) == []
            uow.commit()
        assert first == sorted(set(first))
        assert other >= 1

    def test_number_taken(self, store: Store) -> None:
        """A number is taken by a customer or an account, committed or not yet."""
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record())
            uow.accounts.add(account_record())
            assert uow.number_taken("C-1")
            assert uow.number_taken("A-1")
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.number_taken("C-1")
            assert uow.number_taken("A-1")
            assert not uow.number_taken("A-2")
            assert not uow.number_taken("c-1")

    def test_number_taken_as_numbers_are_given(self, store: Store) -> None:
        """Asking about generated-looking numbers while numbers of the same shape are
        given, by hand or not, in one unit of work and across units."""
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record("C-000010"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert not uow.number_taken("C-000003")  # free, with a number above it
            assert uow.number_taken("C-000010")
            assert not uow.number_taken("C-000011")  # free, and nothing above
            uow.accounts.add(account_record("C-000012"))  # then given in the same unit
            uow.customers.add(customer_record("C-000020"))
            assert uow.number_taken("C-000012")
            assert not uow.number_taken("C-000013")
            assert uow.number_taken("C-000020")
            assert not uow.number_taken("C-0000200")  # another shape
            uow.commit()
            uow.accounts.add(account_record("C-000030", customer="C-000010"))  # after a commit
            assert uow.number_taken("C-000030")
            uow.commit()
        with store.unit_of_work() as uow:
            assert not uow.number_taken("C-000021")
            uow.customers.add(customer_record("C-000022"))
        with store.unit_of_work() as uow:  # the last unit rolled back
            assert not uow.number_taken("C-000022")
            assert uow.number_taken("C-000030")

    # -- units of work -----------------------------------------------------------------------

    def test_an_exception_leaves_nothing(self, store: Store) -> None:
        """Leaving a unit of work by an exception rolls back every write."""
        before = dump(store)
        with pytest.raises(RuntimeError), store.unit_of_work() as uow:
            uow.customers.add(customer_record())
            uow.accounts.add(account_record())
            uow.settings.put(ALL_ON)
            uow.history.append(
                [
                    Change(
                        at=datetime(2026, 1, 1, tzinfo=UTC),
                        number="C-1",
                        field="created",
                        old=None,
                        new=None,
                    )
                ]
            )
            raise RuntimeError
        assert dump(store) == before

    def test_a_missing_commit_leaves_nothing(self, store: Store) -> None:
        """Leaving a unit of work without commit rolls back every write."""
        before = dump(store)
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record())
            uow.catalog.add(CATALOG[0])
        assert dump(store) == before
        with store.unit_of_work() as uow:
            assert uow.customers.search(["acme"]) == []

    def test_writes_after_a_commit_need_their_own(self, store: Store) -> None:
        """What was committed stays; what followed without a commit goes."""
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record("C-1"))
            uow.commit()
            uow.customers.add(customer_record("C-2"))
        with store.unit_of_work() as uow:
            assert [c.number for c in uow.customers.all()] == ["C-1"]

    def test_savepoints(self, store: Store) -> None:
        """Leaving a savepoint by an exception undoes the writes made inside it, reads and
        all; the writes before and after it stay; savepoints nest."""
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record("C-1"))
            with pytest.raises(RuntimeError), uow.savepoint():
                uow.customers.add(customer_record("C-2", company_name="Gone"))
                uow.history.append([created("C-2")])
                assert uow.customers.get("C-2") is not None  # read inside the savepoint
                raise RuntimeError
            assert uow.customers.get("C-2") is None
            with uow.savepoint():
                uow.customers.add(customer_record("C-3", company_name="Kept"))
                uow.history.append([created("C-3")])
                with pytest.raises(RuntimeError), uow.savepoint():  # nested: inserts only
                    uow.customers.add(customer_record("C-4", company_name="Gone"))
                    uow.history.append([created("C-4")])
                    raise RuntimeError
            uow.customers.add(customer_record("C-5", company_name="Kept"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.number for c in uow.customers.all()] == ["C-1", "C-3", "C-5"]
            assert uow.customers.search(["gone"]) == []
            assert uow.history.of("C-2") == uow.history.of("C-4") == ()
            assert uow.history.of("C-3") == (created("C-3"),)

    def test_savepoints_undo_updates_settings_and_catalog(self, store: Store) -> None:
        """An update, a settings change and a catalog entry made inside a failed savepoint
        are undone, and the unit of work reads the earlier values afterwards."""
        with store.unit_of_work() as uow:
            uow.customers.add(customer_record("C-1"))
            uow.settings.put(Settings())
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(RuntimeError), uow.savepoint():
                uow.customers.update(customer_record("C-1", company_name="Renamed", version=2))
                uow.settings.put(ALL_ON)
                uow.catalog.add(CATALOG[0])
                uow.catalog.add(CUSTOM_FIELD)
                assert uow.settings.get() == ALL_ON
                assert uow.catalog.custom_fields(CustomFieldTarget.CUSTOMER) == (CUSTOM_FIELD,)
                raise RuntimeError
            assert uow.settings.get() == Settings()
            assert uow.catalog.custom_fields(CustomFieldTarget.CUSTOMER) == ()
            assert uow.catalog.get(BillCycle, "m1") is None
            customer = uow.customers.get("C-1")
            assert customer is not None
            assert customer.version == 1
            assert uow.customers.search(["renamed"]) == []
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.settings.get() == Settings()

    def test_a_failed_call_in_a_batch_leaves_nothing_of_itself(self, store: Store) -> None:
        """A facade call in a batch that fails after writing (here: the clock breaks after
        an account was added) is undone; the batch commits the calls around it."""
        now: list[object] = [datetime(2026, 1, 1, tzinfo=UTC)]
        billing = facade_for(store, clock=lambda: now[0])  # type: ignore[arg-type,return-value]
        customer, _ = billing.create_customer(new_customer(), new_account())
        with billing.batch():
            billing.add_account(customer.number, new_account(external_number="before"))
            now[0] = date(2026, 1, 1)  # not a datetime: the next reading of the clock fails
            before = billing.accounts_of(customer.number)
            with pytest.raises(TypeError):  # writes the account, then reads the clock
                billing.add_account(customer.number, new_account(), make_default=True)
            assert billing.accounts_of(customer.number) == before
            now[0] = datetime(2026, 1, 2, tzinfo=UTC)
            billing.add_account(customer.number, new_account(external_number="after"))
        externals = [a.external_number for a in billing.accounts_of(customer.number)]
        assert externals == [None, "before", "after"]
        assert billing.get_customer(customer.number).version == 1

    # -- search --------------------------------------------------------------------------------

    def test_search(self, store: Store) -> None:
        """Word prefixes, AND, accents and case ignored, numbers from their start, in order;
        accounts are found by their customer's name, and follow a rename."""
        billing = facade_for(store)
        c1, a1 = billing.create_customer(
            new_customer("Société Générale"), new_account(external_number="EXT-77")
        )
        c2, _ = billing.create_customer(
            new_customer("Widgets International", external_number="W-1"), new_account()
        )
        c3, a3 = billing.create_customer(new_customer("International Société"), new_account())
        assert billing.search_customers("societe") == (c1, c3)
        assert billing.search_customers("SOC inter") == (c3,)
        assert billing.search_customers("w-1") == (c2,)
        assert billing.search_customers(c2.number.lower()) == (c2,)
        assert billing.search_customers("ciété") == ()
        c4, _ = billing.create_customer(new_customer("Ann Annex"), new_account())
        assert billing.search_customers("ann") == (c4,)
        everyone = billing.search_customers("c")
        for limit in (1, 2, 3, 10):
            assert billing.search_customers("c", limit=limit) == everyone[:limit]
            assert (
                billing.search_customers("soc", limit=limit)
                == billing.search_customers("soc")[:limit]
            )
            assert billing.search_accounts("c", limit=limit) == billing.search_accounts("c")[:limit]
        assert billing.search_customers("internat soc", limit=1) == (c3,)
        assert billing.search_customers("c", limit=0) == ()
        assert billing.search_accounts("société") == (a1, a3)
        assert billing.search_accounts("ext-7") == (a1,)
        billing.edit_customer(c1.number, company_name="Renamed Bank")
        assert billing.search_customers("societe") == (billing.get_customer(c3.number),)
        assert billing.search_accounts("renamed") == (a1,)

    # -- through the facade ------------------------------------------------------------------

    def test_rejected_operations_change_nothing(self, store: Store) -> None:
        """Every rejected facade call leaves the store exactly as it was."""
        billing = facade_for(store)
        customer, account = billing.create_customer(new_customer(), new_account())
        below = billing.add_account(
            customer.number, new_account(responsible_account=account.number)
        )
        before = dump(store)
        for call in (
            lambda: billing.create_customer(new_customer(""), new_account(currency="XYZ")),
            lambda: billing.add_account(customer.number, new_account(bill_cycle="nope")),
            lambda: billing.edit_account(account.number, responsible_account=below.number),
            lambda: billing.edit_account(account.number, status=AccountStatus.DEACTIVATED),
            lambda: billing.edit_customer(customer.number, primary_email="bad"),
            lambda: billing.update_settings(enable_responsible_account_management=False),
        ):
            with pytest.raises(RuleViolationError):
                call()
            assert dump(store) == before

    def test_versions_through_the_facade(self, store: Store) -> None:
        """+1 per committed change; a stale expected_version is a ConflictError."""
        billing = facade_for(store)
        customer, account = billing.create_customer(new_customer(), new_account())
        assert billing.edit_account(account.number, taxable=True).version == 2
        assert billing.edit_account(account.number, taxable=True).version == 2
        assert billing.edit_account(account.number, taxable=False, expected_version=2).version == 3
        with pytest.raises(ConflictError):
            billing.edit_account(account.number, taxable=True, expected_version=2)
        assert billing.edit_customer(customer.number, company_name="B").version == 2

    def test_history_through_the_facade(self, store: Store) -> None:
        """Creation and each changed field are recorded, protected values masked."""
        billing = facade_for(store)
        customer, _ = billing.create_customer(new_customer(tax_number="123-45-6789"), new_account())
        billing.edit_customer(customer.number, tax_number="999-99-1234")
        assert [(c.field, c.old, c.new) for c in billing.history(customer.number)] == [
            ("created", None, None),
            ("tax_number", "****6789", "****1234"),
        ]

    def test_bill_runs_are_issued_once(self, store: Store) -> None:
        """Issuing the same run twice records its invoices once."""
        billing = facade_for(store)
        _, account = billing.create_customer(new_customer(), new_account())
        plan = billing.plan_bill_run("m1", date(2026, 7, 1), {account.number: Money(5, "USD")})
        first = billing.issue_bill_run(plan)
        assert billing.issue_bill_run(plan) == first
        assert billing.invoices(account.number) == first

    def test_threads_share_one_store(self, store: Store) -> None:
        """Threads using one store take turns: every creation lands, numbers never repeat."""
        billing = facade_for(store)
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                for j in range(25):
                    billing.create_customer(new_customer(f"Thread {i} {j}"), new_account())
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        found = billing.search_customers("thread")
        assert len(found) == 100 == len({c.number for c in found})

    def test_facade_state_machine(self) -> None:
        """Random sequences of facade calls keep the store equal to a plain model."""
        run: Callable[..., None] = run_state_machine_as_test  # typed in newer hypothesis
        run(
            facade_machine(self.make_store),
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
