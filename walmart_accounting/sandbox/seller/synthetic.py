"""SyntheticSeller: the seeded trading window that runs the catalogue, customers, stock, orders, returns and settlements."""

from __future__ import annotations

import bisect
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from walmart_accounting.domain.config import load_default_config
from walmart_accounting.sandbox.seller.catalog import SkuSpec, _build_catalog
from walmart_accounting.sandbox.seller.customers import CustomersMixin
from walmart_accounting.sandbox.seller.geography import _build_geo
from walmart_accounting.sandbox.seller.helpers import UTC, _ms, _utc
from walmart_accounting.sandbox.seller.inventory import _NODES, StockMixin
from walmart_accounting.sandbox.seller.orders import OrdersMixin
from walmart_accounting.sandbox.seller.records import _PO, _Customer, _Return
from walmart_accounting.sandbox.seller.returns import ReturnsMixin
from walmart_accounting.sandbox.seller.settlements import Settlement, SettlementsMixin


class SyntheticSeller(CustomersMixin, StockMixin, OrdersMixin, ReturnsMixin, SettlementsMixin):
    """A Walmart seller's catalog, orders, returns, settlements and stock over a trading window, fixed by a seed."""

    def __init__(self, seed: int = 7, start: date = date(2026, 9, 7), days: int = 28):
        if days < 1:
            raise ValueError("days must be at least 1")
        self.seed = seed
        self.start = start
        self.days = days
        self.end = start + timedelta(days=days)
        # The snapshot instant: every status, return and stock figure is as of the window's end.
        self.as_of = datetime.combine(self.end, time(0), UTC)
        self._rng = random.Random(seed)
        config = load_default_config()
        self.facilitator_states: frozenset[str] = frozenset(config.tax.facilitator_states)
        self.seller_remitted_states: frozenset[str] = frozenset(config.tax.seller_remitted_states)
        self.fee_types: dict[str, str] = dict(config.fee_types)

        self._products = _build_catalog()
        self._by_sku = {p.spec.sku: p for p in self._products}
        self.skus: list[SkuSpec] = [p.spec for p in self._products]
        self.ship_nodes: list[str] = list(_NODES)
        self.ship_node_details: dict[str, dict[str, str]] = {k: dict(v) for k, v in _NODES.items()}
        self._states = _build_geo()
        self._state_weights = [s.weight for s in self._states]

        self._used_ids: set[str] = set()
        self._customers: list[_Customer] = []
        self._pos: list[_PO] = []
        self._returns: list[_Return] = []
        self._inbound: list[tuple[date, str, str, int, int]] = []  # sent, sku, node, qty, fee
        self._pending: list[tuple[date, str, str, int]] = []  # arrives, sku, node, qty
        self._restocked: dict[tuple[str, str], int] = {}

        self._setup_stock()
        self._setup_price_promotions()
        self._campaigns = [str(self._rng.randrange(600_000_000, 699_999_999)) for _ in range(2)]
        for offset in range(days):
            day = start + timedelta(days=offset)
            self._receive(day)
            for moment in self._order_times(day):
                self._place_customer_order(moment)
            self._replenish(day)
        self._simulate_returns()
        self._simulate_order_refunds()

        self._pos.sort(key=lambda po: (po.created, po.po_id))
        self.orders: list[dict] = [self._render_order(po) for po in self._pos]
        self._order_index = {o["purchaseOrderId"]: o for o in self.orders}
        self._order_ms = [o["orderDate"] for o in self.orders]
        self._po_index = {po.po_id: po for po in self._pos}
        self._returns.sort(key=lambda r: (r.created, r.return_id))
        self.returns: list[dict] = [self._render_return(r) for r in self._returns]
        self._return_index = {r.return_id: r for r in self._returns}
        self._returns_by_po: dict[str, list[_Return]] = {}
        for ret in self._returns:
            self._returns_by_po.setdefault(ret.po.po_id, []).append(ret)
        self.settlements: list[Settlement] = self._build_settlements()
        self.inventory, self.inventory_reserved = self._inventory_snapshot()

    # -- public queries -------------------------------------------------------------------------

    def order(self, purchase_order_id: str) -> dict | None:
        """The order object for a purchase order id, as GET /v3/orders/{purchaseOrderId} returns it."""
        return self._order_index.get(purchase_order_id)

    def orders_created_between(self, start: datetime, end: datetime) -> list[dict]:
        """Orders with orderDate in [start, end) (UTC; naive datetimes are taken as UTC), oldest first."""
        lo = bisect.bisect_left(self._order_ms, _ms(_utc(start)))
        hi = bisect.bisect_left(self._order_ms, _ms(_utc(end)))
        return self.orders[lo:hi]

    def order_last_modified(self, po_id: str) -> datetime:
        """When the order last changed (status, cancellation, refund) up to the snapshot, for lastModified filters."""
        po = self._po_index[po_id]
        moments = [po.created]
        if po.ack_at <= self.as_of:
            moments.append(po.ack_at)
        for when in (po.ship_at, po.deliver_at):
            if when is not None and when <= self.as_of:
                moments.append(when)
        for line in po.lines:
            if line.cancelled_by(self.as_of):
                moments.append(line.cancel_at)
            if line.refund is not None and line.refund.refunded_at is not None:
                moments.append(line.refund.refunded_at)
        moments.extend(ret.created for ret in self._returns_by_po.get(po_id, ()))
        return max(moments)

    def return_last_modified(self, return_order_id: str) -> datetime:
        """When the return last changed up to the snapshot, for returnLastModified filters."""
        ret = self._return_index[return_order_id]
        moments = [ret.created]
        if ret.received_at is not None and ret.received_at <= self.as_of:
            moments.append(ret.received_at)
        if ret.refunded_at <= self.as_of:
            moments.append(ret.refunded_at)
        return max(moments)

    def return_refunded_at(self, return_order_id: str) -> datetime | None:
        """When the customer was refunded, or None if the refund is still pending at the snapshot."""
        ret = self._return_index[return_order_id]
        return ret.refunded_at if ret.refunded_at <= self.as_of else None

    def sku_spec(self, sku: str) -> SkuSpec | None:
        """The catalog entry for a SKU."""
        product = self._by_sku.get(sku)
        return product.spec if product else None

    def commission_rate(self, sku: str) -> Decimal:
        """The referral-fee percent Walmart charges on this SKU's category."""
        return self._by_sku[sku].commission_pct
