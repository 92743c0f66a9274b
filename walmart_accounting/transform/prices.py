"""Prices for Walmart: the wanted price per SKU against Walmart's, and the bulk price feeds that carry the changes."""

from __future__ import annotations

import csv
import fnmatch
import io
from decimal import Decimal, InvalidOperation

import pandas as pd

from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.money import format_cents
from walmart_accounting.transform.feeds import Feed, pack_feeds
from walmart_accounting.transform.feeds import feed_failures as feed_failures  # re-exported: shared by every feed

PriceFeed = Feed  # a bulk price feed: feed type "price", PriceHeader 1.7
PRICE_FEED_TYPE = "price"
PRICE_FEED_VERSION = "1.7"
MAX_FEED_BYTES = 10 * 1024 * 1024  # Walmart: a price feed file under 10 MB
CHANGE_COLUMNS = ["sku", "walmart_cents", "price_cents"]


def _cents(text: str) -> int:
    value = Decimal(str(text).strip())
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise InvalidOperation
    return int(value * 100)


def read_price_file(content: str) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """A CSV of sku,price -> (sku, price_cents) and the rows refused as (line, reason); a later row of a SKU wins."""
    reader = csv.DictReader(io.StringIO(content))
    missing = {"sku", "price"} - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"the price file needs the columns sku and price; missing {sorted(missing)}")
    prices, refused = {}, []
    for number, row in enumerate(reader, start=2):
        sku = (row.get("sku") or "").strip()
        try:
            if not sku:
                raise InvalidOperation
            prices[sku] = _cents(row.get("price") or "")
        except (InvalidOperation, ValueError):
            refused.append((f"line {number}", f"sku {sku or '(empty)'}: price {row.get('price')!r} is not a positive "
                                              "amount with at most two decimals"))
    return pd.DataFrame(sorted(prices.items()), columns=["sku", "price_cents"]), refused


def price_changes(wanted: pd.DataFrame, walmart: pd.DataFrame, config: MappingConfig) -> tuple[pd.DataFrame, list]:
    """The SKUs (of `prices.skus`) whose wanted price differs from Walmart's, and those Walmart does not sell.

    `wanted` and `walmart` are (sku, price_cents); a SKU missing from Walmart's catalogue is refused, not sent.
    """
    patterns = config.prices.skus
    chosen = wanted[[any(fnmatch.fnmatchcase(s, p) for p in patterns) for s in wanted["sku"]]]
    joined = chosen.merge(walmart.rename(columns={"price_cents": "walmart_cents"}), on="sku", how="left")
    unknown = [(sku, "not in the seller's Walmart catalogue") for sku in joined.loc[joined["walmart_cents"].isna(), "sku"]]
    known = joined[joined["walmart_cents"].notna()].astype({"walmart_cents": "int64", "price_cents": "int64"})
    changes = known[known["walmart_cents"] != known["price_cents"]].sort_values("sku").reset_index(drop=True)
    return changes[CHANGE_COLUMNS], unknown


def price_feeds(changes: pd.DataFrame, currency: str, items_per_feed: int,
                max_bytes: int = MAX_FEED_BYTES) -> list[PriceFeed]:
    """The changes in as few feeds as Walmart's limits allow: up to `items_per_feed` items and `max_bytes` each."""
    items = ((sku, {"sku": sku, "pricing": [{"currentPriceType": "BASE", "currentPrice": {
        "currency": currency, "amount": Decimal(int(cents)).scaleb(-2)}}]})
             for sku, cents in changes[["sku", "price_cents"]].itertuples(index=False))
    return pack_feeds(PRICE_FEED_TYPE, ("PriceHeader", PRICE_FEED_VERSION), "Price", items, items_per_feed, max_bytes)


def describe_change(sku: str, walmart_cents: int, price_cents: int, currency: str) -> str:
    """One change as a person reads it."""
    return f"{sku}: {format_cents(walmart_cents)} -> {format_cents(price_cents)} {currency}"
