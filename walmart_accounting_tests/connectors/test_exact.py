"""The Exact client against the Exact sandbox over HTTP: consent, the 570 s rule, rotation, OData escaping, paging, limits."""

import logging
import threading
import time

import pytest
import requests

from walmart_accounting.cli.connect import connect_flow
from walmart_accounting.connectors.errors import ValidationError
from walmart_accounting.connectors.exact import ExactClient, account_code, any_of, eq
from walmart_accounting.connectors.http import RetryPolicy

FAST = RetryPolicy(max_attempts=5, base_delay_s=0.01, max_delay_s=0.05)


def make_client(sandbox, token_store, *, clock=None, **kwargs) -> ExactClient:
    env = sandbox.env()
    return ExactClient(env["EXACT_CLIENT_ID"], env["EXACT_CLIENT_SECRET"], token_store, base_url=env["EXACT_BASE_URL"],
                       clock=clock or sandbox.options.clock.now, sleep=sandbox.options.clock.advance, retry=FAST, **kwargs)


def connected(sandbox, token_store, **kwargs) -> ExactClient:
    client = make_client(sandbox, token_store, **kwargs)
    connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    return client


def test_connect_and_division_from_me(sandbox, token_store):
    client = connected(sandbox, token_store)
    assert client.division == sandbox.app.state.exact.division
    stored = token_store.load_credential("exact")
    assert stored["refresh_token"] and float(stored["expires_at"]) - float(stored["issued_at"]) == 600


def test_refresh_happens_after_570_seconds_and_never_before(sandbox, token_store):
    client = connected(sandbox, token_store)
    first = token_store.load_credential("exact")["access_token"]
    sandbox.options.clock.advance(300)
    list(client.query("financial/GLAccounts", select=["Code"], top=5))
    assert token_store.load_credential("exact")["access_token"] == first  # 300 s: too early to refresh
    sandbox.options.clock.advance(275)  # 575 s after issue: inside the last 30 s
    list(client.query("financial/GLAccounts", select=["Code"], top=5))
    assert token_store.load_credential("exact")["access_token"] != first


def test_stale_worker_rereads_the_rotated_token(sandbox, token_store):
    first, second = connected(sandbox, token_store), make_client(sandbox, token_store)
    list(second.query("financial/GLAccounts", select=["Code"], top=1))
    for _ in range(2):
        sandbox.options.clock.advance(590)
        list(first.query("financial/GLAccounts", select=["Code"], top=1))
    sandbox.options.clock.advance(590)
    assert list(second.query("financial/GLAccounts", select=["Code"], top=1))


def test_two_threads_refreshing_at_once(sandbox, token_store):
    connected(sandbox, token_store)
    sandbox.options.clock.advance(590)
    clients = [make_client(sandbox, token_store) for _ in range(4)]
    barrier, errors = threading.Barrier(4), []

    def work(c):
        barrier.wait()
        try:
            list(c.query("financial/GLAccounts", select=["Code"], top=1))
        except Exception as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_names_and_skus_with_quotes_and_operators_match_exactly(sandbox, token_store):
    client = connected(sandbox, token_store)
    names = ["O'Brien", "O'Brien' or Name ne 'x", "Smith eq 'Smith'", "Plain"]
    for i, name in enumerate(names):
        client.create("crm/Accounts", {"Name": name, "Status": "C", "Code": str(900 + i)})
    for name in names:
        found = list(client.query("crm/Accounts", filter=eq("Name", name), select=["Name"]))
        assert [a["Name"] for a in found] == [name]
    assert len(list(client.query("crm/Accounts", filter=any_of("Name", names[:2]), select=["Name"]))) == 2
    coded = list(client.query("crm/Accounts", filter=eq("Code", account_code("902")), select=["Name"]))
    assert [a["Name"] for a in coded] == ["Smith eq 'Smith'"]
    sku = "WM-SKU-0001"
    items = list(client.query("logistics/Items", filter=eq("Code", sku), select=["Code"]))
    assert [i["Code"] for i in items] == [sku]
    assert list(client.query("logistics/Items", filter=eq("Code", sku + "' or Code ne '"), select=["Code"])) == []


def test_paging_follows_next_links(sandbox, token_store):
    client = connected(sandbox, token_store)
    state = sandbox.app.state.exact
    before = len(state.records("Accounts"))
    for i in range(150):
        state.create("crm/Accounts", {"Name": f"Customer {i}", "Status": "C"})
    rows = list(client.query("crm/Accounts", select=["ID"]))
    assert len(rows) == before + 150 and len({r["ID"] for r in rows}) == len(rows)


def test_minutely_limit_is_waited_out(sandbox, token_store):
    client = connected(sandbox, token_store)
    sandbox.app.state.exact.minutely_limit = 3
    started = sandbox.options.clock.now()
    for _ in range(7):
        list(client.query("financial/GLAccounts", select=["Code"], top=1))
    assert sandbox.options.clock.now() - started >= 60


def test_validation_errors_are_not_retried(sandbox, token_store):
    client = connected(sandbox, token_store)
    assert client.division  # resolved through current/Me first
    calls = client.calls
    with pytest.raises(ValidationError) as info:
        client.create("salesentry/SalesEntries", {"Journal": "70", "EntryDate": "2026-09-10T00:00:00Z",
                                                  "SalesEntryLines": [{"GLAccount": "00000000-0000-0000-0000-000000000000",
                                                                       "AmountFC": "1.00"}]})
    assert client.calls == calls + 1, "a 4xx counts against Exact's hourly error allowance: never retried"
    assert info.value.status == 400 and info.value.message


def test_secrets_never_reach_logs_or_errors(sandbox, token_store, caplog):
    caplog.set_level(logging.DEBUG)
    client = connected(sandbox, token_store)
    sandbox.options.clock.advance(590)
    list(client.query("financial/GLAccounts", select=["Code"], top=1))
    stored = token_store.load_credential("exact")
    text = caplog.text + repr(client)
    for secret in (sandbox.options.credentials.exact_client_secret, stored["access_token"], stored["refresh_token"]):
        assert secret not in text


def test_a_timed_out_create_is_not_retried_blindly(sandbox, token_store):
    from walmart_accounting.connectors.errors import TransportError

    client = connected(sandbox, token_store)
    assert client.division
    client.http.timeout = (2.0, 0.5)
    sandbox.options.faults.add("exact", "delay_after_commit", method="POST", path_prefix="/api/v1", delay_s=1.5)
    with pytest.raises(TransportError) as info:
        client.create("crm/Accounts", {"Name": "Timeout Customer", "Status": "C"})
    assert info.value.outcome_unknown  # Exact has no idempotency key: the caller must look it up first
    found = list(client.query("crm/Accounts", filter=eq("Name", "Timeout Customer"), select=["ID"]))
    assert len(found) == 1


def _exact_in_process(env, db_url, offset, barrier, results):
    from walmart_accounting.store.store import Store

    client = ExactClient(env["EXACT_CLIENT_ID"], env["EXACT_CLIENT_SECRET"], Store.open(db_url, migrate=False),
                         base_url=env["EXACT_BASE_URL"], clock=lambda: time.time() + offset, retry=FAST)
    barrier.wait()
    try:
        list(client.query("financial/GLAccounts", select=["Code"], top=1))
        results.put("ok")
    except Exception as exc:  # reported to the parent
        results.put(f"{type(exc).__name__}: {exc}")


def test_two_processes_refreshing_at_once(sandbox, tmp_path, monkeypatch):
    import multiprocessing

    from cryptography.fernet import Fernet

    from walmart_accounting.store.store import Store

    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    db_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    connected(sandbox, Store.open(db_url, migrate=True), clock=time.time)
    sandbox.options.clock.advance(590)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_exact_in_process, args=(sandbox.env(), db_url, 590, barrier, results)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sorted(results.get(timeout=5) for _ in procs) == ["ok", "ok", "ok"]
