"""Walmart Marketplace (US) API emulator: token, orders, returns, recon reports, inventory, feeds, webhooks.

Served under WALMART_BASE_URL, which stands for https://marketplace.walmartapis.com, so the paths are the
real ones (/v3/token, /v3/orders, ...). Sources: specs/walmart/FACTS.md, the official OpenAPI
files in openapi/ and the examples in examples/.

Principle where the material is silent: be at least as strict as production could be. A client that copes
with the stricter reading also works against the laxer one, never the other way round. Every such choice
is marked "CHOICE:" below; the relaxations of the official definitions (whose own examples break them)
are marked "RELAXED:".

Error bodies. Walmart's gateway answers JSON errors as {"error": [{code, field, description, info,
severity, category, causes, errorIdentifiers}]} (observed live, e.g. 401 UNAUTHORIZED.GMP_GATEWAY_API and
400 INVALID_REQUEST_HEADER.GMP_GATEWAY_API; the XML form is <errors><error>..., which older JSON clients
saw as {"errors": {"error": [...]}}). CHOICE: every error of this emulator uses the {"error": [...]} form;
clients should read both.

Money: JSON bodies are parsed with parse_float=Decimal and Decimal amounts are written as JSON numbers
by a small encoder of our own; no float ever touches an amount.
"""

from __future__ import annotations

import base64
import binascii
import copy
import csv
import hashlib
import hmac
import io
import logging
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from email import policy as email_policy
from email.parser import BytesParser
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from walmart_accounting.domain import jsonmoney
from walmart_accounting.sandbox.common import FixedWindowLimiter
from walmart_accounting.sandbox.seller import RECON_V1_COLUMNS as V1_COLUMNS

log = logging.getLogger(__name__)

# The sandbox seller's identifiers as Walmart would report them (partnerId in cursors, events, file names).
PARTNER_ID = "10001234567"
SELLER_ID = "1011"
PARTNER_NAME = "Sandbox Seller LLC"

TOKEN_TTL_S = 900  # DOC-TOKEN: access token lifetime 15 minutes
ORDERS_LOOKBACK_DAYS = 180  # orders.json: "Only orders created in last 180 days ... can be fetched"
ORDERS_MAX_FETCH = 20000  # orders.json: "a maximum of 20000 orders can be fetched at a time"
ORDERS_DEFAULT_LIMIT, ORDERS_MAX_LIMIT = 100, 200
RETURNS_DEFAULT_LIMIT, RETURNS_MAX_LIMIT = 10, 200
INVENTORIES_DEFAULT_LIMIT, INVENTORIES_MAX_LIMIT = 10, 50
FEED_DETAILS_DEFAULT_LIMIT, FEED_DETAILS_MAX_LIMIT = 50, 50
RECON_JSON_MAX_RECORDS = 1000


ORDER_LINE_STATUSES = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled")
SHIP_NODE_TYPES = ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled")
RETURN_STATUSES = ("INITIATED", "DELIVERED", "COMPLETED")

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

# CHOICE: per-endpoint limits. FACTS section 6: the US numbers are third-party (read the headers at
# runtime); these follow that summary. Keys are "<group>"; override with WalmartState.set_rate_limit().
DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "orders.read": (5000, 60),
    "orders.write": (60, 60),
    "inventory.update": (200, 60),
    "price.update": (100, 3600),
    "feeds.inventory": (10, 3600),
    "feeds.MP_INVENTORY": (10, 3600),
    "feeds.price": (10, 3600),
}


# ----------------------------------------------------------------------------------------------------
# JSON with exact money (the project's encoder: Decimals in and out, written as JSON numbers)
# ----------------------------------------------------------------------------------------------------

dumps = jsonmoney.dumps
loads = jsonmoney.loads


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(obj).encode("utf-8"), status_code=status, media_type="application/json", headers=headers)


# ----------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error the emulated API answers with, in Walmart's shape."""

    def __init__(
        self,
        status: int,
        code: str,
        field: str,
        description: str,
        info: str,
        *,
        severity: str = "ERROR",
        category: str = "DATA",
        headers: dict[str, str] | None = None,
    ):
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.body = {
            "error": [
                {
                    "code": code,
                    "field": field,
                    "description": description,
                    "info": info,
                    "severity": severity,
                    "category": category,
                    "causes": [],
                    "errorIdentifiers": {},
                }
            ]
        }
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


_UNAUTHORIZED_INFO = (
    'Unauthorized token or incorrect authorization header. Please verify correct format: "Authorization: Basic '
    'Base64Encode(clientId:clientSecret)" For more information, see '
    "https://developer.walmart.com/#/apicenter/marketPlace/latest#apiAuthentication."
)
_HEADER_INFO = "One or more request headers are invalid."


def _unauthorized() -> ApiError:
    # Observed live: 401 {"error":[{"code":"UNAUTHORIZED.GMP_GATEWAY_API","field":"UNAUTHORIZED",...}]}
    return ApiError(401, "UNAUTHORIZED.GMP_GATEWAY_API", "UNAUTHORIZED", "Unauthorized", _UNAUTHORIZED_INFO)


def _bad_header(name: str) -> ApiError:
    # Observed: 400 INVALID_REQUEST_HEADER.GMP_GATEWAY_API, field = header, "<header> set blank or null".
    return ApiError(400, "INVALID_REQUEST_HEADER.GMP_GATEWAY_API", name, f"{name} set blank or null", _HEADER_INFO)


def _bad_param(api: str, name: str, description: str) -> ApiError:
    return ApiError(400, f"INVALID_REQUEST_PARAM.{api}", name, description, "Request has invalid query parameters.")


def _bad_content(api: str, description: str, field_name: str = "data") -> ApiError:
    return ApiError(400, f"INVALID_REQUEST_CONTENT.{api}", field_name, description, "Request content is invalid.")


def _not_found(api: str, description: str, field_name: str = "data") -> ApiError:
    return ApiError(
        404, f"CONTENT_NOT_FOUND.{api}", field_name, description, "Requested content could not be found.",
        severity="INFO", category="APPLICATION",
    )


def _missing_param(api: str, name: str, type_name: str = "String") -> ApiError:
    # CHOICE: wording of Spring's missing-parameter message (the "required parameter is not present" errors
    # a live client reported for reconFileJson), in Walmart's error shape.
    return _bad_param(api, name, f"Required request parameter '{name}' for method parameter type {type_name} is not present")


ORDER_API = "GMP_ORDER_API"
RETURNS_API = "GMP_RETURNS_API"
REPORT_API = "GMP_REPORT_API"
INVENTORY_API = "GMP_INVENTORY_API"
ITEM_API = "GMP_ITEM_QUERY_API"
FEED_API = "GMP_FEED_API"
PRICE_API = "GMP_PRICE_API"
NOTIFICATION_API = "GMP_NOTIFICATION_API"
GATEWAY_API = "GMP_GATEWAY_API"


# ----------------------------------------------------------------------------------------------------
# Time
# ----------------------------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$")


def _parse_time(value: str, *, allow_millis: bool, allow_offset: bool) -> int | None:
    """Epoch milliseconds of an API date ('2020-03-16' or '2020-03-16T10:30:15Z'), None if not accepted."""
    value = value.strip()
    m = _DATE_ONLY.match(value)
    try:
        if m:
            d = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc)
            return int(d.timestamp() * 1000)
        m = _DATE_TIME.match(value)
        if not m:
            return None
        millis, zone = m[7], m[8]
        if millis and not allow_millis:
            return None
        if zone != "Z" and not allow_offset:
            return None
        d = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=timezone.utc)
        ms = int(d.timestamp() * 1000) + (int((millis[1:] + "00")[:3]) if millis else 0)
        if zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            ms -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
        return ms
    except ValueError:
        return None


def _iso_ms(ms: int) -> str:
    """2020-07-29T13:47:18.442Z"""
    d = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _iso_to_ms(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    return _parse_time(value, allow_millis=True, allow_offset=True)


def _dt_to_ms(value: Any) -> int | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp() * 1000)
    if isinstance(value, (int, Decimal)):
        return int(value)
    return None


def _mmddyyyy(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%m%d%Y").date()
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------------


def _int_param(api: str, params: dict[str, str], name: str, default: int | None, *, low: int | None = None,
               high: int | None = None, high_message: str | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad_param(api, name, f"Invalid value '{raw}' for {name}") from None
    if low is not None and value < low:
        raise _bad_param(api, name, f"{name} must be at least {low}")
    if high is not None and value > high:
        raise _bad_param(api, name, high_message or f"{name} cannot be larger than {high}")
    return value


def _bool_param(params: dict[str, str], name: str) -> bool:
    return str(params.get(name, "false")).strip().lower() == "true"


def _query(request: Request) -> dict[str, str]:
    # Last value wins, as most Java frameworks bind a repeated scalar parameter.
    return {k: v for k, v in parse_qsl(request.url.query, keep_blank_values=True)}


def _cursor(params: Iterable[tuple[str, Any]]) -> str:
    # The official examples keep ':' readable in cursor values (createdEndDate=2019-09-17T18:47:03.703Z).
    return "?" + urlencode([(k, str(v)) for k, v in params if v is not None and v != ""], safe=":")


def _order_lines(order: dict) -> list[dict]:
    lines = (order.get("orderLines") or {}).get("orderLine") or []
    return lines if isinstance(lines, list) else [lines]


def _line_statuses(line: dict) -> list[dict]:
    statuses = (line.get("orderLineStatuses") or {}).get("orderLineStatus") or []
    return statuses if isinstance(statuses, list) else [statuses]


def _ship_node_type(order: dict) -> str:
    node = order.get("shipNode")
    if isinstance(node, dict) and node.get("type"):
        return node["type"]
    return "SellerFulfilled"


def _qty(value: Any) -> int:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return 0


# ----------------------------------------------------------------------------------------------------
# Feeds and webhooks records
# ----------------------------------------------------------------------------------------------------


@dataclass
class FeedRecord:
    feed_id: str
    feed_type: str
    submitted_ms: int
    submitted_at: float  # clock seconds
    file_name: str
    items: list[dict] = field(default_factory=list)  # {"sku", "index", "ok", "errors", "apply"}
    error: dict | None = None  # whole-file ingestion error (feedStatus ERROR)
    polls: int = 0
    applied: bool = False
    status: str = "RECEIVED"


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


# ----------------------------------------------------------------------------------------------------
# State
# ----------------------------------------------------------------------------------------------------


class WalmartState:
    """Everything the emulator holds, thread-safe; app.state.walmart. Also the test/demo control surface."""

    def __init__(self, options, seller):
        self.options = options
        self.clock = options.clock
        self.seller = seller
        self.lock = threading.RLock()
        creds = options.credentials
        self.client_id = creds.walmart_client_id
        self.client_secret = creds.walmart_client_secret

        # Tokens: access_token -> (issued_at, expires_at) in clock seconds.
        self.tokens: dict[str, tuple[float, float]] = {}
        self.tokens_issued = 0

        # Orders, newest first (the official list examples are in descending orderDate). Copy on write:
        # the seller's objects are never mutated; an order is copied the first time the API changes it.
        self._orders: dict[str, dict] = {}
        self._own: set[str] = set()  # orders that are our copies
        self._last_modified: dict[str, int] = {}
        for order in seller.orders:
            self._add_order_locked(order)
        self._order_index: list[str] = []
        self._reindex_orders()

        # Returns.
        self._returns: dict[str, dict] = {}
        self._return_created: dict[str, int] = {}
        self._return_modified: dict[str, int] = {}
        for ret in seller.returns:
            self._add_return_locked(ret)  # never mutated

        # Reconciliation reports.
        self._settlements = {s.report_date: s for s in seller.settlements}
        self._recon_cache: dict[str, tuple[bytes, list[dict], list[int], int]] = {}
        self.recon_requests: list[dict] = []  # {"reportDate", "kind": "file"|"json", "offset", "at"}

        # Inventory and prices. The seller's inventory is what is available to sell per ship node and its
        # inventory_reserved what open orders hold; the seller last told Walmart the sum (inputQty).
        # WFS nodes are Walmart's: the /v3/inventory(ies) APIs cover seller-fulfilled stock only (observed)
        # and WFS stock is read from /v3/fulfillment/inventory.
        details = getattr(seller, "ship_node_details", None) or {}
        self.ship_nodes: list[str] = [str(n) for n in seller.ship_nodes]
        self.node_types: dict[str, str] = {
            n: (details.get(n) or {}).get("type", "SellerFulfilled") for n in self.ship_nodes
        }
        self.sku_specs = {spec.sku: spec for spec in seller.skus}
        seller_reserved = getattr(seller, "inventory_reserved", None)
        self._reserved: dict[tuple[str, str], int] = (
            {(sku, str(n)): int(q) for sku, nodes in seller_reserved.items() for n, q in nodes.items()}
            if seller_reserved is not None else self._reserved_from_orders()
        )
        self._inventory: dict[str, dict[str, int]] = {
            sku: {str(node): int(qty) + self._reserved.get((sku, str(node)), 0) for node, qty in nodes.items()}
            for sku, nodes in seller.inventory.items()
        }
        for sku in self.sku_specs:
            self._inventory.setdefault(sku, {})
        for nodes in self._inventory.values():
            for node in nodes:
                if node not in self.ship_nodes:
                    self.ship_nodes.append(node)
                    self.node_types[node] = "SellerFulfilled"
        if not self.seller_nodes():
            self.ship_nodes.append("10000000001")
            self.node_types["10000000001"] = "SellerFulfilled"
        as_of = _dt_to_ms(getattr(seller, "as_of", None)) or self.now_ms()
        self._inventory_modified: dict[tuple[str, str], int] = {
            (sku, node): as_of for sku, nodes in self._inventory.items() for node in nodes
        }
        self.prices: dict[str, Decimal] = {
            spec.sku: (Decimal(spec.price_cents) / 100).quantize(Decimal("0.01")) for spec in seller.skus
        }

        # Feeds.
        self.feeds: dict[str, FeedRecord] = {}
        self.feed_polls_to_process = 2  # poll 1 -> RECEIVED, 2 -> INPROGRESS, 3 -> PROCESSED
        self.feed_inprogress_after_s = 30.0
        self.feed_processed_after_s = 120.0

        # Webhooks.
        self.subscriptions: dict[str, dict] = {}
        self.deliveries: list[Delivery] = []
        self.events: list[dict] = []
        # CHOICE: the docs say BASIC_AUTH sends "the Base64-encoded userName:password as the value" of
        # authHeaderName, and spell out "Bearer <token>" for OAUTH only; so no "Basic " prefix by default.
        self.basic_auth_prefix = ""
        self.webhook_max_attempts = 3  # supplier docs: "retry ... two more times (equaling three times total)"
        self.webhook_retry_delay_s = 0.2  # CHOICE: marketplace retry intervals not found; short for tests
        self._oauth_tokens: dict[str, tuple[str, float]] = {}
        self._queue: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._pending = 0
        self._idle = threading.Condition(self.lock)

        # Throttling.
        self.rate_limits_enabled = True
        self._limiters: dict[str, FixedWindowLimiter] = {
            key: FixedWindowLimiter(limit, window, self.clock) for key, (limit, window) in DEFAULT_RATE_LIMITS.items()
        }

    # -- time ----------------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock.now(), tz=timezone.utc).date()

    # -- tokens ---------------------------------------------------------------------------------------

    def issue_token(self) -> str:
        token = "eyJraWQiOiJzYW5kYm94IiwiZW5jIjoiQTI1NkdDTSIsImFsZyI6ImRpciJ9.." + secrets.token_urlsafe(48)
        now = self.now()
        with self.lock:
            self.tokens[token] = (now, now + TOKEN_TTL_S)
            self.tokens_issued += 1
        return token

    def token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self.lock:
            entry = self.tokens.get(token)
        return entry is not None and self.now() < entry[1]

    # -- throttling -----------------------------------------------------------------------------------

    def set_rate_limit(self, key: str, limit: int, window_s: int) -> None:
        with self.lock:
            self._limiters[key] = FixedWindowLimiter(limit, window_s, self.clock)

    def throttle(self, key: str) -> dict[str, str]:
        """Count one call against `key`; raise 429 when over. Returns the usage headers (DOC-RATE)."""
        with self.lock:
            limiter = self._limiters.get(key)
        if limiter is None or not self.rate_limits_enabled:
            return {}
        result = limiter.hit(key)
        headers = {
            "X-Current-Token-Count": str(result.remaining),
            "X-Next-Replenishment-Time": str(limiter.reset_epoch() * 1000),
        }
        if not result.allowed:
            raise ApiError(
                429, f"REQUEST_THRESHOLD_VIOLATED.{GATEWAY_API}", "REQUEST_THRESHOLD_VIOLATED",
                "Request threshold violated", "Too many requests; retry after the window replenishes.",
                headers=headers,
            )
        return headers

    # -- orders ---------------------------------------------------------------------------------------

    def _add_order_locked(self, order: dict) -> None:
        po = str(order["purchaseOrderId"])
        self._orders[po] = order
        modified = None
        getter = getattr(self.seller, "order_last_modified", None)
        if getter is not None:
            try:
                modified = _dt_to_ms(getter(po))
            except Exception:  # an injected order the seller does not know
                modified = None
        if modified is None:
            stamps = [int(order.get("orderDate") or 0)]
            stamps += [int(line.get("statusDate") or 0) for line in _order_lines(order)]
            modified = max(stamps)
        self._last_modified[po] = modified

    def _reindex_orders(self) -> None:
        self._order_index = sorted(
            self._orders, key=lambda po: (int(self._orders[po].get("orderDate") or 0), po), reverse=True
        )

    def add_order(self, order: dict, *, notify: bool = False) -> str:
        """Inject a new order (demo: a PO arrives); with notify, fire PO_CREATED and ORDER_UPDATES."""
        with self.lock:
            self._add_order_locked(copy.deepcopy(order))
            self._own.add(str(order["purchaseOrderId"]))
            self._reindex_orders()
        po = str(order["purchaseOrderId"])
        if notify:
            self.order_created(po)
        return po

    def order(self, purchase_order_id: str) -> dict | None:
        with self.lock:
            order = self._orders.get(str(purchase_order_id))
            return copy.deepcopy(order) if order is not None else None

    def order_visible(self, order: dict, now_ms: int) -> bool:
        # An order dated after the sandbox clock has not happened yet.
        return int(order.get("orderDate") or 0) <= now_ms

    def last_modified(self, purchase_order_id: str) -> int:
        with self.lock:
            return self._last_modified[str(purchase_order_id)]

    def acknowledge(self, purchase_order_id: str) -> dict:
        now_ms = self.now_ms()
        with self.lock:
            order = self._orders.get(str(purchase_order_id))
            if order is None or not self.order_visible(order, now_ms):
                raise _not_found(ORDER_API, f"Failed when called acknowledge API for {purchase_order_id}. PO not found")
            for line in _order_lines(order):
                for st in _line_statuses(line):
                    if st.get("status") in ("Shipped", "Delivered", "Refund"):
                        # Observed wording of the live error for this case.
                        raise _bad_content(
                            ORDER_API,
                            f"INVALID_REQUEST_CONTENT :: Failed when called acknowledge API for '{purchase_order_id}'."
                            "  Some or all qty in higher status",
                        )
            if not any(st.get("status") == "Created" for line in _order_lines(order) for st in _line_statuses(line)):
                return order
            if str(purchase_order_id) not in self._own:
                order = copy.deepcopy(order)
                self._orders[str(purchase_order_id)] = order
                self._own.add(str(purchase_order_id))
            changed = False
            for line in _order_lines(order):
                line_changed = False
                for st in _line_statuses(line):
                    if st.get("status") == "Created":
                        st["status"] = "Acknowledged"
                        line_changed = True
                if line_changed:
                    line["statusDate"] = now_ms
                    changed = True
            if changed:
                self._last_modified[str(purchase_order_id)] = now_ms
            return order

    # -- returns --------------------------------------------------------------------------------------

    def _add_return_locked(self, ret: dict) -> None:
        rid = str(ret["returnOrderId"])
        self._returns[rid] = ret
        created = _iso_to_ms(ret.get("returnOrderDate")) or 0
        stamps = [created]
        for line in ret.get("returnOrderLines") or []:
            stamps.append(_iso_to_ms(line.get("statusTime")) or 0)
            for st in line.get("currentTrackingStatuses") or []:
                stamps.append(_iso_to_ms(st.get("statusTime")) or 0)
            for ev in line.get("returnTrackingDetail") or []:
                stamps.append(_iso_to_ms(ev.get("eventTime")) or 0)
        getter = getattr(self.seller, "return_last_modified", None)
        modified = None
        if getter is not None:
            try:
                modified = _dt_to_ms(getter(rid))
            except Exception:  # an injected return the seller does not know
                modified = None
        self._return_created[rid] = created
        self._return_modified[rid] = modified if modified is not None else max(stamps)

    def add_return(self, ret: dict, *, notify: bool = False) -> str:
        with self.lock:
            self._add_return_locked(copy.deepcopy(ret))
        rid = str(ret["returnOrderId"])
        if notify:
            self.emit("RETURN_CREATED", rid)
        return rid

    # -- reconciliation -------------------------------------------------------------------------------

    def available_report_dates(self) -> list[str]:
        today = self.today()
        dates = []
        for report_date in self._settlements:
            d = _mmddyyyy(report_date)
            if d is not None and d <= today:  # a report exists once its date has come
                dates.append((d, report_date))
        return [rd for _, rd in sorted(dates)]

    def settlement(self, report_date: str):
        if report_date not in self.available_report_dates():
            return None
        return self._settlements.get(report_date)

    def _recon_rendered(self, report_date: str) -> tuple[bytes, list[dict], list[int], int]:
        """(csv bytes, rows, byte offset of each row after the header, total data bytes)."""
        with self.lock:
            cached = self._recon_cache.get(report_date)
            if cached is not None:
                return cached
            settlement = self._settlements[report_date]
            columns = list(V1_COLUMNS)
            for row in settlement.rows:
                for key in row:
                    if key not in columns:
                        columns.append(key)  # newer files add columns at the end; parse by name
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(columns)
            header = buf.getvalue().encode("utf-8")
            offsets, chunks, position = [], [], 0
            for row in settlement.rows:
                line_buf = io.StringIO()
                csv.writer(line_buf).writerow([("" if row.get(c) is None else str(row.get(c))) for c in columns])
                chunk = line_buf.getvalue().encode("utf-8")
                offsets.append(position)
                chunks.append(chunk)
                position += len(chunk)
            rendered = (header + b"".join(chunks), list(settlement.rows), offsets, position)
            self._recon_cache[report_date] = rendered
            return rendered

    def _record_recon(self, report_date: str, kind: str, offset: int | None = None) -> None:
        with self.lock:
            self.recon_requests.append({"reportDate": report_date, "kind": kind, "offset": offset, "at": self.now()})

    def recon_download_count(self, report_date: str | None = None, kind: str = "file") -> int:
        """Downloads of a report: kind 'file' (zip), 'json' (reconFileJson passes, counted at offset 0), 'any'."""
        with self.lock:
            count = 0
            for r in self.recon_requests:
                if report_date is not None and r["reportDate"] != report_date:
                    continue
                if kind in ("file", "any") and r["kind"] == "file":
                    count += 1
                elif kind in ("json", "any") and r["kind"] == "json" and r["offset"] == 0:
                    count += 1
            return count

    # -- inventory ------------------------------------------------------------------------------------

    def known_sku(self, sku: str) -> bool:
        with self.lock:
            return sku in self._inventory

    def inventory(self, sku: str) -> dict[str, int]:
        self.advance_feeds()
        with self.lock:
            return dict(self._inventory.get(sku, {}))

    def seller_nodes(self) -> list[str]:
        return [n for n in self.ship_nodes if self.node_types.get(n) != "WFSFulfilled"]

    def wfs_nodes(self) -> list[str]:
        return [n for n in self.ship_nodes if self.node_types.get(n) == "WFSFulfilled"]

    def reserved(self) -> dict[tuple[str, str], int]:
        """Units held by open orders, by (sku, ship node)."""
        with self.lock:
            return dict(self._reserved)

    def _reserved_from_orders(self) -> dict[tuple[str, str], int]:
        """Fallback for a seller without inventory_reserved: open (Created/Acknowledged) order lines."""
        out: dict[tuple[str, str], int] = {}
        default = self.ship_nodes[0] if self.ship_nodes else ""
        with self.lock:
            for order in self._orders.values():
                node = order.get("shipNode") if isinstance(order.get("shipNode"), dict) else {}
                node_id = str(node.get("id")) if node.get("id") is not None else default
                for line in _order_lines(order):
                    sku = (line.get("item") or {}).get("sku")
                    for st in _line_statuses(line):
                        if st.get("status") in ("Created", "Acknowledged"):
                            key = (sku, node_id)
                            out[key] = out.get(key, 0) + _qty((st.get("statusQuantity") or {}).get("amount"))
        return out

    def node_view(self, sku: str, node: str, qty: int, reserved: dict[tuple[str, str], int]) -> dict:
        res = min(reserved.get((sku, node), 0), max(qty, 0))
        return {
            "shipNode": node,
            "inputQty": {"unit": "EACH", "amount": qty},
            "availToSellQty": {"unit": "EACH", "amount": max(qty - res, 0)},
            "reservedQty": {"unit": "EACH", "amount": res},
        }

    def set_inventory(self, updates: list[tuple[str, str, int]]) -> None:
        """Apply (sku, node, inputQty) updates; fire INVENTORY_OOS for SKUs that newly run out at a node."""
        reserved = self.reserved()
        went_out: list[str] = []
        now_ms = self.now_ms()
        with self.lock:
            for sku, node, qty in updates:
                nodes = self._inventory.setdefault(sku, {})
                before = nodes.get(node, 0) - reserved.get((sku, node), 0)
                nodes[node] = qty
                self._inventory_modified[(sku, node)] = now_ms
                after = qty - reserved.get((sku, node), 0)
                if node not in self.ship_nodes:
                    self.ship_nodes.append(node)
                if before > 0 and after <= 0 and sku not in went_out:
                    went_out.append(sku)
        for sku in went_out:
            self.emit("INVENTORY_OOS", sku)

    # -- feeds ----------------------------------------------------------------------------------------

    def advance_feeds(self) -> None:
        """Move feeds on by clock time (poll counts move them in feed_status); apply effects once PROCESSED."""
        with self.lock:
            feeds = [f for f in self.feeds.values() if f.status in ("RECEIVED", "INPROGRESS")]
        for feed in feeds:
            self._advance_feed(feed, poll=False)

    def _advance_feed(self, feed: FeedRecord, *, poll: bool) -> None:
        apply_now: list[Callable[[], None]] = []
        with self.lock:
            if feed.error is not None:
                feed.status = "ERROR"
                return
            if poll:
                feed.polls += 1
            age = self.now() - feed.submitted_at
            stage = 0
            if age >= self.feed_inprogress_after_s or feed.polls >= 2:
                stage = 1
            if age >= self.feed_processed_after_s or feed.polls >= self.feed_polls_to_process + 1:
                stage = 2
            stages = ("RECEIVED", "INPROGRESS", "PROCESSED")
            feed.status = stages[max(stage, stages.index(feed.status))]
            if feed.status == "PROCESSED" and not feed.applied:
                feed.applied = True
                apply_now = [item["apply"] for item in feed.items if item["ok"] and item.get("apply")]
        for fn in apply_now:
            fn()

    # -- webhooks -------------------------------------------------------------------------------------

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
            # CHOICE: "HMACSHA256 of complete response, using clientSecret as key"; encoding not given: base64.
            digest = hmac.new(str(auth.get("clientSecret", "")).encode(), body, hashlib.sha256).digest()
            return {name: base64.b64encode(digest).decode()}
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


def render_order(order: dict, *, product_info: bool, replacement_info: bool) -> dict:
    """An order as the API returns it; copies only what it changes."""
    out = dict(order)
    if not replacement_info:
        out.pop("orderType", None)
        out.pop("originalCustomerOrderID", None)
    lines = _order_lines(order)
    if not product_info and any(("imageUrl" in (l.get("item") or {}) or "weight" in (l.get("item") or {})) for l in lines):
        new_lines = []
        for line in lines:
            line = dict(line)
            item = dict(line.get("item") or {})
            item.pop("imageUrl", None)
            item.pop("weight", None)
            line["item"] = item
            new_lines.append(line)
        out["orderLines"] = {"orderLine": new_lines}
    return out


def render_return(ret: dict, *, replacement_info: bool) -> dict:
    if replacement_info:
        return ret
    out = dict(ret)
    out.pop("replacementCustomerOrderId", None)
    out.pop("returnType", None)
    lines = []
    for line in ret.get("returnOrderLines") or []:
        line = dict(line)
        line.pop("rechargeReason", None)
        line.pop("returnCancellationReason", None)
        lines.append(line)
    out["returnOrderLines"] = lines
    return out


def _json_row(row: dict[str, str], columns: Iterable[str]) -> dict[str, str]:
    """A reconFileJson row as in the official example: empty fields left out, all values strings."""
    out = {}
    summary = row.get("Transaction Type") == "PaymentSummary"
    for col in columns:
        value = row.get(col)
        value = "" if value is None else str(value)
        if value:
            out[col] = value
        elif col == "Period Start Date" and not summary:
            # The official example shows detail rows with "Period Start Date": "\"\"" (two quote characters).
            out[col] = '""'
    return out


# ----------------------------------------------------------------------------------------------------
# The API
# ----------------------------------------------------------------------------------------------------


class WalmartApi:
    def __init__(self, state: WalmartState):
        self.state = state

    # -- plumbing -------------------------------------------------------------------------------------

    def endpoint(self, handler, *, auth: bool = True, limit: str | Callable[[Request], str | None] | None = None):
        state = self.state

        async def wrapped(request: Request) -> Response:
            try:
                if not request.headers.get("WM_QOS.CORRELATION_ID", "").strip():
                    raise _bad_header("WM_QOS.CORRELATION_ID")
                if not request.headers.get("WM_SVC.NAME", "").strip():
                    raise _bad_header("WM_SVC.NAME")
                if auth and not state.token_valid(request.headers.get("WM_SEC.ACCESS_TOKEN", "").strip()):
                    raise _unauthorized()
                usage: dict[str, str] = {}
                key = limit(request) if callable(limit) else limit
                if key:
                    usage = state.throttle(key)
                response = await handler(request)
                for name, value in usage.items():
                    response.headers[name] = value
                return response
            except ApiError as exc:
                return exc.response()

        return wrapped

    async def _json_body(self, request: Request, api: str) -> Any:
        raw = await request.body()
        if not raw.strip():
            raise _bad_content(api, "Request body is missing")
        try:
            return loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _bad_content(api, "Request body is not valid JSON") from None

    # -- auth -----------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        state = self.state
        header = request.headers.get("Authorization", "")
        creds = None
        if header[:6].lower() == "basic ":
            try:
                creds = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                creds = None
        if creds is None or creds != f"{state.client_id}:{state.client_secret}":
            # Observed: wrong or unknown client credentials answer 400 INVALID_REQUEST_HEADER ... Authorization.
            raise ApiError(400, f"INVALID_REQUEST_HEADER.{GATEWAY_API}", "Authorization",
                           "Incorrect Authorization header", _HEADER_INFO)
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise ApiError(415, f"UNSUPPORTED_MEDIA_TYPE.{GATEWAY_API}", "Content-Type",
                           "Content-Type must be application/x-www-form-urlencoded", "Unsupported media type.")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            # CHOICE: the sandbox seller has no solution-provider app, so only client_credentials is granted.
            raise ApiError(400, f"INVALID_REQUEST.{GATEWAY_API}", "grant_type",
                           f"Unsupported grant_type '{grant}'", "Request invalid.")
        token = state.issue_token()
        accept = request.headers.get("Accept", "").lower()
        if "application/json" in accept:
            return json_response({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_S})
        # CHOICE: JSON only when asked for (DOC-TOKEN: send Accept: application/json to get JSON); a missing,
        # */* or XML Accept gets the spec's application/xml OAuthTokenDTO.
        xml = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f"<OAuthTokenDTO><accessToken>{token}</accessToken><tokenType>Bearer</tokenType>"
            f"<expiresIn>{TOKEN_TTL_S}</expiresIn></OAuthTokenDTO>"
        )
        return Response(xml.encode(), media_type="application/xml")

    async def token_detail(self, request: Request) -> Response:
        token = request.headers.get("WM_SEC.ACCESS_TOKEN", "").strip()
        with self.state.lock:
            issued, expires = self.state.tokens[token]
        areas = ("reports", "item", "price", "lagtime", "feeds", "returns", "orders", "inventory", "content")
        scopes = {area: "full_access" for area in areas}
        return json_response({
            "expire_at": str(int(expires * 1000)), "issued_at": str(int(issued * 1000)),
            "is_valid": True, "is_channel_match": True, "scopes": scopes,
        })

    # -- orders ---------------------------------------------------------------------------------------

    def _orders_query(self, params: dict[str, str], *, released: bool) -> tuple[list[dict], int, int, int, list]:
        state = self.state
        now_ms = state.now_ms()
        from_cursor = "hasMoreElements" in params or "poIndex" in params
        limit = _int_param(ORDER_API, params, "limit", ORDERS_DEFAULT_LIMIT, low=1, high=ORDERS_MAX_LIMIT,
                           high_message=f"limit cannot be larger than {ORDERS_MAX_LIMIT}")
        offset = _int_param(ORDER_API, params, "poIndex", 0, low=0)

        def when(name: str, default_ms: int | None) -> tuple[int | None, str | None]:
            raw = params.get(name)
            if raw is None or raw == "":
                return default_ms, None
            # CHOICE (strict): the documented formats 2020-03-16 and 2020-03-16T10:30:15Z; a live client saw
            # milliseconds rejected ("Invalid Date format value"). Cursors Walmart wrote carry milliseconds.
            ms = _parse_time(raw, allow_millis=from_cursor, allow_offset=False)
            if ms is None:
                raise ApiError(400, f"INVALID_REQUEST.{ORDER_API}", name, "Invalid Date format value", "Request invalid.")
            return ms, raw

        created_start, created_start_raw = when("createdStartDate", now_ms - 7 * 86_400_000)
        created_end, created_end_raw = when("createdEndDate", now_ms)
        # Defaults are frozen into the cursor with milliseconds, as createdEndDate is in the official example,
        # so every page answers the same window. A date-only value means 00:00:00Z of that day; both ends
        # are inclusive.
        if created_start_raw is None:
            created_start_raw = _iso_ms(created_start)
        if created_end_raw is None:
            created_end_raw = _iso_ms(created_end)
        # CHOICE (strict): "Only orders created in last 180 days ... can be fetched" - an older
        # createdStartDate is refused rather than silently clamped; clamp on the client side.
        if created_start < now_ms - ORDERS_LOOKBACK_DAYS * 86_400_000:
            raise _bad_param(
                ORDER_API, "createdStartDate",
                f"createdStartDate cannot be older than {ORDERS_LOOKBACK_DAYS} days. "
                f"Only orders created in last {ORDERS_LOOKBACK_DAYS} days can be fetched",
            )
        if created_end < created_start:
            raise _bad_param(ORDER_API, "createdEndDate", "createdEndDate cannot be before createdStartDate")
        mod_start = mod_end = None
        if not released:
            mod_start, _ = when("lastModifiedStartDate", None)
            mod_end, _ = when("lastModifiedEndDate", None)
        ship_from, _ = when("fromExpectedShipDate", None)
        ship_to, _ = when("toExpectedShipDate", None)
        status = None if released else (params.get("status") or None)
        if status is not None and status not in ORDER_LINE_STATUSES:
            valid = ", ".join(ORDER_LINE_STATUSES)
            raise _bad_param(ORDER_API, "status", f"Invalid status '{status}'. Valid statuses are: {valid}")
        node_type = params.get("shipNodeType") or "SellerFulfilled"
        if node_type not in SHIP_NODE_TYPES:
            raise _bad_param(ORDER_API, "shipNodeType", f"Invalid shipNodeType '{node_type}'")
        order_type = params.get("orderType") or None
        if order_type is not None and order_type not in ("REGULAR", "REPLACEMENT"):
            raise _bad_param(ORDER_API, "orderType", f"Invalid orderType '{order_type}'")
        sku = params.get("sku") or None
        customer_order_id = params.get("customerOrderId") or None
        po_filter = params.get("purchaseOrderId") or None
        program = params.get("shippingProgramType") or None

        matches: list[dict] = []
        with state.lock:
            for po in state._order_index:
                order = state._orders[po]
                order_date = int(order.get("orderDate") or 0)
                if order_date > now_ms or order_date < created_start or order_date > created_end:
                    continue
                if po_filter and po != po_filter:
                    continue
                if customer_order_id and str(order.get("customerOrderId")) != customer_order_id:
                    continue
                if _ship_node_type(order) != node_type:
                    continue
                if order_type and (order.get("orderType") or "REGULAR") != order_type:
                    continue
                modified = state._last_modified[po]
                if mod_start is not None and modified < mod_start:
                    continue
                if mod_end is not None and modified > mod_end:
                    continue
                est_ship = int((order.get("shippingInfo") or {}).get("estimatedShipDate") or 0)
                if ship_from is not None and est_ship < ship_from:
                    continue
                if ship_to is not None and est_ship > ship_to:
                    continue
                lines = _order_lines(order)
                if sku and not any((l.get("item") or {}).get("sku") == sku for l in lines):
                    continue
                if program and not any((l.get("fulfillment") or {}).get("shippingProgramType") == program for l in lines):
                    continue
                wanted = "Created" if released else status
                if wanted and not any(st.get("status") == wanted for l in lines for st in _line_statuses(l)):
                    continue
                matches.append(order)
        total = len(matches)
        if total > ORDERS_MAX_FETCH:
            raise _bad_param(ORDER_API, "createdStartDate",
                             f"A maximum of {ORDERS_MAX_FETCH} orders can be fetched at a time; narrow the date range")
        cursor_filters = [
            ("sku", sku), ("customerOrderId", customer_order_id), ("purchaseOrderId", po_filter),
            ("status", "Created" if released else status),
            ("createdStartDate", created_start_raw), ("createdEndDate", created_end_raw),
            ("lastModifiedStartDate", None if released else params.get("lastModifiedStartDate")),
            ("lastModifiedEndDate", None if released else params.get("lastModifiedEndDate")),
            ("fromExpectedShipDate", params.get("fromExpectedShipDate")),
            ("toExpectedShipDate", params.get("toExpectedShipDate")),
            ("productInfo", params.get("productInfo")), ("shipNodeType", params.get("shipNodeType")),
            ("shippingProgramType", program), ("replacementInfo", params.get("replacementInfo")), ("orderType", order_type),
        ]
        return matches, total, limit, offset, cursor_filters

    async def list_orders(self, request: Request, *, released: bool = False) -> Response:
        params = _query(request)
        matches, total, limit, offset, filters = self._orders_query(params, released=released)
        if total == 0:
            # Third-party observation (PYWM, whitebox): no match answers 404 CONTENT_NOT_FOUND, severity INFO.
            raise _not_found(ORDER_API, "Failed when called getAllOrders. Orders not found for given search parameters")
        page = matches[offset:offset + limit]
        product_info = _bool_param(params, "productInfo")
        replacement_info = _bool_param(params, "replacementInfo")
        meta: dict[str, Any] = {"totalCount": total, "limit": limit}
        if offset + limit < total:
            meta["nextCursor"] = _cursor([
                ("limit", limit), ("hasMoreElements", "true"), ("soIndex", total), ("poIndex", offset + limit),
                ("partnerId", PARTNER_ID), ("sellerId", SELLER_ID), *filters,
            ])
        with self.state.lock:
            elements = [render_order(o, product_info=product_info, replacement_info=replacement_info) for o in page]
            body = dumps({"list": {"meta": meta, "elements": {"order": elements}}})
        return Response(body.encode("utf-8"), media_type="application/json")

    async def released_orders(self, request: Request) -> Response:
        return await self.list_orders(request, released=True)

    async def get_order(self, request: Request) -> Response:
        po = request.path_params["purchaseOrderId"]
        params = _query(request)
        state = self.state
        with state.lock:
            order = state._orders.get(po)
            if order is None or not state.order_visible(order, state.now_ms()):
                raise _not_found(ORDER_API, f"Failed when called getOrder. Order not found for purchaseOrderId {po}")
            body = dumps({"order": render_order(order, product_info=_bool_param(params, "productInfo"),
                                                replacement_info=_bool_param(params, "replacementInfo"))})
        return Response(body.encode("utf-8"), media_type="application/json")

    async def acknowledge(self, request: Request) -> Response:
        po = request.path_params["purchaseOrderId"]
        order = self.state.acknowledge(po)
        with self.state.lock:
            body = dumps({"order": render_order(order, product_info=False, replacement_info=False)})
        return Response(body.encode("utf-8"), media_type="application/json")

    # -- returns --------------------------------------------------------------------------------------

    async def list_returns(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        now_ms = state.now_ms()
        limit = _int_param(RETURNS_API, params, "limit", RETURNS_DEFAULT_LIMIT, low=1, high=RETURNS_MAX_LIMIT,
                           high_message=f"limit cannot be larger than {RETURNS_MAX_LIMIT}")
        offset = _int_param(RETURNS_API, params, "offset", 0, low=0)

        def when(name: str) -> int | None:
            raw = params.get(name)
            if raw is None or raw == "":
                return None
            ms = _parse_time(raw, allow_millis=True, allow_offset=True)
            if ms is None:
                raise _bad_param(RETURNS_API, name, f"Invalid date format for {name}: '{raw}'")
            return ms

        c_start, c_end = when("returnCreationStartDate"), when("returnCreationEndDate")
        m_start, m_end = when("returnLastModifiedStartDate"), when("returnLastModifiedEndDate")
        status = params.get("status") or None
        if status is not None and status not in RETURN_STATUSES:
            valid = ", ".join(RETURN_STATUSES)
            raise _bad_param(RETURNS_API, "status", f"Invalid status '{status}'. Valid statuses are: {valid}")
        return_type = params.get("returnType") or None
        if return_type is not None and return_type not in ("REPLACEMENT", "REFUND"):
            raise _bad_param(RETURNS_API, "returnType", f"Invalid returnType '{return_type}'")
        rid, coid = params.get("returnOrderId") or None, params.get("customerOrderId") or None

        with state.lock:
            ordered = sorted(state._returns, key=lambda r: (state._return_created[r], r), reverse=True)
            matches = []
            for r in ordered:
                ret = state._returns[r]
                created, modified = state._return_created[r], state._return_modified[r]
                if created > now_ms:
                    continue
                if rid and r != rid:
                    continue
                if coid and str(ret.get("customerOrderId")) != coid:
                    continue
                if c_start is not None and created < c_start:
                    continue
                if c_end is not None and created > c_end:
                    continue
                if m_start is not None and modified < m_start:
                    continue
                if m_end is not None and modified > m_end:
                    continue
                if return_type and (ret.get("returnType") or "REFUND") != return_type:
                    continue
                if status:
                    lines = ret.get("returnOrderLines") or []
                    found = any(l.get("status") == status for l in lines) or any(
                        st.get("status") == status for l in lines for st in (l.get("currentTrackingStatuses") or []))
                    if not found:
                        continue
                matches.append(ret)
            total = len(matches)
            replacement_info = _bool_param(params, "replacementInfo")
            page = [render_return(r, replacement_info=replacement_info) for r in matches[offset:offset + limit]]
            meta: dict[str, Any] = {"totalCount": total, "limit": limit}
            if offset + limit < total:
                # Official example: "?sellerId=151&limit=10&offset=10"; the filters ride along so the next page
                # answers the same question.
                keep = ("returnOrderId", "customerOrderId", "status", "replacementInfo", "returnType",
                        "returnCreationStartDate", "returnCreationEndDate",
                        "returnLastModifiedStartDate", "returnLastModifiedEndDate")
                meta["nextCursor"] = _cursor([("sellerId", SELLER_ID), ("limit", limit), ("offset", offset + limit),
                                              *[(k, params.get(k)) for k in keep]])
            body = dumps({"meta": meta, "returnOrders": page})
        return Response(body.encode("utf-8"), media_type="application/json")

    # -- reconciliation -------------------------------------------------------------------------------

    def _report_version(self, params: dict[str, str], *, required: bool) -> None:
        version = params.get("reportVersion")
        if version is None or version == "":
            if required:
                # CHOICE: the legacy (v0) report is not emulated; a request without reportVersion is refused.
                raise _missing_param(REPORT_API, "reportVersion")
            return
        if version != "v1":
            # Observed live: any version but v1 answers 404 INVALID_REPORT_VERSION.
            raise ApiError(404, "INVALID_REPORT_VERSION", "reportVersion", f"Invalid report version '{version}'",
                           "Report version is not supported.")

    async def available_recon_files(self, request: Request) -> Response:
        params = _query(request)
        self._report_version(params, required=False)
        return json_response({"availableApReportDates": self.state.available_report_dates()})

    def _settlement(self, params: dict[str, str]):
        report_date = params.get("reportDate")
        if not report_date:
            raise _missing_param(REPORT_API, "reportDate")
        if self.state.settlement(report_date) is None:
            # CHOICE: the real error for an unknown date was not found.
            raise _not_found(REPORT_API, f"Report not found for reportDate {report_date}", "reportDate")
        return report_date

    async def recon_file(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        self._report_version(params, required=True)
        report_date = self._settlement(params)
        content, _, _, _ = state._recon_rendered(report_date)
        generated = datetime.fromtimestamp(state.now(), tz=timezone.utc)
        stamp = generated.strftime("%Y-%m-%dT%H:%M:%S.") + f"{generated.microsecond // 1000:03d}+0000"
        name = f"{PARTNER_ID}_{stamp}"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{name}.csv", content)  # CHOICE: inner file name not documented
        state._record_recon(report_date, "file")
        # reports.json: "Content-Disposition ... filename=10000000354_2016-01-15T23:09:54.438+0000.zip"
        return Response(buf.getvalue(), media_type="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename={name}.zip"})

    async def recon_file_json(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        self._report_version(params, required=False)
        if not params.get("reportDate"):
            raise _missing_param(REPORT_API, "reportDate")
        offset = _int_param(REPORT_API, params, "offset", None, low=0)
        if offset is None:
            raise _missing_param(REPORT_API, "offset", "Long")
        count = _int_param(REPORT_API, params, "noOfRecords", None, low=1, high=RECON_JSON_MAX_RECORDS,
                           high_message=f"noOfRecords cannot be more than {RECON_JSON_MAX_RECORDS}")
        if count is None:
            raise _missing_param(REPORT_API, "noOfRecords", "Integer")
        report_date = self._settlement(params)
        _, rows, offsets, total_bytes = state._recon_rendered(report_date)
        # reports spec: offset is the "starting number of the bytes, initial value for the offset is zero";
        # CHOICE: it counts bytes of the CSV body after its header line, and must be 0 or a value the API
        # returned in nextOffset (-1 once the file is exhausted).
        if offset == total_bytes:
            start = len(rows)
        else:
            try:
                start = offsets.index(offset)
            except ValueError:
                raise _bad_param(REPORT_API, "offset",
                                 f"Invalid offset {offset}: use 0 or a nextOffset returned by the API") from None
        end = min(start + count, len(rows))
        with state.lock:
            columns = list(V1_COLUMNS) + [k for row in rows for k in row if k not in V1_COLUMNS]
            columns = list(dict.fromkeys(columns))
        data = [_json_row(row, columns) for row in rows[start:end]]
        state._record_recon(report_date, "json", offset)
        return json_response({
            "reportData": data,
            "nextOffset": offsets[end] if end < len(rows) else -1,
            "totalRecords": len(data),
            "description": f"Number of Lines in file {len(rows) + 1}",
        })

    # -- inventory ------------------------------------------------------------------------------------

    def _sku_or_404(self, sku: str | None) -> str:
        if not sku:
            raise _missing_param(INVENTORY_API, "sku")
        if not self.state.known_sku(sku):
            raise _not_found(INVENTORY_API, f"Item not found for sku {sku}", "sku")
        return sku

    def _node_or_404(self, node: str | None) -> str:
        state = self.state
        if node is None or node == "":
            return state.seller_nodes()[0]  # CHOICE: without shipNode, the seller's first (default) ship node
        if node in state.wfs_nodes():
            raise _bad_param(INVENTORY_API, "shipNode", f"Ship node {node} is a WFS node; WFS inventory is managed "
                                                        "by Walmart (see /v3/fulfillment/inventory)")
        if node not in state.seller_nodes():
            raise _not_found(INVENTORY_API, f"Ship node {node} not found for this seller", "shipNode")
        return node

    async def get_inventory(self, request: Request) -> Response:
        params = _query(request)
        sku = self._sku_or_404(params.get("sku"))
        node = self._node_or_404(params.get("shipNode"))
        qty = self.state.inventory(sku).get(node, 0)
        return json_response({"sku": sku, "quantity": {"unit": "EACH", "amount": qty}})

    def _parse_quantity(self, api: str, value: Any, where: str) -> int:
        if not isinstance(value, dict):
            raise _bad_content(api, f"{where} is required", where)
        unit, amount = value.get("unit"), value.get("amount")
        if unit != "EACH":
            raise _bad_content(api, f"{where}.unit must be EACH", where)
        if isinstance(amount, bool) or not isinstance(amount, (int, Decimal)) or int(amount) != amount or amount < 0:
            raise _bad_content(api, f"{where}.amount must be a whole number of at least 0", where)
        return int(amount)

    async def put_inventory(self, request: Request) -> Response:
        params = _query(request)
        sku = self._sku_or_404(params.get("sku"))
        node = self._node_or_404(params.get("shipNode"))
        body = await self._json_body(request, INVENTORY_API)
        if not isinstance(body, dict):
            raise _bad_content(INVENTORY_API, "Request body must be an object")
        if str(body.get("sku")) != sku:
            raise _bad_content(INVENTORY_API, "sku in the body does not match the sku query parameter", "sku")
        qty = self._parse_quantity(INVENTORY_API, body.get("quantity"), "quantity")
        self.state.set_inventory([(sku, node, qty)])
        return json_response({"sku": sku, "quantity": {"unit": "EACH", "amount": qty}})

    async def list_inventories(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        limit = _int_param(INVENTORY_API, params, "limit", INVENTORIES_DEFAULT_LIMIT, low=1, high=INVENTORIES_MAX_LIMIT,
                           high_message=f"limit cannot be more than {INVENTORIES_MAX_LIMIT}")
        offset = 0
        cursor = params.get("nextCursor")
        if cursor:
            # Observed: the cursor is opaque and only valid with the same limit ("invalid or expired").
            try:
                c_offset, c_limit = base64.urlsafe_b64decode(cursor.encode() + b"==").decode().split(" ")[:2]
                offset, cursor_limit = int(c_offset), int(c_limit)
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise _bad_param(INVENTORY_API, "nextCursor", "Invalid or expired nextCursor") from None
            if cursor_limit != limit:
                raise _bad_param(INVENTORY_API, "nextCursor", "Invalid or expired nextCursor")
        state.advance_feeds()
        reserved = state.reserved()
        nodes_ok = set(state.seller_nodes())
        with state.lock:
            skus = sorted(sku for sku, nodes in state._inventory.items() if any(n in nodes_ok for n in nodes))
            page = skus[offset:offset + limit]
            elements = [
                {"sku": sku, "nodes": [state.node_view(sku, n, q, reserved)
                                       for n, q in state._inventory[sku].items() if n in nodes_ok]}
                for sku in page
            ]
        meta: dict[str, Any] = {"totalCount": len(skus)}
        if offset + limit < len(skus):
            token = f"{offset + limit} {limit} {uuid.uuid4().hex[:8]}".encode()
            meta["nextCursor"] = base64.urlsafe_b64encode(token).decode().rstrip("=")
        return json_response({"meta": meta, "elements": {"inventories": elements}})

    async def list_items(self, request: Request) -> Response:
        """GET /v3/items: the seller's catalogue, paged with nextCursor (sent as '*' on the first call).

        Observed (FACTS section 5): without nextCursor=* no cursor comes back, and past the end the API
        answers 404 CONTENT_NOT_FOUND rather than an empty page.
        """
        state = self.state
        params = _query(request)
        limit = _int_param(ITEM_API, params, "limit", 20, low=1, high=50, high_message="limit cannot be more than 50")
        cursor = params.get("nextCursor")
        offset = 0
        if cursor and cursor != "*":
            try:
                offset = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise _bad_param(ITEM_API, "nextCursor", "Invalid or expired nextCursor") from None
        skus = sorted(state.seller.skus, key=lambda spec: spec.sku)
        if params.get("sku"):
            skus = [spec for spec in skus if spec.sku == params["sku"]]
        page = skus[offset:offset + limit]
        if not page:
            raise _not_found(ITEM_API, "No items found")
        items = [{
            "mart": "WALMART_US", "sku": spec.sku, "wpid": f"0{hashlib.sha1(spec.sku.encode()).hexdigest()[:11].upper()}",
            "gtin": spec.gtin, "upc": spec.gtin[2:], "productName": spec.name,
            "price": {"currency": "USD", "amount": Decimal(spec.price_cents).scaleb(-2)},
            "publishedStatus": "PUBLISHED", "lifecycleStatus": "ACTIVE",
        } for spec in page]
        body: dict[str, Any] = {"ItemResponse": items, "totalItems": len(skus)}
        if cursor and offset + limit < len(skus):
            body["nextCursor"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode().rstrip("=")
        return json_response(body)

    async def get_inventories_sku(self, request: Request) -> Response:
        state = self.state
        sku = self._sku_or_404(request.path_params["sku"])
        params = _query(request)
        wanted = params.get("shipNode") or None
        if wanted is not None:
            self._node_or_404(wanted)
        inv = state.inventory(sku)
        reserved = state.reserved()
        nodes_ok = set(state.seller_nodes())
        nodes = [state.node_view(sku, n, q, reserved) for n, q in inv.items()
                 if n in nodes_ok and (wanted is None or n == wanted)]
        if wanted is not None and not nodes:
            nodes = [state.node_view(sku, wanted, 0, reserved)]
        return json_response({"sku": sku, "nodes": nodes})

    async def put_inventories_sku(self, request: Request) -> Response:
        state = self.state
        sku = self._sku_or_404(request.path_params["sku"])
        body = await self._json_body(request, INVENTORY_API)
        nodes = ((body or {}).get("inventories") or {}).get("nodes") if isinstance(body, dict) else None
        if not isinstance(nodes, list) or not nodes:
            raise _bad_content(INVENTORY_API, "inventories.nodes is required", "inventories")
        results, updates = [], []
        for node in nodes:
            node_id = str((node or {}).get("shipNode") or "")
            try:
                if node_id not in state.seller_nodes():
                    raise _bad_content(INVENTORY_API, f"Ship node {node_id} not found among the seller's ship nodes",
                                       "shipNode")
                qty = self._parse_quantity(INVENTORY_API, (node or {}).get("inputQty"), "inputQty")
            except ApiError as exc:
                err = exc.body["error"][0]
                results.append({"shipNode": node_id, "status": "Failure",
                                "errors": [{"code": err["code"], "field": err["field"], "description": err["description"]}]})
                continue
            updates.append((sku, node_id, qty))
            results.append({"shipNode": node_id, "status": "Success"})
        if updates:
            state.set_inventory(updates)
        return json_response({"sku": sku, "nodes": results})

    async def wfs_inventory(self, request: Request) -> Response:
        """GET /v3/fulfillment/inventory: WFS stock (inventory.json WfsInventoryDTO)."""
        state = self.state
        params = _query(request)
        limit = _int_param(INVENTORY_API, params, "limit", 10, low=1, high=300,
                           high_message="limit cannot be larger than 300")
        offset = _int_param(INVENTORY_API, params, "offset", 0, low=0)
        wanted = params.get("sku") or None

        def when(name: str) -> int | None:
            raw = params.get(name)
            if not raw:
                return None
            ms = _parse_time(raw, allow_millis=True, allow_offset=True)
            if ms is None:
                raise _bad_param(INVENTORY_API, name, f"Invalid date format for {name}: '{raw}'")
            return ms

        since, until = when("fromModifiedDate"), when("toModifiedDate")
        state.advance_feeds()
        reserved = state.reserved()
        wfs = state.wfs_nodes()
        items = []
        with state.lock:
            for sku in sorted(state._inventory):
                if wanted and sku != wanted:
                    continue
                nodes = []
                for node in wfs:
                    if node not in state._inventory[sku]:
                        continue
                    modified = state._inventory_modified.get((sku, node), 0)
                    if (since is not None and modified < since) or (until is not None and modified > until):
                        continue
                    on_hand = state._inventory[sku][node]
                    nodes.append({
                        "modifiedDate": _iso_ms(modified),
                        "availToSellQty": max(on_hand - reserved.get((sku, node), 0), 0),
                        "onHandQty": on_hand,
                        "shipNodeType": "WFSFulfilled",
                    })
                if nodes:
                    items.append({"sku": sku, "shipNodes": nodes})
        return json_response({
            "headers": {"totalCount": len(items), "limit": limit, "offset": offset},
            "payload": {"inventory": items[offset:offset + limit]},
        })

    # -- prices ---------------------------------------------------------------------------------------

    async def put_price(self, request: Request) -> Response:
        state = self.state
        body = await self._json_body(request, PRICE_API)
        if not isinstance(body, dict):
            raise _bad_content(PRICE_API, "Request body must be an object")
        sku = str(body.get("sku") or "")
        if not state.known_sku(sku):
            raise _not_found(PRICE_API, f"Item not found for sku {sku}", "sku")
        amount = _price_from_pricing(body.get("pricing"))
        if amount is None:
            raise _bad_content(PRICE_API, _PRICING_REQUIRED, "pricing")
        with state.lock:
            state.prices[sku] = amount
        return json_response({"ItemPriceResponse": {
            "mart": "WALMART_US",
            "message": "Thank you. Your price has been updated. Please allow up to five minutes for this change "
                       "to be reflected on the site.",
            "sku": sku,
        }})

    # -- feeds ----------------------------------------------------------------------------------------

    def _feed_limit_key(self, request: Request) -> str | None:
        feed_type = request.query_params.get("feedType")
        return f"feeds.{feed_type}" if feed_type in ("inventory", "MP_INVENTORY", "price") else None

    async def submit_feed(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        feed_type = params.get("feedType")
        if not feed_type:
            raise _missing_param(FEED_API, "feedType")
        if feed_type not in ("inventory", "MP_INVENTORY", "price"):
            raise _bad_param(FEED_API, "feedType",
                             f"Unsupported feedType '{feed_type}' (sandbox: inventory, MP_INVENTORY, price)")
        ship_node = params.get("shipNode") or None
        if ship_node is not None and feed_type == "inventory":
            self._node_or_404(ship_node)
        raw = await request.body()
        file_name, content = _multipart_file(request.headers.get("Content-Type", ""), raw)
        if content is None:
            # The feeds API takes multipart/form-data with the feed in a part named "file".
            raise _bad_content(FEED_API, "multipart/form-data with a 'file' part is required", "file")
        feed_id = uuid.uuid4().hex.upper() + "@AQYBAQA"
        feed = FeedRecord(feed_id=feed_id, feed_type=feed_type, submitted_ms=state.now_ms(), submitted_at=state.now(),
                          file_name=file_name or "feed.json")
        try:
            doc = loads(content)
        except (ValueError, UnicodeDecodeError):
            doc = None
        if feed_type == "inventory":
            self._check_inventory_feed(feed, doc, ship_node)
        elif feed_type == "MP_INVENTORY":
            self._check_mp_inventory_feed(feed, doc)
        else:
            self._check_price_feed(feed, doc)
        with state.lock:
            state.feeds[feed_id] = feed
        return json_response({"feedId": feed_id})

    @staticmethod
    def _file_error(feed: FeedRecord, description: str) -> None:
        feed.error = {"type": "DATA_ERROR", "code": "ERR_INVALID_FILE", "description": description}

    def _unknown_sku(self, sku: str) -> dict:
        # CHOICE: the error code for an unknown SKU was not found; Walmart's codes look like ERR_EXT_DATA_*.
        return _item_error("ERR_EXT_DATA_0801001", f"SKU {sku} is not found in the seller's catalog")

    def _check_inventory_feed(self, feed: FeedRecord, doc: Any, ship_node: str | None) -> None:
        state = self.state
        node = ship_node or state.seller_nodes()[0]
        if not _feed_shape(doc, "InventoryHeader", "Inventory"):
            return self._file_error(feed, "Feed file must be JSON with InventoryHeader (version 1.4) and Inventory[]")
        if str(doc["InventoryHeader"].get("version")) != "1.4":
            return self._file_error(feed, "InventoryHeader.version must be 1.4 for feedType=inventory")
        for index, entry in enumerate(doc["Inventory"]):
            sku = str((entry or {}).get("sku") or "")
            errors = []
            qty = 0
            if not state.known_sku(sku):
                errors.append(self._unknown_sku(sku))
            else:
                try:
                    qty = self._parse_quantity(FEED_API, entry.get("quantity"), "quantity")
                except ApiError as exc:
                    errors.append(_item_error("ERR_EXT_DATA_0801002", exc.body["error"][0]["description"]))
            updates = [(sku, node, qty)]
            feed.items.append({"sku": sku, "index": index, "ok": not errors, "errors": errors,
                               "apply": (lambda u=updates: state.set_inventory(u))})

    def _check_mp_inventory_feed(self, feed: FeedRecord, doc: Any) -> None:
        state = self.state
        if not _feed_shape(doc, "inventoryHeader", "inventory"):
            return self._file_error(feed, "Feed file must be JSON with inventoryHeader (version 1.5) and inventory[]")
        if str(doc["inventoryHeader"].get("version")) != "1.5":
            return self._file_error(feed, "inventoryHeader.version must be 1.5 for feedType=MP_INVENTORY")
        for index, entry in enumerate(doc["inventory"]):
            sku = str((entry or {}).get("sku") or "")
            errors, updates = [], []
            if not state.known_sku(sku):
                errors.append(self._unknown_sku(sku))
            else:
                nodes = entry.get("shipNodes")
                if not isinstance(nodes, list) or not nodes:
                    errors.append(_item_error("ERR_EXT_DATA_0801003", "shipNodes[] is required"))
                for n in nodes or []:
                    node_id = str((n or {}).get("shipNode") or "")
                    if node_id not in state.seller_nodes():
                        errors.append(_item_error("ERR_EXT_DATA_0801004", f"Ship node {node_id} not found for this seller"))
                        continue
                    try:
                        updates.append((sku, node_id, self._parse_quantity(FEED_API, n.get("quantity"), "quantity")))
                    except ApiError as exc:
                        errors.append(_item_error("ERR_EXT_DATA_0801002", exc.body["error"][0]["description"]))
            feed.items.append({"sku": sku, "index": index, "ok": not errors, "errors": errors,
                               "apply": (lambda u=updates: state.set_inventory(u))})

    def _check_price_feed(self, feed: FeedRecord, doc: Any) -> None:
        state = self.state
        if not _feed_shape(doc, "PriceHeader", "Price"):
            return self._file_error(feed, "Feed file must be JSON with PriceHeader (version 1.7) and Price[]")
        if str(doc["PriceHeader"].get("version")) != "1.7":
            return self._file_error(feed, "PriceHeader.version must be 1.7 for feedType=price")
        for index, entry in enumerate(doc["Price"]):
            sku = str((entry or {}).get("sku") or "")
            errors = []
            amount = None
            if not state.known_sku(sku):
                errors.append(self._unknown_sku(sku))
            else:
                amount = _price_from_pricing(entry.get("pricing"))
                if amount is None:
                    errors.append(_item_error("ERR_EXT_DATA_0801005", _PRICING_REQUIRED))

            def apply(s=sku, a=amount):
                with state.lock:
                    state.prices[s] = a

            feed.items.append({"sku": sku, "index": index, "ok": not errors, "errors": errors, "apply": apply})

    def _feed_summary(self, feed: FeedRecord) -> dict:
        received = len(feed.items)
        if feed.status == "PROCESSED":
            ok = sum(1 for i in feed.items if i["ok"])
            return {"itemsReceived": received, "itemsSucceeded": ok, "itemsFailed": received - ok, "itemsProcessing": 0}
        if feed.status == "ERROR":
            return {"itemsReceived": received, "itemsSucceeded": 0, "itemsFailed": 0, "itemsProcessing": 0}
        return {"itemsReceived": received, "itemsSucceeded": 0, "itemsFailed": 0, "itemsProcessing": received}

    async def feed_status(self, request: Request) -> Response:
        state = self.state
        feed_id = request.path_params["feedId"]
        params = _query(request)
        with state.lock:
            feed = state.feeds.get(feed_id)
        if feed is None:
            raise _not_found(FEED_API, f"Feed {feed_id} not found", "feedId")
        include = _bool_param(params, "includeDetails")
        offset = _int_param(FEED_API, params, "offset", 0, low=0)
        limit = _int_param(FEED_API, params, "limit", FEED_DETAILS_DEFAULT_LIMIT, low=1, high=FEED_DETAILS_MAX_LIMIT,
                           high_message=f"limit cannot be more than {FEED_DETAILS_MAX_LIMIT}")
        state._advance_feed(feed, poll=True)
        with state.lock:
            body: dict[str, Any] = {
                "feedId": feed.feed_id, "feedStatus": feed.status, "feedSubmissionDate": feed.submitted_ms,
            }
            if feed.error is not None:
                body["ingestionErrors"] = {"ingestionError": [feed.error]}
            body.update(self._feed_summary(feed))
            body["offset"], body["limit"] = offset, limit
            if include:
                details = []
                for item in feed.items[offset:offset + limit]:
                    entry: dict[str, Any] = {"martId": 0, "sku": item["sku"], "index": item["index"]}
                    spec = state.sku_specs.get(item["sku"])
                    if spec is not None and item["ok"]:
                        gtin = {"productIdType": "GTIN", "productId": str(spec.gtin)}
                        entry["productIdentifiers"] = {"productIdentifier": [gtin]}
                    if feed.status != "PROCESSED":
                        entry["ingestionStatus"] = "INPROGRESS"
                    elif item["ok"]:
                        entry["ingestionStatus"] = "SUCCESS"
                    else:
                        entry["ingestionStatus"] = "DATA_ERROR"
                        entry["ingestionErrors"] = {"ingestionError": list(item["errors"])}
                    details.append(entry)
                body["itemDetails"] = {"itemIngestionStatus": details}
        return json_response(body)

    async def list_feeds(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        offset = _int_param(FEED_API, params, "offset", 0, low=0)
        limit = _int_param(FEED_API, params, "limit", 50, low=1, high=50, high_message="limit cannot be more than 50")
        state.advance_feeds()
        wanted = params.get("feedId") or None
        with state.lock:
            feeds = [f for f in sorted(state.feeds.values(), key=lambda f: f.submitted_ms, reverse=True)
                     if wanted is None or f.feed_id == wanted]
            results = []
            for f in feeds[offset:offset + limit]:
                rec = {"feedId": f.feed_id, "feedSource": "MARKETPLACE_PARTNER", "feedType": f.feed_type,
                       "partnerId": PARTNER_ID, **self._feed_summary(f), "feedStatus": f.status,
                       "feedDate": f.submitted_ms, "modifiedDtm": f.submitted_ms, "fileName": f.file_name,
                       "itemDataErrorCount": sum(1 for i in f.items if not i["ok"]) if f.status == "PROCESSED" else 0,
                       "itemSystemErrorCount": 0, "itemTimeoutErrorCount": 0}
                results.append(rec)
        return json_response({"totalResults": len(feeds), "offset": offset, "limit": limit, "results": {"feed": results}})

    # -- webhooks -------------------------------------------------------------------------------------

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


_PRICING_REQUIRED = "pricing[].currentPrice with currency USD and an amount above 0 is required"


def _item_error(code: str, description: str) -> dict:
    return {"type": "DATA_ERROR", "code": code, "description": description}


def _feed_shape(doc: Any, header: str, items: str) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get(header), dict) and isinstance(doc.get(items), list)


def _price_from_pricing(pricing: Any) -> Decimal | None:
    if not isinstance(pricing, list) or not pricing:
        return None
    current = (pricing[0] or {}).get("currentPrice") if isinstance(pricing[0], dict) else None
    if not isinstance(current, dict) or current.get("currency") != "USD":
        return None
    amount = current.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, Decimal)) or amount <= 0:
        return None
    return Decimal(amount)


def _multipart_file(content_type: str, body: bytes) -> tuple[str | None, bytes | None]:
    """The 'file' part of a multipart/form-data body: (file name, bytes); (None, None) if there is none."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type.lower():
        return None, None
    message = BytesParser(policy=email_policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    )
    if not message.is_multipart():
        return None, None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_filename(), part.get_payload(decode=True) or b""
    return None, None


# ----------------------------------------------------------------------------------------------------
# App
# ----------------------------------------------------------------------------------------------------


def build_walmart_app(options, seller=None) -> Starlette:
    """The Walmart emulator as an ASGI app; app.state.walmart is its WalmartState."""
    if seller is None:
        from walmart_accounting.sandbox.seller import SyntheticSeller

        seller = SyntheticSeller(seed=options.seed, start=options.seller_start, days=options.seller_days)
    state = WalmartState(options, seller)
    api = WalmartApi(state)
    ep = api.endpoint

    routes = [
        Route("/v3/token", ep(api.token, auth=False), methods=["POST"]),
        Route("/v3/token/detail", ep(api.token_detail), methods=["GET"]),
        Route("/v3/orders", ep(api.list_orders, limit="orders.read"), methods=["GET"]),
        Route("/v3/orders/released", ep(api.released_orders, limit="orders.read"), methods=["GET"]),
        Route("/v3/orders/{purchaseOrderId}", ep(api.get_order, limit="orders.read"), methods=["GET"]),
        Route("/v3/orders/{purchaseOrderId}/acknowledge", ep(api.acknowledge, limit="orders.write"), methods=["POST"]),
        Route("/v3/returns", ep(api.list_returns), methods=["GET"]),
        Route("/v3/report/reconreport/availableReconFiles", ep(api.available_recon_files), methods=["GET"]),
        Route("/v3/report/reconreport/reconFile", ep(api.recon_file), methods=["GET"]),
        Route("/v3/report/reconreport/reconFileJson", ep(api.recon_file_json), methods=["GET"]),
        Route("/v3/items", ep(api.list_items), methods=["GET"]),
        Route("/v3/inventory", ep(api.get_inventory), methods=["GET"]),
        Route("/v3/inventory", ep(api.put_inventory, limit="inventory.update"), methods=["PUT"]),
        Route("/v3/inventories", ep(api.list_inventories), methods=["GET"]),
        Route("/v3/fulfillment/inventory", ep(api.wfs_inventory), methods=["GET"]),
        Route("/v3/inventories/{sku:path}", ep(api.get_inventories_sku), methods=["GET"]),
        Route("/v3/inventories/{sku:path}", ep(api.put_inventories_sku, limit="inventory.update"), methods=["PUT"]),
        Route("/v3/price", ep(api.put_price, limit="price.update"), methods=["PUT"]),
        Route("/v3/feeds", ep(api.submit_feed, limit=api._feed_limit_key), methods=["POST"]),
        Route("/v3/feeds", ep(api.list_feeds), methods=["GET"]),
        Route("/v3/feeds/{feedId}", ep(api.feed_status), methods=["GET"]),
        Route("/v3/webhooks/eventTypes", ep(api.event_types), methods=["GET"]),
        Route("/v3/webhooks/subscriptions", ep(api.list_subscriptions), methods=["GET"]),
        Route("/v3/webhooks/subscriptions", ep(api.create_subscriptions), methods=["POST"]),
        Route("/v3/webhooks/subscriptions/{subscriptionId}", ep(api.update_subscription), methods=["PATCH"]),
        Route("/v3/webhooks/subscriptions/{subscriptionId}", ep(api.delete_subscription), methods=["DELETE"]),
        Route("/v3/webhooks/test", ep(api.test_notification), methods=["POST"]),
    ]

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            return ApiError(405, f"METHOD_NOT_ALLOWED.{GATEWAY_API}", "method", f"Method {request.method} not allowed",
                            "Request method is not supported.").response()
        return ApiError(exc.status_code, f"CONTENT_NOT_FOUND.{GATEWAY_API}", "path", f"No resource at {request.url.path}",
                        "Requested content could not be found.").response()

    app = Starlette(routes=routes, exception_handlers={404: http_error, 405: http_error})
    app.state.walmart = state
    return app
