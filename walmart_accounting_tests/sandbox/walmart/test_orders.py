"""Orders: paging, filters, cursors, released orders, one order, acknowledge."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from walmart_accounting_tests.sandbox.walmart.support import DAY_MS, Walmart, _error, _iso, _loads, _page_all, _start


def _statuses(order: dict) -> list[str]:
    return [st["status"] for line in order["orderLines"]["orderLine"] for st in line["orderLineStatuses"]["orderLineStatus"]]


def test_paging_through_all_orders_with_limit_200(wm, seller):
    assert len(seller.orders) > 1000
    start = _iso(min(o["orderDate"] for o in seller.orders))
    seen: list[str] = []
    for node_type in ("SellerFulfilled", "WFSFulfilled"):
        orders, metas = _page_all(wm, f"/v3/orders?createdStartDate={start}&limit=200&shipNodeType={node_type}")
        assert all(m["limit"] == 200 for m in metas)
        assert all(m["totalCount"] == len(orders) for m in metas)
        assert all(m["_size"] == 200 for m in metas[:-1]) and 0 < metas[-1]["_size"] <= 200
        assert all(o["shipNode"]["type"] == node_type for o in orders)
        seen += [o["purchaseOrderId"] for o in orders]
    assert len(seen) == len(set(seen)) == len(seller.orders)
    assert set(seen) == {o["purchaseOrderId"] for o in seller.orders}


@pytest.mark.parametrize("path, key, meta", [
    ("/v3/orders?createdStartDate={start}&sku={sku}", lambda b: b["list"]["elements"]["order"], lambda b: b["list"]["meta"]),
    ("/v3/returns?returnCreationStartDate={start}", lambda b: b["returnOrders"], lambda b: b["meta"]),
])
def test_paging_boundaries(wm, seller, path, key, meta):
    start = _iso(min(o["orderDate"] for o in seller.orders))
    query = path.format(start=start, sku=seller.skus[0].sku)
    base = query.split("?")[0]
    total = meta(wm.get(f"{query}&limit=1").json())["totalCount"]
    assert 3 <= total <= 200
    exact = wm.get(f"{query}&limit={total}").json()
    assert len(key(exact)) == total and not meta(exact).get("nextCursor")
    short = wm.get(f"{query}&limit={total - 1}").json()
    assert len(key(short)) == total - 1 and meta(short)["nextCursor"]
    rest = wm.get(base + meta(short)["nextCursor"]).json()
    assert len(key(rest)) == 1 and not meta(rest).get("nextCursor")


def test_orders_default_to_seller_fulfilled_and_newest_first(wm, seller):
    start = _iso(min(o["orderDate"] for o in seller.orders))
    orders, metas = _page_all(wm, f"/v3/orders?createdStartDate={start}&limit=200")
    assert len(metas) >= 4
    assert {o["shipNode"]["type"] for o in orders} == {"SellerFulfilled"}
    dates = [o["orderDate"] for o in orders]
    assert dates == sorted(dates, reverse=True)


def test_order_money_is_json_numbers_equal_to_the_seller_decimals(wm, seller):
    po = seller.orders[-1]["purchaseOrderId"]
    r = wm.get(f"/v3/orders/{po}")
    assert r.status_code == 200
    assert '"chargeAmount":{"currency":"USD","amount":' in r.text
    assert '"chargeAmount":{"currency":"USD","amount":"' not in r.text  # never quoted
    order = _loads(r)["order"]
    expected = seller.order(po)
    for got, want in zip(order["orderLines"]["orderLine"], expected["orderLines"]["orderLine"], strict=True):
        for g, w in zip(got["charges"]["charge"], want["charges"]["charge"], strict=True):
            assert isinstance(g["chargeAmount"]["amount"], Decimal)
            assert g["chargeAmount"]["amount"] == w["chargeAmount"]["amount"]
            assert str(g["chargeAmount"]["amount"]) == str(w["chargeAmount"]["amount"])


def test_limit_above_200_is_rejected(wm):
    ok = wm.get("/v3/orders?createdStartDate=2026-10-01&limit=200")
    assert ok.status_code == 200 and ok.json()["list"]["meta"]["limit"] == 200
    r = wm.get("/v3/orders?createdStartDate=2026-10-01&limit=201")
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST_PARAM.GMP_ORDER_API" and err["field"] == "limit"


def test_default_limit_is_100(wm, seller):
    r = wm.get(f"/v3/orders?createdStartDate={_iso(min(o['orderDate'] for o in seller.orders))}")
    body = r.json()["list"]
    assert body["meta"]["limit"] == 100 and len(body["elements"]["order"]) == 100


def _expected(seller, predicate) -> set[str]:
    return {o["purchaseOrderId"] for o in seller.orders if o["shipNode"]["type"] == "SellerFulfilled" and predicate(o)}


def test_created_window(wm, seller):
    orders = sorted(seller.orders, key=lambda o: o["orderDate"])
    lo_ms = orders[200]["orderDate"] // 1000 * 1000
    hi_ms = orders[400]["orderDate"] // 1000 * 1000
    got, _ = _page_all(wm, f"/v3/orders?createdStartDate={_iso(lo_ms)}&createdEndDate={_iso(hi_ms)}&limit=50")
    want = _expected(seller, lambda o: lo_ms <= o["orderDate"] <= hi_ms)
    assert want and {o["purchaseOrderId"] for o in got} == want
    assert all(lo_ms <= o["orderDate"] <= hi_ms for o in got)


def test_created_window_defaults_to_the_last_seven_days(wm, seller):
    now = wm.now_ms()
    got, _ = _page_all(wm, "/v3/orders?limit=200")
    want = _expected(seller, lambda o: now - 7 * DAY_MS <= o["orderDate"] <= now)
    assert want and {o["purchaseOrderId"] for o in got} == want


def test_last_modified_window(wm, seller):
    po_ids = (o["purchaseOrderId"] for o in seller.orders)
    modified = {po: int(seller.order_last_modified(po).timestamp() * 1000) for po in po_ids}
    lo = seller.as_of - timedelta(days=10)
    hi = seller.as_of - timedelta(days=5)
    lo_ms, hi_ms = int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)
    start = _iso(min(o["orderDate"] for o in seller.orders))
    got, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&lastModifiedStartDate={_iso(lo_ms)}"
                           f"&lastModifiedEndDate={_iso(hi_ms)}&limit=200")
    want = _expected(seller, lambda o: lo_ms <= modified[o["purchaseOrderId"]] <= hi_ms)
    assert want and {o["purchaseOrderId"] for o in got} == want
    assert len(want) < len(_expected(seller, lambda o: True))


def test_status_sku_and_purchase_order_filters(wm, seller):
    start = _iso(min(o["orderDate"] for o in seller.orders))
    delivered, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&status=Delivered&limit=200")
    assert delivered and all("Delivered" in _statuses(o) for o in delivered)
    sku = seller.skus[0].sku
    by_sku, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&sku={sku}&limit=200")
    has_sku = lambda o: any(line["item"]["sku"] == sku for line in o["orderLines"]["orderLine"])  # noqa: E731
    assert {o["purchaseOrderId"] for o in by_sku} == _expected(seller, has_sku)
    po = by_sku[0]["purchaseOrderId"]
    one, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&purchaseOrderId={po}")
    assert [o["purchaseOrderId"] for o in one] == [po]
    assert wm.get(f"/v3/orders?createdStartDate={start}&status=Shipping").status_code == 400


def test_no_matching_orders_is_404_content_not_found(wm, seller):
    r = wm.get(f"/v3/orders?createdStartDate={_iso(wm.now_ms() - DAY_MS)}")
    assert r.status_code == 404
    assert _error(r)["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"


def test_created_start_older_than_180_days_is_rejected(wm):
    now = wm.now_ms()
    inside = _iso(now - 179 * DAY_MS)
    assert wm.get(f"/v3/orders?createdStartDate={inside}&limit=1").status_code == 200
    for path in ("/v3/orders", "/v3/orders/released"):
        r = wm.get(f"{path}?createdStartDate={_iso(now - 181 * DAY_MS)}")
        assert r.status_code == 400, path
        err = _error(r)
        assert err["code"] == "INVALID_REQUEST_PARAM.GMP_ORDER_API" and err["field"] == "createdStartDate"
    # The rule moves with the sandbox clock.
    wm.clock.advance(2 * 86_400)
    wm.token = wm.new_token()
    assert wm.get(f"/v3/orders?createdStartDate={inside}&limit=1").status_code == 400


def test_date_formats(wm):
    assert wm.get("/v3/orders?createdStartDate=2026-10-01&limit=1").status_code == 200
    assert wm.get("/v3/orders?createdStartDate=2026-10-01T10:30:15Z&limit=1").status_code == 200
    for bad in ("2026-10-01T10:30:15.123Z", "10/01/2026", "2026-10-01T10:30:15"):
        r = wm.get(f"/v3/orders?createdStartDate={bad}&limit=1")
        assert r.status_code == 400, bad
        assert _error(r)["description"] == "Invalid Date format value"


def test_cursor_carries_the_filters_and_a_frozen_end(wm, seller):
    start = _iso(min(o["orderDate"] for o in seller.orders))
    body = wm.get(f"/v3/orders?createdStartDate={start}&limit=10&status=Delivered").json()
    cursor = body["list"]["meta"]["nextCursor"]
    parts = ("limit=10", "hasMoreElements=true", "poIndex=10", "status=Delivered", f"createdStartDate={start}", "createdEndDate=")
    for part in parts:
        assert part in cursor
    # A new order arriving between pages does not shift them.
    first_ids = [o["purchaseOrderId"] for o in body["list"]["elements"]["order"]]
    wm.clock.advance(1)
    newest = dict(seller.orders[-1], purchaseOrderId="9999999999991", orderDate=wm.now_ms())
    wm.state.add_order(newest)
    page2 = wm.get("/v3/orders" + cursor).json()["list"]
    assert page2["meta"]["totalCount"] == body["list"]["meta"]["totalCount"]
    assert not set(first_ids) & {o["purchaseOrderId"] for o in page2["elements"]["order"]}


def _created_order(wm: Walmart) -> str:
    for po in wm.state._order_index:
        order = wm.state.order(po)
        if order["shipNode"]["type"] == "SellerFulfilled" and "Created" in _statuses(order):
            return po
    raise AssertionError("the seller has no Created order")


def test_released_orders_and_acknowledge(wm, seller):
    start = _iso(wm.now_ms() - 30 * DAY_MS)
    released, _ = _page_all(wm, f"/v3/orders/released?createdStartDate={start}&limit=200", base="/v3/orders/released")
    assert released
    for o in released:
        assert "Created" in _statuses(o)
    po = _created_order(wm)
    assert po in {o["purchaseOrderId"] for o in released}

    before = wm.now_ms()
    r = wm.send("POST", f"/v3/orders/{po}/acknowledge")
    assert r.status_code == 200
    order = _loads(r)["order"]
    assert order["purchaseOrderId"] == po
    assert "Created" not in _statuses(order) and "Acknowledged" in _statuses(order)

    # Released no longer lists it; the order now reads Acknowledged and counts as modified now.
    r = wm.get(f"/v3/orders/released?createdStartDate={start}&limit=200")
    assert r.status_code == 404 or po not in {o["purchaseOrderId"] for o in r.json()["list"]["elements"]["order"]}
    assert "Created" not in wm.get(f"/v3/orders/{po}").text
    since = _iso(before // 1000 * 1000)
    recent, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&lastModifiedStartDate={since}&limit=200")
    assert po in {o["purchaseOrderId"] for o in recent}
    # Acknowledging again is harmless, and the seller's own data (the ground truth) is left alone.
    assert wm.send("POST", f"/v3/orders/{po}/acknowledge").status_code == 200
    assert "Created" in json.dumps(seller.order(po), default=str)


def test_acknowledging_a_shipped_order_is_refused(wm, seller):
    shipped = next(o["purchaseOrderId"] for o in seller.orders if set(_statuses(o)) <= {"Shipped", "Delivered"})
    r = wm.send("POST", f"/v3/orders/{shipped}/acknowledge")
    assert r.status_code == 400 and _error(r)["code"] == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"
    assert wm.send("POST", "/v3/orders/0000000000000/acknowledge").status_code == 404


def test_get_one_order(wm, seller):
    po = seller.orders[10]["purchaseOrderId"]
    r = wm.get(f"/v3/orders/{po}")
    assert r.status_code == 200
    order = _loads(r)["order"]
    assert order["purchaseOrderId"] == po and order["orderDate"] == seller.order(po)["orderDate"]
    assert "orderType" not in order  # only with replacementInfo=true
    assert _loads(wm.get(f"/v3/orders/{po}?replacementInfo=true"))["order"]["orderType"] == "REGULAR"
    r = wm.get("/v3/orders/1234567890123")
    assert r.status_code == 404 and _error(r)["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"


def test_orders_dated_after_the_sandbox_clock_are_not_there_yet(seller, emulator_server):
    wm = _start(emulator_server, seller, seller.as_of - timedelta(days=20))
    start = _iso(min(o["orderDate"] for o in seller.orders))
    got = []
    for node_type in ("SellerFulfilled", "WFSFulfilled"):
        got += _page_all(wm, f"/v3/orders?createdStartDate={start}&limit=200&shipNodeType={node_type}")[0]
    assert len(got) == sum(1 for o in seller.orders if o["orderDate"] <= wm.now_ms()) < len(seller.orders)
    assert wm.get(f"/v3/orders/{seller.orders[-1]['purchaseOrderId']}").status_code == 404
