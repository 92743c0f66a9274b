"""The change and webhook sensors against the Walmart sandbox: the partitions that changed, batched, once per change."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime

import dagster as dg
import pytest
from cryptography.fernet import Fernet

from walmart_accounting.definitions import build_defs
from walmart_accounting.defs.walmart.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
from walmart_accounting.store.store import Store


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxOptions(seller_days=14)) as server:
        yield server


@pytest.fixture
def defs(sandbox, monkeypatch, tmp_path):
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WALMART_ACCOUNTING_DB_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    Store.open(migrate=True).dispose()
    return build_defs(start=sandbox.app.state.walmart.seller.start)


def _tick(defs, name: str, cursor: str | None):
    sensor = defs.resolve_sensor_def(name)
    with dg.instance_for_test() as instance, dg.build_sensor_context(instance=instance, cursor=cursor,
                                                                     resources=defs.resources) as context:
        return sensor.evaluate_tick(context)


def _hour(order: dict) -> str:
    return datetime.fromtimestamp(int(order["orderDate"]) / 1000, UTC).strftime("%Y-%m-%d-%H:00")


def _change_order(sandbox, po: str, note: str) -> dict:
    """What Walmart does when an order changes (a shipment, a refund): new content, lastModified just now.

    Just before now: Walmart's date filters take whole seconds, so a change in the current second is the next tick's.
    """
    state = sandbox.app.state.walmart
    moment = int(time.time() * 1000) - 2000
    with state.lock:
        order = copy.deepcopy(state._orders[po])
        line = order["orderLines"]["orderLine"][0]
        line["statusDate"] = moment
        line.setdefault("fulfillment", {})["storeId"] = note  # any change of content
        state._orders[po] = order
        state._own.add(po)
        state._last_modified[po] = moment
    return order


def _ranges(result) -> list[tuple[str, str, str]]:
    return [(r.job_name, r.tags[PARTITION_RANGE_START_TAG], r.tags[PARTITION_RANGE_END_TAG]) for r in result.run_requests]


def _orders_by_hour(sandbox) -> dict[str, dict]:
    orders = {}
    for order in sandbox.app.state.walmart.seller.orders:
        orders.setdefault(_hour(order), order)
    return dict(sorted(orders.items()))


def test_a_changed_order_reruns_its_own_hour_once_and_the_cursor_moves_on(defs, sandbox):
    first = _tick(defs, "walmart_changes", None)
    assert json.loads(first.cursor)["since"]["orders"]
    hour, order = next(iter(_orders_by_hour(sandbox).items()))  # placed in the seller's first hours, weeks ago
    _change_order(sandbox, order["purchaseOrderId"], "shipped late")

    second = _tick(defs, "walmart_changes", first.cursor)
    assert _ranges(second) == [("walmart_orders_job", hour, hour)]
    replayed = _tick(defs, "walmart_changes", first.cursor)
    assert [r.run_key for r in replayed.run_requests] == [r.run_key for r in second.run_requests], \
        "a tick replayed from the same cursor asks for the same runs, which Dagster starts once"

    third = _tick(defs, "walmart_changes", second.cursor)  # the window's overlap reads the order again, unchanged
    assert third.run_requests == [] and third.skip_message
    _change_order(sandbox, order["purchaseOrderId"], "refunded")
    fourth = _tick(defs, "walmart_changes", third.cursor)
    assert _ranges(fourth) == [("walmart_orders_job", hour, hour)]
    assert fourth.run_requests[0].run_key != second.run_requests[0].run_key


def test_a_burst_of_changes_is_a_few_range_runs_covering_every_changed_hour(defs, sandbox):
    start = _tick(defs, "walmart_changes", None)
    changed = list(_orders_by_hour(sandbox).items())[::9][:30]
    for _, order in changed:
        _change_order(sandbox, order["purchaseOrderId"], "burst")
    result = _tick(defs, "walmart_changes", start.cursor)
    ranges = _ranges(result)
    assert 1 <= len(ranges) <= 4 and {job for job, _, _ in ranges} == {"walmart_orders_job"}
    assert all(any(first <= hour <= last for _, first, last in ranges) for hour, _ in changed)


def test_a_tick_that_fails_half_way_leaves_its_cursor_and_the_next_tick_finds_the_change(defs, sandbox):
    start = _tick(defs, "walmart_changes", None)
    hour, order = list(_orders_by_hour(sandbox).items())[3]
    _change_order(sandbox, order["purchaseOrderId"], "during an outage")
    sandbox.options.faults.add("walmart", "status_503", method="GET", path_prefix="/v3/returns", times=5)
    with pytest.raises(Exception, match="503"):
        _tick(defs, "walmart_changes", start.cursor)  # orders read, returns not: the tick fails, nothing requested
    resumed = _tick(defs, "walmart_changes", start.cursor)
    assert ("walmart_orders_job", hour, hour) in _ranges(resumed)


def test_a_changed_return_reruns_the_day_it_was_opened(defs, sandbox):
    state = sandbox.app.state.walmart
    start = _tick(defs, "walmart_changes", None)
    with state.lock:
        return_id = min(state._returns)
        opened = state._returns[return_id]["returnOrderDate"]
        state._return_modified[return_id] = int(time.time() * 1000) - 2000
    result = _tick(defs, "walmart_changes", start.cursor)
    day = datetime.fromisoformat(opened.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%d")
    assert ("walmart_returns_job", day, day) in _ranges(result)


def test_webhook_events_rerun_the_hours_of_the_orders_they_name_and_a_duplicate_is_one_event(defs, sandbox):
    store = Store.open()
    (hour_a, a), (hour_b, b) = list(_orders_by_hour(sandbox).items())[5:7]
    for event_id, order in (("e1", a), ("e2", b), ("e1", a)):  # e1 delivered twice
        envelope = {"source": {"eventType": "PO_CREATED", "eventId": event_id},
                    "payload": {"purchaseOrderId": order["purchaseOrderId"]}}
        store.receive_webhook("walmart", event_id, "PO_CREATED", json.dumps(envelope))
    first = _tick(defs, "walmart_webhook_events", None)
    assert _ranges(first) == [("walmart_orders_job", hour_a, hour_b)]  # neighbouring hours: one run
    assert json.loads(first.cursor)["after"] == max(e.id for e in store.webhooks_after("walmart", 0))
    assert _tick(defs, "walmart_webhook_events", first.cursor).run_requests == []
    replayed = _tick(defs, "walmart_webhook_events", None)  # a tick whose cursor was never saved runs again, same keys
    assert [r.run_key for r in replayed.run_requests] == [r.run_key for r in first.run_requests]
    store.dispose()
