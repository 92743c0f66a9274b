"""Where asset frames are kept between runs: one Parquet file per partition, range runs included, queryable by anyone."""

import io
import uuid

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from walmart_accounting.store.db import state_dir


class _PartitionedParquet(dg.UPathIOManager):
    # Parquet, not pickles: it survives pandas upgrades, keeps integer cents and UTC times exactly, and
    # an analyst can open it with pandas, DuckDB or a spreadsheet tool.
    extension = ".parquet"

    def __init__(self, base_path: UPath):
        super().__init__(base_path=base_path)
        self.base = base_path
        # Most hourly partitions are empty, and an empty frame's file is the same bytes for the same columns:
        # encode and decode each shape once per run (pyarrow's per-column setup costs ~1 ms a file).
        self._empty_files: dict[tuple, bytes] = {}
        self._empty_frames: dict[bytes, pd.DataFrame] = {}

    def partition_path(self, context: dg.OutputContext, partition_key: str) -> UPath:
        """Where one partition's frame lives: the path UPathIOManager reads it back from."""
        path = self.get_path_for_partition(context, self.base.joinpath(*context.asset_key.path), partition_key)
        return path.with_suffix(path.suffix + self.extension)

    def dump_to_path(self, context: dg.OutputContext, obj, path: UPath) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a DataFrame, got {type(obj).__name__}")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Its own temporary name: two runs (on two workers) may write the same partition at once, and the last
        # rename wins whole; a reader never sees half a file.
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with tmp.open("wb") as file:
            file.write(self._encode(obj))
        tmp.rename(path)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        with path.open("rb") as file:
            data = file.read()
        if data in self._empty_frames:
            return self._empty_frames[data].copy()
        frame = pq.ParquetFile(io.BytesIO(data)).read(use_threads=False).to_pandas(use_threads=False)
        if frame.empty and len(self._empty_frames) < 256:
            self._empty_frames[data] = frame.copy()
        return frame

    def stored_frames(self, asset_key: dg.AssetKey, first: str | None = None, before: str | None = None) -> list[pd.DataFrame]:
        """The stored partitions of an asset whose keys sort in [first, before): a report across partitions of another
        kind (a settlement's orders). Time partition keys ("2026-11-20", "2026-11-20-09:00") sort by time."""
        folder = self.base.joinpath(*asset_key.path)
        if not folder.exists():
            return []
        paths = [p for p in sorted(folder.glob(f"*{self.extension}"))
                 if (first is None or p.stem >= first) and (before is None or p.stem < before)]
        return [self.load_from_path(None, path) for path in paths]

    def _encode(self, frame: pd.DataFrame) -> bytes:
        shape = ((tuple(frame.columns), tuple(frame.dtypes), frame.columns.name)
                 if frame.empty and not frame.attrs else None)
        if shape in self._empty_files:
            return self._empty_files[shape]
        buffer = io.BytesIO()
        # One thread: partition frames are small, and pyarrow's thread pool costs more than it saves on them.
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False, nthreads=1), buffer)
        if shape is not None and len(self._empty_files) < 256:
            self._empty_files[shape] = buffer.getvalue()
        return buffer.getvalue()

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        if context.has_asset_partitions and len(context.asset_partition_keys) > 1:
            # A run over a range of partitions hands over {partition key: frame}: one file each.
            if not isinstance(obj, dict):
                raise TypeError(f"{context.asset_key.to_user_string()}: a range run must output {{partition key: frame}}")
            keys = context.asset_partition_keys
            missing = sorted(set(keys) - set(obj))
            if missing:
                raise KeyError(f"{context.asset_key.to_user_string()}: no output for partitions {missing[:5]}")
            for key in keys:
                self.dump_to_path(context, obj[key], self.partition_path(context, key))
            context.add_output_metadata({"partitions_written_in_run": len(keys)})  # the run's, shown on each partition
            return
        super().handle_output(context, obj)


class FrameIOManager(dg.ConfigurableIOManagerFactory):
    """Keeps each partition's frame in its own Parquet file, so a run over a range of partitions stores and loads them all."""

    # Any UPath: a local folder (default: storage/frames under $DAGSTER_HOME), a shared filesystem, s3://...
    base_dir: str | None = None

    def create_io_manager(self, context) -> _PartitionedParquet:
        base = UPath(self.base_dir) if self.base_dir else UPath(state_dir() / "storage" / "frames")
        return _PartitionedParquet(base_path=base)
