"""Neutral documents total exactly, refuse mixed currencies, and hash their content stably."""

from datetime import date
from decimal import Decimal

import pytest

from walmart_accounting.domain.documents import DocumentError, DocumentKind, DocumentLine, LineCategory, SalesInvoice
from walmart_accounting.domain.money import Money


def _invoice(**overrides):
    lines = (
        DocumentLine(LineCategory.PRODUCT, "Widget", Money(5997, "USD"), quantity=Decimal(3), sku="WM-SKU-0001",
                     tax=Money(690, "USD")),
        DocumentLine(LineCategory.SHIPPING, "Shipping", Money(499, "USD")),
        DocumentLine(LineCategory.DISCOUNT, "Promotion", Money(-500, "USD")),
    )
    fields = dict(key="WM-1234567", kind=DocumentKind.SALES_INVOICE, date=date(2026, 9, 8), currency="USD",
                  source_ids=("1234567",), contact_id="C1", contact_name="A Buyer", lines=lines)
    fields.update(overrides)
    return SalesInvoice(**fields)


def test_total_is_lines_plus_tax():
    assert _invoice().total == Money(5997 + 690 + 499 - 500, "USD")


def test_mixed_currency_lines_are_refused():
    bad = _invoice(lines=(DocumentLine(LineCategory.PRODUCT, "x", Money(1, "EUR")),))
    with pytest.raises(DocumentError, match="EUR"):
        bad.total


def test_payload_hash_is_stable_and_content_sensitive():
    assert _invoice().payload_hash() == _invoice().payload_hash()
    changed = _invoice(contact_name="Another Buyer")
    assert changed.payload_hash() != _invoice().payload_hash()
