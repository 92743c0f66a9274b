"""Customers: repeat buyers, and names that need escaping downstream."""

from __future__ import annotations

from collections import Counter


def test_customers_repeat_and_some_names_need_escaping(seller):
    emails = Counter(o["customerEmailId"] for o in seller.orders)
    assert any(n > 1 for n in emails.values())
    names = {o["shippingInfo"]["postalAddress"]["name"] for o in seller.orders}
    assert any("'" in n for n in names)
    assert any('"' in n for n in names)
    repeat_apostrophe = [e for e, n in emails.items() if n > 1 and any(
        "'" in o["shippingInfo"]["postalAddress"]["name"] for o in seller.orders if o["customerEmailId"] == e)]
    assert repeat_apostrophe
