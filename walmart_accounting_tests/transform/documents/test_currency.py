"""Currency conversion records the rate, converts each line once, and rejects documents without a rate."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from walmart_accounting.posting.xero import xero_currency_rate
from walmart_accounting.schemas.walmart import OrderLine
from walmart_accounting.transform import documents as docs
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    assert_clean,
    frame,
    make_config,
    order_line,
)


def _eur(data, source="fixed"):
    data["ledgers"]["xero"]["base_currency"] = "EUR"
    data["rates"] = {"source": source, "fixed": {"EUR": "0.9235"}}


def test_conversion_records_the_rate_and_converts_once():
    lines = frame(OrderLine, [order_line(ship_to_state="PR", product_cents=1001, product_tax_cents=115,
                                         shipping_cents=1, shipping_tax_cents=1)])
    config = make_config(_eur)
    invoice = docs.sales_invoices(lines, config, "xero").documents
    assert invoice["base_amount_cents"].isna().all()
    converted = docs.convert_currency(invoice, config, "xero", None)
    assert_clean(converted)
    out = converted.documents
    assert out["exchange_rate"].eq("0.9235").all() and out["rate_source"].eq("fixed").all()
    # Xero is sent the 6-decimal reciprocal (CurrencyRate 1.082837): the base amounts are what it books from it
    quote = (1 / Decimal("0.9235")).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    expected = [int((Decimal(a + t) / quote).quantize(Decimal(1), ROUND_HALF_UP))
                for a, t in zip(out["amount_cents"], out["tax_cents"], strict=True)]
    assert out["base_amount_cents"].tolist() == expected
    # shipping 0.01 + tax 0.01 = 0.02 USD -> 0.018 EUR -> 0.02: amount + tax converted once, not each rounded
    assert out.loc[out["category"] == "shipping", "base_amount_cents"].tolist() == [2]
    assert out["amount_cents"].tolist() == invoice["amount_cents"].tolist()  # document currency untouched
    again = docs.convert_currency(out, config, "xero", None).documents
    pd.testing.assert_frame_equal(again, out)


def test_conversion_leaves_same_currency_alone_and_rejects_without_a_rate():
    lines = frame(OrderLine, [order_line(), order_line(po="1000002")])
    invoice = docs.sales_invoices(lines, CONFIG, "xero").documents
    same = docs.convert_currency(invoice, CONFIG, "xero", None)
    assert same.documents[["exchange_rate", "rate_source", "base_amount_cents"]].isna().all().all()
    config = make_config(lambda d: _eur(d, "ledger"))
    missing = docs.convert_currency(invoice, config, "xero", {"GBP": Decimal("0.8")})
    assert missing.documents.empty
    assert set(missing.rejects["record_key"]) == {"WM-1000001", "WM-1000002"}
    assert missing.rejects["reason"].str.contains("no exchange rate USD -> EUR").all()
    ledger_rate = docs.convert_currency(invoice, config, "xero", {"USD": Decimal("0.5")}).documents
    assert ledger_rate["rate_source"].eq("ledger").all() and ledger_rate["exchange_rate"].eq("0.5").all()
    assert ledger_rate["base_amount_cents"].tolist() == [1250, 111, 1250, 111]


def test_the_recorded_base_amount_is_the_one_each_ledger_books():
    # 100,000.00 USD at 0.92 EUR: Xero holds the rate as 1.086957 USD per EUR and books 91,999.96 EUR;
    # Exact takes Rate 0.92 itself and books 92,000.00. The documents record exactly those.
    lines = frame(OrderLine, [order_line(ship_to_state="TX", product_cents=10_000_000, product_tax_cents=0)])
    for ledger, base in (("xero", 9_199_996), ("exact", 9_200_000)):
        def eur(data, ledger=ledger):
            data["ledgers"][ledger]["base_currency"] = "EUR"
            data["rates"] = {"source": "fixed", "fixed": {"EUR": "0.92"}}
        config = make_config(eur)
        invoice = docs.sales_invoices(lines, config, ledger).documents
        out = docs.convert_currency(invoice, config, ledger, None).documents
        assert out["base_amount_cents"].tolist() == [base], ledger
    assert xero_currency_rate("0.92") == Decimal("1.086957")
    assert (Decimal("100000.00") / xero_currency_rate("0.92")).quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("91999.96")
