"""Where asset frames are kept between runs: pickles under DAGSTER_HOME, one file per partition, range runs included."""

import pickle
from pathlib import Path

import dagster as dg
from upath import UPath

from walmart_accounting.store.db import state_dir


class _PartitionedPickles(dg.UPathIOManager):
    extension = ".pkl"

    def dump_to_path(self, context: dg.OutputContext, obj, path: UPath) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.rename(path)

    def load_from_path(self, context: dg.InputContext, path: UPath):
        return pickle.loads(path.read_bytes())

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        if context.has_asset_partitions and len(context.asset_partition_keys) > 1:
            # A run over a range of partitions hands over {partition key: frame}: one file each.
            if not isinstance(obj, dict):
                raise TypeError(f"{context.asset_key.to_user_string()}: a range run must output {{partition key: frame}}")
            paths = self._get_paths_for_partitions(context)
            missing = sorted(set(paths) - set(obj))
            if missing:
                raise KeyError(f"{context.asset_key.to_user_string()}: no output for partitions {missing[:5]}")
            for key, path in paths.items():
                self.make_directory(path.parent)
                self.dump_to_path(context, obj[key], path)
            context.add_output_metadata({"partitions_written": len(paths)})
            return
        super().handle_output(context, obj)


class FrameIOManager(dg.ConfigurableIOManagerFactory):
    """Keeps each partition's frame in its own file, so a run over a range of partitions stores and loads them all."""

    base_dir: str | None = None

    def create_io_manager(self, context) -> _PartitionedPickles:
        base = Path(self.base_dir) if self.base_dir else state_dir() / "storage" / "frames"
        return _PartitionedPickles(base_path=UPath(base))
