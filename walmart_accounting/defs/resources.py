"""Resources every domain shares: the integration's store, the mapping file and Walmart; each setting resolved in one place."""

from __future__ import annotations

import os
from typing import ClassVar, Self

import dagster as dg
from pydantic import PrivateAttr

from walmart_accounting.connectors import walmart
from walmart_accounting.domain.config import MappingConfig, load_config
from walmart_accounting.store.db import database_url, redacted, state_dir
from walmart_accounting.store.store import Store


class MissingSetting(RuntimeError):
    """A required environment variable is not set."""


class EnvResource(dg.ConfigurableResource):
    """A resource whose fields come from environment variables: secrets always as `EnvVar`, the rest only when set.

    `ENV` maps each field to its variable; a field whose variable is unset keeps its default, the one place
    that default lives. `EnvVar` keeps the value out of the UI and is read when a run starts.
    """

    ENV: ClassVar[dict[str, str]] = {}
    SECRETS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_env(cls, **fields) -> Self:
        """The resource fed by the environment (plus explicit `fields`, e.g. for tests)."""
        values: dict = {}
        for name, variable in cls.ENV.items():
            if name in cls.SECRETS:
                values[name] = dg.EnvVar(variable)
            elif os.environ.get(variable):
                annotation = cls.model_fields[name].annotation
                values[name] = dg.EnvVar.int(variable) if annotation in (int, int | None) else dg.EnvVar(variable)
        return cls(**{**values, **fields})

    @classmethod
    def resolved_from_env(cls, **fields) -> Self:
        """The same resource with its `EnvVar`s read now, for the command line (outside a Dagster run)."""
        missing = sorted(cls.ENV[name] for name in cls.SECRETS if not os.environ.get(cls.ENV[name]))
        if missing:
            raise MissingSetting(f"{cls.__name__}: set {', '.join(missing)}")
        return cls.from_env(**fields).process_config_and_initialize()


class StoreResource(dg.ConfigurableResource):
    """The posting ledger, dead letters, audit trail and credentials; opened once per run, never migrated here."""

    database_url: str | None = None  # None: $WALMART_ACCOUNTING_DB_URL, else a SQLite file under $DAGSTER_HOME

    _store: Store | None = PrivateAttr(default=None)

    def url(self) -> str:
        return self.database_url or database_url()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Raises StoreSchemaError ("run `walmart-accounting db upgrade`") when the schema is behind the code.
        self._store = Store.open(self.url())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None

    def get(self) -> Store:
        if self._store is None:  # used outside a run's lifecycle (a direct call in a test)
            self._store = Store.open(self.url())
        return self._store

    def describe(self) -> str:
        return redacted(self.url())


class MappingResource(dg.ConfigurableResource):
    """The mapping file at $WALMART_ACCOUNTING_CONFIG (or the packaged sandbox default)."""

    path: str | None = None  # None: $WALMART_ACCOUNTING_CONFIG, else the packaged default mapping

    def load(self) -> MappingConfig:
        return load_config(self.path)


class WalmartResource(EnvResource):
    """The Walmart Marketplace client; credentials come from EnvVar so the UI never shows them."""

    ENV: ClassVar[dict[str, str]] = {"base_url": "WALMART_BASE_URL", "client_id": "WALMART_CLIENT_ID",
                                     "client_secret": "WALMART_CLIENT_SECRET",
                                     "feed_poll_seconds": "WALMART_FEED_POLL_SECONDS"}
    SECRETS: ClassVar[frozenset[str]] = frozenset({"client_id", "client_secret"})

    base_url: str = walmart.PRODUCTION_URL
    client_id: str
    client_secret: str
    report_cache_dir: str | None = None  # None: walmart_reports under $DAGSTER_HOME
    # Between two polls of a bulk feed's status: Walmart asks for about 5 minutes before checking a price feed.
    feed_poll_seconds: int = 60

    def client(self) -> walmart.WalmartClient:
        cache_dir = self.report_cache_dir or str(state_dir() / "walmart_reports")
        return walmart.WalmartClient(self.client_id, self.client_secret, self.base_url,
                                     report_cache=walmart.ReconReportCache(cache_dir))
