"""Per settlement, payments less the fee bill equal the payout and the transfer; unknown fees reject the bill only."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walmart_accounting.schemas.walmart import OrderRefund
from walmart_accounting.transform import documents as docs
from walmart_accounting.transform.reconcile import settlement_balance
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    assert_clean,
    frame,
    refund_row,
    sample_rows,
    settlement,
    settlement_identity,
    srow,
    summary_invoices_total,
)


def test_settlement_documents_payments_fee_bill_and_transfer():
    rows = settlement(sample_rows())
    result = docs.settlement_documents(rows, CONFIG, "xero")
    assert_clean(result)
    assert result.rejects.empty
    out = result.documents
    by_key = dict(tuple(out.groupby("document_key")))
    root = "WM-SET-20260918-09192026"
    pay = by_key[f"{root}-P-6000001"]
    assert pay["amount_cents"].tolist() == [2499 - 250 + 199 + 599]
    assert pay["related_key"].tolist() == ["WM-6000001"] and pay["account"].tolist() == ["1250"]
    assert pay["category"].tolist() == ["payment"] and pay["settlement_key"].tolist() == [root]
    assert (pay["document_date"] == pd.Timestamp("2026-09-10")).all()
    assert by_key[f"{root}-P-6000002"]["amount_cents"].tolist() == [1115]
    refund = by_key[f"{root}-P-RET-700000000000000001"]
    assert refund["amount_cents"].tolist() == [-2499 - 221]
    assert refund["related_key"].tolist() == ["WM-RET-700000000000000001"]
    assert refund["document_kind"].tolist() == ["payment"] and refund["category"].tolist() == ["refund"]
    bill = by_key[f"{root}-FEES"].set_index("description")
    assert bill.loc["Walmart commission", "amount_cents"] == 337 + 90 + 150 - 375
    assert bill.loc["Walmart commission", "account"] == "6000"
    assert bill.loc["WFS return shipping", "amount_cents"] == 525  # the description beats the amount type
    assert bill.loc["WFS fulfillment fees", "amount_cents"] == -1680  # a reimbursement is a negative cost
    assert bill.loc["Walmart shipping labels", "amount_cents"] == 480
    assert bill.loc["Walmart advertising", "account"] == "6030"
    assert bill.loc["Marketplace facilitator tax withheld", "amount_cents"] == 199 - 221
    assert bill.loc["Marketplace facilitator tax withheld", "account"] == "2250"
    assert bill.loc["Walmart adjustments and dispute settlements", "account"] == "6090"
    assert bill.loc["Walmart reserve held (released when negative)", "amount_cents"] == 5000
    assert bill["contact_key"].eq("WALMART-FEES").all()
    transfer = by_key[f"{root}-XFER"].iloc[0]
    payout = int(rows.loc[rows["transaction_type"] == "PaymentSummary", "amount_cents"].iloc[0])
    assert (transfer["amount_cents"], transfer["account"], transfer["counter_account"]) == (payout, "1000", "1250")
    assert settlement_balance(out, rows).ties_out


def test_unknown_fee_type_rejects_the_fee_bill_only():
    rows = settlement(sample_rows() + [srow("Adjustment", -999, "Mystery Amount", "Mystery Fee")])
    result = docs.settlement_documents(rows, CONFIG, "xero")
    assert_clean(result)
    kinds = set(result.documents["document_kind"])
    assert kinds == {"payment", "transfer"}
    [reject] = result.rejects.to_dict("records")
    assert reject["record_key"] == "WM-SET-20260918-09192026-FEES"
    assert "unmapped fee type" in reject["reason"] and "'Mystery Fee'" in reject["reason"]
    assert "'Mystery Amount'" in reject["reason"] and "-9.99 USD" in reject["reason"]
    assert any(r["amount_type"] == "Mystery Amount" for r in reject["record"]["rows"])


def test_refund_without_return_order_is_derived_or_rejected():
    rows = settlement([
        srow("Refund", -1000, "Product Price", "Refund", po="5000003", line="1", state="OR"),
        srow("Sale", 1000, "Product Price", "Purchase", po="5000003", line="1", state="OR"),
    ])
    result = docs.settlement_documents(rows, CONFIG, "xero")
    assert not (result.documents["category"] == "refund").any()
    [reject] = result.rejects.to_dict("records")
    assert "no return order id" in reject["reason"] and "PO 5000003 line 1" in reject["reason"]
    refunds = frame(OrderRefund, [refund_row(po="5000003", refund_id="R-B")])
    derived = docs.settlement_documents(rows, CONFIG, "xero", order_refunds=refunds)
    assert derived.rejects.empty
    refund = derived.documents[derived.documents["category"] == "refund"]
    assert refund["related_key"].tolist() == ["WM-RFD-5000003-R-B"]
    assert refund["amount_cents"].tolist() == [-1000]
    settlement_identity(derived.documents, rows)


# hypothesis settlements: random rows of every kind, the PaymentSummary being their sum
ROW_KINDS = [
    ("Sale", "Product Price", "Purchase"), ("Sale", "Product tax", "Purchase"),
    ("Sale", "Product tax withheld", "Purchase"), ("Sale", "Shipping Price", "Purchase"),
    ("Sale", "Shipping tax", "Purchase"), ("Sale", "Shipping tax withheld", "Purchase"),
    ("Sale", "Commission on Product", "Purchase"), ("Sale", "Commission on Shipping", "Purchase"),
    ("Refund", "Product Price", "Return Refund"), ("Refund", "Product tax", "Return Refund"),
    ("Refund", "Commission on Product", "Return Refund"), ("Refund", "Product tax withheld", "Return Refund"),
    ("Adjustment", "WFS Fee/Reimbursement", "WFS Fulfillment Fee"),
    ("Adjustment", "Fee/Reimbursement", "Walmart Shipping Label Service Charge"),
    ("Service Fee", "WFS Inventory Fee/Reimbursement", "WFS Storage Fee"),
    ("Service Fee", "SEM Marketing Fee", "Walmart Product Advertising"),
    ("Dispute Settlement", None, "Chargeback"), ("Reserve", None, "Funds withheld"),
    ("Release Reserve", None, "Reserve credited back"),
]


@st.composite
def settlement_frames(draw):
    rows = []
    for _ in range(draw(st.integers(1, 25))):
        ttype, amount_type, description = draw(st.sampled_from(ROW_KINDS))
        po = draw(st.sampled_from(["7000001", "7000002", "7000003"]))
        state = draw(st.sampled_from(["CA", "TX", "PR"]))
        rows.append(srow(ttype, draw(st.integers(-50_000, 50_000)), amount_type, description,
                         po=po if ttype in ("Sale", "Refund", "Adjustment") else None, line="1", state=state,
                         ret="80000" + po if ttype == "Refund" else None,
                         posted=draw(st.sampled_from(["2026-09-25", "2026-09-30", "2026-10-01", "2026-10-02"])),
                         report="10032026", end="2026-10-02"))
    return settlement(rows, report="10032026", end="2026-10-02")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settlement_frames())
def test_property_settlement_ties_out(rows):
    result = docs.settlement_documents(rows, CONFIG, "xero")
    assert_clean(result)
    assert result.rejects.empty
    settlement_identity(result.documents, rows)
    assert settlement_balance(result.documents, rows).ties_out
    summary = docs.settlement_summary(rows, CONFIG, "exact")
    assert_clean(summary)
    assert summary.rejects.empty
    balance = settlement_balance(summary.documents, rows)
    assert balance.ties_out and summary_invoices_total(summary.documents) == balance.payout_cents
