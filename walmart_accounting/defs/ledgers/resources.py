"""One resource per ledger behind one abstract shape, so a new ledger is one adapter, one resource and one line."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from walmart_accounting.connectors import exact, xero
from walmart_accounting.defs.resources import EnvResource
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.posting.engine import LedgerAdapter
from walmart_accounting.posting.exact import ExactAdapter
from walmart_accounting.posting.xero import XeroAdapter
from walmart_accounting.store.store import Store


class LedgerResource(EnvResource, ABC):
    """A ledger the posting assets write to: its API client (tokens from the store) and its posting adapter."""

    name: ClassVar[str]  # the ledger's name in the mapping file (`ledgers.<name>`), asset names and tags

    calls_per_minute: int = 60

    @abstractmethod
    def client(self, store: Store):
        """The API client for the configured organisation; `client.calls` counts the requests it sent."""

    @abstractmethod
    def adapter(self, client, config: MappingConfig) -> LedgerAdapter:
        """The posting adapter that turns documents into this ledger's payloads."""

    DAY_LIMIT: ClassVar[int] = 5000  # calls a day per organisation or division (Xero, Exact)

    @abstractmethod
    def probe(self, client) -> None:
        """One cheap call, so the client has the ledger's rate-limit headers (for the health report)."""


class XeroResource(LedgerResource):
    """Xero, one organisation; tokens come from the store (encrypted), written by `connect xero`."""

    name: ClassVar[str] = "xero"
    ENV: ClassVar[dict[str, str]] = {
        "api_url": "XERO_API_URL", "identity_url": "XERO_IDENTITY_URL", "authorize_url": "XERO_AUTHORIZE_URL",
        "client_id": "XERO_CLIENT_ID", "client_secret": "XERO_CLIENT_SECRET", "tenant_id": "XERO_TENANT_ID",
        "calls_per_minute": "XERO_CALLS_PER_MINUTE",
    }
    SECRETS: ClassVar[frozenset[str]] = frozenset({"client_id", "client_secret"})

    api_url: str = xero.API_URL
    identity_url: str = xero.IDENTITY_URL
    authorize_url: str = xero.AUTHORIZE_URL
    client_id: str
    client_secret: str
    tenant_id: str | None = None  # None: the first tenant of /connections
    calls_per_minute: int = 60  # Xero's per-organisation limit; the client also reads the headers

    def client(self, store: Store) -> xero.XeroClient:
        return xero.XeroClient(self.client_id, self.client_secret, store, api_url=self.api_url,
                               identity_url=self.identity_url, authorize_url=self.authorize_url,
                               tenant_id=self.tenant_id or None, per_minute=self.calls_per_minute)

    def adapter(self, client: xero.XeroClient, config: MappingConfig) -> XeroAdapter:
        return XeroAdapter(client, config)

    def probe(self, client: xero.XeroClient) -> None:
        client.organisation()


class ExactResource(LedgerResource):
    """Exact Online, one division; tokens come from the store (encrypted), written by `connect exact`."""

    name: ClassVar[str] = "exact"
    ENV: ClassVar[dict[str, str]] = {
        "base_url": "EXACT_BASE_URL", "client_id": "EXACT_CLIENT_ID", "client_secret": "EXACT_CLIENT_SECRET",
        "division": "EXACT_DIVISION", "calls_per_minute": "EXACT_CALLS_PER_MINUTE",
    }
    SECRETS: ClassVar[frozenset[str]] = frozenset({"client_id", "client_secret"})

    base_url: str = exact.BASE_URL  # each country has its own host (.nl, .co.uk, .be, ...)
    client_id: str
    client_secret: str
    division: int | None = None  # None: CurrentDivision of current/Me
    calls_per_minute: int = 60  # Exact's limit is per app agreement (60 for new apps); set yours

    def client(self, store: Store) -> exact.ExactClient:
        return exact.ExactClient(self.client_id, self.client_secret, store, base_url=self.base_url,
                                 division=self.division, per_minute=self.calls_per_minute)

    def adapter(self, client: exact.ExactClient, config: MappingConfig) -> ExactAdapter:
        return ExactAdapter(client, config)

    def probe(self, client: exact.ExactClient) -> None:
        next(client.query("financial/GLAccounts", select=["Code"], top=1), None)


# The ledgers this code location can post to. A new ledger: its adapter in `posting/`, its resource above,
# its section in the mapping file, and one entry here.
LEDGERS: dict[str, type[LedgerResource]] = {resource.name: resource for resource in (XeroResource, ExactResource)}
