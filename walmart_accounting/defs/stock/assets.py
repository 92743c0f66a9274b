"""Stock assets: each hour's snapshot against the ledger's stock; Exact counted to Walmart, or Walmart fed the ledger's."""

from dataclasses import replace

import dagster as dg
import pandas as pd

from walmart_accounting.defs.dead_letters import keep_rejects
from walmart_accounting.defs.feeds import FEEDS_SUCCEEDED, feed_results_table, feeds_check, push_feeds
from walmart_accounting.defs.frames import column_schema
from walmart_accounting.defs.pools import WALMART_POOL, ledger_pool
from walmart_accounting.defs.reports import column_schema_of
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.domain.config import MappingConfig, StockSource
from walmart_accounting.schemas.documents import DocumentLine
from walmart_accounting.store.models import PostingStatus
from walmart_accounting.transform.stock import (
    LEDGER_STOCK_COLUMNS,
    StockComparison,
    compare_stock,
    inventory_feeds,
    inventory_pushes,
    stock_counts,
    stock_item_codes,
    stock_source,
)
from walmart_accounting.transform.validation import REJECT_COLUMNS

STOCK_GROUP = "stock"
STOCK_AGREES = "stock_agrees"
STOCK_COUNTS = "exact_stock_counts"
INVENTORY_PUSHES = "walmart_inventory_pushes"
INVENTORY_FEED_SOURCE = "walmart_inventory_feed"  # the dead letters of the SKUs a feed refused
PUSHED_COLUMNS = {"sku": "string", "item_code": "string", "warehouse": "string", "ship_node": "string",
                  "walmart_on_hand": "int64", "quantity": "int64", "feed_id": "string", "error": "string"}


def _ledger_stock(context, config: MappingConfig, snapshot: pd.DataFrame) -> pd.DataFrame:
    """What `stock.ledger` holds of the mapped items, read now: Exact per mapped warehouse, Xero as its one pool."""
    resource = getattr(context.resources, config.stock.ledger)
    stock = resource.adapter(resource.client(context.resources.store.get()), config).stock
    codes = stock_item_codes(snapshot, config)
    rows = stock.warehouse_stock(codes, config.stock.ledger_warehouses()) if codes else []
    return pd.DataFrame(rows, columns=LEDGER_STOCK_COLUMNS)


def _table(frame: pd.DataFrame, rows: int = 50) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False) if len(frame) else "none")


def comparison_metadata(comparison: StockComparison, tolerance: int) -> dict:
    """What a person checks: how many SKUs differ beyond the tolerance, which ones, and what could not be synced."""
    beyond = comparison.beyond(tolerance)
    return {"skus_compared": comparison.frame["sku"].nunique(), "skus_beyond_tolerance": beyond["sku"].nunique(),
            "tolerance_units": tolerance, "differences": _table(beyond), "unmapped": len(comparison.unmapped),
            "unmapped_skus_and_nodes": _table(comparison.unmapped)}


def stock_count_asset(walmart: WalmartAssets, partitions: WalmartPartitions) -> dg.AssetsDefinition:
    """`exact_stock_counts`: per hour's snapshot, one stock count per Exact warehouse for the SKUs Walmart is the source of."""

    @dg.asset(
        name=STOCK_COUNTS, partitions_def=partitions.order_hours, ins={"snapshot": dg.AssetIn(walmart.inventory.key)},
        group_name=STOCK_GROUP, kinds={"pandas", "exact"}, owners=["team:finance"], tags={"domain": "stock"},
        metadata=column_schema(DocumentLine),
        description="Walmart's on-hand quantity per SKU against Exact's stock per mapped warehouse; for the SKUs whose "
                    "source is Walmart, a stock count of each warehouse that differs (new quantity = Walmart's). A "
                    "SKU without an item code or a node without a warehouse is listed, never guessed.",
        required_resource_keys={"exact", "store", "mapping"}, pool=ledger_pool("exact"),
    )
    def exact_stock_counts(context: dg.AssetExecutionContext, snapshot: pd.DataFrame) -> dg.Output:
        config = context.resources.mapping.load()
        comparison = compare_stock(snapshot, _ledger_stock(context, config, snapshot), config)
        taken = snapshot["snapshot_at"].max().to_pydatetime() if len(snapshot) else context.partition_time_window.start
        result = stock_counts(comparison, taken, config)
        store = context.resources.store.get()
        # A re-run of the same snapshot posts nothing: its counts are posted (Exact has moved on since, by them).
        done = {k for k in result.documents["document_key"].unique()
                if (p := store.posting(k, "exact")) is not None and p.status == PostingStatus.POSTED}
        documents = result.documents[~result.documents["document_key"].isin(done)].reset_index(drop=True)
        meta = keep_rejects(context, store, STOCK_COUNTS, result.rejects, set(documents["document_key"]))
        return dg.Output(documents, metadata={**comparison_metadata(comparison, config.stock.tolerance_units),
                                              "stock_counts": documents["document_key"].nunique(),
                                              "already_counted": len(done), **meta})

    return exact_stock_counts


def stock_agrees_check(walmart: WalmartAssets, partitions: WalmartPartitions,
                       posted: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    """After the counts are posted, Exact's stock read back per SKU against the snapshot, beyond the tolerance."""

    @dg.asset_check(
        asset=posted, name=STOCK_AGREES, partitions_def=partitions.order_hours,
        additional_ins={"snapshot": dg.AssetIn(walmart.inventory.key)},
        description="Read back from Exact after posting: every SKU Walmart is the source of has stock per warehouse within "
                    "stock.tolerance_units of Walmart's on-hand quantity; the SKUs that are not are named, and so "
                    "are the SKUs and nodes the mapping leaves unsynced.",
        required_resource_keys={"exact", "store", "mapping"}, pool=ledger_pool("exact"),
    )
    def stock_agrees(context: dg.AssetCheckExecutionContext, snapshot: pd.DataFrame) -> dg.AssetCheckResult:
        config = context.resources.mapping.load()
        comparison = compare_stock(snapshot, _ledger_stock(context, config, snapshot), config)
        # The counts move the SKUs whose source is Walmart; the others are pushed to Walmart by
        # walmart_inventory_pushes, so this (earlier) snapshot still differs from the ledger for them.
        unmapped = comparison.unmapped
        comparison = replace(comparison, frame=comparison.frame[comparison.frame["source"] == StockSource.WALMART.value],
                             unmapped=unmapped[unmapped["sku"].map(lambda s: stock_source(s, config)
                                                                   is not StockSource.LEDGER).astype(bool)])
        beyond = comparison.beyond(config.stock.tolerance_units)
        return dg.AssetCheckResult(passed=beyond.empty and comparison.unmapped.empty,
                                   severity=dg.AssetCheckSeverity.ERROR if len(beyond) else dg.AssetCheckSeverity.WARN,
                                   metadata=comparison_metadata(comparison, config.stock.tolerance_units))

    return stock_agrees


def inventory_push_asset(walmart: WalmartAssets, partitions: WalmartPartitions, ledger: str) -> dg.AssetsDefinition:
    """`walmart_inventory_pushes`: per hour's snapshot, the ledger's quantity of the source-ledger SKUs sent to Walmart."""

    @dg.asset(
        name=INVENTORY_PUSHES, partitions_def=partitions.order_hours, ins={"snapshot": dg.AssetIn(walmart.inventory.key)},
        group_name=STOCK_GROUP, kinds={"pandas", "walmart", ledger}, owners=["team:finance"], tags={"domain": "stock"},
        metadata=column_schema_of(PUSHED_COLUMNS),
        description=f"For the SKUs whose stock source is the ledger ({ledger}), the ledger's quantity read now against "
                    "the hour's Walmart snapshot; each SKU and ship node that differs is sent in as few bulk "
                    "MP_INVENTORY feeds as Walmart allows (never single-item updates), each polled to its end and "
                    "every item's result read. A SKU Walmart refuses is dead-lettered with Walmart's message; a "
                    "warehouse of several nodes, WFS (Walmart's own stock) or an item the ledger does not stock is "
                    "listed, never guessed.",
        check_specs=[dg.AssetCheckSpec(FEEDS_SUCCEEDED, asset=INVENTORY_PUSHES, partitions_def=partitions.order_hours,
                                       description="Every inventory feed of the hour was processed and took every "
                                                   "SKU; the SKUs Walmart refused are named with its message.")],
        required_resource_keys={"walmart", "store", "mapping", ledger}, pool=WALMART_POOL,
    )
    def walmart_inventory_pushes(context: dg.AssetExecutionContext, snapshot: pd.DataFrame):
        config = context.resources.mapping.load()
        store = context.resources.store.get()
        comparison = compare_stock(snapshot, _ledger_stock(context, config, snapshot), config)
        pushes, unmapped = inventory_pushes(comparison, config)
        feeds = inventory_feeds(pushes)
        client = context.resources.walmart.client()
        outcomes, failed = push_feeds(client, feeds, context.resources.walmart.feed_poll_seconds)
        reasons = dict(failed)
        items = {item["sku"]: item for feed in feeds for item in feed.payload["inventory"]}
        rejects = pd.DataFrame([(sku, reason, items.get(sku, {"sku": sku})) for sku, reason in failed],
                               columns=REJECT_COLUMNS)
        meta = keep_rejects(context, store, INVENTORY_FEED_SOURCE, rejects, set(pushes["sku"]) - set(reasons))
        feed_of = {sku: outcome["feed_id"] for feed, outcome in zip(feeds, outcomes, strict=True) for sku in feed.skus}
        pushed = pushes.assign(feed_id=pushes["sku"].map(feed_of), error=pushes["sku"].map(reasons))
        yield dg.Output(pushed, metadata={
            "skus_from_ledger": comparison.frame.loc[comparison.frame["source"] == StockSource.LEDGER.value, "sku"].nunique(),
            "feeds": len(feeds), "items": sum(len(f.skus) for f in feeds), "nodes_set": len(pushes),
            "failed": len(reasons), "feed_results": dg.MetadataValue.md(feed_results_table(outcomes)),
            "pushed": _table(pushed), "unmapped": len(unmapped), "unmapped_skus_and_nodes": _table(unmapped),
            "walmart_api_calls": client.calls, **meta})
        yield feeds_check(FEEDS_SUCCEEDED, outcomes, failed)

    return walmart_inventory_pushes
