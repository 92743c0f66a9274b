"""Settlement summaries split by month, total the payout, and reject a month together with its payment."""

from __future__ import annotations

import pandas as pd

from walmart_accounting.domain.config import load_default_config
from walmart_accounting.transform import documents as docs
from walmart_accounting.transform.reconcile import facilitator_balance, settlement_balance
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    assert_clean,
    make_config,
    sample_rows,
    settlement,
    srow,
    totals,
)


def test_summary_splits_by_month_and_totals_the_payout():
    rows = settlement(sample_rows("10032026", "2026-10-02") + [
        srow("Sale", 3000, "Product Price", "Purchase", po="6000009", line="1", state="TX", posted="2026-10-01"),
        srow("Sale", 246, "Product tax", "Purchase", po="6000009", line="1", state="TX", posted="2026-10-01"),
        srow("Sale", -246, "Product tax withheld", "Purchase", po="6000009", line="1", state="TX", posted="2026-10-01"),
    ], report="10032026", end="2026-10-02")
    result = docs.settlement_summary(rows, CONFIG, "exact")
    assert_clean(result)
    assert result.rejects.empty
    out = result.documents
    invoices = out[out["document_kind"] == "sales_invoice"]
    assert set(invoices["document_key"]) == {"WM-SET-20261002-10032026-S202609", "WM-SET-20261002-10032026-S202610"}
    assert invoices["contact_key"].eq("WALMART-MKT").all()
    payout = int(rows.loc[rows["transaction_type"] == "PaymentSummary", "amount_cents"].iloc[0])
    assert int((invoices["amount_cents"] + invoices["tax_cents"]).sum()) == payout
    october = invoices[invoices["document_key"].str.endswith("S202610")]
    assert totals(october).iloc[0] == 3000 and (october["document_date"] == pd.Timestamp("2026-10-01")).all()
    september = invoices[invoices["document_key"].str.endswith("S202609")].set_index("description")
    assert september.loc["Walmart product sales (seller-remitted tax PR)", "tax_cents"] == 115
    assert september.loc["Walmart product sales (seller-remitted tax PR)", "tax_code"] == "PR"
    assert september.loc["Walmart commission", "amount_cents"] == -(337 + 90 + 150 - 375)
    assert september.loc["Walmart reserve held / released", "amount_cents"] == -5000
    fac = september[september["account"] == "1650"]
    assert fac["amount_cents"].sum() == 0  # collected - refunded - withheld: the facilitator account nets out
    payments = out[out["document_kind"] == "payment"]
    assert sorted(payments["related_key"]) == sorted(set(invoices["document_key"]))
    assert payments["account"].eq("1250").all()
    assert settlement_balance(out, rows).ties_out


def test_summary_rejects_a_month_with_unmapped_tax_with_its_payment():
    rows = settlement(sample_rows("10032026", "2026-10-02") + [
        srow("Sale", 3000, "Product Price", "Purchase", po="6000010", line="1", state="OR", posted="2026-10-01"),
        srow("Sale", 123, "Product tax", "Purchase", po="6000010", line="1", state="OR", posted="2026-10-01"),
        srow("Sale", 50, "Product tax", "Purchase", po="6000011", line="1", state=None, posted="2026-10-01"),
    ], report="10032026", end="2026-10-02")
    result = docs.settlement_summary(rows, CONFIG, "exact")
    assert_clean(result)
    reasons = dict(zip(result.rejects["record_key"], result.rejects["reason"], strict=True))
    october = "WM-SET-20261002-10032026-S202610"
    assert set(reasons) == {october, "WM-SET-20261002-10032026-P-S202610"}
    assert ("tax of 1.23 USD on PO 6000010 (ship-to state OR) was paid out by Walmart, not withheld"
            in reasons[october]) and "no seller-remitted tax code for OR" in reasons[october]
    assert "tax of 0.50 USD on PO 6000011 (no ship-to state: missing shipping information)" in reasons[october]
    assert set(result.documents["document_key"]) == {"WM-SET-20261002-10032026-S202609",
                                                     "WM-SET-20261002-10032026-P-S202609",
                                                     "WM-SET-20261002-10032026-XFER"}


def _puerto_rico_withheld(report="10032026", end="2026-10-02"):
    # Walmart collects and remits Puerto Rico's tax (since 1 Oct 2020): the report withholds it.
    return settlement([
        srow("Sale", 1000, "Product Price", "Purchase", po="6000020", line="1", state="PR", posted="2026-10-01"),
        srow("Sale", 115, "Product tax", "Purchase", po="6000020", line="1", state="PR", posted="2026-10-01"),
        srow("Sale", -115, "Product tax withheld", "Purchase", po="6000020", line="1", state="PR", posted="2026-10-01"),
    ], report=report, end=end)


def test_the_settlement_decides_who_remits_and_a_disagreeing_mapping_is_named():
    rows = _puerto_rico_withheld()
    # The tests' mapping calls PR seller-remitted; the settlement shows Walmart withheld it.
    result = docs.settlement_summary(rows, CONFIG, "xero")
    assert result.rejects.empty
    invoice = result.documents[result.documents["document_kind"] == "sales_invoice"]
    assert invoice["tax_cents"].sum() == 0  # no output tax booked: it is not the seller's
    fac = invoice[invoice["account"] == CONFIG.ledger("xero").accounts.facilitator_tax]
    assert sorted(fac["amount_cents"]) == [-115, 115]  # collected, then withheld: the account nets to zero
    balance = facilitator_balance(result.documents, rows, CONFIG)
    assert balance.booked_cents + balance.withheld_cents == 0
    assert not balance.nets_to_zero  # ... and the disagreement is a named finding, never silent
    [finding] = balance.findings.to_dict("records")
    assert (finding["purchase_order_id"], finding["ship_to_state"]) == ("6000020", "PR")
    assert (finding["configured"], finding["settlement_shows"], finding["tax_cents"]) == ("seller", "facilitator", 115)


def test_the_default_mapping_treats_puerto_rico_as_facilitator_and_its_settlement_nets_to_zero():
    default = load_default_config()
    assert "PR" in default.tax.facilitator_states and "PR" not in default.tax.seller_remitted_states
    rows = _puerto_rico_withheld()
    for ledger in ("xero", "exact"):
        result = docs.settlement_summary(rows, default, ledger)
        assert result.rejects.empty
        balance = facilitator_balance(result.documents, rows, default)
        assert balance.nets_to_zero and balance.findings.empty, balance.as_metadata()


def test_tax_walmart_paid_out_in_a_facilitator_state_is_the_sellers_and_needs_its_code():
    rows = settlement([
        srow("Sale", 1000, "Product Price", "Purchase", po="6000021", line="1", state="TX", posted="2026-10-01"),
        srow("Sale", 82, "Product tax", "Purchase", po="6000021", line="1", state="TX", posted="2026-10-01"),
    ], report="10032026", end="2026-10-02")
    result = docs.settlement_summary(rows, CONFIG, "xero")
    reasons = dict(zip(result.rejects["record_key"], result.rejects["reason"], strict=True))
    assert "paid out by Walmart, not withheld" in reasons["WM-SET-20261002-10032026-S202610"]
    assert "no seller-remitted tax code for TX" in reasons["WM-SET-20261002-10032026-S202610"]
    with_code = make_config(lambda d: d["ledgers"]["xero"]["tax_codes"]["seller_remitted"].update(TX="TAX002"))
    booked = docs.settlement_summary(rows, with_code, "xero")
    assert booked.rejects.empty
    sales = booked.documents[booked.documents["category"] == "product"]
    assert sales["tax_cents"].tolist() == [82] and sales["tax_code"].tolist() == ["TAX002"]
    [finding] = facilitator_balance(booked.documents, rows, with_code).findings.to_dict("records")
    assert (finding["configured"], finding["settlement_shows"]) == ("facilitator", "seller")


def test_summary_sales_go_to_each_skus_account_and_cost_center():
    def mapping(d):
        d["ledgers"]["exact"]["skus"]["items"] = {"WM-SKU-0002": {"account": "8001", "cost_center": "WM-HOME"}}

    config = make_config(mapping)
    rows = [
        srow("Sale", 2000, "Product Price", "Purchase", po="6000050", line="1", state="TX", posted="2026-10-01"),
        srow("Sale", 500, "Shipping Price", "Purchase", po="6000050", line="1", state="TX", posted="2026-10-01"),
        srow("Sale", 3000, "Product Price", "Purchase", po="6000051", line="1", state="TX", posted="2026-10-01"),
        srow("Refund", -3000, "Product Price", "Refund", po="6000051", line="1", state="TX", posted="2026-10-01"),
    ]
    for row, sku in zip(rows, ["WM-SKU-0001", "WM-SKU-0001", "WM-SKU-0002", "WM-SKU-0002"], strict=True):
        row["sku"] = sku
    frame = settlement(rows, report="10032026", end="2026-10-02")
    result = docs.settlement_summary(frame, config, "exact")
    assert result.rejects.empty
    lines = result.documents[result.documents["document_kind"] == "sales_invoice"]
    got = {(r.category, r.account, r.cost_center): r.amount_cents for r in lines.itertuples()}
    default = config.ledger("exact")
    assert got == {
        ("product", default.accounts.sales, default.skus.default.cost_center): 2000,
        ("product", "8001", "WM-HOME"): 3000,  # the SKU's own revenue account and cost center
        ("shipping", default.accounts.shipping, default.skus.default.cost_center): 500,
        ("refund", default.accounts.refunds, "WM-HOME"): -3000,
    }
    assert settlement_balance(result.documents, frame).ties_out
    strict = make_config(lambda d: (mapping(d), d["ledgers"]["exact"]["skus"].update(allow_default=False)))
    refused = docs.settlement_summary(frame, strict, "exact")
    assert "WM-SKU-0001" in " ".join(refused.rejects["reason"])  # an unmapped SKU is refused, never guessed
