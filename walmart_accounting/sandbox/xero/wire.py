"""What goes over the wire: request dates, MS-JSON dates out, JSON and XML bodies, form posts, handler results."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as xml_escape

from starlette.responses import Response

from walmart_accounting.domain.jsonmoney import dumps
from walmart_accounting.sandbox.xero.values import BadValue

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_date(value: Any) -> date:
    """YYYY-MM-DD (what clients send), ISO date-times and /Date(ms+zzzz)/; BadValue otherwise."""
    if not isinstance(value, str):
        raise BadValue("not a date")
    text = value.strip()
    m = _MS_DATE.match(text)
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, tz=timezone.utc).date()
    m = _ISO_DATE.match(text)
    if not m:
        raise BadValue("not a date")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise BadValue("not a date") from None


def parse_instant(value: str) -> float | None:
    """If-Modified-Since: ISO-8601 (naive means UTC) or an HTTP date; None if unreadable."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def ms_date(day: date | None) -> str | None:
    if day is None:
        return None
    epoch = datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()
    return f"/Date({int(epoch) * 1000}+0000)/"


def ms_instant(ts: float, offset: bool = True) -> str:
    return f"/Date({int(ts * 1000)}+0000)/" if offset else f"/Date({int(ts * 1000)})/"


def date_string(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00"


def instant_string(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def loads(body: bytes) -> Any:
    return json.loads(body.decode("utf-8-sig"), parse_float=Decimal)


_SINGULAR = {"Addresses": "Address", "Phones": "Phone", "TrackingCategories": "TrackingCategory",
             "Tracking": "TrackingCategory", "Currencies": "Currency", "Options": "Option",
             "Elements": "DataContractBase", "ContactPersons": "ContactPerson", "TaxComponents": "TaxComponent"}


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value + 0, "f")
    text = str(value)
    m = _MS_DATE.match(text)
    if m:
        text = datetime.fromtimestamp(int(m.group(1)) / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return xml_escape(text)


def _xml_node(name: str, value: Any, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        out.append(f"<{name}>")
        for key, sub in value.items():
            _xml_node(key, sub, out)
        out.append(f"</{name}>")
    elif isinstance(value, (list, tuple)):
        if not value:
            return
        item = _SINGULAR.get(name) or (name[:-3] + "y" if name.endswith("ies") else name[:-1] if name.endswith("s") else name)
        out.append(f"<{name}>")
        for sub in value:
            _xml_node(item, sub, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_xml_value(value)}</{name}>")


def to_xml(payload: dict) -> str:
    """What Xero sends a client that did not ask for JSON (the API's default representation)."""
    root = "ApiException" if "ErrorNumber" in payload else "Response"
    out = [f'<{root} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">']
    for key, value in payload.items():
        _xml_node(key, value, out)
    out.append(f"</{root}>")
    return "".join(out)


@dataclass
class Result:
    """What a handler answers: a status and a JSON-able payload (str for plain text)."""

    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)


def _form(body: bytes) -> dict[str, str]:
    return {k: v for k, v in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)}


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload), status_code=status, headers=headers or {},
                    media_type="application/json; charset=utf-8")
