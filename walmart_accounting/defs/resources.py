"""Dagster resources shared by every domain: the integration's store and the mapping configuration."""


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

    base_url: str = walmart.PRODUCTION_URL
    client_id: str
    client_secret: str
    report_cache_dir: str | None = None

    def client(self) -> walmart.WalmartClient:
        cache_dir = self.report_cache_dir or str(state_dir() / "walmart_reports")
        return walmart.WalmartClient(self.client_id, self.client_secret, self.base_url,
                                     report_cache=walmart.ReconReportCache(cache_dir))


class XeroResource(dg.ConfigurableResource):
    """The Xero client for one organisation; tokens come from the store (encrypted), written by `connect xero`."""

    api_url: str = xero.API_URL
    identity_url: str = xero.IDENTITY_URL
    authorize_url: str = xero.AUTHORIZE_URL
    client_id: str
    client_secret: str
    tenant_id: str | None = None
    store: dg.ResourceDependency[StoreResource]

    def client(self) -> xero.XeroClient:
        return xero.XeroClient(self.client_id, self.client_secret, self.store.get(), api_url=self.api_url,
                               identity_url=self.identity_url, authorize_url=self.authorize_url,
                               tenant_id=self.tenant_id or None)


class ExactResource(dg.ConfigurableResource):
    """The Exact Online client for one division; tokens come from the store (encrypted), written by `connect exact`."""

    base_url: str = exact.BASE_URL
    client_id: str
    client_secret: str
    division: int | None = None
    store: dg.ResourceDependency[StoreResource]

    def client(self) -> exact.ExactClient:
        return exact.ExactClient(self.client_id, self.client_secret, self.store.get(), base_url=self.base_url,
                                 division=self.division)
