"""The Xero client against the Xero sandbox over HTTP: consent, rotation under concurrency, batches, faults, escaping, secrecy."""

import logging
import multiprocessing
import threading

import pytest
import requests
from cryptography.fernet import Fernet

from walmart_accounting.cli.connect import connect_flow
from walmart_accounting.connectors.errors import AuthError, RateLimitError
from walmart_accounting.connectors.http import RetryPolicy
from walmart_accounting.connectors.xero import XeroClient
from walmart_accounting.store.store import Store

FAST = RetryPolicy(max_attempts=5, base_delay_s=0.01, max_delay_s=0.05)


def make_client(sandbox, token_store, *, clock=None, **kwargs) -> XeroClient:
    env = sandbox.env()
    options = sandbox.options
    return XeroClient(
        env["XERO_CLIENT_ID"], env["XERO_CLIENT_SECRET"], token_store,
        api_url=env["XERO_API_URL"], identity_url=env["XERO_IDENTITY_URL"], authorize_url=env["XERO_AUTHORIZE_URL"],
        clock=clock or options.clock.now, sleep=options.clock.advance, retry=FAST, **kwargs,
    )


def connected(sandbox, token_store, **kwargs) -> XeroClient:
    client = make_client(sandbox, token_store, **kwargs)
    connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    return client


def invoice(number: str, account: str = "4000", amount: str = "19.99") -> dict:
    return {
        "Type": "ACCREC", "Contact": {"Name": "Walmart Marketplace Customers"}, "InvoiceNumber": number,
        "Reference": number, "Date": "2026-09-10", "DueDate": "2026-09-10", "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [{"Description": "Widget", "Quantity": 1, "UnitAmount": amount, "AccountCode": account, "TaxType": "NONE"}],
    }


def test_connect_discovers_the_tenant_and_stores_the_tokens(sandbox, token_store):
    client = connected(sandbox, token_store)
    assert client.tenant_id == sandbox.app.state.xero.tenant_id
    stored = token_store.load_credential("xero")
    assert stored["tenant_id"] == client.tenant_id and stored["refresh_token"]
    codes = {a["Code"] for a in client.get("Accounts")}
    assert {"1250", "4000", "6000"} <= codes


def test_expired_token_is_refreshed_and_the_old_refresh_token_is_spent(sandbox, token_store):
    client = connected(sandbox, token_store)
    first_refresh = token_store.load_credential("xero")["refresh_token"]
    sandbox.options.clock.advance(1801)
    assert client.get("TaxRates")
    assert token_store.load_credential("xero")["refresh_token"] != first_refresh
    sandbox.options.clock.advance(1801)
    assert client.get("TaxRates")  # the second refresh uses the rotated token, ending the first one's grace period
    # Xero rotates refresh tokens: the spent one is refused
    env = sandbox.env()
    reuse = requests.post(f"{env['XERO_IDENTITY_URL']}/connect/token",
                          data={"grant_type": "refresh_token", "refresh_token": first_refresh},
                          auth=(env["XERO_CLIENT_ID"], env["XERO_CLIENT_SECRET"]), timeout=10)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"


def test_token_rejected_by_the_server_before_our_clock_says_so_is_refreshed(sandbox, token_store):
    import time

    client = connected(sandbox, token_store, clock=time.time)  # our clock does not see the expiry
    sandbox.options.clock.advance(1801)
    assert client.get("Accounts")


def test_two_threads_refreshing_at_once_spend_the_refresh_token_once(sandbox, token_store):
    connected(sandbox, token_store)
    sandbox.options.clock.advance(1801)
    clients = [make_client(sandbox, token_store) for _ in range(4)]
    barrier, errors = threading.Barrier(4), []

    def work(c):
        barrier.wait()
        try:
            c.get("Accounts")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_worker_with_an_old_token_in_memory_rereads_the_store_before_refreshing(sandbox, token_store):
    first, second = connected(sandbox, token_store), make_client(sandbox, token_store)
    second.get("Accounts")  # the second worker now holds the first token set in memory
    for _ in range(2):  # the first worker refreshes twice: the original refresh token is long dead
        sandbox.options.clock.advance(1801)
        first.get("Accounts")
    sandbox.options.clock.advance(1801)
    assert second.get("Accounts")  # refreshes with the stored token, not its stale one


def _refresh_in_process(env, db_url, offset, barrier, results):
    import time

    client = XeroClient(env["XERO_CLIENT_ID"], env["XERO_CLIENT_SECRET"], Store.open(db_url, migrate=False),
                        api_url=env["XERO_API_URL"], identity_url=env["XERO_IDENTITY_URL"],
                        clock=lambda: time.time() + offset, retry=FAST)
    barrier.wait()
    try:
        client.get("Accounts")
        results.put("ok")
    except Exception as exc:  # reported to the parent
        results.put(f"{type(exc).__name__}: {exc}")


def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    db_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store.open(db_url, migrate=True)
    connected(sandbox, store, clock=__import__("time").time)
    sandbox.options.clock.advance(1801)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_refresh_in_process, args=(sandbox.env(), db_url, 1801, barrier, results)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sorted(results.get(timeout=5) for _ in procs) == ["ok", "ok", "ok"]


def test_batch_reports_each_element_and_posts_the_good_ones(sandbox, token_store):
    client = connected(sandbox, token_store)
    results = client.create("Invoices", [invoice("WM-1001"), invoice("WM-1002", account="9999"), invoice("WM-1003")],
                            document_keys=["WM-1001", "WM-1002", "WM-1003"])
    assert [r.ok for r in results] == [True, False, True]
    assert "9999" in results[1].errors[0]
    state = sandbox.app.state.xero
    assert [state.count_by_reference("invoices", k) for k in ("WM-1001", "WM-1002", "WM-1003")] == [1, 0, 1]
    with pytest.raises(ValueError, match="1 to 50"):
        client.create("Invoices", [invoice(f"WM-2{i:03d}") for i in range(51)], document_keys=["x"] * 51)


def test_commit_then_drop_is_retried_with_the_same_key_and_creates_one(sandbox, token_store):
    client = connected(sandbox, token_store)
    sandbox.options.faults.add("xero", "drop_after_commit", method="PUT", path_prefix="/api/api.xro/2.0/Invoices")
    sandbox.options.faults.add("xero", "status_503", method="PUT", path_prefix="/api/api.xro/2.0/Invoices")
    results = client.create("Invoices", [invoice("WM-3001")], document_keys=["WM-3001"])
    assert results[0].ok
    assert sandbox.app.state.xero.count_by_reference("invoices", "WM-3001") == 1


def test_server_errors_and_rate_limits_on_reads_are_waited_out(sandbox, token_store):
    client = connected(sandbox, token_store)
    sandbox.options.faults.add("xero", "status_500", method="GET", path_prefix="/api/api.xro/2.0/Accounts", times=2)
    assert client.get("Accounts")
    sandbox.app.state.xero.set_limits(minute=3)
    started = sandbox.options.clock.now()
    for _ in range(7):
        assert client.get("TaxRates")
    assert sandbox.options.clock.now() - started >= 60, "the client must have waited for the next minute window"


def test_daily_limit_stops_without_hammering(sandbox, token_store):
    client = connected(sandbox, token_store, )
    client.retry = FAST
    sandbox.app.state.xero.set_limits(day=2)
    client.get("Accounts")
    client.get("Accounts")
    with pytest.raises(RateLimitError):
        client.get("Accounts")
        client.get("Accounts")


def test_contact_numbers_with_quotes_and_operators_match_exactly(sandbox, token_store):
    client = connected(sandbox, token_store)
    tricky = 'WM-"42" OR ContactNumber!=""'
    made = client.create("Contacts", [{"Name": "Quote Test", "ContactNumber": tricky},
                                      {"Name": "Other Customer", "ContactNumber": "WM-43"}],
                         document_keys=["c1", "c2"])
    assert all(r.ok for r in made)
    found = client.find_contacts(numbers=[tricky])
    assert [c["ContactNumber"] for c in found] == [tricky]


def test_secrets_never_reach_logs_or_errors(sandbox, token_store, caplog):
    caplog.set_level(logging.DEBUG)
    client = connected(sandbox, token_store)
    sandbox.options.clock.advance(1801)
    client.get("Accounts")
    stored = token_store.load_credential("xero")
    secrets = [sandbox.options.credentials.xero_client_secret, stored["access_token"], stored["refresh_token"]]
    # spend the refresh token elsewhere so the next refresh fails
    env = sandbox.env()
    requests.post(f"{env['XERO_IDENTITY_URL']}/connect/token",
                  data={"grant_type": "refresh_token", "refresh_token": stored["refresh_token"]},
                  auth=(env["XERO_CLIENT_ID"], env["XERO_CLIENT_SECRET"]), timeout=10)
    sandbox.options.clock.advance(1801)
    with pytest.raises(AuthError) as info:
        make_client(sandbox, token_store).get("Accounts")
    assert "invalid_grant" in str(info.value) and "connect xero" in str(info.value)
    text = caplog.text + str(info.value) + repr(client)
    for secret in secrets:
        assert secret not in text


def test_a_timed_out_write_is_retried_with_its_key_and_creates_one(sandbox, token_store):
    client = connected(sandbox, token_store)
    client.http.timeout = (2.0, 0.5)
    sandbox.options.faults.add("xero", "delay_after_commit", method="PUT", path_prefix="/api/api.xro/2.0/Invoices", delay_s=1.5)
    results = client.create("Invoices", [invoice("WM-4001")], document_keys=["WM-4001"])
    assert results[0].ok
    assert sandbox.app.state.xero.count_by_reference("invoices", "WM-4001") == 1
