"""Per settlement and ledger: Walmart's report against the ledger's documents, as a table, a CSV and a bridge chart."""

from datetime import datetime

import dagster as dg
import pandas as pd

from walmart_accounting.defs.reports import REPORTS_GROUP
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.domain.money import format_cents
from walmart_accounting.reports import settlement_report
from walmart_accounting.store.models import DeadLetterStatus

REPORT_OWNERS = ["team:finance"]


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
        description=f"The settlement against {ledger}, category by category (gross sales, shipping, discounts, tax, "
                    "refunds, each fee type, reserve, adjustments, payout), with the differences and the dead letters "
                    "that explain them; the table, a CSV and a chart of the bridge from gross sales to the payout are "
                    "written to the reports folder.",
        required_resource_keys={"io_manager", "mapping", "store", "reports"},
    )
    def report(context: dg.AssetExecutionContext, rows: pd.DataFrame, documents: pd.DataFrame):
        report_date = context.partition_key
        frames = [documents, *(f for key in order_keys for f in context.resources.io_manager.stored_frames(key))]
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
