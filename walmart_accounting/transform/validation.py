"""Row-level validation: the rows a pandera model rejects leave with their reasons; the rest of the frame goes on."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

REJECT_COLUMNS = ["record_key", "reason", "record"]


@dataclass(frozen=True)
class Validated:
    """The rows that passed, and one reject per failed row (its key, every reason, the row as a dict)."""

    valid: pd.DataFrame
    rejects: pd.DataFrame


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REJECT_COLUMNS})


def rejects_frame(keys: pd.Series, reasons: pd.Series, records: pd.DataFrame) -> pd.DataFrame:
    """A rejects frame from aligned keys, reasons and source rows."""
    if len(keys) == 0:
        return empty_rejects()
    return pd.DataFrame({
        "record_key": keys.astype(str).to_numpy(),
        "reason": reasons.astype(str).to_numpy(),
        "record": records.astype(object).where(records.notna(), None).to_dict("records"),
    })


def split_valid(frame: pd.DataFrame, model: type[pa.DataFrameModel], key_columns: list[str]) -> Validated:
    """Validate lazily; rows with any failure become rejects keyed by `key_columns`, with all their reasons.

    Frame-wide failures (a missing column, a wrong dtype that cannot be coerced for the whole column)
    reject every row: nothing half-checked goes on.
    """
    try:
        return Validated(model.validate(frame, lazy=True), empty_rejects())
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    row_cases = cases[cases["index"].notna()]
    frame_cases = cases[cases["index"].isna()]
    if not frame_cases.empty:
        reason = "; ".join(_describe(c) for _, c in frame_cases.iterrows())
        keys = _keys(frame, key_columns)
        return Validated(frame.iloc[0:0], rejects_frame(keys, pd.Series([reason] * len(frame)), frame))
    reasons = (
        row_cases.assign(text=row_cases.apply(_describe, axis=1))
        .groupby("index")["text"].agg(lambda t: "; ".join(sorted(set(t))))
    )
    bad_index = frame.index.isin(reasons.index)
    bad = frame[bad_index]
    good = frame[~bad_index]
    validated = model.validate(good, lazy=True) if not good.empty else model.validate(frame.iloc[0:0], lazy=True)
    rejects = rejects_frame(_keys(bad, key_columns), reasons.reindex(bad.index), bad)
    return Validated(validated, rejects)


def _keys(frame: pd.DataFrame, key_columns: list[str]) -> pd.Series:
    present = [c for c in key_columns if c in frame.columns]
    if not present:
        return pd.Series([f"row {i}" for i in frame.index], index=frame.index)
    return frame[present].astype(str).agg(":".join, axis=1)


def _describe(case: pd.Series) -> str:
    column = case.get("column")
    check = case.get("check")
    value = case.get("failure_case")
    where = f"{column}: " if isinstance(column, str) and column else ""
    return f"{where}failed {check} (value {value!r})"
