"""The code location loads, its assets materialize, and Dagster's PostgreSQL storage variant works."""

import shutil
from pathlib import Path

import dagster as dg
from sqlalchemy import create_engine, text

from walmart_accounting.defs.configuration.assets import account_mapping, every_role_has_an_account
from walmart_accounting.definitions import defs

REPO = Path(__file__).resolve().parents[2]


def test_code_location_loads_and_validates():
    dg.Definitions.validate_loadable(defs)
    assert dg.AssetKey("account_mapping") in defs.resolve_asset_graph().get_all_asset_keys()


def test_account_mapping_materializes_with_passing_check():
    result = dg.materialize(
        [account_mapping, every_role_has_an_account],
        resources=defs.resources,
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    frame = result.output_for_node("account_mapping")
    xero = frame[frame["ledger"] == "xero"].set_index("role")["code"]
    assert xero["clearing"] == "1250" and xero["fee:commission"] == "6000"
    checks = result.get_asset_check_evaluations()
    assert [c.passed for c in checks] == [True]



def test_materialize_against_postgres_storage(postgres_database, isolated_home, monkeypatch):
    shutil.copy(REPO / "deploy" / "dagster-postgres.yaml", isolated_home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_database)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = dg.materialize([defs.get_assets_def("account_mapping")], resources=defs.resources, instance=instance)
        assert result.success
        materialization = instance.get_latest_materialization_event(dg.AssetKey("account_mapping"))
        assert materialization is not None and materialization.run_id == result.run_id
    engine = create_engine(postgres_database)
    with engine.connect() as connection:
        stored = connection.execute(text("select status from runs where run_id = :r"), {"r": result.run_id}).scalar_one()
    engine.dispose()
    assert stored == "SUCCESS"


def test_local_instance_yaml_has_per_ledger_run_limits(isolated_home):
    shutil.copy(REPO / "dagster.yaml", isolated_home / "dagster.yaml")
    with dg.DagsterInstance.get() as instance:
        concurrency = instance.get_concurrency_config()
        assert {"key": "walmart_accounting/ledger", "value": "xero", "limit": 1} in concurrency.run_queue_config.tag_concurrency_limits
        assert concurrency.pool_config.default_pool_limit == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
