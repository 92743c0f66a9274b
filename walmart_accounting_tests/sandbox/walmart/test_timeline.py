"""Time passing in the Walmart emulator: orders appear when placed and change when shipped, as Walmart shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from walmart_accounting.connectors.http import RetryPolicy
from walmart_accounting.connectors.walmart import WalmartClient
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
from walmart_accounting.sandbox.walmart.timeline import Timeline


def _status(order: dict) -> str:
    return order["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][-1]["status"]


def test_an_order_appears_when_placed_and_is_shipped_when_the_clock_gets_there():
    with SandboxServer(SandboxOptions(seller_days=7)) as server:
        env = server.env()
        client = WalmartClient(env["WALMART_CLIENT_ID"], env["WALMART_CLIENT_SECRET"], env["WALMART_BASE_URL"],
                               clock=server.options.clock.now, retry=RetryPolicy(max_attempts=1))
        state, seller = server.app.state.walmart, server.app.state.walmart.seller
        po = next(p for p in seller._pos if p.ship_at is not None and not any(line.cancel_at for line in p.lines))
        timeline = Timeline(state)

        timeline.travel_to(po.created - timedelta(minutes=1))
        assert po.po_id not in {o["purchaseOrderId"] for o in client.iter_orders(created_start=po.created - timedelta(hours=1))}

        placed = timeline.travel_to(po.created + timedelta(minutes=1), notify=True)
        assert po.po_id in placed.placed
        assert _status(client.get_order(po.po_id)) == "Created"
        assert [e["source"]["eventType"] for e in state.events[-2:]] == ["PO_CREATED", "ORDER_UPDATES"]

        shipped = timeline.travel_to(po.ship_at + timedelta(minutes=1))
        assert po.po_id in shipped.changed and _status(client.get_order(po.po_id)) == "Shipped"
        since = po.ship_at - timedelta(minutes=5)
        changed = {o["purchaseOrderId"] for o in client.iter_orders(
            last_modified_start=since, last_modified_end=datetime.fromtimestamp(server.options.clock.now(), UTC))}
        assert po.po_id in changed, "the shipment moved the order's lastModified"
