"""Credit notes mirror the invoice, never book a refund twice, and reject what cannot be mapped."""

from __future__ import annotations

import pandas as pd

from walmart_accounting.schemas.walmart import OrderLine, OrderRefund, ReturnLine
from walmart_accounting.transform import documents as docs
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    assert_clean,
    frame,
    make_config,
    order_line,
    refund_row,
    return_line,
    strict_skus,
    totals,
)

ORIGINALS = [
    order_line(po="5000001"),
    order_line(po="5000002", ship_to_state="PR", product_tax_cents=287, shipping_cents=399, shipping_tax_cents=46),
    order_line(po="5000003", ship_to_state="OR", product_tax_cents=0),
]


def test_credit_notes_mirror_the_invoice_and_never_count_a_refund_twice():
    originals = frame(OrderLine, ORIGINALS)
    returns = frame(ReturnLine, [
        return_line(ret="700000000000000001", po="5000001", fee_cents=300),
        return_line(ret="700000000000000002", po="5000002", product_tax_cents=287, shipping_cents=399,
                    shipping_tax_cents=46),
        return_line(ret="700000000000000003", po="5000001", refunded=False, refund_status="REFUND_PENDING"),
    ])
    refunds = frame(OrderRefund, [
        refund_row(po="5000001", refund_id="R-A", ret="700000000000000001", product_cents=-2499,
                   product_tax_cents=-221),  # covered by the return's credit note
        refund_row(po="5000003", refund_id="R-B", product_cents=-500, product_tax_cents=0),  # goodwill refund
    ])
    result = docs.credit_notes(returns, refunds, originals, CONFIG, "xero")
    assert_clean(result)
    assert result.rejects.empty
    notes = result.documents
    assert notes["document_kind"].eq("credit_note").all()
    assert set(notes["document_key"]) == {"WM-RET-700000000000000001", "WM-RET-700000000000000002",
                                          "WM-RFD-5000003-R-B"}
    by_key = dict(tuple(notes.groupby("document_key")))
    ca = by_key["WM-RET-700000000000000001"]
    assert ca["category"].tolist() == ["product", "adjustment", "facilitator_tax"]
    assert ca["amount_cents"].tolist() == [2499, -300, 221]
    assert ca["account"].tolist() == ["4030", "4000", "2250"]
    assert ca["related_key"].eq("WM-5000001").all()
    assert ca["source_ids"].iloc[0] == "700000000000000001,5000001"
    assert (ca["document_date"] == pd.Timestamp("2026-09-15")).all()
    pr = by_key["WM-RET-700000000000000002"]
    assert pr["tax_cents"].tolist() == [287, 46] and pr["tax_code"].tolist() == ["TAX001", "TAX001"]
    assert totals(notes).to_dict() == {"WM-RET-700000000000000001": 2499 + 221 - 300,
                                       "WM-RET-700000000000000002": 2499 + 287 + 399 + 46,
                                       "WM-RFD-5000003-R-B": 500}
    assert by_key["WM-RFD-5000003-R-B"]["related_key"].eq("WM-5000003").all()


def test_credit_note_rejects_missing_original_line_and_unmapped_sku():
    originals = frame(OrderLine, ORIGINALS)
    returns = frame(ReturnLine, [
        return_line(ret="710000000000000001", po="5000001"),
        return_line(ret="710000000000000002", po="5999999"),  # its order is unknown: no state
        return_line(ret="710000000000000003", po="5000003", sku="NOT-MAPPED", product_tax_cents=0),
    ])
    result = docs.credit_notes(returns, None, originals, make_config(strict_skus), "xero")
    assert set(result.documents["document_key"]) == {"WM-RET-710000000000000001"}
    reasons = dict(zip(result.rejects["record_key"], result.rejects["reason"], strict=True))
    assert "missing shipping information" in reasons["WM-RET-710000000000000002"]
    assert reasons["WM-RET-710000000000000003"] == "unmapped SKU 'NOT-MAPPED' for ledger xero"


def test_a_credit_note_is_dated_when_walmart_completed_the_refund_not_when_the_return_was_opened():
    # opened on 28 September, refunded on 2 October: the refund belongs in October's books (cut-off)
    returns = frame(ReturnLine, [
        return_line(ret="700000000000000009", po="5000001", return_date=pd.Timestamp("2026-09-28T12:00:00Z"),
                    refund_date=pd.Timestamp("2026-10-02T18:00:00Z")),
        return_line(ret="700000000000000010", po="5000002", return_date=pd.Timestamp("2026-09-28T12:00:00Z"),
                    refund_date=pd.NaT),  # no refund time reported: the return's own date
    ])
    notes = docs.credit_notes(returns, None, frame(OrderLine, ORIGINALS), CONFIG, "xero").documents
    days = notes.groupby("document_key")["document_date"].first().to_dict()
    assert days == {"WM-RET-700000000000000009": pd.Timestamp("2026-10-02"),
                    "WM-RET-700000000000000010": pd.Timestamp("2026-09-28")}
