"""The nightly refresh schedules: one run over the trailing window, clamped to the deployment's first day."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from walmart_accounting.definitions import build_defs
from walmart_accounting.defs.walmart.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

START = date(2026, 10, 19)


def _request(name: str, when: datetime):
    schedule = build_defs(start=START).resolve_schedule_def(name)
    with dg.build_schedule_context(scheduled_execution_time=when) as context:
        return schedule.evaluate_tick(context).run_requests


def test_in_the_first_days_the_window_starts_on_the_first_partition():
    when = datetime(2026, 10, 21, 2, 30, tzinfo=UTC)  # two nights after the start date
    (request,) = _request("refresh_recent_returns", when)
    assert (request.tags[PARTITION_RANGE_START_TAG], request.tags[PARTITION_RANGE_END_TAG]) == ("2026-10-19", "2026-10-20")


def test_later_the_window_is_the_trailing_seven_days():
    when = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
    (request,) = _request("refresh_recent_returns", when)
    assert request.tags[PARTITION_RANGE_START_TAG] == (when - timedelta(days=7)).strftime("%Y-%m-%d")
    assert request.tags[PARTITION_RANGE_END_TAG] == "2026-11-19"


def test_before_the_first_partition_is_complete_there_is_nothing_to_refresh():
    assert _request("refresh_recent_orders", datetime(2026, 10, 19, 0, 15, tzinfo=UTC)) == []
