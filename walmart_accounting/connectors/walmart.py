"""Walmart Marketplace API client: token, headers, paging, acknowledging and shipping orders, recon reports, inventory, feeds, webhooks."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl, quote

import requests

from walmart_accounting.connectors.errors import ApiError, AuthError, NotFoundError, ValidationError
from walmart_accounting.connectors.http import DEFAULT_TIMEOUT, HttpClient, RetryPolicy
from walmart_accounting.domain import jsonmoney

log = logging.getLogger("walmart_accounting.walmart")

PRODUCTION_URL = "https://marketplace.walmartapis.com"
SERVICE_NAME = "Walmart Marketplace"
ORDER_LOOKBACK_DAYS = 180
ORDERS_MAX_LIMIT = 200
RETURNS_MAX_LIMIT = 200
WFS_INVENTORY_MAX_LIMIT = 300  # GET /v3/fulfillment/inventory: "limit cannot be larger than 300"
INVENTORIES_MAX_LIMIT = 50
FEED_DETAILS_LIMIT = 50  # GET /v3/feeds/{feedId}: item details, at most 50 a page
ITEMS_MAX_LIMIT = 50
RECON_MIN_INTERVAL = timedelta(hours=2)
TOKEN_REFRESH_MARGIN_S = 60
SHIP_NODE_TYPES = ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled")


class WalmartError(ApiError):
    """A Walmart-specific failure that is not an HTTP error (a window out of range, a report not available)."""


def _walmart_error_text(response: requests.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return (response.text.strip()[:500] or response.reason or "no message"), None
    errors = None
    if isinstance(body, dict):
        # Live traffic: {"error": [{code, description, ...}]}; some APIs: {"errors": [...]} or {"errors": {"error": [...]}}
        errors = body.get("error") if isinstance(body.get("error"), list) else body.get("errors")
    if isinstance(errors, dict):
        errors = errors.get("error")
    if isinstance(errors, list) and errors:
        first = errors[0]
        text = first.get("description") or first.get("info") or first.get("message") or json.dumps(first)
        return text, first.get("code")
    if isinstance(body, dict) and body.get("error"):
        return str(body.get("error_description") or body["error"]), str(body["error"])
    return json.dumps(body)[:500], None


def _replenishment_wait(response: requests.Response, now: float) -> float | None:
    """Walmart sends no Retry-After on 429; X-Next-Replenishment-Time (epoch ms) says when the window resets."""
    value = response.headers.get("Retry-After") or None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    replenish = response.headers.get("X-Next-Replenishment-Time")
    if replenish:
        try:
            return max(1.0, int(replenish) / 1000 - now)
        except ValueError:
            return None
    return None


def _date_param(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes given to the Walmart client must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # Walmart refuses milliseconds
    return value.isoformat()


class ReconReportCache:
    """Downloaded reconciliation reports on disk, so a report is fetched at most once per two hours across processes."""

    def __init__(self, directory: str | os.PathLike, min_interval: timedelta = RECON_MIN_INTERVAL, clock: Callable[[], float] = time.time):
        self.directory = Path(directory)
        self.min_interval = min_interval
        self.clock = clock

    def _path(self, report_date: str, version: str) -> Path:
        return self.directory / f"recon_{version}_{report_date}.zip"

    def fresh(self, report_date: str, version: str) -> bytes | None:
        path = self._path(report_date, version)
        if path.is_file() and self.clock() - path.stat().st_mtime < self.min_interval.total_seconds():
            return path.read_bytes()
        return None

    def store(self, report_date: str, version: str, content: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(report_date, version)
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)
        now = self.clock()
        os.utime(path, (now, now))


@dataclass(frozen=True)
class FeedStatus:
    feed_id: str
    status: str
    received: int
    succeeded: int
    failed: int
    processing: int
    items: list[dict[str, Any]]

    @property
    def done(self) -> bool:
        return self.status in ("PROCESSED", "ERROR")


class WalmartClient:
    """Speaks the Walmart Marketplace API; hands back plain Python data with money as Decimal."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str = PRODUCTION_URL,
        *,
        service_name: str = SERVICE_NAME,
        report_cache: ReconReportCache | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not client_id or not client_secret:
            raise AuthError("walmart", "WALMART_CLIENT_ID and WALMART_CLIENT_SECRET must both be set")
        self._client_id = client_id
        self._client_secret = client_secret
        self.service_name = service_name
        self.http = HttpClient("walmart", base_url, timeout=timeout, retry=retry, error_parser=_walmart_error_text,
                               retry_after=lambda response: _replenishment_wait(response, clock()), sleep=sleep)
        self.report_cache = report_cache
        self.clock = clock
        self.sleep = sleep
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:  # never show the secret
        return f"WalmartClient(base_url={self.http.base_url!r}, client_id={self._client_id[:4]}…)"

    @property
    def calls(self) -> int:
        return self.http.calls

    # -- auth ------------------------------------------------------------------------------------

    def access_token(self, force: bool = False) -> str:
        """A valid access token, fetched (client credentials) or refreshed before its 900 s expiry; thread-safe."""
        with self._token_lock:
            if not force and self._token and self.clock() < self._token_expires_at - TOKEN_REFRESH_MARGIN_S:
                return self._token
            correlation = str(uuid.uuid4())
            try:
                response = self._request_token(correlation)
            except ValidationError as exc:
                # Walmart answers bad client credentials with 400 INVALID_REQUEST_HEADER on Authorization
                raise AuthError("walmart", f"token refused: {exc.message} (check WALMART_CLIENT_ID / WALMART_CLIENT_SECRET)",
                                status=exc.status, code=exc.code, correlation_id=correlation) from None
            body = response.json()
            token = body.get("access_token")
            if not token:
                raise AuthError("walmart", "token response without access_token", correlation_id=correlation)
            self._token = token
            self._token_expires_at = self.clock() + float(body.get("expires_in", 900))
            return token

    def _request_token(self, correlation: str):
        return self.http.request(
                "POST", "/v3/token",
                headers={
                    "Accept": "application/json",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "WM_QOS.CORRELATION_ID": correlation,
                    "WM_SVC.NAME": self.service_name,
                },
                data={"grant_type": "client_credentials"},
                retry_safe=True,  # asking for a token twice is harmless
                correlation_id=correlation,
                before_send=self._basic_auth,
            )

    def _basic_auth(self, headers: dict[str, str]) -> None:
        import base64

        raw = f"{self._client_id}:{self._client_secret}".encode("utf-8")
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")

    def token_detail(self) -> dict[str, Any]:
        """Scopes and validity of the current token (for `walmart-accounting ping`)."""
        return self._get("/v3/token/detail")

    def _call(self, method: str, path: str, *, params=None, json_body=None, data=None, files=None,
              accept: str = "application/json", retry_safe: bool | None = None, raw: bool = False):
        correlation = str(uuid.uuid4())
        headers = {"Accept": accept, "WM_QOS.CORRELATION_ID": correlation, "WM_SVC.NAME": self.service_name}

        def with_token(h: dict[str, str]) -> None:
            h["WM_SEC.ACCESS_TOKEN"] = self.access_token()

        try:
            response = self._send(method, path, params, headers, json_body, data, files, retry_safe, correlation, with_token)
        except AuthError:
            # A token revoked or expired early: fetch a new one once, then give up with the API's message.
            self.access_token(force=True)
            response = self._send(method, path, params, headers, json_body, data, files, retry_safe, correlation, with_token)
        if raw:
            return response
        if not response.content:
            return {}
        return jsonmoney.loads(response.content)

    def _send(self, method, path, params, headers, json_body, data, files, retry_safe, correlation, with_token):
        return self.http.request(method, path, params=params, headers=headers, json_body=json_body, data=data,
                                 files=files, retry_safe=retry_safe, correlation_id=correlation, before_send=with_token)

    def _get(self, path: str, params=None) -> dict[str, Any]:
        return self._call("GET", path, params=params)

    # -- orders ----------------------------------------------------------------------------------

    def _check_window(self, start: date | datetime | None, what: str) -> None:
        if start is None:
            return
        start_dt = start if isinstance(start, datetime) else datetime.combine(start, datetime.min.time(), UTC)
        oldest = datetime.fromtimestamp(self.clock(), UTC) - timedelta(days=ORDER_LOOKBACK_DAYS)
        if start_dt < oldest:
            raise WalmartError(
                "walmart",
                f"{what} {start_dt.date()} is more than {ORDER_LOOKBACK_DAYS} days ago; Walmart returns only orders "
                f"created in the last {ORDER_LOOKBACK_DAYS} days (oldest allowed: {oldest.date()})",
            )

    def iter_orders(
        self,
        *,
        created_start: date | datetime | None = None,
        created_end: date | datetime | None = None,
        last_modified_start: date | datetime | None = None,
        last_modified_end: date | datetime | None = None,
        status: str | None = None,
        purchase_order_id: str | None = None,
        sku: str | None = None,
        ship_node_types: tuple[str, ...] = SHIP_NODE_TYPES,
        limit: int = ORDERS_MAX_LIMIT,
        released_only: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every order matching the filters, for each ship node type, following `nextCursor` until the last page.

        Walmart returns only SellerFulfilled orders unless shipNodeType says otherwise, so WFS and 3PL
        orders need their own queries.
        """
        if not 1 <= limit <= ORDERS_MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {ORDERS_MAX_LIMIT}")
        self._check_window(created_start, "createdStartDate")
        if created_start is None and (last_modified_start or last_modified_end):
            # Walmart defaults createdStartDate to 7 days ago, which would hide older orders that changed.
            created_start = datetime.fromtimestamp(self.clock(), UTC) - timedelta(days=ORDER_LOOKBACK_DAYS - 1)
        params: dict[str, str] = {"limit": str(limit)}
        for name, value in (
            ("createdStartDate", created_start), ("createdEndDate", created_end),
            ("lastModifiedStartDate", last_modified_start), ("lastModifiedEndDate", last_modified_end),
        ):
            if value is not None:
                params[name] = _date_param(value)
        for name, value in (("status", status), ("purchaseOrderId", purchase_order_id), ("sku", sku)):
            if value:
                params[name] = value
        path = "/v3/orders/released" if released_only else "/v3/orders"
        seen: set[str] = set()
        for node_type in ship_node_types:
            for order in self._paged_orders(path, {**params, "shipNodeType": node_type}):
                if order.get("purchaseOrderId") not in seen:
                    seen.add(order.get("purchaseOrderId"))
                    yield order

    def _paged_orders(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        query: dict[str, str] | None = params
        while query is not None:
            try:
                body = self._get(path, params=query)
            except NotFoundError:
                return  # Walmart answers 404 when no order matches
            listing = body.get("list", {})
            yield from (listing.get("elements") or {}).get("order", []) or []
            cursor = (listing.get("meta") or {}).get("nextCursor")
            query = dict(parse_qsl(cursor.lstrip("?"), keep_blank_values=True)) if cursor else None

    def get_order(self, purchase_order_id: str) -> dict[str, Any]:
        return self._get(f"/v3/orders/{quote(purchase_order_id, safe='')}").get("order", {})

    def acknowledge_order(self, purchase_order_id: str) -> dict[str, Any]:
        """Acknowledge a purchase order (idempotent on Walmart's side, so safe to retry)."""
        return self._call("POST", f"/v3/orders/{quote(purchase_order_id, safe='')}/acknowledge", retry_safe=True).get("order", {})

    def ship_order_lines(self, purchase_order_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        """Mark order lines Shipped with their tracking; returns the parsed response ({"order": ...}).

        Each line: line_number, quantity, carrier (one Walmart lists) or other_carrier (then tracking_url is
        required), method_code (Standard, Express, OneDay, Freight, WhiteGlove, Value), tracking_number,
        tracking_url (optional with carrier), ship_time (aware datetime); optional seller_order_id (at most 30
        characters, default the purchase order id), unit ("EACH") and intent_to_cancel_override.
        """
        if not lines:
            raise ValueError("ship_order_lines needs at least one line")
        order_lines = []
        for line in lines:
            ship_time = line["ship_time"]
            if not isinstance(ship_time, datetime) or ship_time.tzinfo is None:
                raise ValueError("ship_time must be a timezone-aware datetime")
            carrier, other = line.get("carrier"), line.get("other_carrier")
            if bool(carrier) == bool(other):
                raise ValueError("give exactly one of carrier and other_carrier")
            if other and not line.get("tracking_url"):
                raise ValueError("tracking_url is required with other_carrier")
            quantity = int(line["quantity"])
            if quantity < 1:
                raise ValueError("quantity must be at least 1")
            tracking: dict[str, Any] = {
                "shipDateTime": (ship_time - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1),
                "carrierName": {"carrier": carrier} if carrier else {"otherCarrier": other},
                "methodCode": line["method_code"],
                "trackingNumber": str(line["tracking_number"]),
            }
            if line.get("tracking_url"):
                tracking["trackingURL"] = line["tracking_url"]
            entry: dict[str, Any] = {
                "lineNumber": str(line["line_number"]),
                "sellerOrderId": str(line.get("seller_order_id") or purchase_order_id),
                "orderLineStatuses": {"orderLineStatus": [{
                    "status": "Shipped",
                    "statusQuantity": {"unitOfMeasurement": line.get("unit", "EACH"), "amount": str(quantity)},
                    "trackingInfo": tracking,
                }]},
            }
            if line.get("intent_to_cancel_override") is not None:
                entry["intentToCancelOverride"] = bool(line["intent_to_cancel_override"])
            order_lines.append(entry)
        body = {"orderShipment": {"orderLines": {"orderLine": order_lines}}}
        # Retry-safe: the same line sent again with the same tracking number is the same shipment, not a second one.
        return self._call("POST", f"/v3/orders/{quote(purchase_order_id, safe='')}/shipping", json_body=body,
                          retry_safe=True)

    # -- returns ---------------------------------------------------------------------------------

    def iter_returns(
        self,
        *,
        created_start: datetime | None = None,
        created_end: datetime | None = None,
        last_modified_start: datetime | None = None,
        last_modified_end: datetime | None = None,
        status: str | None = None,
        return_order_id: str | None = None,
        customer_order_id: str | None = None,
        limit: int = RETURNS_MAX_LIMIT,
    ) -> Iterator[dict[str, Any]]:
        """Every return order matching the filters, following `nextCursor`."""
        if not 1 <= limit <= RETURNS_MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {RETURNS_MAX_LIMIT}")
        params: dict[str, str] = {"limit": str(limit)}
        for name, value in (
            ("returnCreationStartDate", created_start), ("returnCreationEndDate", created_end),
            ("returnLastModifiedStartDate", last_modified_start), ("returnLastModifiedEndDate", last_modified_end),
        ):
            if value is not None:
                params[name] = _date_param(value)
        for name, value in (("status", status), ("returnOrderId", return_order_id), ("customerOrderId", customer_order_id)):
            if value:
                params[name] = value
        query: dict[str, str] | None = params
        while query is not None:
            try:
                body = self._get("/v3/returns", params=query)
            except NotFoundError:
                return
            yield from body.get("returnOrders", []) or []
            cursor = (body.get("meta") or {}).get("nextCursor")
            query = dict(parse_qsl(cursor.lstrip("?"), keep_blank_values=True)) if cursor else None

    # -- items -----------------------------------------------------------------------------------

    def iter_items(self, limit: int = ITEMS_MAX_LIMIT) -> Iterator[dict[str, Any]]:
        """The seller's catalogue; the first call sends nextCursor=* so Walmart returns a cursor at all."""
        if not 1 <= limit <= ITEMS_MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {ITEMS_MAX_LIMIT}")
        cursor: str | None = "*"
        while cursor:
            try:
                body = self._get("/v3/items", params={"limit": str(limit), "nextCursor": cursor})
            except NotFoundError:
                return  # past the last page Walmart answers 404 CONTENT_NOT_FOUND
            yield from body.get("ItemResponse", []) or []
            cursor = body.get("nextCursor")

    # -- reconciliation reports ----------------------------------------------------------------

    def available_recon_dates(self, version: str = "v1") -> list[str]:
        """Report dates (MMDDYYYY, exactly as Walmart gives them) of the available reconciliation reports."""
        body = self._get("/v3/report/reconreport/availableReconFiles", params={"reportVersion": version})
        return list(body.get("availableApReportDates", []) or [])

    def recon_report_zip(self, report_date: str, version: str = "v1") -> bytes:
        """The report's zip file; downloaded at most once per two hours when a cache is configured."""
        if self.report_cache:
            cached = self.report_cache.fresh(report_date, version)
            if cached is not None:
                log.info("reconciliation report %s: using the copy downloaded under 2 hours ago", report_date)
                return cached
        response = self._call("GET", "/v3/report/reconreport/reconFile",
                              params={"reportDate": report_date, "reportVersion": version},
                              accept="application/octet-stream", raw=True)
        content = response.content
        if self.report_cache:
            self.report_cache.store(report_date, version, content)
        return content

    def recon_report_rows(self, report_date: str, version: str = "v1") -> list[dict[str, str]]:
        """The report's rows, keyed by column name (new columns are kept, none are assumed by position)."""
        return parse_recon_zip(self.recon_report_zip(report_date, version))

    def recon_report_json_rows(self, report_date: str, page_size: int = 1000) -> Iterator[dict[str, str]]:
        """The v1 report through reconFileJson, paged by offset until nextOffset is -1."""
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        offset = 0
        while offset >= 0:
            body = self._get("/v3/report/reconreport/reconFileJson",
                             params={"reportDate": report_date, "reportVersion": "v1", "offset": str(offset),
                                     "noOfRecords": str(page_size)})
            yield from body.get("reportData", []) or []
            next_offset = body.get("nextOffset", -1)
            offset = int(next_offset) if next_offset is not None else -1

    # -- inventory, feeds ------------------------------------------------------------------------

    def get_inventory(self, sku: str, ship_node: str | None = None) -> dict[str, Any]:
        params = {"sku": sku}
        if ship_node:
            params["shipNode"] = ship_node
        return self._get("/v3/inventory", params=params)

    def update_inventory(self, sku: str, quantity: int, ship_node: str | None = None) -> dict[str, Any]:
        params = {"sku": sku}
        if ship_node:
            params["shipNode"] = ship_node
        return self._call("PUT", "/v3/inventory", params=params, retry_safe=True,
                          json_body={"sku": sku, "quantity": {"unit": "EACH", "amount": quantity}})

    def iter_inventories(self, limit: int = INVENTORIES_MAX_LIMIT) -> Iterator[dict[str, Any]]:
        """Multi-node inventory of every SKU, following nextCursor with the same limit."""
        if not 1 <= limit <= INVENTORIES_MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {INVENTORIES_MAX_LIMIT}")
        params: dict[str, str] | None = {"limit": str(limit)}
        while params is not None:
            body = self._get("/v3/inventories", params=params)
            yield from ((body.get("elements") or {}).get("inventories") or [])
            cursor = (body.get("meta") or {}).get("nextCursor")
            params = {"limit": str(limit), "nextCursor": cursor} if cursor else None

    def iter_wfs_inventory(self, limit: int = WFS_INVENTORY_MAX_LIMIT) -> Iterator[dict[str, Any]]:
        """WFS stock of every SKU (GET /v3/fulfillment/inventory), paged by offset until a short page."""
        if not 1 <= limit <= WFS_INVENTORY_MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {WFS_INVENTORY_MAX_LIMIT}")
        offset = 0
        while True:
            body = self._get("/v3/fulfillment/inventory", params={"limit": str(limit), "offset": str(offset)})
            page = (body.get("payload") or {}).get("inventory") or []
            yield from page
            total = (body.get("headers") or {}).get("totalCount")
            offset += len(page)
            if len(page) < limit or (total is not None and offset >= int(total)):
                return

    def submit_feed(self, feed_type: str, payload: dict[str, Any]) -> str:
        """Upload a bulk feed (inventory, MP_INVENTORY, price); returns the feed id to poll."""
        body = jsonmoney.dumps(payload).encode("utf-8")
        result = self._call("POST", "/v3/feeds", params={"feedType": feed_type},
                            files={"file": ("feed.json", body, "application/json")}, retry_safe=False)
        feed_id = result.get("feedId")
        if not feed_id:
            raise WalmartError("walmart", f"feed submission returned no feedId: {result}")
        return feed_id

    def feed_status(self, feed_id: str, include_details: bool = True) -> FeedStatus:
        body = self._get(f"/v3/feeds/{quote(feed_id, safe='')}",
                         params={"includeDetails": "true" if include_details else "false"})
        details = ((body.get("itemDetails") or {}).get("itemIngestionStatus")) or []
        return FeedStatus(
            feed_id=body.get("feedId", feed_id), status=body.get("feedStatus", ""),
            received=int(body.get("itemsReceived") or 0), succeeded=int(body.get("itemsSucceeded") or 0),
            failed=int(body.get("itemsFailed") or 0), processing=int(body.get("itemsProcessing") or 0), items=details,
        )

    def iter_feed_items(self, feed_id: str) -> Iterator[dict[str, Any]]:
        """Every item result of a processed feed, 50 a page (the most Walmart's feed status returns)."""
        offset = 0
        while True:
            body = self._get(f"/v3/feeds/{quote(feed_id, safe='')}",
                             params={"includeDetails": "true", "offset": str(offset), "limit": str(FEED_DETAILS_LIMIT)})
            page = ((body.get("itemDetails") or {}).get("itemIngestionStatus")) or []
            yield from page
            offset += len(page)
            if not page or offset >= int(body.get("itemsReceived") or 0):
                return

    def wait_for_feed(self, feed_id: str, timeout_s: float = 1800, poll_s: float = 30) -> FeedStatus:
        """Poll a feed until it is processed; per-item results are in `.items`."""
        deadline = self.clock() + timeout_s
        while True:
            status = self.feed_status(feed_id)
            if status.done:
                return status
            if self.clock() > deadline:
                raise WalmartError("walmart", f"feed {feed_id} still {status.status} after {timeout_s:.0f} s")
            self.sleep(poll_s)

    # -- webhooks --------------------------------------------------------------------------------

    def webhook_subscriptions(self) -> list[dict[str, Any]]:
        return list(self._get("/v3/webhooks/subscriptions").get("events", []) or [])

    def subscribe_webhook(self, event_type: str, resource_name: str, event_url: str, *,
                          auth_details: dict[str, str] | None = None, event_version: str = "V1") -> dict[str, Any]:
        """Subscribe `event_url` to an event type (e.g. PO_CREATED / ORDER)."""
        event = {"eventType": event_type, "eventVersion": event_version, "resourceName": resource_name,
                 "eventUrl": event_url, "status": "ACTIVE"}
        if auth_details:
            event["authDetails"] = auth_details
        body = self._call("POST", "/v3/webhooks/subscriptions", json_body={"events": [event]}, retry_safe=False)
        events = body.get("events") or []
        if not events:
            raise ValidationError("walmart", f"subscription returned no events: {body}")
        return events[0]

    def delete_webhook(self, subscription_id: str) -> None:
        self._call("DELETE", f"/v3/webhooks/subscriptions/{quote(subscription_id, safe='')}", retry_safe=True)


def parse_recon_zip(content: bytes) -> list[dict[str, str]]:
    """Rows of the CSV inside a reconciliation report zip, keyed by header name."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise WalmartError("walmart", f"reconciliation report is not a zip file: {exc}") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if not members:
        raise WalmartError("walmart", "reconciliation report zip is empty")
    text = archive.read(members[0]).decode("utf-8-sig")
    return [dict(row) for row in csv.DictReader(io.StringIO(text))]

