"""Empty inputs give empty frames that still validate, and the package still exports what its callers use."""

from __future__ import annotations

from walmart_accounting.schemas.walmart import OrderLine
from walmart_accounting.transform import documents as docs
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    assert_clean,
    frame,
    order_line,
    settlement,
)


def test_empty_inputs_give_empty_valid_frames():
    empty_orders = frame(OrderLine, [order_line()]).iloc[0:0]
    for result in (docs.sales_invoices(empty_orders, CONFIG, "xero"),
                   docs.settlement_documents(settlement([]).iloc[0:0], CONFIG, "xero"),
                   docs.convert_currency(docs.empty_documents(), CONFIG, "xero", None)):
        assert result.documents.empty and result.rejects.empty
        assert_clean(result)


def test_the_package_exports_what_callers_use():
    """`from walmart_accounting.transform import documents as docs` keeps working after the split."""
    for name in docs.__all__:
        assert getattr(docs, name) is not None, name
    assert {"DocumentResult", "empty_documents", "sales_invoices", "credit_notes", "settlement_documents",
            "settlement_summary", "convert_currency", "classify_settlement_rows"} <= set(docs.__all__)
