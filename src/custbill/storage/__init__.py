"""Where things live: the storage protocols and the stores custbill ships."""

from custbill.storage.memory import MemoryStore
from custbill.storage.postgres import PostgresStore
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
from custbill.storage.sqlite import SQLiteStore

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
