"""Walmart API data (orders, returns, reconciliation rows, inventory) -> validated raw frames, with rejects.

Pure functions: plain Python data in (as the Walmart client returns it: money as `Decimal` or int, never
float; report rows as dicts of strings), pandera-validated frames out (`schemas.walmart`). Building the rows
walks the JSON (that is parsing); sums, signs, products and date conversions are done on whole columns.

A record that cannot even be flattened (a missing id, a quantity that is not a number, an unknown status,
an amount with more decimals than its currency has) becomes one reject with a reason naming the field;
the rest of the batch goes on. What flattens then goes through the pandera model row by row
(`validation.split_valid`). Money is integer minor units from `exact_minor`: never rounded, never float.

Decisions (FACTS.md leaves these open):
- Order charges are line totals (what the synthetic seller and every official example with quantity 1 give).
- A `SubscriptionDiscount` charge (any charge named "...Discount", or a negative PRODUCT charge) goes to
  discount_cents/discount_tax_cents, always <= 0 whatever sign the source uses.
- Line status: Shipped/Delivered (and the documented but rare `Refund`, which only follows a shipment)
  count as shipped quantity, Cancelled as cancelled quantity; `status` is the most advanced non-cancelled
  status (Delivered > Shipped > Acknowledged > Created); only Cancelled entries -> Cancelled.
- Order refunds are negative. Walmart's refund example is negative, an ATTRIBUTES example positive: the
  sign is decided per refund from the sum of its charges and taxes (a positive refund is flipped), so a
  charge inside a refund that goes the other way (a discount given back) keeps its relative sign.
- A refund section without refundId gets the deterministic id `<purchaseOrderId>-<lineNumber>-<n>`.
- Return lines: per-unit charge x quantity; discount charges (`isDiscount`, "...Discount" names or negative
  amounts) are subtracted from their category, so product_cents is the net product refund (as the order's
  refund section carries it); FEE charges and their tax go to fee_cents as a positive amount.
- A return line is `refunded` when its refund is complete for the whole line quantity: currentRefundStatus
  REFUND_COMPLETED, or currentTrackingStatuses / refundedQty covering the full quantity.
- One bad line makes its whole purchase order (or return) a reject: a document must never be built from
  part of its source. The same holds for a line the pandera model rejects (its siblings follow it).
- A purchase order (return) that appears twice in one batch (overlapping pages) is kept once, its last copy.
- customer_key = "WMC-" + sha256(lower-cased customerEmailId)[:16]; with no email at all, the hash of
  "order:<customerOrderId>" (a one-off customer, the same for the order and its returns).
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

import numpy as np
import pandas as pd

from walmart_accounting.domain.money import MoneyError, exact_minor
from walmart_accounting.schemas.walmart import (
    SETTLEMENT_TRANSACTION_TYPES,
    InventorySnapshot,
    OrderLine,
    OrderRefund,
    ReturnLine,
    SettlementRow,
)
from walmart_accounting.transform.validation import REJECT_COLUMNS, Validated, empty_rejects, split_valid

DEFAULT_CURRENCY = "USD"  # Walmart US marketplace; used only when a record carries no currency at all
REFUND_COMPLETED = "REFUND_COMPLETED"
PAYMENT_SUMMARY = "PaymentSummary"

ORDER_LINE_COLUMNS = list(OrderLine.to_schema().columns)
ORDER_REFUND_COLUMNS = list(OrderRefund.to_schema().columns)
RETURN_LINE_COLUMNS = list(ReturnLine.to_schema().columns)
SETTLEMENT_COLUMNS = list(SettlementRow.to_schema().columns)
INVENTORY_COLUMNS = list(InventorySnapshot.to_schema().columns)

_ORDER_BUCKETS = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents", "discount_cents",
                  "discount_tax_cents"]
_REFUND_BUCKETS = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents"]
_RETURN_BUCKETS = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents", "fee_cents"]

# Order line statuses: rank of progress, and which count as shipped.
_STATUS_RANK = {"Created": 0, "Acknowledged": 1, "Shipped": 2, "Delivered": 3, "Refund": 2}
_STATUS_NAMES = {name.lower(): name for name in [*_STATUS_RANK, "Cancelled"]}
_SHIPPED = {"Shipped", "Delivered", "Refund"}
_RANK_STATUS = {0: "Created", 1: "Acknowledged", 2: "Shipped", 3: "Delivered"}

_TRANSACTION_TYPES = {name.lower(): name for name in SETTLEMENT_TRANSACTION_TYPES}
# SettlementRow column -> v1 report header (FACTS.md section 4); parsed by name, extra columns ignored.
_RECON_TEXT_COLUMNS = {
    "transaction_key": "Transaction Key",
    "transaction_description": "Transaction Description",
    "amount_type": "Amount Type",
    "customer_order_id": "Customer Order #",
    "purchase_order_id": "Purchase Order #",
    "purchase_order_line": "Purchase Order line #",
    "sku": "Partner Item Id",
    "ship_to_state": "Ship to State",
    "fulfillment_type": "Fulfillment Type",
}
_RECON_HEADERS = [*_RECON_TEXT_COLUMNS.values(), "Period Start Date", "Period End Date", "Total Payable", "Currency",
                  "Transaction Posted Timestamp", "Transaction Type", "Amount", "Ship Qty"]


class _Bad(ValueError):
    """A record that cannot be flattened; the message names the field and the value."""


# --- small parsers (per value) --------------------------------------------------------------------


def _items(value: Any, inner: str | None, field: str) -> list:
    """A JSON list that Walmart may wrap ({"orderLine": [...]}), send as one object, or leave out."""
    if inner is not None and isinstance(value, dict) and inner in value:
        value = value[inner]
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    raise _Bad(f"{field} is not a list: {value!r}")


def _obj(value: Any, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(f"{field} is not an object: {value!r}")
    return value


def _text(value: Any, field: str, required: bool = True) -> str | None:
    """An identifier or label: a non-empty string (an integer is taken as its digits)."""
    if isinstance(value, bool):
        raise _Bad(f"{field} is not a string: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Bad(f"{field} is missing")
        return None
    raise _Bad(f"{field} is not a string: {value!r}")


def _count(value: Any, field: str, minimum: int = 0) -> int:
    """A whole number of units: int, digit string or integral Decimal; never a float or a fraction."""
    if isinstance(value, bool) or isinstance(value, float):
        raise _Bad(f"{field} is not a whole number: {value!r}")
    number: Decimal | int
    if isinstance(value, int):
        number = value
    elif isinstance(value, (str, Decimal)):
        try:
            number = Decimal(value.strip()) if isinstance(value, str) else value
        except ArithmeticError:
            raise _Bad(f"{field} is not a number: {value!r}") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise _Bad(f"{field} is not a whole number: {value!r}")
        number = int(number)
    elif value is None:
        raise _Bad(f"{field} is missing")
    else:
        raise _Bad(f"{field} is not a number: {value!r}")
    if number < minimum:
        raise _Bad(f"{field} must be at least {minimum}, got {value!r}")
    return number


def _currency(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        raise _Bad(f"{field} is not a currency code: {value!r}")
    return value.strip().upper()


def _cents(amount: Any, currency: str, field: str) -> int:
    if amount is None:
        raise _Bad(f"{field} is missing")
    try:
        return exact_minor(amount, currency)
    except MoneyError as exc:
        raise _Bad(f"{field}: {exc}") from None


def _epoch_ms(value: Any, field: str) -> int:
    """Epoch milliseconds (Walmart's order dates); a numeric string or an ISO timestamp is accepted too."""
    if isinstance(value, bool) or value is None:
        raise _Bad(f"{field} is missing" if value is None else f"{field} is not a timestamp: {value!r}")
    if isinstance(value, (int, Decimal)) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        return _count(value, field, minimum=-(2**62))
    if isinstance(value, str):
        try:
            stamp = pd.Timestamp(value.strip())
        except (ValueError, TypeError):
            raise _Bad(f"{field} is not a timestamp: {value!r}") from None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return int(stamp.value // 1_000_000)
    raise _Bad(f"{field} is not a timestamp: {value!r}")


def customer_key(email: Any, customer_order_id: str | None = None) -> str:
    """Stable external id of a Walmart customer: the hash of the lower-cased relay email.

    Without an email, the hash of the customer order id: a one-off customer, the same for an order
    and its returns.
    """
    if email is not None and not isinstance(email, str):
        raise _Bad(f"customerEmailId is not a string: {email!r}")
    basis = email.strip().lower() if email and email.strip() else None
    if basis is None:
        if not customer_order_id:
            raise _Bad("customerEmailId is missing and there is no customerOrderId")
        basis = f"order:{customer_order_id}"
    return "WMC-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def _reject(key: str, reason: str, record: Any) -> dict:
    return {"record_key": key, "reason": reason, "record": record}


def _rejects(rows: list[dict], *more: pd.DataFrame) -> pd.DataFrame:
    frames = [f for f in more if len(f)]
    if rows:
        frames.insert(0, pd.DataFrame(rows, columns=REJECT_COLUMNS))
    if not frames:
        return empty_rejects()
    return pd.concat(frames, ignore_index=True)


def _record_key(record: Any, field: str, kind: str, position: int) -> str:
    value = record.get(field) if isinstance(record, dict) else None
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return f"{kind}[{position}]"


def _sum_buckets(base: pd.DataFrame, amounts: list[tuple[int, str, int]], buckets: list[str]) -> pd.DataFrame:
    """Add one integer column per bucket to `base` (indexed 0..n-1): the sum of (row, bucket, cents) entries."""
    if amounts:
        long = pd.DataFrame(amounts, columns=["row", "bucket", "cents"]).astype({"row": "int64", "cents": "int64"})
        wide = long.pivot_table(index="row", columns="bucket", values="cents", aggfunc="sum", fill_value=0)
    else:
        wide = pd.DataFrame(index=pd.Index([], dtype="int64", name="row"))
    wide = wide.reindex(index=base.index, columns=buckets, fill_value=0).fillna(0).astype("int64")
    return base.join(wide)


def _keep_last(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of the last record (by batch position) carrying each key: a page overlap never doubles a record."""
    if frame.empty:
        return frame
    last = frame.groupby(key)["_position"].transform("max")
    return frame[frame["_position"] == last]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _utc_from_ms(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype("Int64"), unit="ms", utc=True).astype("datetime64[ns, UTC]")


# --- orders ---------------------------------------------------------------------------------------


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


def _one_currency(currencies: Iterable[str], field: str) -> str:
    found = sorted(set(currencies))
    if len(found) > 1:
        raise _Bad(f"{field} mix currencies: {', '.join(found)}")
    return found[0] if found else DEFAULT_CURRENCY


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
        "ship_to_state": _text(postal.get("state"), "shippingInfo.postalAddress.state", required=False),
        "ship_to_postal_code": _text(postal.get("postalCode"), "shippingInfo.postalAddress.postalCode",
                                     required=False),
        "ship_node_type": _text(node.get("type"), "shipNode.type", required=False),
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


def _reject_siblings(checked: Validated, group: str, keys: list[str],
                     what: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows sharing `group` with a rejected row are rejected too: no document is built from part of its source."""
    if checked.rejects.empty or checked.valid.empty:
        return checked.valid, checked.rejects
    bad = {r.get(group) for r in checked.rejects["record"] if isinstance(r, dict)}
    follow = checked.valid[group].isin(bad)
    if not follow.any():
        return checked.valid, checked.rejects
    moved = checked.valid[follow]
    extra = pd.DataFrame({
        "record_key": moved[keys].astype(str).agg(":".join, axis=1).to_numpy(),
        "reason": (f"another line of {what} " + moved[group] + " was rejected").to_numpy(),
        "record": moved.astype(object).where(moved.notna(), None).to_dict("records"),
    })
    return checked.valid[~follow], pd.concat([checked.rejects, extra], ignore_index=True)


# --- returns --------------------------------------------------------------------------------------


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
        frame = frame.astype({"return_date": "datetime64[ns, UTC]", "quantity": "int64", "refunded": "bool"})
        checked = split_valid(frame[RETURN_LINE_COLUMNS], ReturnLine, ["return_order_id", "return_line_number"])
        return Validated(checked.valid, _rejects(rejects, checked.rejects))
    # Per-unit amounts: the line's totals are the sums times the returned quantity (integer arithmetic).
    frame = _sum_buckets(pd.DataFrame(rows), amounts, _RETURN_BUCKETS)
    frame["quantity"] = frame["quantity"].astype("int64")
    frame[_RETURN_BUCKETS] = frame[_RETURN_BUCKETS].mul(frame["quantity"], axis=0).astype("int64")
    frame["return_date"] = pd.to_datetime(frame["return_date_raw"], utc=True, format="ISO8601",
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


# --- settlement (reconciliation report v1) --------------------------------------------------------


def _clean(series: pd.Series) -> pd.Series:
    """Report cells as stripped strings; empty and the literal two-quote value ('""') become ''."""
    text = series.fillna("").astype(str).str.strip()
    return text.mask(text.isin(['""', "''"]), "")


def _mdy(series: pd.Series) -> pd.Series:
    """MM/DD/YYYY (a trailing time is ignored) -> naive Timestamp, NaT where it is not such a date."""
    day = series.str.split(r"[ T]", n=1, regex=True).str[0]
    return pd.to_datetime(day, format="%m/%d/%Y", errors="coerce").astype("datetime64[ns]")


def _join_reasons(index: pd.Index, *checks: pd.Series) -> pd.Series:
    """One '; '-joined reason per row from aligned Series of optional messages."""
    reasons = pd.Series("", index=index, dtype="object")
    for check in checks:
        message = check.reindex(index).fillna("")
        sep = np.where((reasons != "") & (message != ""), "; ", "")
        reasons = reasons + sep + message
    return reasons


def _money_cells(amounts: pd.Series, currencies: pd.Series, label: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(cents, error message) per cell: exact conversion, refusing amounts that would need rounding."""
    cents, errors = [], []
    for amount, currency, name in zip(amounts, currencies, label, strict=True):
        try:
            if not amount:
                raise MoneyError("is empty")
            cents.append(exact_minor(amount, currency or DEFAULT_CURRENCY))
            errors.append("")
        except MoneyError as exc:
            cents.append(0)
            errors.append(f"{name} {amount!r}: {exc}" if amount else f"{name} is empty")
    return pd.Series(cents, index=amounts.index, dtype="int64"), pd.Series(errors, index=amounts.index, dtype="object")


def settlement_frame(report_date: str, rows: list[dict[str, str]],
                     return_order_ids: dict[tuple[str, str], str] | None = None) -> Validated:
    """The rows of one v1 reconciliation report -> SettlementRow per row (the PaymentSummary carries the payout)."""
    rows = list(rows or [])
    rejects: list[dict] = []
    records, positions = [], []
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            rejects.append(_reject(f"{report_date}:{position}", "row is not a mapping of column to value", row))
            continue
        records.append({str(k).strip(): v for k, v in row.items() if k is not None})
        positions.append(position)
    if not records:
        checked = split_valid(_empty_settlement(), SettlementRow, ["report_date", "row_number"])
        return Validated(checked.valid, _rejects(rejects, checked.rejects))

    raw = pd.DataFrame.from_records(records, index=pd.Index(positions, name=None))
    for header in _RECON_HEADERS:
        if header not in raw.columns:
            raw[header] = ""
    cells = {header: _clean(raw[header]) for header in _RECON_HEADERS}

    ttype = cells["Transaction Type"].str.lower().map(_TRANSACTION_TYPES)
    summary = ttype == PAYMENT_SUMMARY
    unknown = "unknown Transaction Type " + cells["Transaction Type"].map(repr)
    type_error = pd.Series(np.where(ttype.isna(), unknown, ""), index=raw.index)

    # The period, and the default currency, come from the PaymentSummary row for every row.
    report_error = ""
    period_start = period_end = pd.NaT
    summary_currency = ""
    if summary.sum() != 1:
        report_error = f"the report has {int(summary.sum())} PaymentSummary rows, not 1"
    else:
        first = summary[summary].index[0]
        period_start = _mdy(cells["Period Start Date"].loc[[first]]).iloc[0]
        period_end = _mdy(cells["Period End Date"].loc[[first]]).iloc[0]
        summary_currency = cells["Currency"].loc[first]
        if pd.isna(period_start) or pd.isna(period_end):
            report_error = (f"PaymentSummary period {cells['Period Start Date'].loc[first]!r} - "
                            f"{cells['Period End Date'].loc[first]!r} is not MM/DD/YYYY")

    currency = cells["Currency"].mask(cells["Currency"] == "", summary_currency).str.upper()
    currency_error = pd.Series(np.where(currency.str.fullmatch(r"[A-Z]{3}"), "",
                                        "Currency " + cells["Currency"].map(repr) + " is not a currency code"),
                               index=raw.index)
    amount_text = cells["Amount"].where(~summary, cells["Total Payable"])
    amount_label = pd.Series(np.where(summary, "Total Payable", "Amount"), index=raw.index)
    usable_currency = currency.where(currency_error == "", DEFAULT_CURRENCY)
    cents, amount_error = _money_cells(amount_text, usable_currency, amount_label)

    posted = _mdy(cells["Transaction Posted Timestamp"])
    posted_error = pd.Series(np.where(posted.isna(), "Transaction Posted Timestamp "
                                      + cells["Transaction Posted Timestamp"].map(repr) + " is not MM/DD/YYYY", ""),
                             index=raw.index)

    qty_text = cells["Ship Qty"]
    qty_number = pd.to_numeric(qty_text.mask(qty_text == "", None), errors="coerce")
    qty_ok = (qty_text == "") | (qty_number.notna() & (qty_number == qty_number.round()))
    qty_error = pd.Series(np.where(qty_ok, "", "Ship Qty " + qty_text.map(repr) + " is not a whole number"),
                          index=raw.index)

    reasons = _join_reasons(raw.index, pd.Series(report_error, index=raw.index), type_error, currency_error,
                            amount_error, posted_error, qty_error)

    frame = pd.DataFrame(index=raw.index)
    frame["report_date"] = str(report_date)
    frame["period_start"] = period_start
    frame["period_end"] = period_end
    frame["row_number"] = raw.index.astype("int64")
    for column, header in _RECON_TEXT_COLUMNS.items():
        frame[column] = cells[header].mask(cells[header] == "", None)
    frame["posted_date"] = posted
    frame["transaction_type"] = ttype
    frame["ship_qty"] = qty_number.where(qty_ok).round().astype("Int64")
    frame["currency"] = currency
    frame["amount_cents"] = cents
    lookup = return_order_ids or {}
    keys = zip(frame["purchase_order_id"], frame["purchase_order_line"], strict=True)
    frame["return_order_id"] = pd.Series([lookup.get((po, ln)) if po is not None else None for po, ln in keys],
                                         index=frame.index, dtype="object").where(ttype == "Refund", None)

    bad = reasons != ""
    for position in raw.index[bad]:
        rejects.append(_reject(f"{report_date}:{position}", reasons.loc[position], rows[position]))
    good = frame[~bad].reset_index(drop=True)[SETTLEMENT_COLUMNS]
    checked = split_valid(good if len(good) else _empty_settlement(), SettlementRow, ["report_date", "row_number"])
    return Validated(checked.valid, _rejects(rejects, checked.rejects))


def _empty_settlement() -> pd.DataFrame:
    frame = _empty(SETTLEMENT_COLUMNS)
    return frame.astype({"period_start": "datetime64[ns]", "period_end": "datetime64[ns]",
                         "posted_date": "datetime64[ns]", "row_number": "int64", "ship_qty": "Int64",
                         "amount_cents": "int64"})


# --- inventory ------------------------------------------------------------------------------------


def _quantity(node: dict, name: str, field: str, required: bool) -> int:
    value = node.get(name)
    if value is None:
        if required:
            raise _Bad(f"{field}.{name} is missing")
        return 0
    if isinstance(value, dict):  # {"unit": "EACH", "amount": 10}
        return _count(value.get("amount"), f"{field}.{name}.amount")
    return _count(value, f"{field}.{name}")  # the WFS/OOS shape sends a bare number


def inventory_frame(snapshot_date: date, inventories: list[dict], *,
                    ship_node_types: dict[str, str] | None = None) -> Validated:
    """Multi-node inventory elements ({sku, nodes:[{shipNode, availToSellQty, reservedQty, inputQty}]})
    -> one InventorySnapshot row per SKU and ship node. The inventory API does not say a node's type;
    pass `ship_node_types` (node -> SellerFulfilled/WFSFulfilled/...) to fill it, else it stays null."""
    node_types = ship_node_types or {}
    rows: list[dict] = []
    rejects: list[dict] = []
    for position, element in enumerate(inventories or []):
        key = _record_key(element, "sku", "inventories", position)
        try:
            element = _obj(element, "inventory")
            sku = _text(element.get("sku"), "sku")
            nodes = _items(element.get("nodes"), None, "nodes")
            if not nodes:
                raise _Bad("nodes is missing or empty")
        except _Bad as exc:
            rejects.append(_reject(key, str(exc), element))
            continue
        for i, node in enumerate(nodes):
            try:
                node = _obj(node, f"nodes[{i}]")
                ship_node = _text(node.get("shipNode"), f"nodes[{i}].shipNode")
                rows.append({
                    "sku": sku,
                    "ship_node": ship_node,
                    "ship_node_type": node_types.get(ship_node),
                    "available_quantity": _quantity(node, "availToSellQty", f"node {ship_node}", required=True),
                    "reserved_quantity": _quantity(node, "reservedQty", f"node {ship_node}", required=False),
                    "_position": position,
                })
            except _Bad as exc:
                rejects.append(_reject(f"{sku}:{node.get('shipNode') if isinstance(node, dict) else i}", str(exc),
                                       {"sku": sku, "node": node}))
    if rows:
        frame = pd.DataFrame(rows)
        frame["_pair"] = frame["sku"] + "\x00" + frame["ship_node"]
        frame = _keep_last(frame, "_pair").reset_index(drop=True)
        frame = frame.astype({"available_quantity": "int64", "reserved_quantity": "int64"})
    else:
        frame = _empty(INVENTORY_COLUMNS).astype({"available_quantity": "int64", "reserved_quantity": "int64"})
    frame["snapshot_date"] = pd.Series(pd.Timestamp(snapshot_date), index=frame.index, dtype="datetime64[ns]")
    checked = split_valid(frame[INVENTORY_COLUMNS], InventorySnapshot, ["sku", "ship_node"])
    return Validated(checked.valid, _rejects(rejects, checked.rejects))
