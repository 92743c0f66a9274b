"""Bulk feeds: MP_INVENTORY, inventory and price feeds, submission errors, their rate limit."""

from __future__ import annotations

from decimal import Decimal

import requests

from walmart_accounting.sandbox.walmart import dumps
from walmart_accounting_tests.sandbox.walmart.support import Walmart, _error, _seller_node


def _submit(wm: Walmart, feed_type: str, doc: dict, **params) -> requests.Response:
    query = "&".join([f"feedType={feed_type}"] + [f"{k}={v}" for k, v in params.items()])
    files = {"file": ("feed.json", dumps(doc).encode(), "application/json")}
    return requests.post(f"{wm.url}/v3/feeds?{query}", headers=wm.headers(), files=files, timeout=30)


def _feed(wm: Walmart, feed_id: str) -> dict:
    r = wm.get(f"/v3/feeds/{feed_id.replace('@', '%40')}?includeDetails=true")
    assert r.status_code == 200, r.text
    return r.json()


def test_mp_inventory_feed_with_an_unknown_sku(wm, seller):
    node = _seller_node(seller)
    skus = [s for s, nodes in seller.inventory.items() if node in nodes][:2]
    doc = {"inventoryHeader": {"version": "1.5"}, "inventory": [
        {"sku": skus[0], "shipNodes": [{"shipNode": node, "quantity": {"unit": "EACH", "amount": 100}}]},
        {"sku": "685387364107_SS4_01", "shipNodes": [{"shipNode": node, "quantity": {"unit": "EACH", "amount": 21}}]},
        {"sku": skus[1], "shipNodes": [{"shipNode": node, "quantity": {"unit": "EACH", "amount": 13}}]},
    ]}
    before = {s: wm.state.inventory(s)[node] for s in skus}
    r = _submit(wm, "MP_INVENTORY", doc)
    assert r.status_code == 200
    feed_id = r.json()["feedId"]
    assert set(r.json()) == {"feedId"} and "@" in feed_id

    first = _feed(wm, feed_id)
    assert first["feedStatus"] == "RECEIVED" and first["itemsProcessing"] == 3
    assert {s: wm.state.inventory(s)[node] for s in skus} == before  # asynchronous
    assert _feed(wm, feed_id)["feedStatus"] == "INPROGRESS"
    done = _feed(wm, feed_id)
    assert done["feedStatus"] == "PROCESSED"
    assert (done["itemsReceived"], done["itemsSucceeded"], done["itemsFailed"], done["itemsProcessing"]) == (3, 2, 1, 0)
    items = {i["sku"]: i for i in done["itemDetails"]["itemIngestionStatus"]}
    assert items[skus[0]]["ingestionStatus"] == "SUCCESS" and items[skus[1]]["ingestionStatus"] == "SUCCESS"
    bad = items["685387364107_SS4_01"]
    assert bad["ingestionStatus"] == "DATA_ERROR" and bad["index"] == 1
    assert bad["ingestionErrors"]["ingestionError"][0]["type"] == "DATA_ERROR"
    assert wm.state.inventory(skus[0])[node] == 100 and wm.state.inventory(skus[1])[node] == 13
    assert not wm.state.known_sku("685387364107_SS4_01")


def test_inventory_v14_feed_processes_with_clock_time(wm, seller):
    node = sorted(n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "SellerFulfilled")[-1]
    sku = next(s for s, nodes in seller.inventory.items() if node in nodes)
    doc = {"InventoryHeader": {"version": "1.4"}, "Inventory": [
        {"sku": sku, "quantity": {"unit": "EACH", "amount": 7}},
        {"sku": "test1", "quantity": {"unit": "EACH", "amount": 10}},
    ]}
    feed_id = _submit(wm, "inventory", doc, shipNode=node).json()["feedId"]
    wm.clock.advance(600)
    wm.token = wm.new_token()
    assert wm.state.inventory(sku)[node] == 7  # processed without anyone polling
    done = _feed(wm, feed_id)
    assert done["feedStatus"] == "PROCESSED" and done["itemsFailed"] == 1
    listed = wm.get(f"/v3/feeds?feedId={feed_id.replace('@', '%40')}").json()
    assert listed["totalResults"] == 1 and listed["results"]["feed"][0]["feedStatus"] == "PROCESSED"


def test_price_feed(wm, seller):
    sku = seller.skus[2].sku
    doc = {"PriceHeader": {"version": "1.7"}, "Price": [
        {"sku": sku, "pricing": [{
            "currentPrice": {"currency": "USD", "amount": Decimal("3")}, "currentPriceType": "REDUCED",
            "comparisonPriceType": "BASE", "comparisonPrice": {"currency": "USD", "amount": Decimal("4.99")},
        }]},
        {"sku": "OT-PP7F-QGUG", "pricing": [{"currentPrice": {"currency": "USD", "amount": Decimal("3")},
                                             "currentPriceType": "REDUCED"}]},
    ]}
    feed_id = _submit(wm, "price", doc).json()["feedId"]
    for _ in range(3):
        status = _feed(wm, feed_id)
    assert status["feedStatus"] == "PROCESSED" and (status["itemsSucceeded"], status["itemsFailed"]) == (1, 1)
    assert wm.state.prices[sku] == Decimal("3")


def test_feed_submission_errors(wm, seller):
    r = requests.post(f"{wm.url}/v3/feeds?feedType=MP_INVENTORY", headers=wm.headers(), json={"inventory": []}, timeout=10)
    assert r.status_code == 400  # not multipart
    assert _submit(wm, "MP_ITEM", {}).status_code == 400
    feed_id = _submit(wm, "MP_INVENTORY", {"InventoryHeader": {"version": "1.4"}, "Inventory": []}).json()["feedId"]
    status = _feed(wm, feed_id)
    assert status["feedStatus"] == "ERROR" and status["ingestionErrors"]["ingestionError"]
    assert wm.get("/v3/feeds/UNKNOWN%40AQYBAQA").status_code == 404
    assert wm.get(f"/v3/feeds/{feed_id.replace('@', '%40')}?includeDetails=true&limit=51").status_code == 400


def test_feed_rate_limit_and_usage_headers(wm, seller):
    wm.state.set_rate_limit("feeds.price", 2, 3600)
    doc = {"PriceHeader": {"version": "1.7"}, "Price": []}
    first = _submit(wm, "price", doc)
    assert first.status_code == 200 and first.headers["X-Current-Token-Count"] == "1"
    assert _submit(wm, "price", doc).status_code == 200
    third = _submit(wm, "price", doc)
    assert third.status_code == 429
    assert _error(third)["code"] == "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"
    assert third.headers["X-Current-Token-Count"] == "0" and int(third.headers["X-Next-Replenishment-Time"]) > wm.now_ms()
    wm.clock.advance(3600)
    wm.token = wm.new_token()
    assert _submit(wm, "price", doc).status_code == 200
