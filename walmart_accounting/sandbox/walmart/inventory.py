"""Inventory: one SKU at one node, all nodes of a SKU, the paged list, and WFS stock."""

from __future__ import annotations

import base64
import binascii
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.walmart.base import (
    INVENTORY_API,
    ApiBase,
    ApiError,
    _bad_content,
    _bad_param,
    _missing_param,
    _not_found,
    json_response,
)
from walmart_accounting.sandbox.walmart.helpers import _int_param, _iso_ms, _parse_time, _query
from walmart_accounting.sandbox.walmart.orders import _line_statuses, _order_lines

INVENTORIES_DEFAULT_LIMIT, INVENTORIES_MAX_LIMIT = 10, 50


def _qty(value: Any) -> int:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return 0


class InventoryState:
    """Stock by SKU and ship node, and what open orders hold; mixed into WalmartState (state.py)."""

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


class InventoryApi(ApiBase):
    """GET/PUT /v3/inventory, GET /v3/inventories, GET/PUT /v3/inventories/{sku}, GET /v3/fulfillment/inventory."""

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
