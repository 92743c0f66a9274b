"""Walmart's stock against Exact's: which SKUs follow which side, what is reported unmapped, and the counts that result."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from walmart_accounting.domain.config import ConfigError, load_default_config, parse_config
from walmart_accounting.transform.stock import (
    LEDGER_STOCK_COLUMNS,
    compare_stock,
    inventory_feeds,
    inventory_pushes,
    stock_counts,
    stock_source,
)
from walmart_accounting.transform.walmart import inventory_frame

TAKEN = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)


def stock_config(groups=None, warehouses=None, items=None, **stock):
    """The packaged mapping with a stock section and Exact item codes for the SKUs."""
    data = load_default_config().model_dump(mode="json")
    data["stock"] = {"ledger": "exact", "warehouses": {"100009": "1", "100010": "1", "WFS": "2"}
                     if warehouses is None else warehouses,
                     "groups": {"walmart_held": {"skus": ["MUG-*"], "source": "walmart"},
                                "from_the_ledger": {"skus": ["TEE-*"], "source": "ledger"}} if groups is None else groups,
                     **stock}
    data["ledgers"]["exact"]["skus"]["items"] = {sku: {"item_code": code} for sku, code in (
        items or {"MUG-1": "I-MUG-1", "MUG-2": "I-MUG-2", "TEE-1": "I-TEE-1"}).items()}
    return parse_config(data)


def snapshot(own=(), wfs=()):
    own = [{"sku": sku, "nodes": [{"shipNode": node, "availToSellQty": {"amount": available},
                                   "reservedQty": {"amount": reserved}}]} for sku, node, available, reserved in own]
    wfs = [{"sku": sku, "shipNodes": [{"availToSellQty": available, "onHandQty": on_hand}]} for sku, available, on_hand in wfs]
    return inventory_frame(TAKEN, own, wfs).valid


def ledger(*rows):
    return pd.DataFrame(list(rows), columns=LEDGER_STOCK_COLUMNS)


def test_walmart_nodes_that_share_a_warehouse_add_up_and_a_missing_stock_row_is_zero():
    config = stock_config()
    frame = compare_stock(snapshot([("MUG-1", "100009", 4, 1), ("MUG-1", "100010", 3, 0)], [("MUG-1", 6, 8)]),
                          ledger(("I-MUG-1", "1", 8)), config).frame
    rows = frame.set_index("warehouse")[["walmart_on_hand", "ledger_quantity", "difference", "ship_nodes"]]
    assert rows.loc["1"].tolist() == [8, 8, 0, "100009,100010"]
    assert rows.loc["2"].tolist() == [8, 0, 8, "WFS"]  # WFS on hand is Walmart's onHandQty


def test_a_count_per_warehouse_for_walmart_held_skus_that_differ_only():
    config = stock_config()
    taken = snapshot([("MUG-1", "100009", 5, 0), ("MUG-2", "100009", 2, 0), ("TEE-1", "100009", 9, 0)])
    comparison = compare_stock(taken, ledger(("I-MUG-1", "1", 7), ("I-MUG-2", "1", 2), ("I-TEE-1", "1", 4)), config)
    result = stock_counts(comparison, TAKEN, config)
    assert result.rejects.empty
    documents = result.documents
    assert documents["document_key"].unique().tolist() == ["WM-STK-20261120T140500-1"]
    assert documents[["item_code", "quantity", "account", "document_kind", "category"]].values.tolist() == [
        ["I-MUG-1", 5, "1", "stock_adjustment", "stock"]]  # MUG-2 agrees; TEE-1's truth is the ledger's
    assert comparison.beyond(0)["sku"].tolist() == ["MUG-1", "TEE-1"]
    assert comparison.beyond(5)["sku"].tolist() == []


def test_no_difference_no_count():
    config = stock_config()
    comparison = compare_stock(snapshot([("MUG-1", "100009", 5, 2)]), ledger(("I-MUG-1", "1", 7)), config)
    assert stock_counts(comparison, TAKEN, config).documents.empty


def test_unmapped_skus_and_nodes_are_reported_never_guessed():
    config = stock_config(items={"MUG-1": "I-MUG-1"})
    taken = snapshot([("MUG-1", "999", 5, 0), ("MUG-2", "100009", 1, 0), ("SOCK-1", "100009", 3, 0)])
    comparison = compare_stock(taken, ledger(), config)
    assert comparison.frame.empty
    reasons = {(r.sku, r.ship_node): r.reason for r in comparison.unmapped.itertuples()}
    assert "999 has no warehouse" in reasons[("MUG-1", "999")]
    assert "no item_code" in reasons[("MUG-2", "100009")]
    assert ("SOCK-1", "100009") not in reasons  # in no stock group: not synced, nothing to report


def test_a_sku_in_groups_of_both_sources_is_synced_neither_way():
    config = stock_config(groups={"a": {"skus": ["MUG-*"], "source": "walmart"},
                                  "b": {"skus": ["MUG-2"], "source": "ledger"}})
    assert stock_source("MUG-1", config).value == "walmart"
    assert "both sources" in stock_source("MUG-2", config)
    comparison = compare_stock(snapshot([("MUG-2", "100009", 5, 0)]), ledger(), config)
    assert comparison.frame.empty and "both sources" in comparison.unmapped["reason"].iloc[0]


@pytest.mark.parametrize(("stock", "message"), [
    ({"groups": {"a": {"skus": ["X"], "source": "walmart"}, "b": {"skus": ["X"], "source": "ledger"}}},
     "groups of both sources"),
    ({"ledger": "xero", "groups": {"a": {"skus": ["X"], "source": "walmart"}}, "warehouses": {"1": "1"}},
     "needs ledger exact"),
    ({"groups": {"a": {"skus": ["X"], "source": "walmart"}}, "warehouses": {}}, "stock.warehouses"),
])
def test_a_mapping_that_would_sync_both_ways_or_nowhere_is_refused(stock, message):
    data = load_default_config().model_dump(mode="json")
    data["stock"] = stock
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


# -- the ledger's quantity to Walmart ------------------------------------------------------------------------

def test_the_ledger_quantity_of_source_ledger_skus_goes_to_the_one_node_of_its_warehouse():
    config = stock_config(warehouses={"100009": "1", "100011": "3"},
                          items={"MUG-1": "I-MUG-1", "TEE-1": "I-TEE-1", "TEE-2": "I-TEE-2", "TEE-3": "I-TEE-3"})
    taken = snapshot([("MUG-1", "100009", 5, 0), ("TEE-1", "100009", 9, 1), ("TEE-2", "100009", 4, 0),
                      ("TEE-3", "100009", 2, 0)])
    stock = ledger(("I-MUG-1", "1", 7), ("I-TEE-1", "1", 4), ("I-TEE-1", "3", 6), ("I-TEE-2", "1", 4),
                   ("I-TEE-3", "1", -3))
    pushes, unmapped = inventory_pushes(compare_stock(taken, stock, config), config)
    # MUG-1 is Walmart's to hold (counted, never pushed); TEE-2 agrees; TEE-1 also has 6 in warehouse 3, whose one
    # node Walmart lists no stock of: 0 there; a negative ledger stock is none to sell.
    assert pushes[["sku", "ship_node", "walmart_on_hand", "quantity"]].values.tolist() == [
        ["TEE-1", "100009", 10, 4], ["TEE-1", "100011", 0, 6], ["TEE-3", "100009", 2, 0]]
    assert unmapped.empty


def test_a_warehouse_of_several_nodes_wfs_and_an_item_the_ledger_lacks_are_reported_never_pushed():
    config = stock_config(warehouses={"100009": "1", "100010": "1", "100011": "3", "WFS": "2"},
                          items={"TEE-1": "I-TEE-1", "TEE-2": "I-TEE-2", "TEE-3": "I-TEE-3", "TEE-9": "I-TEE-9"})
    taken = snapshot([("TEE-1", "100009", 9, 0), ("TEE-1", "100010", 1, 0), ("TEE-3", "100011", 5, 0),
                      ("TEE-9", "100011", 5, 0), ("TEE-4", "100011", 1, 0)], wfs=[("TEE-2", 3, 3)])
    stock = ledger(("I-TEE-1", "1", 4), ("I-TEE-2", "2", 8), ("I-TEE-3", "3", 2))
    pushes, unmapped = inventory_pushes(compare_stock(taken, stock, config), config)
    assert pushes[["sku", "ship_node", "quantity"]].values.tolist() == [["TEE-3", "100011", 2]]
    reasons = {(r.sku, r.ship_node): r.reason for r in unmapped.itertuples()}
    assert set(reasons) == {("TEE-1", "100009"), ("TEE-1", "100010"), ("TEE-2", "WFS"), ("TEE-9", "100011"),
                            ("TEE-4", "100011")}
    assert "ship nodes 100009, 100010" in reasons[("TEE-1", "100009")] and "not guessed" in reasons[("TEE-1", "100010")]
    assert "WFS stock is Walmart's" in reasons[("TEE-2", "WFS")]
    assert "no stock of item I-TEE-9" in reasons[("TEE-9", "100011")]  # unknown to the ledger is not 0
    assert "no item_code" in reasons[("TEE-4", "100011")]  # what the comparison could not map, for these SKUs


def test_each_sku_moves_one_way_only_counted_or_pushed():
    config = stock_config(warehouses={"100009": "1"})
    taken = snapshot([("MUG-1", "100009", 5, 0), ("TEE-1", "100009", 9, 0)])
    comparison = compare_stock(taken, ledger(("I-MUG-1", "1", 7), ("I-TEE-1", "1", 4)), config)
    counted = stock_counts(comparison, TAKEN, config).documents
    pushes, _ = inventory_pushes(comparison, config)
    assert counted["sku"].tolist() == ["MUG-1"] and pushes["sku"].tolist() == ["TEE-1"]


def _pushes(n: int, nodes=("100009",)) -> pd.DataFrame:
    return pd.DataFrame([(f"SKU-{i:05d}", node, i % 7) for i in range(n) for node in nodes],
                        columns=["sku", "ship_node", "quantity"])


def test_an_inventory_feed_is_one_item_per_sku_with_all_its_nodes():
    [feed] = inventory_feeds(_pushes(2, nodes=("100009", "100010")))
    assert feed.feed_type == "MP_INVENTORY" and feed.skus == ["SKU-00000", "SKU-00001"]
    assert feed.payload == {"inventoryHeader": {"version": "1.5"}, "inventory": [
        {"sku": "SKU-00000", "shipNodes": [{"shipNode": "100009", "quantity": {"unit": "EACH", "amount": 0}},
                                           {"shipNode": "100010", "quantity": {"unit": "EACH", "amount": 0}}]},
        {"sku": "SKU-00001", "shipNodes": [{"shipNode": "100009", "quantity": {"unit": "EACH", "amount": 1}},
                                           {"shipNode": "100010", "quantity": {"unit": "EACH", "amount": 1}}]}]}
    assert inventory_feeds(_pushes(0)) == []


def test_inventory_feeds_keep_to_walmarts_item_and_size_caps():
    assert [len(f.skus) for f in inventory_feeds(_pushes(25_000))] == [10_000, 10_000, 5_000]
    small = inventory_feeds(_pushes(300), max_bytes=5_000)
    assert len(small) > 1 and all(f.size <= 5_000 for f in small)
    assert sum((f.skus for f in small), []) == _pushes(300)["sku"].tolist()  # every SKU once, in order


@pytest.mark.parametrize(("warehouses", "ok"), [
    ({"10000000001": "xero"}, True),
    ({}, False),
    ({"10000000001": "xero", "10000000002": "xero"}, False),
    ({"10000000001": "xero", "WFS": "wfs"}, False),
])
def test_xero_as_the_source_needs_exactly_one_seller_node(warehouses, ok):
    data = load_default_config().model_dump(mode="json")
    data["stock"] = {"ledger": "xero", "warehouses": warehouses, "groups": {"a": {"skus": ["*"], "source": "ledger"}}}
    if ok:
        config = parse_config(data)
        assert config.stock.ledger_warehouses() == ["xero"]
    else:
        with pytest.raises(ConfigError, match="stock.warehouses"):
            parse_config(data)


def test_stock_groups_need_their_ledger_enabled():
    data = load_default_config().model_dump(mode="json")
    data["ledgers"]["exact"]["enabled"] = False
    data["stock"] = {"warehouses": {"1": "1"}, "groups": {"a": {"skus": ["*"], "source": "ledger"}}}
    with pytest.raises(ConfigError, match="stock.ledger: .* exact, which is not configured and enabled"):
        parse_config(data)
