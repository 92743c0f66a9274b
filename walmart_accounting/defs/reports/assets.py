"""Per settlement and ledger: Walmart's report against the ledger's documents, as a table, a CSV and a bridge chart."""

from datetime import datetime

import dagster as dg
import pandas as pd

from walmart_accounting.defs.reports import REPORTS_GROUP, column_schema_of
from walmart_accounting.defs.walmart.assets import RETURN_LOOKBACK, WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.domain.money import format_cents
from walmart_accounting.reports import DAILY_SALES_COLUMNS, daily_sales, settlement_report
from walmart_accounting.store.models import DeadLetterStatus

REPORT_OWNERS = ["team:finance"]
ORDER_LOOKBACK = RETURN_LOOKBACK


def _paid_window(rows: pd.DataFrame) -> tuple[str | None, str | None]:
    """The partitions [first, before) that can hold what a settlement pays, not the whole history.

    Its orders and returns were placed in the 90 days before its period: Walmart cancels an order not shipped
    within days of its ship date, and the returns asset looks back as far.
    """
    if rows.empty:
        return None, None
    first = rows["period_start"].min() - ORDER_LOOKBACK
    return first.strftime("%Y-%m-%d"), (rows["period_end"].max() + pd.Timedelta(days=1)).strftime("%Y-%m-%d")


def settlement_report_asset(ledger: str, walmart: WalmartAssets, partitions: WalmartPartitions,
                            settlement_documents: dg.AssetsDefinition,
                            order_documents: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """`<ledger>_settlement_report`: category by category, what Walmart paid against what the ledger's documents book."""
    name = f"{ledger}_settlement_report"
    # per_order: the invoices and credit notes the settlement's payments pay (any hour or day): read as stored.
    order_keys = [d.key for d in order_documents]

    @dg.asset(
        name=name, partitions_def=partitions.settlement_reports,
        ins={"rows": dg.AssetIn(walmart.settlements_key), "documents": dg.AssetIn(settlement_documents.key)},
        deps=[dg.AssetDep(key, partition_mapping=dg.AllPartitionMapping()) for key in order_keys],
        group_name=REPORTS_GROUP, kinds={"pandas", "matplotlib", ledger}, owners=REPORT_OWNERS,
        tags={"report": "settlement"},
        metadata=column_schema_of({"category": "string", "walmart_cents": "int64", "ledger_cents": "int64",
                                   "difference_cents": "int64"}),
        description=f"The settlement against {ledger}, category by category (gross sales, shipping, discounts, tax, "
                    "refunds, each fee type, reserve, adjustments, payout), with the differences and the dead letters "
                    "that explain them; the table, a CSV and a chart of the bridge from gross sales to the payout are "
                    "written to the reports folder.",
        required_resource_keys={"io_manager", "mapping", "store", "reports"},
    )
    def report(context: dg.AssetExecutionContext, rows: pd.DataFrame, documents: pd.DataFrame):
        report_date = context.partition_key
        frames = [documents, *(f for key in order_keys
                               for f in context.resources.io_manager.stored_frames(key, *_paid_window(rows)))]
        frames = [f for f in frames if len(f)]
        every = pd.concat(frames, ignore_index=True) if frames else documents
        letters = [(d.record_key, d.reason) for d in context.resources.store.get().dead_letters(status=None)
                   if d.status != DeadLetterStatus.RESOLVED and d.partition_key == report_date]
        result = settlement_report(rows, every, context.resources.mapping.load(), ledger=ledger, dead_letters=letters)
        folder = context.resources.reports.path(ledger, "settlements")
        stem = f"{datetime.strptime(report_date, '%m%d%Y'):%Y-%m-%d}_{report_date}"
        (folder / f"{stem}.md").write_text(result.to_markdown(), encoding="utf-8")
        (folder / f"{stem}.csv").write_bytes(result.to_csv_bytes())
        result.bridge_png(folder / f"{stem}.png")
        return dg.Output(result.frame, metadata={
            **result.labels, "ties_out": result.ties_out, "differences": len(result.differences),
            "payout": format_cents(result.payout_cents), "dead_letters": len(letters),
            "report": dg.MetadataValue.md(result.to_markdown()),
            "csv": dg.MetadataValue.path(str(folder / f"{stem}.csv")),
            "bridge_chart": dg.MetadataValue.path(str(folder / f"{stem}.png"))})

    return report


def daily_sales_asset(walmart: WalmartAssets, partitions: WalmartPartitions) -> dg.AssetsDefinition:
    """`walmart_daily_sales` per settlement: its orders by day, SKU and ship-to state, with its refunds and fees allocated."""

    @dg.asset(
        name="walmart_daily_sales", partitions_def=partitions.settlement_reports,
        ins={"rows": dg.AssetIn(walmart.settlements_key), "refunds": dg.AssetIn(walmart.order_refunds_key)},
        deps=[dg.AssetDep(walmart.orders.key, partition_mapping=dg.AllPartitionMapping())],
        group_name=REPORTS_GROUP, kinds={"pandas"}, owners=REPORT_OWNERS, tags={"report": "daily_sales"},
        metadata=column_schema_of({c: ("string" if c in ("sku", "ship_to_state") else "date" if c == "day" else "int64")
                                   for c in DAILY_SALES_COLUMNS}),
        description="The orders a settlement pays, per order day, SKU and ship-to state: units, gross sales, shipping, "
                    "discounts, tax, refunds, and the settlement's fees (commissions on their own line, the rest pro "
                    "rata by gross sales, to the cent); also a CSV in the reports folder.",
        required_resource_keys={"io_manager", "mapping", "reports"},
    )
    def daily_sales_report(context: dg.AssetExecutionContext, rows: pd.DataFrame, refunds: pd.DataFrame):
        paid = set(rows["purchase_order_id"].dropna().astype(str))
        stored = [f[f["purchase_order_id"].isin(paid)]
                  for f in context.resources.io_manager.stored_frames(walmart.orders.key, *_paid_window(rows))]
        stored = [f for f in stored if len(f)]
        orders = pd.concat(stored, ignore_index=True) if stored else pd.DataFrame(columns=["purchase_order_id"])
        frame = daily_sales(orders, refunds, rows, config=context.resources.mapping.load())
        path = context.resources.reports.path("daily_sales") / f"{context.partition_key}.csv"
        frame.to_csv(path, index=False)
        return dg.Output(frame, metadata={
            "rows": len(frame), "orders": len(paid & set(orders["purchase_order_id"].astype(str))),
            "gross_sales": format_cents(int(frame["gross_sales_cents"].sum())),
            "fees": format_cents(int(frame["fees_cents"].sum())), "csv": dg.MetadataValue.path(str(path)),
            "top_skus": dg.MetadataValue.md(frame.groupby("sku")[["units", "gross_sales_cents"]].sum()
                                            .sort_values("gross_sales_cents", ascending=False).head(15).to_markdown())})

    return daily_sales_report
