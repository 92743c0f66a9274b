"""Schedules that keep Walmart data fresh: orders keep changing after they are placed, so recent partitions are refreshed."""

from datetime import datetime, timedelta

import dagster as dg

from walmart_accounting.defs.walmart.partitions import range_tags

ORDER_REFRESH_WINDOW = timedelta(hours=72)  # statuses, shipments and refunds land within days of the order
RETURN_REFRESH_WINDOW = timedelta(days=7)


def trailing_run(partitions_def: dg.TimeWindowPartitionsDefinition, scheduled_time: datetime,
                 window: timedelta) -> dg.RunRequest | dg.SkipReason:
    """One run over the trailing window of complete partitions (the assets backfill a range in a single run)."""
    first = partitions_def.get_first_partition_window()
    if first is None or first.end > scheduled_time:
        return dg.SkipReason("no complete partition in the window yet")
    # In a deployment's first days the window reaches back before its first partition: it starts there.
    start = max(scheduled_time - window, first.start)
    bounds = partitions_def.get_partition_key_range_for_time_window(dg.TimeWindow(start, scheduled_time))
    return dg.RunRequest(run_key=f"{bounds.start}..{bounds.end}", tags=range_tags(bounds.start, bounds.end))


def refresh_schedules(orders_job, returns_job, order_hours, days) -> list[dg.ScheduleDefinition]:
    """Nightly: the last 72 hours of orders and the last 7 days of returns, each in one run."""

    # Changes are found by walmart_changes within minutes; this nightly pass is the fallback for any it missed.
    @dg.schedule(job=orders_job, cron_schedule="15 3 * * *", execution_timezone="UTC",
                 description="Every night, refresh the last 72 hours of orders in one run (the fallback for "
                             "walmart_changes).")
    def refresh_recent_orders(context: dg.ScheduleEvaluationContext):
        return trailing_run(order_hours, context.scheduled_execution_time, ORDER_REFRESH_WINDOW)

    @dg.schedule(job=returns_job, cron_schedule="30 2 * * *", execution_timezone="UTC",
                 description="Every night, refresh the last 7 days of returns in one run.")
    def refresh_recent_returns(context: dg.ScheduleEvaluationContext):
        return trailing_run(days, context.scheduled_execution_time, RETURN_REFRESH_WINDOW)

    return [refresh_recent_orders, refresh_recent_returns]
