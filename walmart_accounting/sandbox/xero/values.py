"""Constants, Decimal money and case-insensitive reading of request values, shared by the whole emulator."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

PROVIDER_NAME = "Walmart Accounting Sandbox"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
D0 = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"

ACCOUNT_CLASSES = {
    "BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET", "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET", "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY", "EQUITY": "EQUITY", "REVENUE": "REVENUE", "SALES": "REVENUE", "OTHERINCOME": "REVENUE",
    "EXPENSE": "EXPENSE", "DIRECTCOSTS": "EXPENSE", "OVERHEADS": "EXPENSE", "DEPRECIATN": "EXPENSE",
}
REPORTING = {"ASSET": ("ASS", "Assets"), "LIABILITY": ("LIA", "Liabilities"), "EQUITY": ("EQU", "Equity"),
             "REVENUE": ("REV", "Revenue"), "EXPENSE": ("EXP", "Expense")}
LINE_AMOUNT_TYPES = {"exclusive": "Exclusive", "inclusive": "Inclusive", "notax": "NoTax"}
PAYMENT_TYPES = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT",
                 "ACCRECCREDIT": "ARCREDITPAYMENT", "ACCPAYCREDIT": "APCREDITPAYMENT"}
CURRENCY_NAMES = {"USD": "United States Dollar", "EUR": "Euro", "GBP": "British Pound", "CAD": "Canadian Dollar",
                  "MXN": "Mexican Peso", "NZD": "New Zealand Dollar", "AUD": "Australian Dollar"}


_DOC_KINDS = {
    "invoice": {"id": "InvoiceID", "number": "InvoiceNumber", "types": ("ACCREC", "ACCPAY"), "sales": "ACCREC",
                "coll": "Invoices", "prefix": "INV-", "label": "Invoice", "entity": "Invoice",
                "unique": "Invoice # must be unique."},
    "credit": {"id": "CreditNoteID", "number": "CreditNoteNumber", "types": ("ACCRECCREDIT", "ACCPAYCREDIT"),
               "sales": "ACCRECCREDIT", "coll": "CreditNotes", "prefix": "CN-", "label": "Credit Note",
               "entity": "CreditNote", "unique": "Credit Note # must be unique."},
}


class BadValue(ValueError):
    """A request value that cannot be read (a number that is not a number, a date that is not a date)."""


def r2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rq(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money_text(value: Decimal) -> str:
    return format(r2(value) + 0, "f")


def to_number(value: Any, what: str) -> Decimal | None:
    """A JSON number (parsed as Decimal), integer or numeric string; None when absent."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, bool):
        raise BadValue(f"{what} must be a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):  # only reachable if someone bypasses parse_float=Decimal
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise BadValue(f"{what} must be a number, got '{value}'") from None
    else:
        raise BadValue(f"{what} must be a number")
    if not result.is_finite():
        raise BadValue(f"{what} must be a finite number")
    return result


def _get(raw: Any, key: str, default: Any = None) -> Any:
    """A property of a request object, matched case-insensitively as Xero's deserializer does."""
    if not isinstance(raw, dict):
        return default
    if key in raw:
        return raw[key]
    low = key.lower()
    for k, v in raw.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return default


def _has(raw: Any, key: str) -> bool:
    return isinstance(raw, dict) and any(isinstance(k, str) and k.lower() == key.lower() for k in raw)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise BadValue("expected text")
    return str(value) if not isinstance(value, Decimal) else format(value, "f")


def _is_guid(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False


def _bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")
