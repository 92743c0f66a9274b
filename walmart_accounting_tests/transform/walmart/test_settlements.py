"""Reconciliation report rows: parsed by name, tied out to the payout, malformed rows rejected alone."""

from __future__ import annotations

import pandas as pd

from walmart_accounting.schemas.walmart import SettlementRow
from walmart_accounting.transform.walmart import return_order_map, settlement_frame
from walmart_accounting_tests.transform.walmart.builders import assert_money_exact, reasons, recon_row, small_report


def test_seller_settlements_tie_out_and_carry_return_ids(seller, seller_frames):
    _, refunds, returns = seller_frames
    mapping = return_order_map(refunds.valid, returns.valid)
    assert seller.settlements
    without_return = set(zip(refunds.valid.loc[refunds.valid["return_order_id"].isna(), "purchase_order_id"],
                              refunds.valid.loc[refunds.valid["return_order_id"].isna(), "line_number"], strict=True))
    assert without_return
    refund_rows = 0
    for settlement in seller.settlements:
        frame = settlement_frame(settlement.report_date, settlement.rows, mapping)
        assert frame.rejects.empty
        valid = frame.valid
        assert len(valid) == len(settlement.rows)
        summary = valid["transaction_type"] == "PaymentSummary"
        assert summary.sum() == 1
        payout = int(valid.loc[summary, "amount_cents"].iloc[0])
        assert payout == settlement.total_payable_cents
        assert int(valid.loc[~summary, "amount_cents"].sum()) == payout
        assert (valid["period_start"] == pd.Timestamp(settlement.period_start)).all()
        assert (valid["period_end"] == pd.Timestamp(settlement.period_end)).all()
        assert valid["row_number"].tolist() == list(range(len(settlement.rows)))
        refunds_here = valid[valid["transaction_type"] == "Refund"]
        order_refund = pd.Series([(p, n) in without_return for p, n in zip(
            refunds_here["purchase_order_id"], refunds_here["purchase_order_line"], strict=True)], index=refunds_here.index,
            dtype=bool)
        assert refunds_here.loc[~order_refund, "return_order_id"].notna().all()
        assert refunds_here.loc[order_refund, "return_order_id"].isna().all()
        assert valid.loc[valid["transaction_type"] != "Refund", "return_order_id"].isna().all()
        refund_rows += len(refunds_here)
        assert_money_exact(valid)
    assert refund_rows > 0


def test_malformed_settlement_rows_are_rejected_and_the_rest_go_on():
    rows = small_report()
    rows.append(recon_row(**{"Currency": "USD", "Transaction Posted Timestamp": "11/03/2023",
                             "Transaction Type": "Teleport Fee", "Amount": "-1.00"}))
    rows.append(recon_row(**{"Currency": "USD", "Transaction Posted Timestamp": "11/03/2023",
                             "Transaction Type": "Service Fee", "Amount": "12.345"}))
    frame = settlement_frame("11152023", rows)
    assert frame.valid["row_number"].tolist() == [0, 1, 2]
    found = reasons(frame.rejects)
    assert "Transaction Type" in found["11152023:3"] and "Teleport Fee" in found["11152023:3"]
    assert "Amount" in found["11152023:4"] and "12.345" in found["11152023:4"]
    assert frame.rejects.set_index("record_key").loc["11152023:4", "record"] is rows[4]


def test_settlement_rows_parse_by_name_with_summary_period():
    rows = small_report()
    rows = [{"Extra Column": "x", **{k: v for k, v in row.items() if k != "Ship Qty"}} for row in rows]
    rows[1]["Ship Qty"] = "1"
    rows = [dict(reversed(list(row.items()))) for row in rows]  # column order does not matter
    frame = settlement_frame("11152023", rows, {("1000000000001", "1"): "RET-1"})
    assert frame.rejects.empty
    valid = frame.valid
    assert (valid["period_start"] == pd.Timestamp("2023-11-01")).all()
    assert (valid["period_end"] == pd.Timestamp("2023-11-14")).all()
    assert valid["amount_cents"].tolist() == [850, 1000, -150]
    assert valid["ship_qty"].tolist()[1] == 1 and pd.isna(valid["ship_qty"].iloc[2])
    assert valid["return_order_id"].isna().all()  # only Refund rows take a return id
    assert valid["posted_date"].iloc[1] == pd.Timestamp("2023-11-02")
    assert valid["report_date"].eq("11152023").all()
    assert int(valid["amount_cents"].iloc[1:].sum()) == int(valid["amount_cents"].iloc[0])


def test_settlement_refund_rows_take_their_return_order_id():
    rows = small_report()
    rows[0]["Total Payable"] = "-2.00"
    rows[1].update({"Transaction Type": "Refund", "Amount": "-10.00"})
    rows[2].update({"Transaction Type": "Refund", "Amount": "8.00", "Purchase Order line #": "2"})
    valid = settlement_frame("11152023", rows, {("1000000000001", "1"): "RET-1"}).valid
    assert valid["return_order_id"].tolist()[1:] == ["RET-1", None]


def test_settlement_without_summary_rejects_every_row():
    frame = settlement_frame("11152023", small_report()[1:])
    assert frame.valid.empty and len(frame.rejects) == 2
    assert all("PaymentSummary" in r for r in frame.rejects["reason"])
    assert list(frame.valid.columns) == list(SettlementRow.to_schema().columns)
