"""JSON with exact money: Decimals in, Decimals out, written as JSON numbers, never through float."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def loads(text: str | bytes) -> Any:
    """Parse JSON, reading every non-integer number as a Decimal."""
    return json.loads(text, parse_float=Decimal)


def _encode(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, (bool, str)):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        out.append(format(value + 0, "f"))  # + 0 turns -0.00 into 0.00
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        raise TypeError("float in a JSON document about money; use Decimal")
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, (date, datetime)):
        out.append(json.dumps(value.isoformat()))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    """Serialise to JSON, writing Decimals as numbers with their exact digits (19.90 stays 19.90)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)
