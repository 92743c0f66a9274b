"""The stock domain's definitions: counts into Exact and pushes to Walmart, by each group's source; a job and a schedule."""

import dagster as dg

from walmart_accounting.defs.ledgers.posting import LEDGER_TAG, posting_asset
from walmart_accounting.defs.stock.assets import inventory_push_asset, stock_agrees_check, stock_count_asset
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.domain.config import MappingConfig, StockSource


def stock_definitions(walmart: WalmartAssets, partitions: WalmartPartitions, config: MappingConfig) -> dg.Definitions:
    """Each hour: the snapshot; Exact counted to it for the groups of source walmart (counts, posting, check); the
    ledger's quantity pushed to Walmart for the groups of source ledger. The schedule starts stopped."""
    sources = {group.source for group in config.stock.groups.values()}
    ledger = config.stock.ledger
    assets, checks = [], []
    if StockSource.WALMART in sources:  # (the mapping allows source walmart with ledger exact only)
        counts = stock_count_asset(walmart, partitions)
        posted = posting_asset("exact", "stock_counts", counts,
                               "Posts the hour's stock counts to Exact (processed, so the stock changes), exactly once.")
        assets += [counts, posted]
        checks.append(stock_agrees_check(walmart, partitions, posted))
    if StockSource.LEDGER in sources:
        assets.append(inventory_push_asset(walmart, partitions, ledger))
    job = dg.define_asset_job("walmart_stock_job", selection=[walmart.inventory, *assets],
                              tags={LEDGER_TAG: ledger}, partitions_def=partitions.order_hours,
                              description="Read Walmart's stock; count Exact's warehouses to it where Walmart is the "
                                          "source, push the ledger's quantity to Walmart where the ledger is; post "
                                          "and check.")
    schedule = dg.build_schedule_from_partitioned_job(job, minute_of_hour=20,
                                                      default_status=dg.DefaultScheduleStatus.STOPPED)
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=[job], schedules=[schedule])
