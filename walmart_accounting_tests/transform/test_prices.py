"""Prices: the file read, only changed SKUs of the configured patterns sent, packed into as few feeds as Walmart allows."""

import json

import pandas as pd
import pytest

from walmart_accounting.domain.config import ConfigError, load_default_config, parse_config
from walmart_accounting.transform.prices import feed_failures, price_changes, price_feeds, read_price_file


def _config(**prices):
    data = load_default_config().model_dump(mode="json")
    data["prices"] = {"source": "file", "file": "prices.csv", **prices}
    return parse_config(data)


def _changes(n):
    return pd.DataFrame({"sku": [f"SKU-{i:05d}" for i in range(n)], "walmart_cents": 1000, "price_cents": 1299})


def test_the_price_file_keeps_good_rows_and_names_the_bad_ones():
    prices, refused = read_price_file("sku,price\nA,19.99\nB,abc\nC,-1\nD,1.999\nA,18.50\n,3\n")
    assert prices.values.tolist() == [["A", 1850]]  # the later row of A wins
    assert [line for line, _ in refused] == ["line 3", "line 4", "line 5", "line 7"]
    with pytest.raises(ValueError, match="sku and price"):
        read_price_file("item,cost\nA,1\n")


def test_only_changed_prices_of_the_chosen_skus_go_and_unknown_skus_are_refused():
    wanted = pd.DataFrame({"sku": ["MUG-1", "MUG-2", "TEE-1", "MUG-9"], "price_cents": [1299, 500, 800, 100]})
    walmart = pd.DataFrame({"sku": ["MUG-1", "MUG-2", "TEE-1"], "price_cents": [1199, 500, 700]})
    changes, unknown = price_changes(wanted, walmart, _config(skus=["MUG-*"]))
    assert changes.values.tolist() == [["MUG-1", 1199, 1299]]
    assert unknown == [("MUG-9", "not in the seller's Walmart catalogue")]


def test_a_5000_sku_change_is_one_feed_at_walmarts_limit_and_five_at_a_thousand():
    assert [len(f.skus) for f in price_feeds(_changes(5000), "USD", 10_000)] == [5000]
    feeds = price_feeds(_changes(5000), "USD", 1000)
    assert [len(f.skus) for f in feeds] == [1000] * 5
    assert sum((f.skus for f in feeds), []) == _changes(5000)["sku"].tolist()  # every SKU once, in order
    item = feeds[0].payload["Price"][0]
    assert feeds[0].payload["PriceHeader"] == {"version": "1.7"}
    assert item["sku"] == "SKU-00000" and item["pricing"][0]["currentPrice"]["currency"] == "USD"
    assert str(item["pricing"][0]["currentPrice"]["amount"]) == "12.99"


def test_a_feed_is_split_before_it_reaches_the_size_limit():
    feeds = price_feeds(_changes(300), "USD", 10_000, max_bytes=10_000)
    assert len(feeds) > 1 and all(len(json.dumps(f.payload, default=str)) <= 10_000 for f in feeds)
    assert sum(len(f.skus) for f in feeds) == 300


def test_feed_failures_name_each_failed_sku_with_walmarts_message():
    results = [{"sku": "A", "ingestionStatus": "SUCCESS"},
               {"sku": "B", "ingestionStatus": "DATA_ERROR", "ingestionErrors": {"ingestionError": [
                   {"type": "DATA_ERROR", "code": "ERR_EXT_DATA_0801001", "description": "SKU B is not found"}]}},
               {"sku": "C", "ingestionStatus": "TIMEOUT_ERROR"}]
    assert feed_failures(results) == [("B", "ERR_EXT_DATA_0801001: SKU B is not found"), ("C", "ingestionStatus TIMEOUT_ERROR")]


def test_a_file_source_needs_its_file():
    data = load_default_config().model_dump(mode="json")
    data["prices"] = {"source": "file"}
    with pytest.raises(ConfigError, match="prices.file"):
        parse_config(data)
