"""`connect` stores tokens after a real consent round trip; `ping` names what is wrong for each API."""

import pytest
import requests

from walmart_accounting.cli.connect import connect_flow, exact_client_from_env, ping_all, xero_client_from_env
from walmart_accounting.connectors.errors import ApiError
from walmart_accounting.connectors.tokens import MemoryTokenStore
from walmart_accounting.sandbox.server import SandboxServer


@pytest.fixture
def sandbox_env(monkeypatch):
    with SandboxServer() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


def _ping(store) -> tuple[bool, str]:
    lines: list[str] = []
    healthy = ping_all(store, lines.append)
    return healthy, "\n".join(lines)


def test_connect_then_ping_everything(sandbox_env):
    store = MemoryTokenStore()
    for client in (xero_client_from_env(store), exact_client_from_env(store)):
        connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    healthy, text = _ping(store)
    assert healthy, text
    assert "walmart: OK" in text and "orders:full_access" in text
    assert "xero: OK, organisation" in text and "exact: OK" in text and "minute_remaining" in text


def test_ping_explains_each_failure(sandbox_env, monkeypatch):
    store = MemoryTokenStore()
    connect_flow(exact_client_from_env(store), 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    monkeypatch.setenv("WALMART_CLIENT_SECRET", "not-the-secret")
    monkeypatch.setenv("EXACT_BASE_URL", sandbox_env.url + "/nowhere")  # the wrong country host
    healthy, text = _ping(store)
    assert not healthy
    assert "walmart: FAILED" in text and "WALMART_CLIENT_SECRET" in text and "not-the-secret" not in text
    assert "xero: FAILED" in text and "connect xero" in text  # never consented
    assert "exact: FAILED" in text and "EXACT_BASE_URL" in text


def test_consent_with_a_forged_state_is_refused(sandbox_env):
    client = xero_client_from_env(MemoryTokenStore())

    def tamper(url: str) -> None:
        requests.get(url.replace("state=", "state=forged"), timeout=10)

    with pytest.raises(ApiError, match="state does not match"):
        connect_flow(client, 0, tamper, timeout_s=10)


def test_connect_on_a_taken_port_says_so_instead_of_a_traceback(sandbox_env):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ApiError, match=f"port {port} for the OAuth redirect .* taken by another program"):
            connect_flow(xero_client_from_env(MemoryTokenStore()), port, lambda url: None, timeout_s=1)


def test_ping_names_a_dead_host_a_store_never_connected_and_a_wrong_secret_behind_a_valid_token(sandbox_env, monkeypatch):
    import socket

    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{spare.getsockname()[1]}/walmart"
    monkeypatch.setenv("WALMART_BASE_URL", dead)  # nothing listens there
    healthy, text = _ping(MemoryTokenStore())
    assert not healthy and f"nothing answered at {dead}" in text and "WALMART_BASE_URL" in text
    assert "xero: FAILED" in text and "connect xero" in text and "revoked" not in text  # never connected

    store = MemoryTokenStore()
    connect_flow(xero_client_from_env(store), 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    monkeypatch.setenv("XERO_CLIENT_SECRET", "not-the-secret")  # the access token is still valid
    healthy, text = _ping(store)
    assert "xero: FAILED" in text and "XERO_CLIENT_SECRET" in text and "not-the-secret" not in text
