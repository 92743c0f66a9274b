"""How Walmart data is partitioned: orders by hour of order time, returns and inventory by day, settlements by report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dagster as dg

START_DATE_ENV_VAR = "WALMART_ACCOUNTING_START_DATE"
# The tags Dagster reads to run one job over a range of partitions (a single-run backfill); public and
# documented as strings (dagster-io/dagster discussion 11653), so spelled here rather than imported.
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"

# Settlements are one partition per reconciliation report, added by the sensor as Walmart publishes them.
settlement_reports = dg.DynamicPartitionsDefinition(name="walmart_settlement_reports")


@dataclass(frozen=True)
class WalmartPartitions:
    """The partition sets of one deployment, all starting on its fixed start date (never derived from today)."""

    start: date

    @property
    def order_hours(self) -> dg.HourlyPartitionsDefinition:
        return dg.HourlyPartitionsDefinition(start_date=self.start.strftime("%Y-%m-%d-%H:%M"), timezone="UTC")

    @property
    def days(self) -> dg.DailyPartitionsDefinition:
        return dg.DailyPartitionsDefinition(start_date=self.start.isoformat(), timezone="UTC")

    @property
    def settlement_reports(self) -> dg.DynamicPartitionsDefinition:
        return settlement_reports


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run cover the partitions first..last (inclusive)."""
    return {PARTITION_RANGE_START_TAG: first, PARTITION_RANGE_END_TAG: last}
