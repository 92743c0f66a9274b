"""Return orders and the return id map: official example, the synthetic seller, malformed records."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from walmart_accounting.transform.walmart import customer_key, return_frame, return_order_map
from walmart_accounting_tests.transform.walmart.builders import UTC, assert_money_exact, by, example, make_return, reasons


def test_official_returns_example_ingests():
    returns = example("returns_get_returns_response.json")["returnOrders"]
    frame = return_frame(returns)
    assert frame.rejects.empty
    line = by(frame.valid, return_order_id="103738048909818825")
    assert line["quantity"] == 3
    assert (line["product_cents"], line["product_tax_cents"]) == (3 * 11995, 3 * 750)
    assert (line["shipping_cents"], line["fee_cents"]) == (0, 0)
    assert (line["purchase_order_id"], line["purchase_order_line_number"], line["return_line_number"]) == (
        "4790210558890", "1", "1")
    # Only 1 of 3 units is refunded: the line is not refunded yet.
    assert line["refund_status"] == "REFUND_INITIATED" and not line["refunded"]
    assert line["return_date"] == pd.Timestamp("2019-02-21T01:01:08", tz=UTC)
    assert (line["customer_name"], line["sku"]) == ("Jane Doe", "ANTL_GDL-0700")
    assert line["customer_key"] == customer_key("emailID123456@relay.walmart.com")
    assert_money_exact(frame.valid)


def test_seller_refunds_and_returns_agree(seller, seller_frames):
    _, refunds, returns = seller_frames
    assert returns.rejects.empty
    assert len(returns.valid) == sum(len(r["returnOrderLines"]) for r in seller.returns)
    refunded_lines = [line for o in seller.orders for line in o["orderLines"]["orderLine"] if "refund" in line]
    assert len(refunds.valid) == len(refunded_lines) > 0
    money = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents"]
    assert (refunds.valid[money] <= 0).all().all()
    # some refunds were issued on the order with no return (price adjustments, goodwill)
    of_returns = refunds.valid[refunds.valid["return_order_id"].notna()]
    assert 0 < len(of_returns) < len(refunds.valid)
    done = returns.valid[returns.valid["refunded"]]
    assert len(done) == len(of_returns)
    joined = done.merge(of_returns, left_on=["purchase_order_id", "purchase_order_line_number", "return_order_id"],
                        right_on=["purchase_order_id", "line_number", "return_order_id"], suffixes=("_ret", "_ord"))
    assert len(joined) == len(done)
    for column in ("product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents"):
        assert (joined[f"{column}_ret"] == -joined[f"{column}_ord"]).all(), column
    assert_money_exact(returns.valid)


def test_malformed_returns_are_rejected_and_the_rest_go_on():
    fee = {"chargeCategory": "FEE", "chargeName": "RestockingFee",
           "chargePerUnit": {"currencyAmount": Decimal("-1.50"), "currencyUnit": "USD"}}
    good = make_return("900000000000000001")
    with_fee = make_return("900000000000000002", charges=make_return()["returnOrderLines"][0]["charges"] + [fee])
    by_tracking = make_return("900000000000000003", currentRefundStatus=None, currentTrackingStatuses=[
        {"status": "COMPLETED", "currentRefundStatus": "REFUND_COMPLETED", "quantity": {"measurementValue": 2}}])
    batch = [
        good, with_fee, by_tracking,
        make_return("900000000000000004", quantity={"measurementValue": "abc"}),
        make_return("900000000000000005", charges=[{"chargeCategory": "PRODUCT", "chargePerUnit": {
            "currencyAmount": Decimal("1.001"), "currencyUnit": "USD"}}]),
        {**make_return("900000000000000006"), "returnOrderDate": "yesterday"},
        {k: v for k, v in make_return("900000000000000007").items() if k != "returnOrderLines"},
    ]
    frame = return_frame(batch)
    valid = frame.valid.set_index("return_order_id")
    assert sorted(valid.index) == ["900000000000000001", "900000000000000002", "900000000000000003"]
    assert tuple(valid.loc["900000000000000001", ["product_cents", "product_tax_cents", "fee_cents"]]) == (2000, 160, 0)
    assert valid.loc["900000000000000002", "fee_cents"] == 300
    assert valid.loc["900000000000000003", "refunded"]
    assert valid.loc["900000000000000003", "refund_status"] == "REFUND_COMPLETED"
    assert valid.loc["900000000000000001", "return_date"] == pd.Timestamp("2023-11-15T10:00", tz=UTC)
    found = reasons(frame.rejects)
    assert "measurementValue" in found["900000000000000004"]
    assert "decimals" in found["900000000000000005"]
    assert "returnOrderDate" in found["900000000000000006"]
    assert "returnOrderLines" in found["900000000000000007"]


def test_return_order_map_from_both_sources():
    refunds = pd.DataFrame({"purchase_order_id": ["P1", "P2"], "line_number": ["1", "1"],
                            "return_order_id": ["R-ORDER", None]})
    returns = pd.DataFrame({"purchase_order_id": ["P1", "P3"], "purchase_order_line_number": ["1", "2"],
                            "return_order_id": ["R-OTHER", "R3"],
                            "return_date": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)})
    assert return_order_map(refunds, returns) == {("P1", "1"): "R-ORDER", ("P3", "2"): "R3"}
    empty_refunds = pd.DataFrame(columns=["purchase_order_id", "line_number", "return_order_id"])
    assert return_order_map(empty_refunds, returns.iloc[0:0]) == {}
    assert return_order_map(empty_refunds, returns) == {("P1", "1"): "R-OTHER", ("P3", "2"): "R3"}


def test_a_return_lines_refund_time_is_when_walmart_completed_the_refund():
    completed = make_return("900000000000000011", currentTrackingStatuses=[
        {"status": "INITIATED", "statusTime": "2023-11-15T10:00:00.000Z", "currentRefundStatus": "REFUND_PENDING",
         "quantity": {"measurementValue": 2}},
        {"status": "COMPLETED", "statusTime": "2023-11-22T16:30:00.000Z", "currentRefundStatus": "REFUND_COMPLETED",
         "quantity": {"measurementValue": 2}}])
    by_event = make_return("900000000000000012", returnTrackingDetail=[
        {"eventTag": "RETURN_INITIATED", "eventTime": "2023-11-15T10:00:00.000Z"},
        {"eventTag": "REFUND_COMPLETED", "eventTime": "2023-11-20T09:00:00.000Z"}])
    pending = make_return("900000000000000013", currentRefundStatus="REFUND_PENDING")
    frame = return_frame([completed, by_event, pending]).valid.set_index("return_order_id")
    assert frame.loc["900000000000000011", "refund_date"] == pd.Timestamp("2023-11-22T16:30:00Z")
    assert frame.loc["900000000000000012", "refund_date"] == pd.Timestamp("2023-11-20T09:00:00Z")
    assert pd.isna(frame.loc["900000000000000013", "refund_date"])
