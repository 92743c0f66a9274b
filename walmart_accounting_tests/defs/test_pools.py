"""API pools get explicit limits at deploy time; on PostgreSQL pooled runs go side by side and failed runs are retried."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import requests
from cryptography.fernet import Fernet

from walmart_accounting.cli.connect import connect_flow, xero_client_from_env
from walmart_accounting.defs.pools import set_pool_limits
from walmart_accounting.sandbox.server import SandboxServer
from walmart_accounting.store.store import Store

REPO = Path(__file__).parents[2]
BIN = Path(sys.executable).parent


def test_pool_limits_are_set_explicitly_and_an_operator_limit_is_kept(isolated_home):
    shutil.copy(REPO / "dagster.yaml", isolated_home / "dagster.yaml")
    with dg.DagsterInstance.get() as instance:
        instance.event_log_storage.set_concurrency_slots("xero_api", 3)
        limits = set_pool_limits(instance)
        pools = {pool.name: pool for pool in instance.event_log_storage.get_pool_limits()}
    assert limits == {"walmart_api": 1, "xero_api": 3, "exact_api": 1}
    assert {name: (pool.limit, pool.from_default) for name, pool in pools.items()} == {
        "walmart_api": (1, False), "xero_api": (3, False), "exact_api": (1, False)}


def _hour(order: dict) -> str:
    return datetime.fromtimestamp(order["orderDate"] / 1000, UTC).strftime("%Y-%m-%d-%H:00")


def _launch(env: dict[str, str], hour: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "dagster"), "job", "launch", "-w", str(REPO / "workspace.yaml"), "-j", "walmart_orders_job",
         "--tags", json.dumps({"dagster/partition": hour}),
         # Steps in the run's own process: what is under test is the queue, the pools and the retries, and a
         # process per step would add seconds per step to the suite.
         "--config-json", json.dumps({"execution": {"config": {"in_process": {}}}})],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(condition, what: str, daemon_log: Path, timeout_s: float = 240):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}; daemon log:\n{daemon_log.read_text()[-4000:]}")


@pytest.mark.postgres
def test_the_production_recipe_runs_pooled_runs_side_by_side_on_postgres_and_retries_a_failed_run(
        postgres_database, isolated_home, monkeypatch, tmp_path):
    # The README's recipe: Dagster's storage and the integration's state in one PostgreSQL database.
    shutil.copy(REPO / "deploy" / "dagster-postgres.yaml", isolated_home / "dagster.yaml")
    server = SandboxServer().start()
    seller = server.app.state.walmart.seller
    env = {**os.environ, **server.env(), "DAGSTER_HOME": str(isolated_home), "DAGSTER_PG_URL": postgres_database,
           "WALMART_ACCOUNTING_DB_URL": postgres_database.replace("postgresql+psycopg2://", "postgresql://"),
           "WALMART_ACCOUNTING_SECRET_KEY": Fernet.generate_key().decode("ascii"),
           "WALMART_ACCOUNTING_START_DATE": seller.start.isoformat()}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    daemon_log = tmp_path / "daemon.log"
    daemon = None
    try:
        upgrade = subprocess.run([str(BIN / "walmart-accounting"), "db", "upgrade"], env=env, capture_output=True,
                                 text=True, check=True)
        assert "walmart_api=1" in upgrade.stdout and "xero_api=1" in upgrade.stdout, upgrade.stdout
        store = Store.open()
        connect_flow(xero_client_from_env(store), 0, lambda url: requests.get(url, timeout=30).raise_for_status(),
                     timeout_s=30)
        store.dispose()
        with daemon_log.open("w") as log:
            # Its own process group: the code servers it starts go down with it.
            daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
                                      env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        # Three busy hours of the first week: their orders have all shipped, so each hour has invoices to post.
        first_week = [o for o in seller.orders
                      if datetime.fromtimestamp(o["orderDate"] / 1000, UTC).date() < seller.start + timedelta(days=7)]
        hours = [hour for hour, _ in Counter(map(_hour, first_week)).most_common(3)]

        launches = [_launch(env, hour) for hour in hours[:2]]
        for launch in launches:
            output, _ = launch.communicate(timeout=120)
            assert launch.returncode == 0, output
        with dg.DagsterInstance.get() as instance:
            def finished(count: int):
                runs = instance.get_run_records()
                done = [r for r in runs if r.dagster_run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)]
                return runs if len(done) == count and len(runs) == count else None

            pair = _wait_for(lambda: finished(2), "two pooled runs", daemon_log)
            assert [r.dagster_run.status for r in pair] == [dg.DagsterRunStatus.SUCCESS] * 2
            assert {p.name: p.from_default for p in instance.event_log_storage.get_pool_limits()} == {
                "walmart_api": False, "xero_api": False, "exact_api": False}

            # Walmart answers 503 to every attempt of the next run's order fetch: the run fails, and run retries
            # (deploy/dagster-postgres.yaml) start it again, from the failed step, once Walmart is back.
            server.options.faults.add("walmart", "status_503", method="GET", path_prefix="/v3/orders", times=5)
            launch = _launch(env, hours[2])
            output, _ = launch.communicate(timeout=120)
            assert launch.returncode == 0, output

            def retried():
                runs = {r.dagster_run.run_id: r.dagster_run for r in instance.get_run_records()}
                children = [run for run in runs.values() if run.parent_run_id and run.is_finished]
                return children[0] if children else None

            retry = _wait_for(retried, "the retry of the failed run", daemon_log)
            failed = instance.get_run_by_id(retry.parent_run_id)
            assert failed.status == dg.DagsterRunStatus.FAILURE and failed.tags["dagster/will_retry"] == "true"
            assert failed.tags["dagster/partition"] == retry.tags["dagster/partition"] == hours[2]
            assert retry.status == dg.DagsterRunStatus.SUCCESS

        store = Store.open()
        posted_hours = {_hour(server.app.state.walmart._orders[p.document_key.removeprefix("WM-")])
                        for p in store.postings("xero", status="posted")}
        store.dispose()
        assert posted_hours == set(hours), "each hour's invoices reached Xero, the retried one included"
    finally:
        if daemon is not None:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            finally:
                with contextlib.suppress(ProcessLookupError):  # whatever of the group is left
                    os.killpg(daemon.pid, signal.SIGKILL)
        server.stop()
