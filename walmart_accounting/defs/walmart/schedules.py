"""Jobs and schedules that keep Walmart data fresh: orders keep changing after they are placed, so recent partitions are refreshed."""

from datetime import timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from walmart_accounting.defs.walmart.partitions import days, order_hours, settlement_reports

ORDER_REFRESH_WINDOW = timedelta(hours=72)  # statuses, shipments and refunds land within days of the order
RETURN_REFRESH_WINDOW = timedelta(days=7)

orders_job = dg.define_asset_job(
    "walmart_orders_job",
    selection=dg.AssetSelection.assets("walmart_orders", "walmart_order_refunds").downstream(),
    tags={"walmart_accounting/source": "walmart"},
    description="Fetch the orders of a range of hours and rebuild the invoices made from them.",
)
returns_job = dg.define_asset_job(
    "walmart_returns_job",
    selection=dg.AssetSelection.assets("walmart_returns", "walmart_returned_orders").downstream(),
    tags={"walmart_accounting/source": "walmart"},
    description="Fetch the returns of a range of days and rebuild the credit notes made from them.",
)
settlements_job = dg.define_asset_job(
    "walmart_settlements_job",
    selection=dg.AssetSelection.assets("walmart_settlements").downstream(),
    tags={"walmart_accounting/source": "walmart"},
    description="Fetch one reconciliation report and build its settlement documents.",
)


def _bounds(partitions_def, start, end) -> tuple[str, str] | None:
    keys = partitions_def.get_partition_keys(current_time=end)
    inside = [k for k in keys if partitions_def.time_window_for_partition_key(k).end > start]
    return (inside[0], inside[-1]) if inside else None


def trailing_run(partitions_def, scheduled_time, window: timedelta) -> dg.RunRequest | dg.SkipReason:
    """One run over the trailing window of complete partitions (the assets backfill a range in a single run)."""
    bounds = _bounds(partitions_def, scheduled_time - window, scheduled_time)
    if bounds is None:
        return dg.SkipReason("no complete partition in the window yet")
    return dg.RunRequest(
        run_key=f"{bounds[0]}..{bounds[1]}",
        tags={ASSET_PARTITION_RANGE_START_TAG: bounds[0], ASSET_PARTITION_RANGE_END_TAG: bounds[1]},
    )


@dg.schedule(job=orders_job, cron_schedule="15 * * * *", execution_timezone="UTC",
             description="Every hour, refresh the last 72 hours of orders in one run.")
def refresh_recent_orders(context: dg.ScheduleEvaluationContext):
    return trailing_run(order_hours, context.scheduled_execution_time, ORDER_REFRESH_WINDOW)


@dg.schedule(job=returns_job, cron_schedule="30 2 * * *", execution_timezone="UTC",
             description="Every night, refresh the last 7 days of returns in one run.")
def refresh_recent_returns(context: dg.ScheduleEvaluationContext):
    return trailing_run(days, context.scheduled_execution_time, RETURN_REFRESH_WINDOW)
