"""Settlements: v1 report rows that add up, match the orders, withhold tax where Walmart collects it, carry fees."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from walmart_accounting.sandbox.seller import RECON_V1_COLUMNS
from walmart_accounting_tests.sandbox.seller.support import (
    AMOUNT,
    MDY,
    all_detail_rows,
    cents,
    detail_rows,
    line_of,
    parse_mdy,
    ship_date,
    status_of,
)


def test_total_payable_equals_the_sum_of_all_other_rows_to_the_cent(seller):
    assert len(seller.settlements) >= 2
    for settlement in seller.settlements:
        summary = settlement.rows[0]
        assert summary["Transaction Type"] == "PaymentSummary"
        assert summary["Amount"] == ""
        total = sum((Decimal(r["Amount"]) for r in detail_rows(settlement)), Decimal("0"))
        assert total == Decimal(summary["Total Payable"])
        assert cents(summary["Total Payable"]) == settlement.total_payable_cents
        assert all(r["Transaction Type"] != "PaymentSummary" for r in detail_rows(settlement))


def test_settlement_rows_look_like_a_v1_report(seller):
    previous_end = None
    for settlement in seller.settlements:
        assert settlement.period_end - settlement.period_start == timedelta(days=13)
        assert settlement.period_end.weekday() == 4  # Walmart cycles close on Fridays
        if previous_end is not None:
            assert settlement.period_start == previous_end + timedelta(days=1)
        previous_end = settlement.period_end
        assert settlement.report_date == (settlement.period_end + timedelta(days=1)).strftime("%m%d%Y")
        assert settlement.period_end < seller.end  # only closed cycles are reported
        summary = settlement.rows[0]
        assert parse_mdy(summary["Period Start Date"]) == settlement.period_start
        assert parse_mdy(summary["Period End Date"]) == settlement.period_end
        assert AMOUNT.match(summary["Total Payable"])
        for row in detail_rows(settlement):
            assert tuple(row) == RECON_V1_COLUMNS
            assert all(isinstance(v, str) for v in row.values())
            assert AMOUNT.match(row["Amount"]), row
            assert cents(row["Amount"]) != 0
            assert MDY.match(row["Transaction Posted Timestamp"])
            assert settlement.period_start <= parse_mdy(row["Transaction Posted Timestamp"]) <= settlement.period_end
            assert row["Transaction Key"].startswith(settlement.period_end.strftime("%Y_%m_%d_"))
            if row["Purchase Order #"] and row["Transaction Type"] in ("Sale", "Refund"):
                for column in ("Purchase Order line #", "Customer Order #", "Partner Item Id", "Partner GTIN",
                               "Ship to State", "Ship Qty", "Commission Rate", "Fulfillment Type"):
                    assert row[column], (column, row)
    keys = [(s.report_date, r["Transaction Key"]) for s, r in all_detail_rows(seller)]
    assert len({k for k in keys}) < len(keys)  # several rows share one transaction's key


def test_every_sale_product_price_row_matches_an_order_line_charge(seller):
    settled_item_prices = Counter()
    for _settlement, row in all_detail_rows(seller):
        if row["Transaction Type"] != "Sale" or row["Amount Type"] != "Product Price":
            continue
        order, line = line_of(seller, row["Purchase Order #"], row["Purchase Order line #"])
        assert status_of(line) in ("Shipped", "Delivered")
        assert row["Customer Order #"] == order["customerOrderId"]
        assert row["Partner Item Id"] == line["item"]["sku"]
        assert row["Ship Qty"] == line["orderLineQuantity"]["amount"]
        assert row["Ship to State"] == order["shippingInfo"]["postalAddress"]["state"]
        assert parse_mdy(row["Transaction Posted Timestamp"]) == ship_date(line)
        product_charges = [c for c in line["charges"]["charge"] if c["chargeType"] == "PRODUCT"]
        if row["Customer Promo Type"]:
            matches = [c for c in product_charges if c["chargeName"] == row["Customer Promo Type"]]
        else:
            matches = [c for c in product_charges if c["chargeName"] == "ItemPrice"]
        assert len(matches) == 1
        assert cents(matches[0]["chargeAmount"]["amount"]) == cents(row["Amount"])
        if not row["Customer Promo Type"]:
            settled_item_prices[(row["Purchase Order #"], row["Purchase Order line #"])] += 1

    last_end = seller.settlements[-1].period_end
    unsettled = 0
    for order in seller.orders:
        for line in order["orderLines"]["orderLine"]:
            key = (order["purchaseOrderId"], line["lineNumber"])
            if status_of(line) in ("Shipped", "Delivered") and ship_date(line) <= last_end:
                assert settled_item_prices[key] == 1, key
            else:
                assert settled_item_prices[key] == 0, key
                unsettled += status_of(line) in ("Shipped", "Delivered")
    assert unsettled > 0  # lines shipped after the last closed cycle wait for the next report


def test_cancelled_lines_are_not_charged_and_not_settled(seller):
    settled = {(r["Purchase Order #"], r["Purchase Order line #"]) for _, r in all_detail_rows(seller)}
    cancelled = 0
    for order in seller.orders:
        for line in order["orderLines"]["orderLine"]:
            if status_of(line) != "Cancelled":
                continue
            cancelled += 1
            assert line["orderLineStatuses"]["orderLineStatus"][0]["cancellationReason"]
            assert all(cents(c["chargeAmount"]["amount"]) == 0 for c in line["charges"]["charge"])
            assert (order["purchaseOrderId"], line["lineNumber"]) not in settled
    assert cancelled > 0


def test_tax_is_withheld_exactly_for_facilitator_states(seller, config):
    txns: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for settlement, row in all_detail_rows(seller):
        if row["Transaction Type"] in ("Sale", "Refund"):
            txns[(settlement.report_date, row["Transaction Key"])].append(row)
    seen = Counter()
    for rows in txns.values():
        state = rows[0]["Ship to State"]
        amounts = Counter()
        for row in rows:
            amounts[row["Amount Type"]] += cents(row["Amount"])
        types = {row["Amount Type"] for row in rows}
        for tax_type in ("Product tax", "Shipping tax"):
            withheld_type = f"{tax_type} withheld"
            if state in config.tax.facilitator_states:
                assert amounts[withheld_type] == -amounts[tax_type]
                seen["facilitator"] += amounts[tax_type] != 0
            else:
                assert withheld_type not in types
        if state in config.tax.seller_remitted_states:
            seen["seller_remitted"] += amounts["Product tax"] != 0
        elif state not in config.tax.facilitator_states:
            assert amounts["Product tax"] == 0 and amounts["Shipping tax"] == 0
            seen["zero_tax"] += 1
    # Walmart's list covers every taxed state the seller ships to: no tax is left for the seller to remit
    assert seen["facilitator"] and seen["zero_tax"] and not seen["seller_remitted"]


def test_fee_rows_map_to_configured_fee_types_and_the_reserve_is_released(seller, config):
    fee_rows = 0
    for _, row in all_detail_rows(seller):
        if row["Transaction Type"] in ("Service Fee", "Adjustment"):
            fee_rows += 1
            assert row["Amount Type"] in config.fee_types or row["Transaction Description"] in config.fee_types, row
        if row["Amount Type"].startswith("Commission"):
            assert row["Amount Type"] in config.fee_types
    assert fee_rows > 0
    descriptions = {r["Transaction Description"] for _, r in all_detail_rows(seller)}
    for needed in ("Walmart Shipping Label Service Charge", "WFS Fulfillment Fee", "Walmart Product Advertising"):
        assert needed in descriptions
    reserves = [(s, r) for s, r in all_detail_rows(seller) if r["Transaction Type"] == "Reserve"]
    releases = [(s, r) for s, r in all_detail_rows(seller) if r["Transaction Type"] == "Release Reserve"]
    assert len(reserves) == 1 and len(releases) == 1
    assert cents(reserves[0][1]["Amount"]) == -cents(releases[0][1]["Amount"]) < 0
    assert reserves[0][0].period_end < releases[0][0].period_end
