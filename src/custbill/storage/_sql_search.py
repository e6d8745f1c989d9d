"""The SQL stores' search: which customers (or accounts) a query's words match.

A word matches a record when it starts a token of the customer's name, the number or the
external number: each is a range of an indexed column (:func:`prefix_range`).

:func:`intersect` is the plain way — every word's matches, intersected by the database —
and the oracle the tests hold :func:`search` against.  Intersecting reads every match of
every word, so a query with a word most customers share (``acme ltd``) reads the whole
table.  :func:`search` first counts each word's matches (up to :data:`FEW_MATCHES`, then,
when every word matches more, up to :data:`COUNTED_MATCHES`) and reads the matches of the
word that matches fewest only, each checked against the other words by number (index
lookups).  When no word matches few and the caller wants the first few matches (a
``limit``), it first checks the records in number order against every word
(:func:`first_matches`), as many as the word matching fewest matches (at most
:data:`SCANNED_RECORDS`), so that this costs no more than starting from that word would;
words that many records share often share the first records too (``company ltd``).  Only
when those records hold too few matches does it go on the other way: from the word
matching fewest or, when every word matches more than :data:`COUNTED_MATCHES`, by
intersecting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from custbill.storage._sql_writes import Database

#: The last code point.
_LAST = "\U0010ffff"
#: A run of the last code point longer than any text custbill keeps (text fields are at
#: most 1,000 characters, custbill.rules.limits): above every string starting with a word
#: made of the last code point alone.
_ABOVE_ALL = _LAST * 1_001

#: Every word of a query is first counted up to this many matches, and one matching no
#: more is started from without counting on: reading this many index entries costs a
#: fraction of a millisecond, and checking this many candidates a millisecond or two.
FEW_MATCHES = 100

#: Counting a word's matches stops past this many.  Checking this many candidates against
#: the other words costs about what intersecting does once a word matches some tens of
#: thousands of records, and counting this far costs a few milliseconds at most: a word
#: matching more is not worth starting from.
COUNTED_MATCHES = 2_000

#: At most this many records are checked in number order before a search whose every
#: word matches more than :data:`FEW_MATCHES` records goes on the other way.  Checking
#: this many costs a millisecond or two on SQLite and a few on PostgreSQL, against tens of
#: milliseconds to intersect every match at 100,000 records.
SCANNED_RECORDS = 1_000


def prefix_range(word: str) -> tuple[str, str]:
    """Bounds of the strings that start with *word*, in code-point order: *word*, and the
    first string past all of them — *word* with its last code point that can grow grown
    by one, skipping the surrogates (U+D800 to U+DFFF), which no stored text holds."""
    head = word.rstrip(_LAST)
    if not head:
        return word, word + _ABOVE_ALL
    after = ord(head[-1]) + 1
    if 0xD800 <= after <= 0xDFFF:
        after = 0xE000
    return word, head[:-1] + chr(after)


def _range(column: str) -> str:
    return f"{column} >= ? AND {column} < ?"


class WordSQL(NamedTuple):
    """How one kind of record is searched, each statement over a word's
    :func:`prefix_range` given three times."""

    #: The table of the records, by whose ``number`` they are found.
    table: str
    #: The three ways a word matches a record (by its number, its external number, its
    #: customer's name tokens): a query of the numbers each finds.
    ways: tuple[str, str, str]
    #: Whether the record ``found.number`` is matched by a word (a condition; each
    #: subquery ends in ``{per_row}``, :attr:`~custbill.storage._sql_writes.Dialect.per_row`).
    check: str

    @property
    def matches(self) -> str:
        """The numbers of the records a word matches (a query)."""
        return " UNION ".join(self.ways)

    @property
    def rows(self) -> str:
        """The same, duplicates kept, so that a ``LIMIT`` stops reading them early."""
        return " UNION ALL ".join(self.ways)


CUSTOMERS = WordSQL(
    table="customers",
    ways=(
        f"SELECT number FROM customers WHERE {_range('number_key')}",
        f"SELECT number FROM customers WHERE {_range('external_key')}",
        f"SELECT number FROM customer_tokens WHERE {_range('token')}",
    ),
    check=(
        "(EXISTS (SELECT 1 FROM customers c WHERE c.number = found.number"
        f" AND ({_range('c.number_key')} OR {_range('c.external_key')}){{per_row}})"
        " OR EXISTS (SELECT 1 FROM customer_tokens t WHERE t.number = found.number"
        f" AND {_range('t.token')}{{per_row}}))"
    ),
)
ACCOUNTS = WordSQL(
    table="accounts",
    ways=(
        f"SELECT number FROM accounts WHERE {_range('number_key')}",
        f"SELECT number FROM accounts WHERE {_range('external_key')}",
        "SELECT a.number FROM customer_tokens t JOIN accounts a ON a.customer = t.number"
        f" WHERE {_range('t.token')}",
    ),
    check=(
        "EXISTS (SELECT 1 FROM accounts a WHERE a.number = found.number"
        f" AND ({_range('a.number_key')} OR {_range('a.external_key')}"
        " OR EXISTS (SELECT 1 FROM customer_tokens t WHERE t.number = a.customer"
        f" AND {_range('t.token')}{{per_row}})){{per_row}})"
    ),
)


def _in_order(db: Database, sql: str, params: list[Any], limit: int | None) -> list[str]:
    """The numbers the query *sql* finds, in order, the first *limit* of them."""
    sql += " ORDER BY number"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [row[0] for row in db.all(sql, params, each_time=True)]


def _all_match(kind: WordSQL, words: Sequence[str], per_row: str, params: list[Any]) -> str:
    """The condition that every one of *words* matches the record ``found.number`` (the
    words' parameters appended to *params*)."""
    for word in words:
        params.extend(prefix_range(word) * 3)
    return " AND ".join([kind.check.format(per_row=per_row)] * len(words))


def intersect(db: Database, kind: WordSQL, words: Sequence[str], limit: int | None) -> list[str]:
    """The numbers of the records every one of *words* matches, in order (the first
    *limit*): every word's matches, intersected."""
    if not words:
        return []
    parts: list[str] = []
    params: list[Any] = []
    for word in words:
        parts.append(f"SELECT number FROM ({kind.matches}) AS w{len(parts)}")
        params.extend(prefix_range(word) * 3)
    return _in_order(db, " INTERSECT ".join(parts), params, limit)


def counts(db: Database, kind: WordSQL, words: Sequence[str], most: int) -> list[int]:
    """How many times each of *words* matches (a record matched twice, by its name and its
    number, counts twice), each counted up to *most* + 1, in one statement."""
    params: list[Any] = []
    columns: list[str] = []
    for word in words:
        columns.append(f"(SELECT count(*) FROM ({kind.rows} LIMIT ?) AS w{len(columns)})")
        params.extend((*prefix_range(word) * 3, most + 1))
    row = db.one(f"SELECT {', '.join(columns)}", params, each_time=True)
    return [int(size) for size in row] if row else [0] * len(words)


def narrowest(db: Database, kind: WordSQL, words: Sequence[str]) -> tuple[str, int]:
    """The word to start from, and how many times it matches: the word matching fewest,
    every word counted up to :data:`FEW_MATCHES` + 1 first; when each matches more than
    that, counted again up to :data:`COUNTED_MATCHES` + 1, longest first (longer words
    tend to match fewer), each only until it matches more than the best so far."""
    sizes = dict(zip(words, counts(db, kind, words, FEW_MATCHES), strict=True))
    best = min(words, key=sizes.__getitem__)
    if sizes[best] <= FEW_MATCHES:
        return best, sizes[best]
    fewest = COUNTED_MATCHES + 1
    for word in sorted(words, key=len, reverse=True):
        [size] = counts(db, kind, [word], min(fewest, COUNTED_MATCHES))
        if size < fewest:
            best, fewest = word, size
    return best, fewest


def first_matches(
    db: Database,
    kind: WordSQL,
    words: Sequence[str],
    limit: int,
    per_row: str = "",
    scanned: int = SCANNED_RECORDS,
) -> list[str] | None:
    """The first *limit* records in number order that every one of *words* matches, when
    the first *scanned* records hold that many; None when they do not (the first matches
    may then lie further on).

    The records are checked in number order, up to the last of the first *scanned* (found
    in the index), and the check stops at the *limit*-th match."""
    params: list[Any] = [scanned]
    firsts = f"SELECT number FROM {kind.table} ORDER BY number LIMIT ?"
    within = f"found.number <= (SELECT max(number) FROM ({firsts}) AS firsts)"
    matched = _all_match(kind, words, per_row, params)
    sql = f"SELECT number FROM {kind.table} AS found WHERE {within} AND {matched}"
    found = _in_order(db, sql, params, limit)
    return found if len(found) == limit else None


def search(
    db: Database, kind: WordSQL, words: Sequence[str], limit: int | None, per_row: str = ""
) -> list[str]:
    """What :func:`intersect` finds, the cheapest way the counts show: when no word is
    few, from the first records (:func:`first_matches`) if they hold *limit* matches;
    otherwise from the word matching fewest records (:func:`narrowest`) or, when every
    word matches more than :data:`COUNTED_MATCHES` times, by intersecting.  *per_row* ends
    the subqueries that check the other words
    (:attr:`~custbill.storage._sql_writes.Dialect.per_row`)."""
    distinct = list(dict.fromkeys(words))
    if not distinct or (len(distinct) == 1 and limit is None):
        return intersect(db, kind, distinct, limit)
    first, size = narrowest(db, kind, distinct)
    scanned = min(size, SCANNED_RECORDS)
    if size > FEW_MATCHES and limit is not None and limit <= scanned:
        found = first_matches(db, kind, distinct, limit, per_row, scanned)
        if found is not None:
            return found
    if size > COUNTED_MATCHES or len(distinct) == 1:
        return intersect(db, kind, distinct, limit)
    params: list[Any] = list(prefix_range(first) * 3)
    others = _all_match(kind, [w for w in distinct if w != first], per_row, params)
    sql = f"SELECT number FROM ({kind.matches}) AS found WHERE {others}"
    return _in_order(db, sql, params, limit)
