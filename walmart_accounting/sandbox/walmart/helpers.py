"""Parsing what requests carry: API dates and times, query parameters, and writing paging cursors."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request

from walmart_accounting.sandbox.walmart.base import _bad_param

# ----------------------------------------------------------------------------------------------------
# Time
# ----------------------------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$")


def _parse_time(value: str, *, allow_millis: bool, allow_offset: bool) -> int | None:
    """Epoch milliseconds of an API date ('2020-03-16' or '2020-03-16T10:30:15Z'), None if not accepted."""
    value = value.strip()
    m = _DATE_ONLY.match(value)
    try:
        if m:
            d = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc)
            return int(d.timestamp() * 1000)
        m = _DATE_TIME.match(value)
        if not m:
            return None
        millis, zone = m[7], m[8]
        if millis and not allow_millis:
            return None
        if zone != "Z" and not allow_offset:
            return None
        d = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=timezone.utc)
        ms = int(d.timestamp() * 1000) + (int((millis[1:] + "00")[:3]) if millis else 0)
        if zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            ms -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
        return ms
    except ValueError:
        return None


def _iso_ms(ms: int) -> str:
    """2020-07-29T13:47:18.442Z"""
    d = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _iso_to_ms(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    return _parse_time(value, allow_millis=True, allow_offset=True)


def _dt_to_ms(value: Any) -> int | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp() * 1000)
    if isinstance(value, (int, Decimal)):
        return int(value)
    return None


def _mmddyyyy(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%m%d%Y").date()
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------------------------------
# Query parameters and cursors
# ----------------------------------------------------------------------------------------------------


def _int_param(api: str, params: dict[str, str], name: str, default: int | None, *, low: int | None = None,
               high: int | None = None, high_message: str | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad_param(api, name, f"Invalid value '{raw}' for {name}") from None
    if low is not None and value < low:
        raise _bad_param(api, name, f"{name} must be at least {low}")
    if high is not None and value > high:
        raise _bad_param(api, name, high_message or f"{name} cannot be larger than {high}")
    return value


def _bool_param(params: dict[str, str], name: str) -> bool:
    return str(params.get(name, "false")).strip().lower() == "true"


def _query(request: Request) -> dict[str, str]:
    # Last value wins, as most Java frameworks bind a repeated scalar parameter.
    return {k: v for k, v in parse_qsl(request.url.query, keep_blank_values=True)}


def _cursor(params: Iterable[tuple[str, Any]]) -> str:
    # The official examples keep ':' readable in cursor values (createdEndDate=2019-09-17T18:47:03.703Z).
    return "?" + urlencode([(k, str(v)) for k, v in params if v is not None and v != ""], safe=":")
