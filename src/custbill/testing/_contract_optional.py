"""The contract tests of the capabilities a store may offer beyond the protocols
(:class:`~custbill.storage.protocols.PlanRowSource`,
:class:`~custbill.storage.protocols.ReadsMany`): each skips on a store without it."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from custbill.model import AccountStatus, InvoiceType
from custbill.model.billing import Partition, hierarchy_key
from custbill.model.plan_row import (
    END,
    MANAGING,
    NUMBER,
    PROFILE,
    ProfileKey,
    end_of,
    plan_row,
    profile_key,
)
from custbill.storage.protocols import PlanRowSource, ReadsMany, Store
from custbill.testing._data import facade_for, new_account, new_customer, usd


class OptionalContract:
    """The optional capabilities' part of :class:`~custbill.testing.StoreContract`."""

    def test_plan_rows_follow_the_accounts(self, store: Store) -> None:
        """A store that keeps plan rows (:class:`~custbill.storage.protocols.PlanRowSource`)
        renews them on every write that changes one: after creations, a responsible link,
        end dates on an account and a customer, a deactivation and an erasure, the rows of a
        cycle are the rows its accounts and customers give, in number order."""
        with store.unit_of_work(read_only=True) as uow:
            if not isinstance(uow.accounts, PlanRowSource):
                pytest.skip("this store keeps no plan rows")
        billing = facade_for(store)
        payer, top = billing.create_customer(new_customer("Payer"), new_account())
        _, other = billing.create_customer(new_customer("Other"), new_account(bill_cycle="m15"))
        managed = billing.add_account(
            payer.number, new_account(responsible_account=top.number, invoice_type=InvoiceType.NONE)
        )
        gone, alone = billing.create_customer(
            new_customer("Gone"), new_account(minimum_invoice_amount=usd(25))
        )
        billing.edit_account(managed.number, end_date=date(2099, 6, 30))
        billing.edit_customer(payer.number, end_date=date(2099, 3, 31))
        billing.edit_account(alone.number, status=AccountStatus.DEACTIVATED)
        billing.erase_customer(gone.number)
        with store.unit_of_work(read_only=True) as uow:
            accounts = uow.accounts
            assert isinstance(accounts, PlanRowSource)
            rows = accounts.plan_rows("m1")
            got = list(rows.rows)
            numbers = sorted(accounts.on_bill_cycle("m1"))
            assert (
                [row[NUMBER] for row in got]
                == numbers
                == sorted((top.number, managed.number, alone.number))
            )
            keys: dict[int, ProfileKey] = {}
            for row in got:
                account = accounts.get(row[NUMBER])
                assert account is not None
                customer = uow.customers.get(account.customer)
                assert customer is not None
                email = None if customer.erased else customer.primary_email
                managing = bool(accounts.managed_by(account.number))
                want = plan_row(account, email, row[PROFILE], managing, customer.end_date)
                assert row == want
                assert row[END] == end_of(account.end_date, customer.end_date)
                assert keys.setdefault(row[PROFILE], profile_key(account)) == profile_key(account)
                assert rows.row_of(row[NUMBER]) == row
            assert len(set(keys.values())) == len(keys)  # one number per profile
            assert [row[MANAGING] for row in got] == [n == top.number for n in numbers]
            assert [row[NUMBER] for row in rows.managed] == [managed.number]
            assert rows.row_of(other.number) is None
            assert rows.row_of("A-404") is None

    def test_plan_rows_of_a_partition(self, store: Store) -> None:
        """A partition's plan rows are those of the accounts whose chain's top has a
        :func:`~custbill.model.billing.hierarchy_key` it holds, also after a subtree moves
        to another top: the partitions share no row and together hold the cycle's, and
        each tells the cycle's accounts outside it from numbers of no account there."""
        with store.unit_of_work(read_only=True) as uow:
            if not isinstance(uow.accounts, PlanRowSource):
                pytest.skip("this store keeps no plan rows")
        billing = facade_for(store)
        tops = [billing.create_customer(new_customer(f"Top {i}"), new_account()) for i in range(6)]
        chain = [tops[0][1].number]
        for _ in range(3):  # three deep under the first top
            below = new_account(responsible_account=chain[-1])
            chain.append(billing.add_account(tops[0][0].number, below).number)
        billing.edit_account(chain[1], responsible_account=tops[1][1].number)  # a subtree moves
        _, elsewhere = billing.create_customer(new_customer("M15"), new_account(bill_cycle="m15"))
        top_of = dict.fromkeys(chain[1:], tops[1][1].number) | {t.number: t.number for _, t in tops}
        for count in (2, 3):
            seen: list[str] = []
            for index in range(count):
                part = Partition(index, count)
                with store.unit_of_work(read_only=True) as uow:
                    assert isinstance(uow.accounts, PlanRowSource)
                    rows = uow.accounts.plan_rows("m1", part)
                    numbers = [row[NUMBER] for row in rows.rows]
                    assert numbers == sorted(numbers)
                    assert all(part.holds(hierarchy_key(top_of[n])) for n in numbers)
                    assert all(rows.row_of(n) is not None for n in numbers)
                    assert [r[NUMBER] for r in rows.managed] == [
                        n for n in numbers if n != top_of[n]
                    ]
                    others = [n for n in top_of if n not in numbers]
                    asked = [*others, elsewhere.number, "A-404"]
                    assert set(rows.on_cycle(asked)) == set(others)
                seen += numbers
            assert sorted(seen) == sorted(top_of)

    def test_get_many(self, store: Store) -> None:
        """A repository that reads several records at once
        (:class:`~custbill.storage.protocols.ReadsMany`) gives the records ``get`` gives,
        leaving out numbers of no record (text no record holds among them), also inside a
        unit that wrote them; and the facade's listings and searches read the same records
        through it."""
        with store.unit_of_work(read_only=True) as uow:
            repositories = [uow.customers, uow.accounts]
            if not any(isinstance(r, ReadsMany) for r in repositories):
                pytest.skip("this store reads one record at a time")
        billing = facade_for(store)
        made = [billing.create_customer(new_customer(f"Many {i}"), new_account()) for i in range(4)]
        customer, top = made[0]
        below = [billing.add_account(customer.number, new_account()) for _ in range(2)]
        customers = [c.number for c, _ in made]
        accounts = [a.number for _, a in made] + [a.number for a in below]
        with store.unit_of_work() as uow:
            before = uow.customers.get(customers[1])
            assert before is not None
            renamed = attrs.evolve(before, company_name="Many B", version=before.version + 1)
            uow.customers.update(renamed)  # (unwritten yet, where inserts wait)
            for repository, numbers in ((uow.customers, customers), (uow.accounts, accounts)):
                if isinstance(repository, ReadsMany):
                    asked = [*numbers, "C-404", "A-404", "C-1\x00", "A-\ud800"]
                    expected = {n: repository.get(n) for n in numbers}
                    assert dict(repository.get_many(asked)) == expected
                    assert dict(repository.get_many([])) == {}
        assert [c.number for c in billing.search_customers("many")] == customers
        assert billing.accounts_of(customer.number) == tuple(
            billing.get_account(n) for n in [top.number, *sorted(a.number for a in below)]
        )
