"""Purchase orders and their refund sections: official examples, the synthetic seller, malformed records."""

from __future__ import annotations

import copy
from decimal import Decimal

import pandas as pd

from walmart_accounting.sandbox.seller import DISCOUNT_CHARGE_NAME
from walmart_accounting.transform.validation import REJECT_COLUMNS
from walmart_accounting.transform.walmart import order_frames
from walmart_accounting_tests.transform.walmart.builders import assert_money_exact, by, example, make_order, ms, reasons


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


def test_an_order_without_shipping_information_is_rejected_at_ingestion_with_its_reason():
    no_shipping, no_state, fine = make_order("1"), make_order("2"), make_order("3")
    del no_shipping["shippingInfo"]
    del no_state["shippingInfo"]["postalAddress"]["state"]
    lines, _ = order_frames([no_shipping, no_state, fine])
    assert lines.valid["purchase_order_id"].tolist() == ["3"]
    why = reasons(lines.rejects)
    assert set(why) == {"1", "2"} and all("ship-to state" in why[po] for po in ("1", "2"))


def test_an_order_without_a_customer_name_or_postal_code_still_ingests():
    order = make_order("1")
    del order["shippingInfo"]["postalAddress"]["name"], order["shippingInfo"]["postalAddress"]["postalCode"]
    lines, _ = order_frames([order])
    line = lines.valid.iloc[0]
    assert lines.rejects.empty and pd.isna(line["customer_name"]) and pd.isna(line["ship_to_postal_code"])


def test_a_whole_cent_written_with_float_noise_is_that_cent_and_a_sub_cent_amount_is_refused():
    noisy, sub_cent = make_order("1", amount=Decimal("0.30000000000000004")), make_order("2", amount=Decimal("0.305"))
    lines, _ = order_frames([noisy, sub_cent])
    assert lines.valid["product_cents"].tolist() == [30]
    assert "decimals" in reasons(lines.rejects)["2"]


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
