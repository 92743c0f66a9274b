"""Inventory: one SKU at one node, all nodes of a SKU, the paged list, WFS stock."""

from __future__ import annotations

from walmart_accounting_tests.sandbox.walmart.support import _error, _seller_node, _wfs_node


def test_single_inventory_get_and_put(wm, seller):
    sku = next(s for s, nodes in seller.inventory.items() if _seller_node(seller) in nodes)
    node = _seller_node(seller)
    r = wm.get(f"/v3/inventory?sku={sku}&shipNode={node}")
    assert r.status_code == 200
    body = r.json()
    on_hand = seller.inventory[sku][node] + seller.inventory_reserved[sku][node]
    assert body == {"sku": sku, "quantity": {"unit": "EACH", "amount": on_hand}}
    body42 = {"sku": sku, "quantity": {"unit": "EACH", "amount": 42}}
    r = wm.send("PUT", f"/v3/inventory?sku={sku}&shipNode={node}", json=body42)
    assert r.status_code == 200 and r.json()["quantity"]["amount"] == 42
    assert wm.get(f"/v3/inventory?sku={sku}&shipNode={node}").json()["quantity"]["amount"] == 42
    assert wm.state.inventory(sku)[node] == 42
    assert r.headers["X-Current-Token-Count"].isdigit()


def test_single_inventory_errors(wm, seller):
    sku = seller.skus[0].sku
    assert wm.get("/v3/inventory?sku=NO-SUCH-SKU").status_code == 404
    assert wm.get(f"/v3/inventory?sku={sku}&shipNode=123").status_code == 404
    assert wm.get(f"/v3/inventory?sku={sku}&shipNode={_wfs_node(seller)}").status_code == 400
    r = wm.send("PUT", f"/v3/inventory?sku={sku}", json={"sku": "other", "quantity": {"unit": "EACH", "amount": 1}})
    assert r.status_code == 400
    r = wm.send("PUT", f"/v3/inventory?sku={sku}", json={"sku": sku, "quantity": {"unit": "EACH", "amount": -1}})
    assert r.status_code == 400
    r = wm.send("PUT", f"/v3/inventory?sku={sku}", json={"sku": sku, "quantity": {"unit": "EACH", "amount": 1.5}})
    assert r.status_code == 400


def test_multi_node_inventory_get_and_put(wm, seller):
    own = {n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "SellerFulfilled"}
    sku = next(s for s, nodes in seller.inventory.items() if len(own & set(nodes)) == 2)
    body = wm.get(f"/v3/inventories/{sku}").json()
    assert body["sku"] == sku
    nodes = {n["shipNode"]: n for n in body["nodes"]}
    assert _wfs_node(seller) not in nodes  # seller-fulfilled stock only
    for node, view in nodes.items():
        assert view["availToSellQty"]["amount"] == seller.inventory[sku][node]
        assert view["reservedQty"]["amount"] == seller.inventory_reserved[sku][node]
        assert view["inputQty"]["amount"] == view["availToSellQty"]["amount"] + view["reservedQty"]["amount"]
    a, b = sorted(nodes)
    r = wm.send("PUT", f"/v3/inventories/{sku}", json={"inventories": {"nodes": [
        {"shipNode": a, "inputQty": {"unit": "EACH", "amount": 88}},
        {"shipNode": "79897837271126017", "inputQty": {"unit": "EACH", "amount": 55}},
    ]}})
    assert r.status_code == 200
    statuses = {n["shipNode"]: n["status"] for n in r.json()["nodes"]}
    assert statuses == {a: "Success", "79897837271126017": "Failure"}
    one = wm.get(f"/v3/inventories/{sku}?shipNode={a}").json()
    assert [n["shipNode"] for n in one["nodes"]] == [a] and one["nodes"][0]["inputQty"]["amount"] == 88
    assert wm.state.inventory(sku)[b] == nodes[b]["inputQty"]["amount"]


def test_inventories_paging(wm, seller):
    items, metas = [], []
    path = "/v3/inventories?limit=5"
    while True:
        body = wm.get(path).json()
        items += body["elements"]["inventories"]
        metas.append(body["meta"])
        if not body["meta"].get("nextCursor"):
            break
        path = f"/v3/inventories?limit=5&nextCursor={body['meta']['nextCursor']}"
    skus = [i["sku"] for i in items]
    own = {n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "SellerFulfilled"}
    expected = {s for s, nodes in seller.inventory.items() if own & set(nodes)}
    assert len(skus) == len(set(skus)) and set(skus) == expected
    assert all(m["totalCount"] == len(expected) for m in metas) and len(metas) > 1
    assert wm.get("/v3/inventories").json()["meta"].get("nextCursor")  # default limit 10 < SKUs
    r = wm.get("/v3/inventories?limit=51")
    assert r.status_code == 400 and _error(r)["code"] == "INVALID_REQUEST_PARAM.GMP_INVENTORY_API"
    cursor = wm.get("/v3/inventories?limit=5").json()["meta"]["nextCursor"]
    assert wm.get(f"/v3/inventories?limit=10&nextCursor={cursor}").status_code == 400  # same limit required
    assert wm.get("/v3/inventories?limit=5&nextCursor=garbage!").status_code == 400


def test_wfs_inventory(wm, seller):
    wfs = _wfs_node(seller)
    body = wm.get("/v3/fulfillment/inventory?limit=300").json()
    by_sku = {i["sku"]: i["shipNodes"][0] for i in body["payload"]["inventory"]}
    expected = {s: n[wfs] for s, n in seller.inventory.items() if wfs in n}
    assert set(by_sku) == set(expected)
    for sku, node in by_sku.items():
        assert node["availToSellQty"] == expected[sku] and node["shipNodeType"] == "WFSFulfilled"
    assert wm.get("/v3/fulfillment/inventory?limit=301").status_code == 400
