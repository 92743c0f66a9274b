"""Walmart ingestion transforms: official examples, the synthetic seller, and malformed records."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from walmart_accounting.sandbox.seller import DISCOUNT_CHARGE_NAME, SyntheticSeller
from walmart_accounting.schemas.walmart import InventorySnapshot, OrderLine, OrderRefund, ReturnLine, SettlementRow
from walmart_accounting.transform.validation import REJECT_COLUMNS
from walmart_accounting.transform.walmart import (
    customer_key,
    inventory_frame,
    order_frames,
    return_frame,
    return_order_map,
    settlement_frame,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "walmart" / "examples"
UTC = "UTC"


def example(name: str):
    return json.loads((EXAMPLES / name).read_text(), parse_float=Decimal)


def ms(value: int) -> pd.Timestamp:
    return pd.Timestamp(value, unit="ms", tz=UTC)


def assert_money_exact(frame: pd.DataFrame) -> None:
    money = [c for c in frame.columns if c.endswith("_cents")]
    assert money, "no money columns"
    for column in money:
        assert frame[column].dtype == "int64", f"{column} is {frame[column].dtype}"


def by(frame: pd.DataFrame, **where) -> pd.Series:
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, f"{where}: {len(rows)} rows"
    return rows.iloc[0]


def reasons(rejects: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rejects["record_key"], rejects["reason"], strict=True))


# --- minimal records for malformed-data tests ------------------------------------------------------


def make_order(po: str = "1000000000001", *, email: str = "ABC@relay.walmart.com", qty: str = "1",
               statuses: list[tuple[str, str]] | None = None, amount=Decimal("10.00"), tax=Decimal("0.80"),
               line_number: str = "1", extra_charges: list[dict] | None = None) -> dict:
    statuses = statuses or [("Shipped", qty)]
    entries = []
    for status, amount_ in statuses:
        entry = {"status": status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": amount_}}
        if status in ("Shipped", "Delivered"):
            entry["trackingInfo"] = {"shipDateTime": 1700000500000, "carrierName": {"carrier": "UPS"}}
        entries.append(entry)
    charges = [{"chargeType": "PRODUCT", "chargeName": "ItemPrice",
                "chargeAmount": {"currency": "USD", "amount": amount},
                "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": tax}}}]
    return {
        "purchaseOrderId": po,
        "customerOrderId": "2000000000001",
        "customerEmailId": email,
        "orderDate": 1700000000000,
        "shippingInfo": {"postalAddress": {"name": "Jane Doe", "state": "TX", "postalCode": "78701"}},
        "orderLines": {"orderLine": [{
            "lineNumber": line_number,
            "item": {"productName": "Thing", "sku": "SKU-1"},
            "charges": {"charge": charges + (extra_charges or [])},
            "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": qty},
            "statusDate": 1700000600000,
            "orderLineStatuses": {"orderLineStatus": entries},
        }]},
        "shipNode": {"type": "SellerFulfilled"},
    }


def make_return(return_id: str = "900000000000000001", **line_overrides) -> dict:
    line = {
        "returnOrderLineNumber": 1,
        "purchaseOrderId": "1000000000001",
        "purchaseOrderLineNumber": 1,
        "item": {"sku": "SKU-1"},
        "charges": [{"chargeCategory": "PRODUCT", "chargeName": "ItemPrice",
                     "chargePerUnit": {"currencyAmount": Decimal("10.00"), "currencyUnit": "USD"},
                     "tax": [{"taxName": "Tax1",
                              "taxPerUnit": {"currencyAmount": Decimal("0.80"), "currencyUnit": "USD"}}]}],
        "quantity": {"unitOfMeasure": "EACH", "measurementValue": 2},
        "currentRefundStatus": "REFUND_COMPLETED",
    }
    line.update(line_overrides)
    return {
        "returnOrderId": return_id,
        "customerEmailId": "abc@relay.walmart.com",
        "customerName": {"firstName": "Jane", "lastName": "Doe"},
        "customerOrderId": "2000000000001",
        "returnOrderDate": "2023-11-15T10:00:00.000+0000",
        "returnOrderLines": [line],
    }


RECON_COLUMNS = ["Period Start Date", "Period End Date", "Total Payable", "Currency", "Transaction Key",
                 "Transaction Posted Timestamp", "Transaction Type", "Transaction Description", "Purchase Order #",
                 "Purchase Order line #", "Amount", "Amount Type", "Ship Qty", "Partner Item Id"]


def recon_row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(RECON_COLUMNS, "")
    row.update(values)
    return row


def small_report() -> list[dict[str, str]]:
    return [
        recon_row(**{"Period Start Date": "11/01/2023", "Period End Date": "11/14/2023", "Total Payable": "8.50",
                     "Currency": "USD", "Transaction Posted Timestamp": "11/15/2023",
                     "Transaction Type": "PaymentSummary"}),
        recon_row(**{"Period Start Date": '""', "Period End Date": '""', "Currency": "USD", "Transaction Key": "K1",
                     "Transaction Posted Timestamp": "11/02/2023", "Transaction Type": "Sale",
                     "Purchase Order #": "1000000000001", "Purchase Order line #": "1", "Amount": "10.00",
                     "Amount Type": "Product Price", "Ship Qty": "1"}),
        recon_row(**{"Currency": "USD", "Transaction Key": "K1", "Transaction Posted Timestamp": "11/02/2023",
                     "Transaction Type": "Sale", "Purchase Order #": "1000000000001", "Purchase Order line #": "1",
                     "Amount": "-1.50", "Amount Type": "Commission on Product"}),
    ]


# --- official examples -----------------------------------------------------------------------------


def test_official_order_list_ingests_with_expected_values():
    orders = example("orders_get_all_orders_response.json")["list"]["elements"]["order"]
    lines, refunds = order_frames(orders)
    assert lines.rejects.empty and refunds.rejects.empty and refunds.valid.empty
    assert len(lines.valid) == len(orders) == 10
    shipped = by(lines.valid, purchase_order_id="3796050123784")
    assert (shipped["product_cents"], shipped["product_tax_cents"]) == (999, 85)
    assert (shipped["status"], shipped["shipped_quantity"], shipped["cancelled_quantity"]) == ("Shipped", 1, 0)
    assert shipped["ship_date"] == ms(1566933169000)
    assert shipped["order_date"] == ms(1566600846000)
    assert (shipped["ship_to_state"], shipped["ship_to_postal_code"]) == ("CA", "94133")
    assert shipped["customer_name"] == "Steffen Matt"
    cancelled = by(lines.valid, purchase_order_id="3796235970012")
    assert (cancelled["status"], cancelled["cancelled_quantity"], cancelled["shipped_quantity"]) == ("Cancelled", 1, 0)
    assert pd.isna(cancelled["ship_date"])
    no_tax = by(lines.valid, purchase_order_id="2792525175246")  # its charge has no tax key at all
    assert no_tax["product_tax_cents"] == 0
    created = by(lines.valid, purchase_order_id="1796277083022")
    assert (created["status"], created["line_number"], created["product_cents"]) == ("Created", "4", 1000)
    assert lines.valid["ship_node_type"].isna().all()  # the list example has no shipNode
    assert_money_exact(lines.valid)


def test_customer_key_is_stable_across_orders_of_one_customer():
    orders = example("orders_get_all_orders_response.json")["list"]["elements"]["order"]
    valid = order_frames(orders)[0].valid
    email = "630083BD274E4FB2968D3166C8336151@relay.walmart.com"
    same = valid[valid["customer_email"] == email]
    assert len(same) == 4 and same["customer_key"].nunique() == 1
    assert same["customer_key"].iloc[0] == "WMC-" + hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    assert valid["customer_key"].nunique() == valid["customer_email"].nunique()
    assert customer_key(email.lower()) == customer_key(f"  {email}  ")


def test_official_single_order_wrapper_ingests():
    lines, refunds = order_frames([example("orders_get_one_order_shipped_response.json")])
    assert lines.rejects.empty and refunds.valid.empty
    line = by(lines.valid, purchase_order_id="1815367951431")
    assert (line["product_cents"], line["product_tax_cents"], line["shipping_cents"]) == (500, 34, 0)
    assert (line["ship_node_type"], line["status"], line["sku"]) == ("SellerFulfilled", "Shipped", "YHY-FN25200B2")
    assert line["ship_date"] == ms(1623835855000)


def test_official_refund_section_becomes_negative_refund():
    order = example("orders_refund_response_with_refund_section.json")["order"]
    lines, refunds = order_frames([order])
    assert lines.rejects.empty and refunds.rejects.empty
    line = by(lines.valid, purchase_order_id="2577573191435")
    assert (line["product_cents"], line["shipping_cents"], line["status"]) == (1999, 200, "Shipped")
    refund = by(refunds.valid, purchase_order_id="2577573191435")
    assert (refund["product_cents"], refund["shipping_cents"], refund["product_tax_cents"]) == (-1999, -200, 0)
    assert refund["refund_reason"] == "BillingError"
    assert refund["refund_id"] == "2577573191435-1-1"  # the example has no refundId: a deterministic one
    assert refund["line_number"] == "1" and refund["sku"] == "NJ_WITHOUT_RCA_003"
    assert order_frames([order])[1].valid["refund_id"].tolist() == ["2577573191435-1-1"]
    assert_money_exact(refunds.valid)


def test_official_attributes_example_positive_refund_is_normalised_negative():
    order = example("orders_get_one_order_with_attributes_response.json")["order"]
    lines, refunds = order_frames([order])
    assert lines.rejects.empty and refunds.rejects.empty
    line = by(lines.valid, purchase_order_id="1796277083022")
    # Created, with trackingInfo that means nothing yet: not shipped, no ship date.
    assert (line["status"], line["shipped_quantity"], line["ship_node_type"]) == ("Created", 0, "3PLFulfilled")
    assert pd.isna(line["ship_date"])
    refund = by(refunds.valid, refund_id="123")
    assert (refund["product_cents"], refund["product_tax_cents"]) == (-79800, -79800)
    assert refund["refund_reason"] == "INCORRECT_ITEM_RECEIVED"


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


def test_official_multinode_inventory_ingests():
    inventories = example("inventories_multinode_get_all_response.json")["elements"]["inventories"]
    frame = inventory_frame(date(2026, 1, 5), inventories)
    assert frame.rejects.empty and len(frame.valid) == 3
    node = by(frame.valid, sku="AI-IGH4-5509", ship_node="100009")
    assert (node["available_quantity"], node["reserved_quantity"]) == (433, 3)
    out = by(frame.valid, sku="06397309545443")
    assert (out["available_quantity"], out["reserved_quantity"]) == (0, 5)
    assert (frame.valid["snapshot_date"] == pd.Timestamp("2026-01-05")).all()
    typed = inventory_frame(date(2026, 1, 5), inventories, ship_node_types={"100009": "SellerFulfilled"}).valid
    assert typed.loc[typed["ship_node"] == "100009", "ship_node_type"].eq("SellerFulfilled").all()


# --- the synthetic seller --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seller() -> SyntheticSeller:
    return SyntheticSeller(seed=7)


@pytest.fixture(scope="module")
def seller_frames(seller):
    lines, refunds = order_frames(seller.orders)
    returns = return_frame(seller.returns)
    return lines, refunds, returns


def test_seller_orders_ingest_without_rejects_and_match_charges(seller, seller_frames):
    lines, refunds, _ = seller_frames
    assert lines.rejects.empty and refunds.rejects.empty
    raw_lines = [line for order in seller.orders for line in order["orderLines"]["orderLine"]]
    assert len(lines.valid) == len(raw_lines)
    product = [c for line in raw_lines for c in line["charges"]["charge"] if c["chargeType"] == "PRODUCT"]
    cents = lambda charges: int(sum(c["chargeAmount"]["amount"] for c in charges) * 100)  # noqa: E731
    discounts = [c for c in product if c["chargeName"] == DISCOUNT_CHARGE_NAME]
    assert discounts, "the seed should give some subscription discounts"
    valid = lines.valid
    assert int(valid["product_cents"].sum() + valid["discount_cents"].sum()) == cents(product)
    assert int(valid["product_cents"].sum()) == cents([c for c in product if c not in discounts])
    assert int(valid["discount_cents"].sum()) == cents(discounts) < 0
    shipping = [c for line in raw_lines for c in line["charges"]["charge"] if c["chargeType"] == "SHIPPING"]
    assert int(valid["shipping_cents"].sum()) == cents(shipping)
    assert set(valid["status"]) <= {"Created", "Acknowledged", "Shipped", "Delivered", "Cancelled"}
    assert (valid.loc[valid["status"].isin(["Shipped", "Delivered"]), "ship_date"].notna()).all()
    assert_money_exact(valid)


def test_seller_customer_keys_are_stable(seller_frames):
    lines, _, returns = seller_frames
    valid = lines.valid
    per_email = valid.groupby("customer_email")["customer_key"].nunique()
    assert (per_email == 1).all() and valid["customer_key"].nunique() == len(per_email)
    assert valid["customer_email"].duplicated().any()  # repeat customers exist
    keys = valid.drop_duplicates("purchase_order_id").set_index("purchase_order_id")["customer_key"]
    assert (returns.valid["customer_key"] == returns.valid["purchase_order_id"].map(keys)).all()


def test_seller_refunds_and_returns_agree(seller, seller_frames):
    _, refunds, returns = seller_frames
    assert returns.rejects.empty
    assert len(returns.valid) == sum(len(r["returnOrderLines"]) for r in seller.returns)
    refunded_lines = [line for o in seller.orders for line in o["orderLines"]["orderLine"] if "refund" in line]
    assert len(refunds.valid) == len(refunded_lines) > 0
    money = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents"]
    assert (refunds.valid[money] <= 0).all().all()
    done = returns.valid[returns.valid["refunded"]]
    assert len(done) == len(refunds.valid)
    joined = done.merge(refunds.valid, left_on=["purchase_order_id", "purchase_order_line_number", "return_order_id"],
                        right_on=["purchase_order_id", "line_number", "return_order_id"], suffixes=("_ret", "_ord"))
    assert len(joined) == len(done)
    for column in ("product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents"):
        assert (joined[f"{column}_ret"] == -joined[f"{column}_ord"]).all(), column
    assert_money_exact(returns.valid)


def test_seller_settlements_tie_out_and_carry_return_ids(seller, seller_frames):
    _, refunds, returns = seller_frames
    mapping = return_order_map(refunds.valid, returns.valid)
    assert seller.settlements
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
        assert refunds_here["return_order_id"].notna().all()
        assert valid.loc[valid["transaction_type"] != "Refund", "return_order_id"].isna().all()
        refund_rows += len(refunds_here)
        assert_money_exact(valid)
    assert refund_rows > 0


# --- malformed records -----------------------------------------------------------------------------


def test_malformed_orders_are_rejected_and_the_rest_go_on():
    good = make_order("1000000000001")
    no_po = make_order("x")
    del no_po["purchaseOrderId"]
    no_lines = make_order("1000000000007")
    del no_lines["orderLines"]
    batch = [
        good,
        no_po,
        make_order("1000000000002", qty="abc"),
        make_order("1000000000003", qty="-1", statuses=[("Shipped", "1")]),
        make_order("1000000000004", statuses=[("Teleported", "1")]),
        make_order("1000000000005", amount=Decimal("10.005")),
        make_order("1000000000006", amount=9.99),  # a float: never money
        no_lines,
        "not an order",
    ]
    lines, refunds = order_frames(batch)
    assert lines.valid["purchase_order_id"].tolist() == ["1000000000001"]
    found = reasons(lines.rejects)
    assert "purchaseOrderId" in found["orders[1]"]
    assert "orderLineQuantity" in found["1000000000002"] and "'abc'" in found["1000000000002"]
    assert "orderLineQuantity" in found["1000000000003"] and "-1" in found["1000000000003"]
    assert "status" in found["1000000000004"] and "Teleported" in found["1000000000004"]
    assert "chargeAmount" in found["1000000000005"] and "decimals" in found["1000000000005"]
    assert "float" in found["1000000000006"]
    assert "orderLines" in found["1000000000007"]
    assert "orders[8]" in found
    assert len(lines.rejects) == len(batch) - 1
    assert list(lines.rejects.columns) == REJECT_COLUMNS
    assert lines.rejects.set_index("record_key").loc["1000000000002", "record"] is batch[2]  # the raw record
    assert refunds.valid.empty and refunds.rejects.empty


def test_a_rejected_line_takes_its_whole_purchase_order_with_it():
    order = make_order("1000000000001")
    second = copy.deepcopy(order["orderLines"]["orderLine"][0])
    second["lineNumber"] = "2"
    second["charges"]["charge"].append({"chargeType": "SHIPPING", "chargeName": "Shipping",
                                        "chargeAmount": {"currency": "USD", "amount": Decimal("-3.00")}})
    order["orderLines"]["orderLine"].append(second)
    lines, _ = order_frames([order, make_order("1000000000009")])
    assert lines.valid["purchase_order_id"].tolist() == ["1000000000009"]
    found = reasons(lines.rejects)
    assert "shipping_cents" in found["1000000000001:2"]
    assert "another line" in found["1000000000001:1"]


def test_line_status_rules():
    mixed = make_order("1", qty="3", statuses=[("Shipped", "1"), ("Cancelled", "1"), ("Acknowledged", "1")])
    delivered = make_order("2", qty="2", statuses=[("Delivered", "1"), ("Shipped", "1")])
    all_cancelled = make_order("3", qty="2", statuses=[("Cancelled", "1"), ("Cancelled", "1")])
    acknowledged = make_order("4", qty="1", statuses=[("Acknowledged", "1")])
    acknowledged["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"] = {
        "shipDateTime": 1700000500000}
    too_many = make_order("5", qty="1", statuses=[("Shipped", "1"), ("Cancelled", "1")])
    lines, _ = order_frames([mixed, delivered, all_cancelled, acknowledged, too_many])
    valid = lines.valid.set_index("purchase_order_id")
    assert tuple(valid.loc["1", ["status", "shipped_quantity", "cancelled_quantity"]]) == ("Shipped", 1, 1)
    assert tuple(valid.loc["2", ["status", "shipped_quantity", "cancelled_quantity"]]) == ("Delivered", 2, 0)
    assert tuple(valid.loc["3", ["status", "shipped_quantity", "cancelled_quantity"]]) == ("Cancelled", 0, 2)
    assert valid.loc["1", "ship_date"] == ms(1700000500000)
    assert valid.loc["4", "status"] == "Acknowledged" and pd.isna(valid.loc["4", "ship_date"])
    # shipped + cancelled above the ordered quantity is refused by the model
    assert "quantities_add_up" in reasons(lines.rejects)["5:1"]


def test_ship_date_falls_back_to_status_date_without_tracking():
    order = make_order("1")
    del order["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]
    line = order_frames([order])[0].valid.iloc[0]
    assert line["ship_date"] == ms(1700000600000)


def test_discounts_are_negative_whatever_the_sign_and_null_tax_is_zero():
    positive_discount = {"chargeType": "PRODUCT", "chargeName": "SubscriptionDiscount",
                         "chargeAmount": {"currency": "USD", "amount": Decimal("1.00")},
                         "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": Decimal("0.08")}}}
    shipping_null_tax = {"chargeType": "SHIPPING", "chargeName": "Shipping",
                         "chargeAmount": {"currency": "USD", "amount": Decimal("4.99")}, "tax": None}
    order = make_order("1", extra_charges=[positive_discount, shipping_null_tax])
    line = order_frames([order])[0].valid.iloc[0]
    assert (line["product_cents"], line["product_tax_cents"]) == (1000, 80)
    assert (line["discount_cents"], line["discount_tax_cents"]) == (-100, -8)
    assert (line["shipping_cents"], line["shipping_tax_cents"]) == (499, 0)


def test_duplicate_purchase_order_in_a_batch_is_kept_once():
    first, again = make_order("1", amount=Decimal("10.00")), make_order("1", amount=Decimal("12.00"))
    lines, _ = order_frames([first, again])
    assert lines.valid["product_cents"].tolist() == [1200] and lines.rejects.empty


def test_missing_shipping_info_gives_nulls_not_a_reject():
    order = make_order("1")
    del order["shippingInfo"]
    lines, _ = order_frames([order])
    line = lines.valid.iloc[0]
    assert lines.rejects.empty
    assert pd.isna(line["customer_name"]) and pd.isna(line["ship_to_state"]) and pd.isna(line["ship_to_postal_code"])


def test_missing_email_gets_an_order_based_key():
    order = make_order("1")
    del order["customerEmailId"]
    line = order_frames([order])[0].valid.iloc[0]
    assert line["customer_key"].startswith("WMC-") and pd.isna(line["customer_email"])


def test_bad_refund_is_rejected_alone():
    order = make_order("1")
    order["orderLines"]["orderLine"][0]["refund"] = {"refundId": "R1", "refundCharges": {"refundCharge": [
        {"refundReason": "DamagedItem", "charge": {"chargeType": "PRODUCT", "chargeName": "ItemPrice",
                                                   "chargeAmount": {"currency": "USD", "amount": Decimal("-1.234")}}}]}}
    lines, refunds = order_frames([order])
    assert len(lines.valid) == 1 and refunds.valid.empty
    assert "decimals" in reasons(refunds.rejects)["1:1:refund 1"]


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


def test_malformed_inventory_is_rejected_and_the_rest_go_on():
    inventories = [
        {"sku": "A", "nodes": [{"shipNode": "1", "availToSellQty": {"unit": "EACH", "amount": 5},
                                "reservedQty": {"unit": "EACH", "amount": 1}},
                               {"shipNode": "2", "availToSellQty": {"unit": "EACH", "amount": "x"}}]},
        {"sku": "B"},
        {"nodes": [{"shipNode": "1", "availToSellQty": {"amount": 1}}]},
        {"sku": "C", "nodes": [{"shipNode": "1", "availToSellQty": {"amount": -2}}]},
    ]
    frame = inventory_frame(date(2026, 1, 5), inventories)
    columns = ["sku", "ship_node", "available_quantity", "reserved_quantity"]
    assert frame.valid[columns].values.tolist() == [["A", "1", 5, 1]]
    found = reasons(frame.rejects)
    assert "availToSellQty" in found["A:2"] and "nodes" in found["B"] and "sku" in found["inventories[2]"]
    assert "availToSellQty" in found["C:1"] and "-2" in found["C:1"]


# --- empty inputs and the map ----------------------------------------------------------------------


def test_empty_inputs_give_empty_frames_with_schema_columns_and_int_money():
    lines, refunds = order_frames([])
    cases = [
        (lines.valid, OrderLine), (refunds.valid, OrderRefund), (return_frame([]).valid, ReturnLine),
        (settlement_frame("11152023", []).valid, SettlementRow),
        (inventory_frame(date(2026, 1, 5), []).valid, InventorySnapshot),
    ]
    for frame, model in cases:
        assert frame.empty
        assert list(frame.columns) == list(model.to_schema().columns), model.__name__
        if model is not InventorySnapshot:
            assert_money_exact(frame)
    assert str(lines.valid["order_date"].dtype) == "datetime64[ns, UTC]"
    assert list(lines.rejects.columns) == REJECT_COLUMNS


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
