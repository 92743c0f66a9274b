"""Settlement summaries split by month, total the payout, and reject a month together with its payment."""

from __future__ import annotations

import pandas as pd

from walmart_accounting.transform import documents as docs
from walmart_accounting.transform.reconcile import settlement_balance
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    assert_clean,
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
    assert ("tax of 1.23 USD for ship-to state OR: state is neither facilitator nor seller-remitted"
            in reasons[october])
    assert "missing shipping information" in reasons[october]
    assert set(result.documents["document_key"]) == {"WM-SET-20261002-10032026-S202609",
                                                     "WM-SET-20261002-10032026-P-S202609",
                                                     "WM-SET-20261002-10032026-XFER"}
