"""Walmart bulk feeds, whatever they carry: items packed into as few files as Walmart's limits allow, and each item's result."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Feed:
    """One bulk feed: its type (`feedType`), its SKUs in order, and the file Walmart takes (JSON)."""

    feed_type: str
    skus: list[str]
    payload: dict

    @property
    def size(self) -> int:
        return len(json.dumps(self.payload, default=str).encode("utf-8"))


def _measure(value: object) -> int:
    # An upper bound of what the client writes (jsonmoney: compact, UTF-8; Decimals as bare numbers): the
    # default separators and ASCII escapes only make it larger, so a feed measured under the cap is under it.
    return len(json.dumps(value, default=str))


def pack_feeds(feed_type: str, header: tuple[str, str], items_key: str, items: Iterable[tuple[str, dict]],
               items_per_feed: int, max_bytes: int) -> list[Feed]:
    """(sku, item) in order -> as few feeds as fit: up to `items_per_feed` items and `max_bytes` a file.

    `header` is the header's key and version (("PriceHeader", "1.7")), `items_key` the list's key ("Price").
    Every item goes in exactly one feed, in the order given; an item bigger than the cap on its own still
    goes, alone in its feed (Walmart then judges it).
    """
    if items_per_feed < 1:
        raise ValueError(f"items_per_feed must be at least 1, got {items_per_feed}")
    header_key, version = header

    def payload(chunk: list[dict]) -> dict:
        return {header_key: {"version": version}, items_key: chunk}

    overhead = _measure(payload([]))
    feeds: list[Feed] = []
    chunk: list[dict] = []
    skus: list[str] = []
    size = 0
    for sku, item in items:
        item_size = _measure(item) + 2  # and the ", " that joins it to the one before
        if chunk and (len(chunk) >= items_per_feed or overhead + size + item_size > max_bytes):
            feeds.append(Feed(feed_type, skus, payload(chunk)))
            chunk, skus, size = [], [], 0
        chunk.append(item)
        skus.append(sku)
        size += item_size
    if chunk:
        feeds.append(Feed(feed_type, skus, payload(chunk)))
    return feeds


def feed_failures(item_results: list[dict]) -> list[tuple[str, str]]:
    """(sku, Walmart's message) for each item of a processed feed that did not succeed."""
    failed = []
    for item in item_results:
        if item.get("ingestionStatus") == "SUCCESS":
            continue
        errors = ((item.get("ingestionErrors") or {}).get("ingestionError")) or []
        message = "; ".join(f"{e.get('code', '')}: {e.get('description', '')}".strip(": ") for e in errors)
        failed.append((str(item.get("sku") or f"index {item.get('index')}"),
                       message or f"ingestionStatus {item.get('ingestionStatus')}"))
    return failed
