"""The order loop's definitions: sales orders (posted with the orders job), the shipments back, their job and schedule."""

from datetime import datetime
from typing import Callable

import dagster as dg

from walmart_accounting.defs.ledgers.posting import posting_asset
from walmart_accounting.defs.orders.assets import sales_orders_asset, shipments_asset
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions


def order_loop_definitions(walmart: WalmartAssets, partitions: WalmartPartitions, now: Callable[[], datetime],
                           from_exact: bool) -> dg.Definitions:
    """`walmart_shipments_job`; with Exact, sales orders downstream of walmart_orders (`walmart_orders_job` posts them)."""
    assets = []
    if from_exact:
        orders = sales_orders_asset(walmart, partitions)
        assets = [orders, posting_asset("exact", "sales_orders", orders, "Posts the hour's sales orders to Exact, "
                                        "exactly once, in the warehouse each ships from.")]
    shipments = shipments_asset(now, from_exact)
    job = dg.define_asset_job("walmart_shipments_job", selection=[shipments],
                              description="Confirm to Walmart what the warehouse shipped, with tracking.")
    schedule = dg.ScheduleDefinition(name="walmart_shipments_every_15_minutes", job=job, cron_schedule="*/15 * * * *",
                                     execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                                     description="Every 15 minutes: new shipments go to Walmart.")
    return dg.Definitions(assets=[*assets, shipments], jobs=[job], schedules=[schedule])
