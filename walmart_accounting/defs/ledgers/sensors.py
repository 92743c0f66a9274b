"""A sensor that posts waiting documents as soon as what they wait for is in the ledger, and alerts on old ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Callable

import dagster as dg

from walmart_accounting.defs.alerts import AlertResource
from walmart_accounting.defs.resources import StoreResource
from walmart_accounting.store.models import PostingStatus


def waiting_sensor(ledger: str, jobs_by_asset: dict[str, dg.JobDefinition], max_wait: timedelta | None = None,
                   now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dg.SensorDefinition:
    """Every 5 minutes: when documents were posted since the last tick, re-run each partition holding waiting ones.

    A payment waits for its invoice and a transfer for its settlement; what they wait for arrives in other
    runs (an order shipped late, a return refunded late), so the re-run follows the arrivals, not a clock.
    """

    @dg.sensor(name=f"{ledger}_waiting_documents", jobs=list(jobs_by_asset.values()), minimum_interval_seconds=300,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description=f"Every 5 minutes: post {ledger} documents that wait for others (a payment for its "
                           "invoice, a transfer for its settlement) once new documents reached the ledger; a document "
                           "waiting longer than the alerts' max_wait_hours (72 unless "
                           "WALMART_ACCOUNTING_MAX_WAIT_HOURS says) is an alert.")
    def waiting_documents(context: dg.SensorEvaluationContext, store: StoreResource, alerts: AlertResource):
        state = json.loads(context.cursor) if context.cursor else {"posted_until": None, "alerted": []}
        postings = store.get().postings(ledger=ledger)
        posted = [p.posted_at for p in postings if p.status == PostingStatus.POSTED and p.posted_at]
        latest = max(posted).isoformat() if posted else None
        waiting = [p for p in postings if p.status == PostingStatus.WAITING]
        alerted = set(state.get("alerted", []))
        limit = max_wait or timedelta(hours=alerts.max_wait_hours)
        for posting in waiting:
            since = posting.waiting_since
            if since and now() - since.replace(tzinfo=since.tzinfo or UTC) > limit and posting.document_key not in alerted:
                alerts.send(f"{ledger} {posting.document_key} waiting since {since.isoformat()} (over {limit})",
                            f"{posting.last_error} (partition {posting.partition_key} of {posting.asset})")
                alerted.add(posting.document_key)
        alerted &= {p.document_key for p in waiting}
        cursor = json.dumps({"posted_until": latest, "alerted": sorted(alerted)}, sort_keys=True)
        arrived = latest is not None and (state.get("posted_until") is None or latest > state["posted_until"])
        groups = sorted({(p.asset, p.partition_key) for p in waiting if p.asset in jobs_by_asset and p.partition_key})
        if not waiting or not arrived or not groups:
            return dg.SensorResult(skip_reason=f"{len(waiting)} waiting, nothing new posted since the last tick",
                                   cursor=cursor)
        return dg.SensorResult(cursor=cursor, run_requests=[
            dg.RunRequest(job_name=jobs_by_asset[asset].name, partition_key=partition,
                          run_key=f"waiting:{asset}:{partition}:{latest}",
                          tags={"walmart_accounting/trigger": "waiting_documents"})
            for asset, partition in groups])

    return waiting_documents
