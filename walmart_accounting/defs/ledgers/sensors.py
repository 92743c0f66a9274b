"""Ledger sensors: waiting documents posted once what they wait for is in, and ledger events re-checked against the ledger."""

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


def changed_ledger_ids(payload: dict) -> list[str]:
    """The ledger ids a ledger's webhook event names: Exact's `Content.Key`, Xero's `events[].resourceId`."""
    ids = []
    content = payload.get("Content")
    if isinstance(content, dict) and content.get("Key"):
        ids.append(str(content["Key"]))
    for event in payload.get("events") or []:
        if isinstance(event, dict) and event.get("resourceId"):
            ids.append(str(event["resourceId"]))
    return [i.strip("{}").lower() for i in ids]


def ledger_events_sensor(ledger: str, jobs_by_asset: dict[str, dg.JobDefinition]) -> dg.SensorDefinition:
    """Every minute: a document we posted and the ledger says changed (an event in the inbox) is re-read there.

    The partition's posting run finds the document posted and its `ledger_agrees` check reads it back: a
    deleted, voided or edited document is a failed check naming it, not silence.
    """

    @dg.sensor(name=f"{ledger}_ledger_events", jobs=list(jobs_by_asset.values()), minimum_interval_seconds=60,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description=f"Every minute: {ledger} webhook events about documents we posted re-run their partition's "
                           "posting, whose ledger_agrees check reads them back from the ledger.")
    def ledger_events(context: dg.SensorEvaluationContext, store: StoreResource):
        after = int(context.cursor or 0)
        inbox = store.get()
        events = inbox.webhooks_after(ledger, after)
        if not events:
            return dg.SensorResult(skip_reason=f"no {ledger} events after inbox id {after}", cursor=str(after))
        posted = {(p.external_id or "").strip("{}").lower(): p for p in inbox.postings(ledger=ledger, status="posted")}
        targets: set[tuple[str, str]] = set()
        ignored = 0
        for event in events:
            for ledger_id in changed_ledger_ids(json.loads(event.payload)):
                posting = posted.get(ledger_id)
                if posting is not None and posting.asset in jobs_by_asset and posting.partition_key:
                    targets.add((posting.asset, posting.partition_key))
                else:
                    ignored += 1  # not a document we posted (or posted before partitions were recorded)
            inbox.finish_webhook(event.id)
        last = events[-1].id
        if not targets:
            return dg.SensorResult(skip_reason=f"{len(events)} event(s), none about a document we posted "
                                               f"({ignored} ignored)", cursor=str(last))
        return dg.SensorResult(cursor=str(last), run_requests=[
            dg.RunRequest(job_name=jobs_by_asset[asset].name, partition_key=partition,
                          run_key=f"{ledger}-events:{after + 1}-{last}:{asset}:{partition}",
                          tags={"walmart_accounting/trigger": f"{ledger}_events"})
            for asset, partition in sorted(targets)])

    return ledger_events
