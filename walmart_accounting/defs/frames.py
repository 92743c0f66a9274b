"""Partition plumbing for frames: one frame per partition key, whether a run covers one partition or a range."""

from datetime import datetime
from typing import Callable

import dagster as dg
import dagster_pandera
import pandas as pd
import pandera.pandas as pa


def column_schema(model: type[pa.DataFrameModel]) -> dict[str, dg.MetadataValue]:
    """The pandera model as the asset's column schema, shown in the Dagster UI."""
    return {"dagster/column_schema": dagster_pandera.pandera_schema_to_dagster_type(model).metadata["schema"].schema}


def combined(value: pd.DataFrame | dict[str, pd.DataFrame], empty: pd.DataFrame | None = None) -> pd.DataFrame:
    """An upstream input as one frame: a range run hands over {partition key: frame}."""
    if isinstance(value, pd.DataFrame):
        return value
    frames = [f for f in value.values() if f is not None and len(f)]
    if frames:
        return pd.concat(frames, ignore_index=True)
    first = next(iter(value.values()), None)
    return first.iloc[0:0] if first is not None else (empty if empty is not None else pd.DataFrame())


def per_partition(context: dg.AssetExecutionContext, frame: pd.DataFrame, stamps: str | pd.Series,
                  describe: Callable[[pd.DataFrame], dict] | None = None, output_name: str | None = None):
    """The output for the run's partitions: a frame for one partition, {key: frame} for a range.

    `stamps` is the time column (or a series aligned with the frame) that places each row in a partition.
    `describe` gives a frame's figures (counts, totals): each partition of a range run is given its own,
    never the whole range's (`output_name` says which asset of a multi-asset).
    """
    keys = context.partition_keys
    asset_key = context.assets_def.keys_by_output_name[output_name] if output_name else context.assets_def.key
    if len(keys) == 1:
        if describe is not None:
            context.add_asset_metadata(describe(frame), asset_key=asset_key)
        return frame
    times = frame[stamps] if isinstance(stamps, str) else stamps
    partitions_def = context.assets_def.partitions_def
    out = {}
    for key in keys:
        window = partitions_def.time_window_for_partition_key(key)
        mask = (times >= window.start) & (times < window.end)
        out[key] = frame[mask.to_numpy()].reset_index(drop=True)
        if describe is not None:
            context.add_asset_metadata(describe(out[key]), asset_key=asset_key, partition_key=key)
    return out


def partitions_of(documents: pd.DataFrame | dict[str, pd.DataFrame]) -> dict[str | None, pd.DataFrame]:
    """An upstream input by partition key: {key: frame} as a range run hands it over, {None: frame} for one."""
    return dict(documents) if isinstance(documents, dict) else {None: documents}


def window_of(context: dg.AssetExecutionContext) -> tuple[datetime, datetime]:
    window = context.partition_time_window
    return window.start, window.end


def check_per_partition(context: dg.AssetExecutionContext, check_name: str, parts: dict[str | None, pd.DataFrame],
                        evaluate: Callable[[pd.DataFrame], tuple[bool, dict]], blocking: bool = False):
    """One evaluation of a partitioned check per partition of the run, each judged on that partition's frame.

    Dagster's AssetCheckResult can only name a run's single partition; a range run records each partition's
    own result this way (the asset is a `can_subset` multi-asset, so the check's output is optional).
    """
    asset_key = context.assets_def.key
    for key, frame in parts.items():
        passed, metadata = evaluate(frame)
        yield dg.AssetCheckEvaluation(asset_key=asset_key, check_name=check_name, passed=bool(passed),
                                      metadata=metadata, partition=partition_label(context, key), blocking=blocking)


def partition_label(context: dg.AssetExecutionContext, key: str | None) -> str | None:
    """A key of `partitions_of`, with None (a one-partition run) turned into the run's own partition."""
    if key is not None:
        return key
    return context.partition_key if context.has_partition_key else None


def document_keys(frame: pd.DataFrame | None) -> set[str]:
    """The document keys of a (possibly empty or missing) partition's document frame."""
    return set(frame["document_key"].astype(str)) if frame is not None and len(frame) else set()
