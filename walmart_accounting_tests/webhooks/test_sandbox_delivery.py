"""Events the sandboxes deliver, subscribed through the real clients, land in the inbox exactly once."""

from __future__ import annotations

import pytest
import requests

from walmart_accounting.cli.connect import connect_flow
from walmart_accounting.cli.webhooks import EXACT_TOPICS, WALMART_EVENTS, subscribe_exact, subscribe_walmart
from walmart_accounting.connectors.exact import ExactClient
from walmart_accounting.connectors.http import RetryPolicy
from walmart_accounting.connectors.tokens import MemoryTokenStore
from walmart_accounting.connectors.walmart import WalmartClient
from walmart_accounting.sandbox.server import SandboxServer
from walmart_accounting.webhooks.settings import WebhookSettings

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer() as server:
        server.app.state.walmart.webhook_retry_delay_s = 0.01
        yield server


@pytest.fixture
def walmart(sandbox):
    """The Walmart emulator with no subscriptions, and a client for it."""
    state = sandbox.app.state.walmart
    with state.lock:
        state.subscriptions.clear()
    env = sandbox.env()
    client = WalmartClient(env["WALMART_CLIENT_ID"], env["WALMART_CLIENT_SECRET"], env["WALMART_BASE_URL"], retry=FAST)
    return client, state


class FailFirstAnswers:
    """Lets the receiver store a delivery, then answers 500 instead: the sender's retry is a duplicate."""

    def __init__(self, app, times: int):
        self.app, self.times = app, times

    async def __call__(self, scope, receive, send):
        fail = scope["type"] == "http" and scope["path"] == "/webhooks/walmart" and self.times > 0
        if fail:
            self.times -= 1

        async def answer(message):
            if fail and message["type"] == "http.response.start":
                message = dict(message, status=500)
            await send(message)

        await self.app(scope, receive, answer)


def _subscribe(client, receiver, lines=None, **settings) -> WebhookSettings:
    config = WebhookSettings(**settings)
    assert subscribe_walmart(client, receiver.url, config, (lines if lines is not None else []).append)
    return config


def test_hmac_deliveries_land_once_even_when_an_answer_is_lost(walmart, start_receiver, http_server):
    client, state = walmart
    receiver = start_receiver(walmart_auth="HMAC", walmart_secret="hmac-secret")
    lines: list[str] = []
    _subscribe(client, receiver, lines, walmart_auth="HMAC", walmart_secret="hmac-secret")
    assert len(lines) == len(WALMART_EVENTS) and all("subscribed" in line for line in lines)
    assert {s["eventType"]: s["authDetails"]["authMethod"] for s in client.webhook_subscriptions()} == {
        "PO_CREATED": "HMAC", "ORDER_UPDATES": "HMAC", "RETURN_CREATED": "HMAC"}

    http_server.swap.app = FailFirstAnswers(http_server.swap.app, times=1)
    po = state.seller.orders[-1]["purchaseOrderId"]
    sent = state.order_created(po)  # PO_CREATED and ORDER_UPDATES(subEventType PO_CREATED)
    assert state.wait_for_deliveries(10)
    deliveries = state.deliveries[-2:]
    assert all(d.delivered for d in deliveries)
    assert sorted(d.attempts for d in deliveries) == [1, 2]  # the lost answer was retried, re-signed
    assert sorted(receiver.inbox()) == sorted(("walmart", e["source"]["eventId"], e["source"]["eventType"]) for e in sent)
    payloads = {e.event_type: e.payload for e in receiver.store.pending_webhooks()}
    assert po in payloads["PO_CREATED"] and po in payloads["ORDER_UPDATES"]


def test_oauth_deliveries_fetch_a_token_from_the_receiver_and_land_once(walmart, start_receiver):
    client, state = walmart
    auth = {"walmart_auth": "OAUTH", "walmart_client_id": "receiver-client", "walmart_client_secret": "receiver-secret"}
    receiver = start_receiver(**auth)
    _subscribe(client, receiver, **auth)
    sub = next(s for s in client.webhook_subscriptions() if s["eventType"] == "PO_CREATED")
    assert sub["authDetails"]["authUrl"] == receiver.url + "/webhooks/walmart/token"

    po = state.seller.orders[-2]["purchaseOrderId"]
    ret = state.seller.returns[0]["returnOrderId"]
    sent = [state.emit("PO_CREATED", po), state.emit("RETURN_CREATED", ret)]
    assert state.wait_for_deliveries(10)
    assert all(d.delivered and d.attempts == 1 for d in state.deliveries[-2:])
    assert all(d.headers["Authorization"].startswith("Bearer ") for d in state.deliveries[-2:])
    assert sorted(receiver.inbox()) == sorted(("walmart", e["source"]["eventId"], e["source"]["eventType"]) for e in sent)


def test_basic_auth_deliveries_land_once(walmart, start_receiver):
    client, state = walmart
    auth = {"walmart_auth": "BASIC_AUTH", "walmart_user": "walmart", "walmart_password": "pw"}
    receiver = start_receiver(**auth)
    _subscribe(client, receiver, **auth)
    sent = state.emit("PO_CREATED", state.seller.orders[-3]["purchaseOrderId"])
    assert state.wait_for_deliveries(10)
    assert receiver.inbox() == [("walmart", sent["source"]["eventId"], "PO_CREATED")]


def test_a_sender_whose_clock_is_off_is_refused_three_times_and_nothing_lands(walmart, start_receiver, sandbox):
    client, state = walmart
    receiver = start_receiver(walmart_auth="HMAC", walmart_secret="hmac-secret")
    _subscribe(client, receiver, walmart_auth="HMAC", walmart_secret="hmac-secret")
    sandbox.options.clock.advance(600)  # Walmart's signatures now carry a timestamp ten minutes ahead
    try:
        state.emit("PO_CREATED", state.seller.orders[-1]["purchaseOrderId"])
        assert state.wait_for_deliveries(10)
    finally:
        sandbox.options.clock.advance(-600)
    delivery = state.deliveries[-1]
    assert not delivery.delivered and delivery.status_code == 401 and delivery.attempts == state.webhook_max_attempts == 3
    assert receiver.inbox() == []


def test_exact_deliveries_are_validated_then_land_once(sandbox, start_receiver):
    exact_state = sandbox.app.state.exact
    env = sandbox.env()
    client = ExactClient(env["EXACT_CLIENT_ID"], env["EXACT_CLIENT_SECRET"], MemoryTokenStore(),
                         base_url=env["EXACT_BASE_URL"], retry=FAST)
    connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    receiver = start_receiver(exact_secret=env["EXACT_WEBHOOK_SECRET"])
    already = len(exact_state.deliveries)

    lines: list[str] = []
    assert subscribe_exact(client, receiver.url, lines.append)
    assert len(lines) == len(EXACT_TOPICS)
    subscribed = {s["Topic"] for s in client.query("webhooks/WebhookSubscriptions", select=["Topic", "CallbackURL"])
                  if s["CallbackURL"] == receiver.url + "/webhooks/exact"}
    assert subscribed == set(EXACT_TOPICS)
    validations = exact_state.wait_for_deliveries(already + len(EXACT_TOPICS))[already:]
    assert [d["kind"] for d in validations] == ["validation"] * len(EXACT_TOPICS)
    assert all(d["status"] == 200 for d in validations) and receiver.inbox() == []

    # A posted document (a sales entry) is the event.
    gl = {r["Code"].strip(): r["ID"] for r in exact_state.records("GLAccounts")}
    customer = client.create("crm/Accounts", {"Name": "Walmart Marketplace Customers", "Status": "C"})["ID"]
    entry = client.create("salesentry/SalesEntries", {
        "Customer": customer, "Journal": "70", "EntryDate": "2026-09-14T00:00:00Z", "YourRef": "WM-WEBHOOK-1",
        "SalesEntryLines": [{"GLAccount": gl["8000"], "AmountFC": "24.99", "VATCode": "0", "Description": "Bottle"}]})
    event = exact_state.wait_for_deliveries(already + len(EXACT_TOPICS) + 1)[-1]
    assert event["kind"] == "event" and event["status"] == 200 and event["key"] == entry["EntryID"]
    assert [(source, kind) for source, _, kind in receiver.inbox()] == [("exact", "SalesEntries")]

    # Delivered again (Exact's retry policy is unknown): the same change, stored once.
    again = requests.post(receiver.url + "/webhooks/exact", data=event["body"], timeout=10)
    assert again.json() == {"status": "duplicate"} and len(receiver.inbox()) == 1
