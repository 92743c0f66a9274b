"""Shipments for Walmart from the ledger's deliveries: line numbers, carriers, ship times, refusals; Walmart's own refusal."""

from datetime import UTC, datetime

import pytest

from walmart_accounting.cli.connect import walmart_client_from_env
from walmart_accounting.domain.config import load_default_config, parse_config
from walmart_accounting.posting.walmart_shipments import WalmartShipments, shipment_documents
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
PLACED = int(datetime(2026, 11, 19, 9, 30, tzinfo=UTC).timestamp() * 1000)


def _config(**carriers):
    data = load_default_config().model_dump(mode="json")
    data["order_loop"] = {"enabled": True, **({"carriers": carriers} if carriers else {})}
    return parse_config(data)


def _order(*numbers):
    return {"purchaseOrderId": "1001", "orderDate": PLACED,
            "orderLines": {"orderLine": [{"lineNumber": n} for n in numbers]}}


def _delivery(lines, method="UPS", tracking="1Z1", date="2026-11-20T00:00:00", number="7"):
    return {"delivery_number": number, "delivery_date": date, "shipping_method": method, "tracking_number": tracking,
            "lines": [{"your_ref": ref, "order_line": k, "quantity": q, "tracking_number": tracking, "item_code": "X"}
                      for ref, k, q in lines]}


def test_exact_line_k_is_the_walmart_orders_kth_line_and_other_orders_are_left_alone():
    deliveries = [_delivery([("WM-SO-1001", 1, 2), ("WM-SO-1001", 3, 1), ("OTHER-REF", 1, 5)])]
    [doc], refused = shipment_documents(deliveries, {"1001": _order("10", "2", "1")}, _config(), NOW)
    assert not refused and doc.key == "WM-SHP-1001-7" and doc.ledger == "walmart"
    assert [(ln["line_number"], ln["quantity"], ln["carrier"]) for ln in doc.lines] == [("1", 2, "UPS"), ("10", 1, "UPS")]
    assert doc.lines[0]["ship_time"] == "2026-11-20T00:00:00+00:00"


def test_a_ship_time_is_never_before_the_order_nor_in_the_future():
    before = shipment_documents([_delivery([("WM-SO-1001", 1, 1)], date="2026-11-19T00:00:00")],
                                {"1001": _order("1")}, _config(), NOW)[0][0]
    assert before.lines[0]["ship_time"] == "2026-11-19T09:30:00+00:00"
    later = shipment_documents([_delivery([("WM-SO-1001", 1, 1)], date="2026-11-25T00:00:00")],
                               {"1001": _order("1")}, _config(), NOW)[0][0]
    assert later.lines[0]["ship_time"] == NOW.isoformat()


def test_another_carrier_takes_its_tracking_url():
    config = _config(DPD={"other_carrier": "DPD", "tracking_url": "https://dpd.example/t/{tracking}"})
    [doc], _ = shipment_documents([_delivery([("WM-SO-1001", 1, 1)], method="DPD", tracking="AB12")],
                                  {"1001": _order("1")}, config, NOW)
    assert (doc.lines[0]["other_carrier"], doc.lines[0]["tracking_url"]) == ("DPD", "https://dpd.example/t/AB12")


@pytest.mark.parametrize(("delivery", "orders", "reason"), [
    (_delivery([("WM-SO-1001", 1, 1)], method="PIGEON"), {"1001": _order("1")}, "PIGEON has no carrier"),
    (_delivery([("WM-SO-1001", 1, 1)], tracking=""), {"1001": _order("1")}, "no tracking number"),
    (_delivery([("WM-SO-1001", 2, 1)]), {"1001": _order("1")}, "not a line of the Walmart order"),
    (_delivery([("WM-SO-1001", 1, 1)]), {}, "Walmart has no purchase order 1001"),
])
def test_a_delivery_walmart_could_not_take_is_refused_with_the_reason(delivery, orders, reason):
    documents, refused = shipment_documents([delivery], orders, _config(), NOW)
    assert not documents and [(k, reason in r) for k, r, _ in refused] == [("WM-SHP-1001-7", True)]


def test_walmart_refusing_a_shipment_is_a_rejection_with_walmarts_message(monkeypatch):
    with SandboxServer(SandboxOptions(seller_days=7)) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        client = walmart_client_from_env()
        orders = client.iter_orders(created_start=datetime.combine(server.app.state.walmart.seller.start,
                                                                   datetime.min.time(), UTC))
        cancelled = next(o for o in orders if all(
            s["status"] == "Cancelled" for ln in o["orderLines"]["orderLine"]
            for s in ln["orderLineStatuses"]["orderLineStatus"]))
        po = cancelled["purchaseOrderId"]
        deliveries = [_delivery([(f"WM-SO-{po}", 1, 1)])]
        [doc], _ = shipment_documents(deliveries, {po: cancelled}, _config(), datetime.now(UTC))
        [result] = WalmartShipments(client).post_batch([doc])
        assert not result.ok and f"Walmart refused the shipment of {po}" in result.error
        assert WalmartShipments(client).find_posted([doc]) == {}
