"""Runs on Dagster's Celery executor: worker processes on the local broker, storage on PostgreSQL. Two runs of the same
hour at once on different workers post each invoice once; a worker killed mid-posting leaves no duplicate."""

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
from sqlalchemy import text

from walmart_accounting.cli.connect import connect_flow, exact_client_from_env, xero_client_from_env
from walmart_accounting.cli.workers import celery_workers, step_workers
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
from walmart_accounting.store.store import Store

REPO = Path(__file__).resolve().parents[2]
# Every test's workers listen on the broker's one `dagster` queue: two of these tests at once would take each
# other's steps, so `make test` runs the `celery` tests one after the other, after the parallel part.
pytestmark = pytest.mark.celery


@pytest.fixture(scope="session")
def broker():
    """The Celery broker (RabbitMQ on 127.0.0.1:5672 by default): these tests skip without it, CI requires it."""
    from kombu import Connection

    from walmart_accounting.defs.executors import broker_url

    try:
        with Connection(broker_url(), connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001  (any refusal means: no broker here)
        message = f"no Celery broker at {broker_url()}: {exc}"
        if os.environ.get("WALMART_ACCOUNTING_REQUIRE_BROKER") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def celery_deployment(broker, postgres_database, isolated_home, monkeypatch):
    """The sandboxes, Dagster's and the integration's storage on one PostgreSQL database, the Celery executor chosen."""
    shutil.copy(REPO / "deploy" / "dagster-postgres.yaml", isolated_home / "dagster.yaml")
    with SandboxServer(SandboxOptions(seller_days=7)) as server:
        server.app.state.xero.set_limits(minute=100_000, day=1_000_000)
        for name, value in {**server.env(), "DAGSTER_PG_URL": postgres_database,
                            "WALMART_ACCOUNTING_DB_URL": postgres_database, "XERO_CALLS_PER_MINUTE": "100000",
                            "WALMART_ACCOUNTING_SECRET_KEY": Fernet.generate_key().decode(),
                            "WALMART_ACCOUNTING_START_DATE": server.app.state.walmart.seller.start.isoformat(),
                            "WALMART_ACCOUNTING_EXECUTOR": "celery"}.items():
            monkeypatch.setenv(name, value)
        store = Store.open(migrate=True)
        for client in (xero_client_from_env(store), exact_client_from_env(store)):
            connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
        yield server


def _busiest_hour(server) -> str:
    orders = server.app.state.walmart._orders.values()
    hours = Counter(datetime.fromtimestamp(int(o["orderDate"]) / 1000, UTC).strftime("%Y-%m-%d-%H:00") for o in orders)
    return hours.most_common(1)[0][0]


def _orders_run(hour: str) -> list[str]:
    """The command that runs `walmart_orders_job` for one hour in its own process, as the run launcher would."""
    return [sys.executable, "-m", "dagster", "job", "execute", "-m", "walmart_accounting.definitions", "-a", "defs",
            "-j", "walmart_orders_job", "--tags", json.dumps({"dagster/partition": hour})]


def _pool_limits(instance) -> None:
    """The pools' limit rows, which a deployment has from its first run (two first runs at once would both create
    one, and PostgreSQL refuses the second)."""
    for pool in ("walmart_api", "xero_api", "exact_api"):
        instance.event_log_storage.initialize_concurrency_limit_to_default(pool)


def _step_span(instance, run_id: str, step: str) -> tuple[float, float]:
    """When a step started and ended (event timestamps)."""
    times = [(r.dagster_event.event_type_value, r.timestamp) for r in instance.all_logs(run_id)
             if r.dagster_event is not None and r.dagster_event.step_key == step]
    start = min(t for kind, t in times if kind == "STEP_START")
    end = max(t for kind, t in times if kind in ("STEP_SUCCESS", "STEP_FAILURE"))
    return start, end


def test_two_runs_of_one_hour_on_two_workers_post_each_invoice_once(celery_deployment):
    hour = _busiest_hour(celery_deployment)
    command = _orders_run(hour)
    with dg.DagsterInstance.get() as instance:
        _pool_limits(instance)
        # The steps of both runs may run at once here (a deployment's pools keep them apart), and each Xero write
        # takes three seconds, so the two runs post the same invoices at the same time on different workers.
        for pool in ("walmart_api", "xero_api"):
            instance.event_log_storage.set_concurrency_slots(pool, 2)
    slow = celery_deployment.options.faults.add("xero", "delay", method="PUT", path_prefix="/api/api.xro/2.0/Invoices",
                                         delay_s=3.0, times=1000)
    with celery_workers(2) as workers:
        # Two runs at once, each its own process (as the run launcher starts them), their steps on the workers.
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
        outputs = [run.communicate(timeout=300)[0].decode(errors="replace") for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    with dg.DagsterInstance.get() as instance:
        records = instance.get_runs(dg.RunsFilter(job_name="walmart_orders_job"))
        assert [r.status for r in records] == [dg.DagsterRunStatus.SUCCESS] * 2
        ran_on = {r.run_id: step_workers(instance, r.run_id) for r in records}
        spans = {r.run_id: _step_span(instance, r.run_id, "xero_posted_invoices") for r in records}
    names = {w.name for w in workers}
    assert all(steps and set(steps.values()) <= names for steps in ran_on.values()), ran_on
    posting = [spans[r.run_id] for r in records]
    assert slow.fired >= 1 and posting[0][0] < posting[1][1] and posting[1][0] < posting[0][1], posting  # at once
    assert {"walmart_orders", "xero_sales_invoices", "xero_posted_invoices"} <= set(next(iter(ran_on.values())))
    # Both runs built and posted the same invoices, steps on different processes at once: each is in Xero once.
    postings = [p for p in Store.open().postings("xero") if p.document_kind == "sales_invoice"]
    assert postings and all(p.status == "posted" for p in postings)
    xero = celery_deployment.app.state.xero
    assert all(xero.count_by_reference("invoices", p.document_key) == 1 for p in postings)


def test_a_worker_killed_mid_posting_leaves_no_duplicate_after_the_retry(celery_deployment):
    hour = _busiest_hour(celery_deployment)
    command = _orders_run(hour)
    with dg.DagsterInstance.get() as instance:
        _pool_limits(instance)
    # Xero takes the invoices, then its answer is a minute away: the worker is killed while it waits.
    held = celery_deployment.options.faults.add("xero", "delay_after_commit", method="PUT",
                                                path_prefix="/api/api.xro/2.0/Invoices", delay_s=60.0, times=1)
    with celery_workers(1) as [worker]:
        run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while held.fired < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert held.fired == 1, "the posting step never reached Xero"
        os.killpg(worker.process.pid, signal.SIGKILL)  # the worker dies mid-step
        run.kill()  # and the run waiting on it (its machine gone)
        run.wait(timeout=30)
    with dg.DagsterInstance.get() as instance:
        # What Dagster's run monitoring does for a run whose process died: mark it failed, free its pool slots.
        [dead] = instance.get_runs(dg.RunsFilter(job_name="walmart_orders_job"))
        instance.report_run_failed(dead)
        instance.event_log_storage.free_concurrency_slots_for_run(dead.run_id)
    store = Store.open()
    claimed = [p for p in store.postings("xero") if p.status == "in_flight"]
    assert claimed, "the killed step held its claims"
    assert all(celery_deployment.app.state.xero.count_by_reference("invoices", p.document_key) == 1 for p in claimed)
    # Ten minutes on, the dead step's leases have run out (moved here instead of waited for).
    with store.engine.begin() as connection:
        connection.execute(text("update posting_ledger set claimed_until = :past where status = 'in_flight'"),
                           {"past": datetime.now(UTC) - timedelta(seconds=1)})
    with celery_workers(2):
        retry = subprocess.run(command, capture_output=True, timeout=300)
    assert retry.returncode == 0, retry.stdout.decode(errors="replace")[-3000:]
    postings = [p for p in Store.open().postings("xero") if p.document_kind == "sales_invoice"]
    assert {p.document_key for p in claimed} <= {p.document_key for p in postings}
    assert all(p.status == "posted" for p in postings)
    # Found in Xero by their references, not posted again: each invoice is there once.
    assert all(celery_deployment.app.state.xero.count_by_reference("invoices", p.document_key) == 1 for p in postings)
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("xero_posted_invoices"))
    figures = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    assert (figures["found_in_ledger"], figures["posted"]) == (len(claimed), len(postings) - len(claimed))
