"""Reconciliation of documents against Walmart: the figures behind the asset checks, computed without Dagster."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from walmart_accounting.domain.documents import DocumentKind
from walmart_accounting.domain.money import format_cents

CHARGE_COLUMNS = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents", "discount_cents",
                  "discount_tax_cents"]


def document_totals(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per ledger and document: key, kind, related key and total (amount + tax) in cents."""
    if documents.empty:
        return pd.DataFrame(columns=["ledger", "document_key", "document_kind", "related_key", "total_cents"])
    grouped = documents.assign(total_cents=documents["amount_cents"] + documents["tax_cents"]).groupby(
        ["ledger", "document_key", "document_kind"], as_index=False
    ).agg(related_key=("related_key", "first"), total_cents=("total_cents", "sum"))
    return grouped


@dataclass(frozen=True)
class SettlementBalance:
    """Where a settlement's money went; ties out when payments − fees = payout = transfer (and invoices = payout)."""

    payout_cents: int
    payments_cents: int
    fee_bills_cents: int
    invoices_cents: int | None  # summary mode only
    transfer_cents: int
    documents: int

    @property
    def difference_cents(self) -> int:
        return self.payments_cents - self.fee_bills_cents - self.payout_cents

    @property
    def ties_out(self) -> bool:
        invoices_ok = self.invoices_cents is None or self.invoices_cents == self.payout_cents
        return self.difference_cents == 0 and self.transfer_cents == self.payout_cents and invoices_ok

    def as_metadata(self) -> dict[str, str | int]:
        money = lambda cents: format_cents(cents) if cents is not None else "-"  # noqa: E731
        return {"payout": money(self.payout_cents), "payments": money(self.payments_cents),
                "fee_bills": money(self.fee_bills_cents), "summary_invoices": money(self.invoices_cents),
                "transfer": money(self.transfer_cents), "difference": money(self.difference_cents),
                "documents": self.documents}


def settlement_balance(documents: pd.DataFrame, settlement_rows: pd.DataFrame) -> SettlementBalance:
    """Balance one settlement's documents against its payout (the PaymentSummary row)."""
    payout = int(settlement_rows.loc[settlement_rows["transaction_type"] == "PaymentSummary", "amount_cents"].sum())
    totals = document_totals(documents)
    by_kind = totals.groupby("document_kind")["total_cents"].sum()
    invoice = DocumentKind.SALES_INVOICE.value
    invoices = int(by_kind.get(invoice, 0)) if invoice in by_kind.index else None
    return SettlementBalance(
        payout_cents=payout,
        payments_cents=int(by_kind.get(DocumentKind.PAYMENT.value, 0)),
        fee_bills_cents=int(by_kind.get(DocumentKind.FEE_BILL.value, 0)),
        invoices_cents=invoices,
        transfer_cents=int(by_kind.get(DocumentKind.TRANSFER.value, 0)),
        documents=len(totals),
    )


def invoice_differences(invoices: pd.DataFrame, order_lines: pd.DataFrame) -> pd.DataFrame:
    """Invoices whose total differs from their purchase order's Walmart charges (fully shipped or cancelled lines)."""
    if len(invoices):
        invoices = invoices[invoices["document_kind"] == DocumentKind.SALES_INVOICE.value]
    totals = document_totals(invoices)
    if totals.empty:
        return pd.DataFrame(columns=["document_key", "invoice_cents", "walmart_cents"])
    lines = order_lines.assign(charges=order_lines[CHARGE_COLUMNS].sum(axis=1))
    # Lines shipped in part and cancelled in part are prorated by the transform; they are compared
    # elsewhere (the transform's own tests), not against the full Walmart charge here.
    partial = lines[(lines["shipped_quantity"] > 0) & (lines["cancelled_quantity"] > 0)]["purchase_order_id"]
    comparable = lines[~lines["purchase_order_id"].isin(partial)]
    walmart = comparable[comparable["shipped_quantity"] > 0].groupby("purchase_order_id")["charges"].sum()
    totals["purchase_order_id"] = totals["document_key"].str.removeprefix("WM-")
    totals = totals[~totals["purchase_order_id"].isin(partial)]
    compared = totals.assign(walmart_cents=totals["purchase_order_id"].map(walmart)).rename(
        columns={"total_cents": "invoice_cents"})
    return compared[compared["walmart_cents"].ne(compared["invoice_cents"])][
        ["document_key", "invoice_cents", "walmart_cents"]]


def credit_note_differences(credit_notes: pd.DataFrame, return_lines: pd.DataFrame) -> pd.DataFrame:
    """Credit notes whose total differs from what Walmart refunded on the return (refund less fees kept back)."""
    if len(credit_notes):
        credit_notes = credit_notes[credit_notes["document_kind"] == DocumentKind.CREDIT_NOTE.value]
    totals = document_totals(credit_notes)
    if totals.empty:
        return pd.DataFrame(columns=["document_key", "credit_note_cents", "walmart_cents"])
    refunded = return_lines[return_lines["refunded"]]
    walmart = (refunded[["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents"]].sum(axis=1)
               - refunded["fee_cents"]).groupby(refunded["return_order_id"]).sum()
    totals["return_order_id"] = totals["document_key"].str.removeprefix("WM-RET-")
    returns_only = totals[totals["document_key"].str.startswith("WM-RET-")]
    compared = returns_only.assign(walmart_cents=returns_only["return_order_id"].map(walmart)).rename(
        columns={"total_cents": "credit_note_cents"})
    return compared[compared["walmart_cents"].ne(compared["credit_note_cents"])][
        ["document_key", "credit_note_cents", "walmart_cents"]]
