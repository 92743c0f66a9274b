"""Builders of Walmart frames and the checks every document test shares."""

from __future__ import annotations

import copy

import pandas as pd
from hypothesis import HealthCheck, settings

from walmart_accounting.domain import keys
from walmart_accounting.domain.config import load_default_config, parse_config
from walmart_accounting.domain.money import allocate_minor
from walmart_accounting.schemas.documents import DOCUMENT_KINDS, LINE_CATEGORIES, DocumentLine
from walmart_accounting.schemas.walmart import SettlementRow
from walmart_accounting.transform import documents as docs
from walmart_accounting.transform.validation import REJECT_COLUMNS

MONEY_COLUMNS = ["amount_cents", "tax_cents", "base_amount_cents", "quantity", "line_no"]
PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _data():
    cfg = load_default_config()
    data = copy.deepcopy(cfg.model_dump(mode="json"))
    # The document tests' seller remits Puerto Rico's tax itself (a mapping may say so; Walmart's default
    # list has PR as facilitator): PR is their example of seller-remitted output tax.
    data["tax"]["facilitator_states"] = sorted(set(data["tax"]["facilitator_states"]) - {"PR"})
    data["tax"]["seller_remitted_states"] = ["PR"]
    return data


def make_config(mutate=None):
    data = _data()
    if mutate:
        mutate(data)
    return parse_config(data)


CONFIG = make_config()


def strict_skus(data):
    data["ledgers"]["xero"]["skus"]["allow_default"] = False


def marketplace(data):
    data["contacts"]["strategy"] = "marketplace"


def order_line(po="1000001", line="1", **kw):
    row = dict(
        purchase_order_id=po, customer_order_id="C" + po, customer_key="cust-" + po, customer_name="Siobhan O'Brien",
        customer_email=f"{po}@relay.walmart.com", order_date=pd.Timestamp("2026-09-08T15:00:00Z"), line_number=line,
        sku="WM-SKU-0001", product_name="Water Bottle", quantity=1, status="Shipped", shipped_quantity=1,
        cancelled_quantity=0, ship_date=pd.Timestamp("2026-09-09T18:30:00Z"), ship_to_state="CA",
        ship_to_postal_code="90012", ship_node_type="SellerFulfilled", ship_node=None, currency="USD", product_cents=2499,
        product_tax_cents=221, shipping_cents=0, shipping_tax_cents=0, discount_cents=0, discount_tax_cents=0,
    )
    row.update(kw)
    return row


def frame(model, rows):
    return model.validate(pd.DataFrame(rows))


def return_line(ret="900000000000000001", po="1000001", line="1", **kw):
    row = dict(
        return_order_id=ret, customer_order_id="C" + po, customer_key="cust-" + po, customer_name="Siobhan O'Brien",
        return_date=pd.Timestamp("2026-09-15T12:00:00Z"), purchase_order_id=po, purchase_order_line_number=line,
        return_line_number="1", sku="WM-SKU-0001", quantity=1, refund_status="REFUND_COMPLETED", refunded=True,
        currency="USD", product_cents=2499, product_tax_cents=221, shipping_cents=0, shipping_tax_cents=0, fee_cents=0,
    )
    row.update(kw)
    return row


def refund_row(po="1000001", line="1", refund_id="R1", ret=None, **kw):
    row = dict(purchase_order_id=po, line_number=line, sku="WM-SKU-0001", refund_id=refund_id, return_order_id=ret,
               refund_reason="DamagedItem", currency="USD", product_cents=-1000, product_tax_cents=-88,
               shipping_cents=0, shipping_tax_cents=0)
    row.update(kw)
    return row


REPORT = "09192026"


def srow(ttype, amount, amount_type=None, description=None, po=None, line=None, state=None, ret=None,
         posted="2026-09-10", report=REPORT, end="2026-09-18"):
    return dict(report_date=report, period_start=pd.Timestamp("2026-09-05"), period_end=pd.Timestamp(end),
                row_number=0, transaction_key=None, posted_date=pd.Timestamp(posted), transaction_type=ttype,
                transaction_description=description, amount_type=amount_type, customer_order_id=None,
                purchase_order_id=po, purchase_order_line=line, return_order_id=ret, sku=None, ship_to_state=state,
                ship_qty=None, fulfillment_type=None, currency="USD", amount_cents=amount)


def settlement(rows, report=REPORT, end="2026-09-18"):
    """Rows plus their PaymentSummary (the sum of the rows), numbered."""
    for row in rows:
        row.update(report_date=report, period_end=pd.Timestamp(end))
    total = sum(r["amount_cents"] for r in rows)
    out = [srow("PaymentSummary", total, description="Deposited", posted="2026-09-19", report=report, end=end)] + rows
    for i, r in enumerate(out):
        r["row_number"] = i
    return frame(SettlementRow, out)


def totals(documents):
    return (documents["amount_cents"] + documents["tax_cents"]).groupby(documents["document_key"]).sum()


def summary_invoices_total(documents) -> int:
    invoices = documents[documents["document_kind"] == "sales_invoice"]
    return int((invoices["amount_cents"] + invoices["tax_cents"]).sum())


def assert_clean(result):
    """Money columns are integers, the frame validates, keys are well formed, rejects have the validation columns."""
    documents = result.documents
    assert list(documents.columns) == list(DocumentLine.to_schema().columns)  # validated by the function itself
    for column in MONEY_COLUMNS:
        assert not pd.api.types.is_float_dtype(documents[column]), column
    assert documents["amount_cents"].dtype == "int64" and documents["tax_cents"].dtype == "int64"
    assert str(documents["base_amount_cents"].dtype) == "Int64"
    assert list(result.rejects.columns) == REJECT_COLUMNS
    assert not documents.duplicated(["document_key", "line_no"]).any()
    # one kind per key: a key never names two different documents
    assert (documents.groupby("document_key")["document_kind"].nunique() <= 1).all()
    # kinds and categories are the plain string values of domain.documents, never enum members
    for column, values in (("document_kind", DOCUMENT_KINDS), ("category", LINE_CATEGORIES)):
        assert all(type(v) is str for v in documents[column]), column
        assert set(documents[column]) <= set(values), column


def expected_invoice_totals(lines: pd.DataFrame) -> dict[str, int]:
    """Independent reference: per finished PO, Walmart's charges of the shipped quantities."""
    expected: dict[str, int] = {}
    for po, group in lines.groupby("purchase_order_id"):
        open_line = group["status"].isin(["Created", "Acknowledged"]) | (
            group["shipped_quantity"] + group["cancelled_quantity"] < group["quantity"])
        if open_line.any() or not (group["shipped_quantity"] > 0).any():
            continue
        total = 0
        for _, line in group[group["shipped_quantity"] > 0].iterrows():
            weights = [int(line["shipped_quantity"]), int(line["quantity"] - line["shipped_quantity"])]
            charges = sum(int(line[column]) for column in docs.ORDER_MONEY)
            # a line shipped in part is owed its shipped share of the line's total (not of each column apart)
            total += allocate_minor(charges, weights)[0] if weights[1] and charges else charges
        expected[keys.invoice_key(po)] = total
    return expected


def sample_rows(report=REPORT, end="2026-09-18"):
    rows = [
        srow("Sale", 2499, "Product Price", "Purchase", po="6000001", line="1", state="CA"),
        srow("Sale", -250, "Product Price", "Purchase", po="6000001", line="1", state="CA"),  # promotion
        srow("Sale", 199, "Product tax", "Purchase", po="6000001", line="1", state="CA"),
        srow("Sale", -199, "Product tax withheld", "Purchase", po="6000001", line="1", state="CA"),
        srow("Sale", 599, "Shipping Price", "Purchase", po="6000001", line="1", state="CA"),
        srow("Sale", -337, "Commission on Product", "Purchase", po="6000001", line="1", state="CA"),
        srow("Sale", -90, "Commission on Shipping", "Purchase", po="6000001", line="1", state="CA"),
        srow("Sale", 1000, "Product Price", "Purchase", po="6000002", line="1", state="PR", posted="2026-09-12"),
        srow("Sale", 115, "Product tax", "Purchase", po="6000002", line="1", state="PR", posted="2026-09-12"),
        srow("Sale", -150, "Commission on Product", "Purchase", po="6000002", line="1", state="PR"),
        srow("Refund", -2499, "Product Price", "Return Refund", po="5000001", line="1", state="CA",
             ret="700000000000000001"),
        srow("Refund", -221, "Product tax", "Return Refund", po="5000001", line="1", state="CA",
             ret="700000000000000001"),
        srow("Refund", 221, "Product tax withheld", "Return Refund", po="5000001", line="1", state="CA",
             ret="700000000000000001"),
        srow("Refund", 375, "Commission on Product", "Return Refund", po="5000001", line="1", state="CA",
             ret="700000000000000001"),
        srow("Adjustment", -525, "WFS Fee/Reimbursement", "WFS Return Shipping Fee", po="5000001"),
        srow("Adjustment", 1680, "WFS Fee/Reimbursement", "WFS LostInventory"),
        srow("Adjustment", -480, "Fee/Reimbursement", "Walmart Shipping Label Service Charge", po="6000001"),
        srow("Service Fee", -12000, "SEM Marketing Fee", "Walmart Product Advertising"),
        srow("Dispute Settlement", -1500, None, "Chargeback"),
        srow("Reserve", -5000, None, "Funds withheld to cover future refunds"),
    ]
    for row in rows:
        row.update(report_date=report, period_end=pd.Timestamp(end))
    return rows


def settlement_identity(documents: pd.DataFrame, rows: pd.DataFrame) -> None:
    """payments - refund payments - fee bill == payout == transfer; and the categories add up to it."""
    payout = int(rows.loc[rows["transaction_type"] == "PaymentSummary", "amount_cents"].sum())
    kind = documents["document_kind"]
    payments = int(documents.loc[(kind == "payment") & (documents["category"] == "payment"), "amount_cents"].sum())
    refunds = -int(documents.loc[(kind == "payment") & (documents["category"] == "refund"), "amount_cents"].sum())
    bill = documents[kind == "fee_bill"]
    fees = int(bill["amount_cents"].sum())
    transfer = int(documents.loc[kind == "transfer", "amount_cents"].sum())
    assert payments - refunds - fees == payout == transfer
    by_category = bill.groupby("category")["amount_cents"].sum()
    # invoices paid + fees + refunds + adjustments + facilitator tax withheld = total payable (settlement signs)
    assert payments - refunds - sum(int(by_category.get(c, 0)) for c in
                                    ("fee", "adjustment", "facilitator_tax_withheld", "reserve", "promotion",
                                     "funded_savings", "reimbursement", "suspense")) == payout
