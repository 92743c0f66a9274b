"""Webhooks: event types, subscriptions, signed deliveries with retries, the test endpoint."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime
from decimal import Decimal

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from walmart_accounting.sandbox.server import ThreadedServer
from walmart_accounting.sandbox.walmart import dumps
from walmart_accounting_tests.sandbox.walmart.support import Swap, Walmart, _seller_node


@pytest.fixture(scope="module")
def receiver_server():
    swap = Swap()
    with ThreadedServer(swap) as server:
        server.swap = swap
        yield server


class Receiver:
    """A webhook destination on its own HTTP server, recording what arrives."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.token_requests: list[dict] = []
        self._event = threading.Condition()

        async def events(request: Request) -> Response:
            body = await request.body()
            with self._event:
                self.requests.append({"headers": dict(request.headers), "body": body, "path": request.url.path})
                self._event.notify_all()
            return Response(status_code=self.status)

        async def token(request: Request) -> Response:
            self.token_requests.append({"headers": dict(request.headers), "body": await request.body()})
            return JSONResponse({"access_token": "receiver-token-1", "expires_in": 3600})

        self.app = Starlette(routes=[
            Route("/events", events, methods=["POST"]),
            Route("/oauth/token", token, methods=["POST"]),
        ])

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._event:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._event.wait(remaining)
            return list(self.requests)


@pytest.fixture
def receiver(receiver_server):
    rec = Receiver()
    receiver_server.swap.app = rec.app
    rec.url = receiver_server.url
    return rec


def test_event_types(wm):
    events = wm.get("/v3/webhooks/eventTypes").json()["events"]
    by_type = {e["eventType"]: e for e in events}
    wanted = (("PO_CREATED", "ORDER"), ("ORDER_UPDATES", "ORDER"), ("RETURN_CREATED", "RETURNS"), ("INVENTORY_OOS", "INVENTORY"))
    for event_type, resource in wanted:
        assert by_type[event_type]["resourceName"] == resource and by_type[event_type]["eventVersion"] == "V1"


def _subscribe(wm: Walmart, receiver: Receiver, event_type: str, resource: str, auth: dict | None = None) -> str:
    event = {"eventType": event_type, "eventVersion": "V1", "resourceName": resource, "eventUrl": f"{receiver.url}/events",
             "headers": {"content-type": "application/json"}, "status": "ACTIVE"}
    if auth:
        event["authDetails"] = auth
    r = wm.send("POST", "/v3/webhooks/subscriptions", json={"events": [event]})
    assert r.status_code == 200, r.text
    created = r.json()["events"][0]
    assert set(created) == {"eventType", "subscriptionId", "partnerId", "eventVersion", "resourceName", "status"}
    return created["subscriptionId"]


BASIC = {"authMethod": "BASIC_AUTH", "userName": "abc", "password": "test", "authHeaderName": "Authorization"}


def test_po_created_delivered_with_basic_auth(wm, seller, receiver):
    _subscribe(wm, receiver, "PO_CREATED", "ORDER", BASIC)
    po = seller.orders[-5]["purchaseOrderId"]
    envelope = wm.state.emit("PO_CREATED", po)
    got = receiver.wait_for(1)
    assert len(got) == 1
    headers, body = got[0]["headers"], json.loads(got[0]["body"], parse_float=Decimal)
    assert headers["authorization"] == base64.b64encode(b"abc:test").decode()
    assert headers["content-type"] == "application/json"
    assert body == json.loads(dumps(envelope), parse_float=Decimal)
    assert body["source"]["eventType"] == "PO_CREATED" and body["source"]["eventId"]
    datetime.strptime(body["source"]["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ")
    payload, order = body["payload"], seller.order(po)
    assert payload["purchaseOrderId"] == po and payload["customerOrderId"] == order["customerOrderId"]
    assert payload["partnerId"]
    assert [ln["sku"] for ln in payload["orderLines"]] == [ln["item"]["sku"] for ln in order["orderLines"]["orderLine"]]
    line = payload["orderLines"][0]
    assert set(line) >= {"lineNumber", "sku", "productName", "quantity", "status", "statusDate", "shippingMethod",
                         "shipNodeType"}
    quantity = order["orderLines"]["orderLine"][0]["orderLineQuantity"]["amount"]
    assert line["quantity"] == {"unitOfMeasure": "EACH", "measurementValue": quantity}
    assert wm.state.wait_for_deliveries(5)
    delivery = wm.state.deliveries[-1]
    assert delivery.delivered and delivery.attempts == 1 and delivery.status_code == 200


def test_order_updates_and_inactive_subscriptions(wm, seller, receiver):
    sid = _subscribe(wm, receiver, "ORDER_UPDATES", "ORDER")
    wm.state.order_created(seller.orders[-1]["purchaseOrderId"])  # also PO_CREATED, not subscribed here
    got = receiver.wait_for(1)
    body = json.loads(got[0]["body"], parse_float=Decimal)
    assert body["source"]["eventType"] == "ORDER_UPDATES" and body["payload"]["subEventType"] == "PO_CREATED"
    assert body["payload"]["order"]["purchaseOrderId"] == seller.orders[-1]["purchaseOrderId"]
    assert "authorization" not in got[0]["headers"]
    r = wm.send("PATCH", f"/v3/webhooks/subscriptions/{sid}", json={"status": "INACTIVE"})
    assert r.status_code == 200 and r.json()["status"] == "INACTIVE"
    wm.state.emit("ORDER_UPDATES", seller.orders[-2]["purchaseOrderId"], sub_event_type="INTENT_TO_CANCEL")
    assert wm.state.wait_for_deliveries(5)
    time.sleep(0.1)
    assert len(receiver.requests) == 1


def test_return_created_and_inventory_oos_events(wm, seller, receiver):
    _subscribe(wm, receiver, "RETURN_CREATED", "RETURNS", BASIC)
    hmac_auth = {"authMethod": "HMAC", "clientSecret": "s3cr3t", "authHeaderName": "X-Signature"}
    _subscribe(wm, receiver, "INVENTORY_OOS", "INVENTORY", hmac_auth)
    ret = seller.returns[0]
    wm.state.emit("RETURN_CREATED", ret["returnOrderId"])
    got = receiver.wait_for(1)
    payload = json.loads(got[0]["body"])["payload"]
    assert payload["returnOrders"][0]["returnOrderId"] == ret["returnOrderId"]
    assert payload["returnOrders"][0]["purchaseOrderId"] == ret["returnOrderLines"][0]["purchaseOrderId"]

    # Setting a seller node's stock to zero runs it out of stock: INVENTORY_OOS goes out by itself.
    node = _seller_node(seller)
    sku = next(s for s, n in seller.inventory.items() if n.get(node, 0) > 0 and seller.inventory_reserved[s].get(node, 0) == 0)
    zero = {"sku": sku, "quantity": {"unit": "EACH", "amount": 0}}
    assert wm.send("PUT", f"/v3/inventory?sku={sku}&shipNode={node}", json=zero).status_code == 200
    got = receiver.wait_for(2)
    oos = got[1]
    body = json.loads(oos["body"])
    assert body["source"]["eventType"] == "INVENTORY_OOS" and body["payload"]["sku"] == sku
    assert {"availToSellQty": 0, "shipNode": node, "shipNodeName": f"{node}@{sku}@ACTIVE"} in body["payload"]["shipNodes"]
    # The documented scheme: base64 HMAC-SHA256 of METHOD, path and query, WM_SEC.TIMESTAMP and the body's SHA256.
    import hashlib
    import hmac
    timestamp = oos["headers"]["wm_sec.timestamp"]
    assert abs(int(timestamp) - wm.clock.now()) < 60
    to_sign = f"POST\n/events\n{timestamp}\n{hashlib.sha256(oos['body']).hexdigest()}".encode()
    expected = base64.b64encode(hmac.new(b"s3cr3t", to_sign, hashlib.sha256).digest()).decode()
    assert oos["headers"]["wm_sec.signature"] == expected
    assert "x-signature" not in oos["headers"]


def test_oauth_subscription_fetches_a_token_first(wm, seller, receiver):
    auth = {"authMethod": "OAUTH", "authUrl": f"{receiver.url}/oauth/token", "clientId": "cid", "clientSecret": "csecret",
            "authHeaderName": "Authorization"}
    _subscribe(wm, receiver, "PO_CREATED", "ORDER", auth)
    wm.state.emit("PO_CREATED", seller.orders[-1]["purchaseOrderId"])
    got = receiver.wait_for(1)
    assert got[0]["headers"]["authorization"] == "Bearer receiver-token-1"
    token_call = receiver.token_requests[0]
    assert token_call["body"] == b"grant_type=client_credentials"
    assert token_call["headers"]["authorization"] == base64.b64encode(b"cid:csecret").decode()


def test_failed_deliveries_are_retried_logged_and_never_crash(wm, seller, receiver, caplog):
    receiver.status = 500
    _subscribe(wm, receiver, "PO_CREATED", "ORDER", BASIC)
    wm.state.emit("PO_CREATED", seller.orders[-1]["purchaseOrderId"])
    assert wm.state.wait_for_deliveries(10)
    delivery = wm.state.deliveries[-1]
    assert not delivery.delivered and delivery.attempts == 3 and delivery.status_code == 500
    assert len(receiver.requests) == 3
    assert any("webhook" in rec.getMessage() for rec in caplog.records)
    # An unreachable destination fails the same way, and the emulator keeps serving.
    r = wm.send("PATCH", f"/v3/webhooks/subscriptions/{wm.state.deliveries[-1].subscription_id}",
                json={"eventUrl": "http://127.0.0.1:9/events"})
    assert r.status_code == 200
    wm.state.emit("PO_CREATED", seller.orders[-1]["purchaseOrderId"])
    assert wm.state.wait_for_deliveries(15)
    assert wm.state.deliveries[-1].error and not wm.state.deliveries[-1].delivered
    assert wm.get("/v3/webhooks/subscriptions").status_code == 200


def test_subscription_crud(wm, receiver):
    sid = _subscribe(wm, receiver, "PO_CREATED", "ORDER", BASIC)
    listed = wm.get("/v3/webhooks/subscriptions?eventType=PO_CREATED").json()["events"]
    assert len(listed) == 1 and listed[0]["subscriptionId"] == sid
    assert listed[0]["authDetails"]["authMethod"] == "BASIC_AUTH" and listed[0]["eventUrl"].endswith("/events")
    # One subscription per event type; bad requests are refused.
    dup = wm.send("POST", "/v3/webhooks/subscriptions", json={"events": [dict(listed[0], status="ACTIVE")]})
    assert dup.status_code == 400
    bad = {"eventType": "PO_CREATED", "eventVersion": "V1", "resourceName": "ITEM", "eventUrl": "https://x/y",
           "status": "ACTIVE"}
    no_pw = dict(bad, eventType="RETURN_CREATED", resourceName="RETURNS",
                 authDetails={"authMethod": "BASIC_AUTH", "userName": "u"})
    invalid = (dict(bad, eventType="RETURN_CREATED"), dict(bad, eventType="NOPE"), no_pw,
               dict(bad, resourceName="ORDER", status="ON"))
    for event in invalid:
        assert wm.send("POST", "/v3/webhooks/subscriptions", json={"events": [event]}).status_code == 400, event
    r = wm.send("PATCH", f"/v3/webhooks/subscriptions/{sid}", json={"status": "INACTIVE"})
    assert r.json()["status"] == "INACTIVE"
    assert wm.get("/v3/webhooks/subscriptions?status=ACTIVE").json()["events"] == []
    r = wm.send("DELETE", f"/v3/webhooks/subscriptions/{sid}")
    assert r.json() == {"subscriptionId": sid, "message": "Successfully deleted subscription"}
    assert wm.send("DELETE", f"/v3/webhooks/subscriptions/{sid}").status_code == 404
    assert wm.get("/v3/webhooks/subscriptions").json()["events"] == []


def test_webhook_test_endpoint(wm, receiver):
    request = {"eventType": "PO_CREATED", "eventVersion": "V1", "resourceName": "ORDER", "eventUrl": f"{receiver.url}/events",
               "authDetails": BASIC, "headers": {"content-type": "application/json"}}
    r = wm.send("POST", "/v3/webhooks/test", json=request)
    assert r.status_code == 200 and r.json() == {"message": "Eventurl successfully validated"}
    assert receiver.requests[0]["headers"]["authorization"] == base64.b64encode(b"abc:test").decode()
    receiver.status = 401
    assert wm.send("POST", "/v3/webhooks/test", json=request).status_code == 400
