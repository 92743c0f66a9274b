"""Exact's shared vocabulary: OData errors and JSON responses, .NET dates, Edm types, entity sets, divisions."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.responses import Response

from walmart_accounting.domain.jsonmoney import dumps

EPOCH = datetime(1970, 1, 1)
CENT = Decimal("0.01")

# --------------------------------------------------------------------------------------------------
# Errors and JSON


class ODataError(Exception):
    """An error answered in Exact's shape: {"error":{"code":"","message":{"lang":"","value":...}}}."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _bad(message: str) -> ODataError:
    return ODataError(400, message)


def error_body(message: str) -> dict:
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload).encode(), status_code=status, headers=headers,
                    media_type="application/json; charset=utf-8")


def error_response(err: ODataError) -> Response:
    return json_response(err.status, error_body(err.message), err.headers)


# --------------------------------------------------------------------------------------------------
# Dates


def to_ms(value: datetime) -> int:
    delta = value - EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def exact_date(value: datetime) -> str:
    """Exact's .NET JSON date: "/Date(1641034800000)/"."""
    return f"/Date({to_ms(value)})/"


_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_datetime(value: str) -> datetime:
    """ISO-8601 (date, date-time, with or without zone) or /Date(ms)/ -> naive UTC datetime."""
    text = value.strip()
    m = _DOTNET_DATE.match(text)
    if m:
        return EPOCH + timedelta(milliseconds=int(m.group(1)))
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------------
# Entity model

S, G, I32, I16, BYTE, DBL, BOOL, DT = (
    "Edm.String", "Edm.Guid", "Edm.Int32", "Edm.Int16", "Edm.Byte", "Edm.Double", "Edm.Boolean", "Edm.DateTime",
)
NUMERIC = frozenset({I32, I16, BYTE, DBL, "Edm.Int64", "Edm.Decimal", "Edm.Single"})
_SHORT = {"S": S, "G": G, "I": I32, "H": I16, "Y": BYTE, "D": DBL, "B": BOOL, "T": DT}


def _fields(spec: str) -> dict[str, str]:
    """'ID:G Code Name:S Amount:D' -> {name: Edm type}; no suffix means Edm.String."""
    out: dict[str, str] = {}
    for part in spec.split():
        name, _, short = part.partition(":")
        out[name] = _SHORT[short or "S"]
    return out


@dataclass
class EntitySet:
    path: str  # "crm/Accounts"
    type_name: str  # "Exact.Web.Api.Models.Account"
    key: str
    fields: dict[str, str]
    writable: frozenset[str]
    methods: frozenset[str]
    topic: str | None = None
    nav: dict[str, tuple[str, str]] = field(default_factory=dict)  # nav name -> (child set path, fk)
    parent: tuple[str, str] | None = None  # (parent set path, fk field) for line sets

    @property
    def entity(self) -> str:
        return self.path.rsplit("/", 1)[1]


def _set(path, type_name, key, fields, writable="", methods="GET", topic=None, nav=None, parent=None):
    return EntitySet(path, f"Exact.Web.Api.Models.{type_name}", key, _fields(fields), frozenset(writable.split()),
                     frozenset(methods.split()), topic, dict(nav or {}), parent)


# --------------------------------------------------------------------------------------------------
# Divisions


class Division:
    """One administration: its tables of records by entity set, and its number sequences."""

    def __init__(self, code: int, description: str, currency: str):
        self.code = code
        self.description = description
        self.currency = currency
        self.tables: dict[str, dict[str, dict]] = defaultdict(dict)
        self.sequences: dict[str, int] = defaultdict(int)

    def table(self, path: str) -> dict[str, dict]:
        return self.tables[path]

    def find(self, path: str, name: str, value: Any) -> dict | None:
        for rec in self.tables[path].values():
            if rec.get(name) == value:
                return rec
        return None

    def children(self, path: str, fk: str, parent_key: str) -> list[dict]:
        rows = [r for r in self.tables[path].values() if r.get(fk) == parent_key]
        return sorted(rows, key=lambda r: r.get("LineNumber") or 0)
