"""Items, stock per warehouse and stock counts (FACTS §2 "Stock")."""

from __future__ import annotations

from decimal import Decimal

from walmart_accounting.sandbox.exact.model import Division, _bad
from walmart_accounting.sandbox.exact.sets import SETS


class StockMixin:
    """logistics/Items, inventory/ItemWarehouses and inventory/StockCounts of :class:`ExactState`."""

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
        if any(r["Item"] == rec["ID"] for r in div.table("salesinvoice/SalesInvoiceLines").values()) or any(
                r["Item"] == rec["ID"] for r in div.table("inventory/StockCountLines").values()):
            raise _bad("The item cannot be deleted: it is used in transactions.")
        del div.table("logistics/Items")[rec["ID"]]

    def _set_stock(self, div: Division, item: dict, quantity: Decimal) -> None:
        row = None
        for rec in div.table("inventory/ItemWarehouses").values():
            if rec["Item"] == item["ID"] and rec["Warehouse"] == self.main_warehouse:
                row = rec
        if row is None:
            wh = div.table("inventory/Warehouses")[self.main_warehouse]
            row = self._insert(div, "inventory/ItemWarehouses", {
                "Item": item["ID"], "ItemCode": item["Code"], "ItemDescription": item["Description"],
                "Warehouse": wh["ID"], "WarehouseCode": wh["Code"], "WarehouseDescription": wh["Description"],
                "ReservedStock": Decimal("0"), "PlannedStockIn": Decimal("0"), "PlannedStockOut": Decimal("0")})
        row["CurrentStock"] = quantity
        row["ProjectedStock"] = quantity
        row["Modified"] = self.now()
        item["Stock"] = sum((r["CurrentStock"] for r in div.table("inventory/ItemWarehouses").values()
                             if r["Item"] == item["ID"]), Decimal("0"))

    # Stock counts (FACTS §2 "Stock")
    def _create_inventory_stockcounts(self, div: Division, data: dict) -> dict:
        if data.get("StockCountDate") is None:
            raise _bad("Mandatory: StockCountDate")
        warehouse = div.table("inventory/Warehouses").get(data.get("Warehouse") or "")
        if warehouse is None:
            raise _bad("Mandatory: Warehouse (an existing warehouse)")
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
            self._set_stock(div, item, line["QuantityNew"])
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
