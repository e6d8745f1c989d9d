"""Where things live: the storage protocols and the stores custbill ships.

The SQL stores are imported when first named (``custbill.storage.SQLiteStore``), so that a
program on the memory store never loads them.
"""

import importlib
from typing import TYPE_CHECKING, Any

from custbill.storage.memory import MemoryStore
from custbill.storage.protocols import (
    AccountRepository,
    CatalogRepository,
    CustomerRepository,
    HistoryRepository,
    LedgerRepository,
    SettingsRepository,
    Store,
    UnitOfWork,
)

if TYPE_CHECKING:
    from custbill.storage.postgres import PostgresStore
    from custbill.storage.sqlite import SQLiteStore

#: The stores imported on first use, and their modules.
_SQL_STORES = {
    "PostgresStore": "custbill.storage.postgres",
    "SQLiteStore": "custbill.storage.sqlite",
}


def __getattr__(name: str) -> Any:
    if name not in _SQL_STORES:
        raise AttributeError(f"module 'custbill.storage' has no attribute {name!r}")
    value = getattr(importlib.import_module(_SQL_STORES[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "AccountRepository",
    "CatalogRepository",
    "CustomerRepository",
    "HistoryRepository",
    "LedgerRepository",
    "MemoryStore",
    "PostgresStore",
    "SQLiteStore",
    "SettingsRepository",
    "Store",
    "UnitOfWork",
]
