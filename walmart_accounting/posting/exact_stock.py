"""Exact Online stock: what each warehouse holds, and stock counts (found again by our key) that make it hold Walmart's.

A stock count is ``inventory/StockCounts`` with ``Description`` = the document key and one line per item
(``QuantityNew`` = the new quantity in stock), created as a draft and then processed through
``inventory/ProcessStockCount``: only a processed count changes stock. A draft found under our key (a crash
between the two calls) is processed, never created again.
"""

from __future__ import annotations

from typing import Callable

from walmart_accounting.connectors.exact import ExactClient, any_of
from walmart_accounting.posting.documents import LedgerDocument

STOCK_COUNTS = "inventory/StockCounts"
PROCESS_STOCK_COUNT = "inventory/ProcessStockCount"
ITEM_WAREHOUSES = "inventory/ItemWarehouses"
WAREHOUSES = "inventory/Warehouses"
COUNT_DRAFT, COUNT_PROCESSED = 12, 21  # StockCounts.Status
SOURCE_WEB_SERVICE = 4  # StockCounts.Source
LOOKUP_CHUNK = 10  # codes per `or` filter, as for the other lookups


class StockRefused(Exception):
    """Exact cannot take this stock count as it stands (an unknown warehouse, a processing error)."""


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i:i + LOOKUP_CHUNK] for i in range(0, len(values), LOOKUP_CHUNK)]


class ExactStock:
    """Reads warehouse stock and posts stock counts for one Exact division."""

    def __init__(self, client: ExactClient, item_ids: Callable[[LedgerDocument, list[str]], dict[str, str]]):
        self.client = client
        self._item_ids = item_ids  # the adapter's item lookup (code -> GUID; refuses unknown items)
        self._warehouses: dict[str, str] = {}  # warehouse code -> GUID

    def warehouse_stock(self, item_codes: list[str], warehouse_codes: list[str]) -> list[dict]:
        """{item_code, warehouse, quantity} for each item that has stock rows in the named warehouses."""
        wanted = set(warehouse_codes)
        out = []
        for chunk in _chunks(sorted(set(item_codes))):
            for row in self.client.query(ITEM_WAREHOUSES, filter=any_of("ItemCode", chunk),
                                         select=["ItemCode", "WarehouseCode", "CurrentStock"]):
                warehouse = str(row.get("WarehouseCode") or "").strip()
                if warehouse in wanted:
                    # Stock is whole units here: Walmart counts EACH; a fraction in Exact is kept as it is.
                    out.append({"item_code": str(row["ItemCode"]).strip(), "warehouse": warehouse,
                                "quantity": int(row.get("CurrentStock") or 0)})
        return out

    def lookup(self, keys: list[str]) -> dict[str, tuple[str, int]]:
        """Document key -> (StockCountID, Status) of the counts Exact holds under our keys."""
        found: dict[str, tuple[str, int]] = {}
        for chunk in _chunks(sorted(set(keys))):
            for row in self.client.query(STOCK_COUNTS, filter=any_of("Description", chunk),
                                         select=["StockCountID", "Description", "Status"]):
                found[str(row["Description"])] = (str(row["StockCountID"]), int(row.get("Status") or 0))
        return found

    def find_posted(self, keys: list[str]) -> dict[str, str]:
        """The counts already processed (a draft is not posted: `post` finishes it)."""
        return {k: count_id for k, (count_id, status) in self.lookup(keys).items() if status == COUNT_PROCESSED}

    def post(self, document: LedgerDocument) -> str:
        """Create the count (unless a draft of it exists) and process it; returns the StockCountID."""
        existing = self.lookup([document.key]).get(document.key)
        if existing is not None and existing[1] == COUNT_PROCESSED:
            return existing[0]
        if existing is None:
            warehouses = {str(line["account"]) for line in document.lines}
            if len(warehouses) != 1:
                raise StockRefused(f"{document.key}: a stock count is of one warehouse, not {sorted(warehouses)}")
            codes = [str(line["item_code"]) for line in document.lines]
            items = self._item_ids(document, codes)
            created = self.client.create(STOCK_COUNTS, {
                "StockCountDate": str(document.header["document_date"])[:10],
                "Warehouse": self.warehouse_id(str(document.lines[0]["account"]), document.key),
                "Description": document.key, "Source": SOURCE_WEB_SERVICE,
                "StockCountLines": [{"Item": items[str(line["item_code"])], "QuantityNew": int(line["quantity"])}
                                    for line in document.lines]})
            count_id = str(created["StockCountID"])
        else:
            count_id = existing[0]
        answer = self.client.create(PROCESS_STOCK_COUNT, {"StockCountID": count_id})
        if answer.get("ErrorMessage") and "already been processed" not in str(answer["ErrorMessage"]):
            raise StockRefused(f"{document.key}: Exact did not process stock count {count_id}: {answer['ErrorMessage']}")
        return count_id

    def warehouse_id(self, code: str, key: str) -> str:
        """The GUID of the warehouse with this code; a document naming one Exact does not have is refused."""
        if code not in self._warehouses:
            for row in self.client.query(WAREHOUSES, filter=any_of("Code", [code]), select=["ID", "Code"]):
                self._warehouses[str(row["Code"]).strip()] = str(row["ID"])
        if code not in self._warehouses:
            raise StockRefused(f"{key}: warehouse {code} does not exist in Exact; fix stock.warehouses or "
                               "order_loop.warehouse")
        return self._warehouses[code]
