"""Each setting is resolved in one place: resource defaults are the real APIs', the environment overrides, secrets stay EnvVar."""

import dagster as dg
import pytest

from walmart_accounting.cli.connect import exact_client_from_env, xero_client_from_env
from walmart_accounting.connectors import exact, walmart, xero
from walmart_accounting.defs.ledgers.resources import LEDGERS, ExactResource, LedgerResource, XeroResource
from walmart_accounting.defs.resources import MissingSetting, WalmartResource
from walmart_accounting.store.store import Store

_VARS = ("XERO_API_URL", "XERO_IDENTITY_URL", "XERO_AUTHORIZE_URL", "XERO_TENANT_ID", "XERO_CALLS_PER_MINUTE",
         "EXACT_BASE_URL", "EXACT_DIVISION", "EXACT_CALLS_PER_MINUTE", "WALMART_BASE_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    for name in ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "EXACT_CLIENT_ID", "EXACT_CLIENT_SECRET",
                 "WALMART_CLIENT_ID", "WALMART_CLIENT_SECRET"):
        monkeypatch.setenv(name, f"value-of-{name.lower()}")


def test_unset_settings_take_the_real_apis_defaults_and_secrets_are_always_env_vars():
    resource = XeroResource.from_env()
    assert (resource.api_url, resource.identity_url, resource.authorize_url) == (xero.API_URL, xero.IDENTITY_URL,
                                                                                 xero.AUTHORIZE_URL)
    assert resource.tenant_id is None and resource.calls_per_minute == 60
    # The UI shows the variable's name, never its value.
    assert isinstance(resource.client_secret, dg.EnvVar) and resource.client_secret == "XERO_CLIENT_SECRET"
    assert ExactResource.from_env().base_url == exact.BASE_URL
    assert WalmartResource.from_env().base_url == walmart.PRODUCTION_URL


def test_the_command_line_builds_its_clients_from_the_same_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("XERO_API_URL", "https://xero.example/api")
    monkeypatch.setenv("XERO_CALLS_PER_MINUTE", "7")
    monkeypatch.setenv("EXACT_BASE_URL", "https://start.exactonline.co.uk")
    monkeypatch.setenv("EXACT_DIVISION", "4242")
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}", migrate=True)
    client = xero_client_from_env(store)
    assert client.http.base_url == "https://xero.example/api" and client.limiter.per_minute == 7
    assert "division=4242" in repr(exact_client_from_env(store))
    resolved = XeroResource.resolved_from_env()
    assert resolved.calls_per_minute == 7 and resolved.client_secret == "value-of-xero_client_secret"


def test_a_missing_secret_is_named_for_the_command_line(monkeypatch):
    monkeypatch.delenv("EXACT_CLIENT_SECRET")
    with pytest.raises(MissingSetting, match="EXACT_CLIENT_SECRET"):
        ExactResource.resolved_from_env()


def test_every_ledger_is_one_resource_with_the_same_shape():
    assert set(LEDGERS) == {"xero", "exact"}
    assert all(issubclass(cls, LedgerResource) and LEDGERS[cls.name] is cls for cls in LEDGERS.values())


def test_a_run_opens_the_store_once_and_never_migrates_it(tmp_path):
    from walmart_accounting.defs.resources import StoreResource
    from walmart_accounting.store.db import make_engine
    from walmart_accounting.store.migrate import current_revision

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    seen = []

    @dg.asset
    def first(store: StoreResource) -> None:
        seen.append(store.get())

    @dg.asset(deps=[first])
    def second(store: StoreResource) -> None:
        seen.append(store.get())

    from walmart_accounting.store.migrate import StoreSchemaError

    with pytest.raises(dg.DagsterResourceFunctionError) as raised:
        dg.materialize([first, second], resources={"store": StoreResource(database_url=url)})
    assert isinstance(raised.value.__cause__, StoreSchemaError)
    assert "run `walmart-accounting db upgrade`" in str(raised.value.__cause__)
    engine = make_engine(url)
    assert current_revision(engine) is None, "a run never migrates the integration's database"
    Store.open(url, migrate=True).dispose()
    assert dg.materialize([first, second], resources={"store": StoreResource(database_url=url)}).success
    assert len(seen) == 2 and seen[0] is seen[1], "one store (one engine) for the whole run"
    engine.dispose()
