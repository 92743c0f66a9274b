"""Reconciliation of documents against Walmart: the figures behind the asset checks, computed without Dagster."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from walmart_accounting.domain import keys
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.documents import DocumentKind
from walmart_accounting.domain.money import allocate_minor, format_cents
from walmart_accounting.transform.documents.settlements import classify_settlement_rows, facilitator_findings

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
    """Invoices whose total differs from their purchase order's Walmart charges (a line shipped in part: its share)."""
    if len(invoices):
        invoices = invoices[invoices["document_kind"] == DocumentKind.SALES_INVOICE.value]
    totals = document_totals(invoices)
    if totals.empty:
        return pd.DataFrame(columns=["document_key", "invoice_cents", "walmart_cents"])
    lines = order_lines.assign(charges=order_lines[CHARGE_COLUMNS].sum(axis=1))
    # A line shipped in part is owed its shipped share of Walmart's line total (largest remainder, no cent lost).
    part = (lines["shipped_quantity"] > 0) & (lines["shipped_quantity"] < lines["quantity"])
    if part.any():
        lines.loc[part, "charges"] = [
            allocate_minor(int(t), [int(s), int(q) - int(s)])[0] if t else 0
            for t, s, q in zip(lines.loc[part, "charges"], lines.loc[part, "shipped_quantity"], lines.loc[part, "quantity"],
                               strict=True)]
    walmart = lines[lines["shipped_quantity"] > 0].groupby("purchase_order_id")["charges"].sum()
    totals["purchase_order_id"] = totals["document_key"].str.removeprefix("WM-")
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


@dataclass(frozen=True)
class FacilitatorBalance:
    """The facilitator-tax account for one settlement: tax booked there less what Walmart withheld."""

    booked_cents: int  # facilitator tax on the documents this settlement pays (collected less refunded)
    withheld_cents: int  # what the report withheld back (negative)
    findings: pd.DataFrame  # PO lines where the mapping and the settlement disagree on who remits

    @property
    def nets_to_zero(self) -> bool:
        return self.booked_cents + self.withheld_cents == 0 and self.findings.empty

    def as_metadata(self) -> dict:
        table = self.findings.head(25).to_markdown(index=False) if len(self.findings) else "none"
        return {"facilitator_tax_booked": format_cents(self.booked_cents),
                "withheld_by_walmart": format_cents(self.withheld_cents),
                "difference": format_cents(self.booked_cents + self.withheld_cents),
                "disagreements": len(self.findings), "mapping_vs_settlement": table}


def facilitator_balance(documents: pd.DataFrame, settlement_rows: pd.DataFrame,
                        config: MappingConfig) -> FacilitatorBalance:
    """Does the facilitator-tax account net to zero for this settlement, and where do mapping and settlement disagree?

    Summary documents carry the facilitator lines themselves. Per-order invoices were booked before the
    settlement, by the mapping's state list, so their facilitator tax is the report's tax in the states
    the mapping calls facilitator.
    """
    rows = classify_settlement_rows(settlement_rows.assign(report_date=settlement_rows["report_date"].astype(str)),
                                    config)
    findings = facilitator_findings(rows, config)
    withheld = int(rows.loc[rows["kind"] == "withheld", "amount_cents"].sum())
    summary = len(documents) and (documents["document_kind"] == DocumentKind.SALES_INVOICE.value).any()
    if summary:  # summary invoices carry the facilitator lines: collected (+) and refunded (-)
        booked = int(documents.loc[documents["category"] == "facilitator_tax", "amount_cents"].sum())
        withheld_lines = documents[documents["category"] == "facilitator_tax_withheld"]
        withheld = int(withheld_lines["amount_cents"].sum())
    else:
        tax = rows[rows["money"].isin(["product_tax", "shipping_tax"])]
        state = tax["ship_to_state"].astype("string").str.upper()
        booked = int(tax.loc[state.isin(list(config.tax.facilitator_states)).fillna(False).to_numpy(dtype=bool),
                             "amount_cents"].sum())
    return FacilitatorBalance(booked, withheld, findings)


def suspense_rows(settlement_rows: pd.DataFrame, config: MappingConfig) -> pd.DataFrame:
    """Report rows of amount types nobody mapped, booked to the suspense account: what to map next, with amounts."""
    rows = classify_settlement_rows(settlement_rows.assign(report_date=settlement_rows["report_date"].astype(str)),
                                    config)
    parked = rows[rows["kind"] == "suspense"]
    columns = ["row_number", "transaction_type", "transaction_description", "amount_type", "purchase_order_id", "amount"]
    return parked.assign(amount=[format_cents(c) for c in parked["amount_cents"]])[columns].reset_index(drop=True)


def settlement_labels(settlement_rows: pd.DataFrame) -> dict[str, str]:
    """What names a settlement for a person: its key, its report date as a sortable date, and its period."""
    if settlement_rows is None or settlement_rows.empty:
        return {}
    report_date = str(settlement_rows["report_date"].iloc[0])
    start, end = settlement_rows["period_start"].min(), settlement_rows["period_end"].max()
    labels = {"report_date": f"{report_date[4:]}-{report_date[:2]}-{report_date[2:4]}"}
    if pd.notna(start) and pd.notna(end):
        labels["period"] = f"{start.date()} to {end.date()}"
        labels["settlement"] = keys.settlement_key(end.date(), report_date)
    return labels
