"""Sales invoices: one per finished purchase order, holding its shipped quantities to the cent."""

from __future__ import annotations

import pandas as pd

from walmart_accounting.domain import keys
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.documents import DocumentKind
from walmart_accounting.domain.money import prorate_minor
from walmart_accounting.transform.documents.common import (
    DocumentResult,
    _assemble,
    _cents,
    _charge_lines,
    _contact_columns,
    _dedupe,
    _empty_result,
    _key_problems,
    _keys_for,
    _line_order,
    _local_day,
)

OPEN_STATUSES = ("Created", "Acknowledged")
ORDER_MONEY = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents", "discount_cents",
               "discount_tax_cents"]


def _prorated(frame: pd.DataFrame) -> pd.DataFrame:
    """Order-line money prorated to the shipped quantity where partly cancelled: the line's parts add up to its share."""
    out = frame.copy()
    for column in ORDER_MONEY:
        out[column] = _cents(out[column])
    partial = (out["shipped_quantity"] < out["quantity"]).to_numpy()
    if partial.any():  # rare: only partly shipped lines go through Python, one call per line
        shipped = out.loc[partial, "shipped_quantity"].astype(int).tolist()
        quantity = out.loc[partial, "quantity"].astype(int).tolist()
        cells = out.loc[partial, ORDER_MONEY].astype(int).to_numpy().tolist()
        out.loc[partial, ORDER_MONEY] = [prorate_minor(c, s, q) for c, s, q in zip(cells, shipped, quantity, strict=True)]
        out[ORDER_MONEY] = out[ORDER_MONEY].astype("int64")
    return out


def invoice_ready(order_lines: pd.DataFrame) -> pd.DataFrame:
    """The order lines of purchase orders with nothing left open (every line shipped or cancelled)."""
    lines = _dedupe(order_lines, ["purchase_order_id", "line_number"])
    open_line = lines["status"].isin(OPEN_STATUSES) | (
        lines["shipped_quantity"] + lines["cancelled_quantity"] < lines["quantity"])
    open_po = lines.loc[open_line, "purchase_order_id"].unique()
    return lines[~lines["purchase_order_id"].isin(open_po)]


def sales_invoices(order_lines: pd.DataFrame, config: MappingConfig, ledger: str) -> DocumentResult:
    """One invoice per purchase order with no line left open (Created/Acknowledged or not fully shipped or
    cancelled), holding its shipped quantities; total = Walmart's charges for them, to the cent."""
    ledger_cfg = config.ledger(ledger)
    if order_lines is None or order_lines.empty:
        return _empty_result()
    ready = invoice_ready(order_lines)
    ready = _prorated(ready[ready["shipped_quantity"] > 0].reset_index(drop=True))
    if ready.empty:
        return _empty_result()
    ready["document_key"], errors = _keys_for(keys.invoice_key, ready["purchase_order_id"].astype(str))
    problems = [_key_problems(ready["document_key"], errors)]

    charges = pd.DataFrame({
        "document_key": ready["document_key"], "_o1": _line_order(ready["line_number"]),
        "sku": ready["sku"], "name": ready["product_name"] if "product_name" in ready else None,
        "quantity": ready["shipped_quantity"].astype("int64"), "ship_to_state": ready["ship_to_state"],
        "currency": ready["currency"],
        "product": ready["product_cents"], "product_tax": ready["product_tax_cents"],
        "discount": ready["discount_cents"], "discount_tax": ready["discount_tax_cents"],
        "shipping": ready["shipping_cents"], "shipping_tax": ready["shipping_tax_cents"],
    })
    labels = {"product": "", "discount": "Discount: ", "shipping": "Shipping: ",
              "facilitator_tax": "Marketplace facilitator tax"}
    accounts = {"product": None, "discount": ledger_cfg.accounts.discounts, "shipping": ledger_cfg.accounts.shipping}
    lines, line_problems = _charge_lines(charges, config, ledger_cfg, ledger, accounts, labels)
    problems.append(line_problems)

    ready["_day"] = _local_day(ready["ship_date"].fillna(ready["order_date"]), config.seller.timezone)
    header = ready.groupby("document_key", sort=False).agg(
        document_date=("_day", "max"), currency=("currency", "first"), source_ids=("purchase_order_id", "first"))
    first = ready.drop_duplicates("document_key").set_index("document_key")
    contacts = _contact_columns(first, config)
    header = header.join(contacts).assign(document_kind=DocumentKind.SALES_INVOICE.value, related_key=None, settlement_key=None)
    lines = lines.merge(header, left_on="document_key", right_index=True, how="left")
    sources = ready.drop(columns=["_day"])
    return _assemble(lines, problems, sources, ledger)
