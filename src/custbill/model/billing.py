"""What bill runs produce: planned and issued invoices, payments, adjustments, pooling."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar, overload

import attrs
from moneyed import Money

from custbill.model._typecheck import check_fields
from custbill.model.enums import AdjustmentKind, Channel, DepositAction
from custbill.model.records import Tabular, flatten


@attrs.frozen(kw_only=True)
class PlannedInvoice(Tabular):
    """One invoice a bill run would issue.

    ``accounts`` lists the accounts whose charges it carries (for AGGREGATED rendering the
    responsible account first).  It is billed to ``billed_account``: that account's payment
    term gives ``due_date``, its auto-pay ``auto_pay_date`` (None without auto-pay), its
    minimum invoice amount ``suppressed``, and its invoice type and distribution settings
    ``channels`` and ``recipients``.  ``notes`` say why email is not sent, why the invoice
    is suppressed, and what was carried forward into it; ``invoice_note`` is the billed
    account's text for its invoices.
    """

    billed_account: str
    accounts: tuple[str, ...]
    total: Money
    invoice_date: date
    due_date: date
    auto_pay_date: date | None
    suppressed: bool
    channels: frozenset[Channel]
    recipients: tuple[str, ...]
    notes: tuple[str, ...] = ()
    invoice_note: str | None = None


@attrs.frozen(kw_only=True)
class SkippedAccount(Tabular):
    """An account on the bill run's cycle that gets no invoice of its own, and why."""

    account: str
    reason: str


T = TypeVar("T")


class LazySequence(Sequence[T]):
    """An immutable sequence whose items are built from compact records when first read.

    A bill run over a million accounts keeps its invoices as tuples; the
    :class:`PlannedInvoice` objects are built only for what a caller reads.  It compares
    equal to any sequence with equal items, like a tuple.
    """

    __slots__ = ("_build", "_built", "_records")

    def __init__(self, records: Sequence[Any], build: Callable[[Any], T]) -> None:
        self._records = records
        self._build = build
        self._built: list[T] | None = None

    def _all(self) -> list[T]:
        if self._built is None:
            build = self._build
            self._built = [build(r) for r in self._records]
        return self._built

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self._all()[index])
        if self._built is not None:
            return self._built[index]
        return self._build(self._records[index])

    def __iter__(self) -> Iterator[T]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


def _invoices(items: Iterable[PlannedInvoice]) -> Sequence[PlannedInvoice]:
    return items if isinstance(items, LazySequence | tuple) else tuple(items)


def _skipped(items: Iterable[SkippedAccount]) -> Sequence[SkippedAccount]:
    return items if isinstance(items, LazySequence | tuple) else tuple(items)


@attrs.frozen
class Partition(Tabular):
    """One of ``count`` parts of a bill run, numbered from 0.

    A run split into partitions is planned and issued a partition at a time, each by any
    worker; every billing hierarchy lies whole in one partition: an account belongs to the
    partition that :meth:`holds` the :func:`~custbill.model.billing.hierarchy_key` of the
    top of its responsible chain.  Whether ``index`` and ``count`` are in range is checked
    when a run is planned (``billing.partition_invalid``).
    """

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    def holds(self, key: int) -> bool:
        """Whether the hierarchy whose
        :func:`~custbill.model.billing.hierarchy_key` is *key* is billed in this partition.

        >>> from custbill.model.billing import Partition, hierarchy_key
        >>> key = hierarchy_key("A-000001")
        >>> [Partition(i, 4).holds(key) for i in range(4)]
        [False, True, False, False]
        """
        return key % self.count == self.index

    def __str__(self) -> str:
        return f"partition {self.index} of {self.count}"


#: The whole of a run, as a partition: what a plan made without a partition covers.
WHOLE_RUN = Partition(0, 1)


def hierarchy_key(top: str) -> int:
    """The key that places the billing hierarchy whose top account is *top* in a
    partition (see :meth:`custbill.Partition.holds`): the CRC-32 of its number, the same in every
    process and on every machine (unlike Python's ``hash`` of a string), from 0 to
    2**32 - 1.  The SQL stores keep it in a column of every account, so that a partition's
    accounts are read alone.  (A lone surrogate, which no number holds but a caller's charge
    key may, is encoded as UTF-8 would if it could: such a key falls in a partition too.)"""
    return zlib.crc32(top.encode("utf-8", "surrogatepass"))


class IssuedPart(NamedTuple):
    """One issued partition of a bill run (the whole run is partition 0 of 1), as a
    ledger keeps it."""

    #: The partition's index.
    partition: int
    #: How many partitions the run was split into.
    partitions: int
    #: The digest of the plan that was issued (:func:`custbill.billing.runs.plan_digest`).
    digest: str
    #: The numbers of the invoices recorded, in the plan's order.
    invoices: tuple[str, ...]


def _numbers(numbers: Iterable[str]) -> tuple[str, ...]:
    return tuple(numbers)


@attrs.frozen(kw_only=True)
class BillRunPlan(Tabular):
    """Everything a bill run of ``bill_cycle`` on ``run_date`` would invoice.

    ``carried_in`` holds, per billed account, the earlier suppressed amounts the plan adds to
    its invoices; issuing the plan checks they are still what is pending.  ``partition`` is
    the part of the run the plan covers, None for the whole run.  ``charges`` names the
    store's pending charges (:class:`~custbill.Charge`) the plan bills; issuing it marks
    them billed.
    """

    bill_cycle: str
    run_date: date
    invoices: Sequence[PlannedInvoice] = attrs.field(converter=_invoices)
    skipped: Sequence[SkippedAccount] = attrs.field(converter=_skipped)
    carried_in: Mapping[str, Money] = attrs.field(factory=dict, hash=False)
    partition: Partition | None = None
    charges: tuple[str, ...] = attrs.field(default=(), converter=_numbers)

    def to_records(self) -> list[dict[str, object]]:
        """One plain dict per invoice, ready for ``pandas.DataFrame(plan.to_records())``."""
        return [{"bill_cycle": self.bill_cycle, **flatten(i)} for i in self.invoices]

    def _repr_html_(self) -> str:
        from custbill.model.html import table

        head = f"Bill run of {self.bill_cycle} on {self.run_date.isoformat()}"
        rows = [
            [
                i.billed_account,
                ", ".join(i.accounts),
                f"{i.total.amount} {i.total.currency.code}",
                i.due_date.isoformat(),
                i.auto_pay_date.isoformat() if i.auto_pay_date else "",
                "suppressed" if i.suppressed else "",
                " ".join(i.notes),
            ]
            for i in self.invoices
        ]
        html = table(head, ["billed", "accounts", "total", "due", "auto-pay", "", "notes"], rows)
        if self.skipped:
            html += table(
                "Skipped", ["account", "reason"], [[s.account, s.reason] for s in self.skipped]
            )
        return html


@attrs.frozen(kw_only=True)
class Invoice(Tabular):
    """An issued invoice, recorded against ``billed_account``'s balance."""

    number: str
    bill_cycle: str
    billed_account: str
    accounts: tuple[str, ...]
    total: Money
    invoice_date: date
    due_date: date
    auto_pay_date: date | None
    #: The billed account's text for its invoices, as planned.
    invoice_note: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class PartitionIssued(Tabular):
    """What :meth:`custbill.CustomerBilling.issue_next_partition` issued: one partition of
    a run and the invoices it recorded."""

    partition: Partition
    invoices: tuple[Invoice, ...]

    def to_records(self) -> list[dict[str, object]]:
        """One flat dict per invoice recorded, with the partition's index and count."""
        part = {"partition_index": self.partition.index, "partition_count": self.partition.count}
        return [{**part, **flatten(i)} for i in self.invoices]


@attrs.frozen(kw_only=True)
class BillRunStatus(Tabular):
    """How far a bill run is issued.

    ``partitions`` is the number of parts the run was split into (1 for a run issued whole,
    None while no part of it is issued); ``issued`` the indexes of the parts issued so far,
    ``invoices`` how many invoices they recorded.
    """

    bill_cycle: str
    run_date: date
    partitions: int | None
    issued: tuple[int, ...]
    invoices: int

    @property
    def complete(self) -> bool:
        """True once every partition of the run is issued."""
        return self.partitions is not None and len(self.issued) == self.partitions


@attrs.frozen(kw_only=True)
class Payment(Tabular):
    """A payment received for an account, in its invoice currency."""

    number: str
    account: str
    amount: Money
    received_on: date
    reference: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class Deposit(Tabular):
    """One movement of an account's security deposit, in its invoice currency: received
    (HELD), APPLIED to one of its invoices, or REFUNDED.  The amount is positive; what the
    account holds is what it received less what was applied and refunded."""

    number: str
    account: str
    action: DepositAction
    amount: Money
    on: date
    #: The invoice an APPLIED deposit pays.
    invoice: str | None = None
    reference: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class Charge(Tabular):
    """A one-off charge queued on an account between bill runs, in its invoice currency.

    It waits (``billed_on`` None) until a run of the account's bill cycle on or after its
    date bills it: that run's date becomes ``billed_on`` and the invoice carrying it
    ``invoice`` (None when the invoice was suppressed under the minimum invoice amount and
    its total carried forward).
    """

    number: str
    account: str
    amount: Money
    description: str
    on: date
    billed_on: date | None = None
    invoice: str | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    @property
    def pending(self) -> bool:
        """Whether no bill run has billed it yet."""
        return self.billed_on is None


@attrs.frozen(kw_only=True)
class Adjustment(Tabular):
    """A credit (lowers the balance) or debit (raises it) adjustment of an account."""

    number: str
    account: str
    kind: AdjustmentKind
    amount: Money
    on: date
    reason: str

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True)
class PoolAllocation(Tabular):
    """One account's share of a pooled allowance."""

    account: str
    usage: Decimal
    allocated: Decimal
    overage: Decimal


@attrs.frozen(kw_only=True)
class PoolResult(Tabular):
    """A pooled allowance allocated across a reporting-hierarchy subtree.

    ``allocations`` come in allocation order (see
    :meth:`custbill.CustomerBilling.pool_usage`); ``remaining`` is the unused allowance.
    """

    root: str
    allowance: Decimal
    allocations: tuple[PoolAllocation, ...]
    remaining: Decimal

    def to_records(self) -> list[dict[str, object]]:
        """One flat dict per account, with the pool's root."""
        return [{"root": self.root, **flatten(a)} for a in self.allocations]


def top_of(number: str, responsible_of: Callable[[str], str | None], memo: dict[str, str]) -> str:
    """The account at the top of *number*'s responsible chain (itself if it has none),
    where *responsible_of* gives an account's responsible account (None at the top, or for
    an account the caller does not know).

    Walks iteratively and remembers every account it passed in *memo*, so a whole run costs
    one step per account; a chain that loops (past the rules) stops at the first account
    seen twice.
    """
    path: list[str] = []
    on_path: set[str] = set()
    current = number
    while current not in memo:
        path.append(current)
        on_path.add(current)
        above = responsible_of(current)
        if above is None or above in on_path:
            memo[current] = current
            break
        current = above
    top = memo[current]
    for n in path:
        memo[n] = top
    return top
