"""What every document builder shares: the result type, the empty frame, key building, mapping and assembly."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from walmart_accounting.domain import keys
from walmart_accounting.domain.config import ContactStrategy, Ledger, MappingConfig
from walmart_accounting.domain.documents import LineCategory
from walmart_accounting.domain.money import Money
from walmart_accounting.schemas.documents import DocumentLine
from walmart_accounting.transform.validation import REJECT_COLUMNS, empty_rejects

DOCUMENT_COLUMNS: list[str] = list(DocumentLine.to_schema().columns)


@dataclass(frozen=True)
class DocumentResult:
    """Validated document lines (DocumentLine) and one reject per refused document."""

    documents: pd.DataFrame
    rejects: pd.DataFrame


def empty_documents() -> pd.DataFrame:
    """A DocumentLine frame without rows, with the model's dtypes."""
    return _validated_empty_documents().copy()


@functools.cache
def _validated_empty_documents() -> pd.DataFrame:
    # Validating the empty frame costs a tenth of a second; most partitions of a range have no documents.
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
    return [str(Money(int(c), str(cur))) for c, cur in zip(cents, currencies, strict=True)]


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
                            for a, s in zip(amounts, state[neither], strict=True)]
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
        ("product", "product", "product_tax", LineCategory.PRODUCT.value, 0),
        ("discount", "discount", "discount_tax", LineCategory.DISCOUNT.value, 1),
        ("shipping", "shipping", "shipping_tax", LineCategory.SHIPPING.value, 2),
    ]
    for kind, amount_col, tax_col, category, sub in specs:
        amount = frame[amount_col].to_numpy()
        tax = np.where(seller, frame[tax_col].to_numpy(), 0)
        keep = np.ones(len(frame), dtype=bool) if kind == "product" else (amount != 0) | (tax != 0)
        if not keep.any():
            continue
        account = sku_map["account"] if accounts[kind] is None else accounts[kind]
        part = base[keep].assign(
            # The item goes on the product line only: on shipping or a discount it would move stock and cost.
            item_code=base.loc[keep, "item_code"] if kind == "product" else None,
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
                item_code=None, category=LineCategory.ADJUSTMENT.value, _o2=3, description=(labels["fee"] + name[keep]).str.slice(0, 250),
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
                "category": LineCategory.FACILITATOR_TAX.value,
                "description": labels["facilitator_tax"] + " (" + fac["_state"] + ")",
                "quantity": 1, "account": ledger_cfg.accounts.facilitator_tax,
                "amount_cents": fac["amount_cents"].astype("int64"), "tax_cents": 0,
                "tax_code": ledger_cfg.tax_codes.facilitator,
            }))
    lines = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["document_key"])
    return lines, (pd.concat(problems, ignore_index=True) if problems else _problems(pd.Series([], dtype=object), []))


def _line_order(numbers: pd.Series) -> pd.Series:
    """Numeric order of Walmart line numbers ('1', '2', '10'), text order after."""
    return pd.to_numeric(numbers, errors="coerce").fillna(1e12).astype(float)
