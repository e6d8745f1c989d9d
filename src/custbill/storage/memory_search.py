"""The in-memory store's customer search: which customers a query's words match.

A word matches a customer when it starts a token of the customer's name, its number or its
external number.  :func:`intersect` is the plain way — every word's matches, intersected —
and the oracle the tests hold the rest against; :class:`CustomerSearch` finds the first
matches in number order without collecting every match: one word's sorted key lists are
merged lazily, and several words start from the word that narrows most and check the
other words candidate by candidate, as the merge reads them (after the name index's
signatures dropped the candidates that surely miss one).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence

from custbill.model.text import identity_key
from custbill.storage.search import name_tokens, normalise
from custbill.storage.sortedlist import SortedList
from custbill.storage.token_index import TokenIndex

#: A word starting more numbers (or external numbers) than this is a broad number prefix:
#: its matches are collected whole and sorted instead of merged lazily.  Reading this many
#: numbers to merge them costs some tens of microseconds; only a query of one or two
#: characters (``c-``) starts more, and its first page is then found the slow way.
BROAD_NUMBER_PREFIX = 1000

#: A word matching at most this many customers is narrowed without counting the query's
#: other words: its candidates' signatures are read in a fraction of a millisecond.
FEW_MATCHES = 4096

#: Counting a word's matches looks at most at this many of its tokens: a word starting more
#: (one or two letters) is broad whatever their sizes, and counting on would cost more than
#: the count could save.
COUNTED_TOKENS = 2000

#: Counting a word's matches stops past this many when no better word is known yet: the
#: size of the largest stores custbill is measured at, so only the order of the counts
#: matters past it.
COUNTED_MATCHES = 1_000_000


def intersect(matching: Callable[[str], set[str]], words: Sequence[str]) -> list[str]:
    """The keys matching every one of *words*, sorted: each word's matches, intersected
    (longest word first, as it tends to match fewest)."""
    result: set[str] | None = None
    for word in sorted(words, key=len, reverse=True):
        found = matching(word)
        result = found if result is None else result & found
        if not result:
            return []
    return sorted(result) if result else []


def starting(keys: SortedList, word: str, most: int) -> list[str]:
    """Up to *most* of *keys* starting with *word* (most words match no number: that is
    found reading one key)."""
    if not keys.has_prefix(word):
        return []
    return list(itertools.islice(keys.with_prefix(word), most))


class NameIndex:
    """Customer numbers by name: by each search token of the name (:attr:`tokens`), and,
    for a name without any (punctuation or combining marks alone), by its identity key
    (:attr:`tokenless`), so that every name can be looked up whole (``named``).

    Args:
        tokens_of: a customer's name tokens, by its number (what the token index reads
            when it rebuilds an entry).
    """

    __slots__ = ("tokenless", "tokens")

    def __init__(self, tokens_of: Callable[[str], frozenset[str]]) -> None:
        self.tokens = TokenIndex(tokens_of)
        self.tokenless: dict[str, set[str]] = {}

    def add(self, number: str, name: str) -> None:
        tokens = name_tokens(name)
        if tokens:
            self.tokens.add(number, tokens)
        else:
            self.tokenless.setdefault(identity_key(name), set()).add(number)

    def discard(self, number: str, name: str) -> None:
        tokens = name_tokens(name)
        if tokens:
            self.tokens.discard(number, tokens)
            return
        key = identity_key(name)
        holders = self.tokenless[key]
        holders.discard(number)
        if not holders:
            del self.tokenless[key]


class CustomerSearch:
    """Customer search over the in-memory store's indexes (which it reads, never writes).

    Args:
        names: the name index.
        numbers: every customer number, in order of its normalised form.
        externals: every external number, likewise.
        by_external: the customer holding each external number.
        customers: every customer by number.
    """

    __slots__ = (
        "by_external",
        "external_number_of",
        "externals",
        "name_of",
        "names",
        "numbers",
        "tokenless",
    )

    def __init__(
        self,
        names: NameIndex,
        numbers: SortedList,
        externals: SortedList,
        by_external: Mapping[str, str],
        name_of: Callable[[str], str],
        external_number_of: Callable[[str], str | None],
    ) -> None:
        self.names = names.tokens
        self.tokenless = names.tokenless
        self.numbers = numbers
        self.externals = externals
        self.by_external = by_external
        #: A customer's name, and its external number, by number.
        self.name_of = name_of
        self.external_number_of = external_number_of

    def named(self, name: str) -> tuple[str, ...]:
        """Customers whose name has the identity key of *name*: the candidates of its
        rarest token, checked."""
        tokens = name_tokens(name)
        if not tokens:
            return tuple(sorted(self.tokenless.get(identity_key(name), ())))
        rarest = min(tokens, key=self.names.size)
        key = identity_key(name)
        candidates = self.names.matching(rarest) if self.names.size(rarest) else set()
        name_of = self.name_of
        return tuple(sorted(n for n in candidates if identity_key(name_of(n)) == key))

    def matching(self, word: str) -> set[str]:
        """Customers with a name token, number or external number starting with *word*."""
        found = self.names.matching(word)
        found.update(self.numbers.with_prefix(word))
        found.update(self.by_external[e] for e in self.externals.with_prefix(word))
        return found

    def search(self, words: Sequence[str], limit: int | None = None) -> list[str]:
        """Customers matching every word, in number order (the first *limit* when given)."""
        if limit is None:
            return intersect(self.matching, words)
        if not words:
            return []
        if len(set(words)) > 1:
            return self._narrowed(words, limit)
        return self._first_of_one(words[0], limit)

    def _first_of_one(self, word: str, limit: int) -> list[str]:
        """The first *limit* matches of one word: its sorted key lists merged lazily."""
        numbers = starting(self.numbers, word, BROAD_NUMBER_PREFIX)
        externals = starting(self.externals, word, BROAD_NUMBER_PREFIX)
        if BROAD_NUMBER_PREFIX in (len(numbers), len(externals)):
            return sorted(self.matching(word))[:limit]
        streams = self.names.ordered(word)
        streams.append(sorted(numbers))
        streams.append(sorted(self.by_external[e] for e in externals))
        found: list[str] = []
        previous = None
        for number in heapq.merge(*streams):
            if number != previous:  # (a customer under two tokens comes twice, together)
                found.append(number)
                if len(found) == limit:
                    break
                previous = number
        return found

    def size(self, word: str, most: int = COUNTED_MATCHES) -> int:
        """About how many customers *word* matches: its tokens' keys and numbers, counted up
        to *most* or a point past which the word is broad whatever the count."""
        size = self.names.count(word, most, COUNTED_TOKENS)
        if size > most:
            return size
        for keys in (self.numbers, self.externals):
            size += len(starting(keys, word, BROAD_NUMBER_PREFIX))
        return size

    def narrowest(self, words: Sequence[str]) -> tuple[str, list[str]]:
        """The word to start from, and the others: the word matching fewest customers, or
        the longest word when it matches few enough that counting the others would cost
        more than it could save (longer words tend to match fewer; a word is counted only
        until it has more than the best)."""
        ranked = sorted(set(words), key=len, reverse=True)
        best, fewest = ranked[0], self.size(ranked[0])
        if fewest <= FEW_MATCHES:
            return best, ranked[1:]
        for word in ranked[1:]:
            size = self.size(word, fewest)
            if size < fewest:
                best, fewest = word, size
        return best, [w for w in ranked if w != best]

    def _narrowed(self, words: Sequence[str], limit: int) -> list[str]:
        """Several words: the matches of the word to start from (:meth:`narrowest`), in
        number order, each checked against the other words until *limit* are found.

        Candidates found by name are first narrowed by the index's signatures, without
        reading a name, to those that may match every other word that matches no number
        (of the others, a word matching numbers, or one too short to have prefix bits, is
        left to the check).  The candidates are read as the merge wants them, so a search
        whose every word is common stops after its first page of matches.
        """
        first, others = self.narrowest(words)
        names_only = [
            w for w in others if not self.numbers.has_prefix(w) and not self.externals.has_prefix(w)
        ]
        numbers = self._by_number(first)
        streams: list[Iterable[str]]
        if numbers is None:  # a very broad number prefix: every match, then the check
            streams = [sorted(self.matching(first))]
        else:
            streams = self.names.filtered(first, names_only)
            streams.append(sorted(numbers))
        found: list[str] = []
        previous = None
        for number in heapq.merge(*streams):  # (a plain loop: it runs per candidate)
            if number != previous:
                previous = number
                if all(self.matches(number, w) for w in others):
                    found.append(number)
                    if len(found) == limit:
                        break
        return found

    def _by_number(self, word: str) -> set[str] | None:
        """Customers whose number or external number starts with *word*, unless it is a
        broad number prefix (then None)."""
        numbers = set(starting(self.numbers, word, BROAD_NUMBER_PREFIX))
        externals = starting(self.externals, word, BROAD_NUMBER_PREFIX)
        if BROAD_NUMBER_PREFIX in (len(numbers), len(externals)):
            return None
        numbers.update(self.by_external[e] for e in externals)
        return numbers

    def matches(self, number: str, word: str) -> bool:
        """Whether *word* starts a name token, the number or the external number of the
        customer *number* (*word* is normalised and holds no white space)."""
        display = self.name_of(number)
        name = normalise(display)
        if name.startswith(word) or f" {word}" in name:  # a word after a space
            return True
        if not name.replace(" ", "").isalnum() and any(
            t.startswith(word) for t in name_tokens(display)
        ):  # other white space, or punctuation: tokens that are not plain words
            return True
        if normalise(number).startswith(word):
            return True
        external = self.external_number_of(number)
        return external is not None and normalise(external).startswith(word)
