"""Partition plumbing for frames: one frame per partition key, whether a run covers one partition or a range."""

from datetime import datetime

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


def per_partition(context: dg.AssetExecutionContext, frame: pd.DataFrame, stamps: str | pd.Series):
    """The output for the run's partitions: a frame for one partition, {key: frame} for a range.

    `stamps` is the time column (or a series aligned with the frame) that places each row in a partition.
    """
    keys = context.partition_keys
    if len(keys) == 1:
        return frame
    times = frame[stamps] if isinstance(stamps, str) else stamps
    partitions_def = context.assets_def.partitions_def
    out = {}
    for key in keys:
        window = partitions_def.time_window_for_partition_key(key)
        mask = (times >= window.start) & (times < window.end)
        out[key] = frame[mask.to_numpy()].reset_index(drop=True)
    return out


def window_of(context: dg.AssetExecutionContext) -> tuple[datetime, datetime]:
    window = context.partition_time_window
    return window.start, window.end
