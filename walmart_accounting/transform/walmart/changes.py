"""Which partitions changed Walmart records belong to, and how to cover them in a few range runs."""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime
from typing import Any, Iterable, Sequence

import pandas as pd

HOUR_KEY = "%Y-%m-%d-%H:00"
DAY_KEY = "%Y-%m-%d"


def order_hours(orders: Iterable[dict[str, Any]]) -> tuple[set[str], list[str]]:
    """The hour partitions (by order time, UTC) of changed orders, and one problem per order without a usable time."""
    hours: set[str] = set()
    problems: list[str] = []
    for order in orders:
        value = order.get("orderDate")
        try:
            moment = datetime.fromtimestamp(int(value) / 1000, UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            problems.append(f"order {order.get('purchaseOrderId')!r}: orderDate {value!r} is not epoch milliseconds")
            continue
        hours.add(moment.strftime(HOUR_KEY))
    return hours, problems


def return_days(returns: Iterable[dict[str, Any]]) -> tuple[set[str], list[str]]:
    """The day partitions (by return creation, UTC) of changed returns, and one problem per return without a usable date."""
    days: set[str] = set()
    problems: list[str] = []
    for ret in returns:
        value = ret.get("returnOrderDate")
        moment = pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601") if isinstance(value, str) else None
        if moment is None or pd.isna(moment):
            problems.append(f"return {ret.get('returnOrderId')!r}: returnOrderDate {value!r} is not an ISO timestamp")
            continue
        days.add(moment.strftime(DAY_KEY))
    return days, problems


def split_by_partition(keys: Iterable[str], existing: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """(keys that are partitions now, keys of partitions not complete yet, keys before the first partition).

    `existing` is every partition key in order. Keys sort as their times do (fixed-width ISO formats).
    """
    known = set(existing)
    first = existing[0] if existing else None
    now, later, before = [], [], []
    for key in sorted(set(keys)):
        if key in known:
            now.append(key)
        elif first is not None and key < first:
            before.append(key)
        else:
            later.append(key)
    return now, later, before


def batch_ranges(keys: Iterable[str], existing: Sequence[str], max_gap: int, max_runs: int) -> list[tuple[str, str]]:
    """Cover `keys` with (first, last) ranges of `existing`: neighbours closer than `max_gap` partitions share a range.

    At most `max_runs` ranges: the closest ranges merge until they fit, so a burst of changes is a few runs
    (a range re-reads the partitions between its changes too, which is harmless: every run is idempotent).
    """
    known = set(existing)
    positions = sorted({bisect_left(existing, key) for key in keys if key in known})
    if not positions:
        return []
    ranges: list[list[int]] = [[positions[0], positions[0]]]
    for position in positions[1:]:
        if position - ranges[-1][1] <= max_gap:
            ranges[-1][1] = position
        else:
            ranges.append([position, position])
    while len(ranges) > max(1, max_runs):
        gaps = [ranges[i + 1][0] - ranges[i][1] for i in range(len(ranges) - 1)]
        i = gaps.index(min(gaps))
        ranges[i:i + 2] = [[ranges[i][0], ranges[i + 1][1]]]
    return [(existing[a], existing[b]) for a, b in ranges]
