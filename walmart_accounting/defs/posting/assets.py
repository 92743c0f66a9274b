"""Posting assets: each ledger's documents go through the exactly-once engine; the materialization reports what happened."""

import dagster as dg
import pandas as pd

from walmart_accounting.connectors.errors import AuthError, ForbiddenError
from walmart_accounting.defs.frames import combined
from walmart_accounting.defs.resources import ExactResource, MappingResource, StoreResource, XeroResource
from walmart_accounting.defs.walmart.partitions import days, order_hours, settlement_reports
from walmart_accounting.domain.config import MappingConfig, PostingMode
from walmart_accounting.posting.documents import documents_from_frame
from walmart_accounting.posting.engine import PostingEngine, PostingReport

LEDGER_TAG = "walmart_accounting/ledger"
# Transient failures (a timeout that outlived the client's retries, a 5xx burst) retry the whole step;
# the engine's claims make the retry safe.
RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


def adapter_for(ledger: str, resource, config: MappingConfig):
    """The ledger adapter around the resource's client."""
    if ledger == "xero":
        from walmart_accounting.posting.xero import XeroAdapter

        return XeroAdapter(resource.client(), config)
    from walmart_accounting.posting.exact import ExactAdapter

    return ExactAdapter(resource.client(), config)


def report_metadata(report: PostingReport, api_calls: int) -> dict[str, dg.MetadataValue]:
    counts = report.counts()
    ids = {**report.posted, **report.found_in_ledger}
    sample = pd.DataFrame(sorted(ids.items())[:25], columns=["document_key", "external_id"])
    problems = {**report.dead_lettered, **report.failed, **report.waiting}
    return {
        **{name: dg.MetadataValue.int(n) for name, n in counts.items()},
        "api_calls": dg.MetadataValue.int(api_calls),
        "external_ids": dg.MetadataValue.md(sample.to_markdown(index=False) if len(sample) else "none"),
        "problems": dg.MetadataValue.md("\n".join(f"- {k}: {v}" for k, v in sorted(problems.items())[:25]) or "none"),
    }


def _posting_asset(ledger: str, name: str, upstream: str, partitions_def, description: str):
    time_based = isinstance(partitions_def, dg.TimeWindowPartitionsDefinition)

    def post(context, documents, mapping: MappingResource, store: StoreResource, resource) -> dg.MaterializeResult:
        adapter = adapter_for(ledger, resource, mapping.load())
        try:
            report = PostingEngine(store.get(), adapter).post(documents_from_frame(combined(documents)))
        except (AuthError, ForbiddenError) as exc:
            # Retrying cannot fix credentials or consent; say what to do instead.
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        calls = getattr(getattr(adapter, "client", None), "calls", 0)
        if report.failed:
            context.log.warning(f"{len(report.failed)} document(s) failed with an unknown or transient outcome; "
                                "the next run resolves them in the ledger before posting again")
        return dg.MaterializeResult(metadata=report_metadata(report, calls))

    settings = dict(
        name=f"{ledger}_posted_{name}",
        ins={"documents": dg.AssetIn(upstream)},
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if time_based else None,
        group_name=f"{ledger}_posting",
        kinds={ledger},
        pool=f"{ledger}_api",
        retry_policy=RETRY,
        op_tags={LEDGER_TAG: ledger},
        description=description,
    )
    if ledger == "xero":
        @dg.asset(**settings)
        def posted(context: dg.AssetExecutionContext, documents, mapping: MappingResource, store: StoreResource,
                   xero: XeroResource) -> dg.MaterializeResult:
            return post(context, documents, mapping, store, xero)
    else:
        @dg.asset(**settings)
        def posted(context: dg.AssetExecutionContext, documents, mapping: MappingResource, store: StoreResource,
                   exact: ExactResource) -> dg.MaterializeResult:
            return post(context, documents, mapping, store, exact)

    return posted


def posting_definitions(config: MappingConfig) -> list:
    """Posting assets per enabled ledger and document kind, partitioned like the documents they post."""
    out = []
    for ledger, settings in config.enabled_ledgers().items():
        if settings.posting_mode is PostingMode.PER_ORDER:
            out += [
                _posting_asset(ledger, "invoices", f"{ledger}_sales_invoices", order_hours,
                               f"Posts the hour's sales invoices (and their contacts) to {ledger}, exactly once."),
                _posting_asset(ledger, "credit_notes", f"{ledger}_credit_notes", days,
                               f"Posts the day's credit notes to {ledger} and allocates them to their invoices."),
                _posting_asset(ledger, "settlement", f"{ledger}_settlement_documents", settlement_reports,
                               f"Posts a settlement's payments, fee bill and payout transfer to {ledger}."),
            ]
        else:
            out.append(_posting_asset(ledger, "settlement", f"{ledger}_settlement_summary", settlement_reports,
                                      f"Posts a settlement's summary invoices, their payment and the payout transfer to {ledger}."))
    return out
