"""Where things live: the storage protocols and the stores custbill ships."""

from custbill.storage.memory import MemoryStore
from custbill.storage.protocols import (
    AccountRepository,
    CatalogRepository,
    CustomerRepository,
    HistoryRepository,
    SettingsRepository,
    Store,
    UnitOfWork,
)

__all__ = [
    "AccountRepository",
    "CatalogRepository",
    "CustomerRepository",
    "HistoryRepository",
    "MemoryStore",
    "SettingsRepository",
    "Store",
    "UnitOfWork",
]
