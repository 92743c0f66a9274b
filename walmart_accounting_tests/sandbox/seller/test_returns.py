"""Returns and refunds: each settled refund matches its return and the refund on the order."""

from __future__ import annotations

from collections import Counter, defaultdict

from walmart_accounting_tests.sandbox.seller.support import CUSTOMER_FACING, all_detail_rows, cents, line_of, parse_mdy


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
    # Refunds issued on the order with no return (price adjustments): paid in the report like any refund.
    on_orders = set()
    for order in seller.orders:
        for line in order["orderLines"]["orderLine"]:
            if "refund" not in line or "returnOrderId" in line:
                continue
            key = (order["purchaseOrderId"], line["lineNumber"])
            if key not in refund_rows:
                continue  # refunded after the last settlement closed
            on_orders.add(key)
            charges = [rc["charge"] for rc in line["refund"]["refundCharges"]["refundCharge"]]
            on_order = sum(cents(c["chargeAmount"]["amount"]) + (cents(c["tax"]["taxAmount"]["amount"]) if "tax" in c
                                                                 else 0) for c in charges)
            paid = sum(cents(r["Amount"]) for r in refund_rows[key] if r["Amount Type"] in CUSTOMER_FACING)
            assert paid == on_order < 0, key
            assert {r["Transaction Description"] for r in refund_rows[key]} == {"Refund"}
    assert expected and on_orders and set(refund_rows) == expected | on_orders
