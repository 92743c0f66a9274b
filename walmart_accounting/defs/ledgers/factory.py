"""The ledger factory: one function turns a ledger's name and settings into its documents, checks, postings and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import dagster as dg

from walmart_accounting.defs.ledgers.documents import (
    credit_notes_asset,
    sales_invoices_asset,
    settlement_documents_asset,
    settlement_summary_asset,
)
from walmart_accounting.defs.ledgers.posting import LEDGER_TAG, posting_asset
from walmart_accounting.defs.ledgers.sensors import ledger_events_sensor, waiting_sensor
from walmart_accounting.defs.reports.assets import settlement_report_asset
from walmart_accounting.defs.walmart.assets import WalmartAssets
from walmart_accounting.defs.walmart.partitions import WalmartPartitions
from walmart_accounting.domain.config import Ledger, PostingMode


def ledger_definitions(ledger: str, settings: Ledger, walmart: WalmartAssets, partitions: WalmartPartitions,
                       now: Callable[[], datetime] | None = None) -> dg.Definitions:
    """Document assets (with their checks) for the ledger's posting mode, a posting asset for each, and the posting jobs.

    `post_to_<ledger>` posts settlements; per_order ledgers also get `post_to_<ledger>_invoices` and
    `_credit_notes`. The Walmart jobs already post what they build; these post alone, e.g. after
    `walmart-accounting dead-letters retry`.
    """
    tags = {LEDGER_TAG: ledger}
    if settings.posting_mode is PostingMode.PER_ORDER:
        invoices = sales_invoices_asset(ledger, walmart, partitions)
        credit_notes = credit_notes_asset(ledger, walmart, partitions)
        settlement = settlement_documents_asset(ledger, walmart, partitions)
        postings = {
            "invoices": posting_asset(ledger, "invoices", invoices,
                                      f"Posts the hour's sales invoices (and their contacts) to {ledger}, exactly once."),
            "credit_notes": posting_asset(ledger, "credit_notes", credit_notes,
                                          f"Posts the day's credit notes to {ledger} and allocates them to their invoices."),
            "settlement": posting_asset(ledger, "settlement", settlement,
                                        f"Posts a settlement's payments, fee bill and payout transfer to {ledger}."),
        }
        documents = [invoices, credit_notes, settlement]
        report = settlement_report_asset(ledger, walmart, partitions, settlement, [invoices, credit_notes])
        jobs = [
            dg.define_asset_job(f"post_to_{ledger}_invoices", selection=[postings["invoices"]], tags=tags,
                                description=f"Post a range of hours' invoices to {ledger}."),
            dg.define_asset_job(f"post_to_{ledger}_credit_notes", selection=[postings["credit_notes"]], tags=tags,
                                description=f"Post a range of days' credit notes to {ledger}."),
        ]
    else:
        summary = settlement_summary_asset(ledger, walmart, partitions)
        postings = {"settlement": posting_asset(
            ledger, "settlement", summary,
            f"Posts a settlement's summary invoices, their payment and the payout transfer to {ledger}.")}
        documents = [summary]
        report = settlement_report_asset(ledger, walmart, partitions, summary, [])
        jobs = []
    jobs.insert(0, dg.define_asset_job(f"post_to_{ledger}", selection=[postings["settlement"]], tags=tags,
                                       description=f"Post settlements' documents to {ledger}."))
    # The job that posts each posting asset alone: the waiting sensor re-runs a partition with it.
    jobs_by_asset = {postings[name].key.to_user_string(): job for name, job in
                     zip(["settlement", "invoices", "credit_notes"][:len(jobs)], jobs, strict=True)}
    return dg.Definitions(assets=[*documents, *postings.values(), report], jobs=jobs,
                          sensors=[waiting_sensor(ledger, jobs_by_asset, **({'now': now} if now else {})),
                                   ledger_events_sensor(ledger, jobs_by_asset)])
