"""Daily sales keep every cent of the order lines, refunds and fees, with fees allocated exactly."""

from __future__ import annotations

import pandas as pd
import pytest

from walmart_accounting.reports import DAILY_SALES_COLUMNS, daily_sales
from walmart_accounting.schemas.walmart import OrderLine, OrderRefund
from walmart_accounting.transform.documents.settlements import classify_settlement_rows
from walmart_accounting_tests.transform.documents.builders import CONFIG, frame, order_line, refund_row
from walmart_accounting_tests.transform.documents.test_synthetic_seller import _seller_frames

CENTS = [c for c in DAILY_SALES_COLUMNS if c.endswith("_cents")]


@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_daily_sales_sum_to_the_order_lines_refunds_and_fees(seed):
    lines, refunds, _, settlements = _seller_frames(seed)
    rows = pd.concat(settlements, ignore_index=True)
    out = daily_sales(lines, refunds, rows, config=CONFIG)
    assert list(out.columns) == DAILY_SALES_COLUMNS
    assert all(str(out[c].dtype) == "int64" for c in [*CENTS, "units", "shipped_units", "refund_lines"])
    assert not out.duplicated(["day", "sku", "ship_to_state"]).any()
    assert int(out["gross_sales_cents"].sum()) == int(lines["product_cents"].sum())
    assert int(out["shipping_cents"].sum()) == int(lines["shipping_cents"].sum())
    assert int(out["discount_cents"].sum()) == int(lines["discount_cents"].sum())
    assert int(out["tax_cents"].sum()) == int(lines[["product_tax_cents", "shipping_tax_cents", "discount_tax_cents"]].sum().sum())
    assert int(out["units"].sum()) == int((lines["quantity"] - lines["cancelled_quantity"]).sum())
    assert int(out["refund_cents"].sum()) == int(refunds[["product_cents", "shipping_cents"]].sum().sum())
    assert int(out["refund_tax_cents"].sum()) == int(refunds[["product_tax_cents", "shipping_tax_cents"]].sum().sum())
    assert int(out["refund_lines"].sum()) == len(refunds)
    classified = classify_settlement_rows(rows, CONFIG)
    fees = classified[classified["kind"] == "fee"]
    assert int(out["fees_cents"].sum()) == int(fees["amount_cents"].sum())  # exactly, no cent lost
    # a fee naming an order line (every commission does, WFS and label fees may) goes to that line
    known = set(zip(lines["purchase_order_id"], lines["line_number"], strict=True))
    named = pd.Series([(p, n) in known for p, n in zip(fees["purchase_order_id"], fees["purchase_order_line"], strict=True)],
                      index=fees.index)
    assert named[fees["fee_type"] == "commission"].all()
    assert int(out["line_fees_cents"].sum()) == int(fees.loc[named, "amount_cents"].sum())
    assert int(out["allocated_fees_cents"].sum()) == int(fees.loc[~named, "amount_cents"].sum()) != 0
    assert out["ship_to_state"].str.fullmatch(r"[A-Z]{2}").all()
    # already classified rows give the same answer without the config
    pd.testing.assert_frame_equal(daily_sales(lines, refunds, classified), out)


def test_fees_go_to_their_line_or_pro_rata_by_gross_sales():
    lines = frame(OrderLine, [
        order_line("1000001", "1", sku="A", ship_to_state="CA", product_cents=1000),
        order_line("1000002", "1", sku="B", ship_to_state="tx", product_cents=2000,
                   order_date=pd.Timestamp("2026-09-09T23:30:00Z")),
    ])
    refunds = frame(OrderRefund, [refund_row("1000002", "1", sku="B", product_cents=-500, product_tax_cents=-40)])
    fees = pd.DataFrame({"amount_cents": [-150, -100], "purchase_order_id": ["1000001", None],
                         "purchase_order_line": ["1", None]})
    out = daily_sales(lines, refunds, fees).set_index("sku")
    assert out.loc["A", "line_fees_cents"] == -150 and out.loc["B", "line_fees_cents"] == 0
    assert out["allocated_fees_cents"].to_dict() == {"A": -33, "B": -67}  # 1:2 by gross sales, summing to -100
    assert out["fees_cents"].sum() == -250
    assert out.loc["B", "ship_to_state"] == "TX" and out.loc["B", "day"] == pd.Timestamp("2026-09-09")
    assert (out.loc["B", "refund_cents"], out.loc["B", "refund_tax_cents"]) == (-500, -40)


def test_settlement_rows_without_config_are_refused():
    lines, refunds, _, settlements = _seller_frames(1)
    with pytest.raises(ValueError, match="config="):
        daily_sales(lines, refunds, settlements[0])


def test_no_fees_and_no_refunds():
    lines = frame(OrderLine, [order_line()])
    out = daily_sales(lines, None, None)
    assert len(out) == 1 and out["fees_cents"].tolist() == [0] and out["gross_sales_cents"].tolist() == [2499]
