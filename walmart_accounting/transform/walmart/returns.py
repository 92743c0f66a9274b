"""Return orders (GET /v3/returns) -> ReturnLine rows with rejects, and the (order, line) -> return id map."""

from __future__ import annotations

from typing import Any

import pandas as pd

from walmart_accounting.schemas.walmart import ReturnLine
from walmart_accounting.transform.validation import Validated, split_valid
from walmart_accounting.transform.walmart.common import (
    DEFAULT_CURRENCY,
    _Bad,
    _cents,
    _count,
    _currency,
    _empty,
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
    customer_key,
)

REFUND_COMPLETED = "REFUND_COMPLETED"

RETURN_LINE_COLUMNS = list(ReturnLine.to_schema().columns)

_RETURN_BUCKETS = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents", "fee_cents"]


def _return_charge(charge: Any, field: str) -> tuple[str, int, int, list[str]]:
    """(category, signed per-unit amount cents, signed per-unit tax cents, currencies) of one return charge."""
    charge = _obj(charge, field)
    category = _text(charge.get("chargeCategory"), f"{field}.chargeCategory").upper()
    name = (_text(charge.get("chargeName"), f"{field}.chargeName", required=False) or "").lower()
    if category not in ("PRODUCT", "SHIPPING", "FEE"):
        raise _Bad(f"{field}.chargeCategory is unknown: {charge.get('chargeCategory')!r}")
    money = _obj(charge.get("chargePerUnit"), f"{field}.chargePerUnit")
    currency = _currency(money.get("currencyUnit"), f"{field}.chargePerUnit.currencyUnit")
    amount = _cents(money.get("currencyAmount"), currency or DEFAULT_CURRENCY, f"{field}.chargePerUnit.currencyAmount")
    currencies = [currency] if currency else []
    tax = 0
    for k, entry in enumerate(_items(charge.get("tax"), None, f"{field}.tax")):
        per_unit = _obj(_obj(entry, f"{field}.tax[{k}]").get("taxPerUnit"), f"{field}.tax[{k}].taxPerUnit")
        if per_unit.get("currencyAmount") is None:
            continue
        tax_currency = _currency(per_unit.get("currencyUnit"), f"{field}.tax[{k}].taxPerUnit.currencyUnit")
        tax += _cents(per_unit["currencyAmount"], tax_currency or currency or DEFAULT_CURRENCY,
                      f"{field}.tax[{k}].taxPerUnit.currencyAmount")
        currencies += [tax_currency] if tax_currency else []
    if category == "FEE":
        return "fee", abs(amount) + abs(tax), 0, currencies
    if category == "PRODUCT" and name == "shipping":  # defensive: shipping sent under PRODUCT
        category = "SHIPPING"
    discount = charge.get("isDiscount") is True or "discount" in name or amount < 0
    sign = -1 if discount else 1
    return category.lower(), sign * abs(amount), sign * abs(tax), currencies


def _refund_state(line: dict, quantity: int, field: str) -> tuple[str | None, bool]:
    status = _text(line.get("currentRefundStatus"), f"{field}.currentRefundStatus", required=False)
    tracking = [_obj(t, f"{field}.currentTrackingStatuses[{i}]")
                for i, t in enumerate(_items(line.get("currentTrackingStatuses"), None,
                                             f"{field}.currentTrackingStatuses"))]
    tracking_statuses = [t.get("currentRefundStatus") for t in tracking if t.get("currentRefundStatus")]
    completed = sum(
        _count(_obj(t.get("quantity"), f"{field}.currentTrackingStatuses.quantity").get("measurementValue", 0),
               f"{field}.currentTrackingStatuses.quantity.measurementValue")
        for t in tracking if t.get("currentRefundStatus") == REFUND_COMPLETED
    )
    refunded_qty = line.get("refundedQty")
    refunded = (
        status == REFUND_COMPLETED
        or (completed >= quantity)
        or (refunded_qty is not None and _count(refunded_qty, f"{field}.refundedQty") >= quantity)
    )
    if status is None:
        if refunded:
            status = REFUND_COMPLETED
        elif tracking_statuses and len(set(tracking_statuses)) == 1:
            status = str(tracking_statuses[0])
    return status, refunded


def _refund_time(line: dict, ret: dict, refunded: bool) -> str | None:
    """When Walmart completed the line's refund: the credit note's date (cut-off), not the return's creation.

    The latest REFUND_COMPLETED entry of currentTrackingStatuses; else a REFUND_COMPLETED tracking event
    of the line or the return; else, for a refunded line, its own statusTime. None when unknown.
    """
    times = [t.get("statusTime") for t in _items(line.get("currentTrackingStatuses"), None, "currentTrackingStatuses")
             if isinstance(t, dict) and t.get("currentRefundStatus") == REFUND_COMPLETED]
    if not times:
        events = (_items(line.get("returnTrackingDetail"), None, "returnTrackingDetail")
                  + _items(ret.get("returnTrackingDetail"), None, "returnTrackingDetail"))
        times = [e.get("eventTime") for e in events if isinstance(e, dict) and e.get("eventTag") == REFUND_COMPLETED]
    if not times and refunded:
        times = [line.get("statusTime")]
    found = [t.strip() for t in times if isinstance(t, str) and t.strip()]
    return max(found) if found else None


def _flatten_return(ret: Any, position: int) -> tuple[list[dict], list[list[tuple[str, int]]]]:
    ret = _obj(ret, "returnOrder")
    return_id = _text(ret.get("returnOrderId"), "returnOrderId")
    customer_order_id = _text(ret.get("customerOrderId"), "customerOrderId")
    key = customer_key(ret.get("customerEmailId"), customer_order_id)
    name = _obj(ret.get("customerName"), "customerName")
    parts = [_text(name.get(p), f"customerName.{p}", required=False) for p in ("firstName", "lastName")]
    return_date = ret.get("returnOrderDate")
    if not isinstance(return_date, str) or not return_date.strip():
        raise _Bad(f"returnOrderDate is missing or not a string: {return_date!r}")
    total_currency = _currency(_obj(ret.get("totalRefundAmount"), "totalRefundAmount").get("currencyUnit"),
                               "totalRefundAmount.currencyUnit")
    if "returnOrderLines" not in ret or ret["returnOrderLines"] is None:
        raise _Bad("returnOrderLines is missing")
    raw_lines = _items(ret["returnOrderLines"], None, "returnOrderLines")
    if not raw_lines:
        raise _Bad("returnOrderLines is empty")
    rows, amounts = [], []
    for i, line in enumerate(raw_lines):
        field = f"returnOrderLine[{i}]"
        line = _obj(line, field)
        number = _text(line.get("returnOrderLineNumber"), f"{field}.returnOrderLineNumber")
        field = f"returnOrderLine {number}"
        quantity = _count(_obj(line.get("quantity"), f"{field}.quantity").get("measurementValue"),
                          f"{field}.quantity.measurementValue", minimum=1)
        currencies, per_unit = [], []
        for j, charge in enumerate(_items(line.get("charges"), None, f"{field}.charges")):
            category, amount, tax, found = _return_charge(charge, f"{field}.charge[{j}]")
            currencies += found
            if category == "fee":
                per_unit.append(("fee_cents", amount))
            else:
                per_unit += [(f"{category}_cents", amount), (f"{category}_tax_cents", tax)]
        refund_status, refunded = _refund_state(line, quantity, field)
        rows.append({
            "return_order_id": return_id,
            "customer_order_id": customer_order_id,
            "customer_key": key,
            "customer_name": " ".join(p for p in parts if p) or None,
            "return_date_raw": return_date.strip(),
            "purchase_order_id": _text(line.get("purchaseOrderId"), f"{field}.purchaseOrderId"),
            "purchase_order_line_number": _text(line.get("purchaseOrderLineNumber"),
                                                f"{field}.purchaseOrderLineNumber"),
            "return_line_number": number,
            "sku": _text(_obj(line.get("item"), f"{field}.item").get("sku"), f"{field}.item.sku"),
            "quantity": quantity,
            "refund_status": refund_status,
            "refunded": refunded,
            "refund_date_raw": _refund_time(line, ret, refunded),
            "currency": _one_currency(currencies or ([total_currency] if total_currency else []),
                                      f"{field} charges"),
            "_position": position,
        })
        amounts.append(per_unit)
    return rows, amounts


def return_frame(returns: list[dict]) -> Validated:
    """Return orders as GET /v3/returns returns them -> one ReturnLine per returnOrderLine, with rejects."""
    rows: list[dict] = []
    amounts: list[tuple[int, str, int]] = []
    rejects: list[dict] = []
    raw = list(returns or [])
    for position, ret in enumerate(raw):
        try:
            lines, per_unit = _flatten_return(ret, position)
        except _Bad as exc:
            rejects.append(_reject(_record_key(ret, "returnOrderId", "returns", position), str(exc), ret))
            continue
        for row, unit_amounts in zip(lines, per_unit, strict=True):
            amounts += [(len(rows), bucket, cents) for bucket, cents in unit_amounts]
            rows.append(row)
    if not rows:
        frame = _sum_buckets(_empty([c for c in RETURN_LINE_COLUMNS if c not in _RETURN_BUCKETS]), [],
                             _RETURN_BUCKETS)
        frame = frame.astype({"return_date": "datetime64[ns, UTC]", "refund_date": "datetime64[ns, UTC]",
                              "quantity": "int64", "refunded": "bool"})
        checked = split_valid(frame[RETURN_LINE_COLUMNS], ReturnLine, ["return_order_id", "return_line_number"])
        return Validated(checked.valid, _rejects(rejects, checked.rejects))
    # Per-unit amounts: the line's totals are the sums times the returned quantity (integer arithmetic).
    frame = _sum_buckets(pd.DataFrame(rows), amounts, _RETURN_BUCKETS)
    frame["quantity"] = frame["quantity"].astype("int64")
    frame[_RETURN_BUCKETS] = frame[_RETURN_BUCKETS].mul(frame["quantity"], axis=0).astype("int64")
    frame["return_date"] = pd.to_datetime(frame["return_date_raw"], utc=True, format="ISO8601",
                                          errors="coerce").astype("datetime64[ns, UTC]")
    # an unreadable refund time is not a reason to refuse the return: the credit note falls back to its creation
    frame["refund_date"] = pd.to_datetime(frame["refund_date_raw"], utc=True, format="ISO8601",
                                          errors="coerce").astype("datetime64[ns, UTC]")
    bad_date = frame["return_date"].isna()
    for position in frame.loc[bad_date, "_position"].unique():
        value = frame.loc[frame["_position"] == position, "return_date_raw"].iloc[0]
        rejects.append(_reject(_record_key(raw[position], "returnOrderId", "returns", position),
                               f"returnOrderDate is not an ISO timestamp: {value!r}", raw[position]))
    frame = frame[~bad_date].copy()
    frame = _keep_last(frame, "return_order_id").reset_index(drop=True)
    checked = split_valid(frame[RETURN_LINE_COLUMNS], ReturnLine, ["return_order_id", "return_line_number"])
    valid, schema_rejects = _reject_siblings(checked, "return_order_id", ["return_order_id", "return_line_number"],
                                             "return")
    return Validated(valid, _rejects(rejects, schema_rejects))


def return_order_map(order_refunds: pd.DataFrame, return_lines: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(purchase_order_id, line number) -> return_order_id, from the orders' refund sections and the returns API.

    When a line was returned more than once, the refund section's id wins (it is the refunded one), then
    the latest return.
    """
    found: dict[tuple[str, str], str] = {}
    if return_lines is not None and len(return_lines):
        lines = return_lines.dropna(subset=["purchase_order_id", "purchase_order_line_number", "return_order_id"])
        if "return_date" in lines.columns:
            lines = lines.sort_values(["return_date", "return_order_id"], kind="stable")
        found.update(zip(zip(lines["purchase_order_id"].astype(str), lines["purchase_order_line_number"].astype(str),
                             strict=True),
                         lines["return_order_id"].astype(str), strict=True))
    if order_refunds is not None and len(order_refunds):
        refunds = order_refunds.dropna(subset=["purchase_order_id", "line_number", "return_order_id"])
        found.update(zip(zip(refunds["purchase_order_id"].astype(str), refunds["line_number"].astype(str), strict=True),
                         refunds["return_order_id"].astype(str), strict=True))
    return found
