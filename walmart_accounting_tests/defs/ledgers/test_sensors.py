"""The waiting-documents sensor: a waiting document's partition is re-run when what it waits for has arrived."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from walmart_accounting.definitions import build_defs
from walmart_accounting.defs.alerts import AlertResource
from walmart_accounting.defs.ledgers.sensors import waiting_sensor
from walmart_accounting.defs.resources import StoreResource
from walmart_accounting.store.store import Store

REPORTS = ["10312026", "11142026"]  # settlement partitions (report dates)


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    monkeypatch.setenv("WALMART_ACCOUNTING_DB_URL", url)
    store = Store.open(url, migrate=True)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def defs():
    return build_defs(start=date(2026, 10, 19))


def _tick(defs, sensor, cursor, alerts: AlertResource | None = None) -> dg.SensorResult:
    """The sensor's own answer for one tick (run requests, cursor), as the daemon would receive it."""
    resources = {"store": StoreResource(), "alerts": alerts or AlertResource()}
    with dg.instance_for_test() as instance, dg.build_sensor_context(
            instance=instance, cursor=cursor, resources=resources) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _wait(store, key: str, partition: str):
    claim = store.claim_posting(key, "xero", "payment", "h")
    store.record_waiting(claim, f"{key}: its invoice is not in the ledger", partition, "xero_posted_settlement")


def _post(store, key: str):
    store.record_posted(store.claim_posting(key, "xero", "sales_invoice", "h"), f"id-{key}", "h")


def test_waiting_payments_are_posted_by_a_rerun_of_their_settlement_once_their_invoices_arrive(store, defs):
    sensor = defs.resolve_sensor_def("xero_waiting_documents")
    _post(store, "WM-1")
    _wait(store, "WM-2-PAY", REPORTS[0])
    _wait(store, "WM-3-PAY", REPORTS[0])
    _wait(store, "WM-9-PAY", REPORTS[1])
    first = _tick(defs, sensor, None)  # the first tick: what is posted so far counts as arrived
    assert sorted((r.job_name, r.partition_key) for r in (first.run_requests or [])) == [
        ("post_to_xero", REPORTS[0]), ("post_to_xero", REPORTS[1])]
    quiet = _tick(defs, sensor, first.cursor)
    assert not quiet.run_requests, "nothing new in the ledger: the waiting documents would only wait again"
    _post(store, "WM-2")  # the invoice a payment waits for arrives
    second = _tick(defs, sensor, quiet.cursor)
    assert {r.partition_key for r in second.run_requests} == set(REPORTS)
    replayed = _tick(defs, sensor, quiet.cursor)
    assert [r.run_key for r in replayed.run_requests] == [r.run_key for r in second.run_requests]
    assert not {r.run_key for r in second.run_requests} & {r.run_key for r in (first.run_requests or [])}


def test_a_document_waiting_too_long_is_alerted_once(store, defs, caplog):
    later = datetime.now(UTC) + timedelta(hours=80)
    sensor = waiting_sensor("xero", {"xero_posted_settlement": defs.resolve_job_def("post_to_xero")},
                            max_wait=timedelta(hours=72), now=lambda: later)
    _wait(store, "WM-2-PAY", REPORTS[0])
    first = _tick(defs, sensor, None)
    assert json.loads(first.cursor)["alerted"] == ["WM-2-PAY"]
    again = _tick(defs, sensor, first.cursor)
    assert json.loads(again.cursor)["alerted"] == ["WM-2-PAY"]
    alerts = [r.getMessage() for r in caplog.records if r.name == "walmart_accounting.alerts"]
    assert len(alerts) == 1 and "WM-2-PAY" in alerts[0] and "its invoice is not in the ledger" in alerts[0]


def test_the_age_that_makes_a_waiting_document_an_alert_is_configured(store, defs, caplog, monkeypatch):
    later = datetime.now(UTC) + timedelta(hours=30)
    sensor = waiting_sensor("xero", {"xero_posted_settlement": defs.resolve_job_def("post_to_xero")}, now=lambda: later)
    _wait(store, "WM-2-PAY", REPORTS[0])
    assert json.loads(_tick(defs, sensor, None).cursor)["alerted"] == [], "30 hours is within the default 72"
    monkeypatch.setenv("WALMART_ACCOUNTING_MAX_WAIT_HOURS", "24")
    first = _tick(defs, sensor, None, AlertResource.from_env())
    assert json.loads(first.cursor)["alerted"] == ["WM-2-PAY"]
    alerts = [r.getMessage() for r in caplog.records if r.name == "walmart_accounting.alerts"]
    assert len(alerts) == 1 and "(over 1 day, 0:00:00)" in alerts[0]


def test_an_exact_event_about_a_posted_document_reruns_its_partitions_posting_and_others_are_ignored(store, defs):
    from walmart_accounting.defs.ledgers.sensors import ledger_events_sensor

    job = defs.resolve_job_def("post_to_exact")
    sensor = ledger_events_sensor("exact", {"exact_posted_settlement": job})
    claim = store.claim_posting("WM-STL-1", "exact", "transfer", "h")
    store.record_posted(claim, "{ABCD-1234}", "h", REPORTS[0], "exact_posted_settlement")
    for n, key in enumerate(["abcd-1234", "ffff-0000"]):  # ours (Exact sends GUIDs in any case), and someone else's
        body = json.dumps({"Content": {"Topic": "BankEntries", "Action": "Update", "Key": key, "Division": 1}})
        assert store.receive_webhook("exact", f"e{n}", "BankEntries", body)
    first = _tick(defs, sensor, None)
    assert [(r.job_name, r.partition_key) for r in first.run_requests] == [("post_to_exact", REPORTS[0])]
    assert first.cursor and not _tick(defs, sensor, first.cursor).run_requests
    replayed = _tick(defs, sensor, None)  # a tick evaluated again asks for the same run (the run key dedupes it)
    assert [r.run_key for r in replayed.run_requests] == [r.run_key for r in first.run_requests]
