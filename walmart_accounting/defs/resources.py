"""Dagster resources shared by every domain: the integration's store and the mapping configuration."""


from functools import cached_property

import dagster as dg
from pydantic import PrivateAttr

from walmart_accounting.domain.config import MappingConfig, load_config
from walmart_accounting.store.db import database_url, redacted
from walmart_accounting.store.store import Store


class StoreResource(dg.ConfigurableResource):
    """The posting ledger, dead letters, audit trail and credentials, at $WALMART_ACCOUNTING_DB_URL."""

    database_url: str | None = None

    _store: Store | None = PrivateAttr(default=None)

    def url(self) -> str:
        return self.database_url or database_url()

    def get(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.url())
        return self._store

    def describe(self) -> str:
        return redacted(self.url())


class MappingResource(dg.ConfigurableResource):
    """The mapping file at $WALMART_ACCOUNTING_CONFIG (or the packaged sandbox default)."""

    path: str | None = None

    def load(self) -> MappingConfig:
        return load_config(self.path)
