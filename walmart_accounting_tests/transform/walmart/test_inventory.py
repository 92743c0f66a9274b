"""Multi-node inventory: the official example, ship node types, malformed elements and nodes."""

from __future__ import annotations

from datetime import date

import pandas as pd

from walmart_accounting.transform.walmart import inventory_frame
from walmart_accounting_tests.transform.walmart.builders import by, example, reasons


def test_official_multinode_inventory_ingests():
    inventories = example("inventories_multinode_get_all_response.json")["elements"]["inventories"]
    frame = inventory_frame(date(2026, 1, 5), inventories)
    assert frame.rejects.empty and len(frame.valid) == 3
    node = by(frame.valid, sku="AI-IGH4-5509", ship_node="100009")
    assert (node["available_quantity"], node["reserved_quantity"]) == (433, 3)
    out = by(frame.valid, sku="06397309545443")
    assert (out["available_quantity"], out["reserved_quantity"]) == (0, 5)
    assert (frame.valid["snapshot_date"] == pd.Timestamp("2026-01-05")).all()
    typed = inventory_frame(date(2026, 1, 5), inventories, ship_node_types={"100009": "SellerFulfilled"}).valid
    assert typed.loc[typed["ship_node"] == "100009", "ship_node_type"].eq("SellerFulfilled").all()


def test_malformed_inventory_is_rejected_and_the_rest_go_on():
    inventories = [
        {"sku": "A", "nodes": [{"shipNode": "1", "availToSellQty": {"unit": "EACH", "amount": 5},
                                "reservedQty": {"unit": "EACH", "amount": 1}},
                               {"shipNode": "2", "availToSellQty": {"unit": "EACH", "amount": "x"}}]},
        {"sku": "B"},
        {"nodes": [{"shipNode": "1", "availToSellQty": {"amount": 1}}]},
        {"sku": "C", "nodes": [{"shipNode": "1", "availToSellQty": {"amount": -2}}]},
    ]
    frame = inventory_frame(date(2026, 1, 5), inventories)
    columns = ["sku", "ship_node", "available_quantity", "reserved_quantity"]
    assert frame.valid[columns].values.tolist() == [["A", "1", 5, 1]]
    found = reasons(frame.rejects)
    assert "availToSellQty" in found["A:2"] and "nodes" in found["B"] and "sku" in found["inventories[2]"]
    assert "availToSellQty" in found["C:1"] and "-2" in found["C:1"]
