"""Walmart's stock against the ledger's: per SKU and warehouse, which side is the truth, and the stock counts that follow."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from walmart_accounting.domain.config import MappingConfig, StockSource
from walmart_accounting.domain.documents import DocumentKind, LineCategory
from walmart_accounting.domain.keys import stock_count_key
from walmart_accounting.transform.documents.common import DocumentResult, _assemble

COMPARISON_COLUMNS = ["sku", "item_code", "warehouse", "ship_nodes", "source", "walmart_on_hand", "ledger_quantity",
                      "difference"]
# What the ledger's stock frame holds: one row per item and warehouse (codes as the ledger spells them).
LEDGER_STOCK_COLUMNS = ["item_code", "warehouse", "quantity"]


@dataclass(frozen=True)
class StockComparison:
    """Per synced SKU and warehouse: Walmart's on-hand quantity, the ledger's, the difference; and what could not be synced."""

    frame: pd.DataFrame  # COMPARISON_COLUMNS; difference = walmart_on_hand - ledger_quantity
    unmapped: pd.DataFrame  # sku, ship_node, reason: never guessed, always reported

    def beyond(self, tolerance: int) -> pd.DataFrame:
        """The rows whose difference is more than `tolerance` units either way."""
        return self.frame[self.frame["difference"].abs() > tolerance]


def stock_source(sku: str, config: MappingConfig) -> StockSource | None | str:
    """The source of a SKU's quantity: its group's; None if in no group; a reason string if in groups of both sources."""
    found = {group.source for group in config.stock.groups.values()
             if any(fnmatch.fnmatchcase(sku, pattern) for pattern in group.skus)}
    if len(found) > 1:
        return "in stock groups of both sources: synced neither way until one group holds it"
    return next(iter(found), None)


def _item_code(sku: str, items: dict, config: MappingConfig) -> str | None:
    entry = items.get(sku)
    if entry is not None and entry.item_code:
        return entry.item_code
    return sku if config.stock.item_code_is_sku else None


def stock_item_codes(snapshot: pd.DataFrame, config: MappingConfig) -> list[str]:
    """The ledger items whose stock the comparison needs: those of the snapshot's synced SKUs."""
    stock = config.stock
    items = config.ledger(stock.ledger).skus.items if stock.ledger in config.enabled_ledgers() else {}
    codes = set()
    for sku in snapshot["sku"].unique():
        if isinstance(stock_source(sku, config), StockSource):
            code = _item_code(sku, items, config)
            if code:
                codes.add(code)
    return sorted(codes)


def compare_stock(snapshot: pd.DataFrame, ledger_stock: pd.DataFrame, config: MappingConfig) -> StockComparison:
    """Walmart's snapshot (InventorySnapshot) against the ledger's stock, for the SKUs a stock group names.

    On hand at Walmart is available plus reserved (an order's units are on the shelf until it ships). Nodes
    that share a warehouse add up. A SKU without an item code, or a node without a warehouse, is reported
    in `unmapped` and left alone.
    """
    stock = config.stock
    items = config.ledger(stock.ledger).skus.items if stock.ledger in config.enabled_ledgers() else {}
    rows, unmapped = [], []
    for sku, node, on_hand in snapshot[["sku", "ship_node", "on_hand_quantity"]].itertuples(index=False):
        source = stock_source(sku, config)
        if source is None:
            continue
        if not isinstance(source, StockSource):  # (a StockSource is a str too: test for it first)
            unmapped.append((sku, node, source))
            continue
        item_code = _item_code(sku, items, config)
        if item_code is None:
            unmapped.append((sku, node, f"no item_code under ledgers.{stock.ledger}.skus.items"))
            continue
        warehouse = stock.warehouses.get(node)
        if warehouse is None:
            unmapped.append((sku, node, f"ship node {node} has no warehouse under stock.warehouses"))
            continue
        rows.append((sku, item_code, warehouse, node, source.value, int(on_hand)))
    walmart = pd.DataFrame(rows, columns=["sku", "item_code", "warehouse", "ship_node", "source", "walmart_on_hand"])
    walmart = (walmart.groupby(["sku", "item_code", "warehouse", "source"], as_index=False, sort=True)
               .agg(ship_nodes=("ship_node", lambda n: ",".join(sorted(n))), walmart_on_hand=("walmart_on_hand", "sum")))
    ledger = ledger_stock[LEDGER_STOCK_COLUMNS].groupby(["item_code", "warehouse"], as_index=False)["quantity"].sum()
    frame = walmart.merge(ledger, on=["item_code", "warehouse"], how="left")
    frame["ledger_quantity"] = frame["quantity"].fillna(0).astype("int64")  # no row: the item was never in stock there
    frame["walmart_on_hand"] = frame["walmart_on_hand"].astype("int64")
    frame["difference"] = frame["walmart_on_hand"] - frame["ledger_quantity"]
    return StockComparison(frame[COMPARISON_COLUMNS].reset_index(drop=True),
                           pd.DataFrame(unmapped, columns=["sku", "ship_node", "reason"]))


def stock_counts(comparison: StockComparison, snapshot_at: datetime, config: MappingConfig) -> DocumentResult:
    """One stock count per warehouse for the SKUs whose source is Walmart and whose quantity differs: new = Walmart's."""
    ledger = config.stock.ledger
    due = comparison.frame[(comparison.frame["source"] == StockSource.WALMART.value) & (comparison.frame["difference"] != 0)]
    if due.empty:
        return _assemble(pd.DataFrame(), [], None, ledger)
    no_tax = config.ledger(ledger).tax_codes.no_tax
    lines = pd.DataFrame({
        "document_key": [stock_count_key(snapshot_at, w) for w in due["warehouse"]],
        "document_kind": DocumentKind.STOCK_ADJUSTMENT.value,
        "document_date": pd.Timestamp(snapshot_at.date()),
        "currency": config.seller.currency,
        "source_ids": [f"inventory {snapshot_at:%Y-%m-%dT%H:%M:%S}Z nodes {n}" for n in due["ship_nodes"]],
        "category": LineCategory.STOCK.value,
        "description": [f"{s}: Walmart holds {w}, the ledger {q}" for s, w, q in
                        zip(due["sku"], due["walmart_on_hand"], due["ledger_quantity"], strict=True)],
        "sku": due["sku"].to_numpy(), "item_code": due["item_code"].to_numpy(),
        "quantity": due["walmart_on_hand"].to_numpy(),  # the new quantity in stock
        "account": due["warehouse"].to_numpy(),  # a stock line's "account" is the warehouse it counts
        "tax_code": no_tax, "amount_cents": 0, "tax_cents": 0,
        "_o1": due["item_code"].to_numpy(),
    })
    return _assemble(lines, [], None, ledger)
