"""The synthetic seller is ground truth for the emulator and end-to-end tests: its data must be repeatable and add up."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from walmart_accounting.domain.config import load_default_config
from walmart_accounting.sandbox.seller import (
    RECON_V1_COLUMNS,
    Settlement,
    SyntheticSeller,
    gtin_check_digit,
    is_valid_gtin,
)

UTC = timezone.utc
AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
MDY = re.compile(r"^\d{2}/\d{2}/\d{4}$")
CUSTOMER_FACING = ("Product Price", "Product tax", "Shipping Price", "Shipping tax")


@pytest.fixture(scope="module")
def seller() -> SyntheticSeller:
    return SyntheticSeller()


@pytest.fixture(scope="module")
def config():
    return load_default_config()


def cents(value) -> int:
    """Exact minor units of a Decimal or an amount string; refuses anything with sub-cent digits."""
    scaled = Decimal(value).scaleb(2)
    assert scaled == scaled.to_integral_value(), value
    return int(scaled)


def detail_rows(settlement: Settlement) -> list[dict[str, str]]:
    return settlement.rows[1:]


def all_detail_rows(seller: SyntheticSeller):
    for settlement in seller.settlements:
        for row in detail_rows(settlement):
            yield settlement, row


def line_of(seller: SyntheticSeller, po_id: str, line_number: str) -> tuple[dict, dict]:
    order = seller.order(po_id)
    assert order is not None, po_id
    lines = [ln for ln in order["orderLines"]["orderLine"] if ln["lineNumber"] == line_number]
    assert len(lines) == 1, (po_id, line_number)
    return order, lines[0]


def status_of(line: dict) -> str:
    return line["orderLineStatuses"]["orderLineStatus"][0]["status"]


def ship_date(line: dict) -> date:
    ms = line["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]["shipDateTime"]
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).date()


def parse_mdy(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def walk(value, path="$"):
    yield path, value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + f".{key}", key
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]")


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_data_and_another_seed_differs(seller):
    again = SyntheticSeller(seed=7)
    assert again.orders == seller.orders
    assert again.returns == seller.returns
    assert again.settlements == seller.settlements
    assert again.inventory == seller.inventory
    assert again.skus == seller.skus

    other = SyntheticSeller(seed=8)
    assert other.orders != seller.orders
    assert {o["purchaseOrderId"] for o in other.orders}.isdisjoint({o["purchaseOrderId"] for o in seller.orders})
    assert other.settlements != seller.settlements
    assert other.returns != seller.returns


# --- settlements ---------------------------------------------------------------------------------


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
    for settlement, row in all_detail_rows(seller):
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


def test_every_settled_refund_matches_its_return_and_the_order_refund(seller):
    refund_rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for _, row in all_detail_rows(seller):
        if row["Transaction Type"] == "Refund":
            refund_rows[(row["Purchase Order #"], row["Purchase Order line #"])].append(row)
    last_end = seller.settlements[-1].period_end
    expected = set()
    for ret in seller.returns:
        refunded_at = seller.return_refunded_at(ret["returnOrderId"])
        total = 0
        for rline in ret["returnOrderLines"]:
            totals = {t["name"]: cents(t["value"]["currencyAmount"]) for t in rline["chargeTotals"]}
            total += totals["lineTotal"]
            key = (rline["purchaseOrderId"], str(rline["purchaseOrderLineNumber"]))
            order, line = line_of(seller, *key)
            assert order["customerOrderId"] == ret["customerOrderId"]
            assert order["customerEmailId"] == ret["customerEmailId"]
            assert line["item"]["sku"] == rline["item"]["sku"]
            assert rline["quantity"]["measurementValue"] <= int(line["orderLineQuantity"]["amount"])
            if refunded_at is None:
                assert rline["status"] != "COMPLETED" and rline["refundedQty"] == 0
                assert "refund" not in line
                assert key not in refund_rows
                continue
            assert rline["status"] == "COMPLETED"
            assert rline["refundedQty"] == rline["quantity"]["measurementValue"]
            # The order shows the same refund, as negative charges.
            charges = [rc["charge"] for rc in line["refund"]["refundCharges"]["refundCharge"]]
            on_order = sum(
                cents(c["chargeAmount"]["amount"]) + (cents(c["tax"]["taxAmount"]["amount"]) if "tax" in c else 0)
                for c in charges
            )
            assert on_order == -totals["lineTotal"]
            assert line["returnOrderId"] == ret["returnOrderId"]
            if refunded_at.date() > last_end:
                assert key not in refund_rows
                continue
            expected.add(key)
            rows = refund_rows[key]
            assert rows, key
            assert {parse_mdy(r["Transaction Posted Timestamp"]) for r in rows} == {refunded_at.date()}
            assert {r["Ship Qty"] for r in rows} == {str(rline["quantity"]["measurementValue"])}
            by_type = Counter()
            for row in rows:
                by_type[row["Amount Type"]] += cents(row["Amount"])
            assert -(by_type["Product Price"] + by_type["Shipping Price"]) == totals["lineSubTotal"]
            assert -(by_type["Product tax"] + by_type["Shipping tax"]) == totals["lineTotalTaxes"]
            assert -sum(by_type[t] for t in CUSTOMER_FACING) == totals["lineTotal"]
            assert by_type["Commission on Product"] > 0
        assert cents(ret["totalRefundAmount"]["currencyAmount"]) == total
    assert expected and set(refund_rows) == expected


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
    assert seen["facilitator"] and seen["seller_remitted"] and seen["zero_tax"]


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


# --- orders and returns --------------------------------------------------------------------------


def test_order_and_return_ids_are_unique(seller):
    po_ids = [o["purchaseOrderId"] for o in seller.orders]
    assert len(po_ids) == len(set(po_ids))
    assert all(re.fullmatch(r"\d{13}", p) for p in po_ids)
    return_ids = [r["returnOrderId"] for r in seller.returns]
    assert len(return_ids) == len(set(return_ids))
    assert seller.order(po_ids[0]) is seller.orders[0]
    assert seller.order("0000000000000") is None


def test_orders_have_the_walmart_shape(seller):
    dates = [o["orderDate"] for o in seller.orders]
    assert dates == sorted(dates)
    for order in seller.orders:
        assert isinstance(order["orderDate"], int)
        assert order["customerEmailId"].endswith("@relay.walmart.com")
        postal = order["shippingInfo"]["postalAddress"]
        assert postal["country"] == "USA" and postal["state"] and postal["postalCode"]
        assert order["shipNode"]["id"] in seller.ship_nodes
        numbers = [ln["lineNumber"] for ln in order["orderLines"]["orderLine"]]
        assert numbers == [str(i) for i in range(1, len(numbers) + 1)]
        for line in order["orderLines"]["orderLine"]:
            assert line["orderLineQuantity"]["amount"].isdigit()
            for charge in line["charges"]["charge"]:
                assert charge["chargeAmount"]["currency"] == "USD"
                amount = charge["chargeAmount"]["amount"]
                assert isinstance(amount, Decimal) and amount.as_tuple().exponent == -2
        modified = seller.order_last_modified(order["purchaseOrderId"])
        assert modified.tzinfo is not None
        assert order["orderDate"] <= (modified - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
        assert modified <= seller.as_of


def test_orders_created_between_is_start_inclusive_end_exclusive(seller):
    pivot = seller.orders[len(seller.orders) // 2]
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=pivot["orderDate"])
    after = seller.orders_created_between(moment, seller.as_of)
    before = seller.orders_created_between(datetime.combine(seller.start, datetime.min.time()), moment)
    assert pivot in after and pivot not in before
    assert len(after) + len(before) == len(seller.orders)
    naive = seller.orders_created_between(moment.replace(tzinfo=None), seller.as_of.replace(tzinfo=None))
    assert naive == after


def test_the_data_has_the_mix_a_real_seller_has(seller, config):
    lines = [(o, ln) for o in seller.orders for ln in o["orderLines"]["orderLine"]]
    shipped = [(o, ln) for o, ln in lines if status_of(ln) in ("Shipped", "Delivered")]
    assert len(seller.orders) > 300
    assert sum(len(o["orderLines"]["orderLine"]) > 1 for o in seller.orders) > 50
    assert sum(ln["orderLineQuantity"]["amount"] != "1" for _, ln in lines) > 20
    charge_names = Counter(c["chargeName"] for _, ln in lines for c in ln["charges"]["charge"])
    assert charge_names["Shipping"] > 20 and charge_names["SubscriptionDiscount"] > 5
    discounts = [c for _, ln in lines for c in ln["charges"]["charge"] if c["chargeName"] == "SubscriptionDiscount"]
    assert all(c["chargeAmount"]["amount"] < 0 for c in discounts)
    states = Counter(o["shippingInfo"]["postalAddress"]["state"] for o in seller.orders)
    facilitator = sum(n for s, n in states.items() if s in config.tax.facilitator_states)
    assert facilitator > 0.85 * len(seller.orders)
    assert any(s in config.tax.seller_remitted_states for s in states)
    assert any(s not in config.tax.facilitator_states | config.tax.seller_remitted_states for s in states)
    returned_lines = sum(len(r["returnOrderLines"]) for r in seller.returns)
    assert 0.04 <= returned_lines / len(shipped) <= 0.10
    partial = 0
    for ret in seller.returns:
        for rline in ret["returnOrderLines"]:
            _, line = line_of(seller, rline["purchaseOrderId"], str(rline["purchaseOrderLineNumber"]))
            partial += rline["quantity"]["measurementValue"] < int(line["orderLineQuantity"]["amount"])
    assert partial > 0
    assert sum(1 for _, ln in lines if "refund" in ln) > 5
    returned = [r["returnOrderDate"] for r in seller.returns]
    assert returned == sorted(returned)
    assert {o["shipNode"]["type"] for o in seller.orders} == {"SellerFulfilled", "WFSFulfilled"}
    # More orders are expected on a Monday than a Friday, and more in December than September.
    assert seller._expected_orders(date(2026, 9, 14)) > seller._expected_orders(date(2026, 9, 18))
    assert seller._expected_orders(date(2026, 12, 14)) > 1.3 * seller._expected_orders(date(2026, 9, 14))


def test_customers_repeat_and_some_names_need_escaping(seller):
    emails = Counter(o["customerEmailId"] for o in seller.orders)
    assert any(n > 1 for n in emails.values())
    names = {o["shippingInfo"]["postalAddress"]["name"] for o in seller.orders}
    assert any("'" in n for n in names)
    assert any('"' in n for n in names)
    repeat_apostrophe = [e for e, n in emails.items() if n > 1 and any(
        "'" in o["shippingInfo"]["postalAddress"]["name"] for o in seller.orders if o["customerEmailId"] == e)]
    assert repeat_apostrophe


# --- catalog, inventory, money -------------------------------------------------------------------


def test_skus_and_gtins(seller, config):
    assert len(seller.skus) >= 20
    assert [s.sku for s in seller.skus] == [f"WM-SKU-{i:04d}" for i in range(1, len(seller.skus) + 1)]
    assert set(config.ledgers.xero.skus.items) <= {s.sku for s in seller.skus}
    gtins = [s.gtin for s in seller.skus]
    assert len(set(gtins)) == len(gtins)
    for spec in seller.skus:
        assert len(spec.gtin) == 14 and is_valid_gtin(spec.gtin), spec
        assert 0 < spec.cost_cents < spec.price_cents
        assert spec.product_tax_code.isdigit()
    assert is_valid_gtin("036000291452") and not is_valid_gtin("036000291453")
    assert gtin_check_digit("0003600029145") == "2"
    broken = gtins[0][:-1] + str((int(gtins[0][-1]) + 1) % 10)
    assert not is_valid_gtin(broken)


def test_inventory_covers_every_sku_on_known_nodes(seller):
    assert len(seller.ship_nodes) >= 2
    types = {seller.ship_node_details[n]["type"] for n in seller.ship_nodes}
    assert {"SellerFulfilled", "WFSFulfilled"} <= types
    assert set(seller.inventory) == {s.sku for s in seller.skus}
    for sku, nodes in seller.inventory.items():
        assert nodes and set(nodes) <= set(seller.ship_nodes)
        assert all(isinstance(q, int) and q >= 0 for q in nodes.values())
    assert sum(q for nodes in seller.inventory.values() for q in nodes.values()) > 0


def test_no_float_anywhere_in_the_produced_data(seller):
    produced = {
        "orders": seller.orders,
        "returns": seller.returns,
        "settlements": seller.settlements,
        "inventory": seller.inventory,
        "skus": seller.skus,
    }
    floats = [path for path, value in walk(produced) if isinstance(value, float)]
    assert floats == []
    money = [v for path, v in walk(produced) if isinstance(v, Decimal)]
    assert money and all(v.as_tuple().exponent == -2 for v in money)


def test_a_short_window_has_orders_but_no_closed_settlement():
    short = SyntheticSeller(seed=3, start=date(2026, 11, 2), days=5)
    assert short.orders and short.settlements == []
    days = {datetime.fromtimestamp(o["orderDate"] // 1000, UTC).date() for o in short.orders}
    assert short.start <= min(days) and max(days) < short.end
