"""Use cases of the tenant's settings and catalog: change settings, add catalog entries."""

from __future__ import annotations

from typing import Any

import attrs

from custbill.model import (
    Settings,
)
from custbill.rules import check_catalog_entry, check_settings, violation
from custbill.rules.catalog import CatalogEntry
from custbill.service._unit import Context, raise_if, require
from custbill.storage.protocols import UnitOfWork


def put_settings(uow: UnitOfWork, ctx: Context, settings: Settings) -> Settings:
    """Store *settings* unless the stored data contradicts them (``settings.in_use``)."""
    require(settings, Settings, "settings")
    _shared(ctx, "settings")
    raise_if(check_settings(settings, uow.customers.all(), uow.accounts.all()))
    uow.settings.put(settings)
    uow.commit()
    return settings


def update_settings(uow: UnitOfWork, ctx: Context, changes: dict[str, Any]) -> Settings:
    """Change some settings; see :meth:`custbill.CustomerBilling.update_settings`."""
    return put_settings(uow, ctx, attrs.evolve(uow.settings.get() or Settings(), **changes))


def add_catalog_entry(
    uow: UnitOfWork, ctx: Context, entry: CatalogEntry, kind: type | tuple[type, ...]
) -> None:
    """Add a catalog entry of *kind* (``catalog.invalid``, ``catalog.id_taken``)."""
    _shared(ctx, "entry")
    require(entry, kind, "entry")
    raise_if(check_catalog_entry(entry, ctx.lookup(uow)))
    uow.catalog.add(entry)
    uow.commit()


def _shared(ctx: Context, path: str) -> None:
    """``scope.shared_read_only`` for a scoped facade: the settings and the catalog are
    the host's, shared by every scope."""
    if ctx.scope is not None:
        message = "a scoped facade reads the shared settings and catalog, it does not change them"
        raise_if([violation("scope.shared_read_only", path, message, scope=ctx.scope)])
