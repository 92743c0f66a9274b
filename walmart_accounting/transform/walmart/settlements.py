"""Rows of a v1 reconciliation report (strings by column name) -> SettlementRow rows, with rejects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from walmart_accounting.domain.money import MoneyError, minor_from_api
from walmart_accounting.schemas.walmart import SETTLEMENT_TRANSACTION_TYPES, SettlementRow
from walmart_accounting.transform.validation import Validated, split_valid
from walmart_accounting.transform.walmart.common import DEFAULT_CURRENCY, _empty, _reject, _rejects

PAYMENT_SUMMARY = "PaymentSummary"

SETTLEMENT_COLUMNS = list(SettlementRow.to_schema().columns)

_TRANSACTION_TYPES = {name.lower(): name for name in SETTLEMENT_TRANSACTION_TYPES}
# SettlementRow column -> v1 report header (FACTS.md section 4); parsed by name, extra columns ignored.
_RECON_TEXT_COLUMNS = {
    "transaction_key": "Transaction Key",
    "transaction_description": "Transaction Description",
    "amount_type": "Amount Type",
    "customer_order_id": "Customer Order #",
    "purchase_order_id": "Purchase Order #",
    "purchase_order_line": "Purchase Order line #",
    "sku": "Partner Item Id",
    "ship_to_state": "Ship to State",
    "fulfillment_type": "Fulfillment Type",
}
_RECON_HEADERS = [*_RECON_TEXT_COLUMNS.values(), "Period Start Date", "Period End Date", "Total Payable", "Currency",
                  "Transaction Posted Timestamp", "Transaction Type", "Amount", "Ship Qty"]


def _clean(series: pd.Series) -> pd.Series:
    """Report cells as stripped strings; empty and the literal two-quote value ('""') become ''."""
    text = series.fillna("").astype(str).str.strip()
    return text.mask(text.isin(['""', "''"]), "")


def _mdy(series: pd.Series) -> pd.Series:
    """MM/DD/YYYY (a trailing time is ignored) -> naive Timestamp, NaT where it is not such a date."""
    day = series.str.split(r"[ T]", n=1, regex=True).str[0]
    return pd.to_datetime(day, format="%m/%d/%Y", errors="coerce").astype("datetime64[ns]")


def _join_reasons(index: pd.Index, *checks: pd.Series) -> pd.Series:
    """One '; '-joined reason per row from aligned Series of optional messages."""
    reasons = pd.Series("", index=index, dtype="object")
    for check in checks:
        message = check.reindex(index).fillna("")
        sep = np.where((reasons != "") & (message != ""), "; ", "")
        reasons = reasons + sep + message
    return reasons


def _money_cells(amounts: pd.Series, currencies: pd.Series, label: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(cents, error message) per cell: exact conversion, refusing amounts that would need rounding."""
    cents, errors = [], []
    for amount, currency, name in zip(amounts, currencies, label, strict=True):
        try:
            if not amount:
                raise MoneyError("is empty")
            cents.append(minor_from_api(amount, currency or DEFAULT_CURRENCY))
            errors.append("")
        except MoneyError as exc:
            cents.append(0)
            errors.append(f"{name} {amount!r}: {exc}" if amount else f"{name} is empty")
    return pd.Series(cents, index=amounts.index, dtype="int64"), pd.Series(errors, index=amounts.index, dtype="object")


def settlement_frame(report_date: str, rows: list[dict[str, str]],
                     return_order_ids: dict[tuple[str, str], str] | None = None) -> Validated:
    """The rows of one v1 reconciliation report -> SettlementRow per row (the PaymentSummary carries the payout)."""
    rows = list(rows or [])
    rejects: list[dict] = []
    records, positions = [], []
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            rejects.append(_reject(f"{report_date}:{position}", "row is not a mapping of column to value", row))
            continue
        records.append({str(k).strip(): v for k, v in row.items() if k is not None})
        positions.append(position)
    if not records:
        checked = split_valid(_empty_settlement(), SettlementRow, ["report_date", "row_number"])
        return Validated(checked.valid, _rejects(rejects, checked.rejects))

    raw = pd.DataFrame.from_records(records, index=pd.Index(positions, name=None))
    for header in _RECON_HEADERS:
        if header not in raw.columns:
            raw[header] = ""
    cells = {header: _clean(raw[header]) for header in _RECON_HEADERS}

    ttype = cells["Transaction Type"].str.lower().map(_TRANSACTION_TYPES)
    summary = ttype == PAYMENT_SUMMARY
    unknown = "unknown Transaction Type " + cells["Transaction Type"].map(repr)
    type_error = pd.Series(np.where(ttype.isna(), unknown, ""), index=raw.index)

    # The period, and the default currency, come from the PaymentSummary row for every row.
    report_error = ""
    period_start = period_end = pd.NaT
    summary_currency = ""
    if summary.sum() != 1:
        report_error = f"the report has {int(summary.sum())} PaymentSummary rows, not 1"
    else:
        first = summary[summary].index[0]
        period_start = _mdy(cells["Period Start Date"].loc[[first]]).iloc[0]
        period_end = _mdy(cells["Period End Date"].loc[[first]]).iloc[0]
        summary_currency = cells["Currency"].loc[first]
        if pd.isna(period_start) or pd.isna(period_end):
            report_error = (f"PaymentSummary period {cells['Period Start Date'].loc[first]!r} - "
                            f"{cells['Period End Date'].loc[first]!r} is not MM/DD/YYYY")

    currency = cells["Currency"].mask(cells["Currency"] == "", summary_currency).str.upper()
    currency_error = pd.Series(np.where(currency.str.fullmatch(r"[A-Z]{3}"), "",
                                        "Currency " + cells["Currency"].map(repr) + " is not a currency code"),
                               index=raw.index)
    amount_text = cells["Amount"].where(~summary, cells["Total Payable"])
    amount_label = pd.Series(np.where(summary, "Total Payable", "Amount"), index=raw.index)
    usable_currency = currency.where(currency_error == "", DEFAULT_CURRENCY)
    cents, amount_error = _money_cells(amount_text, usable_currency, amount_label)

    posted = _mdy(cells["Transaction Posted Timestamp"])
    posted_error = pd.Series(np.where(posted.isna(), "Transaction Posted Timestamp "
                                      + cells["Transaction Posted Timestamp"].map(repr) + " is not MM/DD/YYYY", ""),
                             index=raw.index)

    qty_text = cells["Ship Qty"]
    qty_number = pd.to_numeric(qty_text.mask(qty_text == "", None), errors="coerce")
    qty_ok = (qty_text == "") | (qty_number.notna() & (qty_number == qty_number.round()))
    qty_error = pd.Series(np.where(qty_ok, "", "Ship Qty " + qty_text.map(repr) + " is not a whole number"),
                          index=raw.index)

    reasons = _join_reasons(raw.index, pd.Series(report_error, index=raw.index), type_error, currency_error,
                            amount_error, posted_error, qty_error)

    frame = pd.DataFrame(index=raw.index)
    frame["report_date"] = str(report_date)
    frame["period_start"] = period_start
    frame["period_end"] = period_end
    frame["row_number"] = raw.index.astype("int64")
    for column, header in _RECON_TEXT_COLUMNS.items():
        frame[column] = cells[header].mask(cells[header] == "", None)
    frame["posted_date"] = posted
    frame["transaction_type"] = ttype
    frame["ship_qty"] = qty_number.where(qty_ok).round().astype("Int64")
    frame["currency"] = currency
    frame["amount_cents"] = cents
    lookup = return_order_ids or {}
    keys = zip(frame["purchase_order_id"], frame["purchase_order_line"], strict=True)
    frame["return_order_id"] = pd.Series([lookup.get((po, ln)) if po is not None else None for po, ln in keys],
                                         index=frame.index, dtype="object").where(ttype == "Refund", None)

    bad = reasons != ""
    for position in raw.index[bad]:
        rejects.append(_reject(f"{report_date}:{position}", reasons.loc[position], rows[position]))
    good = frame[~bad].reset_index(drop=True)[SETTLEMENT_COLUMNS]
    checked = split_valid(good if len(good) else _empty_settlement(), SettlementRow, ["report_date", "row_number"])
    return Validated(checked.valid, _rejects(rejects, checked.rejects))


def _empty_settlement() -> pd.DataFrame:
    frame = _empty(SETTLEMENT_COLUMNS)
    return frame.astype({"period_start": "datetime64[ns]", "period_end": "datetime64[ns]",
                         "posted_date": "datetime64[ns]", "row_number": "int64", "ship_qty": "Int64",
                         "amount_cents": "int64"})


def refunds_without_return(rows: pd.DataFrame) -> list[str]:
    """Purchase orders of the report's Refund rows that no return order explains: refunds issued on the order."""
    refund = rows[(rows["transaction_type"] == "Refund") & rows["return_order_id"].isna() & rows["purchase_order_id"].notna()]
    return sorted(refund["purchase_order_id"].astype(str).unique())


def settled_order_refunds(refunds: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The orders' refunds that this report pays, each dated when Walmart posted it (its Refund row's day).

    The order's refund section has no date; the report's Transaction Posted Timestamp is when Walmart
    posted the refund, which is when the credit note belongs in the books.
    """
    refund_rows = rows[(rows["transaction_type"] == "Refund") & rows["purchase_order_id"].notna()]
    posted = (refund_rows.assign(purchase_order_id=refund_rows["purchase_order_id"].astype(str),
                                 line_number=refund_rows["purchase_order_line"].astype(str))
              .groupby(["purchase_order_id", "line_number"])["posted_date"].min().rename("refund_date").reset_index())
    out = refunds.assign(purchase_order_id=refunds["purchase_order_id"].astype(str),
                         line_number=refunds["line_number"].astype(str))
    out = out.merge(posted, on=["purchase_order_id", "line_number"], how="inner")
    out["refund_date"] = pd.to_datetime(out["refund_date"]).astype("datetime64[ns]")
    out["report_date"] = rows["report_date"].astype(str).iloc[0] if len(rows) else None
    return out.reset_index(drop=True)
