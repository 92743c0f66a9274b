"""Ship nodes and stock: opening stock, replenishment and WFS inbound shipments, the snapshot at the window's end."""

from __future__ import annotations

from datetime import date, timedelta

_NODE_RENO = "701246853001"
_NODE_COLUMBUS = "701246853002"
_NODE_WFS = "701246853099"
_NODES: dict[str, dict[str, str]] = {
    _NODE_RENO: {"type": "SellerFulfilled", "name": "Sandbox Seller Reno NV Warehouse"},
    _NODE_COLUMBUS: {"type": "SellerFulfilled", "name": "Sandbox Seller Columbus OH 3PL"},
    _NODE_WFS: {"type": "WFSFulfilled", "name": "Walmart Fulfillment Services"},
}


class StockMixin:
    """Stock per (SKU, ship node); mixed into SyntheticSeller (synthetic.py)."""

    def _setup_stock(self) -> None:
        rng = self._rng
        self._free: dict[tuple[str, str], int] = {}
        self._initial: dict[tuple[str, str], int] = {}
        for product in self._products:
            for node in _NODES:
                share = self._node_share(product, node)
                if share == 0:
                    continue
                cover_days = rng.choice((6, 14, 21, 30, 30, 45))
                qty = int(self._unit_demand(product) * share * cover_days) + rng.randrange(0, 6)
                self._free[(product.spec.sku, node)] = qty
                self._initial[(product.spec.sku, node)] = qty

    def _receive(self, day: date) -> None:
        for _, sku, node, qty in [p for p in self._pending if p[0] == day]:
            self._free[(sku, node)] += qty
        self._pending = [p for p in self._pending if p[0] != day]

    def _replenish(self, day: date) -> None:
        rng = self._rng
        for (sku, node), free in sorted(self._free.items()):
            product = self._by_sku[sku]
            daily = self._unit_demand(product) * self._node_share(product, node)
            inbound = sum(p[3] for p in self._pending if p[1] == sku and p[2] == node)
            wfs = node == _NODE_WFS
            if free + inbound >= daily * (16 if wfs else 10) + 3:
                continue
            qty = max(6, int(daily * 30))
            lead = rng.randrange(9, 15) if wfs else rng.randrange(5, 10)
            self._pending.append((day + timedelta(days=lead), sku, node, qty))
            if wfs:
                # Walmart's inbound transportation program bills the carrier leg when the shipment leaves.
                fee = qty * rng.choice((28, 32, 35, 41))
                self._inbound.append((day + timedelta(days=1), sku, node, qty, fee))

    def _inventory_snapshot(self) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        reserved: dict[tuple[str, str], int] = {}
        for po in self._pos:
            shipped = po.ship_at is not None and po.ship_at <= self.as_of
            for line in po.lines:
                if line.allocated and not shipped and not line.cancelled_by(self.as_of):
                    key = (line.product.spec.sku, po.node)
                    reserved[key] = reserved.get(key, 0) + line.qty
        available: dict[str, dict[str, int]] = {}
        held: dict[str, dict[str, int]] = {}
        for product in self._products:
            sku = product.spec.sku
            for node in _NODES:
                if (sku, node) not in self._free:
                    continue
                available.setdefault(sku, {})[node] = self._free[(sku, node)] + self._restocked.get((sku, node), 0)
                held.setdefault(sku, {})[node] = reserved.get((sku, node), 0)
        return available, held
