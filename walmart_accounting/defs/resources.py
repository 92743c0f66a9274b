"""Dagster resources shared by every domain: the integration's store and the mapping configuration."""


import os

import dagster as dg
from pydantic import PrivateAttr

from walmart_accounting.connectors import exact, walmart, xero
from walmart_accounting.domain.config import MappingConfig, load_config
from walmart_accounting.store.db import database_url, redacted, state_dir
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


class WalmartResource(dg.ConfigurableResource):
    """The Walmart Marketplace client; credentials come from EnvVar so the UI never shows them."""

    base_url: str | None = None  # None: $WALMART_BASE_URL when the run starts, else production
    client_id: str
    client_secret: str
    report_cache_dir: str | None = None

    def client(self) -> walmart.WalmartClient:
        cache_dir = self.report_cache_dir or str(state_dir() / "walmart_reports")
        base_url = self.base_url or os.environ.get("WALMART_BASE_URL") or walmart.PRODUCTION_URL
        return walmart.WalmartClient(self.client_id, self.client_secret, base_url,
                                     report_cache=walmart.ReconReportCache(cache_dir))


class XeroResource(dg.ConfigurableResource):
    """The Xero client for one organisation; tokens come from the store (encrypted), written by `connect xero`."""

    api_url: str | None = None  # None: $XERO_API_URL when the run starts, else production (same below)
    identity_url: str | None = None
    authorize_url: str | None = None
    client_id: str
    client_secret: str
    tenant_id: str | None = None
    calls_per_minute: int = 60  # Xero's per-organisation limit; the client also reads the headers
    store: dg.ResourceDependency[StoreResource]

    def client(self) -> xero.XeroClient:
        env = os.environ.get
        return xero.XeroClient(
            self.client_id, self.client_secret, self.store.get(),
            api_url=self.api_url or env("XERO_API_URL") or xero.API_URL,
            identity_url=self.identity_url or env("XERO_IDENTITY_URL") or xero.IDENTITY_URL,
            authorize_url=self.authorize_url or env("XERO_AUTHORIZE_URL") or xero.AUTHORIZE_URL,
            tenant_id=self.tenant_id or env("XERO_TENANT_ID") or None,
            per_minute=self.calls_per_minute,
        )


class ExactResource(dg.ConfigurableResource):
    """The Exact Online client for one division; tokens come from the store (encrypted), written by `connect exact`."""

    base_url: str | None = None  # None: $EXACT_BASE_URL when the run starts, else start.exactonline.nl
    client_id: str
    client_secret: str
    division: int | None = None
    calls_per_minute: int = 60  # Exact's limit is per app agreement (60 for new apps); set yours
    store: dg.ResourceDependency[StoreResource]

    def client(self) -> exact.ExactClient:
        division = self.division or (int(os.environ["EXACT_DIVISION"]) if os.environ.get("EXACT_DIVISION") else None)
        return exact.ExactClient(self.client_id, self.client_secret, self.store.get(),
                                 base_url=self.base_url or os.environ.get("EXACT_BASE_URL") or exact.BASE_URL,
                                 division=division, per_minute=self.calls_per_minute)
