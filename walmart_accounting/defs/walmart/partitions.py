"""How Walmart data is partitioned: orders by hour of order time, returns and inventory by day, settlements by report."""

import os
from datetime import UTC, date, datetime

import dagster as dg

START_DATE_ENV_VAR = "WALMART_ACCOUNTING_START_DATE"


def start_date() -> date:
    """$WALMART_ACCOUNTING_START_DATE, else the first day of the month five months ago (inside Walmart's 180 days)."""
    configured = os.environ.get(START_DATE_ENV_VAR)
    if configured:
        return date.fromisoformat(configured)
    today = datetime.now(UTC).date()
    month = today.month - 5
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1)


order_hours = dg.HourlyPartitionsDefinition(start_date=start_date().strftime("%Y-%m-%d-%H:%M"), timezone="UTC")
days = dg.DailyPartitionsDefinition(start_date=start_date().isoformat(), timezone="UTC")
settlement_reports = dg.DynamicPartitionsDefinition(name="walmart_settlement_reports")
