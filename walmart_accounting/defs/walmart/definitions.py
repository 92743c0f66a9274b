"""The Walmart domain's definitions: its assets, jobs, refresh schedules and sensors (reports, changes, webhooks)."""

from datetime import datetime
from typing import Callable

import dagster as dg

from walmart_accounting.defs.walmart.assets import WalmartAssets, build_walmart_assets
from walmart_accounting.defs.walmart.jobs import walmart_jobs
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.defs.walmart.schedules import refresh_schedules
from walmart_accounting.defs.walmart.sensors import change_sensor, settlement_sensor, webhook_sensor


def walmart_definitions(partitions: WalmartPartitions,
                        now: Callable[[], datetime]) -> tuple[dg.Definitions, WalmartAssets]:
    """The domain's Definitions, and its assets for the ledgers built on them."""
    assets = build_walmart_assets(partitions, now)
    orders_job, returns_job, settlements_job = walmart_jobs(assets)
    defs = dg.Definitions(
        assets=assets.all,
        jobs=[orders_job, returns_job, settlements_job],
        schedules=refresh_schedules(orders_job, returns_job, partitions.order_hours, partitions.days),
        sensors=[settlement_sensor(settlements_job),
                 change_sensor(orders_job, returns_job, partitions.order_hours, partitions.days, now),
                 webhook_sensor(orders_job, returns_job, partitions.order_hours, partitions.days, now)],
    )
    return defs, assets
