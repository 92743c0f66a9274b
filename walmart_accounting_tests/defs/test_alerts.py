"""Alerts: failed runs and new dead letters reach the log and a chat webhook, once each; a broken sink is not fatal."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from walmart_accounting.defs.alerts import AlertResource, alert_sensors
from walmart_accounting.defs.resources import StoreResource
from walmart_accounting.sandbox.server import ThreadedServer, free_port
from walmart_accounting.store.store import Store


@pytest.fixture
def chat():
    """A chat's incoming webhook: keeps every message it is sent."""
    received: list[dict] = []

    async def hook(request: Request):
        received.append(json.loads(await request.body()))
        return JSONResponse({"ok": True})

    with ThreadedServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as server:
        yield f"{server.url}/hook", received


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    monkeypatch.setenv("WALMART_ACCOUNTING_DB_URL", url)
    store = Store.open(url, migrate=True)
    yield store
    store.dispose()


def _sensor(name: str) -> dg.SensorDefinition:
    return next(s for s in alert_sensors() if s.name == name)


def test_new_dead_letters_are_told_once_with_their_reason(chat, store, caplog):
    url, received = chat
    alerts = AlertResource(webhook_url=url)
    sensor = _sensor("alert_on_dead_letters")
    store.dead_letter("walmart_orders", "1234", {"purchaseOrderId": "1234"}, "orderLineQuantity.amount: -2", "2026-11-04-13:00")

    def tick(cursor):
        with dg.build_sensor_context(cursor=cursor, resources={"alerts": alerts, "store": StoreResource()}) as context:
            return sensor(context)

    first = tick(None)
    again = tick(first.cursor)
    assert len(received) == 1 and "walmart_orders 1234: orderLineQuantity.amount: -2" in received[0]["text"]
    assert again.cursor == first.cursor
    store.dead_letter("posting:xero", "WM-9", {}, "account 6000 is archived", None)
    tick(again.cursor)
    assert len(received) == 2 and "WM-9" in received[1]["text"] and "1234" not in received[1]["text"]
    assert sum(r.name == "walmart_accounting.alerts" for r in caplog.records) == 2, "the log always has them"


def test_a_failed_run_is_told_with_its_job_and_partition(chat):
    url, received = chat

    @dg.op
    def explode():
        raise RuntimeError("Walmart answered 503")

    @dg.job
    def walmart_orders_job():
        explode()

    with dg.instance_for_test() as instance:
        result = walmart_orders_job.execute_in_process(instance=instance, raise_on_error=False,
                                                       tags={"dagster/partition": "2026-11-04-13:00"})
        failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
        with dg.build_run_status_sensor_context(sensor_name="alert_on_run_failure", dagster_instance=instance,
                                                dagster_run=result.dagster_run, dagster_event=failure,
                                                resources={"alerts": AlertResource(webhook_url=url)}) as context:
            _sensor("alert_on_run_failure")(context.for_run_failure())
    assert len(received) == 1
    assert f"run {result.run_id} failed" in received[0]["text"] and "walmart_orders_job 2026-11-04-13:00" in received[0]["text"]


def test_a_sink_that_is_down_is_logged_and_the_alert_still_reaches_the_log(caplog):
    AlertResource(webhook_url=f"http://127.0.0.1:{free_port()}/hook").send("incident", "something broke")
    messages = [r.getMessage() for r in caplog.records if r.name == "walmart_accounting.alerts"]
    assert messages[0] == "ALERT incident: something broke" and "not delivered to the webhook URL" in messages[1]
