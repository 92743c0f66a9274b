"""Sales invoices equal Walmart's charges for the shipped quantities, and unmapped records reject their invoice."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from walmart_accounting.domain.money import allocate_minor, prorate_minor
from walmart_accounting.schemas.walmart import OrderLine
from walmart_accounting.transform import documents as docs
from walmart_accounting.transform.reconcile import invoice_differences
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    PROPERTY,
    assert_clean,
    expected_invoice_totals,
    frame,
    make_config,
    marketplace,
    order_line,
    strict_skus,
    totals,
)


def test_facilitator_invoice_lines_accounts_and_total():
    lines = frame(OrderLine, [
        order_line(line="1", quantity=2, shipped_quantity=2, product_cents=4998, product_tax_cents=442,
                   discount_cents=-250, discount_tax_cents=-22, shipping_cents=599, shipping_tax_cents=53),
        order_line(line="2", sku="WM-SKU-0099", product_name=None, product_cents=1000, product_tax_cents=89,
                   ship_date=pd.Timestamp("2026-09-10T03:00:00Z")),
    ])
    result = docs.sales_invoices(lines, CONFIG, "xero")
    assert_clean(result)
    assert result.rejects.empty
    inv = result.documents
    assert set(inv["document_key"]) == {"WM-1000001"}
    assert list(inv["category"]) == ["product", "discount", "shipping", "product", "facilitator_tax"]
    assert list(inv["line_no"]) == [1, 2, 3, 4, 5]
    assert list(inv["account"]) == ["4000", "4020", "4010", "4000", "2250"]
    assert list(inv["amount_cents"]) == [4998, -250, 599, 1000, 442 - 22 + 53 + 89]
    assert (inv["tax_cents"] == 0).all() and (inv["tax_code"] == "NONE").all()
    assert list(inv["quantity"])[0] == 2
    assert inv["item_code"].iloc[0] == "WM-SKU-0001" and inv["item_code"].iloc[3] is None
    # the item rides on its product line only: on the discount or shipping it would move stock and cost
    assert inv["item_code"].iloc[1] is None and inv["item_code"].iloc[2] is None
    assert inv["description"].iloc[3] == "WM-SKU-0099"  # no product name: the SKU
    assert inv.loc[inv["category"] != "facilitator_tax", "tracking_option"].eq("Walmart").all()
    # the invoice is the Walmart charges of the shipped quantities, to the cent
    charges = lines[docs.ORDER_MONEY].to_numpy().sum()
    assert totals(inv)["WM-1000001"] == charges
    # dated by the latest ship, as a day in the seller's time zone (03:00Z on the 10th is the 9th in LA)
    assert (inv["document_date"] == pd.Timestamp("2026-09-09")).all()
    assert inv["source_ids"].iloc[0] == "1000001" and inv["document_kind"].eq("sales_invoice").all()
    assert inv["contact_key"].iloc[0] == "cust-1000001" and inv["contact_email"].iloc[0] == "1000001@relay.walmart.com"


def test_seller_remitted_tax_rides_on_the_lines():
    lines = frame(OrderLine, [order_line(ship_to_state="PR", product_tax_cents=287, shipping_cents=399,
                                         shipping_tax_cents=46, discount_cents=-100, discount_tax_cents=-12)])
    inv = docs.sales_invoices(lines, CONFIG, "xero").documents
    assert list(inv["category"]) == ["product", "discount", "shipping"]
    assert list(inv["tax_cents"]) == [287, -12, 46]
    assert list(inv["tax_code"]) == ["TAX001"] * 3
    assert totals(inv).iloc[0] == 2499 + 287 + 399 + 46 - 100 - 12
    exact = docs.sales_invoices(lines, CONFIG, "exact").documents
    assert list(exact["tax_code"]) == ["PR"] * 3 and exact["cost_center"].eq("WM").all()
    assert list(exact["account"]) == ["8000", "8020", "8010"]


def test_no_tax_state_and_zero_tax_lines_use_no_tax_code():
    lines = frame(OrderLine, [order_line(ship_to_state="OR", product_tax_cents=0)])
    inv = docs.sales_invoices(lines, CONFIG, "exact").documents
    assert list(inv["category"]) == ["product"] and list(inv["tax_code"]) == ["0"]


def test_only_finished_orders_are_invoiced_with_their_shipped_lines():
    lines = frame(OrderLine, [
        order_line(po="2000001", line="1"),
        order_line(po="2000001", line="2", status="Acknowledged", shipped_quantity=0, ship_date=None),
        order_line(po="2000002", line="1", status="Cancelled", shipped_quantity=0, cancelled_quantity=1,
                   ship_date=None, product_cents=0, product_tax_cents=0),
        order_line(po="2000003", line="1", status="Delivered"),
        order_line(po="2000003", line="2", status="Cancelled", shipped_quantity=0, cancelled_quantity=1,
                   ship_date=None, product_cents=0, product_tax_cents=0),
    ])
    result = docs.sales_invoices(lines, CONFIG, "xero")
    assert set(result.documents["document_key"]) == {"WM-2000003"}
    assert result.documents["category"].tolist() == ["product", "facilitator_tax"]


def test_partly_cancelled_line_is_prorated_without_losing_a_cent():
    lines = frame(OrderLine, [order_line(quantity=3, shipped_quantity=2, cancelled_quantity=1, product_cents=1000,
                                         product_tax_cents=89, shipping_cents=500, shipping_tax_cents=1)])
    inv = docs.sales_invoices(lines, CONFIG, "xero").documents
    product = inv[inv["category"] == "product"].iloc[0]
    assert product["amount_cents"] == allocate_minor(1000, [2, 1])[0] == 667
    assert product["quantity"] == 2
    shipping = inv[inv["category"] == "shipping"].iloc[0]
    assert shipping["amount_cents"] == 333
    fac = inv[inv["category"] == "facilitator_tax"].iloc[0]
    assert fac["amount_cents"] == allocate_minor(89, [2, 1])[0] + allocate_minor(1, [2, 1])[0] == 59 + 1


def test_unmapped_records_reject_their_whole_invoice_and_the_others_go_on():
    strict = make_config(strict_skus)
    lines = frame(OrderLine, [
        order_line(po="3000001"),  # fine
        order_line(po="3000002", line="1"),
        order_line(po="3000002", line="2", sku="NOT-MAPPED"),  # one bad line sinks the whole PO
        order_line(po="3000003", ship_to_state="OR", product_tax_cents=123),  # tax where nobody remits it
        order_line(po="3000004", ship_to_state=None, product_tax_cents=0),  # no ship-to state at all
        order_line(po="3000005", ship_to_state="PR", product_tax_cents=287),  # fine: seller-remitted
    ])
    result = docs.sales_invoices(lines, strict, "xero")
    assert_clean(result)
    assert set(result.documents["document_key"]) == {"WM-3000001", "WM-3000005"}
    reasons = dict(zip(result.rejects["record_key"], result.rejects["reason"], strict=True))
    assert reasons["WM-3000002"] == "unmapped SKU 'NOT-MAPPED' for ledger xero"
    assert reasons["WM-3000003"] == ("tax of 1.23 USD for ship-to state OR: state is neither facilitator nor "
                                     "seller-remitted")
    assert "missing shipping information" in reasons["WM-3000004"]
    assert len(result.rejects) == 3
    record = result.rejects.set_index("record_key").loc["WM-3000002", "record"]
    assert record["document_key"] == "WM-3000002" and len(record["rows"]) == 2
    # with allow_default (the packaged mapping) the SKU falls back to the default account
    assert "WM-3000002" in set(docs.sales_invoices(lines, CONFIG, "xero").documents["document_key"])


def test_marketplace_contact_replaces_the_customer():
    lines = frame(OrderLine, [order_line()])
    per_customer = docs.sales_invoices(lines, CONFIG, "xero").documents
    one = docs.sales_invoices(lines, make_config(marketplace), "xero").documents
    assert per_customer["contact_key"].eq("cust-1000001").all()
    assert per_customer["contact_name"].eq("Siobhan O'Brien").all()
    assert one["contact_key"].eq("WALMART-MKT").all()
    assert one["contact_name"].eq("Walmart Marketplace Customers").all()
    assert one["contact_email"].isna().all()


STATES = ["CA", "TX", "PR", "OR", "NH"]
TAXED = {"CA", "TX", "PR"}


@st.composite
def order_frames(draw):
    rows = []
    for p in range(draw(st.integers(1, 6))):
        po = f"{4000000 + p}"
        state = draw(st.sampled_from(STATES))
        for n in range(draw(st.integers(1, 3))):
            qty = draw(st.integers(1, 5))
            mode = draw(st.sampled_from(["shipped", "shipped", "partial", "cancelled", "open"]))
            shipped = {"shipped": qty, "partial": draw(st.integers(0, qty)), "cancelled": 0, "open": 0}[mode]
            cancelled = qty - shipped if mode != "open" else 0
            status = {"shipped": "Delivered", "partial": "Shipped" if shipped else "Cancelled",
                      "cancelled": "Cancelled", "open": "Acknowledged"}[mode]
            taxed = state in TAXED
            tax = st.integers(0, 5000) if taxed else st.just(0)
            rows.append(order_line(
                po=po, line=str(n + 1), sku=draw(st.sampled_from(["WM-SKU-0001", "WM-SKU-0002", "OTHER"])),
                quantity=qty, shipped_quantity=shipped, cancelled_quantity=cancelled, status=status,
                ship_to_state=state, ship_date=pd.Timestamp("2026-09-09T18:30:00Z") if shipped else None,
                product_cents=draw(st.integers(0, 200_000)), product_tax_cents=draw(tax),
                shipping_cents=draw(st.integers(0, 3000)), shipping_tax_cents=draw(tax),
                discount_cents=-draw(st.integers(0, 3000)), discount_tax_cents=-draw(tax),
            ))
    return frame(OrderLine, rows)


@PROPERTY
@given(order_frames(), st.sampled_from(["xero", "exact"]))
def test_property_invoices_equal_walmart_charges_to_the_cent(lines, ledger):
    result = docs.sales_invoices(lines, CONFIG, ledger)
    assert_clean(result)
    assert result.rejects.empty
    assert totals(result.documents).to_dict() == expected_invoice_totals(lines)
    fac = result.documents[result.documents["category"] == "facilitator_tax"]
    assert fac["tax_code"].eq(CONFIG.ledger(ledger).tax_codes.facilitator).all()


def test_a_partly_shipped_line_is_prorated_so_its_parts_add_up_to_its_share_and_the_check_compares_it():
    # 2 of 3 shipped: each column alone rounds to 667 + 3 + 3 + 3 = 676, but the line's share is 2/3 of 1015 = 677
    lines = frame(OrderLine, [order_line(quantity=3, shipped_quantity=2, cancelled_quantity=1, product_cents=1000,
                                         product_tax_cents=5, shipping_cents=5, shipping_tax_cents=5)])
    invoice = docs.sales_invoices(lines, CONFIG, "xero").documents
    assert totals(invoice)["WM-1000001"] == allocate_minor(1015, [2, 1])[0] == 677
    assert invoice_differences(invoice, lines).empty
    off_by_a_cent = invoice.assign(amount_cents=invoice["amount_cents"] - (invoice["line_no"] == 1).astype(int))
    assert invoice_differences(off_by_a_cent, lines)["walmart_cents"].tolist() == [677]


@given(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=6), st.integers(1, 50), st.data())
def test_prorated_parts_always_add_up_to_the_prorated_total(amounts, quantity, data):
    part = data.draw(st.integers(0, quantity))
    shares = prorate_minor(amounts, part, quantity)
    assert sum(shares) == (allocate_minor(sum(amounts), [part, quantity - part])[0] if sum(amounts) else 0)
    assert all(abs(s * quantity - a * part) < quantity for s, a in zip(shares, amounts, strict=True))
