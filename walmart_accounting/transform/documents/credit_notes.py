"""Credit notes: one per refunded return and per order refund without a return, mirroring the invoice."""

from __future__ import annotations

import numpy as np
import pandas as pd

from walmart_accounting.domain import keys
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.documents import DocumentKind
from walmart_accounting.transform.documents.common import (
    DocumentResult,
    _assemble,
    _cents,
    _charge_lines,
    _contact_columns,
    _dedupe,
    _empty_result,
    _joined,
    _key_problems,
    _keys_for,
    _line_order,
    _local_day,
    _problems,
    _text,
)


def _original_lines(order_lines: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["purchase_order_id", "line_number", "ship_to_state", "customer_email", "customer_name", "product_name"]
    if order_lines is None or order_lines.empty:
        return pd.DataFrame(columns=columns, dtype=object)
    lines = _dedupe(order_lines, ["purchase_order_id", "line_number"])
    present = [c for c in columns if c in lines.columns]
    out = lines[present].copy()
    out["purchase_order_id"] = out["purchase_order_id"].astype(str)
    out["line_number"] = out["line_number"].astype(str)
    return out


def _missing_originals(merged: pd.DataFrame, line_column: str) -> pd.DataFrame:
    """Credit-note rows whose original order line is unknown: without it the ship-to state (tax) is unknown."""
    missing = merged["o_purchase_order_id"].isna()
    bad = merged[missing]
    return _problems(bad["document_key"], "original order line " + bad["purchase_order_id"] + " line "
                     + bad[line_column] + " not found: ship-to state unknown (missing shipping information)")


def settled_returns(return_lines: pd.DataFrame) -> pd.DataFrame:
    """Refunded lines of returns with no line still waiting for its refund (refund_status *PENDING* or unset)."""
    lines = _dedupe(return_lines, ["return_order_id", "return_line_number"])
    refunded = lines["refunded"].astype(bool)
    status = (_text(lines["refund_status"]).str.upper() if "refund_status" in lines
              else pd.Series(pd.NA, index=lines.index, dtype="string"))
    waiting = ~refunded & (status.isna() | status.str.contains("PENDING").fillna(True))
    open_returns = lines.loc[waiting.to_numpy(), "return_order_id"].unique()
    return lines[refunded.to_numpy() & ~lines["return_order_id"].isin(open_returns).to_numpy()]


def credit_notes(return_lines: pd.DataFrame, order_refunds: pd.DataFrame | None, order_lines: pd.DataFrame | None,
                 config: MappingConfig, ledger: str) -> DocumentResult:
    """A credit note per refunded return (WM-RET-...), and per order refund without a return (WM-RFD-...).

    Lines mirror the invoice (tax treatment from the ship-to state of the original order line), with
    positive amounts on the refunds account; a fee kept back (restocking) is a negative line on the
    SKU's sales account. An order refund that names a return order is covered by that return's
    credit note and never booked again.
    """
    ledger_cfg = config.ledger(ledger)
    originals = _original_lines(order_lines)
    frames = []
    sources = []
    problems = []

    if return_lines is not None and len(return_lines):
        ret = settled_returns(return_lines).reset_index(drop=True)
        if len(ret):
            rid = ret["return_order_id"].astype(str)
            ret["document_key"], errors = _keys_for(keys.return_credit_note_key, rid, fallback="WM-RET-?")
            problems.append(_key_problems(ret["document_key"], errors))
            ret["purchase_order_id"] = ret["purchase_order_id"].astype(str)
            ret["purchase_order_line_number"] = ret["purchase_order_line_number"].astype(str)
            merged = ret.merge(originals.add_prefix("o_"), how="left",
                               left_on=["purchase_order_id", "purchase_order_line_number"],
                               right_on=["o_purchase_order_id", "o_line_number"])
            problems.append(_missing_originals(merged, "purchase_order_line_number"))
            zero = pd.Series(0, index=merged.index, dtype="int64")
            frames.append(pd.DataFrame({
                "document_key": merged["document_key"],
                "_o1": _line_order(merged["return_line_number"]) if "return_line_number" in merged else 0.0,
                "sku": merged["sku"],
                "name": merged["o_product_name"] if "o_product_name" in merged else merged["sku"],
                "quantity": merged["quantity"].astype("int64"),
                "ship_to_state": merged["o_ship_to_state"],
                "currency": merged["currency"],
                "product": _cents(merged["product_cents"]), "product_tax": _cents(merged["product_tax_cents"]),
                "discount": zero, "discount_tax": zero,
                "shipping": _cents(merged["shipping_cents"]), "shipping_tax": _cents(merged["shipping_tax_cents"]),
                "fee": _cents(merged["fee_cents"]) if "fee_cents" in merged else zero,
                # dated when Walmart completed the refund (cut-off), else when the return was opened
                "_date": (merged["refund_date"].fillna(merged["return_date"]) if "refund_date" in merged
                          else merged["return_date"]),
                "_source": rid, "_po": merged["purchase_order_id"],
                "customer_key": merged["customer_key"],
                "customer_name": _text(merged["customer_name"]).fillna(_text(merged["o_customer_name"]))
                if "o_customer_name" in merged else merged["customer_name"],
                "customer_email": merged["o_customer_email"] if "o_customer_email" in merged else None,
            }))
            sources.append(ret)

    if order_refunds is not None and len(order_refunds):
        refunds = _dedupe(order_refunds, ["purchase_order_id", "line_number", "refund_id"])
        refunds = refunds[_text(refunds["return_order_id"]).isna().to_numpy()].reset_index(drop=True)
        if len(refunds):
            refunds["document_key"], errors = _keys_for(
                keys.refund_credit_note_key, refunds["purchase_order_id"].astype(str), refunds["refund_id"].astype(str),
                fallback="WM-RFD-?")
            problems.append(_key_problems(refunds["document_key"], errors))
            refunds["purchase_order_id"] = refunds["purchase_order_id"].astype(str)
            refunds["line_number"] = refunds["line_number"].astype(str)
            orig = originals.copy()
            merged = refunds.merge(orig.add_prefix("o_"), how="left", left_on=["purchase_order_id", "line_number"],
                                   right_on=["o_purchase_order_id", "o_line_number"])
            problems.append(_missing_originals(merged, "line_number"))
            zero = pd.Series(0, index=merged.index, dtype="int64")
            customer = pd.DataFrame()
            when = pd.Series(pd.NaT, index=merged.index)
            po = merged["purchase_order_id"]
            if order_lines is not None and len(order_lines):
                by_po = order_lines.assign(purchase_order_id=order_lines["purchase_order_id"].astype(str))
                customer = by_po.drop_duplicates("purchase_order_id").set_index("purchase_order_id")
                # undated refund: the credit note falls back to the order's last ship (else order) date
                dates = by_po.groupby("purchase_order_id")[["ship_date", "order_date"]].max()
                when = po.map(dates["ship_date"].fillna(dates["order_date"]))
            # the day Walmart posted the refund (its settlement row, a calendar day): the credit note's date
            posted = (pd.to_datetime(merged["refund_date"]).dt.normalize() if "refund_date" in merged
                      else pd.Series(pd.NaT, index=merged.index, dtype="datetime64[ns]"))
            frames.append(pd.DataFrame({
                "document_key": merged["document_key"], "_o1": _line_order(merged["line_number"]),
                "sku": merged["sku"], "name": merged["o_product_name"] if "o_product_name" in merged else merged["sku"],
                "quantity": 1, "ship_to_state": merged["o_ship_to_state"],
                "currency": merged["currency"],
                "product": -_cents(merged["product_cents"]), "product_tax": -_cents(merged["product_tax_cents"]),
                "discount": zero, "discount_tax": zero,
                "shipping": -_cents(merged["shipping_cents"]), "shipping_tax": -_cents(merged["shipping_tax_cents"]),
                "fee": zero, "_date": when, "_posted": posted, "_source": po + "," + merged["refund_id"].astype(str),
                "_po": po,
                "customer_key": po.map(customer["customer_key"]) if "customer_key" in customer else None,
                "customer_name": po.map(customer["customer_name"]) if "customer_name" in customer else None,
                "customer_email": po.map(customer["customer_email"]) if "customer_email" in customer else None,
            }))
            sources.append(refunds)

    if not frames:
        return _empty_result()
    charges = pd.concat(frames, ignore_index=True)
    labels = {"product": "Refund: ", "discount": "Refunded discount: ", "shipping": "Refunded shipping: ",
              "fee": "Restocking fee kept back: ", "facilitator_tax": "Marketplace facilitator tax refunded"}
    accounts = {"product": ledger_cfg.accounts.refunds, "discount": ledger_cfg.accounts.discounts,
                "shipping": ledger_cfg.accounts.refunds, "fee": None}
    lines, line_problems = _charge_lines(charges, config, ledger_cfg, ledger, accounts, labels)
    problems.append(line_problems)

    related, related_errors = _keys_for(keys.invoice_key, charges["_po"].astype(str))
    charges["related_key"] = related.where(related_errors.isna(), None)
    charges["_day"] = _local_day(charges["_date"], config.seller.timezone)
    if "_posted" in charges:
        charges["_day"] = charges["_posted"].where(charges["_posted"].notna(), charges["_day"])
    header = charges.groupby("document_key", sort=False).agg(
        document_date=("_day", "max"), currency=("currency", "first"),
        related_key=("related_key", "min"), _source=("_source", "first"))
    header["_pos"] = _joined(charges, "document_key", "_po")
    header["source_ids"] = np.where(header.index.str.startswith("WM-RET-"), header["_source"] + "," + header["_pos"],
                                    header["_source"])
    header = header.drop(columns=["_source", "_pos"])
    undated = header["document_date"].isna()
    if undated.any():
        problems.append(_problems(pd.Series(header.index[undated]),
                                  "no date for the credit note (return date or ship date unknown)"))
    first = charges.drop_duplicates("document_key").set_index("document_key")
    header = header.join(_contact_columns(first, config)).assign(document_kind=DocumentKind.CREDIT_NOTE.value,
                                                                 settlement_key=None)
    lines = lines.merge(header, left_on="document_key", right_index=True, how="left")
    src = pd.concat(sources, ignore_index=True) if sources else None
    return _assemble(lines, problems, src, ledger)
