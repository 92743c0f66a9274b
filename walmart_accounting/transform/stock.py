"""Walmart's stock against the ledger's: per SKU and warehouse, which side is the truth, and the stock counts that follow."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from walmart_accounting.domain.config import WFS_SHIP_NODE, MappingConfig, StockSource
from walmart_accounting.domain.documents import DocumentKind, LineCategory
from walmart_accounting.domain.keys import stock_count_key
from walmart_accounting.transform.documents.common import DocumentResult, _assemble
from walmart_accounting.transform.feeds import Feed, pack_feeds

COMPARISON_COLUMNS = ["sku", "item_code", "warehouse", "ship_nodes", "source", "walmart_on_hand", "ledger_quantity",
                      "difference"]
# What the ledger's stock frame holds: one row per item and warehouse (codes as the ledger spells them).
LEDGER_STOCK_COLUMNS = ["item_code", "warehouse", "quantity"]


@dataclass(frozen=True)
class StockComparison:
    """Per synced SKU and warehouse: Walmart's on-hand quantity, the ledger's, the difference; and what could not be synced."""

    frame: pd.DataFrame  # COMPARISON_COLUMNS; difference = walmart_on_hand - ledger_quantity
    unmapped: pd.DataFrame  # sku, ship_node, reason: never guessed, always reported
    # The item codes the ledger has stock rows of: an item it has none of is unknown there (or, in Xero, not
    # tracked), which is not the same as holding none, so its 0 is never pushed to Walmart.
    ledger_items: frozenset[str] = frozenset()

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


def ledger_item_code(sku: str, items: dict, config: MappingConfig) -> str | None:
    """The ledger item of a SKU: its skus.items item_code, else the SKU itself with stock.item_code_is_sku, else None."""
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
            code = ledger_item_code(sku, items, config)
            if code:
                codes.add(code)
    return sorted(codes)


def compare_stock(snapshot: pd.DataFrame, ledger_stock: pd.DataFrame, config: MappingConfig) -> StockComparison:
    """Walmart's snapshot (InventorySnapshot) against the ledger's stock, for the SKUs a stock group names.

    On hand at Walmart is available plus reserved (an order's units are on the shelf until it ships). Nodes
    that share a warehouse add up. A SKU without an item code, or a node without a warehouse, is reported
    in `unmapped` and left alone. For a SKU whose source is the ledger, a warehouse the ledger holds it in
    that Walmart lists no stock for at the warehouse's one seller node is a row too (Walmart holds 0 there).
    """
    stock = config.stock
    items = config.ledger(stock.ledger).skus.items if stock.ledger in config.enabled_ledgers() else {}
    rows, unmapped = [], []
    from_ledger: set[tuple[str, str]] = set()  # (sku, item_code) of the ledger-source SKUs Walmart sells
    for sku, node, on_hand in snapshot[["sku", "ship_node", "on_hand_quantity"]].itertuples(index=False):
        source = stock_source(sku, config)
        if source is None:
            continue
        if not isinstance(source, StockSource):  # (a StockSource is a str too: test for it first)
            unmapped.append((sku, node, source))
            continue
        item_code = ledger_item_code(sku, items, config)
        if item_code is None:
            unmapped.append((sku, node, f"no item_code under ledgers.{stock.ledger}.skus.items"))
            continue
        if source is StockSource.LEDGER:
            from_ledger.add((sku, item_code))
        warehouse = stock.warehouses.get(node)
        if warehouse is None:
            unmapped.append((sku, node, f"ship node {node} has no warehouse under stock.warehouses"))
            continue
        rows.append((sku, item_code, warehouse, node, source.value, int(on_hand)))
    walmart = pd.DataFrame(rows, columns=["sku", "item_code", "warehouse", "ship_node", "source", "walmart_on_hand"])
    walmart = (walmart.groupby(["sku", "item_code", "warehouse", "source"], as_index=False, sort=True)
               .agg(ship_nodes=("ship_node", lambda n: ",".join(sorted(n))), walmart_on_hand=("walmart_on_hand", "sum")))
    ledger = ledger_stock[LEDGER_STOCK_COLUMNS].groupby(["item_code", "warehouse"], as_index=False)["quantity"].sum()
    unlisted = _unlisted_at_walmart(walmart, ledger, from_ledger, config)
    if len(unlisted):
        walmart = pd.concat([walmart, unlisted], ignore_index=True).sort_values(["sku", "warehouse"], kind="stable")
    frame = walmart.merge(ledger, on=["item_code", "warehouse"], how="left")
    frame["ledger_quantity"] = frame["quantity"].fillna(0).astype("int64")  # no row: the item was never in stock there
    frame["walmart_on_hand"] = frame["walmart_on_hand"].astype("int64")
    frame["difference"] = frame["walmart_on_hand"] - frame["ledger_quantity"]
    return StockComparison(frame[COMPARISON_COLUMNS].reset_index(drop=True),
                           pd.DataFrame(unmapped, columns=["sku", "ship_node", "reason"]),
                           frozenset(ledger["item_code"].astype(str)))


def _unlisted_at_walmart(walmart: pd.DataFrame, ledger: pd.DataFrame, from_ledger: set[tuple[str, str]],
                         config: MappingConfig) -> pd.DataFrame:
    """Rows for the ledger-source SKUs' stock in warehouses of one seller node where Walmart lists none (0 there)."""
    columns = ["sku", "item_code", "warehouse", "source", "ship_nodes", "walmart_on_hand"]
    single = {w: nodes[0] for w in set(config.stock.warehouses.values())
              if len(nodes := config.stock.nodes_of(w)) == 1 and nodes[0] != WFS_SHIP_NODE}
    held = set(ledger[["item_code", "warehouse"]].itertuples(index=False, name=None))
    listed = set(walmart[["sku", "warehouse"]].itertuples(index=False, name=None))
    rows = [(sku, code, warehouse, StockSource.LEDGER.value, node, 0)
            for sku, code in sorted(from_ledger) for warehouse, node in sorted(single.items())
            if (code, warehouse) in held and (sku, warehouse) not in listed]
    return pd.DataFrame(rows, columns=columns).astype({"walmart_on_hand": "int64"})


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


# -- the ledger's quantity to Walmart: source-ledger SKUs through the bulk MP_INVENTORY feed -----------------

PUSH_COLUMNS = ["sku", "item_code", "warehouse", "ship_node", "walmart_on_hand", "quantity"]
UNMAPPED_COLUMNS = ["sku", "ship_node", "reason"]
INVENTORY_FEED_TYPE = "MP_INVENTORY"  # multi-node bulk inventory, spec 1.5, JSON only (FACTS §5)
INVENTORY_FEED_VERSION = "1.5"
# FACTS §5/§6 give no item cap for inventory feeds; 10,000 is Walmart's per-feed cap for bulk price feeds (§5).
# Size: "Inventory bulk 10/hour 5 MB" is Walmart's Canada throttling page [official, other market]; a
# community summary of the US page says 10 MB [3rd-party], so the smaller one is kept. (Walmart's own
# sandbox caps an inventory feed at 2 KB: against it, feeds are small and many.) Walmart takes about 10
# inventory feeds an hour (FACTS §6, [3rd-party] for the US): an hourly run of up to 10,000 changed SKUs is one.
INVENTORY_ITEMS_PER_FEED = 10_000
MAX_INVENTORY_FEED_BYTES = 5 * 1024 * 1024


def inventory_pushes(comparison: StockComparison, config: MappingConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What Walmart is told, per source-ledger SKU and ship node, and what cannot be told: (pushes, unmapped).

    `pushes` (PUSH_COLUMNS) are the rows whose ledger quantity differs from Walmart's on-hand: that quantity
    (never below 0) goes to the one ship node of its warehouse. Never guessed, always reported in `unmapped`
    (sku, ship_node, reason): a warehouse several nodes map to, a warehouse of WFS (Walmart's stock, which no
    seller sets), an item the ledger has no stock rows of, and what the comparison could not map for these SKUs.
    SKUs whose source is Walmart are never here: their stock is counted into the ledger, not pushed.
    """
    stock = config.stock
    rows, unmapped = [], []
    due = comparison.frame[comparison.frame["source"] == StockSource.LEDGER.value]
    for sku, item_code, warehouse, listed, walmart_on_hand, ledger_quantity in due[
            ["sku", "item_code", "warehouse", "ship_nodes", "walmart_on_hand", "ledger_quantity"]].itertuples(index=False):
        nodes = stock.nodes_of(warehouse)
        reported = str(listed).split(",")
        if len(nodes) > 1:
            reason = (f"warehouse {warehouse} stocks ship nodes {', '.join(nodes)}: which node gets its quantity is "
                      "not guessed (map one node to a warehouse whose stock is pushed)")
        elif nodes == [WFS_SHIP_NODE]:
            reason = f"WFS stock is Walmart's, which sellers cannot set: warehouse {warehouse}'s quantity is not pushed"
        elif item_code not in comparison.ledger_items:
            reason = (f"the ledger has no stock of item {item_code} in {', '.join(stock.ledger_warehouses())} "
                      f"(unknown, not a stock item{', or not tracked' if stock.ledger == 'xero' else ''}): its "
                      "quantity is not known, so nothing is pushed")
        else:
            quantity = max(int(ledger_quantity), 0)  # Walmart counts what can ship: a negative ledger stock is none
            if quantity != int(walmart_on_hand):
                rows.append((sku, item_code, warehouse, nodes[0], int(walmart_on_hand), quantity))
            continue
        unmapped += [(sku, node, reason) for node in reported]
    earlier = [row for row in comparison.unmapped[UNMAPPED_COLUMNS].itertuples(index=False, name=None)
               if stock_source(row[0], config) is not StockSource.WALMART]
    pushes = pd.DataFrame(rows, columns=PUSH_COLUMNS).sort_values(["sku", "ship_node"]).reset_index(drop=True)
    return (pushes.astype({"walmart_on_hand": "int64", "quantity": "int64"}),
            pd.DataFrame(earlier + unmapped, columns=UNMAPPED_COLUMNS))


def inventory_item(sku: str, nodes: list[tuple[str, int]]) -> dict:
    """One SKU of an MP_INVENTORY feed: its quantity at each of its ship nodes."""
    return {"sku": sku, "shipNodes": [{"shipNode": node, "quantity": {"unit": "EACH", "amount": int(quantity)}}
                                      for node, quantity in nodes]}


def inventory_feeds(pushes: pd.DataFrame, items_per_feed: int = INVENTORY_ITEMS_PER_FEED,
                    max_bytes: int = MAX_INVENTORY_FEED_BYTES) -> list[Feed]:
    """The pushes in as few MP_INVENTORY feeds as Walmart's limits allow: one item per SKU with all its nodes."""
    by_sku: dict[str, list[tuple[str, int]]] = {}
    for sku, node, quantity in pushes[["sku", "ship_node", "quantity"]].itertuples(index=False):
        by_sku.setdefault(sku, []).append((node, int(quantity)))
    items = ((sku, inventory_item(sku, nodes)) for sku, nodes in by_sku.items())
    return pack_feeds(INVENTORY_FEED_TYPE, ("inventoryHeader", INVENTORY_FEED_VERSION), "inventory", items,
                      items_per_feed, max_bytes)
