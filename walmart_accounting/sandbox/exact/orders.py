"""Sales orders and their goods deliveries (FACTS §2 "salesorder/SalesOrders").

Sources: [picqer] SalesOrder.php, SalesOrderLine.php, GoodsDelivery.php, GoodsDeliveryLine.php (which copy
Exact's reference pages) and the .NET SDK's models of the same names (which fields are read-only, which
methods an entity supports).

- A sales order is posted with its SalesOrderLines inline ("Adding a SalesOrder without SalesOrderLines
  returns an error telling me I need to add SalesOrderLines", picqer#64). OrderedBy, InvoiceTo and
  DeliverTo cannot be changed afterwards.
- Status is read-only: "the status of a salesorder is readonly. The state of your sales order is determined
  by the deliverystatus and invoicestatus. So if the invoicing and delivery of your salesorder is completed
  the salesorders status will also be completed. If you only did a partial delivery the overall status of
  your salesorder will also be partial" (picqer#462; a PUT of Status "is not done", picqer#372). So a fully
  delivered order that is not invoiced has DeliveryStatus 21 but Status 20. The sandbox does not serve
  salesinvoice/InvoiceSalesOrders; `ExactState.invoice_sales_order` stands in for it in tests.
- A goods delivery (salesorder/GoodsDeliveries) is posted with its GoodsDeliveryLines, each naming the
  SalesOrderLineID and QuantityDelivered; it delivers those quantities of the order lines and takes stock
  items out of the order's warehouse. Deliveries cannot be deleted (the .NET SDK: no delete).
- CHOICE: a delivery books nothing to the ledger (no stock or cost-of-goods lines in TransactionLines).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from walmart_accounting.sandbox.exact.model import Division, _bad, _q2
from walmart_accounting.sandbox.exact.sets import SETS

ZERO = Decimal("0")
STATUS = {12: "Open", 20: "Partial", 21: "Complete", 45: "Cancelled"}
# CHOICE: DeliveryStatus and InvoiceStatus use the order Status codes 12/20/21. An open, undelivered order
# read from Exact shows "DeliveryStatus": 12, "DeliveryStatusDescription": "Open", "InvoiceStatus": 0,
# "InvoiceStatusDescription": "" (a fixture copied from a live response); 20/21 for the partial and complete
# delivery or invoicing are assumed from the Status codes.
NOT_INVOICED = 0


class OrdersMixin:
    """salesorder/SalesOrders, SalesOrderLines, GoodsDeliveries and GoodsDeliveryLines of :class:`ExactState`."""

    # ---- sales orders ----------------------------------------------------------------------------
    def _today(self) -> datetime:
        return datetime.combine(self.now().date(), datetime.min.time())

    def _shipping_method(self, div: Division, guid: str | None) -> dict | None:
        if guid is None:
            return None
        method = div.table("sales/ShippingMethods").get(guid)
        if method is None:
            raise _bad(f"ShippingMethod: shipping method {guid} does not exist.")
        return method

    def _order_line(self, div: Division, line: dict, n: int, delivery_date: datetime | None) -> dict:
        item = div.table("logistics/Items").get(line.get("Item") or "")
        if item is None:
            raise _bad(f"Mandatory: Item (line {n}): an existing item is required.")
        if not item["IsSalesItem"]:
            raise _bad(f"Item {item['Code']} is not a sales item.")
        # CHOICE: a line without Quantity orders 1, as on sales invoices. A negative quantity is a trade-in
        # line ([picqer] SalesOrderLine.php); zero is refused.
        quantity = line["Quantity"] if line.get("Quantity") is not None else Decimal("1")
        if quantity == 0:
            raise _bad(f"Quantity (line {n}): the quantity cannot be 0.")
        unit_price = line.get("UnitPrice")
        if unit_price is None:
            unit_price = item["StandardSalesPrice"] or ZERO
        discount = line.get("Discount") or ZERO
        if not ZERO <= discount <= 1:
            raise _bad(f"Discount (line {n}): a fraction between 0 and 1 is expected.")
        net = line["NetPrice"] if line.get("NetPrice") is not None else _q2(unit_price * (1 - discount))
        if net < 0 or unit_price < 0:
            raise _bad(f"Line {n}: a negative price is not allowed; use a negative quantity.")
        vat = self._vat_code(div, line.get("VATCode") or item["SalesVatCode"] or "0")
        amount = _q2(quantity * net)
        center = self._code_ref(div, "hrm/Costcenters", line.get("CostCenter"), "CostCenter")
        unit = self._code_ref(div, "hrm/Costunits", line.get("CostUnit"), "CostUnit")
        return {
            "LineNumber": n, "Item": item["ID"], "ItemCode": item["Code"], "ItemDescription": item["Description"],
            "Description": line.get("Description") or item["Description"], "Quantity": quantity,
            "QuantityDelivered": ZERO, "QuantityInvoiced": ZERO, "UnitPrice": unit_price, "NetPrice": net,
            "Discount": discount, "AmountFC": amount, "AmountDC": amount, "VATAmount": _q2(amount * vat["Percentage"]),
            "VATCode": vat["Code"], "VATCodeDescription": vat["Description"], "VATPercentage": vat["Percentage"],
            "CostPriceFC": item["CostPriceStandard"], "CostCenter": center and center["Code"],
            "CostCenterDescription": center and center["Description"], "CostUnit": unit and unit["Code"],
            "CostUnitDescription": unit and unit["Description"],
            "DeliveryDate": line.get("DeliveryDate") or delivery_date,
            "UnitCode": line.get("UnitCode") or item["Unit"], "UnitDescription": item["UnitDescription"],
            "Notes": line.get("Notes"), "UseDropShipment": 0}

    def _create_salesorder_salesorders(self, div: Division, data: dict) -> dict:
        ordered_by = self._account(div, data.get("OrderedBy"), "OrderedBy")
        lines_in = data.get("SalesOrderLines")
        if not lines_in:
            raise _bad("Mandatory: SalesOrderLines")
        invoice_to = self._account(div, data["InvoiceTo"], "InvoiceTo") if data.get("InvoiceTo") else ordered_by
        deliver_to = self._account(div, data["DeliverTo"], "DeliverTo") if data.get("DeliverTo") else ordered_by
        currency = data.get("Currency") or div.currency
        if currency != div.currency:
            # CHOICE: sales orders carry no exchange rate field; the sandbox keeps them in the division currency.
            raise _bad(f"Currency: only {div.currency} (the division currency) is available in this sandbox.")
        warehouse = (self._warehouse(div, data["WarehouseID"], "WarehouseID") if data.get("WarehouseID")
                     else self._main_warehouse(div))
        shipping = self._shipping_method(div, data.get("ShippingMethod"))
        order_date = data.get("OrderDate") or self._today()
        # CHOICE: without a DeliveryDate the order is to be delivered on its order date.
        delivery_date = data.get("DeliveryDate") or order_date
        table = div.table("salesorder/SalesOrders")
        number = data.get("OrderNumber")
        if number is not None:
            # "By default ... based on a setting for the first free number, but you can post your own number"
            # (SalesInvoices.OrderNumber, FACTS §2). CHOICE: a number already used by another order is refused.
            if number <= 0:
                raise _bad("OrderNumber: a positive number is expected.")
            if any(r["OrderNumber"] == number for r in table.values()):
                raise _bad(f"OrderNumber: sales order {number} already exists.")
        else:
            number = max((r["OrderNumber"] for r in table.values()), default=0) + 1
        lines = [self._order_line(div, line, n, delivery_date) for n, line in enumerate(lines_in, start=1)]
        header = {k: v for k, v in data.items() if k in SETS["salesorder/SalesOrders"].fields}
        header.update({
            "OrderNumber": number, "OrderDate": order_date, "DeliveryDate": delivery_date,
            "OrderedBy": ordered_by["ID"], "OrderedByName": ordered_by["Name"], "InvoiceTo": invoice_to["ID"],
            "InvoiceToName": invoice_to["Name"], "DeliverTo": deliver_to["ID"], "DeliverToName": deliver_to["Name"],
            "Currency": currency, "WarehouseID": warehouse["ID"], "WarehouseCode": warehouse["Code"],
            "WarehouseDescription": warehouse["Description"], "ShippingMethod": shipping and shipping["ID"],
            "ShippingMethodDescription": shipping and shipping["Description"],
            # CHOICE: no approval workflow: ApprovalStatus 0 with an empty description.
            "ApprovalStatus": 0, "ApprovalStatusDescription": "", "Discount": data.get("Discount") or ZERO})
        rec = self._insert(div, "salesorder/SalesOrders", header)
        for line in lines:
            self._insert(div, "salesorder/SalesOrderLines", {**line, "OrderID": rec["OrderID"], "OrderNumber": number})
        self._recalculate_order(div, rec)
        return rec

    def _recalculate_order(self, div: Division, order: dict) -> None:
        """Totals, DeliveryStatus, InvoiceStatus and Status from the lines; the warehouse's planned stock."""
        lines = div.children("salesorder/SalesOrderLines", "OrderID", order["OrderID"])
        net = sum((ln["AmountFC"] for ln in lines), ZERO)
        vat = sum((ln["VATAmount"] for ln in lines), ZERO)
        order.update({"AmountFCExclVat": net, "AmountFC": net + vat, "AmountDC": net + vat,
                      "AmountDiscount": sum((_q2(ln["Quantity"] * (ln["UnitPrice"] - ln["NetPrice"])) for ln in lines),
                                            ZERO)})
        order["AmountDiscountExclVat"] = order["AmountDiscount"]
        # CHOICE: trade-in lines (negative quantity) are not delivered and do not count towards the status.
        deliverable = [ln for ln in lines if ln["Quantity"] > 0]
        delivery = _progress([ln["QuantityDelivered"] for ln in deliverable], [ln["Quantity"] for ln in deliverable])
        invoiced = _progress([ln["QuantityInvoiced"] for ln in deliverable], [ln["Quantity"] for ln in deliverable])
        invoice_status = NOT_INVOICED if invoiced == 12 else invoiced
        if order.get("Status") == 45:
            status = 45
        elif delivery == 21 and invoiced == 21:
            status = 21
        elif delivery == 12 and invoiced == 12:
            status = 12
        else:
            status = 20
        order.update({"DeliveryStatus": delivery, "DeliveryStatusDescription": STATUS[delivery],
                      "InvoiceStatus": invoice_status, "InvoiceStatusDescription": STATUS.get(invoice_status, ""),
                      "Status": status, "StatusDescription": STATUS[status], "Modified": self.now()})
        self._refresh_order_planning(div, order, lines)

    def _refresh_order_planning(self, div: Division, order: dict, lines: list[dict]) -> None:
        items = div.table("logistics/Items")
        for item_id in {ln["Item"] for ln in lines}:
            item = items.get(item_id)
            if item is not None and item["IsStockItem"]:
                self._refresh_item_warehouse(div, item, self._item_warehouse(div, item, order["WarehouseID"]))

    def _update_salesorder_salesorders(self, div: Division, rec: dict, data: dict) -> None:
        for name in ("OrderedBy", "InvoiceTo", "DeliverTo"):
            # "For an existing sales order this value can not be changed" ([picqer] SalesOrder.php).
            if name in data and data[name] != rec[name]:
                raise _bad(f"{name}: cannot be changed on an existing sales order.")
            data.pop(name, None)
        if rec["Status"] == 45:
            raise _bad("A cancelled sales order cannot be changed.")
        if "OrderNumber" in data and data["OrderNumber"] != rec["OrderNumber"]:
            raise _bad("OrderNumber: the number of an existing sales order cannot be changed.")
        data.pop("OrderNumber", None)
        if "Currency" in data and data["Currency"] != rec["Currency"]:
            raise _bad("Currency: the currency of an existing sales order cannot be changed.")
        data.pop("Currency", None)
        lines = div.children("salesorder/SalesOrderLines", "OrderID", rec["OrderID"])
        old_warehouse = rec["WarehouseID"]
        if "WarehouseID" in data and data["WarehouseID"] != old_warehouse:
            # CHOICE: the warehouse of an order can be changed only while nothing is delivered.
            if any(ln["QuantityDelivered"] for ln in lines):
                raise _bad("WarehouseID: the warehouse cannot be changed after a delivery.")
            warehouse = self._warehouse(div, data["WarehouseID"], "WarehouseID")
            data.update({"WarehouseCode": warehouse["Code"], "WarehouseDescription": warehouse["Description"]})
        if "ShippingMethod" in data:
            shipping = self._shipping_method(div, data["ShippingMethod"])
            data["ShippingMethodDescription"] = shipping and shipping["Description"]
        rec.update(data)
        if rec["WarehouseID"] != old_warehouse:
            self._refresh_order_planning(div, {**rec, "WarehouseID": old_warehouse}, lines)
        self._recalculate_order(div, rec)

    def _delete_salesorder_salesorders(self, div: Division, rec: dict) -> None:
        lines = div.children("salesorder/SalesOrderLines", "OrderID", rec["OrderID"])
        # CHOICE: an order with deliveries cannot be deleted (its deliveries cannot be deleted either).
        if any(ln["QuantityDelivered"] for ln in lines):
            raise _bad("The sales order cannot be deleted: goods have been delivered for it.")
        for line in lines:
            del div.table("salesorder/SalesOrderLines")[line["ID"]]
        del div.table("salesorder/SalesOrders")[rec["OrderID"]]
        self._refresh_order_planning(div, rec, lines)

    def _create_salesorder_salesorderlines(self, div: Division, data: dict) -> dict:
        order = div.table("salesorder/SalesOrders").get(data.get("OrderID") or "")
        if order is None:
            raise _bad("Mandatory: OrderID (an existing sales order)")
        if order["Status"] in (21, 45):
            raise _bad(f"A {STATUS[order['Status']].lower()} sales order cannot be changed.")
        existing = div.children("salesorder/SalesOrderLines", "OrderID", order["OrderID"])
        number = max((ln["LineNumber"] for ln in existing), default=0) + 1
        line = self._order_line(div, data, number, order["DeliveryDate"])
        rec = self._insert(div, "salesorder/SalesOrderLines",
                           {**line, "OrderID": order["OrderID"], "OrderNumber": order["OrderNumber"]})
        self._recalculate_order(div, order)
        self._pending_events.append(("SalesOrders", "Update", SETS["salesorder/SalesOrders"], order["OrderID"]))
        return rec

    def _delete_salesorder_salesorderlines(self, div: Division, rec: dict) -> list:
        order = div.table("salesorder/SalesOrders")[rec["OrderID"]]
        if rec["QuantityDelivered"]:
            raise _bad("The sales order line cannot be deleted: goods have been delivered for it.")
        lines = div.children("salesorder/SalesOrderLines", "OrderID", order["OrderID"])
        if len(lines) == 1:
            raise _bad("The last line of a sales order cannot be deleted; delete the sales order.")
        del div.table("salesorder/SalesOrderLines")[rec["ID"]]
        self._refresh_order_planning(div, order, [rec])
        self._recalculate_order(div, order)
        return [("SalesOrders", "Update", SETS["salesorder/SalesOrders"], order["OrderID"])]

    # ---- goods deliveries ------------------------------------------------------------------------
    def _create_salesorder_goodsdeliveries(self, div: Division, data: dict) -> dict:
        lines_in = data.get("GoodsDeliveryLines")
        if not lines_in:
            raise _bad("Mandatory: GoodsDeliveryLines")
        order_lines = div.table("salesorder/SalesOrderLines")
        orders = div.table("salesorder/SalesOrders")
        delivering: dict[str, Decimal] = {}
        planned = []
        for n, line in enumerate(lines_in, start=1):
            order_line = order_lines.get(line.get("SalesOrderLineID") or "")
            if order_line is None:
                raise _bad(f"Mandatory: SalesOrderLineID (line {n}): an existing sales order line is required.")
            order = orders[order_line["OrderID"]]
            if order["Status"] == 45:
                raise _bad(f"Sales order {order['OrderNumber']} is cancelled.")
            quantity = line.get("QuantityDelivered")
            if quantity is None:
                raise _bad(f"Mandatory: QuantityDelivered (line {n})")
            # CHOICE: a delivery line delivers a positive quantity of an ordered (not trade-in) line.
            if quantity <= 0 or order_line["Quantity"] <= 0:
                raise _bad(f"QuantityDelivered (line {n}): a positive quantity of an ordered line is expected.")
            already = order_line["QuantityDelivered"] + delivering.get(order_line["ID"], ZERO)
            open_quantity = order_line["Quantity"] - already
            if quantity > open_quantity:
                raise _bad(f"QuantityDelivered (line {n}): {quantity} is more than the {open_quantity} still to "
                           f"be delivered of sales order {order['OrderNumber']} line {order_line['LineNumber']} "
                           f"({order_line['ItemCode']}).")
            delivering[order_line["ID"]] = delivering.get(order_line["ID"], ZERO) + quantity
            planned.append((line, order_line, order, quantity))
        first_order = planned[0][2]
        for _, _, order, _ in planned:
            # CHOICE: one delivery is for one delivery account from one warehouse.
            if order["DeliverTo"] != first_order["DeliverTo"]:
                raise _bad("GoodsDeliveryLines: all lines of a delivery must be for the same delivery account.")
            if order["WarehouseID"] != first_order["WarehouseID"]:
                raise _bad("GoodsDeliveryLines: all lines of a delivery must be from the same warehouse.")
        shipping = self._shipping_method(div, data.get("ShippingMethod"))
        delivery_date = data.get("DeliveryDate") or self._today()  # CHOICE: defaults to today
        account = div.table("crm/Accounts")[first_order["DeliverTo"]]
        warehouse = div.table("inventory/Warehouses")[first_order["WarehouseID"]]
        table = div.table("salesorder/GoodsDeliveries")
        number = max((r["DeliveryNumber"] for r in table.values()), default=0) + 1
        header = {k: v for k, v in data.items() if k in SETS["salesorder/GoodsDeliveries"].fields}
        header.update({
            # CHOICE: EntryNumber and DeliveryNumber are one sequence per division, starting at 1.
            "EntryNumber": number, "DeliveryNumber": number, "DeliveryDate": delivery_date,
            "DeliveryAccount": account["ID"], "DeliveryAccountCode": account["Code"],
            "DeliveryAccountName": account["Name"], "DeliveryAddress": first_order["DeliveryAddress"],
            "ShippingMethod": shipping and shipping["ID"], "ShippingMethodCode": shipping and shipping["Code"],
            "ShippingMethodDescription": shipping and shipping["Description"], "Warehouse": warehouse["ID"],
            "WarehouseCode": warehouse["Code"], "WarehouseDescription": warehouse["Description"]})
        rec = self._insert(div, "salesorder/GoodsDeliveries", header)
        items = div.table("logistics/Items")
        touched_orders: dict[str, dict] = {}
        stocked: list[str] = []
        for n, (line, order_line, order, quantity) in enumerate(planned, start=1):
            self._insert(div, "salesorder/GoodsDeliveryLines", {
                "EntryID": rec["EntryID"], "LineNumber": n, "DeliveryDate": delivery_date,
                "Item": order_line["Item"], "ItemCode": order_line["ItemCode"],
                "ItemDescription": order_line["ItemDescription"],
                "Description": line.get("Description") or order_line["Description"], "Notes": line.get("Notes"),
                "QuantityOrdered": order_line["Quantity"], "QuantityDelivered": quantity,
                "SalesOrderLineID": order_line["ID"], "SalesOrderLineNumber": order_line["LineNumber"],
                "SalesOrderNumber": order["OrderNumber"], "StorageLocation": line.get("StorageLocation"),
                # CHOICE: a line without its own tracking number carries the header's.
                "TrackingNumber": line.get("TrackingNumber") or data.get("TrackingNumber"),
                "Unitcode": order_line["UnitCode"]})
            order_line["QuantityDelivered"] += quantity
            order_line["Modified"] = self.now()
            touched_orders[order["OrderID"]] = order
            item = items.get(order_line["Item"])
            if item is not None and item["IsStockItem"]:
                row = self._item_warehouse(div, item, order["WarehouseID"])
                # CHOICE: stock may go negative; the delivery is not refused for lack of stock.
                self._set_stock(div, item, (row["CurrentStock"] or ZERO) - quantity, order["WarehouseID"])
                if item["ID"] not in stocked:
                    stocked.append(item["ID"])
        for order in touched_orders.values():
            self._recalculate_order(div, order)
            self._pending_events.append(("SalesOrders", "Update", SETS["salesorder/SalesOrders"], order["OrderID"]))
        self._pending_events += [("StockPositions", "Update", SETS["logistics/Items"], item_id) for item_id in stocked]
        return rec

    def _update_salesorder_goodsdeliveries(self, div: Division, rec: dict, data: dict) -> None:
        if "DeliveryDate" in data and data["DeliveryDate"] is None:
            raise _bad("Mandatory: DeliveryDate")
        if "ShippingMethod" in data:
            shipping = self._shipping_method(div, data["ShippingMethod"])
            data.update({"ShippingMethodCode": shipping and shipping["Code"],
                         "ShippingMethodDescription": shipping and shipping["Description"]})
        rec.update(data)
        if "DeliveryDate" in data:
            for line in div.children("salesorder/GoodsDeliveryLines", "EntryID", rec["EntryID"]):
                line.update({"DeliveryDate": data["DeliveryDate"], "Modified": self.now()})


def _progress(done: list[Decimal], wanted: list[Decimal]) -> int:
    """12 nothing done, 21 everything done, 20 in between (of the quantities of an order's lines)."""
    if not wanted or all(d >= w for d, w in zip(done, wanted, strict=True)):
        return 21 if wanted else 12
    return 12 if not any(done) else 20
