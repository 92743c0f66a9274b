"""What every Walmart transform shares: the per-value parsers (ids, counts, money, times), customer keys, rejects."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, Iterable

import pandas as pd

from walmart_accounting.domain.money import MoneyError, minor_from_api
from walmart_accounting.transform.validation import REJECT_COLUMNS, Validated, empty_rejects

DEFAULT_CURRENCY = "USD"  # Walmart US marketplace; used only when a record carries no currency at all


class _Bad(ValueError):
    """A record that cannot be flattened; the message names the field and the value."""


# --- small parsers (per value) --------------------------------------------------------------------


def _items(value: Any, inner: str | None, field: str) -> list:
    """A JSON list that Walmart may wrap ({"orderLine": [...]}), send as one object, or leave out."""
    if inner is not None and isinstance(value, dict) and inner in value:
        value = value[inner]
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    raise _Bad(f"{field} is not a list: {value!r}")


def _obj(value: Any, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(f"{field} is not an object: {value!r}")
    return value


def _text(value: Any, field: str, required: bool = True) -> str | None:
    """An identifier or label: a non-empty string (an integer is taken as its digits)."""
    if isinstance(value, bool):
        raise _Bad(f"{field} is not a string: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Bad(f"{field} is missing")
        return None
    raise _Bad(f"{field} is not a string: {value!r}")


def _count(value: Any, field: str, minimum: int = 0) -> int:
    """A whole number of units: int, digit string or integral Decimal; never a float or a fraction."""
    if isinstance(value, bool) or isinstance(value, float):
        raise _Bad(f"{field} is not a whole number: {value!r}")
    number: Decimal | int
    if isinstance(value, int):
        number = value
    elif isinstance(value, (str, Decimal)):
        try:
            number = Decimal(value.strip()) if isinstance(value, str) else value
        except ArithmeticError:
            raise _Bad(f"{field} is not a number: {value!r}") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise _Bad(f"{field} is not a whole number: {value!r}")
        number = int(number)
    elif value is None:
        raise _Bad(f"{field} is missing")
    else:
        raise _Bad(f"{field} is not a number: {value!r}")
    if number < minimum:
        raise _Bad(f"{field} must be at least {minimum}, got {value!r}")
    return number


def _currency(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        raise _Bad(f"{field} is not a currency code: {value!r}")
    return value.strip().upper()


def _cents(amount: Any, currency: str, field: str) -> int:
    if amount is None:
        raise _Bad(f"{field} is missing")
    try:
        return minor_from_api(amount, currency)
    except MoneyError as exc:
        raise _Bad(f"{field}: {exc}") from None


def _epoch_ms(value: Any, field: str) -> int:
    """Epoch milliseconds (Walmart's order dates); a numeric string or an ISO timestamp is accepted too."""
    if isinstance(value, bool) or value is None:
        raise _Bad(f"{field} is missing" if value is None else f"{field} is not a timestamp: {value!r}")
    if isinstance(value, (int, Decimal)) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        return _count(value, field, minimum=-(2**62))
    if isinstance(value, str):
        try:
            stamp = pd.Timestamp(value.strip())
        except (ValueError, TypeError):
            raise _Bad(f"{field} is not a timestamp: {value!r}") from None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return int(stamp.value // 1_000_000)
    raise _Bad(f"{field} is not a timestamp: {value!r}")


def customer_key(email: Any, customer_order_id: str | None = None) -> str:
    """Stable external id of a Walmart customer: the hash of the lower-cased relay email.

    Without an email, the hash of the customer order id: a one-off customer, the same for an order
    and its returns.
    """
    if email is not None and not isinstance(email, str):
        raise _Bad(f"customerEmailId is not a string: {email!r}")
    basis = email.strip().lower() if email and email.strip() else None
    if basis is None:
        if not customer_order_id:
            raise _Bad("customerEmailId is missing and there is no customerOrderId")
        basis = f"order:{customer_order_id}"
    return "WMC-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def _reject(key: str, reason: str, record: Any) -> dict:
    return {"record_key": key, "reason": reason, "record": record}


def _rejects(rows: list[dict], *more: pd.DataFrame) -> pd.DataFrame:
    frames = [f for f in more if len(f)]
    if rows:
        frames.insert(0, pd.DataFrame(rows, columns=REJECT_COLUMNS))
    if not frames:
        return empty_rejects()
    return pd.concat(frames, ignore_index=True)


def _record_key(record: Any, field: str, kind: str, position: int) -> str:
    value = record.get(field) if isinstance(record, dict) else None
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return f"{kind}[{position}]"


def _sum_buckets(base: pd.DataFrame, amounts: list[tuple[int, str, int]], buckets: list[str]) -> pd.DataFrame:
    """Add one integer column per bucket to `base` (indexed 0..n-1): the sum of (row, bucket, cents) entries."""
    if amounts:
        long = pd.DataFrame(amounts, columns=["row", "bucket", "cents"]).astype({"row": "int64", "cents": "int64"})
        wide = long.pivot_table(index="row", columns="bucket", values="cents", aggfunc="sum", fill_value=0)
    else:
        wide = pd.DataFrame(index=pd.Index([], dtype="int64", name="row"))
    wide = wide.reindex(index=base.index, columns=buckets, fill_value=0).fillna(0).astype("int64")
    return base.join(wide)


def _keep_last(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of the last record (by batch position) carrying each key: a page overlap never doubles a record."""
    if frame.empty:
        return frame
    last = frame.groupby(key)["_position"].transform("max")
    return frame[frame["_position"] == last]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _utc_from_ms(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype("Int64"), unit="ms", utc=True).astype("datetime64[ns, UTC]")


def _one_currency(currencies: Iterable[str], field: str) -> str:
    found = sorted(set(currencies))
    if len(found) > 1:
        raise _Bad(f"{field} mix currencies: {', '.join(found)}")
    return found[0] if found else DEFAULT_CURRENCY


def _reject_siblings(checked: Validated, group: str, keys: list[str],
                     what: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows sharing `group` with a rejected row are rejected too: no document is built from part of its source."""
    if checked.rejects.empty or checked.valid.empty:
        return checked.valid, checked.rejects
    bad = {r.get(group) for r in checked.rejects["record"] if isinstance(r, dict)}
    follow = checked.valid[group].isin(bad)
    if not follow.any():
        return checked.valid, checked.rejects
    moved = checked.valid[follow]
    extra = pd.DataFrame({
        "record_key": moved[keys].astype(str).agg(":".join, axis=1).to_numpy(),
        "reason": (f"another line of {what} " + moved[group] + " was rejected").to_numpy(),
        "record": moved.astype(object).where(moved.notna(), None).to_dict("records"),
    })
    return checked.valid[~follow], pd.concat([checked.rejects, extra], ignore_index=True)
