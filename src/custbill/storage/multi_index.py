"""Indexes from a key to the numbers under it, as the in-memory store keeps them: most keys
(a customer's accounts, an account's managed accounts) hold one number, kept as the string
itself; a key with several holds a sorted list.  A million one-account customers then cost
no list at all.
"""

from __future__ import annotations

from bisect import insort
from typing import Any


def multi_add(index: dict[str, Any], key: str | None, number: str) -> None:
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


def multi_remove(index: dict[str, Any], key: str | None, number: str) -> None:
    """Remove *number* from under *key* (where it is)."""
    if key is None:
        return
    current = index[key]
    if isinstance(current, str):
        del index[key]
    else:
        current.remove(number)
        if len(current) == 1:
            index[key] = current[0]


def multi_get(index: dict[str, Any], key: str) -> tuple[str, ...]:
    """The numbers under *key*, in order."""
    current = index.get(key)
    if current is None:
        return ()
    if isinstance(current, str):
        return (current,)
    return tuple(current)
