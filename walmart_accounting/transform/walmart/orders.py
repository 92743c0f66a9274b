"""Purchase orders (GET /v3/orders) -> OrderLine rows and their refund sections -> OrderRefund rows, with rejects."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from walmart_accounting.schemas.walmart import OrderLine, OrderRefund
from walmart_accounting.transform.validation import Validated, split_valid
from walmart_accounting.transform.walmart.common import (
    DEFAULT_CURRENCY,
    _Bad,
    _cents,
    _count,
    _currency,
    _empty,
    _epoch_ms,
    _items,
    _keep_last,
    _obj,
    _one_currency,
    _record_key,
    _reject,
    _reject_siblings,
    _rejects,
    _sum_buckets,
    _text,
    _utc_from_ms,
    customer_key,
)

ORDER_LINE_COLUMNS = list(OrderLine.to_schema().columns)
ORDER_REFUND_COLUMNS = list(OrderRefund.to_schema().columns)

_ORDER_BUCKETS = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents", "discount_cents",
                  "discount_tax_cents"]
_REFUND_BUCKETS = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents"]

# Order line statuses: rank of progress, and which count as shipped.
_STATUS_RANK = {"Created": 0, "Acknowledged": 1, "Shipped": 2, "Delivered": 3, "Refund": 2}
_STATUS_NAMES = {name.lower(): name for name in [*_STATUS_RANK, "Cancelled"]}
_SHIPPED = {"Shipped", "Delivered", "Refund"}
_RANK_STATUS = {0: "Created", 1: "Acknowledged", 2: "Shipped", 3: "Delivered"}


def _charge_amount(money: Any, field: str, fallback_currency: str | None) -> tuple[int, str | None]:
    money = _obj(money, field)
    currency = _currency(money.get("currency"), f"{field}.currency") or fallback_currency
    return _cents(money.get("amount"), currency or DEFAULT_CURRENCY, f"{field}.amount"), currency


def _tax_cents(tax: Any, field: str, currency: str | None) -> tuple[int, list[str]]:
    """Total of a charge's tax (absent, null, one object or a list); and the currencies it named."""
    total, currencies = 0, []
    for i, entry in enumerate(_items(tax, None, field)):
        entry = _obj(entry, f"{field}[{i}]")
        amount = entry.get("taxAmount")
        if amount is None:
            continue
        cents, cur = _charge_amount(amount, f"{field}.taxAmount", currency)
        total += cents
        if cur:
            currencies.append(cur)
    return total, currencies


def _order_charge(charge: Any, field: str) -> tuple[str, int, int, list[str]]:
    """(kind, amount cents, tax cents, currencies) of one order charge; kind is product, shipping or discount."""
    charge = _obj(charge, field)
    kind = _text(charge.get("chargeType"), f"{field}.chargeType").upper()
    name = (_text(charge.get("chargeName"), f"{field}.chargeName", required=False) or "").lower()
    if kind not in ("PRODUCT", "SHIPPING"):
        raise _Bad(f"{field}.chargeType is unknown: {charge.get('chargeType')!r}")
    amount, currency = _charge_amount(charge.get("chargeAmount"), f"{field}.chargeAmount", None)
    tax, tax_currencies = _tax_cents(charge.get("tax"), f"{field}.tax", currency)
    currencies = ([currency] if currency else []) + tax_currencies
    if "discount" in name or (kind == "PRODUCT" and amount < 0):
        return "discount", -abs(amount), -abs(tax), currencies
    return kind.lower(), amount, tax, currencies


def _line_statuses(line: dict, quantity: int, field: str) -> tuple[str, int, int, int | None]:
    """(status, shipped quantity, cancelled quantity, ship time ms or None) of an order line."""
    entries = _items(_obj(line.get("orderLineStatuses"), f"{field}.orderLineStatuses").get("orderLineStatus"),
                     None, f"{field}.orderLineStatuses.orderLineStatus")
    if not entries:
        raise _Bad(f"{field}.orderLineStatuses has no orderLineStatus")
    best, shipped, cancelled, ship_ms = -1, 0, 0, None
    for i, entry in enumerate(entries):
        where = f"{field}.orderLineStatus[{i}]"
        entry = _obj(entry, where)
        raw = entry.get("status")
        status = _STATUS_NAMES.get(raw.strip().lower()) if isinstance(raw, str) else None
        if status is None:
            raise _Bad(f"{where}.status is unknown: {raw!r}")
        quantity_obj = entry.get("statusQuantity")
        if quantity_obj is None and len(entries) == 1:
            units = quantity
        else:
            units = _count(_obj(quantity_obj, f"{where}.statusQuantity").get("amount"),
                           f"{where}.statusQuantity.amount")
        if status == "Cancelled":
            cancelled += units
            continue
        best = max(best, _STATUS_RANK[status])
        if status in _SHIPPED:
            shipped += units
            tracking = _obj(entry.get("trackingInfo"), f"{where}.trackingInfo")
            if tracking.get("shipDateTime") is not None:
                when = _epoch_ms(tracking["shipDateTime"], f"{where}.trackingInfo.shipDateTime")
                ship_ms = when if ship_ms is None else max(ship_ms, when)
    status = "Cancelled" if best < 0 else _RANK_STATUS[best]
    if shipped and ship_ms is None and line.get("statusDate") is not None:
        ship_ms = _epoch_ms(line["statusDate"], f"{field}.statusDate")
    return status, shipped, cancelled, ship_ms


def _flatten_order(order: Any, position: int):
    """Rows of one purchase order: (lines, line charges, refunds, refund charges, refund rejects)."""
    order = _obj(order, "order")
    if set(order) == {"order"}:  # GET /v3/orders/{id} wrapper
        order = _obj(order["order"], "order")
    po = _text(order.get("purchaseOrderId"), "purchaseOrderId")
    customer_order_id = _text(order.get("customerOrderId"), "customerOrderId")
    email = order.get("customerEmailId")
    key = customer_key(email, customer_order_id)
    order_ms = _epoch_ms(order.get("orderDate"), "orderDate")
    shipping = _obj(order.get("shippingInfo"), "shippingInfo")
    postal = _obj(shipping.get("postalAddress"), "shippingInfo.postalAddress")
    node = _obj(order.get("shipNode"), "shipNode")
    # Without the ship-to state the sales tax treatment (facilitator or seller-remitted) cannot be decided:
    # refuse the order here, with its reason, rather than leave it to fail at invoice time.
    state = _text(postal.get("state"), "shippingInfo.postalAddress.state", required=False)
    if state is None:
        raise _Bad("shippingInfo.postalAddress.state is missing: the ship-to state decides the order's sales tax")
    if "orderLines" not in order or order["orderLines"] is None:
        raise _Bad("orderLines is missing")
    raw_lines = _items(order["orderLines"], "orderLine", "orderLines.orderLine")
    if not raw_lines:
        raise _Bad("orderLines has no orderLine")
    header = {
        "purchase_order_id": po,
        "customer_order_id": customer_order_id,
        "customer_key": key,
        "customer_name": _text(postal.get("name"), "shippingInfo.postalAddress.name", required=False),
        "customer_email": email.strip() if isinstance(email, str) and email.strip() else None,
        "order_ms": order_ms,
        "ship_to_state": state,
        "ship_to_postal_code": _text(postal.get("postalCode"), "shippingInfo.postalAddress.postalCode",
                                     required=False),
        "ship_node_type": _text(node.get("type"), "shipNode.type", required=False),
        "ship_node": _text(node.get("id"), "shipNode.id", required=False),  # the seller's node, when Walmart says
        "_position": position,
    }
    lines, per_line, refunds, refund_charges, refund_rejects = [], [], [], [], []
    for i, line in enumerate(raw_lines):
        field = f"orderLine[{i}]"
        line = _obj(line, field)
        number = _text(line.get("lineNumber"), f"{field}.lineNumber")
        field = f"orderLine {number}"
        item = _obj(line.get("item"), f"{field}.item")
        quantity = _count(_obj(line.get("orderLineQuantity"), f"{field}.orderLineQuantity").get("amount"),
                          f"{field}.orderLineQuantity.amount", minimum=1)
        status, shipped, cancelled, ship_ms = _line_statuses(line, quantity, field)
        currencies, amounts = [], []
        for j, charge in enumerate(_items(line.get("charges"), "charge", f"{field}.charges.charge")):
            kind, amount, tax, found = _order_charge(charge, f"{field}.charge[{j}]")
            currencies += found
            amounts += [(kind + "_cents", amount), (kind + "_tax_cents", tax)]
        currency = _one_currency(currencies, f"{field} charges")
        lines.append({
            **header,
            "line_number": number,
            "sku": _text(item.get("sku"), f"{field}.item.sku"),
            "product_name": _text(item.get("productName"), f"{field}.item.productName", required=False),
            "quantity": quantity,
            "status": status,
            "shipped_quantity": shipped,
            "cancelled_quantity": cancelled,
            "ship_ms": ship_ms,
            "currency": currency,
        })
        per_line.append(amounts)
        return_order_id = _text(line.get("returnOrderId"), f"{field}.returnOrderId", required=False)
        for n, refund in enumerate(_items(line.get("refund"), None, f"{field}.refund"), start=1):
            try:
                row, amounts_ = _flatten_refund(refund, po, number, n, lines[-1]["sku"], return_order_id, currency,
                                                f"{field}.refund[{n - 1}]")
            except _Bad as exc:
                refund_rejects.append(_reject(f"{po}:{number}:refund {n}", str(exc),
                                              {"purchaseOrderId": po, "lineNumber": number, "refund": refund}))
                continue
            refunds.append({**row, "_position": position})
            refund_charges.append(amounts_)
    return lines, per_line, refunds, refund_charges, refund_rejects


def _flatten_refund(refund: Any, po: str, line_number: str, n: int, sku: str, return_order_id: str | None,
                    line_currency: str, field: str) -> tuple[dict, list[tuple[str, int]]]:
    refund = _obj(refund, field)
    refund_id = _text(refund.get("refundId"), f"{field}.refundId", required=False) or f"{po}-{line_number}-{n}"
    entries = _items(refund.get("refundCharges"), "refundCharge", f"{field}.refundCharges.refundCharge")
    if not entries:
        raise _Bad(f"{field}.refundCharges has no refundCharge")
    reasons, currencies, amounts = [], [], []
    for j, entry in enumerate(entries):
        where = f"{field}.refundCharge[{j}]"
        entry = _obj(entry, where)
        reason = _text(entry.get("refundReason"), f"{where}.refundReason", required=False)
        if reason and reason not in reasons:
            reasons.append(reason)
        charge = _obj(entry.get("charge"), f"{where}.charge")
        kind = _text(charge.get("chargeType"), f"{where}.charge.chargeType").upper()
        if kind not in ("PRODUCT", "SHIPPING"):
            raise _Bad(f"{where}.charge.chargeType is unknown: {charge.get('chargeType')!r}")
        amount, currency = _charge_amount(charge.get("chargeAmount"), f"{where}.charge.chargeAmount", None)
        tax, tax_currencies = _tax_cents(charge.get("tax"), f"{where}.charge.tax", currency)
        currencies += ([currency] if currency else []) + tax_currencies
        amounts += [(f"{kind.lower()}_cents", amount), (f"{kind.lower()}_tax_cents", tax)]
    currency = _one_currency(currencies, f"{field} charges") if currencies else line_currency
    row = {
        "purchase_order_id": po,
        "line_number": line_number,
        "sku": sku,
        "refund_id": refund_id,
        "return_order_id": return_order_id,
        "refund_reason": "; ".join(reasons) or None,
        "currency": currency,
    }
    return row, amounts


def order_frames(orders: list[dict]) -> tuple[Validated, Validated]:
    """Purchase orders as GET /v3/orders returns them -> (OrderLine rows, OrderRefund rows), each with rejects."""
    line_rows: list[dict] = []
    line_amounts: list[tuple[int, str, int]] = []
    refund_rows: list[dict] = []
    refund_amounts: list[tuple[int, str, int]] = []
    order_rejects: list[dict] = []
    refund_rejects: list[dict] = []
    for position, order in enumerate(orders or []):
        try:
            lines, per_line, refunds, refund_charges, bad_refunds = _flatten_order(order, position)
        except _Bad as exc:
            order_rejects.append(_reject(_record_key(_unwrap(order), "purchaseOrderId", "orders", position),
                                         str(exc), order))
            continue
        for row, amounts in zip(lines, per_line, strict=True):
            line_amounts += [(len(line_rows), bucket, cents) for bucket, cents in amounts]
            line_rows.append(row)
        for row, amounts in zip(refunds, refund_charges, strict=True):
            refund_amounts += [(len(refund_rows), bucket, cents) for bucket, cents in amounts]
            refund_rows.append(row)
        refund_rejects += bad_refunds

    lines = _order_line_frame(line_rows, line_amounts)
    refunds = _order_refund_frame(refund_rows, refund_amounts)

    checked = split_valid(lines, OrderLine, ["purchase_order_id", "line_number"])
    valid, schema_rejects = _reject_siblings(checked, "purchase_order_id", ["purchase_order_id", "line_number"],
                                             "purchase order")
    refunds_checked = split_valid(refunds, OrderRefund, ["purchase_order_id", "line_number", "refund_id"])
    return (
        Validated(valid, _rejects(order_rejects, schema_rejects)),
        Validated(refunds_checked.valid, _rejects(refund_rejects, refunds_checked.rejects)),
    )


def _unwrap(order: Any) -> Any:
    if isinstance(order, dict) and set(order) == {"order"} and isinstance(order["order"], dict):
        return order["order"]
    return order


def _order_line_frame(rows: list[dict], amounts: list[tuple[int, str, int]]) -> pd.DataFrame:
    if not rows:
        frame = _empty([c for c in ORDER_LINE_COLUMNS if c not in _ORDER_BUCKETS])
        frame["order_date"] = pd.Series(dtype="datetime64[ns, UTC]")
        frame["ship_date"] = pd.Series(dtype="datetime64[ns, UTC]")
        for column in ("quantity", "shipped_quantity", "cancelled_quantity"):
            frame[column] = pd.Series(dtype="int64")
        return _sum_buckets(frame, [], _ORDER_BUCKETS)[ORDER_LINE_COLUMNS]
    frame = _sum_buckets(pd.DataFrame(rows), amounts, _ORDER_BUCKETS)
    frame = _keep_last(frame, "purchase_order_id").reset_index(drop=True)
    frame["order_date"] = _utc_from_ms(frame["order_ms"])
    frame["ship_date"] = _utc_from_ms(frame["ship_ms"].where(frame["ship_ms"].notna(), None))
    frame = frame.astype({"quantity": "int64", "shipped_quantity": "int64", "cancelled_quantity": "int64"})
    return frame[ORDER_LINE_COLUMNS]


def _order_refund_frame(rows: list[dict], amounts: list[tuple[int, str, int]]) -> pd.DataFrame:
    if not rows:
        return _sum_buckets(_empty([c for c in ORDER_REFUND_COLUMNS if c not in _REFUND_BUCKETS]), [],
                            _REFUND_BUCKETS)[ORDER_REFUND_COLUMNS]
    base = pd.DataFrame(rows)
    frame = _sum_buckets(base, amounts, _REFUND_BUCKETS)
    # Refunds are negative: a refund whose charges and taxes sum to more than zero is written the other way.
    total = frame[_REFUND_BUCKETS].sum(axis=1)
    sign = np.where(total > 0, -1, 1)
    frame[_REFUND_BUCKETS] = frame[_REFUND_BUCKETS].mul(sign, axis=0).astype("int64")
    frame = _keep_last(frame, "purchase_order_id").reset_index(drop=True)
    return frame[ORDER_REFUND_COLUMNS]
