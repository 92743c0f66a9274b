"""Frames between runs: Parquet per partition, a range run included, exact cents and UTC times read back unchanged."""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from walmart_accounting.defs.frames import per_partition
from walmart_accounting.defs.io import FrameIOManager
from walmart_accounting.defs.walmart.partitions import range_tags

days = dg.DailyPartitionsDefinition(start_date="2026-07-01", timezone="UTC")


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "purchase_order_id": ["PO-1", "PO-2", "PO-3"],
        # beyond float's exact range: a float anywhere on the way would change the last digits
        "amount_cents": pd.Series([9_007_199_254_740_993, -5, 0], dtype="int64"),
        "order_date": pd.to_datetime(["2026-07-01T10:00:00Z", "2026-07-02T23:59:59Z", "2026-07-02T00:00:00Z"], utc=True),
    })


@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run())
def lines(context: dg.AssetExecutionContext):
    return per_partition(context, _frame(), "order_date")


@dg.asset(partitions_def=days)
def downstream(lines: pd.DataFrame) -> pd.DataFrame:
    return lines


def test_a_range_run_writes_one_parquet_file_per_partition_and_reads_back_exactly(tmp_path):
    io_manager = FrameIOManager(base_dir=str(tmp_path / "frames"))
    with dg.instance_for_test() as instance:
        job = dg.define_asset_job("lines_job", selection=[lines])
        defs = dg.Definitions(assets=[lines], jobs=[job], resources={"io_manager": io_manager})
        assert defs.resolve_job_def("lines_job").execute_in_process(
            instance=instance, tags=range_tags("2026-07-01", "2026-07-02")).success
        files = sorted(p.name for p in (tmp_path / "frames" / "lines").iterdir())
        assert files == ["2026-07-01.parquet", "2026-07-02.parquet"]
        table = pq.read_table(tmp_path / "frames" / "lines" / "2026-07-02.parquet")  # what an analyst opens
        assert table.num_rows == 2 and str(table.schema.field("amount_cents").type) == "int64"

        result = dg.materialize([downstream, lines.to_source_asset()], partition_key="2026-07-02", instance=instance,
                                resources={"io_manager": io_manager})
        frame = result.output_for_node("downstream")
    assert frame["amount_cents"].dtype == "int64" and list(frame["amount_cents"]) == [-5, 0]
    assert str(frame["order_date"].dt.tz) == "UTC"
    assert frame["order_date"].iloc[0] == datetime(2026, 7, 2, 23, 59, 59, tzinfo=UTC)
    first = pd.read_parquet(tmp_path / "frames" / "lines" / "2026-07-01.parquet")
    assert first["amount_cents"].tolist() == [9_007_199_254_740_993]


def test_empty_partitions_read_back_with_their_columns_and_types_and_stay_independent(tmp_path):
    manager = FrameIOManager(base_dir=str(tmp_path)).create_io_manager(None)
    empty = _frame().iloc[0:0]
    context = dg.build_output_context(asset_key=dg.AssetKey("lines"))
    for name in ("a", "b"):
        manager.dump_to_path(context, empty, manager.base / f"{name}.parquet")
    first = manager.load_from_path(None, manager.base / "a.parquet")
    first["extra"] = 1  # a consumer changing its frame must not change what the next read returns
    second = manager.load_from_path(None, manager.base / "b.parquet")
    assert list(second.columns) == ["purchase_order_id", "amount_cents", "order_date"] and second.empty
    assert second["amount_cents"].dtype == "int64" and str(second["order_date"].dt.tz) == "UTC"
    assert pd.read_parquet(manager.base / "b.parquet").columns.tolist() == list(second.columns)
    # a non-empty frame after empty ones of the same columns is written in full
    manager.dump_to_path(context, _frame(), manager.base / "c.parquet")
    assert manager.load_from_path(None, manager.base / "c.parquet")["amount_cents"].tolist() == [9_007_199_254_740_993, -5, 0]


@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run())
def counted(context: dg.AssetExecutionContext):
    return per_partition(context, _frame(), "order_date", describe=lambda part: {"rows": len(part)})


def test_each_partition_of_a_range_run_carries_its_own_figures(tmp_path):
    io_manager = FrameIOManager(base_dir=str(tmp_path / "frames"))
    with dg.instance_for_test() as instance:
        job = dg.define_asset_job("counted_job", selection=[counted])
        defs = dg.Definitions(assets=[counted], jobs=[job], resources={"io_manager": io_manager})
        assert defs.resolve_job_def("counted_job").execute_in_process(
            instance=instance, tags=range_tags("2026-07-01", "2026-07-03")).success
        records = instance.fetch_materializations(dg.AssetKey("counted"), limit=10).records
        rows = {r.partition_key: r.asset_materialization.metadata["rows"].value for r in records}
    # one row on the 1st, two on the 2nd, none on the 3rd: never the range's three on each
    assert rows == {"2026-07-01": 1, "2026-07-02": 2, "2026-07-03": 0}


@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run())
def counted_with_rejects(context: dg.AssetExecutionContext):
    from walmart_accounting.defs.dead_letters import keep_rejects
    from walmart_accounting.store.store import Store

    context.add_output_metadata(keep_rejects(context, Store.open(migrate=True), "test", pd.DataFrame(
        {"record_key": ["PO-9"], "reason": ["bad"], "record": [{}]}), context.partition_key_range.start))
    return per_partition(context, _frame(), "order_date", describe=lambda part: {"rows": len(part)})


def test_a_range_runs_dead_letters_are_labelled_as_the_runs_not_each_partitions(tmp_path, monkeypatch):
    from cryptography.fernet import Fernet

    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    io_manager = FrameIOManager(base_dir=str(tmp_path / "frames"))
    with dg.instance_for_test() as instance:
        for tags in (range_tags("2026-07-01", "2026-07-02"), None):
            result = dg.materialize([counted_with_rejects], instance=instance, resources={"io_manager": io_manager},
                                    **({"tags": tags} if tags else {"partition_key": "2026-07-02"}))
            assert result.success
        records = instance.fetch_materializations(dg.AssetKey("counted_with_rejects"), limit=10).records
    metadata = [set(r.asset_materialization.metadata) for r in records]
    assert sum("dead_lettered_in_run" in m for m in metadata) == 2  # the range run's two partitions
    assert sum("dead_lettered" in m for m in metadata) == 1  # the single-partition run: its own figure


def test_stored_frames_reads_only_the_partitions_of_a_window(tmp_path):
    io_manager = FrameIOManager(base_dir=str(tmp_path / "frames")).create_io_manager(None)
    folder = tmp_path / "frames" / "invoices"
    folder.mkdir(parents=True)
    for key in ("2026-08-21-23:00", "2026-08-22-00:00", "2026-11-15-23:00", "2026-11-16-00:00"):
        pd.DataFrame({"partition": [key]}).to_parquet(folder / f"{key}.parquet")
    window = io_manager.stored_frames(dg.AssetKey("invoices"), "2026-08-22", "2026-11-16")
    assert [f["partition"].iloc[0] for f in window] == ["2026-08-22-00:00", "2026-11-15-23:00"]
    assert len(io_manager.stored_frames(dg.AssetKey("invoices"))) == 4
    assert io_manager.stored_frames(dg.AssetKey("nothing_stored")) == []
