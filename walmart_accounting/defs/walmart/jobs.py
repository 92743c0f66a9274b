"""The Walmart jobs: fetch a range of Walmart partitions and rebuild (and post) everything made from them."""

from __future__ import annotations

import dagster as dg

from walmart_accounting.defs.reports import REPORTS_GROUP
from walmart_accounting.defs.walmart.assets import WalmartAssets

SOURCE_TAGS = {"walmart_accounting/source": "walmart"}  # the run queue limits Walmart runs by this tag
_REPORTS = dg.AssetSelection.groups(REPORTS_GROUP)


def walmart_jobs(walmart: WalmartAssets) -> tuple:
    """(orders, returns, settlements) jobs, each selecting its Walmart assets and everything downstream."""
    orders = dg.define_asset_job(
        "walmart_orders_job", selection=dg.AssetSelection.assets(walmart.orders).downstream() - _REPORTS, tags=SOURCE_TAGS,
        description="Fetch the orders of a range of hours and rebuild the invoices made from them.",
    )
    returns = dg.define_asset_job(
        "walmart_returns_job", selection=dg.AssetSelection.assets(walmart.returns).downstream() - _REPORTS, tags=SOURCE_TAGS,
        description="Fetch the returns of a range of days and rebuild the credit notes made from them.",
    )
    settlements = dg.define_asset_job(
        "walmart_settlements_job", selection=dg.AssetSelection.assets(walmart.settlements).downstream(),
        tags=SOURCE_TAGS, description="Fetch one reconciliation report and build its settlement documents.",
    )
    return orders, returns, settlements
