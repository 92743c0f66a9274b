"""Posting assets: a ledger's documents go through the exactly-once engine; the materialization reports what happened."""


import dagster as dg
import pandas as pd

from walmart_accounting.connectors.errors import AuthError, ForbiddenError
from walmart_accounting.defs.frames import combined, partitions_of
from walmart_accounting.defs.ledgers.resources import LedgerResource
from walmart_accounting.posting.documents import documents_from_frame
from walmart_accounting.posting.engine import PostingEngine, PostingReport

LEDGER_TAG = "walmart_accounting/ledger"
# Transient failures (a timeout that outlived the client's retries, a 5xx burst) retry the whole step;
# the engine's claims make the retry safe.
RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


def report_metadata(report: PostingReport, api_calls: int | None = None) -> dict[str, dg.MetadataValue]:
    """Counts by outcome, the API calls spent (when known), and samples of ledger ids and problems, for the UI."""
    counts = report.counts()
    ids = {**report.posted, **report.found_in_ledger}
    sample = pd.DataFrame(sorted(ids.items())[:25], columns=["document_key", "external_id"])
    problems = {**report.dead_lettered, **report.failed, **report.waiting}
    return {
        **{name: dg.MetadataValue.int(n) for name, n in counts.items()},
        **({"api_calls": dg.MetadataValue.int(api_calls)} if api_calls is not None else {}),
        "external_ids": dg.MetadataValue.md(sample.to_markdown(index=False) if len(sample) else "none"),
        "problems": dg.MetadataValue.md("\n".join(f"- {k}: {v}" for k, v in sorted(problems.items())[:25]) or "none"),
    }


def posting_asset(ledger: str, name: str, documents: dg.AssetsDefinition, description: str) -> dg.AssetsDefinition:
    """`<ledger>_posted_<name>`: posts the frame of `documents`, partitioned like it, through the ledger's resource."""
    time_based = isinstance(documents.partitions_def, dg.TimeWindowPartitionsDefinition)

    @dg.asset(
        name=f"{ledger}_posted_{name}",
        ins={"documents": dg.AssetIn(documents.key)},
        partitions_def=documents.partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if time_based else None,
        group_name=f"{ledger}_posting",
        kinds={ledger},
        pool=f"{ledger}_api",
        retry_policy=RETRY,
        op_tags={LEDGER_TAG: ledger},
        # The ledger's resource is bound under the ledger's name; the asset is the same for every ledger.
        required_resource_keys={"mapping", "store", ledger},
        description=description,
    )
    def posted(context: dg.AssetExecutionContext, documents) -> dg.MaterializeResult:
        resource: LedgerResource = getattr(context.resources, ledger)
        store = context.resources.store.get()
        client = resource.client(store)
        parts = partitions_of(documents)
        try:
            # One pass over the whole range (batches stay full), then each partition is told its own outcome.
            report = PostingEngine(store, resource.adapter(client, context.resources.mapping.load())).post(
                documents_from_frame(combined(documents)))
        except (AuthError, ForbiddenError) as exc:
            # Retrying cannot fix credentials or consent; say what to do instead.
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        if report.failed:
            context.log.warning(f"{len(report.failed)} document(s) failed with an unknown or transient outcome; "
                                "the next run resolves them in the ledger before posting again")
        if None in parts:
            return dg.MaterializeResult(metadata=report_metadata(report, client.calls))
        for key, frame in parts.items():
            keys = set(frame["document_key"]) if frame is not None and len(frame) else set()
            context.add_asset_metadata(report_metadata(report.only(keys)), partition_key=key)
        return dg.MaterializeResult(metadata={"api_calls_in_run": dg.MetadataValue.int(client.calls)})

    return posted
