"""Walmart's stock against Exact's: which SKUs follow which side, what is reported unmapped, and the counts that result."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from walmart_accounting.domain.config import ConfigError, load_default_config, parse_config
from walmart_accounting.transform.stock import LEDGER_STOCK_COLUMNS, compare_stock, stock_counts, stock_source
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
