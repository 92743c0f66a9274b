"""Orders: unique ids, Walmart's shape, the created-between query, and the mix a real seller has."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from walmart_accounting_tests.sandbox.seller.support import UTC, line_of, status_of


def test_order_and_return_ids_are_unique(seller):
    po_ids = [o["purchaseOrderId"] for o in seller.orders]
    assert len(po_ids) == len(set(po_ids))
    assert all(re.fullmatch(r"\d{13}", p) for p in po_ids)
    return_ids = [r["returnOrderId"] for r in seller.returns]
    assert len(return_ids) == len(set(return_ids))
    assert seller.order(po_ids[0]) is seller.orders[0]
    assert seller.order("0000000000000") is None


def test_orders_have_the_walmart_shape(seller):
    dates = [o["orderDate"] for o in seller.orders]
    assert dates == sorted(dates)
    for order in seller.orders:
        assert isinstance(order["orderDate"], int)
        assert order["customerEmailId"].endswith("@relay.walmart.com")
        postal = order["shippingInfo"]["postalAddress"]
        assert postal["country"] == "USA" and postal["state"] and postal["postalCode"]
        assert order["shipNode"]["id"] in seller.ship_nodes
        numbers = [ln["lineNumber"] for ln in order["orderLines"]["orderLine"]]
        assert numbers == [str(i) for i in range(1, len(numbers) + 1)]
        for line in order["orderLines"]["orderLine"]:
            assert line["orderLineQuantity"]["amount"].isdigit()
            for charge in line["charges"]["charge"]:
                assert charge["chargeAmount"]["currency"] == "USD"
                amount = charge["chargeAmount"]["amount"]
                assert isinstance(amount, Decimal) and amount.as_tuple().exponent == -2
        modified = seller.order_last_modified(order["purchaseOrderId"])
        assert modified.tzinfo is not None
        assert order["orderDate"] <= (modified - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
        assert modified <= seller.as_of


def test_orders_created_between_is_start_inclusive_end_exclusive(seller):
    pivot = seller.orders[len(seller.orders) // 2]
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=pivot["orderDate"])
    after = seller.orders_created_between(moment, seller.as_of)
    before = seller.orders_created_between(datetime.combine(seller.start, datetime.min.time()), moment)
    assert pivot in after and pivot not in before
    assert len(after) + len(before) == len(seller.orders)
    naive = seller.orders_created_between(moment.replace(tzinfo=None), seller.as_of.replace(tzinfo=None))
    assert naive == after


def test_the_data_has_the_mix_a_real_seller_has(seller, config):
    lines = [(o, ln) for o in seller.orders for ln in o["orderLines"]["orderLine"]]
    shipped = [(o, ln) for o, ln in lines if status_of(ln) in ("Shipped", "Delivered")]
    assert len(seller.orders) > 300
    assert sum(len(o["orderLines"]["orderLine"]) > 1 for o in seller.orders) > 50
    assert sum(ln["orderLineQuantity"]["amount"] != "1" for _, ln in lines) > 20
    charge_names = Counter(c["chargeName"] for _, ln in lines for c in ln["charges"]["charge"])
    assert charge_names["Shipping"] > 20 and charge_names["SubscriptionDiscount"] > 5
    discounts = [c for _, ln in lines for c in ln["charges"]["charge"] if c["chargeName"] == "SubscriptionDiscount"]
    assert all(c["chargeAmount"]["amount"] < 0 for c in discounts)
    states = Counter(o["shippingInfo"]["postalAddress"]["state"] for o in seller.orders)
    facilitator = sum(n for s, n in states.items() if s in config.tax.facilitator_states)
    assert facilitator > 0.85 * len(seller.orders)
    assert states["PR"] and "PR" in config.tax.facilitator_states  # Walmart remits Puerto Rico's tax too
    assert any(s not in config.tax.facilitator_states | config.tax.seller_remitted_states for s in states)
    returned_lines = sum(len(r["returnOrderLines"]) for r in seller.returns)
    assert 0.04 <= returned_lines / len(shipped) <= 0.10
    partial = 0
    for ret in seller.returns:
        for rline in ret["returnOrderLines"]:
            _, line = line_of(seller, rline["purchaseOrderId"], str(rline["purchaseOrderLineNumber"]))
            partial += rline["quantity"]["measurementValue"] < int(line["orderLineQuantity"]["amount"])
    assert partial > 0
    assert sum(1 for _, ln in lines if "refund" in ln) > 5
    returned = [r["returnOrderDate"] for r in seller.returns]
    assert returned == sorted(returned)
    assert {o["shipNode"]["type"] for o in seller.orders} == {"SellerFulfilled", "WFSFulfilled"}
    # More orders are expected on a Monday than a Friday, and more in December than September.
    assert seller._expected_orders(date(2026, 9, 14)) > seller._expected_orders(date(2026, 9, 18))
    assert seller._expected_orders(date(2026, 12, 14)) > 1.3 * seller._expected_orders(date(2026, 9, 14))
