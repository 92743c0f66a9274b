"""Rejected records go to the store's dead letters, with their reason and own partition, from any asset."""

import os
from collections.abc import Iterable
from typing import Any

import dagster as dg
import pandas as pd

from walmart_accounting.store.db import DB_URL_ENV_VAR, redacted
from walmart_accounting.store.models import DeadLetterStatus
from walmart_accounting.store.store import Store

# Where a record says when it happened: transformed rows, then Walmart's own fields (orders in epoch ms).
_TIME_FIELDS = ("order_date", "return_date", "refund_date", "orderDate", "returnOrderDate")


def record_time(record: Any) -> pd.Timestamp | None:
    """When a rejected record happened (its order or return time), if it says so; None when it does not."""
    if not isinstance(record, dict):
        return None
    for name in _TIME_FIELDS:
        value = record.get(name)
        if value is None or isinstance(value, bool):
            continue
        try:
            numeric = isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit())
            stamp = pd.Timestamp(int(value), unit="ms") if numeric else pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            continue
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    for nested in ("order", "rows"):  # a wrapped Walmart order; a rejected document's source rows
        inner = record.get(nested)
        found = record_time(inner[0] if isinstance(inner, list) and inner else inner)
        if found is not None:
            return found
    return None


def reject_partition(context: dg.AssetExecutionContext | dg.OpExecutionContext, record: Any) -> str | None:
    """The partition a reject belongs to: the run's own, or in a range run the one holding its record's time.

    Re-running that partition is what re-drives it; when the record gives no time, the whole range is named.
    """
    if not context.has_partition_key and not context.has_partition_key_range:
        return None
    keys = context.partition_keys
    if len(keys) == 1:
        return keys[0]
    partitions_def = context.assets_def.partitions_def
    when = record_time(record)
    if when is not None and isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        key = partitions_def.get_partition_key_for_timestamp(when.timestamp())
        if key in keys:
            return key
    return f"{keys[0]}...{keys[-1]}"


def _cli_prefix() -> str:
    """The store this run writes to, for a CLI hint that finds the same dead letters (password redacted)."""
    url = os.environ.get(DB_URL_ENV_VAR)
    return f"{DB_URL_ENV_VAR}='{redacted(url)}' " if url else ""


def keep_rejects(context: dg.AssetExecutionContext | dg.OpExecutionContext, store: Store, source: str,
                 rejects: pd.DataFrame, accepted: Iterable[str] = ()) -> dict[str, dg.MetadataValue]:
    """Store every reject as a dead letter under its own partition; close those whose record went through now.

    `accepted` are the record keys this run took (a purchase order, a document key): a dead letter of one of
    them is resolved, whether or not it was re-driven first.
    """
    for row in rejects.itertuples(index=False):
        store.dead_letter(source, str(row.record_key), row.record, str(row.reason), reject_partition(context, row.record))
    resolved = store.resolve_dead_letters(source, set(accepted) - set(rejects["record_key"].astype(str)))
    if len(rejects):
        context.log.warning(f"{source}: {len(rejects)} record(s) dead-lettered; `{_cli_prefix()}walmart-accounting "
                            f"dead-letters list --source {source}`")
    if resolved:
        context.log.info(f"{source}: {resolved} dead letter(s) resolved: their records went through this time")
    reasons = rejects["reason"].str.split(";").str[0].value_counts().head(10) if len(rejects) else pd.Series(dtype=int)
    # Shown on every partition of a range run, so say it is the run's figure, not the partition's.
    suffix = "_in_run" if context.has_partition_key_range and len(context.partition_keys) > 1 else ""
    return {
        f"dead_lettered{suffix}": dg.MetadataValue.int(len(rejects)),
        f"dead_letters_resolved{suffix}": dg.MetadataValue.int(resolved),
        f"dead_letter_reasons{suffix}": dg.MetadataValue.md(
            "\n".join(f"- {count} × {reason}" for reason, count in reasons.items()) or "none"
        ),
    }


def accepted_keys(frame: pd.DataFrame, *columns: str) -> set[str]:
    """The record keys a frame of accepted rows stands for: `a`, `a:b`, `a:b:c`… for its key columns, as rejects name them."""
    if frame.empty:
        return set()
    parts = frame[list(columns)].astype(str)
    keys: set[str] = set()
    joined = parts[columns[0]]
    keys.update(joined)
    for column in columns[1:]:
        joined = joined + ":" + parts[column]
        keys.update(joined)
    return keys


NO_OPEN_DEAD_LETTERS = "no_open_dead_letters"
NO_OPEN_DEAD_LETTERS_DESCRIPTION = ("No record of the partition sits in the dead letters: each one that does is named "
                                    "with its reason (fix, then `walmart-accounting dead-letters retry ID`).")


def _covers(label: str | None, key: str | None) -> bool:
    """Whether a dead letter's partition label (a key, or `first...last` of a range run) covers partition `key`."""
    if label is None or key is None:
        return label == key
    if "..." in label:
        first, last = label.split("...", 1)
        return first <= key <= last  # time partition keys sort as their times do
    return label == key


def dead_letter_checks(context: dg.AssetExecutionContext, store: Store, source: str, asset_key: dg.AssetKey | str,
                       labels: dict | None = None, check_name: str = NO_OPEN_DEAD_LETTERS):
    """Per partition of the run: a failed check while records of that partition sit in the dead letters, naming them.

    Not blocking: the rest of the partition goes on; the check is what keeps the partition from looking green.
    `labels` (a settlement's id and period) go on each result.
    """
    open_letters = [d for d in store.dead_letters(status=None, source=source) if d.status != DeadLetterStatus.RESOLVED]
    ranged = context.has_partition_key_range and len(context.partition_keys) > 1
    keys = context.partition_keys if ranged else [context.partition_key if context.has_partition_key else None]
    for key in keys:
        mine = [d for d in open_letters if _covers(d.partition_key, key)]
        table = pd.DataFrame([(d.id, d.record_key, d.reason[:200], d.status) for d in mine[:25]],
                             columns=["id", "record_key", "reason", "status"])
        metadata = {**(labels or {}), "open_dead_letters": dg.MetadataValue.int(len(mine)),
                    "dead_letters": dg.MetadataValue.md(table.to_markdown(index=False) if mine else "none"),
                    "find_them": dg.MetadataValue.text(f"walmart-accounting dead-letters list --source {source}")}
        if ranged:  # Dagster's AssetCheckResult names only a run's single partition
            yield dg.AssetCheckEvaluation(asset_key=dg.AssetKey.from_coercible(asset_key), check_name=check_name,
                                          passed=not mine, partition=key, metadata=metadata)
        else:
            yield dg.AssetCheckResult(asset_key=asset_key, check_name=check_name, passed=not mine, metadata=metadata)
