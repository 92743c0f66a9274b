"""The stock domain's definitions: the stock counts, their posting and read-back, a job and an hourly schedule."""

import dagster as dg

from walmart_accounting.defs.ledgers.posting import LEDGER_TAG, posting_asset
from walmart_accounting.defs.stock.assets import stock_agrees_check, stock_count_asset
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions


def stock_definitions(walmart: WalmartAssets, partitions: WalmartPartitions) -> dg.Definitions:
    """Exact follows Walmart's stock each hour: snapshot, counts, posting, check; the schedule starts stopped."""
    counts = stock_count_asset(walmart, partitions)
    posted = posting_asset("exact", "stock_counts", counts,
                           "Posts the hour's stock counts to Exact (processed, so the stock changes), exactly once.")
    job = dg.define_asset_job("walmart_stock_job", selection=[walmart.inventory, counts, posted],
                              tags={LEDGER_TAG: "exact"}, partitions_def=partitions.order_hours,
                              description="Read Walmart's stock, count Exact's warehouses to it, post and check.")
    schedule = dg.build_schedule_from_partitioned_job(job, minute_of_hour=20,
                                                      default_status=dg.DefaultScheduleStatus.STOPPED)
    return dg.Definitions(assets=[counts, posted], asset_checks=[stock_agrees_check(walmart, partitions, posted)],
                          jobs=[job], schedules=[schedule])
