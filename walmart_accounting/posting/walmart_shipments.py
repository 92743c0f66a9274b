"""Walmart as a posting target: each goods delivery the ledger recorded goes to Walmart once, as its lines' shipment.

The posting engine's exactly-once protocol applies: a shipment is claimed under its key (purchase order and
delivery number), and an answer that was lost is resolved by reading the order back, where a shipped line
carries the tracking number it was shipped with.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Sequence

from walmart_accounting.connectors.errors import NotFoundError, ValidationError
from walmart_accounting.connectors.walmart import WalmartClient
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.documents import DocumentKind, walmart_line_order
from walmart_accounting.domain.keys import DocumentKeyError, sales_order_key, shipment_key
from walmart_accounting.posting.documents import LedgerDocument
from walmart_accounting.posting.engine import PostResult

SALES_ORDER_PREFIX = sales_order_key("X")[:-1]  # "WM-SO-": the orders the loop put in the ledger


def _order_lines(order: dict) -> list[dict]:
    lines = (order.get("orderLines") or {}).get("orderLine") or []
    return lines if isinstance(lines, list) else [lines]


def _statuses(line: dict) -> list[dict]:
    found = (line.get("orderLineStatuses") or {}).get("orderLineStatus") or []
    return found if isinstance(found, list) else [found]


def _walmart_line_numbers(order: dict) -> list[str]:
    """The order's line numbers in the order the sales order's lines were created (transform/order_loop.line_order)."""
    return sorted((str(line.get("lineNumber")) for line in _order_lines(order)), key=walmart_line_order)


def _shipped_with(order: dict, line_number: str, tracking: str) -> int:
    """Units of a line Walmart shows Shipped under this tracking number."""
    for line in _order_lines(order):
        if str(line.get("lineNumber")) == line_number:
            return sum(int(Decimal(str((s.get("statusQuantity") or {}).get("amount") or 0))) for s in _statuses(line)
                       if s.get("status") in ("Shipped", "Delivered")
                       and str((s.get("trackingInfo") or {}).get("trackingNumber") or "") == tracking)
    return 0


def shipment_documents(deliveries: list[dict], orders: dict[str, dict], config: MappingConfig,
                       now: datetime) -> tuple[list[LedgerDocument], list[tuple[str, str, dict]]]:
    """The shipments of the deliveries of loop orders: (documents, refused as (key, reason, record)).

    `orders` are the Walmart orders by purchase order id. A delivery without a tracking number, with a
    shipping method `order_loop.carriers` does not map, or of a line the order does not have, is refused.
    """
    documents, refused = [], []
    for delivery in deliveries:
        by_order: dict[str, list[dict]] = {}
        for line in delivery["lines"]:
            if line["your_ref"].startswith(SALES_ORDER_PREFIX):
                by_order.setdefault(line["your_ref"][len(SALES_ORDER_PREFIX):], []).append(line)
        for po, lines in sorted(by_order.items()):
            key = shipment_key(po, delivery["delivery_number"])
            record = {"purchase_order_id": po, "delivery": {k: v for k, v in delivery.items() if k != "lines"},
                      "lines": lines}
            carrier = config.order_loop.carriers.get(delivery["shipping_method"])
            order = orders.get(po)
            numbers = _walmart_line_numbers(order) if order else []
            problems = []
            if carrier is None:
                problems.append(f"shipping method {delivery['shipping_method'] or '(none)'} has no carrier under "
                                "order_loop.carriers")
            if order is None:
                problems.append(f"Walmart has no purchase order {po}")
            if any(not line["tracking_number"] for line in lines):
                problems.append("the delivery has no tracking number; Walmart needs one")
            if any(not 1 <= line["order_line"] <= len(numbers) for line in lines) and order is not None:
                problems.append("a delivered sales order line is not a line of the Walmart order")
            if problems:
                refused.append((key, "; ".join(problems), record))
                continue
            delivered = _as_utc(delivery.get("delivery_date"))
            documents.append(_shipment(key, po, order, carrier, delivered, now, f"delivery {delivery['delivery_number']}", [
                (numbers[line["order_line"] - 1], line["quantity"], line["tracking_number"])
                for line in sorted(lines, key=lambda ln: ln["order_line"])]))
    return documents, refused


def _shipment(key: str, po: str, order: dict, carrier, shipped: datetime | None, now: datetime, source: str,
              lines: list[tuple[str, int, str]]) -> LedgerDocument:
    """The shipment document of (Walmart line number, quantity, tracking number) lines of one order."""
    placed = datetime.fromtimestamp(int(order.get("orderDate") or 0) / 1000, UTC)
    ship_time = min(now, max(shipped or now, placed))  # never before the order, never in the future
    header = {"ledger": "walmart", "document_key": key, "document_kind": DocumentKind.SHIPMENT.value,
              "document_date": ship_time.date().isoformat(), "source_ids": f"{po} {source}", "purchase_order_id": po}
    body = [{"line_number": number, "quantity": int(quantity), "tracking_number": tracking, "carrier": carrier.carrier,
             "other_carrier": carrier.other_carrier, "method_code": carrier.method_code,
             "tracking_url": (carrier.tracking_url or "").replace("{tracking}", tracking) or None,
             "ship_time": ship_time.isoformat(), "amount_cents": 0, "tax_cents": 0} for number, quantity, tracking in lines]
    return LedgerDocument(key=key, kind=DocumentKind.SHIPMENT, ledger="walmart", header=header, lines=tuple(body))


SHIPMENT_FILE_COLUMNS = ("purchase_order_id", "line_number", "quantity", "carrier", "tracking_number")


def file_shipment_documents(content: str, source: str, orders: dict[str, dict], config: MappingConfig,
                            now: datetime) -> tuple[list[LedgerDocument], list[tuple[str, str, dict]]]:
    """A warehouse's shipment CSV (purchase_order_id, line_number, quantity, carrier, tracking_number[, ship_date]):
    one shipment per order and tracking number; a row that cannot be sent is refused with its reason."""
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in SHIPMENT_FILE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [(f"{source}", f"{source}: the shipment file lacks the columns {', '.join(missing)}", {})]
    parcels: dict[tuple[str, str], list[dict]] = {}
    refused = []
    for number, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        where = f"{source} line {number}"
        try:
            quantity = int(row["quantity"])
            key = shipment_key(row["purchase_order_id"], row["tracking_number"])
        except (ValueError, DocumentKeyError) as exc:
            refused.append((where, f"{where}: {exc}", row))
            continue
        if quantity < 1:
            refused.append((key, f"{where}: quantity {quantity} is not a positive number of units", row))
            continue
        parcels.setdefault((row["purchase_order_id"], row["tracking_number"]), []).append({**row, "_where": where})
    documents = []
    for (po, tracking), rows in sorted(parcels.items()):
        key = shipment_key(po, tracking)
        order = orders.get(po)
        carriers = {r["carrier"] for r in rows}
        carrier = config.order_loop.carriers.get(next(iter(carriers))) if len(carriers) == 1 else None
        known = {str(line.get("lineNumber")) for line in _order_lines(order)} if order else set()
        problems = [p for p, bad in (
            (f"Walmart has no purchase order {po}", order is None),
            (f"carrier {', '.join(sorted(carriers))} is not one of order_loop.carriers ({', '.join(config.order_loop.carriers)})",
             carrier is None),
            ("line " + ", ".join(sorted({r['line_number'] for r in rows} - known)) + " is not a line of the order",
             order is not None and not {r["line_number"] for r in rows} <= known)) if bad]
        if problems:
            refused.append((key, f"{rows[0]['_where']}: " + "; ".join(problems), {"rows": rows}))
            continue
        shipped = _as_utc(rows[0]["ship_date"]) if rows[0].get("ship_date") else None
        documents.append(_shipment(key, po, order, carrier, shipped, now, f"tracking {tracking} ({source})",
                                   [(r["line_number"], int(r["quantity"]), tracking) for r in rows]))
    return documents, refused


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    if text.startswith("/Date("):  # Exact's OData JSON dates: /Date(1700000000000)/
        return datetime.fromtimestamp(int(text[6:].split(")")[0].split("+")[0]) / 1000, UTC)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class WalmartShipments:
    """The LedgerAdapter of Walmart's ship confirmations (ledger name `walmart`)."""

    ledger = "walmart"
    batch_size = 1  # one purchase order per call

    def __init__(self, client: WalmartClient):
        self.client = client

    def find_posted(self, documents: Sequence[LedgerDocument]) -> dict[str, str]:
        """The shipments Walmart already shows: every line shipped under its tracking number, in its quantity."""
        found = {}
        for document in documents:
            try:
                order = self.client.get_order(str(document.header["purchase_order_id"]))
            except NotFoundError:
                continue
            if all(_shipped_with(order, str(line["line_number"]), str(line["tracking_number"])) >= int(line["quantity"])
                   for line in document.lines):
                found[document.key] = str(document.lines[0]["tracking_number"])
        return found

    def post_batch(self, documents: Sequence[LedgerDocument]) -> list[PostResult]:
        """Confirm each shipment; Walmart's refusal (a 400 or 404) is the document's rejection, with its message."""
        results = []
        for document in documents:
            po = str(document.header["purchase_order_id"])
            lines = [{**line, "ship_time": datetime.fromisoformat(str(line["ship_time"]))} for line in document.lines]
            try:
                order = self.client.get_order(po)
                # Walmart ships only acknowledged lines: acknowledging is idempotent, so a line still Created is.
                if any(s.get("status") == "Created" for line in _order_lines(order) for s in _statuses(line)):
                    self.client.acknowledge_order(po)
                self.client.ship_order_lines(po, lines)
            except (ValidationError, NotFoundError) as exc:
                results.append(PostResult(document.key, False, error=f"Walmart refused the shipment of {po}: "
                                                                     f"{exc.message}",
                                          correlation_id=exc.correlation_id))
                continue
            results.append(PostResult(document.key, True, external_id=str(document.lines[0]["tracking_number"])))
        return results
