"""Posting jobs per ledger: re-post a range of partitions (a backfill, a retry after a fix) without fetching Walmart again."""

import dagster as dg

from walmart_accounting.defs.posting.assets import LEDGER_TAG
from walmart_accounting.domain.config import MappingConfig, PostingMode


def posting_jobs(config: MappingConfig) -> list:
    """`post_to_<ledger>` (settlements) and, for per_order ledgers, `post_to_<ledger>_invoices` / `_credit_notes`.

    The Walmart jobs already post what they build; these are for posting alone, e.g. after
    `walmart-accounting dead-letters retry`.
    """
    jobs = []
    for ledger, settings in config.enabled_ledgers().items():
        tags = {LEDGER_TAG: ledger}
        jobs.append(dg.define_asset_job(f"post_to_{ledger}", selection=[f"{ledger}_posted_settlement"], tags=tags,
                                        description=f"Post settlements' documents to {ledger}."))
        if settings.posting_mode is PostingMode.PER_ORDER:
            jobs.append(dg.define_asset_job(f"post_to_{ledger}_invoices", selection=[f"{ledger}_posted_invoices"],
                                            tags=tags, description=f"Post a range of hours' invoices to {ledger}."))
            jobs.append(dg.define_asset_job(f"post_to_{ledger}_credit_notes", selection=[f"{ledger}_posted_credit_notes"],
                                            tags=tags, description=f"Post a range of days' credit notes to {ledger}."))
    return jobs
