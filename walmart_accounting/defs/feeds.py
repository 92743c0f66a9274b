"""Bulk feeds to Walmart from any asset: each feed submitted, polled to its end, every item's result read."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from walmart_accounting.transform.feeds import Feed, feed_failures

FEEDS_SUCCEEDED = "feeds_succeeded"


def push_feeds(client, feeds: list[Feed], poll_s: float) -> tuple[list[dict], list[tuple[str, str]]]:
    """Submit each feed, poll it to its end, read every item's result: (one row per feed, failed SKUs and why)."""
    outcomes, failures = [], []
    for feed in feeds:
        feed_id = client.submit_feed(feed.feed_type, feed.payload)
        status = client.wait_for_feed(feed_id, poll_s=poll_s)
        if status.status == "ERROR":  # the whole file was refused: every SKU in it failed
            failed = [(sku, f"feed {feed_id} refused as a whole") for sku in feed.skus]
        else:
            failed = feed_failures(list(client.iter_feed_items(feed_id)))
        failures += failed
        outcomes.append({"feed_id": feed_id, "feed_type": feed.feed_type, "status": status.status,
                         "items": len(feed.skus), "failed": len(failed)})
    return outcomes, failures


def feed_results_table(outcomes: list[dict]) -> str:
    """The feeds of a run as a Markdown table (for an asset's metadata)."""
    return pd.DataFrame(outcomes).to_markdown(index=False) if outcomes else "none"


def feeds_check(name: str, outcomes: list[dict], failed: list[tuple[str, str]]) -> dg.AssetCheckResult:
    """Passed when every feed was processed and no item failed; else the feeds and SKUs, with Walmart's messages."""
    errored = [o["feed_id"] for o in outcomes if o["status"] != "PROCESSED"]
    table = pd.DataFrame(failed[:50], columns=["sku", "walmart_says"])
    return dg.AssetCheckResult(check_name=name, passed=not errored and not failed, metadata={
        "feeds": len(outcomes), "feeds_not_processed": ", ".join(errored) or "none", "failed_skus": len(failed),
        "failures": dg.MetadataValue.md(table.to_markdown(index=False) if len(table) else "none")})
