"""The sandboxes and a connected code location for the end-to-end Dagster tests of `defs`."""

import dagster as dg
import pytest

from walmart_accounting.definitions import build_defs
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
from walmart_accounting.store.store import Store


@pytest.fixture
def sandbox():
    with SandboxServer(SandboxOptions(seller_days=14)) as server:
        # The rate limits have their own tests; here they would only slow the runs down.
        server.app.state.xero.set_limits(minute=100_000, day=1_000_000)
        server.app.state.exact.minutely_limit = 100_000
        yield server


@pytest.fixture
def modes():
    """Posting mode per ledger for the pipeline; the default mapping's unless a test overrides it."""
    return None


@pytest.fixture
def edit_mapping():
    """A change to the mapping data (a function of the parsed YAML and the sandbox) for the pipeline; none by default."""
    return None


@pytest.fixture
def pipeline(sandbox, monkeypatch, isolated_home, tmp_path, modes, edit_mapping):
    import requests
    from cryptography.fernet import Fernet

    from walmart_accounting.cli.connect import connect_flow, exact_client_from_env, xero_client_from_env

    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WALMART_ACCOUNTING_DB_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    # The emulators' limits are raised for these runs (they have their own tests); pace the clients to match.
    monkeypatch.setenv("XERO_CALLS_PER_MINUTE", "100000")
    monkeypatch.setenv("EXACT_CALLS_PER_MINUTE", "100000")
    if modes or edit_mapping:
        import yaml

        from walmart_accounting.domain.config import load_default_config

        data = load_default_config().model_dump(mode="json")
        for ledger, mode in (modes or {}).items():
            data["ledgers"][ledger]["posting_mode"] = mode
        if edit_mapping:
            edit_mapping(data, sandbox)
        (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(data))
        monkeypatch.setenv("WALMART_ACCOUNTING_CONFIG", str(tmp_path / "mapping.yaml"))
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    store = Store.open(migrate=True)
    for client in (xero_client_from_env(store), exact_client_from_env(store)):
        connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    seller = sandbox.app.state.walmart.seller
    # Built after the environment points at the sandbox; the partitions start on the seller's first day.
    defs = build_defs(start=seller.start)
    # In memory: SQLite event storage costs 25 ms per event, and a range run writes thousands.
    with dg.DagsterInstance.ephemeral() as instance:
        yield defs, instance, seller
