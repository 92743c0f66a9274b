"""The integration's health, hourly: what is posted, failing, waiting or dead-lettered, API headroom, and the last runs."""

from datetime import UTC, datetime, timedelta
from typing import Callable

import dagster as dg
import pandas as pd

from walmart_accounting.connectors.errors import ApiError
from walmart_accounting.defs.reports import REPORTS_GROUP, column_schema_of
from walmart_accounting.store.models import DeadLetterStatus, PostingStatus

POSTING_KEEPS_UP = "posting_keeps_up"
# The jobs whose last success the health report shows; a job that never ran says so.
WATCHED_JOBS = ("walmart_orders_job", "walmart_returns_job", "walmart_settlements_job")
_STATUSES = (PostingStatus.POSTED, PostingStatus.FAILED, PostingStatus.WAITING, PostingStatus.DEAD_LETTERED,
             PostingStatus.IN_FLIGHT)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


def posting_health(postings, ledgers, now: datetime) -> pd.DataFrame:
    """Per ledger: documents by status and the age of the oldest one not posted (hours)."""
    rows = []
    for ledger in ledgers:
        mine = [p for p in postings if p.ledger == ledger]
        unposted = [p.waiting_since or p.created_at for p in mine if p.status != PostingStatus.POSTED]
        oldest = min(unposted) if unposted else None
        rows.append({"ledger": ledger, **{status: sum(p.status == status for p in mine) for status in _STATUSES},
                     "oldest_unposted_hours": _hours(now - oldest.replace(tzinfo=oldest.tzinfo or UTC)) if oldest
                     else 0.0})
    return pd.DataFrame(rows)


def open_dead_letters_frame(letters, now: datetime) -> pd.DataFrame:
    """Every dead letter not resolved: source, record, partition, reason and age, oldest first."""
    rows = [{"id": d.id, "source": d.source, "record_key": d.record_key, "partition": d.partition_key or "",
             "status": d.status, "reason": d.reason[:300], "occurrences": d.occurrences,
             "age_hours": _hours(now - d.created_at.replace(tzinfo=d.created_at.tzinfo or UTC))}
            for d in letters if d.status != DeadLetterStatus.RESOLVED]
    columns = ["id", "source", "record_key", "partition", "status", "reason", "occurrences", "age_hours"]
    return pd.DataFrame(rows, columns=columns).sort_values("age_hours", ascending=False, kind="stable")


def health_definitions(ledgers: list[str], now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dg.Definitions:
    """`integration_health` and `open_dead_letters`, their job and an hourly schedule (stopped, like every other)."""

    @dg.asset(
        name="open_dead_letters", group_name=REPORTS_GROUP, kinds={"pandas"}, owners=["team:finance"],
        tags={"report": "dead_letters"},
        metadata=column_schema_of({"id": "int64", "source": "string", "record_key": "string", "partition": "string",
                                   "status": "string", "reason": "string", "occurrences": "int64",
                                   "age_hours": "float64"}),
        description="Every record kept in the dead letters and not resolved, with its reason and age, oldest first: "
                    "fix the cause, then `walmart-accounting dead-letters retry ID`.",
        required_resource_keys={"store"},
    )
    def open_dead_letters(context: dg.AssetExecutionContext):
        frame = open_dead_letters_frame(context.resources.store.get().dead_letters(status=None), now())
        return dg.Output(frame, metadata={
            "open": len(frame), "by_source": dg.MetadataValue.json(frame["source"].value_counts().to_dict()),
            "oldest_hours": float(frame["age_hours"].max()) if len(frame) else 0.0,
            "dead_letters": dg.MetadataValue.md(frame.head(50).to_markdown(index=False) if len(frame) else "none")})

    @dg.asset(
        name="integration_health", group_name=REPORTS_GROUP, kinds={"pandas"}, owners=["team:data-platform"],
        tags={"report": "health"},
        metadata=column_schema_of({"ledger": "string", **{status: "int64" for status in _STATUSES},
                                   "oldest_unposted_hours": "float64", "calls_left_this_minute": "Int64",
                                   "calls_left_today": "Int64", "day_limit": "Int64", "api_error": "string"}),
        description="Per ledger: documents posted, failed, waiting and dead-lettered, the oldest unposted document's "
                    "age, API calls left this minute and today against the limits, and each Walmart job's last "
                    "successful run.",
        check_specs=[dg.AssetCheckSpec(POSTING_KEEPS_UP, asset="integration_health",
                                       description="Posting keeps up: no document has waited or failed longer than "
                                                   "the alerts' max_wait_hours, and no ledger is out of calls for "
                                                   "the day.")],
        # Materialized hourly by its schedule: a health report two hours old means the schedule or daemon stopped.
        freshness_policy=dg.FreshnessPolicy.time_window(warn_window=timedelta(hours=2), fail_window=timedelta(hours=3)),
        required_resource_keys={"store", "alerts", *ledgers},
    )
    def integration_health(context: dg.AssetExecutionContext):
        store = context.resources.store.get()
        moment = now()
        frame = posting_health(store.postings(), ledgers, moment)
        for name in ledgers:
            resource = getattr(context.resources, name)
            client = resource.client(store)
            try:
                resource.probe(client)
                headroom, error = client.headroom(), ""
            except ApiError as exc:  # the report still shows the rest; the error names what to do
                headroom, error = {}, f"{type(exc).__name__}: {exc}"
            row = frame["ledger"] == name
            frame.loc[row, "calls_left_this_minute"] = headroom.get("minute_remaining")
            frame.loc[row, "calls_left_today"] = headroom.get("day_remaining")
            frame.loc[row, "day_limit"] = resource.DAY_LIMIT
            frame.loc[row, "api_error"] = error
        # Whole numbers, missing where the ledger did not answer (pandas made them floats when it added the columns).
        for column in ("calls_left_this_minute", "calls_left_today", "day_limit"):
            frame[column] = frame[column].astype("Int64")
        runs = {}
        for job in WATCHED_JOBS:
            last = context.instance.get_runs(dg.RunsFilter(job_name=job, statuses=[dg.DagsterRunStatus.SUCCESS]),
                                             limit=1)
            stats = context.instance.get_run_stats(last[0].run_id) if last else None
            runs[job] = (datetime.fromtimestamp(stats.end_time, UTC).isoformat(timespec="seconds")
                         if stats and stats.end_time else "never")
        max_wait = context.resources.alerts.max_wait_hours
        late = frame[frame["oldest_unposted_hours"] > max_wait]["ledger"].tolist()
        exhausted = frame[frame["calls_left_today"].fillna(1) <= 0]["ledger"].tolist()
        yield dg.Output(frame, metadata={
            "ledgers": dg.MetadataValue.md(frame.to_markdown(index=False)),
            "last_successful_runs": dg.MetadataValue.json(runs)})
        yield dg.AssetCheckResult(check_name=POSTING_KEEPS_UP, passed=not late and not exhausted, metadata={
            "max_wait_hours": max_wait, "behind": ", ".join(late) or "none", "out_of_calls": ", ".join(exhausted) or "none"})

    job = dg.define_asset_job("integration_health_job", selection=[integration_health, open_dead_letters],
                              description="The health report and the open dead letters.")
    schedule = dg.ScheduleDefinition(name="integration_health_hourly", job=job, cron_schedule="5 * * * *",
                                     execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                                     description="Hourly: the integration's health and its open dead letters.")
    return dg.Definitions(assets=[integration_health, open_dead_letters], jobs=[job], schedules=[schedule])
