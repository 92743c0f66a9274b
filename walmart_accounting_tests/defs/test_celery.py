"""Runs on Dagster's Celery executor: two worker processes on the local broker, storage on PostgreSQL, and two runs of
the same hour at once on different workers still post each invoice once."""

import json
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import requests
from cryptography.fernet import Fernet

from walmart_accounting.cli.connect import connect_flow, exact_client_from_env, xero_client_from_env
from walmart_accounting.cli.workers import celery_workers, step_workers
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
from walmart_accounting.store.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_deployment(postgres_database, isolated_home, monkeypatch):
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


def _step_span(instance, run_id: str, step: str) -> tuple[float, float]:
    """When a step started and ended (event timestamps)."""
    times = [(r.dagster_event.event_type_value, r.timestamp) for r in instance.all_logs(run_id)
             if r.dagster_event is not None and r.dagster_event.step_key == step]
    start = min(t for kind, t in times if kind == "STEP_START")
    end = max(t for kind, t in times if kind in ("STEP_SUCCESS", "STEP_FAILURE"))
    return start, end


def test_two_runs_of_one_hour_on_two_workers_post_each_invoice_once(celery_deployment):
    hour = _busiest_hour(celery_deployment)
    command = [sys.executable, "-m", "dagster", "job", "execute", "-m", "walmart_accounting.definitions", "-a", "defs",
               "-j", "walmart_orders_job", "--tags", json.dumps({"dagster/partition": hour})]
    with dg.DagsterInstance.get() as instance:
        # Two first runs at once would both create a pool's limit row (PostgreSQL refuses the second): a deployment
        # has them from its first run, these are made here.
        for pool in ("walmart_api", "xero_api", "exact_api"):
            instance.event_log_storage.initialize_concurrency_limit_to_default(pool)
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
