"""WalmartState: everything the emulator holds, joined from each part's state, and the sandbox clock."""

from __future__ import annotations

import queue
import threading
from datetime import date, datetime, timezone
from decimal import Decimal

from walmart_accounting.sandbox.common import FixedWindowLimiter
from walmart_accounting.sandbox.walmart.auth import DEFAULT_RATE_LIMITS, AuthState
from walmart_accounting.sandbox.walmart.feeds import FeedRecord, FeedsState
from walmart_accounting.sandbox.walmart.helpers import _dt_to_ms
from walmart_accounting.sandbox.walmart.inventory import InventoryState
from walmart_accounting.sandbox.walmart.orders import OrdersState
from walmart_accounting.sandbox.walmart.reports import ReportsState
from walmart_accounting.sandbox.walmart.returns import ReturnsState
from walmart_accounting.sandbox.walmart.shipping import ShippingState
from walmart_accounting.sandbox.walmart.webhooks import Delivery, WebhooksState


class WalmartState(AuthState, OrdersState, ShippingState, ReturnsState, ReportsState, InventoryState, FeedsState,
                   WebhooksState):
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
        # When each shipment sent through the API was first recorded: (po, lineNumber, trackingNumber) -> ms.
        self._shipped_at: dict[tuple[str, str, str], int] = {}

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
