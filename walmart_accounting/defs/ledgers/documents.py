"""Document assets of one ledger: Walmart frames become its invoices, credit notes and settlement documents."""


from typing import Callable

import dagster as dg
import pandas as pd

from walmart_accounting.defs.dead_letters import (
    NO_OPEN_DEAD_LETTERS,
    NO_OPEN_DEAD_LETTERS_DESCRIPTION,
    dead_letter_checks,
    keep_rejects,
)
from walmart_accounting.defs.frames import (
    check_per_partition,
    column_schema,
    combined,
    document_keys,
    partitions_of,
    per_partition,
)
from walmart_accounting.defs.resources import MappingResource, StoreResource
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.money import format_cents
from walmart_accounting.schemas.documents import DocumentLine
from walmart_accounting.transform import documents as docs
from walmart_accounting.transform.reconcile import (
    credit_note_differences,
    document_totals,
    facilitator_balance,
    invoice_differences,
    settlement_balance,
    settlement_labels,
    suspense_rows,
)

_SUSPENSE_DESCRIPTION = ("No amount of an unmapped type was parked on the suspense account "
                         "(unmapped_amount_types: suspense); the rows to map are listed.")
_FACILITATOR_DESCRIPTION = ("The facilitator-tax account nets to zero for the settlement: the facilitator tax booked "
                            "equals what Walmart withheld, and the mapping's state list agrees with the settlement.")


def _finish(context, store: StoreResource, source: str, result: docs.DocumentResult,
            config: MappingConfig, ledger: str) -> tuple[pd.DataFrame, dict]:
    converted = docs.convert_currency(result.documents, config, ledger, None)
    rejects = pd.concat([result.rejects, converted.rejects], ignore_index=True)
    meta = keep_rejects(context, store.get(), source, rejects, set(converted.documents["document_key"]))
    return converted.documents, meta


def _figures(frame: pd.DataFrame, totals: pd.DataFrame | None = None) -> dict:
    """A document frame's figures: documents, lines, total and documents by kind (one partition's, in a range run).

    `totals` are the whole run's document totals, when known: a partition's are picked from them (grouping
    each of a range's many small frames costs more than picking).
    """
    if totals is None:
        totals = document_totals(frame)
    else:
        totals = totals[totals["document_key"].isin(document_keys(frame))] if len(frame) else totals.iloc[0:0]
    return {
        "documents": dg.MetadataValue.int(len(totals)),
        "lines": dg.MetadataValue.int(len(frame)),
        "total": dg.MetadataValue.text(format_cents(totals["total_cents"].sum())),
        "by_kind": dg.MetadataValue.md(
            totals.groupby("document_kind").size().to_frame("documents").to_markdown() if len(totals) else "none"),
    }


def _run_figures(frame: pd.DataFrame) -> Callable[[pd.DataFrame], dict]:
    totals = document_totals(frame)
    return lambda part: _figures(part, totals)


def _source_times(documents: pd.DataFrame, sources: pd.DataFrame, id_column: str, time_column: str) -> pd.Series:
    """Each document line's partition time: that of the first Walmart record it was built from."""
    times = sources.drop_duplicates(id_column).set_index(id_column)[time_column]
    return documents["source_ids"].str.split(",").str[0].map(times)


def _settlement_checks(name: str, partitions: WalmartPartitions, ties_out: str, description: str) -> list[dg.AssetCheckSpec]:
    """A settlement document asset's checks, recorded per settlement partition."""
    reports = partitions.settlement_reports
    # A settlement that does not tie out is not posted (blocking); the others name what to fix and let it post.
    return [dg.AssetCheckSpec(ties_out, asset=name, partitions_def=reports, description=description, blocking=True),
            dg.AssetCheckSpec(NO_OPEN_DEAD_LETTERS, asset=name, partitions_def=reports,
                              description=NO_OPEN_DEAD_LETTERS_DESCRIPTION),
            dg.AssetCheckSpec("facilitator_tax_nets_to_zero", asset=name, partitions_def=reports,
                              description=_FACILITATOR_DESCRIPTION),
            dg.AssetCheckSpec("unmapped_amounts_in_suspense", asset=name, partitions_def=reports,
                              description=_SUSPENSE_DESCRIPTION)]


def _settlement_results(ties_out: str, frame: pd.DataFrame, rows: pd.DataFrame, config: MappingConfig):
    """The settlement's three check results, each naming the settlement and its period."""
    labels = settlement_labels(rows)
    balance = settlement_balance(frame, rows)
    yield dg.AssetCheckResult(check_name=ties_out, passed=balance.ties_out, metadata={**labels, **balance.as_metadata()})
    # Not blocking: the settlement still posts (its clearing account nets either way); the failed check names
    # the purchase orders whose tax the mapping and Walmart disagree on.
    tax = facilitator_balance(frame, rows, config)
    yield dg.AssetCheckResult(check_name="facilitator_tax_nets_to_zero", passed=tax.nets_to_zero,
                              metadata={**labels, **tax.as_metadata()})
    # Not blocking either: the amounts are on suspense, and the check says what to map.
    parked = suspense_rows(rows, config)
    yield dg.AssetCheckResult(check_name="unmapped_amounts_in_suspense", passed=parked.empty, metadata={
        **labels, "rows": len(parked),
        "unmapped": dg.MetadataValue.md(parked.head(25).to_markdown(index=False) if len(parked) else "none")})


def _range_document_asset(ledger: str, name: str, partitions_def: dg.PartitionsDefinition, ins: dict, description: str,
                          check: dg.AssetCheckSpec):
    """A document asset over a range of time partitions, its checks recorded per partition.

    `check` compares the documents with Walmart and is blocking: documents that do not match are not posted.
    """
    return dg.multi_asset(
        name=name, outs={name: dg.AssetOut(description=description, group_name=f"{ledger}_documents", kinds={"pandas"},
                                           metadata=column_schema(DocumentLine))},
        ins=ins, partitions_def=partitions_def, backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[check, dg.AssetCheckSpec(NO_OPEN_DEAD_LETTERS, asset=name, partitions_def=partitions_def,
                                              description=NO_OPEN_DEAD_LETTERS_DESCRIPTION)],
        can_subset=True,
    )


def _differences(differences: pd.DataFrame) -> Callable[[pd.DataFrame], tuple[bool, dict]]:
    """A partition's part of a range run's differences, as a check result (passed, metadata)."""
    def evaluate(frame: pd.DataFrame) -> tuple[bool, dict]:
        keys = document_keys(frame)
        mine = differences[differences["document_key"].isin(keys)]
        return mine.empty, {"documents_checked": len(keys), "differences": dg.MetadataValue.md(
            mine.head(20).to_markdown(index=False) if len(mine) else "none")}
    return evaluate


def sales_invoices_asset(ledger: str, walmart: WalmartAssets, partitions: WalmartPartitions) -> dg.AssetsDefinition:
    """One invoice per fully shipped purchase order of the hour (per_order mode)."""
    name = f"{ledger}_sales_invoices"

    @_range_document_asset(
        ledger, name, partitions.order_hours, {"orders": dg.AssetIn(walmart.order_lines_key)},
        f"One {ledger} sales invoice per fully shipped purchase order of the hour, mapped to {ledger}'s accounts.",
        dg.AssetCheckSpec("invoices_match_walmart", asset=name, partitions_def=partitions.order_hours, blocking=True,
                          description="Each invoice equals its purchase order's Walmart charges to the cent."),
    )
    def sales_invoices(context: dg.AssetExecutionContext, orders, mapping: MappingResource, store: StoreResource):
        lines = combined(orders)
        config = mapping.load()
        frame, meta = _finish(context, store, name, docs.sales_invoices(lines, config, ledger), config, ledger)
        out = per_partition(context, frame, _source_times(frame, lines, "purchase_order_id", "order_date"),
                            describe=_run_figures(frame))
        yield dg.Output(out, name, metadata=meta)
        yield from check_per_partition(context, "invoices_match_walmart", partitions_of(out),
                                       _differences(invoice_differences(frame, lines)), blocking=True)
        yield from dead_letter_checks(context, store.get(), name, name)

    return sales_invoices


def credit_notes_asset(ledger: str, walmart: WalmartAssets, partitions: WalmartPartitions) -> dg.AssetsDefinition:
    """One credit note per refunded return of the day, linked to its invoice (per_order mode)."""
    name = f"{ledger}_credit_notes"

    @_range_document_asset(
        ledger, name, partitions.days,
        {"returns": dg.AssetIn(walmart.return_lines_key), "returned_orders": dg.AssetIn(walmart.returned_orders_key)},
        f"One {ledger} credit note per refunded return of the day, linked to its invoice.",
        dg.AssetCheckSpec("credit_notes_match_refunds", asset=name, partitions_def=partitions.days, blocking=True,
                          description="Each credit note equals what Walmart refunded on its return."),
    )
    def credit_notes(context: dg.AssetExecutionContext, returns, returned_orders, mapping: MappingResource,
                     store: StoreResource):
        return_lines, order_lines = combined(returns), combined(returned_orders)
        config = mapping.load()
        # Refunds issued on the order, with no return, are credited by the settlement that pays them.
        result = docs.credit_notes(return_lines, None, order_lines, config, ledger)
        frame, meta = _finish(context, store, name, result, config, ledger)
        out = per_partition(context, frame, _source_times(frame, return_lines, "return_order_id", "return_date"),
                            describe=_run_figures(frame))
        yield dg.Output(out, name, metadata=meta)
        yield from check_per_partition(context, "credit_notes_match_refunds", partitions_of(out),
                                       _differences(credit_note_differences(frame, return_lines)), blocking=True)
        yield from dead_letter_checks(context, store.get(), name, name)

    return credit_notes


def settlement_documents_asset(ledger: str, walmart: WalmartAssets, partitions: WalmartPartitions) -> dg.AssetsDefinition:
    """Per settlement: payments of invoices and refunds from clearing, the fee bill and the payout transfer (per_order)."""
    name = f"{ledger}_settlement_documents"

    @dg.asset(
        name=name, partitions_def=partitions.settlement_reports,
        ins={"rows": dg.AssetIn(walmart.settlements_key), "order_refunds": dg.AssetIn(walmart.order_refunds_key),
             "refunded_orders": dg.AssetIn(walmart.refunded_orders_key)},
        group_name=f"{ledger}_documents", kinds={"pandas"}, metadata=column_schema(DocumentLine),
        description=f"Per settlement: {ledger} payments of invoices and refunds from the clearing account, "
                    "credit notes of refunds issued without a return, the fee bill, and the transfer of the payout "
                    "to the bank.",
        check_specs=_settlement_checks(name, partitions, "settlement_ties_out",
                                       "Payments − fee bill = payout = transfer, to the cent."),
    )
    def settlement_documents(context: dg.AssetExecutionContext, rows: pd.DataFrame, order_refunds: pd.DataFrame,
                             refunded_orders: pd.DataFrame, mapping: MappingResource, store: StoreResource):
        config = mapping.load()
        result = docs.settlement_documents(rows, config, ledger, order_refunds, refunded_orders)
        frame, meta = _finish(context, store, name, result, config, ledger)
        yield dg.Output(frame, metadata={**settlement_labels(rows), **_figures(frame), **meta})
        yield from _settlement_results("settlement_ties_out", frame, rows, config)
        yield from dead_letter_checks(context, store.get(), name, name, settlement_labels(rows))

    return settlement_documents


def settlement_summary_asset(ledger: str, walmart: WalmartAssets, partitions: WalmartPartitions) -> dg.AssetsDefinition:
    """One invoice per settlement and accounting month, its payment, and the payout transfer (settlement_summary)."""
    name = f"{ledger}_settlement_summary"

    @dg.asset(
        name=name, partitions_def=partitions.settlement_reports,
        ins={"rows": dg.AssetIn(walmart.settlements_key)}, group_name=f"{ledger}_documents", kinds={"pandas"},
        metadata=column_schema(DocumentLine),
        description=f"Per settlement: {ledger} summary invoice(s) with a line per category, totalling the payout.",
        check_specs=_settlement_checks(name, partitions, "summary_ties_out",
                                       "The summary invoices total the payout; the transfer moves exactly the payout."),
    )
    def settlement_summary(context: dg.AssetExecutionContext, rows: pd.DataFrame, mapping: MappingResource,
                           store: StoreResource):
        config = mapping.load()
        frame, meta = _finish(context, store, name, docs.settlement_summary(rows, config, ledger), config, ledger)
        yield dg.Output(frame, metadata={**settlement_labels(rows), **_figures(frame), **meta})
        yield from _settlement_results("summary_ties_out", frame, rows, config)
        yield from dead_letter_checks(context, store.get(), name, name, settlement_labels(rows))

    return settlement_summary
