"""Daily sales per day, SKU and ship-to state, with Walmart's fees allocated to them to the cent."""

from __future__ import annotations

import pandas as pd

from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.money import allocate_minor
from walmart_accounting.transform.documents.settlements import classify_settlement_rows

KEYS = ["day", "sku", "ship_to_state"]
CENTS_COLUMNS = ["gross_sales_cents", "shipping_cents", "discount_cents", "tax_cents", "refund_cents", "refund_tax_cents",
                 "line_fees_cents", "allocated_fees_cents", "fees_cents"]
DAILY_SALES_COLUMNS = [*KEYS, "units", "shipped_units", "refund_lines", *CENTS_COLUMNS]
NO_STATE = "(none)"
UNALLOCATED = "(unallocated)"


def daily_sales(order_lines: pd.DataFrame, refund_lines: pd.DataFrame | None, settlement_rows_or_fees: pd.DataFrame | None,
                *, config: MappingConfig | None = None) -> pd.DataFrame:
    """Per UTC order day, SKU and ship-to state: units and money in int64 cents (columns DAILY_SALES_COLUMNS).

    - `order_lines` (OrderLine): dated by order date; units = ordered − cancelled; gross sales = product price,
      tax = product + shipping + discount tax. Their ship-to state is the state.
    - `refund_lines` (OrderRefund or SettledRefund, amounts negative): under the refunded order line's SKU and
      state, dated by `refund_date` when the frame has it, else by the settlement's Refund row for that PO
      line, else by the order's day; refund_cents is the price, refund_tax_cents the tax.
    - `settlement_rows_or_fees`: settlement rows (SettlementRow, with `config=` to classify them), rows already
      classified (with a `kind` column), or a frame of fee rows only (amount_cents, purchase_order_id,
      purchase_order_line). Fees in settlement signs (negative = cost). A fee row naming a purchase order line
      that is in `order_lines` (commissions) goes to that line (line_fees_cents); all others are allocated pro
      rata by gross sales with allocate_minor (allocated_fees_cents), so fees_cents sum exactly to the fees.
    """
    orders = _order_part(order_lines)
    refunds = _refund_part(refund_lines, order_lines, settlement_rows_or_fees)
    base = pd.concat([p for p in (orders, refunds) if len(p)], ignore_index=True) if len(orders) or len(refunds) \
        else pd.DataFrame(columns=KEYS)
    fees = _fee_rows(settlement_rows_or_fees, config)
    line_fees, pool = _line_fees(fees, order_lines)
    if len(line_fees):
        base = pd.concat([base, line_fees], ignore_index=True)
    for column in ["units", "shipped_units", "refund_lines", *CENTS_COLUMNS]:
        base[column] = base[column].fillna(0).astype("int64") if column in base else 0
    if pool and base.empty:
        base = pd.DataFrame([{**dict.fromkeys(DAILY_SALES_COLUMNS, 0), "day": pd.NaT, "sku": UNALLOCATED,
                              "ship_to_state": NO_STATE}])
    grouped = base.groupby(KEYS, dropna=False, as_index=False, sort=True)[DAILY_SALES_COLUMNS[3:]].sum()
    if pool:
        weights = grouped["gross_sales_cents"].clip(lower=0)
        if not weights.any():
            weights = grouped["units"].clip(lower=0)
        if not weights.any():
            weights = pd.Series(1, index=grouped.index)
        grouped["allocated_fees_cents"] = allocate_minor(pool, [int(w) for w in weights])
    grouped["fees_cents"] = grouped["line_fees_cents"] + grouped["allocated_fees_cents"]
    grouped[DAILY_SALES_COLUMNS[3:]] = grouped[DAILY_SALES_COLUMNS[3:]].astype("int64")
    return grouped[DAILY_SALES_COLUMNS].reset_index(drop=True)


def _utc_day(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.tz_localize(None).dt.normalize()


def _state(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.upper().replace("", pd.NA).fillna(NO_STATE).astype(object)


def _order_part(lines: pd.DataFrame) -> pd.DataFrame:
    if lines is None or lines.empty:
        return pd.DataFrame(columns=KEYS)
    return pd.DataFrame({
        "day": _utc_day(lines["order_date"]), "sku": lines["sku"].astype(str), "ship_to_state": _state(lines["ship_to_state"]),
        "units": lines["quantity"] - lines["cancelled_quantity"], "shipped_units": lines["shipped_quantity"],
        "gross_sales_cents": lines["product_cents"], "shipping_cents": lines["shipping_cents"],
        "discount_cents": lines["discount_cents"],
        "tax_cents": lines["product_tax_cents"] + lines["shipping_tax_cents"] + lines["discount_tax_cents"],
    })


def _line_index(lines: pd.DataFrame | None) -> pd.DataFrame:
    """Order lines by (purchase order, line number): their day, SKU and state."""
    if lines is None or lines.empty:
        return pd.DataFrame(columns=KEYS, index=pd.MultiIndex.from_arrays([[], []]))
    index = pd.MultiIndex.from_arrays([lines["purchase_order_id"].astype(str), lines["line_number"].astype(str)])
    found = pd.DataFrame({"day": _utc_day(lines["order_date"]).to_numpy(), "sku": lines["sku"].astype(str).to_numpy(),
                          "ship_to_state": _state(lines["ship_to_state"]).to_numpy()}, index=index)
    return found[~found.index.duplicated()]


def _refund_part(refunds: pd.DataFrame | None, order_lines: pd.DataFrame, settlement: pd.DataFrame | None) -> pd.DataFrame:
    if refunds is None or refunds.empty:
        return pd.DataFrame(columns=KEYS)
    index = pd.MultiIndex.from_arrays([refunds["purchase_order_id"].astype(str), refunds["line_number"].astype(str)])
    of_line = _line_index(order_lines).reindex(index)
    day = pd.Series(of_line["day"].to_numpy(), index=refunds.index, dtype="datetime64[ns]")
    state = pd.Series(of_line["ship_to_state"].to_numpy(), index=refunds.index, dtype=object)
    if settlement is not None and len(settlement) and {"transaction_type", "posted_date", "purchase_order_line"} <= set(settlement):
        rows = settlement[settlement["transaction_type"] == "Refund"]
        posted = rows.groupby([rows["purchase_order_id"].astype(str), rows["purchase_order_line"].astype(str)]).agg(
            posted=("posted_date", "min"), state=("ship_to_state", "first"))
        posted = posted.reindex(index)
        day = pd.Series(_utc_day(posted["posted"]).to_numpy(), index=refunds.index).fillna(day)
        state = state.fillna(pd.Series(posted["state"].to_numpy(), index=refunds.index))
    if "refund_date" in refunds:
        day = _utc_day(refunds["refund_date"]).fillna(day)
    return pd.DataFrame({
        "day": day, "sku": refunds["sku"].astype(str), "ship_to_state": _state(state), "refund_lines": 1,
        "refund_cents": refunds["product_cents"] + refunds["shipping_cents"],
        "refund_tax_cents": refunds["product_tax_cents"] + refunds["shipping_tax_cents"],
    })


def _fee_rows(frame: pd.DataFrame | None, config: MappingConfig | None) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["amount_cents", "purchase_order_id", "purchase_order_line"])
    if "kind" not in frame and "transaction_type" in frame:
        if config is None:
            raise ValueError("settlement rows need config= to tell fees from the rest (classify_settlement_rows)")
        frame = classify_settlement_rows(frame.assign(report_date=frame["report_date"].astype(str)), config)
    if "kind" in frame:
        frame = frame[frame["kind"] == "fee"]
    out = pd.DataFrame({"amount_cents": frame["amount_cents"].astype("int64")}, index=frame.index)
    for column in ("purchase_order_id", "purchase_order_line"):
        out[column] = frame[column].astype("string") if column in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
    return out


def _line_fees(fees: pd.DataFrame, order_lines: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Fees naming an order line we have, under that line's keys; and the cents left to allocate."""
    if fees.empty:
        return pd.DataFrame(columns=KEYS), 0
    index = pd.MultiIndex.from_arrays([fees["purchase_order_id"].fillna(""), fees["purchase_order_line"].fillna("")])
    of_line = _line_index(order_lines).reindex(index)
    named = of_line["sku"].notna().to_numpy() & fees["purchase_order_line"].notna().to_numpy()
    placed = pd.DataFrame({"day": of_line["day"].to_numpy()[named], "sku": of_line["sku"].to_numpy()[named],
                           "ship_to_state": of_line["ship_to_state"].to_numpy()[named],
                           "line_fees_cents": fees["amount_cents"].to_numpy()[named]})
    return placed, int(fees["amount_cents"].to_numpy()[~named].sum())
