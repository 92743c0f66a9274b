"""The code location loads, its assets materialize, and Dagster's PostgreSQL storage variant works."""

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy import create_engine, text

from walmart_accounting.definitions import build_defs
from walmart_accounting.defs.configuration.assets import account_mapping, every_role_has_an_account
from walmart_accounting.domain.config import load_default_config

REPO = Path(__file__).resolve().parents[2]
START = date(2026, 7, 1)


@pytest.fixture
def defs(monkeypatch, tmp_path):
    """The packaged mapping with stock synced both ways with Exact, so the stock domain's definitions load too."""
    data = load_default_config().model_dump(mode="json")
    data["stock"] = {"warehouses": {"701246853001": "1", "701246853002": "2"},
                     "groups": {"counted": {"skus": ["WM-SKU-00*"], "source": "walmart"},
                                "pushed": {"skus": ["WM-SKU-01*"], "source": "ledger"}}}
    data["prices"] = {"source": "ledger"}
    data["order_loop"] = {"enabled": True}
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setenv("WALMART_ACCOUNTING_CONFIG", str(tmp_path / "mapping.yaml"))
    monkeypatch.setenv("WALMART_ACCOUNTING_START_DATE", START.isoformat())
    return build_defs()


def test_code_location_loads_and_validates(defs):
    dg.Definitions.validate_loadable(defs)
    assert dg.AssetKey("account_mapping") in defs.resolve_asset_graph().get_all_asset_keys()


def test_the_module_exposes_lazily_built_definitions(monkeypatch):
    import walmart_accounting.definitions as module

    monkeypatch.setenv("WALMART_ACCOUNTING_START_DATE", START.isoformat())
    loaded = module.defs()  # what `dagster dev -m walmart_accounting.definitions` calls
    assert "walmart_orders_job" in {job.name for job in loaded.resolve_all_job_defs()}


def _first_partition(defs, asset: str) -> str:
    return defs.resolve_assets_def(asset).partitions_def.get_first_partition_key()


def test_partitions_start_on_the_configured_date_whatever_the_calendar_says(defs, monkeypatch):
    assert _first_partition(defs, "walmart_orders") == "2026-07-01-00:00"
    assert _first_partition(defs, "xero_credit_notes") == "2026-07-01"
    # Months later the same deployment has the same partition set (it used to start five months before today).
    later = build_defs(start=None)
    assert _first_partition(later, "walmart_orders") == "2026-07-01-00:00"


def test_the_start_date_can_come_from_the_mapping_file(monkeypatch):
    from walmart_accounting.domain.config import load_default_config, parse_config

    monkeypatch.delenv("WALMART_ACCOUNTING_START_DATE", raising=False)
    data = load_default_config().model_dump(mode="json")
    data["seller"]["start_date"] = "2026-05-04"
    assert _first_partition(build_defs(parse_config(data)), "walmart_returns") == "2026-05-04"


def test_no_start_date_is_a_clear_error_not_a_date_from_the_clock(monkeypatch):
    from walmart_accounting.domain.config import ConfigError

    monkeypatch.delenv("WALMART_ACCOUNTING_START_DATE", raising=False)
    with pytest.raises(ConfigError, match="seller.start_date"):
        build_defs()
    monkeypatch.setenv("WALMART_ACCOUNTING_START_DATE", "July 1st")
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        build_defs()


def test_each_ledger_gets_its_assets_and_jobs_from_one_factory(defs):
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    # The default mapping: Xero per order, Exact by settlement summary.
    assert {"xero_sales_invoices", "xero_credit_notes", "xero_settlement_documents", "xero_posted_invoices",
            "xero_posted_credit_notes", "xero_posted_settlement", "exact_settlement_summary",
            "exact_posted_settlement"} <= keys
    assert not {"exact_sales_invoices", "xero_settlement_summary"} & keys
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"post_to_xero", "post_to_xero_invoices", "post_to_xero_credit_notes", "post_to_exact"} <= jobs
    assert "post_to_exact_invoices" not in jobs
    posted = defs.resolve_assets_def("xero_posted_invoices")
    assert posted.partitions_def == defs.resolve_assets_def("xero_sales_invoices").partitions_def
    assert {"xero", "store", "mapping"} <= posted.required_resource_keys
    assert {"exact_stock_counts", "exact_posted_stock_counts", "walmart_inventory", "walmart_inventory_pushes"} <= keys
    assert "walmart_stock_job" in jobs
    assert {"walmart_prices", "exact_sales_orders", "exact_posted_sales_orders", "walmart_shipments"} <= keys
    assert {"walmart_prices_job", "walmart_shipments_job"} <= jobs
    stock_job = defs.resolve_job_def("walmart_stock_job").asset_layer.selected_asset_keys
    assert {"walmart_inventory_pushes", "exact_stock_counts"} <= {k.to_user_string() for k in stock_job}
    pushes = defs.resolve_assets_def("walmart_inventory_pushes")
    assert {"walmart", "store", "mapping", "exact"} <= pushes.required_resource_keys
    assert pushes.partitions_def == defs.resolve_assets_def("walmart_inventory").partitions_def


def test_account_mapping_materializes_with_passing_check(defs):
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



def test_materialize_against_postgres_storage(defs, postgres_database, isolated_home, monkeypatch):
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


def test_every_asset_says_what_it_is_who_owns_it_and_what_it_holds(defs):
    specs = list(defs.resolve_all_asset_specs())
    assert len(specs) > 15
    for spec in specs:
        name = spec.key.to_user_string()
        assert spec.description and len(spec.description) > 20, name
        assert spec.owners and spec.owners[0].startswith("team:"), name
        assert spec.kinds and spec.group_name, name
        assert spec.tags.get("walmart_accounting/domain"), name
    frames = [s for s in specs if "pandas" in s.kinds]
    missing = [s.key.to_user_string() for s in frames if "dagster/column_schema" not in s.metadata]
    assert not missing, f"frames without a column schema: {missing}"
