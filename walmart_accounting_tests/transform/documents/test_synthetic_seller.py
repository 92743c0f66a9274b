"""Every settlement of several synthetic sellers ties out, and no document key repeats."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

import pandas as pd
import pytest

from walmart_accounting.domain import keys
from walmart_accounting.schemas.walmart import SettlementRow
from walmart_accounting.transform import documents as docs
from walmart_accounting.transform.reconcile import settlement_balance
from walmart_accounting_tests.transform.documents.builders import (
    CONFIG,
    assert_clean,
    expected_invoice_totals,
    settlement_identity,
    summary_invoices_total,
    totals,
)

SEEDS = (1, 2, 3, 5)


@lru_cache(maxsize=None)
def seller(seed):
    from walmart_accounting.sandbox.seller import SyntheticSeller

    return SyntheticSeller(seed)


def _ingestion():
    try:
        from walmart_accounting.transform import walmart
    except ImportError:
        return None
    return walmart


def _return_ids(s) -> dict[tuple[str, str], str]:
    found = {}
    for ret in s.returns:
        for line in ret["returnOrderLines"]:
            found[(line["purchaseOrderId"], str(line["purchaseOrderLineNumber"]))] = ret["returnOrderId"]
    return found


def _local_settlement_frame(s, report) -> pd.DataFrame:
    """A test-side reading of the seller's v1 report rows (used until the ingestion module exists)."""
    return_ids = _return_ids(s)

    def cents(text):
        return int(Decimal(text).scaleb(2)) if text else 0

    rows = []
    for i, r in enumerate(report.rows):
        summary = r["Transaction Type"] == "PaymentSummary"
        po, line = r["Purchase Order #"] or None, r["Purchase Order line #"] or None
        rows.append(dict(
            report_date=report.report_date, period_start=pd.Timestamp(report.period_start),
            period_end=pd.Timestamp(report.period_end), row_number=i, transaction_key=r["Transaction Key"] or None,
            posted_date=pd.Timestamp(datetime.strptime(r["Transaction Posted Timestamp"], "%m/%d/%Y")),
            transaction_type=r["Transaction Type"], transaction_description=r["Transaction Description"] or None,
            amount_type=r["Amount Type"] or None, customer_order_id=r["Customer Order #"] or None,
            purchase_order_id=po, purchase_order_line=line,
            return_order_id=return_ids.get((po, line)) if r["Transaction Type"] == "Refund" else None,
            sku=r["Partner Item Id"] or None, ship_to_state=r["Ship to State"] or None,
            ship_qty=int(r["Ship Qty"]) if r["Ship Qty"] else None, fulfillment_type=r["Fulfillment Type"] or None,
            currency=r["Currency"], amount_cents=cents(r["Total Payable"] if summary else r["Amount"]),
        ))
    return SettlementRow.validate(pd.DataFrame(rows))


@lru_cache(maxsize=None)
def _seller_frames(seed):
    """(order lines, refunds, returns, [settlement frames]) of a synthetic seller; orders only with ingestion."""
    s = seller(seed)
    walmart = _ingestion()
    if walmart is None:
        return None, None, None, [_local_settlement_frame(s, r) for r in s.settlements]
    checked = [*walmart.order_frames(s.orders), walmart.return_frame(s.returns)]
    assert all(c.rejects.empty for c in checked), "the synthetic seller's data should ingest cleanly"
    lines, refunds, returns = (c.valid for c in checked)
    return_ids = walmart.return_order_map(refunds, returns)
    settlements = []
    for report in s.settlements:
        rows = walmart.settlement_frame(report.report_date, report.rows, return_ids)
        assert rows.rejects.empty
        settlements.append(rows.valid)
    return lines, refunds, returns, settlements


@pytest.mark.parametrize("seed", SEEDS)
def test_every_synthetic_settlement_ties_out(seed):
    _, refunds, _, settlements = _seller_frames(seed)
    assert settlements
    for rows, report in zip(settlements, seller(seed).settlements, strict=True):
        result = docs.settlement_documents(rows, CONFIG, "xero", order_refunds=refunds)
        assert_clean(result)
        assert result.rejects.empty, result.rejects["reason"].tolist()
        settlement_identity(result.documents, rows)
        summary = docs.settlement_summary(rows, CONFIG, "exact")
        assert_clean(summary)
        assert summary.rejects.empty
        balance = settlement_balance(summary.documents, rows)
        assert balance.ties_out
        assert summary_invoices_total(summary.documents) == balance.payout_cents == report.total_payable_cents


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_synthetic_seller_documents_never_repeat_a_key(seed):
    lines, refunds, returns, settlements = _seller_frames(seed)
    if lines is None:
        pytest.skip("walmart_accounting.transform.walmart (ingestion) is not there yet")
    # the packaged mapping: xero posts per order, exact posts settlement summaries
    per_order = [docs.sales_invoices(lines, CONFIG, "xero"), docs.credit_notes(returns, refunds, lines, CONFIG, "xero")]
    per_order += [docs.settlement_documents(rows, CONFIG, "xero", order_refunds=refunds) for rows in settlements]
    summary = [docs.settlement_summary(rows, CONFIG, "exact") for rows in settlements]
    for results in (per_order, summary):
        for result in results:
            assert_clean(result)
            assert result.rejects.empty, result.rejects["reason"].head().tolist()
        keyed = pd.concat([r.documents.drop_duplicates("document_key") for r in results], ignore_index=True)
        assert not keyed["document_key"].duplicated().any()
    # every shipped line of a finished order is on its invoice, to the cent
    assert totals(per_order[0].documents).to_dict() == expected_invoice_totals(lines)
    # every refunded return is on one credit note, whose total is what Walmart refunded
    notes = per_order[1].documents
    refunded = returns[returns["refunded"]]
    money = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents"]
    expected = (refunded[money].sum(axis=1)
                - refunded["fee_cents"]).groupby(refunded["return_order_id"].map(keys.return_credit_note_key)).sum()
    # ... and every refund issued on an order without a return is one credit note of what Walmart refunded
    on_orders = refunds[refunds["return_order_id"].isna()]
    assert len(on_orders)
    expected = pd.concat([expected, (-on_orders[money].sum(axis=1)).groupby(
        [keys.refund_credit_note_key(p, r) for p, r in zip(on_orders["purchase_order_id"], on_orders["refund_id"],
                                                           strict=True)]).sum()])
    assert totals(notes).to_dict() == expected.to_dict()
    # each refund payment of a settlement points at a credit note that exists
    related = pd.concat([r.documents for r in per_order[2:]])
    assert set(related.loc[related["category"] == "refund", "related_key"]) <= set(notes["document_key"])
