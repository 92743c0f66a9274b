"""Settlement reports: rows classified by what they are, and per settlement the payments, fee bill and transfer (per_order)."""

from __future__ import annotations

from datetime import date
from typing import Callable

import numpy as np
import pandas as pd

from walmart_accounting.domain import keys
from walmart_accounting.domain.config import FEE_TYPES, Ledger, MappingConfig
from walmart_accounting.domain.documents import DocumentKind, LineCategory
from walmart_accounting.transform.documents.common import (
    DocumentResult,
    _assemble,
    _cents,
    _dedupe,
    _empty_result,
    _joined,
    _key_problems,
    _keys_for,
    _local_day,
    _money_text,
    _problems,
    _text,
)
from walmart_accounting.transform.documents.credit_notes import credit_notes

# Settlement Amount Types (compared case-insensitively) that are the customer's money for an order.
ORDER_AMOUNT_TYPES = {"product price": "product", "shipping price": "shipping",
                      "product tax": "product_tax", "shipping tax": "shipping_tax"}
# Tax Walmart collects as marketplace facilitator and keeps back from the payout.
WITHHELD_AMOUNT_TYPES = frozenset({"product tax withheld", "shipping tax withheld"})
# Order money the orders API does not show (so no invoice carries it): seller-funded promotions and what
# Walmart pays towards prices it discounted itself. Booked on the fee bill (per_order) or the summary.
PROMOTION_AMOUNT_TYPES = {"promo code": "promotion", "extra savings": "promotion",
                          "total walmart funded savings": "funded_savings", "walmart funded savings": "funded_savings"}
RESERVE_TYPES = ("Reserve", "Release Reserve")

FEE_LABELS = {
    "commission": "Walmart commission",
    "shipping_label": "Walmart shipping labels",
    "wfs_fulfillment": "WFS fulfillment fees",
    "wfs_storage": "WFS storage fees",
    "wfs_inbound": "WFS inbound transportation",
    "wfs_removal": "WFS inventory removal",
    "wfs_return_shipping": "WFS return shipping",
    "advertising": "Walmart advertising",
    "review_accelerator": "Review Accelerator",
    "other_fees": "Other Walmart fees",
}
_FEE_ORDER = {name: i for i, name in enumerate(FEE_TYPES)}


# ------------------------------------------------------------------------------------------------
# classification, shared by settlement_documents and settlement_summary
# ------------------------------------------------------------------------------------------------


def classify_settlement_rows(rows: pd.DataFrame, config: MappingConfig) -> pd.DataFrame:
    """Each row with `kind` (payout | order | withheld | promotion | funded_savings | reimbursement | fee |
    adjustment | reserve | suspense | unmapped), `money`
    (product | shipping | product_tax | shipping_tax for order rows) and `fee_type`.

    The fee type comes from the Transaction Description first (it may be more specific, e.g. "WFS Return
    Shipping Fee" under the Amount Type "WFS Fee/Reimbursement"), then from the Amount Type.
    """
    out = rows.copy()
    ttype = out["transaction_type"].astype(str)
    amount_type = _text(out["amount_type"]).str.lower()
    description = _text(out["transaction_description"]).str.lower()
    fee_map = {k.strip().lower(): v for k, v in config.fee_types.items()}
    fee_type = description.map(fee_map)
    fee_type = fee_type.where(fee_type.notna(), amount_type.map(fee_map))
    money = amount_type.map(ORDER_AMOUNT_TYPES)
    order = ttype.isin(["Sale", "Refund"]).to_numpy() & money.notna().to_numpy()
    promotion = amount_type.map(PROMOTION_AMOUNT_TYPES)
    reimbursed = description.isin([d.strip().lower() for d in config.reimbursements]).fillna(False).to_numpy(dtype=bool)
    kind = np.select(
        [ttype.eq("PaymentSummary").to_numpy(), ttype.isin(RESERVE_TYPES).to_numpy(), order,
         amount_type.isin(list(WITHHELD_AMOUNT_TYPES)).fillna(False).to_numpy(dtype=bool),
         promotion.notna().to_numpy(), reimbursed,
         fee_type.notna().to_numpy(), ttype.eq("Dispute Settlement").to_numpy()],
        ["payout", "reserve", "order", "withheld", "promotion", "reimbursement", "fee", "adjustment"],
        "suspense" if config.unmapped_amount_types == "suspense" else "unmapped",
    )
    kind = np.where(kind == "promotion", promotion.fillna("promotion").to_numpy(dtype=object), kind)
    out["kind"] = kind
    out["money"] = money.where(order, None).astype(object)
    out["fee_type"] = fee_type.where(kind == "fee", None).astype(object)
    out["amount_cents"] = _cents(out["amount_cents"])
    return out


def _settlements(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per report: period_end, payable_id, settlement_key, payout, deposit day, currency; and key problems."""
    summary = rows[rows["kind"] == "payout"]
    report = rows.groupby("report_date", sort=True).agg(
        period_end=("period_end", "max"), currency=("currency", "first"))
    paid = summary.groupby("report_date").agg(payout=("amount_cents", "sum"), deposit=("posted_date", "max"),
                                              summary_end=("period_end", "max"), summary_currency=("currency", "first"))
    report = report.join(paid)
    report["has_payout"] = report["payout"].notna()
    report["payout"] = report["payout"].fillna(0).astype("int64")
    report["period_end"] = report["summary_end"].where(report["summary_end"].notna(), report["period_end"])
    report["currency"] = report["summary_currency"].where(report["summary_currency"].notna(), report["currency"])
    report["period_end"] = _local_day(report["period_end"], "UTC")
    report["deposit"] = _local_day(report["deposit"].where(report["deposit"].notna(), report["period_end"]), "UTC")
    report["payable_id"] = report.index.astype(str)
    report["settlement_key"], errors = _keys_for(keys.settlement_key, report["period_end"].dt.date,
                                                 report["payable_id"], fallback="WM-SET-?")
    return report.drop(columns=["summary_end", "summary_currency"]), _key_problems(report["settlement_key"], errors)


def _settlement_key_of(report: pd.DataFrame, build: Callable[[date, str], str]) -> pd.Series:
    """A per-settlement document key (fee bill, transfer) by report_date (a refused key: see the root key's reject)."""
    found, _ = _keys_for(build, report["period_end"].dt.date, report["payable_id"], fallback="WM-SET-?")
    return found


def _unmapped_reasons(unmapped: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """One reason per (group, description, amount type) of rows that map to no fee type."""
    if unmapped.empty:
        return pd.DataFrame(columns=[*group, "reason"])
    frame = unmapped.assign(_d=_text(unmapped["transaction_description"]).fillna(""),
                            _a=_text(unmapped["amount_type"]).fillna(""))
    grouped = frame.groupby([*group, "transaction_type", "_d", "_a"], as_index=False, dropna=False).agg(
        total=("amount_cents", "sum"), rows=("amount_cents", "size"), currency=("currency", "first"))
    amounts = _money_text(grouped["total"], grouped["currency"])
    grouped["reason"] = [
        f"unmapped fee type: {t} row(s) ({n}, total {a}) with description {d!r} and amount type {at!r}: "
        "neither is in fee_types"
        for t, n, a, d, at in zip(grouped["transaction_type"], grouped["rows"], amounts, grouped["_d"], grouped["_a"],
                                  strict=True)
    ]
    return grouped[[*group, "reason"]]


def _transfers(report: pd.DataFrame, ledger_cfg: Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    keys_ = _settlement_key_of(report, keys.transfer_key)
    problems = []
    missing = ~report["has_payout"]
    if missing.any():
        problems.append(_problems(keys_[missing].fillna("WM-SET-?-XFER"),
                                  "settlement report has no PaymentSummary row: payout unknown, no transfer"))
    xfer = report[report["has_payout"] & (report["payout"] != 0) & keys_.notna()]
    lines = pd.DataFrame({
        "document_key": keys_[xfer.index], "document_kind": DocumentKind.TRANSFER.value, "document_date": xfer["deposit"],
        "currency": xfer["currency"], "settlement_key": xfer["settlement_key"], "source_ids": xfer["payable_id"],
        "category": LineCategory.TRANSFER.value, "description": "Walmart payout " + xfer["payable_id"] + " to the bank",
        "quantity": 1, "account": ledger_cfg.accounts.bank, "counter_account": ledger_cfg.accounts.clearing,
        "tax_code": ledger_cfg.tax_codes.no_tax, "amount_cents": xfer["payout"], "tax_cents": 0, "_o1": 0,
    })
    return lines.reset_index(drop=True), (pd.concat(problems, ignore_index=True) if problems else
                                          _problems(pd.Series([], dtype=object), []))


_WITHHELD_MONEY = {"product tax withheld": "product_tax", "shipping tax withheld": "shipping_tax"}


def withheld_treatment(rows: pd.DataFrame) -> pd.Series:
    """Per classified row: what the settlement says its tax is: 'facilitator', 'seller', 'partial' or None.

    The settlement is the judge of who remits: per purchase order line, transaction and tax (product or
    shipping), tax Walmart withheld back ("Product tax withheld") is facilitator tax; tax it collected and
    paid out is the seller's. Withholding part of it is 'partial'. Rows that are not tax get None.
    """
    is_tax = rows["money"].isin(["product_tax", "shipping_tax"]).to_numpy()
    tax_of = _text(rows["amount_type"]).str.lower().map(_WITHHELD_MONEY)
    withheld = (rows["kind"] == "withheld").to_numpy() & tax_of.notna().to_numpy()
    keyed = rows.assign(_tax=np.where(is_tax, rows["money"], tax_of), _po=_text(rows["purchase_order_id"]).fillna(""),
                        _line=_text(rows["purchase_order_line"]).fillna(""),
                        _collected=np.where(is_tax, rows["amount_cents"], 0), _withheld=np.where(withheld, rows["amount_cents"], 0))
    group = ["report_date", "_po", "_line", "transaction_type", "_tax"]
    sums = keyed[is_tax | withheld].groupby(group, dropna=False)[["_collected", "_withheld"]].transform("sum")
    judged = pd.Series(None, index=rows.index, dtype=object)
    collected, kept = sums["_collected"], sums["_withheld"]
    verdict = np.select([kept == 0, kept == -collected], ["seller", "facilitator"], "partial")
    judged.loc[sums.index] = verdict
    return judged.where(is_tax, None)


def facilitator_findings(rows: pd.DataFrame, config: MappingConfig) -> pd.DataFrame:
    """Tax rows where the mapping's state list and the settlement disagree on who remits, one per PO line and tax.

    Named findings for the `facilitator_tax_nets_to_zero` check: a state configured as facilitator whose
    tax Walmart paid out, or a seller-remitted state whose tax Walmart withheld, leaves the facilitator
    account (or the seller's tax) wrong, so it is never passed over in silence.
    """
    columns = ["purchase_order_id", "purchase_order_line", "ship_to_state", "configured", "settlement_shows",
               "tax_cents"]
    judged = withheld_treatment(rows)
    tax = rows[judged.notna()].assign(settlement_shows=judged[judged.notna()])
    if tax.empty:
        return pd.DataFrame(columns=columns)
    state = _text(tax["ship_to_state"]).str.upper()
    tax["configured"] = np.select([state.isin(list(config.tax.facilitator_states)).fillna(False).to_numpy(dtype=bool),
                                   state.isin(list(config.tax.seller_remitted_states)).fillna(False).to_numpy(dtype=bool)],
                                  ["facilitator", "seller"], "unlisted")
    tax["ship_to_state"] = state
    out = tax.groupby(["purchase_order_id", "purchase_order_line", "ship_to_state", "configured", "settlement_shows"],
                      as_index=False, dropna=False).agg(tax_cents=("amount_cents", "sum"))
    return out[(out["configured"] != out["settlement_shows"]) & (out["tax_cents"] != 0)][columns].reset_index(drop=True)


def _prepare(settlement_rows: pd.DataFrame, config: MappingConfig):
    rows = settlement_rows.reset_index(drop=True)
    rows = rows.assign(report_date=rows["report_date"].astype(str))
    rows = classify_settlement_rows(rows, config)
    rows["_day"] = _local_day(rows["posted_date"], "UTC")
    report, problems = _settlements(rows)
    rows = rows.drop(columns=["period_end"]).merge(report[["period_end", "payable_id", "settlement_key"]],
                                                   left_on="report_date", right_index=True, how="left")
    return rows, report, problems


# ------------------------------------------------------------------------------------------------
# settlement documents (per_order)
# ------------------------------------------------------------------------------------------------


def _refund_credit_keys(refund_rows: pd.DataFrame, order_refunds: pd.DataFrame | None) -> pd.DataFrame:
    """Per refund row: the credit note key (from return_order_id, else derived from a single order refund)."""
    out = refund_rows.copy()
    rid = (_text(out["return_order_id"]) if "return_order_id" in out
           else pd.Series(pd.NA, index=out.index, dtype="string"))
    refund_id = pd.Series(pd.NA, index=out.index, dtype="string")
    if order_refunds is not None and len(order_refunds):
        refunds = _dedupe(order_refunds, ["purchase_order_id", "line_number", "refund_id"])
        refunds = refunds.assign(purchase_order_id=refunds["purchase_order_id"].astype(str),
                                 line_number=refunds["line_number"].astype(str))
        unique = refunds.drop_duplicates(["purchase_order_id", "line_number"], keep=False)
        unique = unique.set_index(["purchase_order_id", "line_number"])
        index = pd.MultiIndex.from_arrays([out["purchase_order_id"].astype(str),
                                           out["purchase_order_line"].astype(str)])
        their_rid = pd.Series(_text(unique["return_order_id"]).reindex(index).to_numpy(), index=out.index,
                              dtype="string")
        their_refund = pd.Series(unique["refund_id"].astype("string").reindex(index).to_numpy(), index=out.index,
                                 dtype="string")
        rid = rid.fillna(their_rid)
        refund_id = their_refund.where(rid.isna())
    out["_rid"] = rid
    out["_refund_id"] = refund_id
    credit = pd.Series(None, index=out.index, dtype=object)
    has_rid, has_refund = rid.notna().to_numpy(), refund_id.notna().to_numpy()
    if has_rid.any():
        found, errors = _keys_for(keys.return_credit_note_key, rid[has_rid].astype(str))
        credit[has_rid] = found.where(errors.isna(), None)
    if has_refund.any():
        found, errors = _keys_for(keys.refund_credit_note_key, out.loc[has_refund, "purchase_order_id"].astype(str),
                                  refund_id[has_refund].astype(str))
        credit[has_refund] = found.where(errors.isna(), None)
    out["credit_key"] = credit
    return out


def settlement_documents(settlement_rows: pd.DataFrame, config: MappingConfig, ledger: str,
                         order_refunds: pd.DataFrame | None = None,
                         refunded_orders: pd.DataFrame | None = None) -> DocumentResult:
    """Per settlement report: a payment per purchase order, a refund payment per credit note, one fee
    bill, the transfer of the payout from the clearing account to the bank, and the credit notes of
    the refunds it pays that no return order explains.

    Payments total what the Sale rows credited for the PO (product price incl. promotions, product tax,
    shipping price, shipping tax); refund payments are the Refund rows' price/tax amounts (negative).
    A refund row without return_order_id gets its credit note from `order_refunds` when exactly one
    refund matches its PO line; otherwise it is rejected. Everything else goes on the fee bill.
    With `refunded_orders` (the order lines of `order_refunds`: their ship-to state decides the tax) the
    credit notes of those refunds are built here too; without, `order_refunds` only names them.
    """
    if settlement_rows is None or settlement_rows.empty:
        return _empty_result()
    paid = _paid_documents(settlement_rows, config, ledger, order_refunds)
    if order_refunds is None or order_refunds.empty or refunded_orders is None:
        return paid
    # A refund issued on the order is credited where Walmart pays it: here, dated when Walmart posted it.
    notes = credit_notes(None, order_refunds, refunded_orders, config, ledger)
    return DocumentResult(pd.concat([notes.documents, paid.documents], ignore_index=True),
                          pd.concat([notes.rejects, paid.rejects], ignore_index=True))


def _paid_documents(settlement_rows: pd.DataFrame, config: MappingConfig, ledger: str,
                    order_refunds: pd.DataFrame | None) -> DocumentResult:
    ledger_cfg = config.ledger(ledger)
    rows, report, key_problems = _prepare(settlement_rows, config)
    problems = [key_problems]
    accounts = ledger_cfg.accounts
    no_tax = ledger_cfg.tax_codes.no_tax
    parts = []

    # (a) payments of invoices
    order = rows[rows["kind"] == "order"].copy()
    order["purchase_order_id"] = _text(order["purchase_order_id"])
    no_po = order["purchase_order_id"].isna()
    if no_po.any():
        bad = order[no_po]
        problems.append(_problems(bad["settlement_key"] + "-ROW-" + bad["row_number"].astype(str),
                                  bad["transaction_type"] + " row with amount type " + bad["amount_type"].astype(str)
                                  + " has no purchase order: it cannot be matched to an invoice or credit note"))
    sale = order[(order["transaction_type"] == "Sale") & ~no_po]
    if len(sale):
        pay = sale.groupby(["report_date", "purchase_order_id"], as_index=False).agg(
            amount_cents=("amount_cents", "sum"), document_date=("_day", "max"),
            period_end=("period_end", "first"), payable_id=("payable_id", "first"),
            settlement_key=("settlement_key", "first"), currency=("currency", "first"))
        pay = pay[pay["amount_cents"] != 0]
        pay["document_key"], pay_errors = _keys_for(keys.payment_key, pay["period_end"].dt.date, pay["payable_id"],
                                                    pay["purchase_order_id"].astype(str), fallback="WM-SET-?")
        invoice, invoice_errors = _keys_for(keys.invoice_key, pay["purchase_order_id"].astype(str))
        problems.append(_key_problems(pay["document_key"], pay_errors.fillna(invoice_errors)))
        parts.append(pd.DataFrame({
            "document_key": pay["document_key"], "document_kind": DocumentKind.PAYMENT.value,
            "document_date": pay["document_date"], "currency": pay["currency"], "related_key": invoice,
            "settlement_key": pay["settlement_key"], "source_ids": pay["purchase_order_id"].astype(str),
            "category": LineCategory.PAYMENT.value,
            "description": "Walmart payment of order " + pay["purchase_order_id"].astype(str),
            "quantity": 1, "account": accounts.clearing, "tax_code": no_tax,
            "amount_cents": pay["amount_cents"], "tax_cents": 0, "_o1": 0,
        }))

    # (b) refund payments (negative), one per credit note
    refund = order[(order["transaction_type"] == "Refund") & ~no_po]
    if len(refund):
        refund = _refund_credit_keys(refund, order_refunds)
        unknown = refund["credit_key"].isna()
        if unknown.any():
            bad = refund[unknown].assign(_line=refund.loc[unknown, "purchase_order_line"].astype(str))
            bad = bad.groupby(["settlement_key", "purchase_order_id", "_line"], as_index=False).agg(
                amount=("amount_cents", "sum"), currency=("currency", "first"))
            amounts = _money_text(bad["amount"], bad["currency"])
            problems.append(_problems(
                bad["settlement_key"] + "-R-" + bad["purchase_order_id"] + "-" + bad["_line"],
                [f"refund of {a} on PO {p} line {n}: no return order id and no single order refund to derive "
                 "its credit note from" for a, p, n in zip(amounts, bad["purchase_order_id"], bad["_line"], strict=True)],
            ))
        known = refund[~unknown]
        if len(known):
            rp = known.groupby(["report_date", "credit_key"], as_index=False).agg(
                amount_cents=("amount_cents", "sum"), document_date=("_day", "max"),
                period_end=("period_end", "first"), payable_id=("payable_id", "first"),
                settlement_key=("settlement_key", "first"), currency=("currency", "first"))
            rp = rp.join(_joined(known, ["report_date", "credit_key"], "purchase_order_id").rename("source_ids"),
                         on=["report_date", "credit_key"])
            rp = rp[rp["amount_cents"] != 0]
            rp["document_key"], rp_errors = _keys_for(keys.payment_key, rp["period_end"].dt.date, rp["payable_id"],
                                                      rp["credit_key"].str.removeprefix("WM-"), fallback="WM-SET-?")
            problems.append(_key_problems(rp["document_key"], rp_errors))
            parts.append(pd.DataFrame({
                "document_key": rp["document_key"], "document_kind": DocumentKind.PAYMENT.value,
                "document_date": rp["document_date"], "currency": rp["currency"], "related_key": rp["credit_key"],
                "settlement_key": rp["settlement_key"],
                "source_ids": rp["credit_key"].str.split("-", n=2).str[2] + "," + rp["source_ids"],
                "category": LineCategory.REFUND.value, "description": "Walmart refund paid for " + rp["credit_key"],
                "quantity": 1, "account": accounts.clearing, "tax_code": no_tax,
                "amount_cents": rp["amount_cents"], "tax_cents": 0, "_o1": 0,
            }))

    # (c) the fee bills: one per month the fees were posted in (cut-off), the period end's month first
    rows["_bill"] = _fee_bill_keys(rows)
    fees = rows[rows["kind"].isin(BILL_KINDS)].copy()
    unmapped = rows[rows["kind"] == "unmapped"]
    if len(unmapped):
        reasons = _unmapped_reasons(unmapped, ["_bill"])
        problems.append(_problems(reasons["_bill"], reasons["reason"]))
    if len(fees):
        fees["_line"] = np.where(fees["kind"] == "fee", "fee:" + fees["fee_type"].fillna(""), fees["kind"])
        bill = fees.groupby(["report_date", "_bill", "_line"], as_index=False).agg(
            settlement_amount=("amount_cents", "sum"), fee_type=("fee_type", "first"), kind=("kind", "first"))
        bill = bill[bill["settlement_amount"] != 0]
        bill = bill.merge(report[["period_end", "payable_id", "settlement_key", "currency"]], left_on="report_date",
                          right_index=True)
        # dated at the period end, or for an earlier month's bill at the last day its fees were posted
        last_day = fees.groupby("_bill")["_day"].max()
        in_end_month = bill["_bill"].map(last_day).dt.to_period("M") == bill["period_end"].dt.to_period("M")
        bill["_date"] = bill["period_end"].where(in_end_month, bill["_bill"].map(last_day))
        specs = bill_line_specs(ledger_cfg)
        account = bill["kind"].map({k: v[1] for k, v in specs.items()}).astype(object)
        account = account.where(bill["kind"] != "fee", bill["fee_type"].map(accounts.fees))
        description = bill["kind"].map({k: v[2] for k, v in specs.items()}).astype(object)
        description = description.where(bill["kind"] != "fee", bill["fee_type"].map(FEE_LABELS))
        tax_code = np.where(bill["kind"] == "withheld", ledger_cfg.tax_codes.facilitator, no_tax)
        order_ = bill["kind"].map({k: v[3] for k, v in specs.items()}).astype(float)
        order_ = order_.where(bill["kind"] != "fee", bill["fee_type"].map(_FEE_ORDER).fillna(99).astype(float))
        parts.append(pd.DataFrame({
            "document_key": bill["_bill"], "document_kind": DocumentKind.FEE_BILL.value,
            "document_date": bill["_date"], "currency": bill["currency"],
            "contact_key": config.contacts.supplier_number, "contact_name": config.contacts.supplier_name,
            "settlement_key": bill["settlement_key"], "source_ids": bill["payable_id"],
            "category": bill["kind"].map({k: v[0] for k, v in specs.items()}),
            "description": description, "quantity": 1, "account": account, "tax_code": tax_code,
            "amount_cents": -bill["settlement_amount"], "tax_cents": 0, "_o1": order_,
        }))

    # (d) the transfer
    xfer, xfer_problems = _transfers(report, ledger_cfg)
    parts.append(xfer)
    problems.append(xfer_problems)

    filled = [p for p in parts if len(p)]
    lines = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=["document_key"])
    sources = _settlement_sources(rows)
    return _assemble(lines, problems, sources, ledger)


# Settlement rows that go on the per_order fee bill (with the settlement's sign reversed: the bill is a cost).
BILL_KINDS = ("fee", "withheld", "adjustment", "reserve", "promotion", "funded_savings", "reimbursement", "suspense")


def bill_line_specs(ledger_cfg: Ledger) -> dict[str, tuple[str, str | None, str | None, float]]:
    """Row kind -> (line category, account, description, line order) for what is not a fee type of its own."""
    a = ledger_cfg.accounts
    resolved = a.effective()
    return {
        "fee": (LineCategory.FEE.value, None, None, 0),
        "promotion": (LineCategory.PROMOTION.value, resolved["promotions"],
                      "Walmart promotions funded by the seller (promo codes)", 95),
        "funded_savings": (LineCategory.FUNDED_SAVINGS.value, resolved["funded_savings"],
                           "Walmart-funded savings paid to the seller", 96),
        "reimbursement": (LineCategory.REIMBURSEMENT.value, resolved["reimbursements"],
                          "Walmart reimbursements (lost or damaged inventory)", 97),
        "withheld": (LineCategory.FACILITATOR_TAX_WITHHELD.value, a.facilitator_tax,
                     "Marketplace facilitator tax withheld", 100),
        "adjustment": (LineCategory.ADJUSTMENT.value, a.adjustments, "Walmart adjustments and dispute settlements", 101),
        "reserve": (LineCategory.RESERVE.value, a.reserve, "Walmart reserve held (released when negative)", 102),
        "suspense": (LineCategory.SUSPENSE.value, a.suspense,
                     "Walmart amounts of unmapped types, parked for review (suspense)", 103),
    }


def _fee_bill_keys(rows: pd.DataFrame) -> pd.Series:
    """Per row: the key of the fee bill of the month it was posted in (the plain key in the period end's month)."""
    found, _ = _keys_for(keys.fee_bill_key, rows["period_end"].dt.date, rows["payable_id"],
                         rows["_day"].dt.to_period("M").dt.to_timestamp().dt.date, fallback="WM-SET-?")
    return found


def _settlement_sources(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows behind each fee bill (for the reject record): fee, withheld, adjustment, reserve, unmapped rows."""
    keep = rows["kind"].isin([*BILL_KINDS, "unmapped"])
    src = rows.loc[keep].drop(columns=["_day", "period_end", "payable_id"], errors="ignore")
    return src.assign(document_key=src["_bill"]).drop(columns=["_bill"])
