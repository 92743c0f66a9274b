"""Orders: the list with its filters and cursor paging, released orders, one order, acknowledge."""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.walmart.base import (
    ORDER_API,
    PARTNER_ID,
    SELLER_ID,
    ApiBase,
    ApiError,
    _bad_content,
    _bad_param,
    _not_found,
    dumps,
)
from walmart_accounting.sandbox.walmart.helpers import _bool_param, _cursor, _dt_to_ms, _int_param, _iso_ms, _parse_time, _query

ORDERS_LOOKBACK_DAYS = 180  # orders.json: "Only orders created in last 180 days ... can be fetched"
ORDERS_MAX_FETCH = 20000  # orders.json: "a maximum of 20000 orders can be fetched at a time"
ORDERS_DEFAULT_LIMIT, ORDERS_MAX_LIMIT = 100, 200

ORDER_LINE_STATUSES = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled")
SHIP_NODE_TYPES = ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled")


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


def render_order(order: dict, *, product_info: bool, replacement_info: bool) -> dict:
    """An order as the API returns it; copies only what it changes."""
    out = dict(order)
    if not replacement_info:
        out.pop("orderType", None)
        out.pop("originalCustomerOrderID", None)
    lines = _order_lines(order)
    if not product_info and any(("imageUrl" in (ln.get("item") or {}) or "weight" in (ln.get("item") or {})) for ln in lines):
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


class OrdersState:
    """The orders the emulator holds (copy on write over the seller's); mixed into WalmartState (state.py)."""

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


class OrdersApi(ApiBase):
    """GET /v3/orders, /v3/orders/released, /v3/orders/{purchaseOrderId}; POST .../acknowledge."""

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
                if sku and not any((ln.get("item") or {}).get("sku") == sku for ln in lines):
                    continue
                if program and not any((ln.get("fulfillment") or {}).get("shippingProgramType") == program for ln in lines):
                    continue
                wanted = "Created" if released else status
                if wanted and not any(st.get("status") == wanted for ln in lines for st in _line_statuses(ln)):
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
