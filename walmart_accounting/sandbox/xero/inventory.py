"""Tracked inventory: QuantityOnHand and TotalCostPool of tracked items, moved by approved documents.

An item is tracked when it has an InventoryAssetAccountCode and a PurchaseDetails.COGSAccountCode (spec
`Item.IsTrackedAsInventory`). Its QuantityOnHand and TotalCostPool ("the value of the item on hand.
Calculated using average cost accounting") are read-only: they change with approved (AUTHORISED or PAID)
documents whose lines carry the item's ItemCode. A bill (ACCPAY) line adds its quantity and its net amount,
as Xero's tracked-inventory guide increases quantity on hand with a purchase invoice whose line names the
ItemCode and the inventory asset account; a sales invoice (ACCREC) line takes its quantity out at the average
cost, which is booked from the inventory asset account to the item's COGS account (`ledger_balances`).
Xero does not allow negative inventory (third-party guides: "Xero won't permit a negative inventory value",
"not allowing approval of invoices with items attached with zero inventory count").

Every approved document keeps its movements (one per tracked line) in `XeroState.inventory_moves`; an item's
quantity and cost pool are those movements replayed with average costing, so voiding or editing a document
recomputes them. CHOICE: they are replayed in the order of approval (not of document date), and a purchase
credit note (ACCPAYCREDIT) takes its quantity and its net amount out of the pool.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from walmart_accounting.sandbox.xero.values import D0, r2

APPROVED = ("AUTHORISED", "PAID")
# +1: the document brings goods in, -1: takes them out.
DIRECTION = {"ACCPAY": 1, "ACCPAYCREDIT": -1, "ACCREC": -1, "ACCRECCREDIT": 1}


class InventoryMixin:
    """XeroState's tracked inventory (call with the state lock held, except the public test hook)."""

    def is_tracked(self, item: dict | None) -> bool:
        return bool(item and item.get("IsTrackedAsInventory"))

    def document_moves(self, doc: dict, kind: str) -> list[dict]:
        """The inventory movements an approved document makes (none for drafts, voided or deleted ones)."""
        if doc["Status"] not in APPROVED:
            return []
        direction = DIRECTION[doc["Type"]]
        purchase = doc["Type"].startswith("ACCPAY")
        moves = []
        for line in doc["LineItems"]:
            item = self.item_by_code(line["ItemCode"]) if line.get("ItemCode") else None
            if not self.is_tracked(item) or not line.get("Quantity"):
                continue
            net = line["LineAmount"] - line["TaxAmount"] if doc["LineAmountTypes"] == "Inclusive" else line["LineAmount"]
            quantity = direction * line["Quantity"]
            # Purchases move the pool by what the line costs; sales (and, CHOICE, sales credit notes putting
            # goods back) move it at the average cost. CHOICE: amounts are taken as booked, unconverted, as
            # `ledger_balances` books documents.
            moves.append({"Source": (kind, doc["InvoiceID" if kind == "invoice" else "CreditNoteID"]),
                          "LineItemID": line["LineItemID"], "ItemID": item["ItemID"], "Quantity": quantity,
                          "Cost": direction * net if purchase else None, "Date": doc["Date"],
                          "InventoryAccount": item["InventoryAssetAccountCode"],
                          "COGSAccount": item["PurchaseDetails"].get("COGSAccountCode"), "COGS": D0})
        return moves

    def inventory_problems(self, source: tuple[str, str], moves: list[dict]) -> list[str]:
        """Validation messages if `source`'s movements were replaced by `moves` (nothing is changed)."""
        others = [m for m in self.inventory_moves if m["Source"] != source]
        touched = {m["ItemID"] for m in moves} | {m["ItemID"] for m in self.inventory_moves if m["Source"] == source}
        problems = []
        for item_id in sorted(touched):
            proposed = [dict(m) for m in others if m["ItemID"] == item_id] + [dict(m) for m in moves
                                                                              if m["ItemID"] == item_id]
            _, _, lowest = _replay(proposed)
            if lowest < 0:
                code = self.items[item_id]["Code"]
                # CHOICE: the wording; Xero refuses inventory below zero (see the module docstring).
                problems.append(f"The quantity on hand of tracked item '{code}' cannot go below zero "
                                f"(it would be {lowest.normalize():f}).")
        return problems

    def apply_inventory(self, source: tuple[str, str], moves: Iterable[dict]) -> None:
        """Replace `source`'s movements by `moves` and recompute the items they touch."""
        moves = list(moves)
        touched = {m["ItemID"] for m in moves} | {m["ItemID"] for m in self.inventory_moves if m["Source"] == source}
        if not touched:
            return
        kept = [m for m in self.inventory_moves if m["Source"] != source]
        for move in moves:
            self._move_seq += 1
            move["Seq"] = self._move_seq
        self.inventory_moves = kept + moves
        self._recompute_items(touched)

    def _recompute_items(self, item_ids: Iterable[str]) -> None:
        for item_id in item_ids:
            item = self.items[item_id]
            quantity, pool, _ = _replay([m for m in self.inventory_moves if m["ItemID"] == item_id])
            if (quantity, pool) != (item.get("QuantityOnHand"), item.get("TotalCostPool")):
                # CHOICE: a change of quantity on hand also moves the item's UpdatedDateUTC.
                item.update({"QuantityOnHand": quantity, "TotalCostPool": pool, "UpdatedDateUTC": self.now()})

    def set_quantity_on_hand(self, code: str, quantity, total_cost_pool=None) -> dict:
        """Test hook: set a tracked item's quantity on hand (and optionally its cost pool) directly.

        Without `total_cost_pool` the change is valued at the average cost (the purchase unit price when the
        item holds nothing). It books nothing to the ledger, unlike Xero's inventory adjustments.
        """
        with self.lock:
            item = self.item_by_code(code)
            if not self.is_tracked(item):
                raise ValueError(f"item {code!r} is not tracked as inventory")
            target = Decimal(str(quantity))
            if target < 0:
                raise ValueError("the quantity on hand cannot be negative")
            have, pool = item["QuantityOnHand"], item["TotalCostPool"]
            if total_cost_pool is not None:
                cost = r2(Decimal(str(total_cost_pool))) - pool
            elif have > 0:
                cost = target * pool / have - pool if target else -pool
            else:
                cost = target * (item["PurchaseDetails"].get("UnitPrice") or D0)
            self._adjustments += 1
            self.apply_inventory(("adjustment", str(self._adjustments)), [{
                "Source": ("adjustment", str(self._adjustments)), "LineItemID": None, "ItemID": item["ItemID"],
                "Quantity": target - have, "Cost": r2(cost), "Date": None, "InventoryAccount": None,
                "COGSAccount": None, "COGS": D0}])
            return self.render_item(item)


def _replay(moves: list[dict]) -> tuple[Decimal, Decimal, Decimal]:
    """(quantity, cost pool, lowest quantity reached) after the movements in order; sets each sale's COGS."""
    quantity, pool, lowest = D0, D0, D0
    for move in sorted(moves, key=lambda m: m.get("Seq", float("inf"))):
        q = move["Quantity"]
        if move["Cost"] is not None:
            cost = move["Cost"]
        elif q < 0:
            # Average cost out; the last unit out takes what is left of the pool, so it ends at zero.
            cost = -pool if -q >= quantity else -r2(pool * -q / quantity) if quantity > 0 else D0
        else:
            cost = r2(pool * q / quantity) if quantity > 0 else D0
        move["COGS"] = -cost if move["Cost"] is None else D0
        quantity += q
        pool += cost
        lowest = min(lowest, quantity)
    return quantity, pool, lowest
