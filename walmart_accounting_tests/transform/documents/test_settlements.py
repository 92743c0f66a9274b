"""Per settlement, payments less the fee bill equal the payout and the transfer; unknown fees reject the bill only."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walmart_accounting.domain.config import load_default_config
from walmart_accounting.schemas.walmart import OrderLine, OrderRefund
from walmart_accounting.transform import documents as docs
from walmart_accounting.transform.reconcile import facilitator_balance, settlement_balance, suspense_rows
from walmart_accounting.transform.walmart import refunds_without_return, settled_order_refunds
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    REPORT,
    assert_clean,
    frame,
    make_config,
    order_line,
    refund_row,
    sample_rows,
    settlement,
    settlement_identity,
    srow,
    summary_invoices_total,
    totals,
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
    # Walmart reimbursing lost inventory is its own line (a negative cost), not netted into a WFS fee
    reimbursed = bill.loc["Walmart reimbursements (lost or damaged inventory)"]
    assert (reimbursed["amount_cents"], reimbursed["category"], reimbursed["account"]) == (-1680, "reimbursement", "6090")
    assert "WFS fulfillment fees" not in bill.index
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


@pytest.mark.parametrize("ledger", ["xero", "exact"])
def test_a_refund_issued_on_the_order_is_credited_and_paid_by_the_settlement_that_pays_it(ledger):
    # A price adjustment on PO 5000004 (no return): Walmart's Refund rows in this report, the order's refund
    # section read through walmart_order_refunds, dated when Walmart posted it.
    rows = settlement([
        srow("Sale", 2000, "Product Price", "Purchase", po="5000004", line="1", state="TX", posted="2026-09-06"),
        srow("Sale", 165, "Product tax", "Purchase", po="5000004", line="1", state="TX", posted="2026-09-06"),
        srow("Sale", -165, "Product tax withheld", "Purchase", po="5000004", line="1", state="TX", posted="2026-09-06"),
        srow("Refund", -500, "Product Price", "Refund", po="5000004", line="1", state="TX", posted="2026-09-12"),
        srow("Refund", -41, "Product tax", "Refund", po="5000004", line="1", state="TX", posted="2026-09-12"),
        srow("Refund", 41, "Product tax withheld", "Refund", po="5000004", line="1", state="TX", posted="2026-09-12"),
    ])
    refunds = settled_order_refunds(frame(OrderRefund, [refund_row(po="5000004", refund_id="R-ADJ", product_cents=-500,
                                                                   product_tax_cents=-41)]), rows)
    ordered = frame(OrderLine, [order_line(po="5000004", product_cents=2000, product_tax_cents=165, ship_to_state="TX")])
    result = docs.settlement_documents(rows, CONFIG, ledger, refunds, ordered)
    assert_clean(result)
    assert result.rejects.empty
    documents = result.documents
    note = documents[documents["document_key"] == "WM-RFD-5000004-R-ADJ"]
    assert set(note["document_kind"]) == {"credit_note"} and set(note["related_key"]) == {"WM-5000004"}
    assert (note["document_date"] == pd.Timestamp("2026-09-12")).all()  # when Walmart posted the refund
    assert totals(note)["WM-RFD-5000004-R-ADJ"] == 541  # price and the facilitator tax given back
    paid = documents[documents["category"] == "refund"]
    assert paid["related_key"].tolist() == ["WM-RFD-5000004-R-ADJ"] and paid["amount_cents"].tolist() == [-541]
    settlement_identity(documents, rows)


def test_the_refunds_a_report_pays_without_a_return_name_their_orders_and_their_posting_day():
    rows = settlement([
        srow("Refund", -500, "Product Price", "Refund", po="5000004", line="1", posted="2026-09-12"),
        srow("Refund", -700, "Product Price", "Return Refund", po="5000005", line="2", ret="900000000000000009"),
        srow("Sale", 900, "Product Price", "Purchase", po="5000006", line="1"),
    ])
    assert refunds_without_return(rows) == ["5000004"]
    refunds = frame(OrderRefund, [refund_row(po="5000004", refund_id="R-ADJ"), refund_row(po="5000006", refund_id="R-X")])
    settled = settled_order_refunds(refunds, rows)
    assert settled["refund_id"].tolist() == ["R-ADJ"]  # 5000006 has no refund in this report
    assert settled["refund_date"].tolist() == [pd.Timestamp("2026-09-12")]  # a calendar day, as the report gives it
    assert settled["report_date"].tolist() == [REPORT]


# hypothesis settlements: random rows of every kind, the PaymentSummary being their sum
ROW_KINDS = [
    ("Sale", "Product Price", "Purchase"), ("Sale", "Product tax", "Purchase"),
    ("Sale", "Shipping Price", "Purchase"), ("Sale", "Shipping tax", "Purchase"),
    ("Sale", "Commission on Product", "Purchase"), ("Sale", "Commission on Shipping", "Purchase"),
    ("Refund", "Product Price", "Return Refund"), ("Refund", "Product tax", "Return Refund"),
    ("Refund", "Commission on Product", "Return Refund"),
    ("Adjustment", "WFS Fee/Reimbursement", "WFS Fulfillment Fee"),
    ("Adjustment", "Fee/Reimbursement", "Walmart Shipping Label Service Charge"),
    ("Service Fee", "WFS Inventory Fee/Reimbursement", "WFS Storage Fee"),
    ("Service Fee", "SEM Marketing Fee", "Walmart Product Advertising"),
    ("Dispute Settlement", None, "Chargeback"), ("Reserve", None, "Funds withheld"),
    ("Release Reserve", None, "Reserve credited back"),
]


@st.composite
def settlement_frames(draw):
    rows, withholds = [], {}
    for _ in range(draw(st.integers(1, 25))):
        ttype, amount_type, description = draw(st.sampled_from(ROW_KINDS))
        po = draw(st.sampled_from(["7000001", "7000002", "7000003"]))
        state = draw(st.sampled_from(["CA", "TX", "PR"]))
        amount = draw(st.integers(-50_000, 50_000))
        rows.append(srow(ttype, amount, amount_type, description,
                         po=po if ttype in ("Sale", "Refund", "Adjustment") else None, line="1", state=state,
                         ret="80000" + po if ttype == "Refund" else None,
                         posted=draw(st.sampled_from(["2026-09-25", "2026-09-30", "2026-10-01", "2026-10-02"])),
                         report="10032026", end="2026-10-02"))
        if amount_type and amount_type.endswith("tax") and withholds.setdefault((po, ttype, amount_type), draw(st.booleans())):
            # Walmart withholds this tax of this order back (facilitator tax): all of it, every time
            rows.append({**rows[-1], "amount_type": amount_type + " withheld", "amount_cents": -amount})
    return settlement(rows, report="10032026", end="2026-10-02")


# Tax Walmart pays out is the seller's: the property's seller has a code for it in every state.
ANY_STATE_CODES = make_config(lambda d: d["ledgers"]["exact"]["tax_codes"]["seller_remitted"].update(default="PR"))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settlement_frames())
def test_property_settlement_ties_out(rows):
    result = docs.settlement_documents(rows, CONFIG, "xero")
    assert_clean(result)
    assert result.rejects.empty
    settlement_identity(result.documents, rows)
    assert settlement_balance(result.documents, rows).ties_out
    summary = docs.settlement_summary(rows, ANY_STATE_CODES, "exact")
    assert_clean(summary)
    assert summary.rejects.empty
    balance = settlement_balance(summary.documents, rows)
    assert balance.ties_out and summary_invoices_total(summary.documents) == balance.payout_cents
    fac = facilitator_balance(summary.documents, rows, ANY_STATE_CODES)
    assert fac.booked_cents + fac.withheld_cents == 0  # the settlement judged: the facilitator account nets out


def test_per_order_facilitator_account_nets_to_zero_only_when_mapping_and_settlement_agree():
    rows = settlement([
        srow("Sale", 1000, "Product Price", "Purchase", po="6000020", line="1", state="PR"),
        srow("Sale", 115, "Product tax", "Purchase", po="6000020", line="1", state="PR"),
        srow("Sale", -115, "Product tax withheld", "Purchase", po="6000020", line="1", state="PR"),
    ])
    # Mapped as seller-remitted (the old default), the invoice booked PR's tax as output tax, while the fee
    # bill's withheld line debits the facilitator account: tax paid twice, and the check says where.
    documents = docs.settlement_documents(rows, CONFIG, "xero").documents
    balance = facilitator_balance(documents, rows, CONFIG)
    assert (balance.booked_cents, balance.withheld_cents) == (0, -115) and not balance.nets_to_zero
    assert balance.findings[["purchase_order_id", "configured", "settlement_shows"]].values.tolist() == [
        ["6000020", "seller", "facilitator"]]
    default = load_default_config()
    fixed = facilitator_balance(docs.settlement_documents(rows, default, "xero").documents, rows, default)
    assert fixed.nets_to_zero and (fixed.booked_cents, fixed.withheld_cents) == (115, -115)


def test_per_order_fee_bills_are_split_by_the_month_the_fees_were_posted_in():
    rows = settlement([
        srow("Sale", 5000, "Product Price", "Purchase", po="6000040", line="1", state="TX", posted="2026-09-28"),
        srow("Sale", -750, "Commission on Product", "Purchase", po="6000040", line="1", state="TX", posted="2026-09-28"),
        srow("Service Fee", -2000, "SEM Marketing Fee", "Walmart Product Advertising", posted="2026-09-30"),
        srow("Sale", 3000, "Product Price", "Purchase", po="6000041", line="1", state="TX", posted="2026-10-01"),
        srow("Sale", -450, "Commission on Product", "Purchase", po="6000041", line="1", state="TX", posted="2026-10-01"),
    ], report="10032026", end="2026-10-02")
    result = docs.settlement_documents(rows, CONFIG, "xero")
    assert_clean(result)
    assert result.rejects.empty
    bills = result.documents[result.documents["document_kind"] == "fee_bill"]
    by_key = bills.groupby("document_key").agg(total=("amount_cents", "sum"), day=("document_date", "max"))
    assert by_key.to_dict("index") == {
        "WM-SET-20261002-10032026-FEES": {"total": 450, "day": pd.Timestamp("2026-10-02")},
        "WM-SET-20261002-10032026-FEES-202609": {"total": 2750, "day": pd.Timestamp("2026-09-30")},
    }
    settlement_identity(result.documents, rows)


def _real_amount_types():
    return settlement([
        srow("Sale", 4000, "Product Price", "Purchase", po="6000060", line="1", state="TX"),
        srow("Sale", -500, "Promo Code", "Purchase", po="6000060", line="1", state="TX"),
        srow("Sale", 300, "Total Walmart Funded Savings", "Purchase", po="6000060", line="1", state="TX"),
        srow("Sale", -600, "Commission on Product", "Purchase", po="6000060", line="1", state="TX"),
        srow("Adjustment", 1680, "WFS Fee/Reimbursement", "WFS LostInventory"),
        srow("Service Fee", -2500, "Ocean freight and related services", "Inbound freight"),
        srow("Adjustment", -125, "Mystery Amount", "Something new from Walmart"),
    ])


@pytest.mark.parametrize("mode", ["per_order", "settlement_summary"])
def test_promotions_funded_savings_and_reimbursements_are_booked_as_what_they_are(mode):
    rows = _real_amount_types()
    result = (docs.settlement_documents(rows, CONFIG, "xero") if mode == "per_order"
              else docs.settlement_summary(rows, CONFIG, "xero"))
    # the one unknown type still stops its document by default: never booked to a guessed account
    reasons = " ".join(result.rejects["reason"])  # (summary mode: the month's payment goes with its invoice)
    assert "'Mystery Amount'" in reasons and "Promo Code" not in reasons
    assert "Ocean freight" not in reasons and "LostInventory" not in reasons
    suspense = make_config(lambda d: (d.update(unmapped_amount_types="suspense"),
                                      d["ledgers"]["xero"]["accounts"].update(suspense="9999"),
                                      d["ledgers"]["exact"]["accounts"].update(suspense="9999")))
    result = (docs.settlement_documents(rows, suspense, "xero") if mode == "per_order"
              else docs.settlement_summary(rows, suspense, "xero"))
    assert_clean(result)
    assert result.rejects.empty
    accounts = suspense.ledger("xero").accounts
    lines = result.documents.set_index("category")
    sign = 1 if mode == "per_order" else -1  # the fee bill is a cost; the summary keeps the settlement's signs
    assert (lines.loc["promotion", "account"], lines.loc["promotion", "amount_cents"]) == (accounts.discounts, 500 * sign)
    assert (lines.loc["funded_savings", "account"], lines.loc["funded_savings", "amount_cents"]) == (
        accounts.sales, -300 * sign)
    assert (lines.loc["reimbursement", "account"], lines.loc["reimbursement", "amount_cents"]) == (
        accounts.adjustments, -1680 * sign)
    assert (lines.loc["suspense", "account"], lines.loc["suspense", "amount_cents"]) == ("9999", 125 * sign)
    assert settlement_balance(result.documents, rows).ties_out
    parked = suspense_rows(rows, suspense)
    assert parked[["amount_type", "amount"]].values.tolist() == [["Mystery Amount", "-1.25"]]
    assert suspense_rows(rows, CONFIG).empty  # with reject, nothing is parked (the document is dead-lettered)
