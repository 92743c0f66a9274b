"""Exact Online's side of the order loop: sales orders for seller-fulfilled Walmart orders, and the goods deliveries of them.

A sales order is ``salesorder/SalesOrders`` with ``YourRef`` = the document key, lines in the Walmart order's
line order (so Exact's line k is the order's k-th line), in the warehouse the order ships from. A goods
delivery (``salesorder/GoodsDeliveries`` with its lines) is what the warehouse shipped: read back here for
the shipment confirmations to Walmart.
"""

from __future__ import annotations

from datetime import datetime

from walmart_accounting.connectors.exact import ExactClient, ODataLiteral, any_of, eq
from walmart_accounting.posting.documents import LedgerDocument

SALES_ORDERS = "salesorder/SalesOrders"
GOODS_DELIVERIES = "salesorder/GoodsDeliveries"
GOODS_DELIVERY_LINES = "salesorder/GoodsDeliveryLines"
LOOKUP_CHUNK = 10


def _chunks(values: list) -> list[list]:
    return [values[i:i + LOOKUP_CHUNK] for i in range(0, len(values), LOOKUP_CHUNK)]


class ExactOrders:
    """Posts sales orders and reads goods deliveries for one Exact division."""

    def __init__(self, client: ExactClient, adapter):
        self.client = client
        self.adapter = adapter  # the ExactAdapter: its customer, item and warehouse lookups and unit prices

    def find_posted(self, keys: list[str]) -> dict[str, str]:
        """Document key -> OrderID of the sales orders Exact holds under our keys."""
        found = {}
        for chunk in _chunks(sorted(set(keys))):
            for row in self.client.query(SALES_ORDERS, filter=any_of("YourRef", chunk), select=["OrderID", "YourRef"]):
                found[str(row["YourRef"])] = str(row["OrderID"])
        return found

    def post(self, document: LedgerDocument) -> str:
        """Create the sales order (its lines inline); returns its OrderID."""
        existing = self.find_posted([document.key]).get(document.key)
        if existing:
            return existing
        adapter = self.adapter
        items = adapter._item_ids(document, [str(line["item_code"]) for line in document.lines])
        currency = str(document.header["currency"])
        lines = []
        for line in document.lines:
            quantity = int(line["quantity"])
            net = adapter._unit_price(int(line["amount_cents"]), quantity, currency)
            lines.append({"Item": items[str(line["item_code"])], "Quantity": quantity, "NetPrice": net,
                          "Description": str(line["description"])[:60], "Notes": str(line["description"])})
        created = self.client.create(SALES_ORDERS, {
            "OrderedBy": adapter._customer(document), "OrderDate": str(document.header["document_date"])[:10],
            "YourRef": document.key, "Description": f"Walmart order {document.header.get('source_ids')}"[:60],
            "WarehouseID": adapter.stock.warehouse_id(str(document.lines[0]["counter_account"]), document.key),
            "SalesOrderLines": lines})
        return str(created["OrderID"])

    def deliveries_since(self, since: datetime) -> list[dict]:
        """Goods deliveries modified since `since`, with their lines and the YourRef of the orders they deliver."""
        headers = list(self.client.query(GOODS_DELIVERIES, filter=f"Modified ge {ODataLiteral.datetime(since)}",
                                         select=["EntryID", "DeliveryNumber", "DeliveryDate", "ShippingMethodCode",
                                                 "TrackingNumber"]))
        lines: dict[str, list[dict]] = {}
        for chunk in _chunks([h["EntryID"] for h in headers]):
            filter_ = " or ".join(f"EntryID eq {ODataLiteral.guid(e)}" for e in chunk)
            for row in self.client.query(GOODS_DELIVERY_LINES, filter=filter_,
                                         select=["EntryID", "SalesOrderNumber", "SalesOrderLineNumber",
                                                 "QuantityDelivered", "TrackingNumber", "ItemCode"]):
                lines.setdefault(str(row["EntryID"]), []).append(row)
        numbers = sorted({int(r["SalesOrderNumber"]) for rows in lines.values() for r in rows})
        refs: dict[int, str] = {}
        for chunk in _chunks(numbers):
            for row in self.client.query(SALES_ORDERS, filter=" or ".join(eq("OrderNumber", n) for n in chunk),
                                         select=["OrderNumber", "YourRef"]):
                refs[int(row["OrderNumber"])] = str(row.get("YourRef") or "")
        out = []
        for header in headers:
            rows = lines.get(str(header["EntryID"]), [])
            out.append({"delivery_number": str(header["DeliveryNumber"]), "delivery_date": header.get("DeliveryDate"),
                        "shipping_method": str(header.get("ShippingMethodCode") or ""),
                        "tracking_number": str(header.get("TrackingNumber") or ""),
                        "lines": [{"your_ref": refs.get(int(r["SalesOrderNumber"]), ""),
                                   "order_line": int(r["SalesOrderLineNumber"]), "quantity": int(r["QuantityDelivered"]),
                                   "tracking_number": str(r.get("TrackingNumber") or header.get("TrackingNumber") or ""),
                                   "item_code": str(r.get("ItemCode") or "")} for r in rows]})
        return out
