"""`webhooks subscribe` registers the receiver with both sandboxes; `webhooks serve` runs it, or refuses bad settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from walmart_accounting.cli.connect import connect_flow, exact_client_from_env
from walmart_accounting.cli.main import cli
from walmart_accounting.cli.webhooks import EXACT_TOPICS, WALMART_EVENTS
from walmart_accounting.sandbox.server import SandboxServer, free_port
from walmart_accounting.store.store import Store


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    Store.open(url, migrate=True).dispose()
    monkeypatch.setenv("WALMART_ACCOUNTING_DB_URL", url)
    return url


@pytest.fixture
def sandbox_env(db_url, monkeypatch):
    """Both sandboxes, the environment pointing at them, HMAC for Walmart, and Exact connected in the store."""
    with SandboxServer() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("WALMART_WEBHOOK_AUTH", "HMAC")
        monkeypatch.setenv("WALMART_WEBHOOK_SECRET", "hmac-secret")
        store = Store.open(db_url)
        connect_flow(exact_client_from_env(store), 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
        store.dispose()
        yield server


def test_subscribe_registers_walmart_and_exact_and_is_safe_to_repeat(sandbox_env):
    walmart, exact = sandbox_env.app.state.walmart, sandbox_env.app.state.exact
    url = f"http://127.0.0.1:{free_port()}"
    first = CliRunner().invoke(cli, ["webhooks", "subscribe", url + "/"])
    assert first.exit_code == 0, first.output
    subs = {s["eventType"]: s for s in walmart.subscriptions.values()}
    assert set(subs) == {event for event, _ in WALMART_EVENTS}
    assert all(s["eventUrl"] == url + "/webhooks/walmart" and s["status"] == "ACTIVE" for s in subs.values())
    assert all(s["authDetails"] == {"authMethod": "HMAC", "clientSecret": "hmac-secret", "authHeaderName": "Authorization"}
               for s in subs.values())
    assert subs["RETURN_CREATED"]["resourceName"] == "RETURNS"
    topics = sorted(r["Topic"] for r in exact.records("WebhookSubscriptions") if r["CallbackURL"] == url + "/webhooks/exact")
    assert topics == sorted(EXACT_TOPICS)
    assert "hmac-secret" not in first.output

    again = CliRunner().invoke(cli, ["webhooks", "subscribe", url])
    assert again.exit_code == 0, again.output
    assert again.output.count("already subscribed") == len(WALMART_EVENTS) + len(EXACT_TOPICS)
    assert len(walmart.subscriptions) == len(WALMART_EVENTS) and len(exact.records("WebhookSubscriptions")) == len(EXACT_TOPICS)

    # Another receiver's subscription is left alone, and the command says so.
    moved = CliRunner().invoke(cli, ["webhooks", "subscribe", "http://127.0.0.1:1"])
    assert moved.exit_code == 1 and "delete that subscription first" in moved.output


def test_subscribe_refuses_walmart_without_an_auth_method_and_exact_without_a_secret(sandbox_env, monkeypatch):
    monkeypatch.delenv("WALMART_WEBHOOK_AUTH")
    monkeypatch.delenv("EXACT_WEBHOOK_SECRET")
    result = CliRunner().invoke(cli, ["webhooks", "subscribe", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 1
    assert "set WALMART_WEBHOOK_AUTH" in result.output and "set EXACT_WEBHOOK_SECRET" in result.output
    assert sandbox_env.app.state.walmart.subscriptions == {}
    assert sandbox_env.app.state.exact.records("WebhookSubscriptions") == []


def test_serve_refuses_bad_settings(db_url, monkeypatch):
    monkeypatch.setenv("WALMART_WEBHOOK_AUTH", "OAUTH")
    monkeypatch.setenv("WALMART_WEBHOOK_CLIENT_ID", "cid")
    result = CliRunner().invoke(cli, ["webhooks", "serve"])
    assert result.exit_code == 2 and "WALMART_WEBHOOK_CLIENT_SECRET" in result.output


def test_serve_runs_the_receiver_under_uvicorn(db_url, tmp_path):
    port = free_port()
    env = {**os.environ, "WALMART_ACCOUNTING_DB_URL": db_url, "WALMART_WEBHOOK_AUTH": "HMAC",
           "WALMART_WEBHOOK_SECRET": "hmac-secret"}
    env.pop("EXACT_WEBHOOK_SECRET", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "walmart_accounting.cli.main", "webhooks", "serve",
                                    "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        assert health.json() == {"status": "ok", "walmart": True, "exact": False}
        body = json.dumps({"source": {"eventType": "PO_CREATED", "eventId": "served-1"}, "payload": {}}).encode()
        ts = str(int(time.time()))
        to_sign = f"POST\n/webhooks/walmart\n{ts}\n{hashlib.sha256(body).hexdigest()}".encode()
        signature = base64.b64encode(hmac.new(b"hmac-secret", to_sign, hashlib.sha256).digest()).decode()
        r = requests.post(f"http://127.0.0.1:{port}/webhooks/walmart", data=body, timeout=10,
                          headers={"WM_SEC.TIMESTAMP": ts, "WM_SEC.SIGNATURE": signature})
        assert r.json() == {"status": "stored"}
    finally:
        process.terminate()
        process.wait(timeout=10)
    store = Store.open(db_url)
    assert [e.event_id for e in store.pending_webhooks("walmart")] == ["served-1"]
    store.dispose()
    output = log.read_text()
    assert "Walmart on (HMAC)" in output and "hmac-secret" not in output and signature not in output
