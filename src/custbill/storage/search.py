"""Text normalisation and tokens for search, shared by every store.

Search is case- and accent-insensitive: text is decomposed (NFKD), combining marks are
dropped, and the rest is case-folded, so ``"Émile"`` and ``"emile"`` meet.  A name gives a
token for each white-space separated word (with surrounding punctuation stripped) and for
each run of letters and digits inside it, so ``"O'Brien"`` is found by ``o'b``, ``o`` and
``brien``.  Numbers and external numbers are matched whole, from their first character.
"""

from __future__ import annotations

import re
import unicodedata

_PIECES = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Case-fold *text* and strip its accents.

    >>> from custbill.storage.search import normalise
    >>> normalise("Ångström Café")
    'angstrom cafe'
    """
    if text.isascii():  # the common case: nothing to decompose, and casefold is lower
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
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
