"""The in-memory store's word-prefix index of customer names.

:class:`TokenIndex` maps each name token to the keys (customer numbers) having it, with
the tokens themselves in a :class:`~custbill.storage.sortedlist.SortedList` so that a
query word finds every token it starts.  Its readers (:meth:`TokenIndex.matching`,
:meth:`~TokenIndex.ordered`, :meth:`~TokenIndex.filtered`, :meth:`~TokenIndex.count`)
are what the search planner (:mod:`custbill.storage.memory_search`) builds on; the tests
check them against brute-force scans (``tests/storage/test_search.py``).
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from custbill.storage.search import prefix_bits
from custbill.storage.sortedlist import SortedList

#: Keys a token needs before the index keeps signatures beside them: below this, checking
#: a token's few keys costs less than the memory their signatures would take.
SIGNED_FROM = 8

#: A token's sorted list takes a key in its middle only while shorter than this (at least
#: SIGNED_FROM); past it, such a key waits in a short sorted list of the token's late keys,
#: merged into the long one when it holds more than 1/LATE_SHARE of its length.
LATE_FROM = 4096
LATE_SHARE = 16

#: A token of at least this many keys hands out the keys its signatures keep as the
#: search reads them, so the first page of a common word stops early; a smaller token's are
#: narrowed at once, which costs some tens of microseconds at most and merges faster than
#: a generator (a query of two partial words reads dozens of such tokens whole).
LAZY_FROM = 1024


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

    def filtered(self, word: str, others: Sequence[str]) -> list[Iterable[str]]:
        """Like :meth:`ordered`, less keys that surely miss one of the *others* words: under
        a signed token, those whose other tokens' signature lacks a bit of a word's
        :func:`~custbill.storage.search.prefix_bits` (unless the token itself starts with
        the word).  The keys of a token without signatures are all kept.

        A long token's narrowed keys are read as they are wanted (:func:`_kept`, from
        :data:`LAZY_FROM` keys), so a search that needs the first few matches of a common
        word stops after them instead of reading the signatures of every key the word has."""
        postings, signatures = self._postings, self._signatures
        wanted = [(other, prefix_bits(other)) for other in others]
        found: list[Iterable[str]] = []
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
            if mask:
                found.append(_kept(keys, summaries, mask))
                if late is not None:
                    found.append(_kept(late, self._late_signatures[token], mask))
            else:
                found.append(keys)
                if late is not None:
                    found.append(late)
        return found

    def size(self, token: str) -> int:
        """How many keys *token* holds (0 for a token not indexed)."""
        keys = self._postings.get(token)
        if keys is None:
            return 0
        if isinstance(keys, str):
            return 1
        return len(keys) + len(self._late.get(token, ()))

    def count(self, word: str, most: int, tokens_at_most: int) -> int:
        """About how many keys the tokens starting with *word* hold (a key under two of them
        counts twice): the count stops once it passes *most*.  A word starting more than
        *tokens_at_most* tokens (one or two letters) is broad whatever their sizes: it
        counts as more than *most* without counting on."""
        postings, late = self._postings, self._late
        counted = 0
        for seen, token in enumerate(self._tokens.with_prefix(word)):
            if seen == tokens_at_most:  # (counted is at most *most* here)
                return most + 1
            keys = postings[token]  # (read here, not through size(): it runs per token)
            counted += 1 if isinstance(keys, str) else len(keys)
            if late and token in late:
                counted += len(late[token])
            if counted > most:
                break
        return counted

    def entries(self) -> dict[str, list[tuple[str, int | None]]]:
        """What the index holds, whatever its layout: each token's keys in order, each with
        its signature (None under a token that keeps none), late keys merged in."""
        found = {}
        for token, keys in self._postings.items():
            keys = [keys] if isinstance(keys, str) else list(keys)
            summaries = self._signatures.get(token)
            pairs = list(
                zip(keys, summaries if summaries is not None else [None] * len(keys), strict=True)
            )
            late = self._late.get(token, [])
            pairs += zip(late, self._late_signatures.get(token, []), strict=True)
            found[token] = sorted(pairs)
        return found

    def tokens(self) -> list[str]:
        """Every indexed token, in order."""
        return list(self._tokens)


def _kept(keys: Sequence[str], summaries: array[int], mask: int) -> Iterable[str]:
    """The *keys* whose signature (in *summaries*, by position) has every bit of *mask*, in
    order: at once below :data:`LAZY_FROM` keys, else as they are wanted.  A key is read
    (its memory touched) only when kept."""
    if len(keys) < LAZY_FROM:
        return [keys[i] for i, summary in enumerate(summaries) if summary & mask == mask]
    return _kept_lazily(keys, summaries, mask)


def _kept_lazily(keys: Sequence[str], summaries: array[int], mask: int) -> Iterator[str]:
    for i, summary in enumerate(summaries):
        if summary & mask == mask:
            yield keys[i]
