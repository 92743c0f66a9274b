"""POST/PUT bodies checked against an entity set, property by property, and converted to its Edm types."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from walmart_accounting.sandbox.exact.model import BOOL, BYTE, DBL, DT, I16, I32, EntitySet, G, S, _bad, parse_datetime
from walmart_accounting.sandbox.exact.sets import SETS


def _guid(value: str) -> str:
    return str(uuid.UUID(value))


def coerce_value(name: str, edm: str, value: Any, type_name: str) -> Any:
    if value is None:
        return None
    problem = f"Error processing request stream. The value of property '{name}' of type '{type_name}' " \
              f"cannot be converted to '{edm}'."
    try:
        if edm == S:
            if not isinstance(value, str):
                raise ValueError
            return value
        if edm == G:
            if not isinstance(value, str):
                raise ValueError
            return _guid(value)
        if edm in (I32, I16, BYTE):
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, str):
                value = int(value.strip())
            if isinstance(value, Decimal):
                if value != value.to_integral_value():
                    raise ValueError
                value = int(value)
            if not isinstance(value, int):
                raise ValueError
            return value
        if edm == DBL:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, (int, Decimal)):
                number = Decimal(value)
            elif isinstance(value, str):
                number = Decimal(value.strip())
            else:
                raise ValueError
            if not number.is_finite():
                raise ValueError
            return number
        if edm == BOOL:
            if not isinstance(value, bool):
                raise ValueError
            return value
        if edm == DT:
            if not isinstance(value, str):
                raise ValueError
            return parse_datetime(value)
    except (ValueError, InvalidOperation, TypeError, AttributeError):
        raise _bad(problem) from None
    raise _bad(problem)


def coerce_body(es: EntitySet, body: Any, method: str) -> dict[str, Any]:
    """Check every property name against the entity type and convert values; read-only ones are ignored."""
    if not isinstance(body, dict):
        raise _bad("Error processing request stream. JSON text specified is not valid.")
    out: dict[str, Any] = {}
    for name, value in body.items():
        if name == "__metadata":
            continue
        if name in es.nav:
            if method == "PUT":
                raise _bad(f"Error processing request stream. Updating the collection '{name}' through the "
                           f"header is not supported; post and delete the lines on their own endpoint.")
            if isinstance(value, dict) and isinstance(value.get("results"), list):
                value = value["results"]
            if not isinstance(value, list):
                raise _bad(f"Error processing request stream. The property '{name}' must be a collection.")
            child = SETS[es.nav[name][0]]
            out[name] = [coerce_body(child, item, method) for item in value]
            continue
        edm = es.fields.get(name)
        if edm is None:
            raise _bad(f"Error processing request stream. The property name '{name}' specified for type "
                       f"'{es.type_name}' is not valid.")
        if name not in es.writable:
            continue
        out[name] = coerce_value(name, edm, value, es.type_name)
    return out
