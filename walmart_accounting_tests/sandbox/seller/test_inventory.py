"""Inventory: every SKU stocked on known ship nodes, seller-fulfilled and WFS."""

from __future__ import annotations


def test_inventory_covers_every_sku_on_known_nodes(seller):
    assert len(seller.ship_nodes) >= 2
    types = {seller.ship_node_details[n]["type"] for n in seller.ship_nodes}
    assert {"SellerFulfilled", "WFSFulfilled"} <= types
    assert set(seller.inventory) == {s.sku for s in seller.skus}
    for nodes in seller.inventory.values():
        assert nodes and set(nodes) <= set(seller.ship_nodes)
        assert all(isinstance(q, int) and q >= 0 for q in nodes.values())
    assert sum(q for nodes in seller.inventory.values() for q in nodes.values()) > 0
