"""An in-memory store: fast, compact, thread-safe, all-or-nothing units of work.

One lock serialises units of work, so each facade call is atomic and sees a consistent
state.  Writes are applied at once and an undo log restores the previous state if the unit
of work ends without :meth:`~MemoryUnitOfWork.commit`.

The indexes are kept small, because a store may hold millions of accounts: an index entry
holds one number as a plain string and only becomes a list when a key has several; number
and token lists are bucketed :class:`~custbill.storage.sortedlist.SortedList` s; an
account's search reuses its customer's name index instead of copying it; history entries
are plain tuples until they are read.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, TypeVar

from moneyed import Money

from custbill.billing.plan import PlanRow, plan_row, profile_key
from custbill.errors import ConflictError
from custbill.model import (
    BillingAccount,
    Change,
    Customer,
    CustomFieldDefinition,
    CustomFieldTarget,
    Settings,
)
from custbill.model.billing import Adjustment, Invoice, Payment
from custbill.storage.protocols import CatalogItem, Hierarchy, T
from custbill.storage.search import name_tokens, normalise, prefix_bits
from custbill.storage.sortedlist import SortedList

_Undo = Callable[[], None]
R = TypeVar("R", Invoice, Payment, Adjustment)
#: A history entry as stored: (at, field, old, new).
_Entry = tuple[datetime, str, str | None, str | None]


def _multi_add(index: dict[str, Any], key: str | None, number: str) -> None:
    """Add *number* under *key*: a plain string for one, a sorted list for several."""
    if key is None:
        return
    current = index.setdefault(key, number)  # one lookup when the key is new
    if current is number:
        return
    if isinstance(current, str):
        index[key] = sorted((current, number))
    else:
        insort(current, number)


def _multi_remove(index: dict[str, Any], key: str | None, number: str) -> None:
    if key is None:
        return
    current = index[key]
    if isinstance(current, str):
        del index[key]
    else:
        current.remove(number)
        if len(current) == 1:
            index[key] = current[0]


def _multi_get(index: dict[str, Any], key: str) -> tuple[str, ...]:
    current = index.get(key)
    if current is None:
        return ()
    if isinstance(current, str):
        return (current,)
    return tuple(current)


#: Keys a token needs before the index keeps signatures beside them: below this, checking
#: a token's few keys costs less than the memory their signatures would take.
SIGNED_FROM = 8

#: A token's sorted list takes a key in its middle only while shorter than this (at least
#: SIGNED_FROM); past it, such a key waits in a short sorted list of the token's late keys,
#: merged into the long one when it holds more than 1/LATE_SHARE of its length.
LATE_FROM = 4096
LATE_SHARE = 16


class TokenIndex:
    """Word-prefix index: token → the keys having it, with the tokens in a SortedList.

    A token of at least :data:`SIGNED_FROM` keys also keeps, beside each key in a parallel
    ``array``, a 64-bit signature of the key's other tokens (the union of their
    :func:`~custbill.storage.search.prefix_bits`): :meth:`filtered` narrows a word's keys by
    other words reading only those contiguous integers, not the keys' names.  Rarer tokens
    (most of a large vocabulary) keep just their keys; when a token reaches the threshold,
    its keys' signatures are worked out from *tokens_of*.

    Keys mostly come in order (numbers grow), so they join the end of a token's list.  A key
    that sorts inside the list of a token of :data:`LATE_FROM` keys or more (numbers given
    by hand, or generated numbers past a million, which do not grow by code point) would
    move the list's tail; it joins the token's short list of *late* keys instead (with its
    signature beside it), merged into the main list once it passes a sixteenth of it
    (:data:`LATE_SHARE`).  Readers take a token's late keys as one more sorted list.
    """

    __slots__ = (
        "_bits",
        "_late",
        "_late_signatures",
        "_postings",
        "_signatures",
        "_tokens",
        "_tokens_of",
    )

    def __init__(self, tokens_of: Callable[[str], frozenset[str]]) -> None:
        self._tokens_of = tokens_of  # key -> every token it is indexed under
        self._postings: dict[str, Any] = {}  # token -> key | sorted list of keys
        self._signatures: dict[str, array[int]] = {}  # signed token -> its keys' signatures
        self._bits: dict[str, int] = {}  # signed token -> its own prefix bits
        self._late: dict[str, list[str]] = {}  # long token -> its late keys, sorted
        self._late_signatures: dict[str, array[int]] = {}  # and their signatures
        self._tokens = SortedList()

    def _summary(self, tokens: Iterable[str], token: str) -> int:
        """The signature of *tokens* other than *token*."""
        bits = self._bits
        summary = 0
        for other in tokens:
            if other != token:
                found = bits.get(other)
                summary |= prefix_bits(other) if found is None else found
        return summary

    def add(self, key: str, tokens: frozenset[str]) -> None:
        """Index *key* under each of *tokens*, which must be all of its tokens (to change
        a key's tokens, :meth:`discard` the old ones first)."""
        postings, signatures = self._postings, self._signatures
        for token in tokens:
            current = postings.get(token)
            if current is None:
                postings[token] = key
                self._tokens.add(token)
                continue
            if isinstance(current, str):
                if current != key:
                    postings[token] = sorted((current, key))
                continue
            if key > current[-1]:  # numbers mostly grow: append
                i = len(current)
            else:
                i = bisect_left(current, key)
                if current[i] == key:  # indexed already
                    continue
                if len(current) >= LATE_FROM:
                    self._add_late(token, key, tokens)
                    continue
            current.insert(i, key)
            summaries = signatures.get(token)
            if summaries is not None:
                summaries.insert(i, self._summary(tokens, token))
            elif len(current) >= SIGNED_FROM:
                self._bits[token] = prefix_bits(token)
                signatures[token] = array(
                    "Q",
                    (
                        self._summary(tokens if k == key else self._tokens_of(k), token)
                        for k in current
                    ),
                )

    def _add_late(self, token: str, key: str, tokens: frozenset[str]) -> None:
        """Add *key* to the late keys of the long, signed *token*."""
        late = self._late.setdefault(token, [])
        summaries = self._late_signatures.setdefault(token, array("Q"))
        j = bisect_left(late, key)
        if j < len(late) and late[j] == key:  # indexed already
            return
        late.insert(j, key)
        summaries.insert(j, self._summary(tokens, token))
        if len(late) * LATE_SHARE > len(self._postings[token]):
            self._merge_late(token)

    def _merge_late(self, token: str) -> None:
        """Merge the late keys of *token* (and their signatures) into its main list."""
        late, summaries = self._late.pop(token), self._late_signatures.pop(token)
        keys = self._postings[token]
        # two sorted runs: sorted() merges them in one linear pass
        merged = sorted(
            zip(
                itertools.chain(keys, late),
                itertools.chain(self._signatures[token], summaries),
                strict=True,
            )
        )
        keys[:] = [k for k, _ in merged]
        self._signatures[token] = array("Q", [s for _, s in merged])

    def _discard_late(self, token: str, key: str) -> bool:
        """Remove *key* from the late keys of *token*; False when it is not one."""
        late = self._late.get(token)
        if late is None:
            return False
        j = bisect_left(late, key)
        if j == len(late) or late[j] != key:
            return False
        del late[j], self._late_signatures[token][j]
        if not late:
            del self._late[token], self._late_signatures[token]
        return True

    def discard(self, key: str, tokens: Iterable[str]) -> None:
        """Stop indexing *key* under each of *tokens*.

        Raises:
            KeyError: when *key* is not indexed under one of them.
        """
        postings, signatures = self._postings, self._signatures
        for token in tokens:
            current = postings[token]
            if isinstance(current, str):
                if current != key:
                    raise KeyError(key)
                del postings[token]
                self._tokens.remove(token)
                continue
            i = bisect_left(current, key)
            if i == len(current) or current[i] != key:
                if not self._discard_late(token, key):
                    raise KeyError(key)
                continue
            del current[i]
            if token in signatures:
                if len(current) < SIGNED_FROM:
                    del signatures[token], self._bits[token]
                else:
                    del signatures[token][i]
            if len(current) == 1:
                postings[token] = current[0]
            elif token in self._late and len(current) < LATE_FROM:
                self._merge_late(token)  # late keys only beside a long list

    def matching(self, word: str) -> set[str]:
        """Keys with a token that starts with *word*."""
        found: set[str] = set()
        late = self._late
        for token in self._tokens.with_prefix(word):
            current = self._postings[token]
            if isinstance(current, str):
                found.add(current)
            else:
                found.update(current)
                if late and token in late:
                    found.update(late[token])
        return found

    def ordered(self, word: str) -> list[list[str]]:
        """The sorted key lists of every token that starts with *word*."""
        postings, late = self._postings, self._late
        found = []
        for token in self._tokens.with_prefix(word):  # one walk of the tokens
            keys = postings[token]
            found.append([keys] if isinstance(keys, str) else keys)
            if late and token in late:
                found.append(late[token])
        return found

    def filtered(self, word: str, others: Sequence[str]) -> list[list[str]]:
        """Like :meth:`ordered`, less keys that surely miss one of the *others* words: under
        a signed token, those whose other tokens' signature lacks a bit of a word's
        :func:`~custbill.storage.search.prefix_bits` (unless the token itself starts with
        the word).  The keys of a token without signatures are all kept."""
        postings, signatures = self._postings, self._signatures
        wanted = [(other, prefix_bits(other)) for other in others]
        found = []
        for token in self._tokens.with_prefix(word):
            keys = postings[token]
            summaries = signatures.get(token)
            if summaries is None:
                found.append([keys] if isinstance(keys, str) else keys)
                continue
            mask = 0
            for other, other_bits in wanted:
                if not token.startswith(other):
                    mask |= other_bits
            late = self._late.get(token) if self._late else None
            if mask:  # by position: a key is read (its memory touched) only when kept
                found.append([keys[i] for i, s in enumerate(summaries) if s & mask == mask])
                if late is not None:
                    late_summaries = self._late_signatures[token]
                    found.append(
                        [late[i] for i, s in enumerate(late_summaries) if s & mask == mask]
                    )
            else:
                found.append(keys)
                if late is not None:
                    found.append(late)
        return found

    def tokens(self) -> list[str]:
        """Every indexed token, in order."""
        return list(self._tokens)


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
        """Add or replace the row of ``row[0]``."""
        number = row[0]
        if self.rows.setdefault(number, row) is row:  # a new number: one lookup
            if number < self.last:
                self.ordered = False
            else:
                self.last = number
        else:
            self.rows[number] = row
        if row[3] is not None:
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


class MemoryStore:
    """Keeps everything in memory with the indexes the facade needs.

    Safe to share between threads.  Nothing survives the process.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.customers: dict[str, Customer] = {}
        self.accounts: dict[str, BillingAccount] = {}
        self.customer_by_external: dict[str, str] = {}
        self.account_by_external: dict[str, str] = {}
        self.customer_numbers = SortedList(normalise)
        self.account_numbers = SortedList(normalise)
        self.customer_externals = SortedList(normalise)
        self.account_externals = SortedList(normalise)
        self.names = TokenIndex(self._name_tokens)
        self.accounts_by_customer: dict[str, Any] = {}
        self.managed: dict[str, Any] = {}
        self.children: dict[str, Any] = {}
        # The hierarchies as integer links, for walks of tens of nanoseconds per step:
        # account_ids numbers every account ever seen; up[h][i] is the id above account i in
        # hierarchy h, or -1.
        self.account_ids: dict[str, int] = {}
        self.up: dict[str, array[int]] = {"responsible": array("q"), "parent": array("q")}
        self.by_bill_cycle: dict[str, CycleRows] = {}
        #: Plan profiles (see custbill.billing.plan.profile_key) as small integers.
        self.profiles: dict[tuple[Any, ...], int] = {}
        self.catalog: dict[type, dict[str, Any]] = {}
        self.custom_fields: dict[CustomFieldTarget, dict[str, CustomFieldDefinition]] = {}
        self.settings: Settings | None = None
        self.history: dict[str, tuple[_Entry, ...]] = {}
        self.invoices: dict[str, Invoice] = {}
        self.entries: dict[str, dict[type, list[Any]]] = {}  # account -> kind -> records
        self.pending: dict[str, Money] = {}
        self.runs: dict[tuple[str, date], tuple[str, ...]] = {}
        self.sequences: dict[str, int] = {}
        self.closed = False
        #: The undo log of the unit of work holding the lock.
        self.undo: list[_Undo] = []
        self.repositories = (
            _Customers(self),
            _Accounts(self),
            _Catalog(self),
            _Settings(self),
            _History(self),
            _Ledger(self),
        )

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work over this store."""
        return MemoryUnitOfWork(self)

    def close(self) -> None:
        """Nothing to release; the store stays readable."""
        self.closed = True

    # -- state transitions used by the repositories (and, reversed, by undo) -------------

    def replace_customer(self, old: Customer | None, new: Customer | None) -> None:
        """Move the customer record and every index from *old* to *new*."""
        number = (new or old).number  # type: ignore[union-attr]
        if new is None:
            del self.customers[number]
            self.customer_numbers.remove(number)
        else:
            self.customers[number] = new
            if old is None:
                self.customer_numbers.add(number)
        old_ext = old.external_number if old is not None else None
        new_ext = new.external_number if new is not None else None
        if old_ext != new_ext:
            if old_ext is not None:
                del self.customer_by_external[old_ext]
                self.customer_externals.remove(old_ext)
            if new_ext is not None:
                self.customer_by_external[new_ext] = number
                self.customer_externals.add(new_ext)
        old_name = old.name if old is not None else None
        new_name = new.name if new is not None else None
        if old_name != new_name:  # every token again: the signature beside each is new
            if old_name:
                self.names.discard(number, name_tokens(old_name))
            if new_name:
                self.names.add(number, name_tokens(new_name))
        if (old is None or old.erased, old and old.primary_email) != (
            new is None or new.erased,
            new and new.primary_email,
        ):
            self._refresh_rows(number)

    def replace_account(self, old: BillingAccount | None, new: BillingAccount | None) -> None:
        """Move the account record and every index from *old* to *new*."""
        if old is None:
            assert new is not None
            self._index_account(new, add=True)
        elif new is None:
            self._index_account(old, add=False)
        else:
            self.accounts[new.number] = new
            if (
                old.external_number,
                old.customer,
                old.responsible_account,
                old.parent_account,
                old.bill_cycle,
            ) != (
                new.external_number,
                new.customer,
                new.responsible_account,
                new.parent_account,
                new.bill_cycle,
            ):
                self._index_account(old, add=False)
                self._index_account(new, add=True)
            else:
                self.by_bill_cycle[new.bill_cycle].put(self._plan_row(new))

    def _name_tokens(self, number: str) -> frozenset[str]:
        name = self.customers[number].name
        return name_tokens(name) if name else frozenset()

    def _account_id(self, number: str) -> int:
        """The integer id of an account number, given on first sight."""
        found = self.account_ids.get(number)
        if found is None:
            found = self.account_ids[number] = len(self.up["responsible"])
            for links in self.up.values():
                links.append(-1)
        return found

    def _index_account(self, account: BillingAccount, *, add: bool) -> None:
        """Add *account* to (or remove it from) the records and every index."""
        number = account.number
        index = _multi_add if add else _multi_remove
        if add:
            self.accounts[number] = account
            self.account_numbers.add(number)
        else:
            del self.accounts[number]
            self.account_numbers.remove(number)
        ext = account.external_number
        if ext is not None:
            if add:
                self.account_by_external[ext] = number
                self.account_externals.add(ext)
            else:
                del self.account_by_external[ext]
                self.account_externals.remove(ext)
        index(self.accounts_by_customer, account.customer, number)
        if account.responsible_account is not None or account.parent_account is not None:
            self._link(account, add=add)
        cycle = self.by_bill_cycle.get(account.bill_cycle)
        if add:
            if cycle is None:
                cycle = self.by_bill_cycle[account.bill_cycle] = CycleRows()
            cycle.put(self._plan_row(account))
        else:
            assert cycle is not None
            cycle.drop(number)
            if not cycle.rows:
                del self.by_bill_cycle[account.bill_cycle]

    def _link(self, account: BillingAccount, *, add: bool) -> None:
        """Add (or remove) the hierarchy links of *account*."""
        number = account.number
        index = _multi_add if add else _multi_remove
        for target, tree, up in (
            (account.responsible_account, self.managed, self.up["responsible"]),
            (account.parent_account, self.children, self.up["parent"]),
        ):
            if target is not None:
                index(tree, target, number)
                up[self._account_id(number)] = self._account_id(target) if add else -1
        responsible = self.accounts.get(account.responsible_account or "")
        rows = self.by_bill_cycle.get(responsible.bill_cycle) if responsible else None
        if responsible is not None and rows is not None and responsible.number != number:
            rows.put(self._plan_row(responsible))  # its row says whether it manages accounts

    def _plan_row(self, account: BillingAccount) -> PlanRow:
        customer = self.customers.get(account.customer)
        email = None if customer is None or customer.erased else customer.primary_email
        key = profile_key(account)
        profile = self.profiles.get(key)
        if profile is None:
            profile = self.profiles[key] = len(self.profiles)
        return plan_row(account, email, profile, account.number in self.managed)

    def _refresh_rows(self, customer: str) -> None:
        """Renew the plan rows of *customer*'s accounts (its primary email changed)."""
        for number in _multi_get(self.accounts_by_customer, customer):
            account = self.accounts[number]
            self.by_bill_cycle[account.bill_cycle].put(self._plan_row(account))


class MemoryUnitOfWork:
    """A unit of work on a :class:`MemoryStore`; holds the store's lock while open.

    The repositories belong to the store and record their undo steps in the log of the unit
    of work that holds the lock.
    """

    __slots__ = (
        "accounts",
        "catalog",
        "customers",
        "history",
        "ledger",
        "outer",
        "settings",
        "store",
        "undo",
    )

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        (self.customers, self.accounts, self.catalog, self.settings, self.history, self.ledger) = (
            store.repositories
        )
        self.undo: list[_Undo] = []
        self.outer: list[_Undo] = []

    def __enter__(self) -> MemoryUnitOfWork:
        self.store.lock.acquire()
        self.undo = []
        self.outer, self.store.undo = self.store.undo, self.undo
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self.store.undo = self.outer
            self.store.lock.release()

    def next_number(self, kind: str) -> int:
        """Next value of a sequence; not undone by a rollback, so values never repeat."""
        value = self.store.sequences.get(kind, 0) + 1
        self.store.sequences[kind] = value
        return value

    def number_taken(self, number: str) -> bool:
        """True when a customer or an account has this number."""
        return number in self.store.customers or number in self.store.accounts

    def commit(self) -> None:
        """Keep every write made so far."""
        self.undo.clear()

    def rollback(self) -> None:
        """Undo every write since the last commit, newest first."""
        while self.undo:
            self.undo.pop()()


#: A word matching at most this many customers is narrowed without counting the query's
#: other words: its candidates' signatures are read in a fraction of a millisecond.
_FEW = 4096


class _Customers:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        #: The record by number: the dict's own get, so hot loops call C directly.
        self.get: Callable[[str], Customer | None] = store.customers.get

    def add(self, customer: Customer) -> None:
        self.store.replace_customer(None, customer)
        self.store.undo.append(lambda: self.store.replace_customer(customer, None))

    def update(self, customer: Customer) -> None:
        old = self.store.customers[customer.number]
        if old.version != customer.version - 1:
            raise ConflictError(customer.number, customer.version - 1, old.version)
        self.store.replace_customer(old, customer)
        self.store.undo.append(lambda: self.store.replace_customer(customer, old))

    def with_external_number(self, external_number: str) -> str | None:
        return self.store.customer_by_external.get(external_number)

    def named(self, name: str) -> tuple[str, ...]:
        key = name.casefold()
        tokens = name_tokens(name)
        if not tokens:
            return ()
        # the rarest token of the name narrows the candidates most
        postings = self.store.names._postings
        rarest = min(
            tokens,
            key=lambda t: (
                0
                if t not in postings
                else (1 if isinstance(postings[t], str) else len(postings[t]))
            ),
        )
        candidates = self.store.names.matching(rarest) if rarest in postings else set()
        customers = self.store.customers
        return tuple(sorted(n for n in candidates if customers[n].name.casefold() == key))

    def matching(self, word: str) -> set[str]:
        """Customers with a name token, number or external number starting with *word*."""
        store = self.store
        found = store.names.matching(word)
        found.update(store.customer_numbers.with_prefix(word))
        found.update(
            store.customer_by_external[e] for e in store.customer_externals.with_prefix(word)
        )
        return found

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        if limit is None:
            return _intersect(self.matching, words)
        return self._first(words, limit)

    def _first(self, words: Sequence[str], limit: int) -> list[str]:
        """The first *limit* matches in number order, without finding every match when the
        query is one word: its sorted key lists are merged lazily."""
        if not words:
            return []
        if len(set(words)) > 1:
            return self._narrowed(words, limit)
        store = self.store
        word = words[0]
        numbers = _starting(store.customer_numbers, word, 1000)
        externals = _starting(store.customer_externals, word, 1000)
        if len(numbers) == 1000 or len(externals) == 1000:  # a very broad number prefix
            return sorted(self.matching(word))[:limit]
        streams = store.names.ordered(word)
        streams.append(sorted(numbers))
        streams.append(sorted(store.customer_by_external[e] for e in externals))
        found: list[str] = []
        previous = None
        for number in heapq.merge(*streams):
            if number != previous:
                found.append(number)
                if len(found) == limit:
                    break
                previous = number
        return found

    def _size(self, word: str, most: int = 1_000_000) -> int:
        """About how many customers *word* matches: its tokens' postings and numbers,
        counted up to *most* or a point past which the word is broad whatever the count."""
        store = self.store
        postings = store.names._postings
        size = 0
        late = store.names._late
        for token in itertools.islice(store.names._tokens.with_prefix(word), 2000):
            found = postings[token]
            size += 1 if isinstance(found, str) else len(found)
            if late and token in late:
                size += len(late[token])
            if size > most:
                return size
        for keys in (store.customer_numbers, store.customer_externals):
            size += len(_starting(keys, word, 1000))
        return size

    def _narrowest(self, words: Sequence[str]) -> tuple[str, list[str]]:
        """The word to start from, and the others: the word matching fewest customers, or
        the longest word when it matches few enough that counting the others would cost
        more than it could save (longer words tend to match fewer; a word is counted only
        until it has more than the best)."""
        ranked = sorted(set(words), key=len, reverse=True)
        best, fewest = ranked[0], self._size(ranked[0])
        if fewest <= _FEW:
            return best, ranked[1:]
        for word in ranked[1:]:
            size = self._size(word, fewest)
            if size < fewest:
                best, fewest = word, size
        return best, [w for w in ranked if w != best]

    def _narrowed(self, words: Sequence[str], limit: int) -> list[str]:
        """Several words: the matches of the word to start from (see :meth:`_narrowest`), in
        number order, each checked against the other words until *limit* are found.

        Candidates found by name are first narrowed by the index's signatures, without
        reading a name, to those that may match every other word that matches no number
        (of the others, a word matching numbers, or one too short to have prefix bits, is
        left to the check).
        """
        store = self.store
        first, others = self._narrowest(words)
        names_only = [
            w
            for w in others
            if not store.customer_numbers.has_prefix(w)
            and not store.customer_externals.has_prefix(w)
        ]
        numbers = self._by_number(first, 1000)
        if numbers is None:  # a very broad number prefix: every match, then the check
            streams = [sorted(self.matching(first))]
        else:
            streams = store.names.filtered(first, names_only)
            streams.append(sorted(numbers))
        found: list[str] = []
        previous = None
        for number in heapq.merge(*streams):
            if number != previous:
                previous = number
                if all(self._matches(number, w) for w in others):
                    found.append(number)
                    if len(found) == limit:
                        break
        return found

    def _by_number(self, word: str, most: int) -> set[str] | None:
        """Customers whose number or external number starts with *word*, if fewer than
        *most* (else None)."""
        store = self.store
        numbers = set(_starting(store.customer_numbers, word, most))
        externals = _starting(store.customer_externals, word, most)
        if len(numbers) == most or len(externals) == most:
            return None
        numbers.update(store.customer_by_external[e] for e in externals)
        return numbers

    def _matches(self, number: str, word: str) -> bool:
        """Whether *word* starts a name token, the number or the external number of the
        customer *number* (*word* is normalised and holds no white space)."""
        customer = self.store.customers[number]
        name = normalise(customer.name)
        if name.startswith(word) or f" {word}" in name:  # a word after a space
            return True
        if not name.replace(" ", "").isalnum() and any(
            t.startswith(word) for t in name_tokens(customer.name)
        ):  # other white space, or punctuation: tokens that are not plain words
            return True
        return normalise(number).startswith(word) or (
            customer.external_number is not None
            and normalise(customer.external_number).startswith(word)
        )

    def all(self) -> Iterator[Customer]:
        customers = self.store.customers
        return (customers[n] for n in sorted(customers))


def _starting(keys: SortedList, word: str, most: int) -> list[str]:
    """Up to *most* of *keys* starting with *word* (most words match no number: that is
    found reading one key)."""
    if not keys.has_prefix(word):
        return []
    return list(itertools.islice(keys.with_prefix(word), most))


def _intersect(matching: Callable[[str], set[str]], words: Sequence[str]) -> list[str]:
    result: set[str] | None = None
    for word in sorted(words, key=len, reverse=True):  # longest first: fewest matches
        found = matching(word)
        result = found if result is None else result & found
        if not result:
            return []
    return sorted(result) if result else []


class _Accounts:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        #: The record by number: the dict's own get, so hot loops call C directly.
        self.get: Callable[[str], BillingAccount | None] = store.accounts.get

    def add(self, account: BillingAccount) -> None:
        self.store.replace_account(None, account)
        self.store.undo.append(lambda: self.store.replace_account(account, None))

    def update(self, account: BillingAccount) -> None:
        old = self.store.accounts[account.number]
        if old.version != account.version - 1:
            raise ConflictError(account.number, account.version - 1, old.version)
        self.store.replace_account(old, account)
        self.store.undo.append(lambda: self.store.replace_account(account, old))

    def with_external_number(self, external_number: str) -> str | None:
        return self.store.account_by_external.get(external_number)

    def of_customer(self, customer: str) -> tuple[str, ...]:
        return _multi_get(self.store.accounts_by_customer, customer)

    def managed_by(self, number: str) -> tuple[str, ...]:
        return _multi_get(self.store.managed, number)

    def children_of(self, number: str) -> tuple[str, ...]:
        return _multi_get(self.store.children, number)

    def in_chain(self, number: str, start: str, hierarchy: Hierarchy) -> bool:
        if number == start:
            return True
        ids = self.store.account_ids
        me, current = ids.get(number), ids.get(start)
        if me is None or current is None:
            return False
        up = self.store.up[hierarchy]
        for _ in range(len(up)):  # a chain is shorter; the bound ends a cycle stored past rules
            current = up[current]
            if current < 0:
                return False
            if current == me:
                return True
        return False

    def on_bill_cycle(self, bill_cycle: str) -> Sequence[str]:
        cycle = self.store.by_bill_cycle.get(bill_cycle)
        return list(cycle.in_order()) if cycle is not None else []

    def plan_rows(
        self, bill_cycle: str
    ) -> tuple[Iterable[PlanRow], Iterable[PlanRow], Callable[[str], PlanRow | None]]:
        """The plan rows of the cycle's accounts in number order, those of its managed
        accounts, and a row by number (see :func:`custbill.billing.plan.plan_rows`)."""
        cycle = self.store.by_bill_cycle.get(bill_cycle)
        if cycle is None:
            nothing: dict[str, PlanRow] = {}
            return (), (), nothing.get
        rows = cycle.in_order()
        return rows.values(), cycle.managed.values(), rows.get

    def matching(self, word: str) -> set[str]:
        """Accounts whose number or external number, or whose customer's name, matches."""
        store = self.store
        found = set(store.account_numbers.with_prefix(word))
        found.update(
            store.account_by_external[e] for e in store.account_externals.with_prefix(word)
        )
        by_customer = store.accounts_by_customer
        for customer in store.names.matching(word):
            accounts = by_customer.get(customer)
            if isinstance(accounts, str):
                found.add(accounts)
            elif accounts:
                found.update(accounts)
        return found

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        found = _intersect(self.matching, words)
        return found if limit is None else found[:limit]

    def all(self) -> Iterator[BillingAccount]:
        accounts = self.store.accounts
        return (accounts[n] for n in sorted(accounts))


class _Catalog:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def get(self, kind: type[T], id: str) -> T | None:
        entries = self.store.catalog.get(kind)
        return None if entries is None else entries.get(id)

    def all(self, kind: type[T]) -> tuple[T, ...]:
        entries = self.store.catalog.get(kind, {})
        return tuple(entries[k] for k in sorted(entries))

    def add(self, entry: CatalogItem | CustomFieldDefinition) -> None:
        if isinstance(entry, CustomFieldDefinition):
            defs = self.store.custom_fields.setdefault(entry.applies_to, {})
            defs[entry.name] = entry
            self.store.undo.append(lambda: defs.__delitem__(entry.name))
        else:
            entries = self.store.catalog.setdefault(type(entry), {})
            entries[entry.id] = entry
            self.store.undo.append(lambda: entries.__delitem__(entry.id))

    def custom_fields(self, target: CustomFieldTarget) -> tuple[CustomFieldDefinition, ...]:
        definitions = self.store.custom_fields.get(target)
        return () if definitions is None else tuple(definitions.values())


class _Settings:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def get(self) -> Settings | None:
        return self.store.settings

    def put(self, settings: Settings) -> None:
        old = self.store.settings
        self.store.settings = settings

        def undo() -> None:
            self.store.settings = old

        self.store.undo.append(undo)


class _History:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def _replace(self, number: str, entries: tuple[_Entry, ...]) -> None:
        history = self.store.history
        old = history.get(number)
        history[number] = entries

        def undo() -> None:
            if old is None:
                del history[number]
            else:
                history[number] = old

        self.store.undo.append(undo)

    def append(self, changes: Sequence[Change]) -> None:
        history = self.store.history
        before: list[tuple[str, tuple[_Entry, ...] | None]] = []
        previous: _Entry | None = None
        for change in changes:
            entry = (change.at, change.field, change.old, change.new)
            if entry == previous:  # e.g. "created" for a customer and its account: one tuple
                entry = previous
            previous = entry
            number = change.number
            first = (entry,)
            old = history.setdefault(number, first)  # one lookup for a new number
            if old is first:
                before.append((number, None))
            else:
                before.append((number, old))
                history[number] = (*old, entry)

        def undo() -> None:
            for number, old in reversed(before):
                if old is None:
                    del history[number]
                else:
                    history[number] = old

        self.store.undo.append(undo)

    def of(self, number: str) -> tuple[Change, ...]:
        return tuple(
            Change(at=at, number=number, field=field, old=old, new=new)
            for at, field, old, new in self.store.history.get(number, ())
        )

    def redact(self, number: str, fields: frozenset[str], mask: str) -> None:
        entries = self.store.history.get(number)
        if entries:
            self._replace(
                number,
                tuple(
                    (at, field, None if old is None else mask, None if new is None else mask)
                    if field in fields
                    else (at, field, old, new)
                    for at, field, old, new in entries
                ),
            )


class _Ledger:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def _append(self, account: str, record: Any) -> None:
        records = self.store.entries.setdefault(account, {}).setdefault(type(record), [])
        records.append(record)
        self.store.undo.append(records.pop)

    def _of(self, account: str, kind: type[R]) -> tuple[R, ...]:
        return tuple(self.store.entries.get(account, {}).get(kind, ()))

    def invoice(self, number: str) -> Invoice | None:
        return self.store.invoices.get(number)

    def add_invoice(self, invoice: Invoice) -> None:
        self.store.invoices[invoice.number] = invoice
        self.store.undo.append(lambda: self.store.invoices.__delitem__(invoice.number))
        self._append(invoice.billed_account, invoice)

    def invoices_of(self, account: str) -> tuple[Invoice, ...]:
        return self._of(account, Invoice)

    def add_payment(self, payment: Payment) -> None:
        self._append(payment.account, payment)

    def payments_of(self, account: str) -> tuple[Payment, ...]:
        return self._of(account, Payment)

    def add_adjustment(self, adjustment: Adjustment) -> None:
        self._append(adjustment.account, adjustment)

    def adjustments_of(self, account: str) -> tuple[Adjustment, ...]:
        return self._of(account, Adjustment)

    def pending(self, account: str) -> Money | None:
        return self.store.pending.get(account)

    def pending_amounts(self) -> Mapping[str, Money]:
        return dict(self.store.pending)

    def set_pending(self, account: str, amount: Money | None) -> None:
        old = self.store.pending.get(account)
        if amount is None:
            self.store.pending.pop(account, None)
        else:
            self.store.pending[account] = amount

        def undo() -> None:
            if old is None:
                self.store.pending.pop(account, None)
            else:
                self.store.pending[account] = old

        self.store.undo.append(undo)

    def run(self, bill_cycle: str, run_date: date) -> tuple[str, ...] | None:
        return self.store.runs.get((bill_cycle, run_date))

    def record_run(self, bill_cycle: str, run_date: date, invoices: tuple[str, ...]) -> None:
        key = (bill_cycle, run_date)
        self.store.runs[key] = invoices
        self.store.undo.append(lambda: self.store.runs.__delitem__(key))
