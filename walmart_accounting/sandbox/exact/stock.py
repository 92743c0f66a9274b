"""Items, warehouses, stock per item and warehouse, and stock counts (FACTS §2 "Stock")."""

from __future__ import annotations

from decimal import Decimal

from walmart_accounting.sandbox.exact.model import Division, _bad
from walmart_accounting.sandbox.exact.sets import SETS


class StockMixin:
    """logistics/Items, inventory/Warehouses, ItemWarehouses and StockCounts of :class:`ExactState`."""

    # Items
    def _item_values(self, div: Division, data: dict, own_id: str | None = None) -> dict:
        values = dict(data)
        if "Code" in values:
            code = (values["Code"] or "").strip()
            if not code:
                raise _bad("Mandatory: Code")
            if len(code) > 30:
                raise _bad("Code: the maximum length is 30 characters.")
            other = div.find("logistics/Items", "Code", code)
            if other and other["ID"] != own_id:
                raise _bad(f"Code: item {code} already exists.")
            values["Code"] = code
        if values.get("SalesVatCode") is not None:
            values["SalesVatCode"] = self._vat_code(div, values["SalesVatCode"])["Code"]
        if values.get("GLRevenue") is not None:
            gl = self._gl_account(div, values["GLRevenue"], "GLRevenue")
            values["GLRevenueCode"] = gl["Code"]
        return values

    def _create_logistics_items(self, div: Division, data: dict) -> dict:
        if "Code" not in data:
            raise _bad("Mandatory: Code")
        if not data.get("Description"):
            raise _bad("Mandatory: Description")
        if data.get("ID") and data["ID"] in div.table("logistics/Items"):
            raise _bad("ID: an item with this ID already exists.")
        values = self._item_values(div, data)
        values.setdefault("IsSalesItem", True)
        values.setdefault("IsStockItem", False)
        values.setdefault("IsPurchaseItem", False)
        values.setdefault("Unit", "pc")
        values.update({"UnitDescription": "Piece", "Stock": Decimal("0")})
        return self._insert(div, "logistics/Items", values)

    def _update_logistics_items(self, div: Division, rec: dict, data: dict) -> None:
        data.pop("ID", None)
        rec.update(self._item_values(div, data, rec["ID"]))

    def _delete_logistics_items(self, div: Division, rec: dict) -> None:
        used_in = ("salesinvoice/SalesInvoiceLines", "inventory/StockCountLines", "salesorder/SalesOrderLines")
        if any(r["Item"] == rec["ID"] for path in used_in for r in div.table(path).values()):
            raise _bad("The item cannot be deleted: it is used in transactions.")
        for row in [r for r in div.table("inventory/ItemWarehouses").values() if r["Item"] == rec["ID"]]:
            del div.table("inventory/ItemWarehouses")[row["ID"]]
        del div.table("logistics/Items")[rec["ID"]]

    # Warehouses: exactly one main warehouse per division ([picqer] Warehouse.php "Main").
    def _main_warehouse(self, div: Division) -> dict:
        for rec in div.table("inventory/Warehouses").values():
            if rec["Main"] == 1:
                return rec
        raise _bad("The division has no main warehouse.")

    def _warehouse(self, div: Division, guid: str | None, name: str = "Warehouse") -> dict:
        if guid is None:
            raise _bad(f"Mandatory: {name}")
        warehouse = div.table("inventory/Warehouses").get(guid)
        if warehouse is None:
            raise _bad(f"{name}: warehouse {guid} does not exist.")
        return warehouse

    def _warehouse_values(self, div: Division, data: dict, own_id: str | None = None) -> dict:
        values = dict(data)
        if "Code" in values:
            code = (values["Code"] or "").strip()
            if not code:
                raise _bad("Mandatory: Code")
            other = div.find("inventory/Warehouses", "Code", code)
            if other and other["ID"] != own_id:
                raise _bad(f"Code: warehouse {code} already exists.")
            values["Code"] = code
        if "Description" in values and not (values["Description"] or "").strip():
            raise _bad("Mandatory: Description")
        return values

    def _create_inventory_warehouses(self, div: Division, data: dict) -> dict:
        if "Code" not in data:
            raise _bad("Mandatory: Code")
        if not data.get("Description"):
            raise _bad("Mandatory: Description")
        values = self._warehouse_values(div, data)
        # CHOICE: a created warehouse is never the main one (Main is not writable here): "there's always
        # exactly one main warehouse per administration".
        values.update({"Main": 0, "UseStorageLocations": values.get("UseStorageLocations") or 0})
        return self._insert(div, "inventory/Warehouses", values)

    def _update_inventory_warehouses(self, div: Division, rec: dict, data: dict) -> None:
        rec.update(self._warehouse_values(div, data, rec["ID"]))

    def _delete_inventory_warehouses(self, div: Division, rec: dict) -> None:
        # CHOICE: the main warehouse, and one that holds stock or is used by a count, order or delivery,
        # cannot be deleted.
        if rec["Main"] == 1:
            raise _bad("The main warehouse cannot be deleted.")
        in_use = (any(r["Warehouse"] == rec["ID"] and r["CurrentStock"] for r in
                      div.table("inventory/ItemWarehouses").values())
                  or any(r["Warehouse"] == rec["ID"] for r in div.table("inventory/StockCounts").values())
                  or any(r["WarehouseID"] == rec["ID"] for r in div.table("salesorder/SalesOrders").values()))
        if in_use:
            raise _bad(f"Warehouse {rec['Code']} cannot be deleted: it is used in transactions.")
        for row in [r for r in div.table("inventory/ItemWarehouses").values() if r["Warehouse"] == rec["ID"]]:
            del div.table("inventory/ItemWarehouses")[row["ID"]]
        del div.table("inventory/Warehouses")[rec["ID"]]

    # Stock per item and warehouse: inventory/ItemWarehouses; the item's Stock is the sum over its warehouses.
    def _item_warehouse(self, div: Division, item: dict, warehouse_id: str) -> dict:
        for rec in div.table("inventory/ItemWarehouses").values():
            if rec["Item"] == item["ID"] and rec["Warehouse"] == warehouse_id:
                return rec
        wh = div.table("inventory/Warehouses")[warehouse_id]
        # CHOICE: the row appears when stock or planning first touches the item in that warehouse.
        zero = Decimal("0")
        return self._insert(div, "inventory/ItemWarehouses", {
            "Item": item["ID"], "ItemCode": item["Code"], "ItemDescription": item["Description"],
            "ItemBarcode": item.get("Barcode"), "ItemUnit": item.get("Unit"), "Warehouse": wh["ID"],
            "WarehouseCode": wh["Code"], "WarehouseDescription": wh["Description"], "CurrentStock": zero,
            "ReservedStock": zero, "PlannedStockIn": zero, "PlannedStockOut": zero, "ProjectedStock": zero})

    def _set_stock(self, div: Division, item: dict, quantity: Decimal, warehouse_id: str | None = None) -> None:
        """Set the item's stock in one warehouse (the division's main warehouse unless named)."""
        row = self._item_warehouse(div, item, warehouse_id or self._main_warehouse(div)["ID"])
        row["CurrentStock"] = quantity
        row["Modified"] = self.now()
        self._refresh_item_warehouse(div, item, row)

    def _refresh_item_warehouse(self, div: Division, item: dict, row: dict) -> None:
        """PlannedStockOut (open sales order quantities), ProjectedStock and the item's total Stock."""
        planned_out = Decimal("0")
        for order in div.table("salesorder/SalesOrders").values():
            if order["Status"] == 45 or order["WarehouseID"] != row["Warehouse"]:
                continue
            for line in div.children("salesorder/SalesOrderLines", "OrderID", order["OrderID"]):
                if line["Item"] == item["ID"] and line["Quantity"] > line["QuantityDelivered"]:
                    planned_out += line["Quantity"] - line["QuantityDelivered"]
        row["PlannedStockOut"] = planned_out
        row["ProjectedStock"] = (row["CurrentStock"] or Decimal("0")) + (row["PlannedStockIn"] or Decimal("0")) \
            - planned_out
        item["Stock"] = sum((r["CurrentStock"] or Decimal("0") for r in div.table("inventory/ItemWarehouses").values()
                             if r["Item"] == item["ID"]), Decimal("0"))

    # Stock counts (FACTS §2 "Stock")
    def _create_inventory_stockcounts(self, div: Division, data: dict) -> dict:
        if data.get("StockCountDate") is None:
            raise _bad("Mandatory: StockCountDate")
        if data.get("Warehouse") is None:
            raise _bad("Mandatory: Warehouse")
        warehouse = self._warehouse(div, data["Warehouse"])
        lines_in = data.get("StockCountLines")
        if not lines_in:
            raise _bad("Mandatory: StockCountLines")
        status = data.get("Status") or 12
        if status not in (12, 21):
            raise _bad(f"Status: invalid value {status}; expected 12 (draft) or 21 (processed).")
        lines = []
        for n, line in enumerate(lines_in, start=1):
            item = div.table("logistics/Items").get(line.get("Item") or "")
            if item is None:
                raise _bad(f"Mandatory: Item (line {n}): an existing item is required.")
            if not item["IsStockItem"]:
                raise _bad(f"Item {item['Code']} is not a stock item.")
            in_stock = self._stock_of(div, item["ID"], warehouse["ID"])
            new, diff = line.get("QuantityNew"), line.get("QuantityDifference")
            if new is None and diff is None:
                raise _bad(f"Mandatory: QuantityNew or QuantityDifference (line {n})")
            if new is not None and diff is not None and new - in_stock != diff:
                raise _bad(f"QuantityNew and QuantityDifference disagree (line {n}).")
            if new is None:
                new = in_stock + diff
            lines.append({"LineNumber": n, "Item": item["ID"], "ItemCode": item["Code"],
                          "ItemDescription": item["Description"], "QuantityInStock": in_stock, "QuantityNew": new,
                          "QuantityDifference": new - in_stock, "StorageLocation": line.get("StorageLocation"),
                          "ReasonCode": line.get("ReasonCode")})
        number = max((r["StockCountNumber"] for r in div.table("inventory/StockCounts").values()), default=0) + 1
        rec = self._insert(div, "inventory/StockCounts", {
            "StockCountNumber": number, "StockCountDate": data["StockCountDate"], "Description": data.get("Description"),
            "Status": 12, "Source": data.get("Source") or 4, "Warehouse": warehouse["ID"],
            "WarehouseCode": warehouse["Code"], "WarehouseDescription": warehouse["Description"]})
        for line in lines:
            self._insert(div, "inventory/StockCountLines", {**line, "StockCountID": rec["StockCountID"]})
        if status == 21:
            self._process_stock_count(div, rec)
        return rec

    def _stock_of(self, div: Division, item_id: str, warehouse_id: str) -> Decimal:
        for rec in div.table("inventory/ItemWarehouses").values():
            if rec["Item"] == item_id and rec["Warehouse"] == warehouse_id:
                return rec["CurrentStock"] or Decimal("0")
        return Decimal("0")

    def _process_stock_count(self, div: Division, count: dict) -> None:
        events = []
        for line in div.children("inventory/StockCountLines", "StockCountID", count["StockCountID"]):
            item = div.table("logistics/Items")[line["Item"]]
            self._set_stock(div, item, line["QuantityNew"], count["Warehouse"])
            events.append(("StockPositions", "Update", SETS["logistics/Items"], item["ID"]))
        count.update({"Status": 21, "Modified": self.now()})
        self._pending_events += events

    def _create_inventory_processstockcount(self, div: Division, data: dict) -> dict:
        count = div.table("inventory/StockCounts").get(data.get("StockCountID") or "")
        if count is None:
            raise _bad("Mandatory: StockCountID (an existing stock count)")
        if count["Status"] == 21:
            return {"StockCountID": count["StockCountID"], "SuccessMessage": None,
                    "ErrorMessage": "The stock count has already been processed."}
        self._process_stock_count(div, count)
        return {"StockCountID": count["StockCountID"], "SuccessMessage": "The stock count has been processed.",
                "ErrorMessage": None}

    def _delete_inventory_stockcounts(self, div: Division, rec: dict) -> None:
        if rec["Status"] == 21:
            raise _bad("A processed stock count cannot be deleted.")
        for line in div.children("inventory/StockCountLines", "StockCountID", rec["StockCountID"]):
            del div.table("inventory/StockCountLines")[line["ID"]]
        del div.table("inventory/StockCounts")[rec["StockCountID"]]
