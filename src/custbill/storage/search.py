"""Text normalisation and tokens for search, shared by every store.

Search is case- and accent-insensitive: text is put in its identity key
(:func:`custbill.model.text.identity_key`: invisible characters dropped, NFKC, case-folded),
then decomposed, and its combining marks are dropped, so ``"Émile"``, ``"emile"`` and
``"ＥＭＩＬＥ"`` meet, and texts with one identity key are always found by the same
searches.  A name gives a token for each white-space separated word (with surrounding
punctuation stripped) and for each run of letters and digits inside it, so ``"O'Brien"``
is found by ``o'b``, ``o`` and ``brien``.  Numbers and external numbers are matched whole,
from their first character.

A key's tokens are also summarised in 64 bits (see :func:`prefix_bits`), which lets a search
with several words discard most candidates of its narrowest word without reading names.
"""

from __future__ import annotations

import re
import unicodedata

from custbill.model.text import identity_key

_PIECES = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Case-fold *text* and strip its accents.

    >>> from custbill.storage.search import normalise
    >>> normalise("Ångström Café")
    'angstrom cafe'
    """
    if text.isascii():  # the common case: nothing to decompose, and casefold is lower
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", identity_key(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


_PUNCTUATION = "\"'.,;:!?()[]{}<>"


def name_tokens(name: str) -> frozenset[str]:
    """Tokens of a name, normalised."""
    tokens: set[str] = set()
    for word in normalise(name).split():
        if word.isalnum():  # the common case: the word is its only token
            tokens.add(word)
            continue
        stripped = word.strip(_PUNCTUATION)
        if stripped:
            tokens.add(stripped)
        tokens.update(_PIECES.findall(word))
    return frozenset(tokens)


def query_words(text: str) -> list[str]:
    """The normalised words of a query, each of which must match (an empty list matches
    nothing)."""
    words = []
    for word in normalise(text).split():
        stripped = word.strip("\"'.,;:!?()[]{}<>")
        if stripped:
            words.append(stripped)
    return words


def prefix_bits(text: str) -> int:
    """Two bits (of 64, by hash) for each of the 2-, 3- and 4-character prefixes *text* has.

    A key's signature is the union of its tokens' prefix bits: a key with a token starting
    with a word has every bit of the word's prefix bits (the converse is usually true, never
    certain), so a signature lacking one of them rules the key out.  Hashes of strings
    differ between processes, so signatures are only ever kept in memory.

    >>> from custbill.storage.search import prefix_bits
    >>> brick, bri = prefix_bits("brick"), prefix_bits("bri")
    >>> brick & bri == bri
    True
    """
    size = len(text)
    if size < 2:
        return 0
    h = hash(text[:2])
    bits = 1 << (h & 63) | 1 << (h >> 6 & 63)
    if size > 2:
        h = hash(text[:3])
        bits |= 1 << (h & 63) | 1 << (h >> 6 & 63)
        if size > 3:
            h = hash(text[:4])
            bits |= 1 << (h & 63) | 1 << (h >> 6 & 63)
    return bits
