"""Walmart assets: orders, refunds, returns, settlement reports and inventory, fetched through the client and validated."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Callable

import dagster as dg
import pandas as pd

from walmart_accounting.defs.dead_letters import (
    NO_OPEN_DEAD_LETTERS,
    NO_OPEN_DEAD_LETTERS_DESCRIPTION,
    accepted_keys,
    dead_letter_checks,
    keep_rejects,
)
from walmart_accounting.defs.frames import column_schema, per_partition, window_of
from walmart_accounting.defs.pools import WALMART_POOL
from walmart_accounting.defs.resources import MappingResource, StoreResource, WalmartResource
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.domain.money import format_cents
from walmart_accounting.schemas.walmart import InventorySnapshot, OrderLine, ReturnLine, SettledRefund, SettlementRow
from walmart_accounting.transform.reconcile import settlement_labels
from walmart_accounting.transform.validation import Validated
from walmart_accounting.transform.walmart import (
    inventory_frame,
    order_frames,
    refunds_without_return,
    return_frame,
    return_order_map,
    settled_order_refunds,
    settlement_frame,
)

RETURN_LOOKBACK = timedelta(days=90)  # a refund in a settlement belongs to a return created up to this long before


def _dead_letter_spec(asset: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(NO_OPEN_DEAD_LETTERS, asset=asset, partitions_def=partitions_def,
                             description=NO_OPEN_DEAD_LETTERS_DESCRIPTION)


def _in_window(frame: pd.DataFrame, column: str, start, end) -> pd.DataFrame:
    return frame[(frame[column] >= start) & (frame[column] < end)].reset_index(drop=True)


@dataclass(frozen=True)
class WalmartAssets:
    """The Walmart assets of one deployment; the ledgers' document assets read their keys from here."""

    orders: dg.AssetsDefinition
    returns: dg.AssetsDefinition  # walmart_returns and walmart_returned_orders
    settlements: dg.AssetsDefinition
    order_refunds: dg.AssetsDefinition  # walmart_order_refunds and walmart_refunded_orders, per settlement
    inventory: dg.AssetsDefinition

    @property
    def all(self) -> list[dg.AssetsDefinition]:
        return [self.orders, self.returns, self.settlements, self.order_refunds, self.inventory]

    @property
    def order_lines_key(self) -> dg.AssetKey:
        return self.orders.key

    @property
    def order_refunds_key(self) -> dg.AssetKey:
        return self.order_refunds.keys_by_output_name["walmart_order_refunds"]

    @property
    def refunded_orders_key(self) -> dg.AssetKey:
        return self.order_refunds.keys_by_output_name["walmart_refunded_orders"]

    @property
    def return_lines_key(self) -> dg.AssetKey:
        return self.returns.keys_by_output_name["walmart_returns"]

    @property
    def returned_orders_key(self) -> dg.AssetKey:
        return self.returns.keys_by_output_name["walmart_returned_orders"]

    @property
    def settlements_key(self) -> dg.AssetKey:
        return self.settlements.key


def build_walmart_assets(partitions: WalmartPartitions,
                         now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> WalmartAssets:
    """Walmart's orders, returns, settlements and inventory, partitioned from the deployment's start date.

    `now` is when an inventory snapshot is taken (the wall clock unless a simulation moves time).
    """

    @dg.multi_asset(
        name="walmart_orders",
        outs={"walmart_orders": dg.AssetOut(
            description="Purchase order lines created in the hour, in their current state (statuses, charges), cents.",
            metadata=column_schema(OrderLine), kinds={"pandas"}, group_name="walmart")},
        partitions_def=partitions.order_hours,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[_dead_letter_spec("walmart_orders", partitions.order_hours)],
        can_subset=True,  # the check's output is optional: a range run records it once per partition
        pool=WALMART_POOL,
    )
    def walmart_orders(context: dg.AssetExecutionContext, walmart: WalmartResource, store: StoreResource,
                       mapping: MappingResource):
        start, end = window_of(context)
        client = walmart.client()
        lines, _ = order_frames(list(client.iter_orders(created_start=start, created_end=end)))
        # Refunds are read where Walmart pays them (walmart_order_refunds, per settlement), not here: a refund
        # usually comes after the hour its order was fetched in.
        valid = _in_window(lines.valid, "order_date", start, end)
        meta = keep_rejects(context, store.get(), "walmart_orders", lines.rejects,
                            accepted_keys(valid, "purchase_order_id", "line_number"))
        if mapping.load().acknowledge_orders:
            # Captured and validated: tell Walmart the seller has the order (only lines still Created need it).
            created = sorted(valid.loc[valid["status"] == "Created", "purchase_order_id"].unique())
            for purchase_order_id in created:
                client.acknowledge_order(purchase_order_id)
            meta["acknowledged"] = dg.MetadataValue.int(len(created))
        yield dg.Output(per_partition(context, valid, "order_date", describe=_orders_figures), "walmart_orders",
                        metadata=meta)
        yield from dead_letter_checks(context, store.get(), "walmart_orders", "walmart_orders")


    @dg.multi_asset(
        outs={
            "walmart_returns": dg.AssetOut(description="Return order lines created on the day, with refund amounts in cents.",
                                           metadata=column_schema(ReturnLine), kinds={"pandas"}),
            "walmart_returned_orders": dg.AssetOut(
                description="The purchase order lines those returns refer to (their tax treatment), whenever ordered.",
                metadata=column_schema(OrderLine), kinds={"pandas"}),
        },
        partitions_def=partitions.days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="walmart",
        check_specs=[_dead_letter_spec("walmart_returns", partitions.days)],
        can_subset=True,
        pool=WALMART_POOL,
    )
    def walmart_returns(context: dg.AssetExecutionContext, walmart: WalmartResource, store: StoreResource):
        start, end = window_of(context)
        client = walmart.client()
        returns = return_frame(list(client.iter_returns(created_start=start, created_end=end)))
        valid = _in_window(returns.valid, "return_date", start, end)
        orders = [client.get_order(po) for po in sorted(valid["purchase_order_id"].unique())]
        lines, _ = order_frames([o for o in orders if o])
        rejects = pd.concat([returns.rejects, lines.rejects], ignore_index=True)
        meta = keep_rejects(context, store.get(), "walmart_returns", rejects,
                            accepted_keys(valid, "return_order_id", "return_line_number")
                            | accepted_keys(lines.valid, "purchase_order_id", "line_number"))
        returned = lines.valid.merge(valid[["purchase_order_id", "return_date"]].drop_duplicates("purchase_order_id"),
                                     on="purchase_order_id")
        selected = context.selected_output_names  # a subset may be asked for (the check makes the asset subsettable)
        if "walmart_returns" in selected:
            yield dg.Output(per_partition(context, valid, "return_date", describe=_returns_figures,
                                          output_name="walmart_returns"), "walmart_returns", metadata=meta)
        if "walmart_returned_orders" in selected:
            yield dg.Output(per_partition(context, returned, "return_date", describe=_orders_figures,
                                          output_name="walmart_returned_orders"), "walmart_returned_orders")
        yield from dead_letter_checks(context, store.get(), "walmart_returns", "walmart_returns")


    @dg.asset(
        partitions_def=partitions.settlement_reports,
        group_name="walmart",
        description="Every row of one reconciliation report (settlement), with the payout on its PaymentSummary row.",
        metadata=column_schema(SettlementRow),
        kinds={"pandas"},
        pool=WALMART_POOL,
        # Blocking: a report whose rows do not sum to its payout (or lost a row) books nothing.
        check_specs=[dg.AssetCheckSpec("payout_equals_rows", asset="walmart_settlements",
                                       partitions_def=partitions.settlement_reports, blocking=True,
                                       description="The PaymentSummary's Total Payable equals the sum of the report's "
                                                   "rows, and no row was dead-lettered; the settlement is not posted "
                                                   "otherwise."),
                     _dead_letter_spec("walmart_settlements", partitions.settlement_reports)],
    )
    def walmart_settlements(context: dg.AssetExecutionContext, walmart: WalmartResource, store: StoreResource):
        report_date = context.partition_key
        client = walmart.client()
        rows = client.recon_report_rows(report_date)
        returns = return_frame(list(client.iter_returns(created_start=_report_day(report_date) - RETURN_LOOKBACK)))
        # Refunds no return explains are read from their orders downstream (walmart_order_refunds).
        frame = settlement_frame(report_date, rows, return_order_map(None, returns.valid))
        meta = keep_rejects(context, store.get(), "walmart_settlements", frame.rejects,
                            accepted_keys(frame.valid, "report_date", "row_number"))
        is_summary = frame.valid["transaction_type"] == "PaymentSummary"
        payout = int(frame.valid.loc[is_summary, "amount_cents"].sum())
        rows_total = int(frame.valid.loc[~is_summary, "amount_cents"].sum())
        labels = settlement_labels(frame.valid)
        yield dg.Output(frame.valid, metadata={**labels, "rows": len(frame.valid),
                                               "payout": dg.MetadataValue.text(format_cents(payout)), **meta})
        yield dg.AssetCheckResult(
            check_name="payout_equals_rows", passed=bool(is_summary.any()) and payout == rows_total and frame.rejects.empty,
            metadata={**labels, "payout": format_cents(payout), "rows_total": format_cents(rows_total),
                      "rows_dead_lettered": len(frame.rejects)},
        )
        yield from dead_letter_checks(context, store.get(), "walmart_settlements", "walmart_settlements", labels)


    @dg.multi_asset(
        outs={
            "walmart_order_refunds": dg.AssetOut(
                description="Refunds this settlement pays that no return order explains (price adjustments, keep-it "
                            "refunds), read from their purchase orders and dated when Walmart posted them; negative cents.",
                metadata=column_schema(SettledRefund), kinds={"pandas"}),
            "walmart_refunded_orders": dg.AssetOut(
                description="The purchase order lines those refunds were issued on (their tax treatment and customer).",
                metadata=column_schema(OrderLine), kinds={"pandas"}),
        },
        ins={"rows": dg.AssetIn(walmart_settlements.key)},
        partitions_def=partitions.settlement_reports,
        group_name="walmart",
        pool=WALMART_POOL,
    )
    def walmart_order_refunds(context: dg.AssetExecutionContext, rows: pd.DataFrame, walmart: WalmartResource,
                              store: StoreResource):
        client = walmart.client()
        orders = [client.get_order(po) for po in refunds_without_return(rows)]
        lines, refunds = order_frames([o for o in orders if o])
        rejects = pd.concat([lines.rejects, refunds.rejects], ignore_index=True)
        meta = keep_rejects(context, store.get(), "walmart_order_refunds", rejects,
                            accepted_keys(lines.valid, "purchase_order_id", "line_number")
                            | accepted_keys(refunds.valid, "purchase_order_id", "line_number", "refund_id"))
        settled = settled_order_refunds(refunds.valid, rows)
        refunded = lines.valid[lines.valid["purchase_order_id"].isin(settled["purchase_order_id"])].reset_index(drop=True)
        yield dg.Output(settled, "walmart_order_refunds", metadata={"refunds": len(settled), **meta})
        yield dg.Output(refunded, "walmart_refunded_orders", metadata={"orders": refunded["purchase_order_id"].nunique()})

    @dg.asset(
        partitions_def=partitions.order_hours,
        group_name="walmart",
        description="Stock per SKU and ship node when read (hourly): on hand, available to sell, reserved by open "
                    "orders, and what the seller last sent; the seller's own nodes and WFS (node `WFS`) told apart.",
        metadata=column_schema(InventorySnapshot),
        kinds={"pandas"},
        pool=WALMART_POOL,
    )
    def walmart_inventory(context: dg.AssetExecutionContext, walmart: WalmartResource, store: StoreResource,
                          mapping: MappingResource) -> pd.DataFrame:
        client = walmart.client()
        own = list(client.iter_inventories())
        wfs = list(client.iter_wfs_inventory()) if mapping.load().stock.read_wfs else []
        snapshot: Validated = inventory_frame(now(), own, wfs)
        meta = keep_rejects(context, store.get(), "walmart_inventory", snapshot.rejects,
                            accepted_keys(snapshot.valid, "sku", "ship_node"))
        by_type = snapshot.valid.groupby("ship_node_type")["on_hand_quantity"].sum()
        context.add_output_metadata({"skus": snapshot.valid["sku"].nunique(), "nodes": snapshot.valid["ship_node"].nunique(),
                                     "on_hand_by_node_type": dg.MetadataValue.json({k: int(v) for k, v in by_type.items()}),
                                     "walmart_api_calls": client.calls, **meta})
        return snapshot.valid

    return WalmartAssets(orders=walmart_orders, returns=walmart_returns, settlements=walmart_settlements,
                         order_refunds=walmart_order_refunds, inventory=walmart_inventory)


def _orders_figures(lines: pd.DataFrame) -> dict:
    return {"orders": lines["purchase_order_id"].nunique(), "lines": len(lines)}


def _returns_figures(lines: pd.DataFrame) -> dict:
    return {"returns": lines["return_order_id"].nunique(), "lines": len(lines)}


def _report_day(report_date: str) -> datetime:
    return datetime.strptime(report_date, "%m%d%Y").replace(tzinfo=UTC)
