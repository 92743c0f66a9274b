"""Webhooks: event types, subscriptions, event payloads, and signed delivery with retries."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.walmart.base import (
    NOTIFICATION_API,
    PARTNER_ID,
    PARTNER_NAME,
    ApiBase,
    _bad_content,
    _not_found,
    dumps,
    json_response,
    loads,
)
from walmart_accounting.sandbox.walmart.helpers import _iso_ms, _iso_to_ms, _query
from walmart_accounting.sandbox.walmart.orders import _line_statuses, _order_lines, _ship_node_type, render_order

# The emulator's logger kept its name from before the split into a package.
log = logging.getLogger("walmart_accounting.sandbox.walmart")

# GET /v3/webhooks/eventTypes: the official example plus the event pages of DOC-NOTIF.
_EVENT_CATALOG = (
    ("ITEM", "OFFER_UNPUBLISHED", "Notification for unpublished offers"),
    ("ITEM", "OFFER_PUBLISHED", "Notification for published offers"),
    ("PRICE", "BUY_BOX_CHANGED", "Notification for change in buy box"),
    ("ORDER", "PO_CREATED", "Notification for new purchase order created"),
    ("ORDER", "PO_LINE_AUTOCANCELLED", "Notification for purchase order line auto-cancelled"),
    ("ORDER", "INTENT_TO_CANCEL", "Notification for order created with intent to cancel"),
    ("ORDER", "ORDER_UPDATES", "Notification for order lifecycle updates"),
    ("REPORTS", "REPORT_STATUS", "Notification for report status"),
    ("INVENTORY", "INVENTORY_OOS", "Notification for out of stock inventory"),
    ("RETURNS", "RETURN_CREATED", "Notification for return order created"),
)
EVENT_TYPES: tuple[dict[str, str], ...] = tuple(
    {"resourceName": r, "eventType": t, "eventVersion": "V1", "description": d} for r, t, d in _EVENT_CATALOG
)
_EVENT_RESOURCE = {e["eventType"]: e["resourceName"] for e in EVENT_TYPES}
ORDER_SUB_EVENTS = ("PO_CREATED", "PO_LINE_AUTOCANCELLED", "INTENT_TO_CANCEL", "FRAUD_CANCEL")


@dataclass
class Delivery:
    event_id: str
    event_type: str
    subscription_id: str
    url: str
    attempts: int = 0
    status_code: int | None = None
    error: str | None = None
    delivered: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class WebhooksState:
    """Subscriptions' events: building them and delivering them from a worker thread; mixed into WalmartState."""

    def emit(self, event_type: str, ref: str | None = None, *, sub_event_type: str | None = None,
             payload: dict | None = None) -> dict:
        """Fire one event to every ACTIVE subscription of its type, from the background worker.

        ref: purchaseOrderId (PO_CREATED, PO_LINE_AUTOCANCELLED, INTENT_TO_CANCEL, ORDER_UPDATES),
        returnOrderId (RETURN_CREATED), sku (INVENTORY_OOS). Returns the event envelope sent.
        """
        if payload is None:
            payload = self.event_payload(event_type, ref, sub_event_type=sub_event_type)
        source: dict[str, Any] = {"eventType": event_type}
        if event_type == "ORDER_UPDATES":
            source["eventFilters"] = None
        source["eventTime"] = _iso_ms(self.now_ms())
        source["eventId"] = str(uuid.uuid1())
        envelope = {"source": source, "payload": payload}
        with self.lock:
            self.events.append(envelope)
            targets = [s for s in self.subscriptions.values() if s["eventType"] == event_type and s["status"] == "ACTIVE"]
        for sub in targets:
            self._enqueue(copy.deepcopy(sub), envelope)
        return envelope

    def order_created(self, purchase_order_id: str) -> list[dict]:
        """A new PO: the legacy PO_CREATED event and ORDER_UPDATES with subEventType PO_CREATED."""
        return [
            self.emit("PO_CREATED", purchase_order_id),
            self.emit("ORDER_UPDATES", purchase_order_id, sub_event_type="PO_CREATED"),
        ]

    def event_payload(self, event_type: str, ref: str | None, *, sub_event_type: str | None = None) -> dict:
        if event_type in ("PO_CREATED", "PO_LINE_AUTOCANCELLED", "INTENT_TO_CANCEL"):
            order = self._event_order(ref)
            return self._po_event_payload(order, event_type)
        if event_type == "ORDER_UPDATES":
            order = self._event_order(ref)
            sub = sub_event_type or "PO_CREATED"
            if sub not in ORDER_SUB_EVENTS:
                raise ValueError(f"unknown ORDER_UPDATES subEventType {sub!r}")
            # CHOICE: the order-management page names payload.subEventType, a payload.meta container for it
            # and a payload.order block; the full sample was not retrieved, so all three are present.
            rendered = render_order(order, product_info=False, replacement_info=True)
            return {"meta": {"subEventType": sub}, "subEventType": sub, "order": rendered}
        if event_type == "RETURN_CREATED":
            with self.lock:
                ret = self._returns.get(str(ref)) if ref is not None else next(iter(self._returns.values()), None)
            if ret is None:
                raise ValueError(f"unknown returnOrderId {ref!r}")
            return self._return_event_payload(ret)
        if event_type == "INVENTORY_OOS":
            sku = ref if ref is not None else next(iter(self.sku_specs), None)
            if sku is None or not self.known_sku(sku):
                raise ValueError(f"unknown sku {ref!r}")
            return self._oos_payload(sku)
        return {"partnerId": PARTNER_ID}

    def _event_order(self, ref: str | None) -> dict:
        with self.lock:
            if ref is None:
                po = self._order_index[0] if self._order_index else None
            else:
                po = str(ref)
            order = self._orders.get(po) if po else None
            if order is None:
                raise ValueError(f"unknown purchaseOrderId {ref!r}")
            return copy.deepcopy(order)

    def _po_event_payload(self, order: dict, event_type: str) -> dict:
        info = order.get("shippingInfo") or {}
        lines = []
        for line in _order_lines(order):
            qty = line.get("orderLineQuantity") or {}
            statuses = _line_statuses(line)
            status = statuses[-1].get("status", "Created") if statuses else "Created"
            entry = {
                "lineNumber": str(line.get("lineNumber")),
                "sku": (line.get("item") or {}).get("sku"),
                "productName": (line.get("item") or {}).get("productName"),
                "quantity": {
                    "unitOfMeasure": qty.get("unitOfMeasurement", "EACH"),
                    "measurementValue": str(qty.get("amount", "1")),
                },
                "status": "CANCELLED" if event_type == "PO_LINE_AUTOCANCELLED" else str(status).upper(),
                "statusDate": _iso_ms(int(line.get("statusDate") or order.get("orderDate") or 0)),
            }
            program = (line.get("fulfillment") or {}).get("shippingProgramType")
            if program:
                entry["shippingProgramType"] = program
            entry["shippingMethod"] = info.get("methodCode")
            if event_type == "PO_LINE_AUTOCANCELLED":
                entry["cancellationReason"] = "Auto-cancelled due to expiry of ship by date"
            entry["shipNodeType"] = _ship_node_type(order)
            lines.append(entry)
        # CHOICE: the event pages type the dates as strings; ISO-8601 UTC like source.eventTime.
        return {
            "partnerId": PARTNER_ID,
            "purchaseOrderId": str(order.get("purchaseOrderId")),
            "customerOrderId": str(order.get("customerOrderId")),
            "orderDate": _iso_ms(int(order.get("orderDate") or 0)),
            "estimatedDeliveryDate": _iso_ms(int(info.get("estimatedDeliveryDate") or 0)),
            "estimatedShipDate": _iso_ms(int(info.get("estimatedShipDate") or 0)),
            "orderLines": lines,
        }

    def _return_event_payload(self, ret: dict) -> dict:
        created = _iso_to_ms(ret.get("returnOrderDate")) or 0
        d = datetime.fromtimestamp(created / 1000, tz=timezone.utc)
        tracking_ids, tracking_urls = [], []
        for group in ret.get("returnLineGroups") or []:
            for label in group.get("labels") or []:
                for carrier in label.get("carrierInfoList") or []:
                    if carrier.get("trackingNo"):
                        tracking_ids.append(str(carrier["trackingNo"]))
                        tracking_urls.append(
                            f"https://www.fedex.com/apps/fedextrack/?action=track&tracknumbers={carrier['trackingNo']}"
                        )
        lines = []
        for line in ret.get("returnOrderLines") or []:
            refunded = line.get("currentRefundStatus") == "REFUND_COMPLETED"
            lines.append({
                "purchaseOrderId": str(line.get("purchaseOrderId")),
                "productName": (line.get("item") or {}).get("productName"),
                "returnOrderId": str(ret.get("returnOrderId")),
                "returnInitiatedDate": f"{d:%b} {d.day}, {d.year}",  # sample: "Mar 28, 2024"
                "returnReason": line.get("returnReason"),
                "quantity": str((line.get("quantity") or {}).get("measurementValue", 1)),
                "trackingUrl": list(tracking_urls),
                "trackingId": list(tracking_ids),
                "refundStatus": "Refunded" if refunded else "Non Refunded",
            })
        return {"partnerId": PARTNER_ID, "partnerName": PARTNER_NAME, "returnOrders": lines}

    def _oos_payload(self, sku: str) -> dict:
        reserved = self.reserved()
        spec = self.sku_specs.get(sku)
        nodes = []
        with self.lock:
            for node, qty in self._inventory.get(sku, {}).items():
                avail = max(qty - reserved.get((sku, node), 0), 0)
                if avail == 0:
                    nodes.append({"availToSellQty": 0, "shipNode": node, "shipNodeName": f"{node}@{sku}@ACTIVE"})
        item_id = str(int(hashlib.sha256(sku.encode()).hexdigest(), 16) % 10**9)
        return {
            "partnerId": PARTNER_ID,
            "itemId": item_id,
            "sku": sku,
            "productName": spec.name if spec else sku,
            "category": "Home",  # CHOICE: the seller has no category per SKU
            "shipNodes": nodes,
        }

    # delivery ---------------------------------------------------------------------------------------

    def _enqueue(self, sub: dict, envelope: dict) -> None:
        with self.lock:
            self._pending += 1
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run_worker, name="walmart-webhooks", daemon=True)
                self._worker.start()
        self._queue.put((sub, envelope))

    def _run_worker(self) -> None:
        while True:
            sub, envelope = self._queue.get()
            try:
                self._deliver(sub, envelope)
            except Exception:  # a delivery never takes the emulator down
                log.exception("walmart sandbox: webhook delivery crashed")
            finally:
                with self.lock:
                    self._pending -= 1
                    self._idle.notify_all()

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery has finished (tests and the demo); False on timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def _auth_headers(self, sub: dict, body: bytes) -> dict[str, str]:
        auth = sub.get("authDetails") or {}
        method = auth.get("authMethod")
        name = auth.get("authHeaderName") or "Authorization"
        if method == "BASIC_AUTH":
            raw = f"{auth.get('userName', '')}:{auth.get('password', '')}".encode()
            return {name: self.basic_auth_prefix + base64.b64encode(raw).decode()}
        if method == "HMAC":
            # DOC-NOTIF security-and-authenticity: base64 HMAC-SHA256 (clientSecret) of
            # "<METHOD>\n<PATH_AND_QUERY>\n<WM_SEC.TIMESTAMP>\n<lowercase hex SHA256 of the raw body>".
            parts = urlsplit(sub["eventUrl"])
            path_and_query = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            timestamp = str(int(self.now()))
            to_sign = f"POST\n{path_and_query}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}"
            digest = hmac.new(str(auth.get("clientSecret", "")).encode(), to_sign.encode(), hashlib.sha256).digest()
            return {"WM_SEC.TIMESTAMP": timestamp, "WM_SEC.SIGNATURE": base64.b64encode(digest).decode()}
        if method == "OAUTH":
            return {name: "Bearer " + self._oauth_token(sub)}
        return {}

    def _oauth_token(self, sub: dict) -> str:
        auth = sub["authDetails"]
        key = f"{auth.get('authUrl')}|{auth.get('clientId')}"
        with self.lock:
            cached = self._oauth_tokens.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        raw = f"{auth.get('clientId', '')}:{auth.get('clientSecret', '')}".encode()
        headers = {
            auth.get("authHeaderName") or "Authorization": base64.b64encode(raw).decode(),
            "Accept": "application/json; charset=UTF-8",
            "Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1",
        }
        headers.update(sub.get("headers") or {})
        req = urllib.request.Request(auth["authUrl"], data=b"grant_type=client_credentials", headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=self.options.webhook_timeout_s) as resp:
            data = loads(resp.read())
        token = str(data["access_token"])
        ttl = float(data.get("expires_in", 300))
        with self.lock:
            self._oauth_tokens[key] = (token, time.monotonic() + max(ttl - 5, 1))
        return token

    def _deliver(self, sub: dict, envelope: dict, max_attempts: int | None = None) -> Delivery:
        body = dumps(envelope).encode("utf-8")
        delivery = Delivery(
            event_id=envelope["source"]["eventId"], event_type=envelope["source"]["eventType"],
            subscription_id=sub["subscriptionId"], url=sub["eventUrl"], body=body,
        )
        with self.lock:
            self.deliveries.append(delivery)
        attempts = max_attempts or self.webhook_max_attempts
        for attempt in range(1, attempts + 1):
            delivery.attempts = attempt
            try:
                headers = {"Content-Type": "application/json"}
                headers.update(sub.get("headers") or {})
                headers.update(self._auth_headers(sub, body))
                delivery.headers = headers
                req = urllib.request.Request(sub["eventUrl"], data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.options.webhook_timeout_s) as resp:
                    delivery.status_code = resp.status
                delivery.delivered = 200 <= (delivery.status_code or 0) < 300
                delivery.error = None
            except urllib.error.HTTPError as exc:
                delivery.status_code, delivery.error = exc.code, f"HTTP {exc.code}"
            except Exception as exc:  # timeouts, refused connections, bad OAuth servers
                delivery.status_code, delivery.error = None, f"{type(exc).__name__}: {exc}"
            if delivery.delivered:
                return delivery
            log.warning(
                "walmart sandbox: webhook %s %s to %s failed (attempt %d/%d): %s",
                delivery.event_type, delivery.event_id, delivery.url, attempt, attempts, delivery.error,
            )
            if attempt < attempts:
                time.sleep(self.webhook_retry_delay_s)
        return delivery

    def send_test_notification(self, request: dict) -> bool:
        """POST /v3/webhooks/test: one synchronous delivery of a sample payload; True on a 2xx answer."""
        event_type = request["eventType"]
        try:
            payload = self.event_payload(event_type, None)
        except ValueError:
            payload = {"partnerId": PARTNER_ID}
        source = {"eventType": event_type, "eventTime": _iso_ms(self.now_ms()), "eventId": str(uuid.uuid1())}
        envelope = {"source": source, "payload": payload}
        sub = {
            "subscriptionId": "test", "eventUrl": request["eventUrl"], "headers": request.get("headers") or {},
            "authDetails": request.get("authDetails") or {},
        }
        return self._deliver(sub, envelope, max_attempts=1).delivered


# ----------------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------------


class WebhooksApi(ApiBase):
    """GET /v3/webhooks/eventTypes, the subscriptions CRUD and POST /v3/webhooks/test."""

    async def event_types(self, request: Request) -> Response:
        return json_response({"events": [dict(e) for e in EVENT_TYPES]})

    def _check_auth_details(self, auth: Any) -> dict | None:
        if auth is None:
            return None
        if not isinstance(auth, dict):
            raise _bad_content(NOTIFICATION_API, "authDetails must be an object", "authDetails")
        method = auth.get("authMethod")
        needed = {
            "BASIC_AUTH": ("userName", "password"),
            "HMAC": ("clientSecret",),
            "OAUTH": ("authUrl", "clientId", "clientSecret"),
        }
        if method not in needed:
            raise _bad_content(NOTIFICATION_API, "authDetails.authMethod must be one of BASIC_AUTH, OAUTH, HMAC",
                               "authMethod")
        for key in needed[method]:
            if not auth.get(key):
                raise _bad_content(NOTIFICATION_API, f"authDetails.{key} is required for {method}", key)
        return dict(auth)

    def _check_event_fields(self, event: Any, *, require_status: bool) -> dict:
        if not isinstance(event, dict):
            raise _bad_content(NOTIFICATION_API, "each event must be an object", "events")
        required = ["eventType", "eventVersion", "resourceName", "eventUrl"] + (["status"] if require_status else [])
        for key in required:
            if not event.get(key):
                raise _bad_content(NOTIFICATION_API, f"{key} is required", key)
        event_type = event["eventType"]
        if event_type not in _EVENT_RESOURCE:
            raise _bad_content(NOTIFICATION_API, f"Invalid eventType '{event_type}'", "eventType")
        if event["resourceName"] != _EVENT_RESOURCE[event_type]:
            raise _bad_content(NOTIFICATION_API, f"resourceName for {event_type} must be {_EVENT_RESOURCE[event_type]}",
                               "resourceName")
        if event["eventVersion"] != "V1":
            raise _bad_content(NOTIFICATION_API, f"Invalid eventVersion '{event['eventVersion']}' for {event_type}",
                               "eventVersion")
        if not str(event["eventUrl"]).startswith(("http://", "https://")):
            raise _bad_content(NOTIFICATION_API, "eventUrl must be an http(s) URL", "eventUrl")
        if require_status and event["status"] not in ("ACTIVE", "INACTIVE"):
            raise _bad_content(NOTIFICATION_API, "status must be ACTIVE or INACTIVE", "status")
        headers = event.get("headers")
        if headers is not None and (not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())):
            raise _bad_content(NOTIFICATION_API, "headers must map header names to strings", "headers")
        return event

    async def create_subscriptions(self, request: Request) -> Response:
        state = self.state
        body = await self._json_body(request, NOTIFICATION_API)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list) or not events:
            raise _bad_content(NOTIFICATION_API, "events[] is required", "events")
        records = []
        with state.lock:
            taken = {s["eventType"] for s in state.subscriptions.values()}
            for event in events:
                self._check_event_fields(event, require_status=True)
                auth = self._check_auth_details(event.get("authDetails"))
                if event["eventType"] in taken:
                    # CHOICE: one subscription per event type; change it with PATCH.
                    raise _bad_content(NOTIFICATION_API,
                                       f"Subscription already exists for eventType {event['eventType']}", "eventType")
                taken.add(event["eventType"])
                record = {
                    "eventType": event["eventType"], "subscriptionId": str(uuid.uuid1()), "partnerId": PARTNER_ID,
                    "eventVersion": event["eventVersion"], "resourceName": event["resourceName"],
                    "eventUrl": event["eventUrl"], "headers": dict(event.get("headers") or {}),
                    "authDetails": auth, "status": event["status"],
                }
                records.append(record)
            for record in records:
                state.subscriptions[record["subscriptionId"]] = record
        keys = ("eventType", "subscriptionId", "partnerId", "eventVersion", "resourceName", "status")
        return json_response({"events": [{k: r[k] for k in keys} for r in records]})

    @staticmethod
    def _public(record: dict) -> dict:
        out = {k: v for k, v in record.items() if v is not None}
        if not out.get("headers"):
            out.pop("headers", None)
        return out

    async def list_subscriptions(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        filters = {k: params[k] for k in ("subscriptionId", "eventType", "resourceName", "status") if params.get(k)}
        with state.lock:
            found = [self._public(s) for s in state.subscriptions.values() if all(s.get(k) == v for k, v in filters.items())]
        return json_response({"events": found})

    async def update_subscription(self, request: Request) -> Response:
        state = self.state
        sid = request.path_params["subscriptionId"]
        body = await self._json_body(request, NOTIFICATION_API)
        if not isinstance(body, dict):
            raise _bad_content(NOTIFICATION_API, "Request body must be an object")
        with state.lock:
            record = state.subscriptions.get(sid)
            if record is None:
                raise _not_found(NOTIFICATION_API, f"Subscription {sid} not found", "subscriptionId")
            editable = ("eventType", "eventVersion", "resourceName", "eventUrl", "headers", "authDetails", "status")
            merged = {**record, **{k: v for k, v in body.items() if k in editable}}
            self._check_event_fields(merged, require_status=True)
            merged["authDetails"] = self._check_auth_details(merged.get("authDetails"))
            if merged["eventType"] != record["eventType"] and any(
                    s["eventType"] == merged["eventType"] for s in state.subscriptions.values()):
                raise _bad_content(NOTIFICATION_API,
                                   f"Subscription already exists for eventType {merged['eventType']}", "eventType")
            state.subscriptions[sid] = merged
            return json_response(self._public(merged))

    async def delete_subscription(self, request: Request) -> Response:
        state = self.state
        sid = request.path_params["subscriptionId"]
        with state.lock:
            if state.subscriptions.pop(sid, None) is None:
                raise _not_found(NOTIFICATION_API, f"Subscription {sid} not found", "subscriptionId")
        return json_response({"subscriptionId": sid, "message": "Successfully deleted subscription"})

    async def test_notification(self, request: Request) -> Response:
        body = await self._json_body(request, NOTIFICATION_API)
        event = self._check_event_fields(body, require_status=False)
        self._check_auth_details(event.get("authDetails"))
        ok = await run_in_threadpool(self.state.send_test_notification, event)
        if not ok:
            # CHOICE: failure wording not documented.
            raise _bad_content(NOTIFICATION_API, "Eventurl validation failed: the destination did not answer 2xx",
                               "eventUrl")
        return json_response({"message": "Eventurl successfully validated"})
