"""Stock assets: each hour's snapshot compared with Exact's warehouses, stock counts for what differs, a read-back check."""

import dagster as dg
import pandas as pd

from walmart_accounting.defs.dead_letters import keep_rejects
from walmart_accounting.defs.frames import column_schema
from walmart_accounting.defs.pools import ledger_pool
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.schemas.documents import DocumentLine
from walmart_accounting.store.models import PostingStatus
from walmart_accounting.transform.stock import (
    LEDGER_STOCK_COLUMNS,
    StockComparison,
    compare_stock,
    stock_counts,
    stock_item_codes,
)

STOCK_GROUP = "stock"
STOCK_AGREES = "stock_agrees"
STOCK_COUNTS = "exact_stock_counts"


def _ledger_stock(context, config: MappingConfig, snapshot: pd.DataFrame) -> pd.DataFrame:
    """What Exact's mapped warehouses hold of the mapped items, read now."""
    resource = context.resources.exact
    stock = resource.adapter(resource.client(context.resources.store.get()), config).stock
    codes = stock_item_codes(snapshot, config)
    rows = stock.warehouse_stock(codes, sorted(set(config.stock.warehouses.values()))) if codes else []
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
        description="Read back from Exact after posting: every synced SKU's stock per warehouse is within "
                    "stock.tolerance_units of Walmart's on-hand quantity; the SKUs that are not are named, and so "
                    "are the SKUs and nodes the mapping leaves unsynced.",
        required_resource_keys={"exact", "store", "mapping"}, pool=ledger_pool("exact"),
    )
    def stock_agrees(context: dg.AssetCheckExecutionContext, snapshot: pd.DataFrame) -> dg.AssetCheckResult:
        config = context.resources.mapping.load()
        comparison = compare_stock(snapshot, _ledger_stock(context, config, snapshot), config)
        beyond = comparison.beyond(config.stock.tolerance_units)
        return dg.AssetCheckResult(passed=beyond.empty and comparison.unmapped.empty,
                                   severity=dg.AssetCheckSeverity.ERROR if len(beyond) else dg.AssetCheckSeverity.WARN,
                                   metadata=comparison_metadata(comparison, config.stock.tolerance_units))

    return stock_agrees
