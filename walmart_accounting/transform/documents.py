"""Walmart frames -> neutral accounting documents for one ledger: pure, vectorised pandas, no I/O.

Every public function takes Walmart frames, the MappingConfig and a ledger name and returns a
`DocumentResult`: the document lines (validated by `schemas.documents.DocumentLine`, one row per line
with the header repeated) and the rejects (`record_key`, `reason`, `record`, as in `validation.py`).

Rules shared by every function:
- Money stays integer cents (int64) from the input frames to the output; the only rounding is
  `money.allocate_minor` (partly cancelled lines) and `money.round_to_minor` (currency conversion).
- Accounts and tax codes come from `config.ledger(ledger)`. Anything that cannot be mapped (a SKU
  missing from `skus.items` when `allow_default` is false, tax in a ship-to state that is neither
  facilitator nor seller-remitted, a seller-remitted state without a tax code, an order line without a
  ship-to state, a settlement row whose description and Amount Type are both absent from `fee_types`)
  rejects the WHOLE document it belongs to, with every reason, as one reject keyed by the document key.
  The other documents go on. Nothing is ever posted to a guessed account.
- Document keys come from `domain.keys` only (called once per distinct Walmart id, never per line).

Sign conventions:
- Invoices and credit notes carry positive amounts (the document kind says which way they go); a fee
  kept back from a refund is a negative credit-note line on the SKU's sales account.
- A payment of an invoice is positive; a refund payment (money back to the customer out of the
  clearing account) is a `payment` document with a NEGATIVE amount, category `refund`, related to the
  credit note. So per settlement: sum(payment documents) - fee bill total == payout == transfer.
- Fee bill lines carry the COST: minus the settlement amount (a -12.00 commission is a 12.00 line, a
  reimbursement is a negative line). The fee bill holds one line per fee type, one line
  "Marketplace facilitator tax withheld" (net of withheld tax given back on refunds), one line for
  Dispute Settlement rows not mapped to a fee type (account `adjustments`; Adjustment rows must map to
  a fee type, otherwise the bill is rejected), and one line for Reserve / Release Reserve rows
  (account `reserve`: money Walmart holds is an asset, a release is a negative cost).
- Summary invoices keep the settlement's signs (sales positive, fees/refunds negative), so their total
  is the month's share of the payout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from walmart_accounting.domain import keys
from walmart_accounting.domain.config import (
    FEE_TYPES,
    ContactStrategy,
    Ledger,
    MappingConfig,
    RateSource,
)
from walmart_accounting.domain.money import Money, allocate_minor, to_decimal
from walmart_accounting.schemas.documents import DocumentLine
from walmart_accounting.transform.validation import REJECT_COLUMNS, empty_rejects

DOCUMENT_COLUMNS: list[str] = list(DocumentLine.to_schema().columns)
OPEN_STATUSES = ("Created", "Acknowledged")
ORDER_MONEY = ["product_cents", "product_tax_cents", "shipping_cents", "shipping_tax_cents", "discount_cents",
               "discount_tax_cents"]

# Settlement Amount Types (compared case-insensitively) that are the customer's money for an order.
ORDER_AMOUNT_TYPES = {"product price": "product", "shipping price": "shipping",
                      "product tax": "product_tax", "shipping tax": "shipping_tax"}
# Tax Walmart collects as marketplace facilitator and keeps back from the payout.
WITHHELD_AMOUNT_TYPES = frozenset({"product tax withheld", "shipping tax withheld"})
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


@dataclass(frozen=True)
class DocumentResult:
    """Validated document lines (DocumentLine) and one reject per refused document."""

    documents: pd.DataFrame
    rejects: pd.DataFrame


# ------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------


def empty_documents() -> pd.DataFrame:
    """A DocumentLine frame without rows, with the model's dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in DOCUMENT_COLUMNS})
    for column in ("line_no", "quantity", "amount_cents", "tax_cents"):
        frame[column] = frame[column].astype("int64")
    frame["document_date"] = frame["document_date"].astype("datetime64[ns]")
    frame["base_amount_cents"] = frame["base_amount_cents"].astype("Int64")
    return DocumentLine.validate(frame)


def _empty_result() -> DocumentResult:
    return DocumentResult(empty_documents(), empty_rejects())


def _text(series: pd.Series) -> pd.Series:
    """Strings stripped, with '' and missing as <NA> (pandas string dtype)."""
    out = series.astype("string").str.strip()
    return out.mask(out == "")


def _obj(series: pd.Series) -> pd.Series:
    """Object dtype with None for missing (what the nullable str columns of the model hold)."""
    out = series.astype(object)
    return out.where(series.notna(), None)


def _cents(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series).fillna(0).astype("int64")


def _local_day(series: pd.Series, timezone: str) -> pd.Series:
    """Calendar day (naive midnight) of a timestamp: tz-aware values in the seller's time zone."""
    values = pd.to_datetime(series)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert(timezone).dt.tz_localize(None)
    return values.dt.normalize().astype("datetime64[ns]")


def _dedupe(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    present = [c for c in columns if c in frame.columns]
    return frame.drop_duplicates(present, keep="last").reset_index(drop=True) if present else frame


def _keys_for(build: Callable[..., str], *columns: pd.Series, fallback: str = "WM-?") -> tuple[pd.Series, pd.Series]:
    """Document keys for aligned id columns, and the error (or None) per row.

    `domain.keys` stays the only place keys are spelled: it is called once per DISTINCT combination of
    ids (once per document), and the result is merged back onto the rows. A combination the key module
    refuses gets `fallback-<ids>` as its record key and its error message.
    """
    index = columns[0].index
    args = pd.DataFrame({f"a{i}": pd.Series(c).to_numpy(dtype=object) for i, c in enumerate(columns)}, index=index)
    unique = args.drop_duplicates()
    built: list[str] = []
    errors: list[str | None] = []
    for values in unique.itertuples(index=False, name=None):  # per distinct id, not per line
        try:
            built.append(build(*values))
            errors.append(None)
        except (keys.DocumentKeyError, ValueError, TypeError, AttributeError) as exc:
            built.append(f"{fallback}-" + "-".join(str(v) for v in values))
            errors.append(str(exc))
    unique = unique.assign(_key=built, _error=errors)
    merged = args.merge(unique, how="left", on=list(args.columns))
    return (pd.Series(merged["_key"].to_numpy(dtype=object), index=index),
            pd.Series(merged["_error"].to_numpy(dtype=object), index=index))


def _key_problems(record_keys: pd.Series, errors: pd.Series) -> pd.DataFrame:
    bad = errors.notna()
    return _problems(record_keys[bad].drop_duplicates(), errors[bad][~record_keys[bad].duplicated()])


def _money_text(cents: Iterable[int], currencies: Iterable[str]) -> list[str]:
    return [str(Money(int(c), str(cur))) for c, cur in zip(cents, currencies)]


def _problems(keys_: pd.Series, reasons: pd.Series | list[str] | str) -> pd.DataFrame:
    if isinstance(reasons, str):
        reasons = [reasons] * len(keys_)
    return pd.DataFrame({"record_key": list(keys_), "reason": list(reasons)}, dtype=object)


def _joined(frame: pd.DataFrame, key: str | list[str], column: str) -> pd.Series:
    """The distinct values of `column` per `key`, sorted and comma-joined (source_ids of multi-order documents)."""
    by = [key] if isinstance(key, str) else list(key)
    distinct = frame[[*by, column]].astype({column: str}).drop_duplicates().sort_values([*by, column])
    return distinct.groupby(by if len(by) > 1 else by[0], sort=False)[column].agg(",".join)


def _contact_columns(frame: pd.DataFrame, config: MappingConfig) -> pd.DataFrame:
    """contact_key/name/email from the customer columns, or the one marketplace contact."""
    if config.contacts.strategy is ContactStrategy.MARKETPLACE:
        return pd.DataFrame({"contact_key": config.contacts.marketplace_number,
                             "contact_name": config.contacts.marketplace_name,
                             "contact_email": None}, index=frame.index)
    cols = {}
    for out, src in (("contact_key", "customer_key"), ("contact_name", "customer_name"),
                     ("contact_email", "customer_email")):
        present = src in frame.columns
        cols[out] = _obj(_text(frame[src])) if present else pd.Series(None, index=frame.index, dtype=object)
    return pd.DataFrame(cols, index=frame.index)


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _assemble(lines: pd.DataFrame, problems: list[pd.DataFrame], sources: pd.DataFrame | None,
              ledger: str) -> DocumentResult:
    """Drop every document with a problem (one reject per document), number the lines, validate."""
    problem = pd.concat(problems, ignore_index=True) if problems else _problems(pd.Series([], dtype=object), [])
    rejects = empty_rejects()
    if len(problem):
        reasons = problem.groupby("record_key", sort=True)["reason"].agg(lambda r: "; ".join(dict.fromkeys(r)))
        by_key: dict = {}
        if sources is not None and len(sources):
            hit = sources[sources["document_key"].isin(reasons.index)]
            by_key = {k: _records(g.drop(columns=["document_key"])) for k, g in hit.groupby("document_key", sort=False)}
        rejects = pd.DataFrame({
            "record_key": reasons.index.astype(str).to_numpy(),
            "reason": reasons.to_numpy().astype(object),
            "record": [{"document_key": k, "ledger": ledger, "rows": by_key.get(k, [])} for k in reasons.index],
        })[REJECT_COLUMNS]
        if len(lines):
            lines = lines[~lines["document_key"].isin(reasons.index)]
    if lines.empty:
        return DocumentResult(empty_documents(), rejects)
    order = [c for c in ("_o1", "_o2", "_o3") if c in lines.columns]
    lines = lines.sort_values(["document_key", *order], kind="mergesort").reset_index(drop=True)
    lines = lines.assign(ledger=ledger, line_no=lines.groupby("document_key").cumcount() + 1)
    for column in DOCUMENT_COLUMNS:
        if column not in lines.columns:
            lines[column] = None
    out = lines[DOCUMENT_COLUMNS].copy()
    for column in ("quantity", "amount_cents", "tax_cents", "line_no"):
        out[column] = out[column].astype("int64")
    out["base_amount_cents"] = pd.array([pd.NA] * len(out), dtype="Int64") if out["base_amount_cents"].isna().all() \
        else out["base_amount_cents"].astype("Int64")
    for column in ("contact_key", "contact_name", "contact_email", "related_key", "settlement_key", "sku",
                   "item_code", "counter_account", "cost_center", "tracking_category", "tracking_option",
                   "exchange_rate", "rate_source"):
        out[column] = _obj(out[column])
    out["document_date"] = pd.to_datetime(out["document_date"]).astype("datetime64[ns]")
    return DocumentResult(DocumentLine.validate(out), rejects)


def _tracking(config: MappingConfig) -> tuple[str | None, str | None]:
    return (config.tracking.category, config.tracking.option) if config.tracking else (None, None)


def _tax_treatment(states: pd.Series, tax_cents: pd.Series, currency: pd.Series, config: MappingConfig,
                   ledger_cfg: Ledger, ledger: str, require_state: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per row: treatment ('facilitator' | 'seller' | 'none'), the seller-remitted tax code, and a problem (or NA).

    A missing state is a problem when `require_state` (order lines) or when the row carries tax.
    """
    state = _text(states).str.upper()
    facilitator = state.isin(list(config.tax.facilitator_states)).fillna(False).astype(bool)
    seller = state.isin(list(config.tax.seller_remitted_states)).fillna(False).astype(bool)
    codes = ledger_cfg.tax_codes.seller_remitted
    code = state.map(codes) if codes else pd.Series(pd.NA, index=state.index, dtype=object)
    if "default" in codes:
        code = code.where(code.notna(), codes["default"])
    code = code.where(seller, None)
    treatment = pd.Series(np.select([facilitator, seller], ["facilitator", "seller"], "none"), index=state.index)
    has_tax = tax_cents.to_numpy() != 0
    missing = state.isna().to_numpy() & (True if require_state else has_tax)
    neither = ~missing & (treatment == "none").to_numpy() & has_tax
    no_code = seller.to_numpy() & code.isna().to_numpy() & has_tax
    problem = pd.Series(pd.NA, index=state.index, dtype=object)
    if missing.any():
        problem[missing] = "missing shipping information (no ship-to state)"
    if neither.any():
        amounts = _money_text(tax_cents[neither], currency[neither])
        problem[neither] = [f"tax of {a} for ship-to state {s}: state is neither facilitator nor seller-remitted"
                            for a, s in zip(amounts, state[neither])]
    if no_code.any():
        problem[no_code] = [f"no seller-remitted tax code for ship-to state {s} in ledger {ledger}"
                            for s in state[no_code]]
    return treatment, code, problem


def _sku_mapping(skus: pd.Series, ledger_cfg: Ledger, ledger: str) -> tuple[pd.DataFrame, pd.Series]:
    """account, item_code, cost_center per SKU (item entry, else the default entry, else accounts.sales)."""
    mapping = ledger_cfg.skus
    items = pd.DataFrame(
        [(sku, e.account, e.item_code, e.cost_center) for sku, e in mapping.items.items()],
        columns=["sku", "account", "item_code", "cost_center"], dtype=object,
    ).drop_duplicates("sku").set_index("sku")
    sku = skus.astype(str)
    mapped = sku.isin(items.index)
    out = pd.DataFrame(index=skus.index)
    defaults = {"account": mapping.default.account or ledger_cfg.accounts.sales,
                "item_code": mapping.default.item_code, "cost_center": mapping.default.cost_center}
    for column, fallback in defaults.items():
        value = sku.map(items[column]) if len(items) else pd.Series(None, index=sku.index, dtype=object)
        out[column] = value.where(value.notna(), fallback).astype(object)
    out.loc[out["account"].isna(), "account"] = ledger_cfg.accounts.sales
    problem = pd.Series(pd.NA, index=skus.index, dtype=object)
    if not mapping.allow_default:
        bad = ~mapped
        problem[bad] = [f"unmapped SKU {s!r} for ledger {ledger}" for s in sku[bad]]
    return out, problem


def _charge_lines(frame: pd.DataFrame, config: MappingConfig, ledger_cfg: Ledger, ledger: str,
                  accounts: dict[str, str | None], labels: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Product / discount / shipping / fee-kept-back lines and one facilitator-tax line per document.

    `frame` has document_key, _o1 (line order), sku, name, quantity, state, currency and the money columns
    product, product_tax, discount, discount_tax, shipping, shipping_tax, fee (all >= or <= 0 as Walmart
    gives them, already in the document's direction). `accounts` gives the account per line kind; None for
    product/fee means the SKU's mapped account.
    """
    sku_map, sku_problem = _sku_mapping(frame["sku"], ledger_cfg, ledger)
    tax_total = frame["product_tax"] + frame["discount_tax"] + frame["shipping_tax"]
    treatment, code, tax_problem = _tax_treatment(frame["ship_to_state"], tax_total, frame["currency"], config,
                                                  ledger_cfg, ledger, require_state=True)
    problems = []
    for problem in (sku_problem, tax_problem):
        bad = problem.notna()
        if bad.any():
            problems.append(_problems(frame.loc[bad, "document_key"], problem[bad]))

    seller = (treatment == "seller").to_numpy()
    no_tax = ledger_cfg.tax_codes.no_tax
    category_tracking, option_tracking = _tracking(config)
    name = _text(frame["name"] if "name" in frame.columns else frame["sku"]).fillna(frame["sku"].astype(str))
    base = pd.DataFrame({
        "document_key": frame["document_key"], "_o1": frame["_o1"], "sku": frame["sku"].astype(str),
        "item_code": sku_map["item_code"], "cost_center": sku_map["cost_center"],
        "tracking_category": category_tracking, "tracking_option": option_tracking,
    })

    parts = []
    specs = [  # kind, amount column, tax column, category, sub-order
        ("product", "product", "product_tax", "product", 0),
        ("discount", "discount", "discount_tax", "discount", 1),
        ("shipping", "shipping", "shipping_tax", "shipping", 2),
    ]
    for kind, amount_col, tax_col, category, sub in specs:
        amount = frame[amount_col].to_numpy()
        tax = np.where(seller, frame[tax_col].to_numpy(), 0)
        keep = np.ones(len(frame), dtype=bool) if kind == "product" else (amount != 0) | (tax != 0)
        if not keep.any():
            continue
        account = sku_map["account"] if accounts[kind] is None else accounts[kind]
        part = base[keep].assign(
            category=category, _o2=sub,
            description=(labels[kind] + name[keep]).str.slice(0, 250),
            quantity=frame.loc[keep, "quantity"].to_numpy() if kind == "product" else 1,
            account=account[keep] if isinstance(account, pd.Series) else account,
            amount_cents=amount[keep], tax_cents=tax[keep],
            tax_code=np.where(tax[keep] != 0, code[keep].fillna(no_tax).to_numpy(dtype=object), no_tax),
        )
        parts.append(part)
    if "fee" in frame.columns:
        fee = frame["fee"].to_numpy()
        keep = fee != 0
        if keep.any():
            account = sku_map["account"] if accounts.get("fee") is None else accounts["fee"]
            parts.append(base[keep].assign(
                category="adjustment", _o2=3, description=(labels["fee"] + name[keep]).str.slice(0, 250),
                quantity=1, account=account[keep] if isinstance(account, pd.Series) else account,
                amount_cents=-fee[keep], tax_cents=0, tax_code=no_tax,
            ))
    facilitator = (treatment == "facilitator").to_numpy()
    if facilitator.any():
        state = _text(frame["ship_to_state"]).str.upper()
        fac = (frame.loc[facilitator].assign(_tax=tax_total[facilitator], _state=state[facilitator])
               .groupby("document_key", as_index=False, sort=False)
               .agg(amount_cents=("_tax", "sum"), _state=("_state", "first")))
        fac = fac[fac["amount_cents"] != 0]
        if len(fac):
            parts.append(pd.DataFrame({
                "document_key": fac["document_key"], "_o1": np.inf, "_o2": 9, "sku": None, "item_code": None,
                "cost_center": None, "tracking_category": None, "tracking_option": None,
                "category": "facilitator_tax", "description": labels["facilitator_tax"] + " (" + fac["_state"] + ")",
                "quantity": 1, "account": ledger_cfg.accounts.facilitator_tax,
                "amount_cents": fac["amount_cents"].astype("int64"), "tax_cents": 0,
                "tax_code": ledger_cfg.tax_codes.facilitator,
            }))
    lines = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["document_key"])
    return lines, (pd.concat(problems, ignore_index=True) if problems else _problems(pd.Series([], dtype=object), []))


def _line_order(numbers: pd.Series) -> pd.Series:
    """Numeric order of Walmart line numbers ('1', '2', '10'), text order after."""
    return pd.to_numeric(numbers, errors="coerce").fillna(1e12).astype(float)


# ------------------------------------------------------------------------------------------------
# 1. sales invoices
# ------------------------------------------------------------------------------------------------


def _prorated(frame: pd.DataFrame) -> pd.DataFrame:
    """Order-line money prorated to the shipped quantity (allocate_minor: no cent lost) where partly cancelled."""
    out = frame.copy()
    for column in ORDER_MONEY:
        out[column] = _cents(out[column])
    partial = (out["shipped_quantity"] < out["quantity"]).to_numpy()
    if partial.any():  # rare: only partly shipped lines go through Python, one call per money cell
        shipped = out.loc[partial, "shipped_quantity"].astype(int).tolist()
        rest = (out.loc[partial, "quantity"] - out.loc[partial, "shipped_quantity"]).astype(int).tolist()
        for column in ORDER_MONEY:
            totals = out.loc[partial, column].astype(int).tolist()
            out.loc[partial, column] = [allocate_minor(t, [s, r])[0] if t else 0
                                        for t, s, r in zip(totals, shipped, rest)]
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
    header = header.join(contacts).assign(document_kind="sales_invoice", related_key=None, settlement_key=None)
    lines = lines.merge(header, left_on="document_key", right_index=True, how="left")
    sources = ready.drop(columns=["_day"])
    return _assemble(lines, problems, sources, ledger)


# ------------------------------------------------------------------------------------------------
# 2. credit notes
# ------------------------------------------------------------------------------------------------


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
                "_date": merged["return_date"], "_source": rid, "_po": merged["purchase_order_id"],
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
                # no refund date on the order: the credit note is dated by the order's last ship (else order) date
                dates = by_po.groupby("purchase_order_id")[["ship_date", "order_date"]].max()
                when = po.map(dates["ship_date"].fillna(dates["order_date"]))
            frames.append(pd.DataFrame({
                "document_key": merged["document_key"], "_o1": _line_order(merged["line_number"]),
                "sku": merged["sku"], "name": merged["o_product_name"] if "o_product_name" in merged else merged["sku"],
                "quantity": 1, "ship_to_state": merged["o_ship_to_state"],
                "currency": merged["currency"],
                "product": -_cents(merged["product_cents"]), "product_tax": -_cents(merged["product_tax_cents"]),
                "discount": zero, "discount_tax": zero,
                "shipping": -_cents(merged["shipping_cents"]), "shipping_tax": -_cents(merged["shipping_tax_cents"]),
                "fee": zero, "_date": when, "_source": po + "," + merged["refund_id"].astype(str), "_po": po,
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
    header = header.join(_contact_columns(first, config)).assign(document_kind="credit_note", settlement_key=None)
    lines = lines.merge(header, left_on="document_key", right_index=True, how="left")
    src = pd.concat(sources, ignore_index=True) if sources else None
    return _assemble(lines, problems, src, ledger)


# ------------------------------------------------------------------------------------------------
# settlements: shared classification
# ------------------------------------------------------------------------------------------------


def classify_settlement_rows(rows: pd.DataFrame, config: MappingConfig) -> pd.DataFrame:
    """Each row with `kind` (payout | order | withheld | fee | adjustment | reserve | unmapped), `money`
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
    kind = np.select(
        [ttype.eq("PaymentSummary").to_numpy(), ttype.isin(RESERVE_TYPES).to_numpy(), order,
         amount_type.isin(list(WITHHELD_AMOUNT_TYPES)).fillna(False).to_numpy(dtype=bool),
         fee_type.notna().to_numpy(), ttype.eq("Dispute Settlement").to_numpy()],
        ["payout", "reserve", "order", "withheld", "fee", "adjustment"], "unmapped",
    )
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
        for t, n, a, d, at in zip(grouped["transaction_type"], grouped["rows"], amounts, grouped["_d"], grouped["_a"])
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
        "document_key": keys_[xfer.index], "document_kind": "transfer", "document_date": xfer["deposit"],
        "currency": xfer["currency"], "settlement_key": xfer["settlement_key"], "source_ids": xfer["payable_id"],
        "category": "transfer", "description": "Walmart payout " + xfer["payable_id"] + " to the bank",
        "quantity": 1, "account": ledger_cfg.accounts.bank, "counter_account": ledger_cfg.accounts.clearing,
        "tax_code": ledger_cfg.tax_codes.no_tax, "amount_cents": xfer["payout"], "tax_cents": 0, "_o1": 0,
    })
    return lines.reset_index(drop=True), (pd.concat(problems, ignore_index=True) if problems else
                                          _problems(pd.Series([], dtype=object), []))


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
# 3. settlement documents (per_order)
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
                         order_refunds: pd.DataFrame | None = None) -> DocumentResult:
    """Per settlement report: a payment per purchase order, a refund payment per credit note, one fee
    bill, and the transfer of the payout from the clearing account to the bank.

    Payments total what the Sale rows credited for the PO (product price incl. promotions, product tax,
    shipping price, shipping tax); refund payments are the Refund rows' price/tax amounts (negative).
    A refund row without return_order_id gets its credit note from `order_refunds` when exactly one
    refund matches its PO line; otherwise it is rejected. Everything else goes on the fee bill.
    """
    ledger_cfg = config.ledger(ledger)
    if settlement_rows is None or settlement_rows.empty:
        return _empty_result()
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
            "document_key": pay["document_key"], "document_kind": "payment", "document_date": pay["document_date"],
            "currency": pay["currency"], "related_key": invoice,
            "settlement_key": pay["settlement_key"], "source_ids": pay["purchase_order_id"].astype(str),
            "category": "payment", "description": "Walmart payment of order " + pay["purchase_order_id"].astype(str),
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
                 "its credit note from" for a, p, n in zip(amounts, bad["purchase_order_id"], bad["_line"])],
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
                "document_key": rp["document_key"], "document_kind": "payment", "document_date": rp["document_date"],
                "currency": rp["currency"], "related_key": rp["credit_key"], "settlement_key": rp["settlement_key"],
                "source_ids": rp["credit_key"].str.split("-", n=2).str[2] + "," + rp["source_ids"],
                "category": "refund", "description": "Walmart refund paid for " + rp["credit_key"],
                "quantity": 1, "account": accounts.clearing, "tax_code": no_tax,
                "amount_cents": rp["amount_cents"], "tax_cents": 0, "_o1": 0,
            }))

    # (c) the fee bill
    bill_keys = _settlement_key_of(report, keys.fee_bill_key)
    fees = rows[rows["kind"].isin(["fee", "withheld", "adjustment", "reserve"])].copy()
    unmapped = rows[rows["kind"] == "unmapped"]
    if len(unmapped):
        reasons = _unmapped_reasons(unmapped, ["report_date"])
        problems.append(_problems(reasons["report_date"].map(bill_keys), reasons["reason"]))
    if len(fees):
        fees["_line"] = np.where(fees["kind"] == "fee", "fee:" + fees["fee_type"].fillna(""), fees["kind"])
        bill = fees.groupby(["report_date", "_line"], as_index=False).agg(
            settlement_amount=("amount_cents", "sum"), fee_type=("fee_type", "first"), kind=("kind", "first"))
        bill = bill[bill["settlement_amount"] != 0]
        bill = bill.merge(report[["period_end", "payable_id", "settlement_key", "currency"]], left_on="report_date",
                          right_index=True)
        account = np.select(
            [bill["kind"] == "withheld", bill["kind"] == "adjustment", bill["kind"] == "reserve"],
            [accounts.facilitator_tax, accounts.adjustments, accounts.reserve],
            None)
        account = pd.Series(account, index=bill.index, dtype=object)
        account = account.where(account.notna(), bill["fee_type"].map(accounts.fees))
        description = pd.Series(np.select(
            [bill["kind"] == "withheld", bill["kind"] == "adjustment", bill["kind"] == "reserve"],
            ["Marketplace facilitator tax withheld", "Walmart adjustments and dispute settlements",
             "Walmart reserve held (released when negative)"], ""), index=bill.index, dtype=object)
        description = description.where(description != "", bill["fee_type"].map(FEE_LABELS))
        tax_code = np.where(bill["kind"] == "withheld", ledger_cfg.tax_codes.facilitator, no_tax)
        order_ = np.select([bill["kind"] == "fee", bill["kind"] == "withheld", bill["kind"] == "adjustment"],
                           [bill["fee_type"].map(_FEE_ORDER).fillna(99).to_numpy(dtype=float), 100, 101], 102)
        parts.append(pd.DataFrame({
            "document_key": bill["report_date"].map(bill_keys), "document_kind": "fee_bill",
            "document_date": bill["period_end"], "currency": bill["currency"],
            "contact_key": config.contacts.supplier_number, "contact_name": config.contacts.supplier_name,
            "settlement_key": bill["settlement_key"], "source_ids": bill["payable_id"],
            "category": np.select([bill["kind"] == "withheld", bill["kind"] == "adjustment", bill["kind"] == "reserve"],
                                  ["facilitator_tax_withheld", "adjustment", "reserve"], "fee"),
            "description": description, "quantity": 1, "account": account, "tax_code": tax_code,
            "amount_cents": -bill["settlement_amount"], "tax_cents": 0, "_o1": order_,
        }))

    # (d) the transfer
    xfer, xfer_problems = _transfers(report, ledger_cfg)
    parts.append(xfer)
    problems.append(xfer_problems)

    filled = [p for p in parts if len(p)]
    lines = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=["document_key"])
    sources = _settlement_sources(rows, bill_keys)
    return _assemble(lines, problems, sources, ledger)


def _settlement_sources(rows: pd.DataFrame, bill_keys: pd.Series) -> pd.DataFrame:
    """The rows behind each fee bill (for the reject record): fee, withheld, adjustment, reserve, unmapped rows."""
    keep = rows["kind"].isin(["fee", "withheld", "adjustment", "reserve", "unmapped"])
    src = rows.loc[keep].drop(columns=["_day", "period_end", "payable_id"], errors="ignore")
    return src.assign(document_key=src["report_date"].map(bill_keys))


# ------------------------------------------------------------------------------------------------
# 4. settlement summary
# ------------------------------------------------------------------------------------------------


def settlement_summary(settlement_rows: pd.DataFrame, config: MappingConfig, ledger: str) -> DocumentResult:
    """Per settlement and accounting month (posted date): one invoice to the marketplace contact with a
    line per category in the settlement's signs (total = the month's share of the payout), its payment
    from the clearing account, and the transfer of the payout to the bank.

    Seller-remitted tax is carried as tax on the sales, shipping and refund lines of those states (one
    line per tax code), since ledgers book output tax through the tax code. Facilitator tax collected,
    refunded and withheld go to the facilitator account, which nets to zero per settlement.
    """
    ledger_cfg = config.ledger(ledger)
    if settlement_rows is None or settlement_rows.empty:
        return _empty_result()
    rows, report, key_problems = _prepare(settlement_rows, config)
    problems = [key_problems]
    accounts = ledger_cfg.accounts
    codes = ledger_cfg.tax_codes
    detail = rows[rows["kind"] != "payout"].copy()

    detail["_month"] = detail["_day"].dt.to_period("M").dt.to_timestamp()
    detail["document_key"], errors = _keys_for(keys.summary_invoice_key, detail["period_end"].dt.date,
                                               detail["payable_id"], detail["_month"].dt.date, fallback="WM-SET-?")
    problems.append(_key_problems(detail["document_key"], errors))

    is_tax = detail["money"].isin(["product_tax", "shipping_tax"]).to_numpy()
    tax_amount = pd.Series(np.where(is_tax, detail["amount_cents"], 0), index=detail.index)
    treatment, code, tax_problem = _tax_treatment(detail["ship_to_state"], tax_amount, detail["currency"], config,
                                                  ledger_cfg, ledger, require_state=False)
    bad = tax_problem.notna() & is_tax
    if bad.any():
        grouped = pd.DataFrame({"k": detail.loc[bad, "document_key"], "r": tax_problem[bad]}).drop_duplicates()
        problems.append(_problems(grouped["k"], grouped["r"]))
    unmapped = detail[detail["kind"] == "unmapped"]
    if len(unmapped):
        reasons = _unmapped_reasons(unmapped, ["document_key"])
        problems.append(_problems(reasons["document_key"], reasons["reason"]))

    kind = detail["kind"].to_numpy()
    money = detail["money"].to_numpy()
    refund = (detail["transaction_type"] == "Refund").to_numpy()
    seller = (treatment == "seller").to_numpy()
    facilitator_tax = is_tax & (treatment == "facilitator").to_numpy()
    seller_code = code.fillna(codes.no_tax).to_numpy(dtype=object)
    is_price = (kind == "order") & ~is_tax
    base_money = np.where(pd.isna(money), "", np.char.replace(money.astype(str), "_tax", ""))
    # line group: sales/shipping/refunds by tax code, facilitator tax, withheld, each fee type, adjustments, reserve
    group = np.select(
        [is_price | (is_tax & seller), facilitator_tax, kind == "withheld", kind == "fee",
         kind == "adjustment", kind == "reserve"],
        [np.where(refund, "refund", base_money), np.where(refund, "fac_refunded", "fac_collected"), "withheld",
         "fee:" + detail["fee_type"].fillna("").astype(str).to_numpy(), "adjustment", "reserve"],
        "",
    )
    tax_code = np.where((is_price | is_tax) & seller, seller_code, codes.no_tax)
    detail["_group"] = group
    detail["_code"] = tax_code
    detail["_amount"] = np.where(is_tax & seller, 0, detail["amount_cents"])
    detail["_tax"] = np.where(is_tax & seller, detail["amount_cents"], 0)
    booked = detail[detail["_group"] != ""]
    summed = booked.groupby(["document_key", "_group", "_code"], as_index=False).agg(
        amount_cents=("_amount", "sum"), tax_cents=("_tax", "sum"), fee_type=("fee_type", "first"),
        report_date=("report_date", "first"))
    summed = summed[(summed["amount_cents"] != 0) | (summed["tax_cents"] != 0)]

    g = summed["_group"]
    fee_type = summed["fee_type"]
    spec = {  # group -> (category, account, description, order)
        "product": ("product", accounts.sales, "Walmart product sales", 0),
        "shipping": ("shipping", accounts.shipping, "Walmart shipping income", 1),
        "refund": ("refund", accounts.refunds, "Walmart refunds to customers", 2),
        "fac_collected": ("facilitator_tax", accounts.facilitator_tax, "Marketplace facilitator tax collected", 3),
        "fac_refunded": ("facilitator_tax", accounts.facilitator_tax, "Marketplace facilitator tax refunded", 4),
        "withheld": ("facilitator_tax_withheld", accounts.facilitator_tax, "Marketplace facilitator tax withheld", 5),
        "adjustment": ("adjustment", accounts.adjustments, "Walmart adjustments and dispute settlements", 30),
        "reserve": ("reserve", accounts.reserve, "Walmart reserve held / released", 31),
    }
    is_fee = g.str.startswith("fee:")
    category = g.map({k: v[0] for k, v in spec.items()}).where(~is_fee, "fee")
    account = g.map({k: v[1] for k, v in spec.items()}).where(~is_fee, fee_type.map(accounts.fees))
    description = g.map({k: v[2] for k, v in spec.items()}).where(~is_fee, fee_type.map(FEE_LABELS))
    seller_line = summed["_code"] != codes.no_tax
    description = description.where(~seller_line, description + " (seller-remitted tax " + summed["_code"] + ")")
    line_order = g.map({k: v[3] for k, v in spec.items()}).where(
        ~is_fee, 10 + fee_type.map(_FEE_ORDER).fillna(9)).astype(float)
    tax_code = summed["_code"].where(~g.isin(["fac_collected", "fac_refunded", "withheld"]), codes.facilitator)
    sales = g.isin(["product", "shipping", "refund"])
    tracking_category, tracking_option = _tracking(config)
    header = detail.groupby("document_key").agg(
        document_date=("_day", "max"), report_date=("report_date", "first"))
    header = header.join(report[["settlement_key", "currency", "payable_id"]], on="report_date")
    invoice_lines = pd.DataFrame({
        "document_key": summed["document_key"], "document_kind": "sales_invoice",
        "category": category, "description": description, "quantity": 1, "account": account, "tax_code": tax_code,
        "amount_cents": summed["amount_cents"].astype("int64"), "tax_cents": summed["tax_cents"].astype("int64"),
        "cost_center": np.where(sales, ledger_cfg.skus.default.cost_center, None),
        "tracking_category": np.where(sales, tracking_category, None),
        "tracking_option": np.where(sales, tracking_option, None),
        "_o1": line_order, "_o2": summed["_code"],
    }).merge(header[["document_date", "settlement_key", "currency", "payable_id"]], left_on="document_key",
             right_index=True).reset_index(drop=True)
    invoice_lines = invoice_lines.assign(contact_key=config.contacts.marketplace_number,
                                         contact_name=config.contacts.marketplace_name,
                                         source_ids=invoice_lines["payable_id"]).drop(columns=["payable_id"])

    # payments of the summary invoices from the clearing account
    totals = invoice_lines.assign(total=invoice_lines["amount_cents"] + invoice_lines["tax_cents"]).groupby(
        "document_key").agg(total=("total", "sum")).join(header)
    totals = totals[totals["total"] != 0]  # nothing to pay on an invoice that nets to zero
    month = pd.Series(totals.index.str.extract(r"-S(\d{6})$", expand=False), index=totals.index)
    pay_keys, pay_errors = _keys_for(keys.payment_key, totals["report_date"].map(report["period_end"]).dt.date,
                                     totals["payable_id"], "S" + month, fallback="WM-SET-?")
    problems.append(_key_problems(pay_keys, pay_errors))
    payment_lines = pd.DataFrame({
        "document_key": pay_keys, "document_kind": "payment",
        "document_date": totals["document_date"], "currency": totals["currency"],
        "contact_key": config.contacts.marketplace_number, "contact_name": config.contacts.marketplace_name,
        "related_key": totals.index, "settlement_key": totals["settlement_key"], "source_ids": totals["payable_id"],
        "category": "payment",
        "description": "Walmart settlement " + totals["payable_id"] + " payment of " + totals.index,
        "quantity": 1, "account": accounts.clearing, "tax_code": codes.no_tax, "amount_cents": totals["total"],
        "tax_cents": 0, "_o1": 0,
    }).reset_index(drop=True)
    # a rejected summary invoice takes its payment with it
    rejected = pay_keys.index.isin(pd.concat(problems, ignore_index=True)["record_key"])
    if rejected.any():
        problems.append(_problems(pay_keys[rejected],
                                  "its summary invoice " + pay_keys.index[rejected] + " was rejected"))

    xfer, xfer_problems = _transfers(report, ledger_cfg)
    problems.append(xfer_problems)
    lines = pd.concat([p for p in (invoice_lines, payment_lines, xfer) if len(p)], ignore_index=True) \
        if len(invoice_lines) or len(xfer) else pd.DataFrame(columns=["document_key"])
    sources = detail.drop(columns=["_day", "_month", "period_end", "payable_id", "_group", "_code", "_amount", "_tax"],
                          errors="ignore")
    return _assemble(lines, problems, sources, ledger)


# ------------------------------------------------------------------------------------------------
# 5. currency conversion
# ------------------------------------------------------------------------------------------------


def convert_currency(documents: pd.DataFrame, config: MappingConfig, ledger: str,
                     rates: dict[str, Decimal] | None) -> DocumentResult:
    """Fill exchange_rate, rate_source and base_amount_cents where the document currency is not the
    ledger's base currency (null where they are equal).

    The rate is in ledger base units per document unit: with rates.source 'fixed' it is
    config.rates.fixed[<base currency>] (which applies to documents in the seller's currency); with
    'ledger' it is rates[<document currency>] (the ledger's own rate, fetched by the caller). Each line's
    amount + tax is converted once, with round_to_minor (ROUND_HALF_UP); converting again gives the same
    result. Without a rate, every document of that currency is rejected.
    """
    ledger_cfg = config.ledger(ledger)
    base = ledger_cfg.base_currency
    if documents is None or documents.empty:
        return _empty_result()
    docs = documents.copy()
    foreign = (docs["currency"] != base).to_numpy()
    docs["exchange_rate"] = None
    docs["rate_source"] = None
    docs["base_amount_cents"] = pd.array([pd.NA] * len(docs), dtype="Int64")
    problems = []
    if foreign.any():
        source = config.rates.source
        rate_of: dict[str, Decimal] = {}
        missing: dict[str, str] = {}
        for currency in pd.unique(docs.loc[foreign, "currency"]):
            rate = None
            if source is RateSource.FIXED:
                rate = config.rates.fixed.get(base) if currency == config.seller.currency else None
                where = f"rates.fixed has no rate for {currency} -> {base}"
            elif source is RateSource.LEDGER:
                rate = (rates or {}).get(currency)
                where = f"ledger {ledger} gave no {currency} -> {base} rate"
            else:
                where = f"rates.source is 'none' but the document is in {currency} and ledger {ledger} in {base}"
            try:
                rate = to_decimal(rate) if rate is not None else None
            except ValueError:
                rate = None
            if rate is None or rate <= 0:
                missing[currency] = f"no exchange rate {currency} -> {base} for ledger {ledger}: {where}"
            else:
                rate_of[currency] = rate
        bad = docs["currency"].isin(list(missing)).to_numpy()
        if bad.any():
            per_doc = docs.loc[bad].drop_duplicates("document_key")
            problems.append(_problems(per_doc["document_key"], per_doc["currency"].map(missing)))
        convert = foreign & ~bad
        if convert.any():
            gross = (docs.loc[convert, "amount_cents"].astype("int64") + docs.loc[convert, "tax_cents"].astype("int64"))
            pairs = pd.DataFrame({"g": gross.to_numpy(), "c": docs.loc[convert, "currency"].to_numpy()})
            unique = pairs.drop_duplicates()
            # Money.convert rounds with round_to_minor (ROUND_HALF_UP), once per distinct gross amount
            unique = unique.assign(b=[Money(int(g), c).convert(rate_of[c], base).minor
                                      for g, c in unique.itertuples(index=False, name=None)])
            converted = pairs.merge(unique, how="left", on=["g", "c"])["b"]
            docs.loc[convert, "base_amount_cents"] = pd.array(converted.to_numpy(), dtype="Int64")
            docs.loc[convert, "exchange_rate"] = docs.loc[convert, "currency"].map(
                {c: format(r, "f") for c, r in rate_of.items()})
            docs.loc[convert, "rate_source"] = source.value
    rejects = empty_rejects()
    if problems:
        problem = pd.concat(problems, ignore_index=True)
        rejected = docs[docs["document_key"].isin(problem["record_key"])]
        by_key = {k: _records(g) for k, g in rejected.groupby("document_key", sort=False)}
        rejects = pd.DataFrame({
            "record_key": problem["record_key"].to_numpy(), "reason": problem["reason"].to_numpy(),
            "record": [{"document_key": k, "ledger": ledger, "rows": by_key.get(k, [])} for k in problem["record_key"]],
        })[REJECT_COLUMNS]
        docs = docs[~docs["document_key"].isin(problem["record_key"])]
    for column in ("exchange_rate", "rate_source"):
        docs[column] = _obj(docs[column])
    docs["base_amount_cents"] = docs["base_amount_cents"].astype("Int64")
    return DocumentResult(DocumentLine.validate(docs.reset_index(drop=True)) if len(docs) else empty_documents(),
                          rejects)
