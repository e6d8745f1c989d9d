"""Search normalisation and the word-prefix token index."""

from __future__ import annotations

import functools
import operator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import custbill as cb
from custbill.storage import (
    MemoryStore,
    SQLiteStore,
    memory,
    memory_search,
    token_index,
)
from custbill.storage import (
    _sql_search as sql_search,
)
from custbill.storage.search import name_tokens, normalise, prefix_bits, query_words
from custbill.storage.token_index import SIGNED_FROM, TokenIndex


def test_normalise_drops_case_and_accents() -> None:
    """Decomposed accents go, case folds (ß → ss)."""
    assert normalise("Ångström Straße ÉMILE") == "angstrom strasse emile"


def test_name_tokens_keep_words_and_pieces() -> None:
    """Whole words (trimmed of punctuation) and their letter/digit runs are tokens."""
    assert name_tokens("O'Brien & Sons, Ltd.") == {"o'brien", "o", "brien", "&", "sons", "ltd"}


def test_numbers_match_from_their_start() -> None:
    """A number is matched as a whole, from its first character."""
    from custbill.testing import facade_for, new_account, new_customer

    billing = facade_for(MemoryStore())
    customer, _ = billing.create_customer(new_customer(external_number="EXT/9"), new_account())
    assert billing.search_customers(customer.number.lower()[:4]) == (customer,)
    assert billing.search_customers("ext/") == (customer,)
    assert billing.search_customers(customer.number[-3:]) == ()


def test_query_words() -> None:
    """Queries split on white space, lose surrounding punctuation, and normalise."""
    assert query_words('  "Société,"  GÉN ') == ["societe", "gen"]
    assert query_words(" , ") == []


names = st.text(alphabet="abcé ABC-'", max_size=12)


@given(
    st.dictionaries(st.text(alphabet="0123456789", min_size=1, max_size=4), names, max_size=20),
    st.text(alphabet="abcé", min_size=1, max_size=3),
)
def test_index_matches_brute_force(entries: dict[str, str], word: str) -> None:
    """The index returns exactly the keys a brute-force prefix scan finds."""
    index = TokenIndex(lambda key: name_tokens(entries[key]))
    for key, name in entries.items():
        index.add(key, name_tokens(name))
    w = normalise(word)
    expected = {k for k, name in entries.items() if any(t.startswith(w) for t in name_tokens(name))}
    assert index.matching(w) == expected


def _reindex(updates: list[tuple[str, str]]) -> tuple[TokenIndex, dict[str, frozenset[str]]]:
    """An index after re-indexing keys as their names change, and each key's tokens."""
    current: dict[str, frozenset[str]] = {}
    index = TokenIndex(current.__getitem__)
    for key, name in updates:
        new = name_tokens(name)
        index.discard(key, current.get(key, frozenset()))
        index.add(key, new)
        current[key] = new
    return index, current


@given(st.lists(st.tuples(st.sampled_from("abcdef"), names), max_size=30))
def test_reindexing_leaves_no_stale_tokens(updates: list[tuple[str, str]]) -> None:
    """After any sequence of re-indexing, the index holds only current tokens."""
    index, current = _reindex(updates)
    live = {t for tokens in current.values() for t in tokens}
    assert index.tokens() == sorted(live)
    for token in live:
        assert index.matching(token) >= {k for k, t in current.items() if token in t}


common = st.lists(st.sampled_from(["brick", "co", "bridge", "o'brien", "ltd"]), max_size=3)


@given(st.lists(st.tuples(st.sampled_from("abcdefghijkl"), common.map(" ".join)), max_size=40))
def test_signatures_follow_every_change(updates: list[tuple[str, str]]) -> None:
    """A token of enough keys keeps beside each the signature of the key's other tokens,
    through additions, renames and removals (crossing the threshold both ways); a rarer
    token keeps none."""
    start = [(key, "Brick Co Ltd") for key in "abcdefghij"]  # over the threshold
    index, current = _reindex(start + updates)
    for token in {t for tokens in current.values() for t in tokens}:
        keys = index.ordered(token)[0]
        if len(keys) < SIGNED_FROM:
            assert token not in index._signatures
            continue
        expected = []
        for key in keys:
            bits = 0
            for other in current[key] - {token}:
                bits |= prefix_bits(other)
            expected.append(bits)
        assert list(index._signatures[token]) == expected


words = st.sampled_from(["brick", "bridge", "brie", "co", "cobalt", "b", "ltd", "o'brien", "xo"])


@pytest.mark.parametrize("lazy_from", [0, token_index.LAZY_FROM])
@given(
    st.dictionaries(
        st.text(alphabet="0123456789", min_size=1, max_size=4),
        st.lists(words, min_size=1, max_size=4).map(" ".join),
        max_size=25,
    ),
    st.text(alphabet="bcrio'", min_size=1, max_size=4),
    st.lists(st.text(alphabet="bcdilort'", min_size=1, max_size=5), min_size=1, max_size=3),
)
def test_filtered_keeps_every_key_matching_every_word(
    lazy_from: int, entries: dict[str, str], word: str, others: list[str]
) -> None:
    """Narrowing by signatures never loses a key that matches all the words, keeps only
    keys of the first word, and keeps each token's keys in order, whether it narrows a
    token's keys at once or as they are read (``lazy_from``)."""
    index = TokenIndex(lambda key: name_tokens(entries[key]))
    for key, name in entries.items():
        index.add(key, name_tokens(name))

    def has(key: str, w: str) -> bool:
        return any(t.startswith(w) for t in name_tokens(entries[key]))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(token_index, "LAZY_FROM", lazy_from)
        streams = [list(keys) for keys in index.filtered(word, others)]
    kept = {k for keys in streams for k in keys}
    assert kept <= index.matching(word)
    assert {k for k in entries if has(k, word) and all(has(k, o) for o in others)} <= kept
    assert all(keys == sorted(keys) for keys in streams)


def test_signatures_rule_out_most_misses() -> None:
    """The filter does narrow: of many keys with a word, those whose other tokens
    cannot match go (which ones remain by chance depends on string hashes)."""

    def name(key: str) -> str:
        return f"Brick {'Cobalt' if int(key) % 10 == 0 else 'Ltd'}"

    index = TokenIndex(lambda key: name_tokens(name(key)))
    for i in range(200):
        index.add(f"{i:03d}", name_tokens(name(f"{i:03d}")))
    kept = {k for keys in index.filtered("bri", ["cob"]) for k in keys}
    assert {f"{i:03d}" for i in range(0, 200, 10)} <= kept
    assert len(kept) in (20, 200)  # all 180 misses go, unless "cob" collides with "ltd"


def named_customers(most: int) -> st.SearchStrategy[list[tuple[str, str | None]]]:
    """Up to *most* customers' names of a few words, some with an external number."""
    return st.lists(
        st.tuples(
            st.lists(words, min_size=1, max_size=3).map(" ".join),
            st.none() | st.sampled_from(["BR-1", "br-2", "CO/3", "ltd9"]),
        ),
        min_size=1,
        max_size=most,
    )


def queries(*more: str) -> st.SearchStrategy[list[str]]:
    """Up to three query words, of names and of numbers (and *more*)."""
    return st.lists(
        st.sampled_from(["br", "bri", "brick", "co", "c-0", "ltd", "o'b", "b", "xo", *more]),
        max_size=3,
    )


@pytest.mark.parametrize("few", [0, memory_search.FEW_MATCHES])
@given(named_customers(30), queries("brie"), st.integers(1, 6))
def test_several_words_find_what_a_scan_finds(
    few: int, customers: list[tuple[str, str | None]], query: list[str], limit: int
) -> None:
    """A search with several words returns the first matches in number order that a scan
    over every customer's name tokens, number and external number finds — whichever word
    it starts from (with ``few`` at 0, it counts every word and starts from the narrowest)."""
    from custbill.testing import facade_for, new_account, new_customer

    billing = facade_for(MemoryStore())
    created = []
    used: set[str] = set()
    for name, external in customers:
        if external in used:  # external numbers are unique
            external = None
        if external is not None:
            used.add(external)
        created.append(
            billing.create_customer(new_customer(name, external_number=external), new_account())[0]
        )

    def has(customer: cb.Customer, word: str) -> bool:
        return (
            any(t.startswith(word) for t in name_tokens(customer.name))
            or normalise(customer.number).startswith(word)
            or (
                customer.external_number is not None
                and normalise(customer.external_number).startswith(word)
            )
        )

    words = query_words(" ".join(query))
    expected = sorted(c.number for c in created if words and all(has(c, w) for w in words))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memory_search, "FEW_MATCHES", few)
        found = [c.number for c in billing.search_customers(" ".join(query), limit=limit)]
    assert found == expected[:limit]


def _named_in_memory(names: list[str]) -> tuple[cb.CustomerBilling, memory._Customers]:
    """A facade over a new in-memory store holding a customer of each of *names*, and the
    store's customers (whose ``finder`` is the search)."""
    from custbill.testing import facade_for, new_account, new_customer

    store = MemoryStore()
    billing = facade_for(store)
    for name in names:
        billing.create_customer(new_customer(name), new_account())
    customers = store.repositories[0]
    assert isinstance(customers, memory._Customers)
    return billing, customers


def test_several_words_start_from_the_narrowest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting every word, the search starts from the one matching fewest customers and
    checks the candidates against all the others; a word matching few enough is started
    from without counting the others."""
    billing, customers = _named_in_memory(["Brick", "Brick Co", "Brick Xo", "Xo Ltd"])
    finder = customers.finder
    assert finder.narrowest(["brick", "xo"]) == ("brick", ["xo"])  # few enough
    monkeypatch.setattr(memory_search, "FEW_MATCHES", 0)
    assert finder.narrowest(["brick", "xo"]) == ("xo", ["brick"])
    assert [c.name for c in billing.search_customers("brick xo", limit=5)] == ["Brick Xo"]


def test_a_word_starting_too_many_tokens_to_count_is_not_started_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A word starting more tokens than are counted (``1``: ``1``, ``10``, ``11``…) is
    broad, not as narrow as the tokens counted before stopping."""
    billing, customers = _named_in_memory([f"Acme {i}" for i in range(40)])
    monkeypatch.setattr(memory_search, "FEW_MATCHES", 0)
    monkeypatch.setattr(memory_search, "COUNTED_TOKENS", 3)
    assert customers.finder.narrowest(["acme", "1"]) == ("acme", ["1"])
    found = billing.search_customers("acme 1", limit=3)
    assert [c.name for c in found] == ["Acme 1", "Acme 10", "Acme 11"]


class _CountedReads:
    """A token's signatures, counting how many of them are read."""

    def __init__(self, values: Any) -> None:
        self.values = values
        self.read = 0

    def __iter__(self) -> Any:
        for value in self.values:
            self.read += 1
            yield value


def test_a_limited_search_reads_few_of_a_common_word_s_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a limit, the keys of a common word are read as the search wants them: the
    first page of ``acme ltd``, every other customer a match, reads about twice the
    page's signatures, not the word's 400 (with the threshold for reading them so made
    small)."""
    monkeypatch.setattr(token_index, "LAZY_FROM", 100)
    billing, customers = _named_in_memory([f"Acme {'Ltd' if i % 2 else 'Inc'}" for i in range(400)])
    signatures = customers.finder.names._signatures
    counted = signatures["acme"] = _CountedReads(signatures["acme"])
    found = billing.search_customers("acme ltd", limit=5)
    assert [c.name for c in found] == ["Acme Ltd"] * 5
    assert [c.number for c in found] == [c.number for c in billing.search_customers("acme ltd")][:5]
    assert 0 < counted.read <= 2 * 5 + 2


@given(st.text(max_size=8), st.text(max_size=6))
def test_a_word_s_prefix_bits_are_within_those_of_a_token_it_starts(word: str, rest: str) -> None:
    """No false negatives: a token starting with a word has every bit of the word's."""
    token = word + rest
    assert prefix_bits(token) & prefix_bits(word) == prefix_bits(word)
    assert prefix_bits(token) < 1 << 64


@example("Acme Brick", None, "bri")
@example("Acme\tBrick", None, "bri")
@example("(Acme) Brick", "b-1", "acm")
@given(
    st.text(alphabet="abÉé -'\t.", min_size=1, max_size=12).filter(str.strip),
    st.none() | st.text(alphabet="ab-1", min_size=1, max_size=4),
    st.text(alphabet="abé-'c", min_size=1, max_size=3),
)
def test_a_candidate_check_agrees_with_the_tokens(
    name: str, external: str | None, query: str
) -> None:
    """Checking one customer against a word (used for words broader than the first)
    agrees with its name tokens, number and external number."""
    from custbill.testing import facade_for, new_account, new_customer

    store = MemoryStore()
    billing = facade_for(store)
    customer, _ = billing.create_customer(
        new_customer(name, external_number=external), new_account()
    )
    customers = store.repositories[0]
    assert isinstance(customers, memory._Customers)
    for word in query_words(query):
        expected = (
            any(t.startswith(word) for t in name_tokens(customer.name))
            or normalise(customer.number).startswith(word)
            or (external is not None and normalise(external).startswith(word))
        )
        assert customers.finder.matches(customer.number, word) == expected


@given(
    st.lists(st.tuples(st.sampled_from("lkjihgfedcba"), common.map(" ".join)), max_size=60),
    st.sampled_from(["b", "bri", "co", "l", "o"]),
    st.lists(st.sampled_from(["br", "co", "lt", "o'"]), max_size=2),
)
def test_late_keys_are_kept_and_read_like_the_others(
    updates: list[tuple[str, str]], word: str, others: list[str]
) -> None:
    """With keys arriving out of order into long tokens (thresholds made tiny), the index
    holds exactly each token's keys and their signatures, late keys included, and every
    reader sees them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(token_index, "SIGNED_FROM", 3)
        patch.setattr(token_index, "LATE_FROM", 4)
        patch.setattr(token_index, "LATE_SHARE", 1)  # late keys wait until they outnumber the rest
        index, current = _reindex(updates)
    expected: dict[str, list[tuple[str, int | None]]] = {}
    for token in {t for tokens in current.values() for t in tokens}:
        keys = sorted(k for k, tokens in current.items() if token in tokens)
        expected[token] = [
            (
                key,
                functools.reduce(operator.or_, map(prefix_bits, current[key] - {token}), 0)
                if len(keys) >= 3
                else None,
            )
            for key in keys
        ]
    assert index.entries() == expected
    for token, entries in expected.items():
        assert index.size(token) == len(entries)
    assert index.size("no such token") == 0
    for token, late in index._late.items():  # late keys wait only beside a long list
        assert late and len(index._postings[token]) >= 4

    def has(key: str, w: str) -> bool:
        return any(t.startswith(w) for t in current[key])

    matching = {k for k in current if has(k, word)}
    assert index.matching(word) == matching
    streams = index.ordered(word)
    assert all(keys == sorted(keys) for keys in streams)
    assert {k for keys in streams for k in keys} == matching
    kept = {k for keys in index.filtered(word, others) for k in keys}
    assert {k for k in matching if all(has(k, o) for o in others)} <= kept <= matching
    assert {k for keys in index.filtered(word, []) for k in keys} == matching
    under = [t for t in expected if t.startswith(word)]  # (a key under two tokens counts twice)
    assert index.count(word, most=10**6, tokens_at_most=10**6) == sum(
        len(expected[t]) for t in under
    )
    # past tokens_at_most tokens a word is broad: it counts as more than most
    assert index.count(word, most=10**6, tokens_at_most=1) == (
        10**6 + 1 if len(under) > 1 else sum(len(expected[t]) for t in under)
    )


def test_late_keys_of_a_long_token_wait_and_merge() -> None:
    """A key sorting inside a long token's list waits among the late keys until they pass
    1/LATE_SHARE of the list; then one merge puts every key in order."""
    index = TokenIndex(lambda key: frozenset({"acme", key}))
    size = token_index.LATE_FROM
    for n in range(size):
        index.add(f"K{n + 10 * size:09d}", frozenset({"acme", f"k{n}"}))
    share = size // token_index.LATE_SHARE
    for n in range(share):
        index.add(f"K{n:09d}", frozenset({"acme", f"k{n}"}))
        assert len(index._late["acme"]) == n + 1
    index.add("K-final", frozenset({"acme"}))
    assert "acme" not in index._late
    keys = index.ordered("acme")[0]
    assert keys == sorted(keys) and len(keys) == size + share + 1


_EDGES = st.text(st.sampled_from(["a", "b", "\ud7ff", "\ue000", "\U0010ffff", "\U0010fffe"]))


@given(word=_EDGES.filter(bool), text=_EDGES)
@example(word="\ud7ff", text="\ud7ff\ue000")
@example(word="\U0010ffff", text="\U0010ffff\U0010ffff")
def test_prefix_ranges_hold_exactly_the_strings_starting_with_a_word(word: str, text: str) -> None:
    """The SQL stores find a word's matches as a range of keys: the range holds a text
    exactly when the text starts with the word, also where the next code point is a
    surrogate (a search for U+D7FF once raised UnicodeEncodeError) or there is none."""
    from custbill.storage._sql_search import prefix_range

    low, high = prefix_range(word)
    assert (low <= text < high) == text.startswith(word)
    assert not any("\ud800" <= c <= "\udfff" for c in high)


#: The SQL search's limits (FEW_MATCHES, COUNTED_MATCHES, SCANNED_RECORDS) each test runs
#: under: no word few and every word counted as common (it intersects); no word few but
#: every word counted whole, with at most three or a thousand (more than these tests'
#: stores hold) of the first records checked; small counts; as they are.
_SQL_COUNTS = [
    (0, 0, 1),
    (0, 1_000, 3),
    (0, 1_000, 1_000),
    (1, 2, 2),
    (sql_search.FEW_MATCHES, sql_search.COUNTED_MATCHES, sql_search.SCANNED_RECORDS),
]


def _sql_limits(patch: pytest.MonkeyPatch, few: int, counted: int, scanned: int) -> None:
    patch.setattr(sql_search, "FEW_MATCHES", few)
    patch.setattr(sql_search, "COUNTED_MATCHES", counted)
    patch.setattr(sql_search, "SCANNED_RECORDS", scanned)


@pytest.mark.parametrize(("few", "counted", "scanned"), _SQL_COUNTS)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(named_customers(12), queries("a-0"), st.none() | st.integers(1, 6))
def test_sql_search_finds_what_a_scan_finds(
    tmp_path_factory: pytest.TempPathFactory,
    few: int,
    counted: int,
    scanned: int,
    customers: list[tuple[str, str | None]],
    query: list[str],
    limit: int | None,
) -> None:
    """The SQL stores' search finds the first customers and accounts in number order that
    a scan finds — whichever word it starts from, and when every word matches more than
    it counts, whether the first ``scanned`` records hold enough matches or it intersects."""
    from custbill.testing import facade_for, new_account, new_customer

    billing = facade_for(SQLiteStore(tmp_path_factory.mktemp("search") / "store.db"))
    made: list[tuple[cb.Customer, cb.BillingAccount]] = []
    for name, external in customers:
        if any(c.external_number == external for c, _ in made):
            external = None  # (external numbers are unique)
        made.append(
            billing.create_customer(new_customer(name, external_number=external), new_account())
        )
    text = " ".join(query)
    words = query_words(text)

    def keys(customer: cb.Customer, record: cb.Customer | cb.BillingAccount) -> set[str]:
        """What a word may start: the customer's name tokens, the record's numbers."""
        numbers = {normalise(record.number)} | (
            set() if record.external_number is None else {normalise(record.external_number)}
        )
        return name_tokens(customer.name) | numbers

    def expected(which: int) -> list[str]:
        found = sorted(
            pair[which].number
            for pair in made
            if all(any(k.startswith(w) for k in keys(pair[0], pair[which])) for w in words)
        )
        return found[:limit] if words else []

    with pytest.MonkeyPatch.context() as patch:
        _sql_limits(patch, few, counted, scanned)
        found = [c.number for c in billing.search_customers(text, limit=limit)]
        accounts = [a.number for a in billing.search_accounts(text, limit=limit)]
    assert found == expected(0)
    assert accounts == expected(1)


def _never(*args: object) -> list[str]:
    raise AssertionError("intersected")


def test_sql_search_starts_from_the_narrowest_word(store_name: str) -> None:
    """On both SQL stores: a search starts from the word matching fewest (counted a few
    first, then further when every word matches more); when no word is few, from the first
    records in number order, if they hold enough matches; and every query finds what the
    in-memory store finds, whichever way the SQL store takes (under each of the limits of
    ``_SQL_COUNTS``)."""
    from custbill.testing import facade_for, new_account, new_customer
    from tests.storage.writers import open_store

    store = open_store(store_name)
    stores = [facade_for(MemoryStore()), facade_for(store)]
    names = [f"Brick Ltd {i}" for i in range(30)] + ["Cobalt Ltd", "Brick Cobalt", "Xo"]
    for billing in stores:
        for i, name in enumerate(names):
            external = f"EXT-{i}" if i % 3 == 0 else None
            billing.create_customer(new_customer(name, external_number=external), new_account())
    with store.unit_of_work(read_only=True) as uow:
        db = uow.customers.db  # type: ignore[attr-defined]
        counts = sql_search.counts
        assert counts(db, sql_search.CUSTOMERS, ["ltd", "cobalt", "zz"], 100) == [31, 2, 0]
        assert counts(db, sql_search.CUSTOMERS, ["ltd", "cobalt", "zz"], 5) == [6, 2, 0]
        assert sql_search.narrowest(db, sql_search.CUSTOMERS, ["ltd", "cobalt"]) == ("cobalt", 2)
        assert sql_search.narrowest(db, sql_search.CUSTOMERS, ["ltd", "co"]) == ("co", 2)
        with pytest.MonkeyPatch.context() as patch:  # (no word is few: counted on)
            patch.setattr(sql_search, "FEW_MATCHES", 0)
            assert sql_search.narrowest(db, sql_search.CUSTOMERS, ["co", "ltd"]) == ("co", 2)
            assert sql_search.narrowest(db, sql_search.ACCOUNTS, ["brick", "xo"]) == ("xo", 1)
            assert sql_search.narrowest(db, sql_search.ACCOUNTS, ["brick", "ltd"]) == ("brick", 31)
        first = sql_search.first_matches
        ltd = first(db, sql_search.CUSTOMERS, ["ltd"], 3, scanned=5)
        assert ltd == [c.number for c in stores[0].search_customers("ltd", limit=3)]
        assert first(db, sql_search.CUSTOMERS, ["brick", "ltd"], 5, scanned=5) is not None
        assert first(db, sql_search.CUSTOMERS, ["brick", "ltd"], 6, scanned=5) is None
        assert first(db, sql_search.ACCOUNTS, ["cobalt"], 1, scanned=5) is None  # 31st, 32nd
        cobalt = [a.number for a in stores[0].search_accounts("cobalt")]
        assert first(db, sql_search.ACCOUNTS, ["cobalt"], 2, scanned=40) == cobalt
        with pytest.MonkeyPatch.context() as patch:  # (no word is few)
            scans: list[int] = []

            def scan(*args: Any) -> list[str] | None:
                scans.append(args[-1])
                return first(*args)

            patch.setattr(sql_search, "first_matches", scan)
            patch.setattr(sql_search, "intersect", _never)
            _sql_limits(patch, 0, 100, 5)
            assert len(stores[1].search_customers("ltd brick", limit=5)) == 5
            assert scans == [5]  # (at most SCANNED_RECORDS)
            _sql_limits(patch, 0, 100, 1_000)
            found = stores[1].search_customers("cobalt ltd", limit=1)
            assert [c.name for c in found] == ["Cobalt Ltd"]  # (not in the first 2)
            assert scans == [5, 2]  # (no more records than "cobalt" matches)
    queries = ["ltd co", "brick ltd 1", "co br", "ext-1 ltd", "ext b", "c-00 ltd", "a-0 br"]
    queries += ["brick brick", "xo ltd", "zz ltd", "l b c"]
    for limits in _SQL_COUNTS:
        with pytest.MonkeyPatch.context() as patch:
            _sql_limits(patch, *limits)
            for text in queries:
                for limit in (None, 3):
                    memory, sql = (
                        (
                            [c.number for c in b.search_customers(text, limit=limit)],
                            [a.number for a in b.search_accounts(text, limit=limit)],
                        )
                        for b in stores
                    )
                    assert sql == memory, (text, limit, limits)
