"""Xero stock: each tracked item's QuantityOnHand, Xero's one stock pool (it has no warehouses).

Xero keeps a quantity only for items tracked as inventory (InventoryAssetAccountCode and COGSAccountCode
set), and moves it only with approved bills and invoices: it can be a source of stock, never a target. An
untracked or unknown item has no quantity at all, which is not the same as none, so it is left out.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from walmart_accounting.connectors.xero import XeroClient

ITEMS = "Items"
TRACKED = "IsTrackedAsInventory==true"


class XeroStock:
    """Reads the quantity on hand of one organisation's tracked items."""

    def __init__(self, client: XeroClient):
        self.client = client

    def quantity_on_hand(self, item_codes: list[str]) -> dict[str, Decimal]:
        """Item code (as asked) -> QuantityOnHand, for the tracked items among them (one GET /Items)."""
        wanted = {str(code).strip().casefold(): code for code in item_codes}  # Xero's item codes ignore case
        if not wanted:
            return {}
        found: dict[str, Decimal] = {}
        for row in self.client.get(ITEMS, {"where": TRACKED}):  # /Items is not paged: every item in one answer
            code = wanted.get(str(row.get("Code") or "").strip().casefold())
            if code is not None and row.get("IsTrackedAsInventory") and row.get("QuantityOnHand") is not None:
                found[code] = Decimal(str(row["QuantityOnHand"]))
        return found

    def warehouse_stock(self, item_codes: list[str], warehouse_codes: list[str]) -> list[dict]:
        """{item_code, warehouse, quantity} per tracked item, under the one warehouse code given (the pool's label).

        Whole units, rounded down: Walmart counts EACH, and a part of a unit cannot ship.
        """
        if len(set(warehouse_codes)) != 1:
            raise ValueError(f"Xero keeps one stock pool: expected one warehouse code, got {sorted(set(warehouse_codes))}")
        [warehouse] = set(warehouse_codes)
        return [{"item_code": code, "warehouse": warehouse, "quantity": int(quantity.to_integral_value(ROUND_FLOOR))}
                for code, quantity in sorted(self.quantity_on_hand(item_codes).items())]
