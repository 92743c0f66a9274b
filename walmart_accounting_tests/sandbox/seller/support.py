"""What the seller tests share: exact cents, report row and order line lookups, a walk over produced data."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from walmart_accounting.sandbox.seller import Settlement, SyntheticSeller

UTC = timezone.utc
AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
MDY = re.compile(r"^\d{2}/\d{2}/\d{4}$")
CUSTOMER_FACING = ("Product Price", "Product tax", "Shipping Price", "Shipping tax")


def cents(value) -> int:
    """Exact minor units of a Decimal or an amount string; refuses anything with sub-cent digits."""
    scaled = Decimal(value).scaleb(2)
    assert scaled == scaled.to_integral_value(), value
    return int(scaled)


def detail_rows(settlement: Settlement) -> list[dict[str, str]]:
    return settlement.rows[1:]


def all_detail_rows(seller: SyntheticSeller):
    for settlement in seller.settlements:
        for row in detail_rows(settlement):
            yield settlement, row


def line_of(seller: SyntheticSeller, po_id: str, line_number: str) -> tuple[dict, dict]:
    order = seller.order(po_id)
    assert order is not None, po_id
    lines = [ln for ln in order["orderLines"]["orderLine"] if ln["lineNumber"] == line_number]
    assert len(lines) == 1, (po_id, line_number)
    return order, lines[0]


def status_of(line: dict) -> str:
    return line["orderLineStatuses"]["orderLineStatus"][0]["status"]


def ship_date(line: dict) -> date:
    ms = line["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]["shipDateTime"]
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).date()


def parse_mdy(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def walk(value, path="$"):
    yield path, value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + f".{key}", key
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]")
