"""Order loop assets: each hour's open seller-fulfilled orders as Exact sales orders; Exact's deliveries as Walmart shipments."""

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import dagster as dg
import pandas as pd

from walmart_accounting.connectors.errors import NotFoundError
from walmart_accounting.defs.dead_letters import dead_letter_checks, keep_rejects
from walmart_accounting.defs.frames import check_per_partition, combined, document_keys, partitions_of, per_partition
from walmart_accounting.defs.ledgers.documents import _finish, _range_document_asset, _run_figures, _source_times
from walmart_accounting.defs.ledgers.posting import report_metadata
from walmart_accounting.defs.pools import WALMART_POOL
from walmart_accounting.defs.resources import MappingResource, StoreResource
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.posting.engine import PostingEngine
from walmart_accounting.posting.walmart_shipments import (
    SALES_ORDER_PREFIX,
    WalmartShipments,
    file_shipment_documents,
    shipment_documents,
)
from walmart_accounting.transform.order_loop import sales_orders
from walmart_accounting.transform.validation import REJECT_COLUMNS

SALES_ORDERS = "exact_sales_orders"
SHIPMENTS = "walmart_shipments"
SHIPMENTS_CONFIRMED = "every_delivery_confirmed"


def _quantities_match(frame: pd.DataFrame, lines: pd.DataFrame) -> Callable[[pd.DataFrame], tuple[bool, dict]]:
    """Each sales order orders what its Walmart order ordered, SKU by SKU."""
    ordered = lines.groupby(["purchase_order_id", "sku"])["quantity"].sum()

    def evaluate(part: pd.DataFrame) -> tuple[bool, dict]:
        mine = frame[frame["document_key"].isin(document_keys(part))]
        booked = mine.groupby(["source_ids", "sku"])["quantity"].sum()
        wrong = [f"{po} {sku}: {q} ordered at Walmart, {booked.get((po, sku), 0)} on the sales order"
                 for (po, sku), q in ordered.items() if po in set(mine["source_ids"]) and booked.get((po, sku), 0) != q]
        return not wrong, {"sales_orders": len(document_keys(part)),
                           "differences": dg.MetadataValue.md("\n".join(f"- {w}" for w in wrong[:20]) or "none")}
    return evaluate


def sales_orders_asset(walmart: WalmartAssets, partitions: WalmartPartitions) -> dg.AssetsDefinition:
    """`exact_sales_orders`: one sales order per seller-fulfilled purchase order of the hour that is still to ship."""

    @_range_document_asset(
        "exact", SALES_ORDERS, partitions.order_hours, {"orders": dg.AssetIn(walmart.order_lines_key)},
        "One Exact sales order per seller-fulfilled purchase order of the hour with a line still to ship, in the "
        "warehouse its ship node maps to; the warehouse ships it and records a goods delivery.",
        dg.AssetCheckSpec("sales_orders_match_walmart", asset=SALES_ORDERS, partitions_def=partitions.order_hours,
                          blocking=True, description="Each sales order orders what Walmart's order ordered, SKU by SKU."),
    )
    def exact_sales_orders(context: dg.AssetExecutionContext, orders, mapping: MappingResource, store: StoreResource):
        lines = combined(orders)
        config = mapping.load()
        frame, meta = _finish(context, store, SALES_ORDERS, sales_orders(lines, config), config, "exact")
        out = per_partition(context, frame, _source_times(frame, lines, "purchase_order_id", "order_date"),
                            describe=_run_figures(frame))
        yield dg.Output(out, SALES_ORDERS, metadata=meta)
        yield from check_per_partition(context, "sales_orders_match_walmart", partitions_of(out),
                                       _quantities_match(frame, lines), blocking=True)
        yield from dead_letter_checks(context, store.get(), SALES_ORDERS, SALES_ORDERS)

    return exact_sales_orders


def _walmart_orders(client, purchase_orders: list[str]) -> dict[str, dict]:
    found = {}
    for po in purchase_orders:
        try:
            found[po] = client.get_order(po)
        except NotFoundError:
            pass
    return found


def _from_exact(context, config, client, moment: datetime) -> tuple[list, list, int]:
    """The shipments of Exact's goods deliveries of the last lookback_days: (documents, refused, deliveries read)."""
    exact = context.resources.exact
    adapter = exact.adapter(exact.client(context.resources.store.get()), config)
    since = (moment - timedelta(days=config.order_loop.lookback_days)).replace(tzinfo=None)
    deliveries = adapter.orders.deliveries_since(since)
    wanted = sorted({ln["your_ref"][len(SALES_ORDER_PREFIX):] for d in deliveries for ln in d["lines"]
                     if ln["your_ref"].startswith(SALES_ORDER_PREFIX)})
    return (*shipment_documents(deliveries, _walmart_orders(client, wanted), config, moment), len(deliveries))


def _from_files(config, client, moment: datetime) -> tuple[list, list, int]:
    """The shipments in the CSV files of shipments_folder (every file, every run: sent ones are skipped by key)."""
    documents, refused = [], []
    paths = sorted(Path(config.order_loop.shipments_folder).glob("*.csv"))
    for path in paths:
        content = path.read_text(encoding="utf-8-sig")
        pos = sorted({row.get("purchase_order_id", "").strip() for row in csv.DictReader(io.StringIO(content))} - {""})
        found, bad = file_shipment_documents(content, path.name, _walmart_orders(client, pos), config, moment)
        documents += found
        refused += bad
    return documents, refused, len(paths)


def shipments_asset(now: Callable[[], datetime], from_exact: bool) -> dg.AssetsDefinition:
    """`walmart_shipments`: what the warehouse shipped (Exact's deliveries, or shipment files), confirmed to Walmart once."""
    source = ("Exact's goods deliveries of the loop's sales orders (the last order_loop.lookback_days)" if from_exact
              else "the shipment CSVs in order_loop.shipments_folder")

    @dg.asset(
        name=SHIPMENTS, group_name="orders", kinds={"exact" if from_exact else "csv", "walmart"},
        owners=["team:operations"], tags={"domain": "orders"}, pool=WALMART_POOL,
        description=f"{source[0].upper()}{source[1:]}, each sent to Walmart once as its lines' shipment with carrier "
                    "and tracking (POST /v3/orders/{po}/shipping); Walmart's answer is recorded and a refused "
                    "shipment dead-lettered with Walmart's reason.",
        check_specs=[dg.AssetCheckSpec(SHIPMENTS_CONFIRMED, asset=SHIPMENTS,
                                       description="Every shipment read is confirmed to Walmart; one refused or whose "
                                                   "outcome is not known yet is named.")],
        required_resource_keys={"walmart", "store", "mapping", *(["exact"] if from_exact else [])},
    )
    def walmart_shipments(context: dg.AssetExecutionContext):
        config = context.resources.mapping.load()
        store = context.resources.store.get()
        client = context.resources.walmart.client()
        moment = now()
        documents, refused, read = (_from_exact(context, config, client, moment) if from_exact
                                    else _from_files(config, client, moment))
        report = PostingEngine(store, WalmartShipments(client), asset=SHIPMENTS).post(documents)
        rejects = pd.DataFrame(refused, columns=REJECT_COLUMNS)
        meta = keep_rejects(context, store, SHIPMENTS, rejects, set(report.posted) | set(report.already_posted)
                            | set(report.found_in_ledger))
        yield dg.MaterializeResult(metadata={**report_metadata(report, client.calls),
                                             ("deliveries_read" if from_exact else "files_read"): read, **meta})
        open_ = sorted(set(report.failed) | set(report.dead_lettered) | {k for k, _, _ in refused})
        yield dg.AssetCheckResult(check_name=SHIPMENTS_CONFIRMED, passed=not open_, metadata={
            "shipments": len(documents), "not_confirmed": dg.MetadataValue.md("\n".join(f"- `{k}`" for k in open_) or "none")})

    return walmart_shipments
