"""The seeded window as a whole: same seed, same data; no float anywhere; a short window."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting_tests.sandbox.seller.support import UTC, walk


def test_same_seed_gives_identical_data_and_another_seed_differs(seller):
    again = SyntheticSeller(seed=7)
    assert again.orders == seller.orders
    assert again.returns == seller.returns
    assert again.settlements == seller.settlements
    assert again.inventory == seller.inventory
    assert again.skus == seller.skus

    other = SyntheticSeller(seed=8)
    assert other.orders != seller.orders
    assert {o["purchaseOrderId"] for o in other.orders}.isdisjoint({o["purchaseOrderId"] for o in seller.orders})
    assert other.settlements != seller.settlements
    assert other.returns != seller.returns


def test_no_float_anywhere_in_the_produced_data(seller):
    produced = {
        "orders": seller.orders,
        "returns": seller.returns,
        "settlements": seller.settlements,
        "inventory": seller.inventory,
        "skus": seller.skus,
    }
    floats = [path for path, value in walk(produced) if isinstance(value, float)]
    assert floats == []
    money = [v for path, v in walk(produced) if isinstance(v, Decimal)]
    assert money and all(v.as_tuple().exponent == -2 for v in money)


def test_a_short_window_has_orders_but_no_closed_settlement():
    short = SyntheticSeller(seed=3, start=date(2026, 11, 2), days=5)
    assert short.orders and short.settlements == []
    days = {datetime.fromtimestamp(o["orderDate"] // 1000, UTC).date() for o in short.orders}
    assert short.start <= min(days) and max(days) < short.end
