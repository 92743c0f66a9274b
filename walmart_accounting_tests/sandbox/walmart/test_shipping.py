"""Ship order lines: quantities move to Shipped with their tracking, repeats are no-ops, Walmart's refusals."""

from __future__ import annotations

import copy
import json

import pytest

from walmart_accounting_tests.sandbox.walmart.support import DAY_MS, Walmart, _error, _iso, _loads

HOUR_MS = 3_600_000


def _statuses(order: dict, line_number: str) -> list[dict]:
    line = next(ln for ln in order["orderLines"]["orderLine"] if ln["lineNumber"] == line_number)
    return line["orderLineStatuses"]["orderLineStatus"]


def _summary(order: dict, line_number: str) -> list[tuple]:
    return [(st["status"], st["statusQuantity"]["amount"], (st.get("trackingInfo") or {}).get("trackingNumber"))
            for st in _statuses(order, line_number)]


def _status(line_number: str, quantity, tracking_number: str | None, ship_ms: int, **tracking) -> dict:
    info = {"shipDateTime": ship_ms, "carrierName": {"carrier": "UPS"}, "methodCode": "Standard",
            "trackingNumber": tracking_number, **tracking}
    if tracking_number is None:
        del info["trackingNumber"]
    return {"status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)},
            "trackingInfo": info}


def _body(*lines: tuple[str, list[dict]], seller_order_id: str = "SO-1001", **root) -> dict:
    return {"orderShipment": {**root, "orderLines": {"orderLine": [
        {"lineNumber": number, "sellerOrderId": seller_order_id, "orderLineStatuses": {"orderLineStatus": statuses}}
        for number, statuses in lines
    ]}}}


def _ship(wm: Walmart, po: str, body: dict):
    return wm.send("POST", f"/v3/orders/{po}/shipping", json=body)


def _order(wm: Walmart, po: str) -> dict:
    r = wm.get(f"/v3/orders/{po}")
    assert r.status_code == 200, r.text
    return _loads(r)["order"]


def _injected(wm: Walmart, *, status: str = "Acknowledged", intent_to_cancel: bool = False) -> str:
    """A new seller-fulfilled order placed a day ago: line 1 of 3 units, line 2 of 1 unit, both in `status`."""
    base = next(o for o in wm.seller.orders if o["shipNode"]["type"] == "SellerFulfilled")
    order = copy.deepcopy(base)
    po = "5550000000001"
    assert wm.state.order(po) is None
    order["purchaseOrderId"] = po
    order["orderDate"] = wm.now_ms() - DAY_MS
    template = order["orderLines"]["orderLine"][0]
    lines = []
    for number, qty in (("1", "3"), ("2", "1")):
        line = copy.deepcopy(template)
        line.pop("refund", None)
        line.pop("returnOrderId", None)
        line["lineNumber"] = number
        line["orderLineQuantity"] = {"unitOfMeasurement": "EACH", "amount": qty}
        line["statusDate"] = order["orderDate"]
        line["orderLineStatuses"] = {"orderLineStatus": [
            {"status": status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": qty}}]}
        if intent_to_cancel:
            line["intentToCancel"] = "true"  # OrderLineType types it as a string
        lines.append(line)
    order["orderLines"] = {"orderLine": lines}
    wm.state.add_order(order)
    return po


def test_shipping_an_acknowledged_line_shows_shipped_with_its_tracking(wm, seller):
    po = next(o["purchaseOrderId"] for o in seller.orders if o["shipNode"]["type"] == "SellerFulfilled"
              and {st["status"] for ln in o["orderLines"]["orderLine"] for st in ln["orderLineStatuses"]["orderLineStatus"]}
              == {"Acknowledged"})
    line = seller.order(po)["orderLines"]["orderLine"][0]
    number, qty = line["lineNumber"], line["orderLineQuantity"]["amount"]
    before = wm.now_ms()
    ship_ms = before - HOUR_MS
    url = "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    r = _ship(wm, po, _body((number, [_status(number, qty, "1Z999AA10123456784", ship_ms, trackingURL=url)])))
    assert r.status_code == 200, r.text
    assert "X-Current-Token-Count" in r.headers  # counted against orders.write
    answered = _loads(r)["order"]
    assert answered["purchaseOrderId"] == po

    order = _order(wm, po)
    assert order == answered
    shipped = _statuses(order, number)
    assert [(st["status"], st["statusQuantity"]) for st in shipped] == [
        ("Shipped", {"unitOfMeasurement": "EACH", "amount": qty})]
    assert shipped[0]["trackingInfo"] == {"shipDateTime": ship_ms, "carrierName": {"carrier": "UPS"},
                                          "methodCode": "Standard", "trackingNumber": "1Z999AA10123456784",
                                          "trackingURL": url}
    line = next(ln for ln in order["orderLines"]["orderLine"] if ln["lineNumber"] == number)
    assert line["statusDate"] >= before and line["sellerOrderId"] == "SO-1001"
    # The changes feed sees it; the seller's own data (the ground truth) is left alone.
    since = _iso(before // 1000 * 1000)
    recent = _loads(wm.get(f"/v3/orders?createdStartDate={_iso(order['orderDate'])}&lastModifiedStartDate={since}"))
    assert po in {o["purchaseOrderId"] for o in recent["list"]["elements"]["order"]}
    assert "1Z999AA10123456784" not in json.dumps(seller.order(po), default=str)


def test_a_partial_quantity_leaves_the_rest_acknowledged(wm):
    po = _injected(wm)
    ship_ms = wm.now_ms() - HOUR_MS
    r = _ship(wm, po, _body(("1", [_status("1", 1, "TRK-A", ship_ms)])))
    assert r.status_code == 200, r.text
    order = _order(wm, po)
    assert _summary(order, "1") == [("Acknowledged", "2", None), ("Shipped", "1", "TRK-A")]
    assert _summary(order, "2") == [("Acknowledged", "1", None)]
    # Without a trackingURL the line carries Walmart's tracking page, as in the official shipped example.
    url = _statuses(order, "1")[1]["trackingInfo"]["trackingURL"]
    assert url == f"https://www.walmart.com/tracking?tracking_id=TRK-A&order_id={po}"

    # The rest in one request: two boxes for line 1, and line 2.
    r = _ship(wm, po, _body(("1", [_status("1", 1, "TRK-B", ship_ms), _status("1", 1, "TRK-C", ship_ms)]),
                            ("2", [_status("2", 1, "TRK-B", ship_ms)])))
    assert r.status_code == 200, r.text
    order = _order(wm, po)
    assert _summary(order, "1") == [("Shipped", "1", "TRK-A"), ("Shipped", "1", "TRK-B"), ("Shipped", "1", "TRK-C")]
    assert _summary(order, "2") == [("Shipped", "1", "TRK-B")]


def test_sending_the_same_shipment_again_changes_nothing(wm):
    po = _injected(wm)
    body = _body(("1", [_status("1", 2, "TRK-A", wm.now_ms() - HOUR_MS)]))
    first = _ship(wm, po, body)
    assert first.status_code == 200, first.text
    modified = wm.state.last_modified(po)
    wm.clock.advance(60)
    again = _ship(wm, po, body)
    assert again.status_code == 200, again.text
    assert _loads(again) == _loads(first)
    assert _summary(_order(wm, po), "1") == [("Acknowledged", "1", None), ("Shipped", "2", "TRK-A")]
    assert wm.state.last_modified(po) == modified
    # The same tracking number with another quantity is not the same shipment.
    r = _ship(wm, po, _body(("1", [_status("1", 1, "TRK-A", wm.now_ms() - HOUR_MS)])))
    assert r.status_code == 400 and _error(r)["field"] == "trackingNumber"


def test_a_repeat_on_a_fully_shipped_line_is_answered_but_a_new_tracking_number_is_refused(wm, seller):
    po = next(o["purchaseOrderId"] for o in seller.orders if o["shipNode"]["type"] == "SellerFulfilled"
              and [st["status"] for st in o["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]]
              == ["Shipped"])
    line = seller.order(po)["orderLines"]["orderLine"][0]
    number, qty = line["lineNumber"], line["orderLineQuantity"]["amount"]
    tracking = line["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]
    ship_ms = tracking["shipDateTime"]
    before = _order(wm, po)
    r = _ship(wm, po, _body((number, [_status(number, qty, tracking["trackingNumber"], ship_ms)])))
    assert r.status_code == 200, r.text
    assert _order(wm, po) == before
    r = _ship(wm, po, _body((number, [_status(number, qty, "ANOTHER-1", ship_ms)])))
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST_CONTENT.GMP_ORDER_API" and "no quantity left to ship" in err["description"]
    assert _order(wm, po) == before


def _cancelled_line(seller) -> tuple[str, str]:
    for o in seller.orders:
        if o["shipNode"]["type"] != "SellerFulfilled":
            continue
        for ln in o["orderLines"]["orderLine"]:
            if [st["status"] for st in ln["orderLineStatuses"]["orderLineStatus"]] == ["Cancelled"]:
                return o["purchaseOrderId"], ln["lineNumber"]
    raise AssertionError("the seller has no cancelled line")


REFUSALS = {
    # name: (how to spoil the status of line 1 or the body, field named, words in the description)
    "unknown line number": (lambda b: b["orderShipment"]["orderLines"]["orderLine"][0].update(lineNumber="9"),
                            "lineNumber", "no such line"),
    "status other than Shipped": (lambda b: _first(b).update(status="Delivered"), "status", "must be 'Shipped'"),
    "more than unshipped": (lambda b: _first(b)["statusQuantity"].update(amount="4"), "amount", "more than the 3 unshipped"),
    "no quantity": (lambda b: _first(b)["statusQuantity"].update(amount="0"), "amount", "at least 1"),
    "missing trackingNumber": (lambda b: _first(b)["trackingInfo"].pop("trackingNumber"), "trackingNumber", "required"),
    "missing carrier": (lambda b: _first(b)["trackingInfo"].update(carrierName={}), "carrier", "required"),
    "carrier Walmart does not list": (lambda b: _first(b)["trackingInfo"].update(carrierName={"carrier": "Pony"}),
                                      "carrier", "otherCarrier"),
    "otherCarrier without trackingURL": (lambda b: _first(b)["trackingInfo"].update(carrierName={"otherCarrier": "Pony"}),
                                         "trackingURL", "required when carrierName.otherCarrier"),
    "unknown methodCode": (lambda b: _first(b)["trackingInfo"].update(methodCode="Overnight"), "methodCode", "one of"),
    "ship time in seconds": (lambda b: _first(b)["trackingInfo"].update(shipDateTime=_first(b)["trackingInfo"]["shipDateTime"]
                                                                          // 1000), "shipDateTime", "before the order date"),
    "ship time in the future": (lambda b: _first(b)["trackingInfo"].update(shipDateTime=_first(b)["trackingInfo"]["shipDateTime"]
                                                                             + 2 * HOUR_MS), "shipDateTime", "future"),
    "missing sellerOrderId": (lambda b: b["orderShipment"]["orderLines"]["orderLine"][0].pop("sellerOrderId"),
                              "sellerOrderId", "required"),
    "sellerOrderId over 30 characters": (lambda b: b["orderShipment"]["orderLines"]["orderLine"][0].update(sellerOrderId="9" * 31),
                                         "sellerOrderId", "30 characters"),
    "unitOfMeasure for unitOfMeasurement": (lambda b: _first(b).update(statusQuantity={"unitOfMeasure": "EACH", "amount": "1"}),
                                            "unitOfMeasurement", "EACH"),
    "unknown processMode": (lambda b: b["orderShipment"].update(processMode="FULL"), "processMode", "PARTIAL_UPDATE"),
}


def _first(body: dict) -> dict:
    return body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusals_name_the_field_and_leave_the_order_alone(wm, name):
    spoil, field, words = REFUSALS[name]
    po = _injected(wm)
    before = _order(wm, po)
    # Line 2 is fine: a refused request ships nothing at all.
    body = _body(("1", [_status("1", 1, "TRK-A", wm.now_ms() - HOUR_MS)]),
                 ("2", [_status("2", 1, "TRK-A", wm.now_ms() - HOUR_MS)]))
    spoil(body)
    r = _ship(wm, po, body)
    assert r.status_code == 400, r.text
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST_CONTENT.GMP_ORDER_API" and err["field"] == field
    assert words in err["description"]
    assert _order(wm, po) == before


def test_unknown_po_unacknowledged_cancelled_and_wfs_orders_are_refused(wm, seller):
    ship_ms = wm.now_ms() - HOUR_MS
    r = _ship(wm, "1234567890123", _body(("1", [_status("1", 1, "TRK-A", ship_ms)])))
    assert r.status_code == 404 and _error(r)["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"

    created = _injected(wm, status="Created")
    r = _ship(wm, created, _body(("1", [_status("1", 1, "TRK-A", ship_ms)])))
    assert r.status_code == 400 and "must be acknowledged before shipping" in _error(r)["description"]

    po, number = _cancelled_line(seller)
    order = seller.order(po)
    r = _ship(wm, po, _body((number, [_status(number, 1, "TRK-A", max(ship_ms, order["orderDate"]))])))
    assert r.status_code == 400 and "no quantity left to ship (Cancelled" in _error(r)["description"]

    wfs = next(o for o in seller.orders if o["shipNode"]["type"] == "WFSFulfilled")
    line = wfs["orderLines"]["orderLine"][0]["lineNumber"]
    r = _ship(wm, wfs["purchaseOrderId"], _body((line, [_status(line, 1, "TRK-A", ship_ms)])))
    assert r.status_code == 400 and "Walmart Fulfillment Services" in _error(r)["description"]

    r = wm.send("POST", f"/v3/orders/{po}/shipping", data=b"", headers=wm.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 400 and _error(r)["code"] == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"


def test_other_carrier_with_a_tracking_url_and_the_intent_to_cancel_override(wm):
    po = _injected(wm, intent_to_cancel=True)
    url = "https://pony.example/track/P-1"
    status = _status("1", 1, "P-1", wm.now_ms() - HOUR_MS, carrierName={"otherCarrier": "Pony Express"}, trackingURL=url)
    r = _ship(wm, po, _body(("1", [status])))
    assert r.status_code == 400 and _error(r)["field"] == "intentToCancelOverride"
    body = _body(("1", [status]))
    body["orderShipment"]["orderLines"]["orderLine"][0]["intentToCancelOverride"] = True
    r = _ship(wm, po, body)
    assert r.status_code == 200, r.text
    tracking = _statuses(_loads(r)["order"], "1")[-1]["trackingInfo"]
    assert tracking["carrierName"] == {"otherCarrier": "Pony Express"} and tracking["trackingURL"] == url


def test_partial_update_corrects_tracking_within_four_hours(wm):
    po = _injected(wm)
    ship_ms = wm.now_ms() - HOUR_MS
    assert _ship(wm, po, _body(("1", [_status("1", 2, "TRK-A", ship_ms)]))).status_code == 200
    fix = _status("1", 2, "TRK-FIXED", ship_ms)
    fix["currentTrackingInfo"] = {"trackingNumber": "TRK-A"}
    body = _body(("1", [fix]), processMode="PARTIAL_UPDATE")
    r = _ship(wm, po, body)
    assert r.status_code == 200, r.text
    assert _summary(_order(wm, po), "1") == [("Acknowledged", "1", None), ("Shipped", "2", "TRK-FIXED")]
    assert _ship(wm, po, body).status_code == 200  # the same correction again
    assert _summary(_order(wm, po), "1") == [("Acknowledged", "1", None), ("Shipped", "2", "TRK-FIXED")]

    # Nothing shipped on line 2 to update; and past four hours the shipment stands.
    r = _ship(wm, po, _body(("2", [_status("2", 1, "TRK-B", ship_ms)]), processMode="PARTIAL_UPDATE"))
    assert r.status_code == 400 and _error(r)["field"] == "processMode"
    wm.clock.advance(4 * 3600 + 1)
    wm.token = wm.new_token()  # the old one lived 900 s
    late = _status("1", 2, "TRK-LATE", ship_ms)
    late["currentTrackingInfo"] = {"trackingNumber": "TRK-FIXED"}
    r = _ship(wm, po, _body(("1", [late]), processMode="PARTIAL_UPDATE"))
    assert r.status_code == 400 and "within 4 hours" in _error(r)["description"]


def test_shipping_shares_the_orders_write_limit_with_acknowledge(wm):
    po = _injected(wm)
    wm.state.set_rate_limit("orders.write", 1, 60)
    assert wm.send("POST", f"/v3/orders/{po}/acknowledge").status_code == 200
    r = _ship(wm, po, _body(("1", [_status("1", 1, "TRK-A", wm.now_ms() - HOUR_MS)])))
    assert r.status_code == 429
    assert _summary(_order(wm, po), "1") == [("Acknowledged", "3", None)]
