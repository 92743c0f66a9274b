"""Rejected records go to the store's dead letters, with their reason, from any asset."""

import dagster as dg
import pandas as pd

from walmart_accounting.store.store import Store


def keep_rejects(context: dg.AssetExecutionContext | dg.OpExecutionContext, store: Store, source: str,
                 rejects: pd.DataFrame, partition_key: str | None) -> dict[str, dg.MetadataValue]:
    """Store every reject as a dead letter (idempotent per source and record key); metadata for the UI."""
    for row in rejects.itertuples(index=False):
        store.dead_letter(source, str(row.record_key), row.record, str(row.reason), partition_key)
    if len(rejects):
        context.log.warning(f"{source}: {len(rejects)} record(s) dead-lettered; `walmart-accounting dead-letters list --source {source}`")
    reasons = rejects["reason"].str.split(";").str[0].value_counts().head(10) if len(rejects) else pd.Series(dtype=int)
    # Shown on every partition of a range run, so say it is the run's figure, not the partition's.
    suffix = "_in_run" if context.has_partition_key_range and len(context.partition_keys) > 1 else ""
    return {
        f"dead_lettered{suffix}": dg.MetadataValue.int(len(rejects)),
        f"dead_letter_reasons{suffix}": dg.MetadataValue.md(
            "\n".join(f"- {count} × {reason}" for reason, count in reasons.items()) or "none"
        ),
    }
