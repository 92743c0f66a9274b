"""Sensors that start Walmart runs: new reconciliation reports, orders and returns that changed, and webhook events."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Callable

import dagster as dg

from walmart_accounting.connectors.errors import NotFoundError
from walmart_accounting.defs.resources import StoreResource, WalmartResource
from walmart_accounting.defs.walmart.partitions import range_tags, settlement_reports
from walmart_accounting.transform.walmart.changes import batch_ranges, order_hours, return_days, split_by_partition

TRIGGER_TAG = "walmart_accounting/trigger"
# On its first tick the change sensor looks this far back: changes made between a backfill and the sensor's start.
FIRST_LOOKBACK = timedelta(hours=72)
# Walmart stamps lastModified when it commits a change; a change committed while the previous tick read may
# carry a time just before that tick's end, so each window starts a little before the last one ended.
OVERLAP = timedelta(minutes=5)
MAX_RUNS_PER_KIND = 4  # a burst of changes is at most this many runs of each job per tick
MAX_GAP = {"orders": 24, "returns": 7}  # partitions between two changes that still share one range run


def settlement_sensor(settlements_job) -> dg.SensorDefinition:
    """Hourly: a partition for each new reconciliation report, and a run of `settlements_job` for it."""

    @dg.sensor(job=settlements_job, minimum_interval_seconds=3600, default_status=dg.DefaultSensorStatus.STOPPED,
               description="Hourly: add a partition for each new reconciliation report and run it.")
    def new_settlement_reports(context: dg.SensorEvaluationContext, walmart: WalmartResource):
        available = walmart.client().available_recon_dates()
        known = set(context.instance.get_dynamic_partitions(settlement_reports.name))
        # Oldest first: a dynamic partition keeps its place, so the UI lists the reports by date (keys are MMDDYYYY).
        new = sorted((d for d in available if d not in known), key=lambda d: (d[4:], d[:4]))
        if not new:
            return dg.SkipReason(f"{len(available)} report(s), none new")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=d, run_key=f"settlement-{d}") for d in new],
            dynamic_partitions_requests=[settlement_reports.build_add_request(new)],
        )

    return new_settlement_reports


@dataclass
class ChangeCursor:
    """Per kind (orders, returns): where the next window starts, and keys of partitions not complete yet."""

    since: dict[str, str] = field(default_factory=dict)
    pending: dict[str, list[str]] = field(default_factory=dict)
    seen: dict[str, list[str]] = field(default_factory=dict)  # the last window's records, as they were then

    @classmethod
    def parse(cls, text: str | None) -> "ChangeCursor":
        data = json.loads(text) if text else {}
        return cls(since=dict(data.get("since", {})), pending={k: list(v) for k, v in data.get("pending", {}).items()},
                   seen={k: list(v) for k, v in data.get("seen", {}).items()})

    def dump(self) -> str:
        return json.dumps({"since": self.since, "pending": self.pending, "seen": self.seen}, sort_keys=True)


def fingerprints(records: list[dict], id_field: str) -> dict[str, dict]:
    """Each record by its id and a hash of its content: the overlap re-reads a record, a new change alters it."""
    out = {}
    for record in records:
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
        out[f"{record.get(id_field)}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"] = record
    return out


@dataclass(frozen=True)
class _Kind:
    name: str
    job: dg.JobDefinition
    partitions_def: dg.TimeWindowPartitionsDefinition


def range_requests(kind: str, job_name: str, keys, existing, run_key_suffix: str, trigger: str) -> list[dg.RunRequest]:
    """A few range runs covering the changed partitions; the run key names the range and the window it came from."""
    return [dg.RunRequest(job_name=job_name, run_key=f"{trigger}:{kind}:{first}..{last}@{run_key_suffix}",
                          tags={**range_tags(first, last), TRIGGER_TAG: trigger})
            for first, last in batch_ranges(keys, existing, MAX_GAP[kind], MAX_RUNS_PER_KIND)]


def change_sensor(orders_job, returns_job, order_hours_def, days_def,
                  now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dg.SensorDefinition:
    """Every 5 minutes: the orders and returns Walmart changed since the last tick, re-run in their own partitions.

    An order keeps changing after it is placed (shipped on day 9, refunded on day 40), and its partition is
    the hour it was placed in: polling by last-modified time finds it wherever it is.
    """
    kinds = (_Kind("orders", orders_job, order_hours_def), _Kind("returns", returns_job, days_def))

    @dg.sensor(name="walmart_changes", jobs=[orders_job, returns_job], minimum_interval_seconds=300,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description="Every 5 minutes: re-run the order hours and return days whose records Walmart changed "
                           "since the last tick (orders by lastModifiedStartDate, returns by returnLastModifiedStartDate).")
    def walmart_changes(context: dg.SensorEvaluationContext, walmart: WalmartResource):
        client = walmart.client()
        cursor = ChangeCursor.parse(context.cursor)
        until = now()
        fetchers = {"orders": (client.iter_orders, order_hours, "purchaseOrderId"),
                    "returns": (client.iter_returns, return_days, "returnOrderId")}
        requests: list[dg.RunRequest] = []
        for kind in kinds:
            since = datetime.fromisoformat(cursor.since[kind.name]) if kind.name in cursor.since else until - FIRST_LOOKBACK
            fetch, keys_of, id_field = fetchers[kind.name]
            read = fingerprints(list(fetch(last_modified_start=since - OVERLAP, last_modified_end=until)), id_field)
            seen = set(cursor.seen.get(kind.name, []))
            keys, problems = keys_of(record for fingerprint, record in read.items() if fingerprint not in seen)
            for problem in problems:
                context.log.warning(f"walmart_changes: {problem}; its partition is not known, it is read when its "
                                    "partition runs")
            existing = kind.partitions_def.get_partition_keys(current_time=until)
            ready, later, before = split_by_partition(keys | set(cursor.pending.get(kind.name, [])), existing)
            if before:
                context.log.info(f"walmart_changes: {len(before)} {kind.name} partition(s) before the start date ignored")
            requests += range_requests(kind.name, kind.job.name, ready, existing, since.isoformat(), "walmart_changes")
            cursor.since[kind.name] = until.isoformat()
            cursor.pending[kind.name] = later
            cursor.seen[kind.name] = sorted(read)
        if not requests:
            return dg.SensorResult(skip_reason=f"no changed partitions up to {until.isoformat()}", cursor=cursor.dump())
        return dg.SensorResult(run_requests=requests, cursor=cursor.dump())

    return walmart_changes


def _event_records(payload: dict) -> tuple[set[str], set[str]]:
    """(purchase order ids, return order ids) a Walmart event names."""
    body = payload.get("payload") or {}
    orders = {str(body["purchaseOrderId"])} if body.get("purchaseOrderId") else set()
    if isinstance(body.get("order"), dict) and body["order"].get("purchaseOrderId"):
        orders.add(str(body["order"]["purchaseOrderId"]))
    returns = set()
    for line in body.get("returnOrders") or []:
        if line.get("returnOrderId"):
            returns.add(str(line["returnOrderId"]))
    return orders, returns


def webhook_sensor(orders_job, returns_job, order_hours_def, days_def,
                   now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dg.SensorDefinition:
    """Every 30 seconds: Walmart webhook events in the store's inbox, re-run in the partitions of what they name.

    The receiver only stores events; this sensor reads each order or return an event names from Walmart (the
    event says what changed, the API says where it belongs) and its cursor is the last inbox id it handled.
    """

    @dg.sensor(name="walmart_webhook_events", jobs=[orders_job, returns_job], minimum_interval_seconds=30,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description="Every 30 seconds: runs for the order hours and return days named by new Walmart webhook "
                           "events in the inbox (`walmart-accounting webhooks serve` stores them).")
    def walmart_webhook_events(context: dg.SensorEvaluationContext, walmart: WalmartResource, store: StoreResource):
        cursor = json.loads(context.cursor) if context.cursor else {"after": 0, "pending": {}}
        events = store.get().webhooks_after("walmart", cursor["after"])
        pending = cursor.get("pending", {})
        if not events and not any(pending.values()):
            return dg.SkipReason(f"no Walmart events after inbox id {cursor['after']}")
        client = walmart.client()
        orders: list[dict] = []
        returns: list[dict] = []
        for event in events:
            po_ids, return_ids = _event_records(json.loads(event.payload))
            for po in sorted(po_ids):
                try:
                    orders.append(client.get_order(po))
                except NotFoundError:
                    context.log.warning(f"event {event.event_id}: purchase order {po} is not in Walmart")
            for return_id in sorted(return_ids):
                returns += list(client.iter_returns(return_order_id=return_id))
        until = now()
        last = events[-1].id if events else cursor["after"]
        requests: list[dg.RunRequest] = []
        for kind, job, partitions_def, (keys, problems) in (
                ("orders", orders_job, order_hours_def, order_hours(orders)),
                ("returns", returns_job, days_def, return_days(returns))):
            for problem in problems:
                context.log.warning(f"walmart_webhook_events: {problem}")
            existing = partitions_def.get_partition_keys(current_time=until)
            # A partition whose hour or day is not over yet is kept and run once it is.
            ready, pending[kind], _ = split_by_partition(keys | set(pending.get(kind, [])), existing)
            requests += range_requests(kind, job.name, ready, existing, f"{cursor['after'] + 1}-{last}", "webhooks")
        for event in events:
            store.get().finish_webhook(event.id)
        next_cursor = json.dumps({"after": last, "pending": pending}, sort_keys=True)
        if not requests:
            return dg.SensorResult(skip_reason=f"{len(events)} event(s), no complete partition to run yet",
                                   cursor=next_cursor)
        return dg.SensorResult(run_requests=requests, cursor=next_cursor)

    return walmart_webhook_events
