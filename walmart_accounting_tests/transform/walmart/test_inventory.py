"""Walmart's stock: the official multi-node example, WFS stock under its own node, malformed elements and nodes."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from walmart_accounting.transform.walmart import inventory_frame
from walmart_accounting_tests.transform.walmart.builders import by, example, reasons

TAKEN = datetime(2026, 1, 5, 14, 7, tzinfo=UTC)


def test_official_multinode_inventory_ingests():
    inventories = example("inventories_multinode_get_all_response.json")["elements"]["inventories"]
    frame = inventory_frame(TAKEN, inventories)
    assert frame.rejects.empty and len(frame.valid) == 3
    node = by(frame.valid, sku="AI-IGH4-5509", ship_node="100009")
    assert (node["input_quantity"], node["available_quantity"], node["reserved_quantity"]) == (436, 433, 3)
    assert node["on_hand_quantity"] == 436  # available + reserved: an open order's units are still on the shelf
    out = by(frame.valid, sku="06397309545443")
    assert (out["available_quantity"], out["reserved_quantity"], out["on_hand_quantity"]) == (0, 5, 5)
    assert (frame.valid["snapshot_at"] == pd.Timestamp("2026-01-05 14:07")).all()
    assert frame.valid["ship_node_type"].eq("SellerFulfilled").all()


def test_wfs_stock_is_one_pool_under_the_node_wfs():
    wfs = [{"sku": "MUG-1", "shipNodes": [{"modifiedDate": "2026-01-05T10:00:00.000Z", "availToSellQty": 7,
                                           "onHandQty": 9, "shipNodeType": "WFSFulfilled"}]},
           {"sku": "MUG-2", "shipNodes": [{"availToSellQty": 5, "onHandQty": 3}]}]
    own = [{"sku": "MUG-1", "nodes": [{"shipNode": "100009", "availToSellQty": {"amount": 2},
                                       "reservedQty": {"amount": 0}}]}]
    frame = inventory_frame(TAKEN, own, wfs)
    columns = ["sku", "ship_node", "ship_node_type", "available_quantity", "reserved_quantity", "on_hand_quantity"]
    assert frame.valid[columns].values.tolist() == [["MUG-1", "100009", "SellerFulfilled", 2, 0, 2],
                                                    ["MUG-1", "WFS", "WFSFulfilled", 7, 2, 9]]
    assert frame.valid["input_quantity"].isna().tolist() == [True, True]  # neither node said what was sent
    assert "more than onHandQty" in reasons(frame.rejects)["MUG-2:WFS"]


def test_malformed_inventory_is_rejected_and_the_rest_go_on():
    inventories = [
        {"sku": "A", "nodes": [{"shipNode": "1", "availToSellQty": {"unit": "EACH", "amount": 5},
                                "reservedQty": {"unit": "EACH", "amount": 1}},
                               {"shipNode": "2", "availToSellQty": {"unit": "EACH", "amount": "x"}}]},
        {"sku": "B"},
        {"nodes": [{"shipNode": "1", "availToSellQty": {"amount": 1}}]},
        {"sku": "C", "nodes": [{"shipNode": "1", "availToSellQty": {"amount": -2}}]},
    ]
    frame = inventory_frame(TAKEN, inventories)
    columns = ["sku", "ship_node", "available_quantity", "reserved_quantity"]
    assert frame.valid[columns].values.tolist() == [["A", "1", 5, 1]]
    found = reasons(frame.rejects)
    assert "availToSellQty" in found["A:2"] and "nodes" in found["B"] and "sku" in found["inventories[2]"]
    assert "availToSellQty" in found["C:1"] and "-2" in found["C:1"]
