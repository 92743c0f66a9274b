"""Posting assets: a ledger's documents go through the exactly-once engine; the materialization reports what happened."""

from datetime import timedelta
from typing import Callable

import dagster as dg
import pandas as pd

from walmart_accounting.connectors.errors import ApiError, AuthError, ForbiddenError
from walmart_accounting.defs.frames import check_per_partition, combined, document_keys, partition_label, partitions_of
from walmart_accounting.defs.ledgers.resources import LedgerResource
from walmart_accounting.defs.pools import ledger_pool
from walmart_accounting.domain.documents import DocumentKind
from walmart_accounting.posting.documents import LedgerDocument, documents_from_frame
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


def _posted_whole(report: PostingReport) -> Callable[[pd.DataFrame], tuple[bool, dict]]:
    """A partition's posting check: every one of its documents is in the ledger, or the documents that are not, and why."""
    def evaluate(frame: pd.DataFrame) -> tuple[bool, dict]:
        keys = document_keys(frame)
        mine = report.only(keys)
        problems = {**mine.dead_lettered, **mine.failed, **mine.waiting,
                    **{k: "changed after posting; amend it in the ledger" for k in mine.changed_after_posting},
                    **{k: "being posted by another run" for k in mine.in_flight_elsewhere}}
        counts = mine.counts()
        return not problems, {
            "documents": len(keys), **{name: counts[name] for name in ("waiting", "failed", "dead_lettered")},
            "not_posted": dg.MetadataValue.md(
                "\n".join(f"- {k}: {v}" for k, v in sorted(problems.items())[:25]) or "none")}
    return evaluate


LEDGER_AGREES = "ledger_agrees"
CLEARING_NETS_TO_ZERO = "clearing_nets_to_zero"


def _findings_table(findings) -> dg.MetadataValue:
    frame = pd.DataFrame([(f.document_key, f.kind, f.problem, f.detail) for f in findings[:25]],
                         columns=["document_key", "kind", "problem", "detail"])
    return dg.MetadataValue.md(frame.to_markdown(index=False) if len(frame) else "none")


def _ledger_agrees(adapter, documents: list[LedgerDocument], ids: dict[str, str],
                   posted_now: set[str]) -> Callable[[pd.DataFrame], tuple[bool, dict]]:
    """Read back, through the ledger's API, every document posted before this run, once; each partition judged alone."""
    posted = [d for d in documents if d.key in ids]
    try:
        findings, error = adapter.verify_posted(posted, ids), None
    except ApiError as exc:  # the check fails and says why; the posting itself stands
        findings, error = [], f"{type(exc).__name__}: {exc}"

    def evaluate(frame: pd.DataFrame) -> tuple[bool, dict]:
        keys = document_keys(frame)
        mine = [f for f in findings if f.document_key in keys]
        meta = {"documents_read_back": len(keys & ids.keys()), "posted_by_this_run": len(keys & posted_now),
                "findings": len(mine), "details": _findings_table(mine)}
        if error:
            meta["read_back_failed"] = error
        return not mine and not error, meta
    return evaluate


def _clearing_result(adapter, documents: list[LedgerDocument], ids: dict[str, str], clearing: str,
                     labels: dict) -> dg.AssetCheckResult:
    """The clearing account, as the ledger's own report gives it on the day of the payout's transfer: zero."""
    transfers = [d for d in documents if d.kind is DocumentKind.TRANSFER]
    meta: dict = {**labels, "account": clearing}
    if not transfers or any(t.key not in ids for t in transfers):
        return dg.AssetCheckResult(check_name=CLEARING_NETS_TO_ZERO, passed=False,
                                   metadata={**meta, "why": "the payout's transfer is not posted yet"})
    day = max(pd.Timestamp(t.header["document_date"]).date() for t in transfers)
    try:
        balance = adapter.account_balances([clearing], day)[clearing]
    except ApiError as exc:
        return dg.AssetCheckResult(check_name=CLEARING_NETS_TO_ZERO, passed=False,
                                   metadata={**meta, "read_back_failed": f"{type(exc).__name__}: {exc}"})
    return dg.AssetCheckResult(check_name=CLEARING_NETS_TO_ZERO, passed=balance == 0,
                               metadata={**meta, "as_of": day.isoformat(), "balance": str(balance)})


def posting_freshness(partitions_def: dg.PartitionsDefinition) -> dg.FreshnessPolicy:
    """How long a posting asset may go unposted before the UI shows it stale: posting stopped, whatever the cause."""
    # Hours are posted hourly and days daily when the schedules run: a few periods warns, about a day (two
    # for days) fails. Walmart pays bi-weekly, on alternate Fridays: a settlement 15 days on warns, 17 fails.
    if isinstance(partitions_def, dg.HourlyPartitionsDefinition):
        return dg.FreshnessPolicy.time_window(warn_window=timedelta(hours=6), fail_window=timedelta(hours=26))
    if isinstance(partitions_def, dg.DailyPartitionsDefinition):
        return dg.FreshnessPolicy.time_window(warn_window=timedelta(hours=26), fail_window=timedelta(hours=50))
    return dg.FreshnessPolicy.time_window(warn_window=timedelta(days=15), fail_window=timedelta(days=17))


def posting_asset(ledger: str, name: str, documents: dg.AssetsDefinition, description: str) -> dg.AssetsDefinition:
    """`<ledger>_posted_<name>`: posts the frame of `documents`, partitioned like it, through the ledger's resource."""
    time_based = isinstance(documents.partitions_def, dg.TimeWindowPartitionsDefinition)
    asset_name = f"{ledger}_posted_{name}"

    @dg.multi_asset(
        name=asset_name,
        specs=[dg.AssetSpec(asset_name, deps=[documents.key], group_name=f"{ledger}_posting", kinds={ledger},
                            description=description, freshness_policy=posting_freshness(documents.partitions_def))],
        ins={"documents": dg.AssetIn(documents.key)},
        partitions_def=documents.partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if time_based else None,
        check_specs=[dg.AssetCheckSpec(
            "all_documents_posted", asset=asset_name, partitions_def=documents.partitions_def,
            description="Every document of the partition is in the ledger; a document waiting for another "
                        "(a payment for its invoice, a transfer for its settlement), failed or dead-lettered "
                        "fails the check and is named."),
            dg.AssetCheckSpec(
                LEDGER_AGREES, asset=asset_name, partitions_def=documents.partitions_def,
                description="Read back through the ledger's API: every document of the partition we posted before "
                            "this run is there once, not voided or deleted, with our amount; each one that is not is "
                            "named (what this run posted, the ledger's answer to the post confirmed)."),
            *([] if time_based else [dg.AssetCheckSpec(
                CLEARING_NETS_TO_ZERO, asset=asset_name, partitions_def=documents.partitions_def,
                description="The clearing account nets to zero on the day of the payout's transfer, as the ledger's "
                            "own balances report it (Xero's Trial Balance, Exact's transaction lines).")])],
        can_subset=True,  # the check's output is optional: a range run records it once per partition
        pool=ledger_pool(ledger),
        retry_policy=RETRY,
        op_tags={LEDGER_TAG: ledger},
        # The ledger's resource is bound under the ledger's name; the asset is the same for every ledger.
        required_resource_keys={"mapping", "store", ledger},
    )
    def posted(context: dg.AssetExecutionContext, documents):
        resource: LedgerResource = getattr(context.resources, ledger)
        store = context.resources.store.get()
        client = resource.client(store)
        parts = partitions_of(documents)
        where = {k: partition_label(context, key) for key, frame in parts.items() for k in document_keys(frame)}
        try:
            # One pass over the whole range (batches stay full), then each partition is told its own outcome.
            config = context.resources.mapping.load()
            adapter = resource.adapter(client, config)
            engine = PostingEngine(store, adapter, asset=asset_name)
            ledger_documents = documents_from_frame(combined(documents))
            report = engine.post(ledger_documents, partitions=where)
        except (AuthError, ForbiddenError) as exc:
            # Retrying cannot fix credentials or consent; say what to do instead.
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        if report.failed:
            context.log.warning(f"{len(report.failed)} document(s) failed with an unknown or transient outcome; "
                                "the next run resolves them in the ledger before posting again")
        if report.waiting:
            context.log.warning(f"{len(report.waiting)} document(s) wait for documents they refer to; they post "
                                "when those are in the ledger (the all_documents_posted check names them)")
        if None in parts:
            yield dg.MaterializeResult(asset_key=asset_name, metadata=report_metadata(report, client.calls))
        else:
            for key, frame in parts.items():
                context.add_asset_metadata(report_metadata(report.only(document_keys(frame))), asset_key=asset_name,
                                           partition_key=key)
            yield dg.MaterializeResult(asset_key=asset_name,
                                       metadata={"api_calls_in_run": dg.MetadataValue.int(client.calls)})
        yield from check_per_partition(context, "all_documents_posted", parts, _posted_whole(report))
        ids = {**report.already_posted, **report.found_in_ledger, **report.posted}
        # What this run posted, the ledger has just answered for; what was posted before is read back, since it
        # may have been voided, edited or duplicated there since. Reading back costs calls at the ledger's rate
        # limit, so a first backfill spends none and every later run (the nightly refresh, a ledger event) checks.
        earlier = {**report.already_posted, **report.found_in_ledger}
        yield from check_per_partition(context, LEDGER_AGREES, parts,
                                       _ledger_agrees(adapter, ledger_documents, earlier, set(report.posted)))
        if not time_based:
            keys = sorted({str(d.header.get("settlement_key")) for d in ledger_documents if d.header.get("settlement_key")})
            labels = {"report_date": context.partition_key, "settlement": ", ".join(keys) or "-"}
            yield _clearing_result(adapter, ledger_documents, ids, config.ledger(ledger).accounts.clearing, labels)

    return posted
