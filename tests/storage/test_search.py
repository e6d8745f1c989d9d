"""Search normalisation and the word-prefix token index."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from custbill.storage import MemoryStore
from custbill.storage.memory import TokenIndex
from custbill.storage.search import name_tokens, normalise, query_words


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
    index = TokenIndex()
    for key, name in entries.items():
        index.add(key, name_tokens(name))
    w = normalise(word)
    expected = {k for k, name in entries.items() if any(t.startswith(w) for t in name_tokens(name))}
    assert index.matching(w) == expected


@given(st.lists(st.tuples(st.sampled_from("abcdef"), names), max_size=30))
def test_reindexing_leaves_no_stale_tokens(updates: list[tuple[str, str]]) -> None:
    """After any sequence of re-indexing, the index holds only current tokens."""
    index = TokenIndex()
    current: dict[str, frozenset[str]] = {}
    for key, name in updates:
        new = name_tokens(name)
        old = current.get(key, frozenset())
        index.discard(key, old - new)
        index.add(key, new - old)
        current[key] = new
    live = {t for tokens in current.values() for t in tokens}
    assert index.tokens() == sorted(live)
    for token in live:
        assert index.matching(token) >= {k for k, t in current.items() if token in t}
