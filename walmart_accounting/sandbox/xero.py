"""Xero emulator: OAuth 2.0 (login + identity), the Connections endpoint and the Accounting API subset we post to.

Mounted by `SandboxServer` under /xero, so a client reaches it at
  {base}/xero/login/identity/connect/authorize   (real: https://login.xero.com/identity/connect/authorize)
  {base}/xero/identity/connect/token             (real: https://identity.xero.com/connect/token)
  {base}/xero/api/connections                    (real: https://api.xero.com/connections)
  {base}/xero/api/api.xro/2.0/Invoices ...       (real: https://api.xero.com/api.xro/2.0/Invoices)

Behaviour follows specs/xero/FACTS.md and the official OpenAPI file: MS-JSON dates,
per-line tax rounding, summarizeErrors, Idempotency-Key (6 minutes), per-tenant rate limits with the
real headers, rotating refresh tokens, XML unless the client asks for JSON, classic Dynamic-LINQ
`where` syntax (strings in double quotes, a quote inside is doubled). Money is Decimal end to end and
is written to JSON as numbers with two decimals.

Everything lives in memory on `app.state.xero` (an `XeroState`), guarded by one re-entrant lock.
"""

from __future__ import annotations

import base64
import hashlib
import json

from walmart_accounting.domain.jsonmoney import dumps
import random
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape as xml_escape

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from walmart_accounting.domain.config import FEE_TYPES, load_default_config
from walmart_accounting.sandbox.common import FixedWindowLimiter
from walmart_accounting.sandbox.options import SandboxOptions

PROVIDER_NAME = "Walmart Accounting Sandbox"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
D0 = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")

ACCESS_TOKEN_TTL_S = 1800
REFRESH_TOKEN_TTL_S = 60 * 24 * 3600
REFRESH_GRACE_S = 1800
AUTH_CODE_TTL_S = 300
IDEMPOTENCY_TTL_S = 360
IDEMPOTENCY_KEY_MAX = 128
MAX_BODY_BYTES = 3_500_000

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


# --------------------------------------------------------------------------------------------------
# Small helpers: Decimal money, dates, JSON/XML output
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# `where` / `order`: the classic System.Linq.Dynamic grammar Xero exposes
# --------------------------------------------------------------------------------------------------


class QueryParseError(Exception):
    """Reported as 400 {"ErrorNumber":16,"Type":"QueryParseException","Message":...}."""


class Guid:
    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value.lower()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Guid) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


# Field types by entity; anything not listed is a String. Nested entities name their type.
_ENTITY_FIELDS: dict[str, dict[str, str]] = {
    "Contact": {"ContactID": "Guid", "ContactNumber": "String", "AccountNumber": "String", "ContactStatus": "String",
                "Name": "String", "FirstName": "String", "LastName": "String", "EmailAddress": "String",
                "CompanyNumber": "String", "TaxNumber": "String", "IsSupplier": "Boolean", "IsCustomer": "Boolean",
                "DefaultCurrency": "String", "UpdatedDateUTC": "DateTime", "HasAttachments": "Boolean",
                "Website": "String"},
    "Invoice": {"InvoiceID": "Guid", "InvoiceNumber": "String", "Type": "String", "Reference": "String",
                "Status": "String", "Date": "DateTime", "DueDate": "DateTime", "LineAmountTypes": "String",
                "SubTotal": "Decimal", "TotalTax": "Decimal", "Total": "Decimal", "TotalDiscount": "Decimal",
                "AmountDue": "Decimal", "AmountPaid": "Decimal", "AmountCredited": "Decimal",
                "CurrencyCode": "String", "CurrencyRate": "Decimal", "UpdatedDateUTC": "DateTime",
                "FullyPaidOnDate": "DateTime", "SentToContact": "Boolean", "HasAttachments": "Boolean",
                "Contact": "Contact"},
    "CreditNote": {"CreditNoteID": "Guid", "CreditNoteNumber": "String", "Type": "String", "Reference": "String",
                   "Status": "String", "Date": "DateTime", "DueDate": "DateTime", "LineAmountTypes": "String",
                   "SubTotal": "Decimal", "TotalTax": "Decimal", "Total": "Decimal", "RemainingCredit": "Decimal",
                   "CurrencyCode": "String", "CurrencyRate": "Decimal", "UpdatedDateUTC": "DateTime",
                   "FullyPaidOnDate": "DateTime", "SentToContact": "Boolean", "HasAttachments": "Boolean",
                   "Contact": "Contact"},
    "Payment": {"PaymentID": "Guid", "Date": "DateTime", "Amount": "Decimal", "BankAmount": "Decimal",
                "Reference": "String", "IsReconciled": "Boolean", "Status": "String", "PaymentType": "String",
                "UpdatedDateUTC": "DateTime", "CurrencyRate": "Decimal", "Invoice": "Invoice",
                "CreditNote": "CreditNote", "Account": "Account"},
    "Account": {"AccountID": "Guid", "Code": "String", "Name": "String", "Type": "String", "Status": "String",
                "TaxType": "String", "Class": "String", "SystemAccount": "String", "Description": "String",
                "EnablePaymentsToAccount": "Boolean", "ShowInExpenseClaims": "Boolean",
                "BankAccountNumber": "String", "BankAccountType": "String", "CurrencyCode": "String",
                "ReportingCode": "String", "HasAttachments": "Boolean", "UpdatedDateUTC": "DateTime"},
    "BankTransfer": {"BankTransferID": "Guid", "Amount": "Decimal", "Date": "DateTime", "Reference": "String",
                     "FromIsReconciled": "Boolean", "ToIsReconciled": "Boolean", "CurrencyRate": "Decimal",
                     "HasAttachments": "Boolean", "CreatedDateUTC": "DateTime", "Status": "String",
                     "FromBankAccount": "Account", "ToBankAccount": "Account",
                     "FromBankTransactionID": "Guid", "ToBankTransactionID": "Guid"},
    "Item": {"ItemID": "Guid", "Code": "String", "Name": "String", "Description": "String",
             "IsSold": "Boolean", "IsPurchased": "Boolean", "IsTrackedAsInventory": "Boolean",
             "UpdatedDateUTC": "DateTime"},
    "TaxRate": {"Name": "String", "TaxType": "String", "Status": "String", "ReportTaxType": "String",
                "EffectiveRate": "Decimal", "DisplayTaxRate": "Decimal", "CanApplyToRevenue": "Boolean",
                "CanApplyToExpenses": "Boolean", "CanApplyToAssets": "Boolean", "CanApplyToEquity": "Boolean",
                "CanApplyToLiabilities": "Boolean"},
    "TrackingCategory": {"TrackingCategoryID": "Guid", "Name": "String", "Status": "String"},
}
_VALUE_TYPES = {"String", "Guid", "DateTime", "Decimal", "Boolean", "Null"}


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            quote, j, buf = c, i + 1, []
            while True:
                if j >= n:
                    raise QueryParseError("Unterminated string literal")
                if text[j] == quote:
                    if j + 1 < n and text[j + 1] == quote:  # a doubled quote is one quote character
                        buf.append(quote)
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            value = "".join(buf)
            if quote == "'" and len(value) != 1:
                raise QueryParseError("Character literal must contain exactly one character")
            tokens.append(("str", value))
            i = j + 1
            continue
        if c.isdigit():
            m = re.match(r"\d+(?:\.\d+)?", text[i:])
            tokens.append(("num", Decimal(m.group())))
            i += len(m.group())
            continue
        if c.isalpha() or c == "_":
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i:])
            tokens.append(("id", m.group()))
            i += len(m.group())
            continue
        two = text[i:i + 2]
        if two in ("==", "!=", "<>", "<=", ">=", "&&", "||"):
            tokens.append(("op", two))
            i += 2
            continue
        if c in "=<>!().,-":
            tokens.append(("op", c))
            i += 1
            continue
        raise QueryParseError(f"Syntax error '{c}'")
    tokens.append(("end", None))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.pos]

    def take(self) -> tuple[str, Any]:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def is_word(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind == "id" and value.lower() in words

    def is_op(self, *ops: str) -> bool:
        kind, value = self.peek()
        return kind == "op" and value in ops

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            raise QueryParseError(f"'{op}' expected")
        self.take()

    def parse(self):
        node = self.parse_or()
        if self.peek()[0] != "end":
            raise QueryParseError("Syntax error")
        return node

    def parse_or(self):
        node = self.parse_and()
        while self.is_op("||") or self.is_word("or"):
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self):
        node = self.parse_unary_logic()
        while self.is_op("&&") or self.is_word("and"):
            self.take()
            node = ("and", node, self.parse_unary_logic())
        return node

    def parse_unary_logic(self):
        if self.is_op("!") or self.is_word("not"):
            self.take()
            return ("not", self.parse_unary_logic())
        return self.parse_comparison()

    def parse_comparison(self):
        left = self.parse_primary()
        if self.is_op("==", "=", "!=", "<>", "<", ">", "<=", ">="):
            op = self.take()[1]
            op = {"=": "==", "<>": "!="}.get(op, op)
            right = self.parse_primary()
            return ("cmp", op, left, right)
        return left

    def parse_primary(self):
        kind, value = self.peek()
        if kind == "op" and value == "(":
            self.take()
            node = self.parse_or()
            self.expect_op(")")
            return self.parse_postfix(node)
        if kind == "op" and value == "-":
            self.take()
            kind2, num = self.take()
            if kind2 != "num":
                raise QueryParseError("Syntax error")
            return ("lit", -num, "Decimal")
        if kind == "str":
            self.take()
            return self.parse_postfix(("lit", value, "String"))
        if kind == "num":
            self.take()
            return ("lit", value, "Decimal")
        if kind == "id":
            self.take()
            low = value.lower()
            if low == "true":
                return ("lit", True, "Boolean")
            if low == "false":
                return ("lit", False, "Boolean")
            if low == "null":
                return ("lit", None, "Null")
            if low == "guid" and self.is_op("("):
                self.take()
                k, text = self.take()
                self.expect_op(")")
                if k != "str" or not _is_guid(text):
                    raise QueryParseError("Guid expects a string of the form 00000000-0000-0000-0000-000000000000")
                return self.parse_postfix(("lit", Guid(text), "Guid"))
            if low == "datetime" and self.is_op("("):
                self.take()
                parts = []
                while True:
                    k, num = self.take()
                    if k != "num":
                        raise QueryParseError("Syntax error")
                    parts.append(int(num))
                    if self.is_op(","):
                        self.take()
                        continue
                    self.expect_op(")")
                    break
                if len(parts) not in (3, 6):
                    raise QueryParseError("No matching constructor in type 'DateTime'")
                try:
                    moment = datetime(*parts, tzinfo=timezone.utc)
                except ValueError as exc:
                    raise QueryParseError(f"Invalid DateTime: {exc}") from None
                return ("lit", moment, "DateTime")
            return self.parse_postfix(("member", None, value))
        raise QueryParseError("Expression expected")

    def parse_postfix(self, node):
        while self.is_op("."):
            self.take()
            kind, name = self.take()
            if kind != "id":
                raise QueryParseError("Identifier expected")
            if self.is_op("("):
                self.take()
                args = []
                if not self.is_op(")"):
                    args.append(self.parse_or())
                    while self.is_op(","):
                        self.take()
                        args.append(self.parse_or())
                self.expect_op(")")
                node = ("call", node, name, args)
            else:
                node = ("member", node, name)
        return node


_STRING_METHODS = {"contains": ("Boolean", 1), "startswith": ("Boolean", 1), "endswith": ("Boolean", 1),
                   "tolower": ("String", 0), "toupper": ("String", 0), "trim": ("String", 0)}


def _field_name(entity: str, name: str) -> tuple[str, str]:
    fields = _ENTITY_FIELDS[entity]
    for key, typ in fields.items():
        if key.lower() == name.lower():
            return key, typ
    raise QueryParseError(f"No property or field '{name}' exists in type '{entity}'")


def _typecheck(node, entity: str) -> str:
    kind = node[0]
    if kind == "lit":
        return node[2]
    if kind == "member":
        base = entity if node[1] is None else _typecheck(node[1], entity)
        if base not in _ENTITY_FIELDS:
            raise QueryParseError(f"No property or field '{node[2]}' exists in type '{base}'")
        return _field_name(base, node[2])[1]
    if kind == "call":
        base = _typecheck(node[1], entity)
        name = node[2].lower()
        if name == "tostring" and not node[3]:
            return "String"
        if base == "String" and name in _STRING_METHODS:
            result, arity = _STRING_METHODS[name]
            if len(node[3]) != arity or any(_typecheck(a, entity) != "String" for a in node[3]):
                raise QueryParseError(f"No applicable method '{node[2]}' exists in type 'String'")
            return result
        raise QueryParseError(f"No applicable method '{node[2]}' exists in type '{base}'")
    if kind in ("and", "or"):
        left, right = _typecheck(node[1], entity), _typecheck(node[2], entity)
        if left != "Boolean" or right != "Boolean":
            raise QueryParseError(f"Operator '{kind}' incompatible with operand types '{left}' and '{right}'")
        return "Boolean"
    if kind == "not":
        inner = _typecheck(node[1], entity)
        if inner != "Boolean":
            raise QueryParseError(f"Operator 'not' incompatible with operand type '{inner}'")
        return "Boolean"
    if kind == "cmp":
        op, left, right = node[1], _typecheck(node[2], entity), _typecheck(node[3], entity)
        if left not in _VALUE_TYPES or right not in _VALUE_TYPES:
            if not ("Null" in (left, right) and op in ("==", "!=")):
                raise QueryParseError(f"Operator '{op}' incompatible with operand types '{left}' and '{right}'")
            return "Boolean"
        ok = left == right or "Null" in (left, right)
        if op not in ("==", "!=") and (left in ("Boolean", "Guid", "Null") or right == "Null"):
            ok = False
        if not ok:
            raise QueryParseError(f"Operator '{op}' incompatible with operand types '{left}' and '{right}'")
        return "Boolean"
    raise QueryParseError("Syntax error")


def _evaluate(node, view: dict) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "member":
        base = view if node[1] is None else _evaluate(node[1], view)
        if not isinstance(base, dict):
            return None
        low = node[2].lower()
        for key, value in base.items():
            if key.lower() == low:
                return value
        return None
    if kind == "call":
        base = _evaluate(node[1], view)
        name = node[2].lower()
        if base is None:
            return None
        if name == "tostring":
            if isinstance(base, Guid):
                return base.value
            if isinstance(base, bool):
                return "True" if base else "False"
            return base if isinstance(base, str) else str(base)
        if name in ("tolower", "toupper", "trim"):
            return {"tolower": base.lower, "toupper": base.upper, "trim": base.strip}[name]()
        arg = _evaluate(node[3][0], view)
        if arg is None:
            return False
        a, b = base.lower(), arg.lower()
        return {"contains": b in a, "startswith": a.startswith(b), "endswith": a.endswith(b)}[name]
    if kind == "and":
        return bool(_evaluate(node[1], view)) and bool(_evaluate(node[2], view))
    if kind == "or":
        return bool(_evaluate(node[1], view)) or bool(_evaluate(node[2], view))
    if kind == "not":
        return not bool(_evaluate(node[1], view))
    if kind == "cmp":
        op, left, right = node[1], _evaluate(node[2], view), _evaluate(node[3], view)
        if left is None or right is None:
            if op == "==":
                return left is None and right is None
            if op == "!=":
                return not (left is None and right is None)
            return False
        if isinstance(left, str) and isinstance(right, str):  # Xero's store compares text case-insensitively
            left, right = left.lower(), right.lower()
        if isinstance(left, Guid):
            return (left == right) if op == "==" else (left != right)
        if isinstance(left, date) and not isinstance(left, datetime):
            left = datetime(left.year, left.month, left.day, tzinfo=timezone.utc)
        if isinstance(right, date) and not isinstance(right, datetime):
            right = datetime(right.year, right.month, right.day, tzinfo=timezone.utc)
        return {"==": left == right, "!=": left != right, "<": left < right, ">": left > right,
                "<=": left <= right, ">=": left >= right}[op]
    return None


def compile_where(text: str, entity: str) -> Callable[[dict], bool]:
    node = _Parser(text).parse()
    if _typecheck(node, entity) != "Boolean":
        raise QueryParseError("Expression of type 'Boolean' expected")
    return lambda view: bool(_evaluate(node, view))


def apply_order(rows: list, order: str | None, entity: str, view_of: Callable[[Any], dict]) -> list:
    if not order:
        return rows
    keys = []
    for part in order.split(","):
        words = part.strip().split()
        if not words:
            continue
        path = words[0].split(".")
        desc = len(words) > 1 and words[1].upper() == "DESC"
        if len(words) > 1 and words[1].upper() not in ("ASC", "DESC"):
            raise QueryParseError("Syntax error")
        typ = entity
        for name in path:
            if typ not in _ENTITY_FIELDS:
                raise QueryParseError(f"No property or field '{name}' exists in type '{typ}'")
            typ = _field_name(typ, name)[1]
        keys.append((path, desc))

    def value(row, path):
        current: Any = view_of(row)
        for name in path:
            if not isinstance(current, dict):
                return None
            current = next((v for k, v in current.items() if k.lower() == name.lower()), None)
        if isinstance(current, Guid):
            return current.value
        if isinstance(current, str):
            return current.lower()
        return current

    for path, desc in reversed(keys):
        present = [r for r in rows if value(r, path) is not None]
        missing = [r for r in rows if value(r, path) is None]
        present.sort(key=lambda r: value(r, path), reverse=desc)
        rows = (missing + present) if not desc else (present + missing)
    return rows


# --------------------------------------------------------------------------------------------------
# Auth records
# --------------------------------------------------------------------------------------------------


@dataclass
class AccessToken:
    token: str
    client_id: str
    scope: tuple[str, ...]
    auth_event_id: str
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    scope: tuple[str, ...]
    auth_event_id: str
    expires_at: float
    used_at: float | None = None
    successor: str | None = None
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    used: bool = False


@dataclass
class IdempotentResponse:
    fingerprint: str
    status: int
    payload: Any
    stored_at: float


@dataclass
class Result:
    """What a handler answers: a status and a JSON-able payload (str for plain text)."""

    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _jwt_like(payload: dict) -> str:
    """Shaped like Xero's RS256 JWTs so clients can read exp/claims; the signature is random bytes."""
    header = {"alg": "RS256", "kid": "sandbox-xero", "typ": "JWT", "x5t": "sandbox-xero"}
    return ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()),
                     _b64url(secrets.token_bytes(64))])


class ElementError(Exception):
    """Validation errors of one element of a batch."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


# Scopes: broad ones from the spec, plus the granular ones Xero introduced in 2026.
_SCOPE_FAMILIES = {
    "invoices": ("accounting.transactions", ("accounting.invoices",)),
    "creditnotes": ("accounting.transactions", ("accounting.invoices",)),
    "payments": ("accounting.transactions", ("accounting.payments",)),
    "banktransfers": ("accounting.transactions", ("accounting.banktransactions",)),
    "contacts": ("accounting.contacts", ()),
    "accounts": ("accounting.settings", ()),
    "taxrates": ("accounting.settings", ()),
    "trackingcategories": ("accounting.settings", ()),
    "items": ("accounting.settings", ()),
    "organisation": ("accounting.settings", ()),
    "currencies": ("accounting.settings", ()),
}


# --------------------------------------------------------------------------------------------------
# The organisation and everything in it
# --------------------------------------------------------------------------------------------------


_DOC_KINDS = {
    "invoice": {"id": "InvoiceID", "number": "InvoiceNumber", "types": ("ACCREC", "ACCPAY"), "sales": "ACCREC",
                "coll": "Invoices", "prefix": "INV-", "label": "Invoice", "entity": "Invoice",
                "unique": "Invoice # must be unique."},
    "credit": {"id": "CreditNoteID", "number": "CreditNoteNumber", "types": ("ACCRECCREDIT", "ACCPAYCREDIT"),
               "sales": "ACCRECCREDIT", "coll": "CreditNotes", "prefix": "CN-", "label": "Credit Note",
               "entity": "CreditNote", "unique": "Credit Note # must be unique."},
}


_SKU_CACHE: dict[tuple[int, int], tuple[tuple[str, str, Decimal], ...]] = {}
_SKU_CACHE_LOCK = threading.Lock()


def _seller_skus(seller_class, seed: int) -> tuple[tuple[str, str, Decimal], ...]:
    """The synthetic seller's SKUs (code, name, price); building the seller is costly, so once per seed."""
    key = (id(seller_class), seed)
    with _SKU_CACHE_LOCK:
        if key not in _SKU_CACHE:
            seller = seller_class(seed)
            _SKU_CACHE[key] = tuple((s.sku, s.name, Decimal(int(s.price_cents)) / 100) for s in seller.skus)
        return _SKU_CACHE[key]


class XeroState:
    """One Xero organisation (tenant), its app connection, tokens, limits and books."""

    def __init__(self, options: SandboxOptions, items: Iterable[tuple[str, str, Decimal]] | None = None):
        self.options = options
        self.clock = options.clock
        self.lock = threading.RLock()
        self._rng = random.Random(options.seed)
        cfg = load_default_config()
        self.config = cfg
        ledger = cfg.ledger("xero")
        self.base_currency = ledger.base_currency
        self.currencies: set[str] = {self.base_currency}
        self.fx_rates: dict[str, Decimal] = {}
        self.timezone_name = cfg.seller.timezone
        self.tenant_id = self.new_id()
        self.connection_id = self.new_id()
        self.tenant_name = cfg.seller.name
        self.short_code = "!" + "".join(self._rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789") for _ in range(5))
        self.created_at = self.clock.now()
        # auth
        creds = options.credentials
        self.clients: dict[str, str] = {creds.xero_client_id: creds.xero_client_secret}
        self.auth_codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.connection: dict | None = None  # created by the first consent
        self.access_token_ttl_s = ACCESS_TOKEN_TTL_S
        self.refresh_token_ttl_s = REFRESH_TOKEN_TTL_S
        self.refresh_grace_s = REFRESH_GRACE_S
        self.auth_code_ttl_s = AUTH_CODE_TTL_S
        # limits (attributes tests lower)
        self.minute_limiter = FixedWindowLimiter(60, 60, self.clock)
        self.day_limiter = FixedWindowLimiter(5000, 86400, self.clock)
        self.app_minute_limiter = FixedWindowLimiter(10000, 60, self.clock)
        self.concurrent_limit = 5
        self.max_batch = 50
        self.max_body_bytes = MAX_BODY_BYTES
        self.idempotency_ttl_s = IDEMPOTENCY_TTL_S
        self._in_flight: dict[str, int] = {}
        self._last_remaining: dict[str, dict[str, int]] = {}
        self._idempotency: dict[tuple[str, str], IdempotentResponse] = {}
        # test hook: while `gate` is an unset Event, accounting handlers wait (they already count as in flight)
        self.gate: threading.Event | None = None
        self.gate_timeout_s = 30.0
        # books
        self.accounts: dict[str, dict] = {}
        self.tax_rates: dict[str, dict] = {}
        self.tracking_categories: dict[str, dict] = {}
        self.items: dict[str, dict] = {}
        self.contacts: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.credit_notes: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.allocations: dict[str, dict] = {}
        self.bank_transfers: dict[str, dict] = {}
        self._seed(cfg, items)

    # -- ids, time ---------------------------------------------------------------------------------

    def new_id(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def now(self) -> float:
        return self.clock.now()

    def today(self) -> date:
        moment = datetime.fromtimestamp(self.now(), tz=timezone.utc)
        try:
            from zoneinfo import ZoneInfo

            moment = moment.astimezone(ZoneInfo(self.timezone_name))
        except Exception:  # no tz database: the org's day in UTC is close enough
            pass
        return moment.date()

    # -- limits --------------------------------------------------------------------------------------

    @property
    def minute_limit(self) -> int:
        return self.minute_limiter.limit

    @minute_limit.setter
    def minute_limit(self, value: int) -> None:
        self.minute_limiter.limit = value

    @property
    def day_limit(self) -> int:
        return self.day_limiter.limit

    @day_limit.setter
    def day_limit(self, value: int) -> None:
        self.day_limiter.limit = value

    @property
    def app_minute_limit(self) -> int:
        return self.app_minute_limiter.limit

    @app_minute_limit.setter
    def app_minute_limit(self, value: int) -> None:
        self.app_minute_limiter.limit = value

    def set_limits(self, minute: int | None = None, day: int | None = None, concurrent: int | None = None,
                   app_minute: int | None = None) -> None:
        if minute is not None:
            self.minute_limit = minute
        if day is not None:
            self.day_limit = day
        if concurrent is not None:
            self.concurrent_limit = concurrent
        if app_minute is not None:
            self.app_minute_limit = app_minute

    def in_flight(self, tenant_id: str | None = None) -> int:
        with self.lock:
            if tenant_id is None:
                return sum(self._in_flight.values())
            return sum(n for key, n in self._in_flight.items() if key.endswith(":" + tenant_id))

    def enter(self, key: str) -> bool:
        with self.lock:
            if self._in_flight.get(key, 0) >= self.concurrent_limit:
                return False
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return True

    def leave(self, key: str) -> None:
        with self.lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)

    def remaining_headers(self, key: str) -> dict[str, str]:
        with self.lock:
            last = self._last_remaining.get(key) or {"min": self.minute_limit, "day": self.day_limit,
                                                      "app": self.app_minute_limit}
        return {"X-DayLimit-Remaining": str(last["day"]), "X-MinLimit-Remaining": str(last["min"]),
                "X-AppMinLimit-Remaining": str(last["app"])}

    def hit_limits(self, key: str, client_id: str) -> tuple[str | None, int]:
        """Count one call; (problem, retry_after_s) when a window is exhausted, else (None, 0)."""
        with self.lock:
            last = self._last_remaining.setdefault(key, {"min": self.minute_limit, "day": self.day_limit,
                                                         "app": self.app_minute_limit})
            minute = self.minute_limiter.hit(key)
            last["min"] = minute.remaining
            if not minute.allowed:
                return "minute", minute.retry_after_s
            day = self.day_limiter.hit(key)
            last["day"] = day.remaining
            if not day.allowed:
                return "day", day.retry_after_s
            app = self.app_minute_limiter.hit("app:" + client_id)
            last["app"] = app.remaining
            if not app.allowed:
                return "appminute", app.retry_after_s
            return None, 0

    # -- seeding ---------------------------------------------------------------------------------------

    def _seed(self, cfg, items) -> None:
        ledger = cfg.ledger("xero")
        acc = ledger.accounts
        plan: list[tuple[str, str, str, dict]] = [
            (acc.bank, "Business Checking", "BANK", {"BankAccountNumber": "121000248-4417", "BankAccountType": "BANK"}),
            (acc.clearing, "Walmart Clearing", "BANK", {"BankAccountNumber": "WALMART-CLEARING", "BankAccountType": "BANK"}),
            (acc.reserve, "Walmart Reserve", "CURRENT", {}),
            (acc.facilitator_tax, "Marketplace Facilitator Tax", "CURRLIAB", {}),
            (acc.sales, "Walmart Sales", "SALES", {}),
            (acc.shipping, "Shipping Income", "REVENUE", {}),
            (acc.discounts, "Discounts and Promotions", "REVENUE", {}),
            (acc.refunds, "Refunds and Returns", "REVENUE", {}),
            (acc.adjustments, "Walmart Adjustments", "EXPENSE", {}),
        ]
        fee_names = {"commission": "Walmart Commissions", "shipping_label": "Walmart Shipping Labels",
                     "wfs_fulfillment": "WFS Fulfillment Fees", "wfs_storage": "WFS Storage Fees",
                     "wfs_inbound": "WFS Inbound Transportation", "wfs_removal": "WFS Removal Fees",
                     "wfs_return_shipping": "WFS Return Shipping", "advertising": "Walmart Advertising",
                     "review_accelerator": "Review Accelerator Fees", "other_fees": "Other Walmart Fees"}
        seen_codes: set[str] = set()
        for fee in FEE_TYPES:
            code = acc.fees[fee]
            if code in seen_codes or code in {p[0] for p in plan}:
                continue
            seen_codes.add(code)
            plan.append((code, fee_names.get(fee, fee.replace("_", " ").title()), "EXPENSE", {}))
        used = {p[0] for p in plan}
        system = [("1100", "Accounts Receivable", "CURRENT", {"SystemAccount": "DEBTORS"}),
                  ("2000", "Accounts Payable", "CURRLIAB", {"SystemAccount": "CREDITORS"}),
                  ("2200", "Sales Tax", "CURRLIAB", {"SystemAccount": "GST"}),
                  ("3200", "Retained Earnings", "EQUITY", {"SystemAccount": "RETAINEDEARNINGS"}),
                  ("3000", "Owner's Equity", "EQUITY", {}),
                  ("6900", "Bank Fees", "EXPENSE", {}),
                  ("8600", "Rounding", "EXPENSE", {"SystemAccount": "ROUNDING"})]
        for code, name, typ, extra in system:
            while code in used:  # never collide with the mapping's codes
                code = str(int(code) + 1)
            used.add(code)
            plan.append((code, name, typ, extra))
        for code, name, typ, extra in plan:
            self._add_account(code, name, typ, **extra)

        rates = {"NONE": ("Tax Exempt", D0), "TAX001": ("Puerto Rico Sales Tax", Decimal("11.5"))}
        codes = [ledger.tax_codes.facilitator, ledger.tax_codes.no_tax, *ledger.tax_codes.seller_remitted.values()]
        for code in dict.fromkeys(["NONE", *codes]):
            name, rate = rates.get(code, (code, D0))
            self._add_tax_rate(code, name, rate)

        if cfg.tracking is not None:
            cat = self._add_tracking_category(cfg.tracking.category)
            self._add_tracking_option(cat, cfg.tracking.option)

        for code, name, price in self._item_seed(cfg, items):
            item_id = self.new_id()
            self.items[item_id] = {
                "ItemID": item_id, "Code": str(code)[:30], "Name": str(name)[:50], "Description": str(name),
                "IsSold": True, "IsPurchased": False, "IsTrackedAsInventory": False,
                "SalesDetails": {"UnitPrice": Decimal(price), "AccountCode": acc.sales, "TaxType": ledger.tax_codes.no_tax},
                "PurchaseDetails": {}, "UpdatedDateUTC": self.now(),
            }

    def _item_seed(self, cfg, items) -> list[tuple[str, str, Decimal]]:
        if items is not None:
            return [(c, n, to_number(p, "price") or D0) for c, n, p in items]
        try:
            from walmart_accounting.sandbox.seller import SyntheticSeller
        except ImportError:
            SyntheticSeller = None
        if SyntheticSeller is not None:
            return list(_seller_skus(SyntheticSeller, self.options.seed))
        result = []
        skus = cfg.ledger("xero").skus
        for sku, entry in skus.items.items():
            code = entry.item_code or sku
            result.append((code, f"Walmart item {sku}", D0))
        return result

    def _add_account(self, code: str, name: str, typ: str, **extra) -> dict:
        account_id = self.new_id()
        klass = ACCOUNT_CLASSES.get(typ, "EXPENSE")
        record = {"AccountID": account_id, "Code": code, "Name": name, "Status": "ACTIVE", "Type": typ,
                  "TaxType": "NONE", "Description": extra.pop("Description", None), "Class": klass,
                  "SystemAccount": extra.pop("SystemAccount", None),
                  "EnablePaymentsToAccount": bool(extra.pop("EnablePaymentsToAccount", False)),
                  "ShowInExpenseClaims": False, "BankAccountNumber": extra.pop("BankAccountNumber", None),
                  "BankAccountType": extra.pop("BankAccountType", "BANK" if typ == "BANK" else None),
                  "CurrencyCode": self.base_currency if typ == "BANK" else None,
                  "ReportingCode": REPORTING[klass][0], "ReportingCodeName": REPORTING[klass][1],
                  "HasAttachments": False, "AddToWatchlist": False, "UpdatedDateUTC": self.now()}
        self.accounts[account_id] = record
        return record

    def _add_tax_rate(self, tax_type: str, name: str, rate: Decimal, report: str = "OUTPUT") -> dict:
        record = {"Name": name, "TaxType": tax_type, "ReportTaxType": "NONE" if tax_type == "NONE" else report,
                  "CanApplyToAssets": True, "CanApplyToEquity": True, "CanApplyToExpenses": True,
                  "CanApplyToLiabilities": True, "CanApplyToRevenue": True, "DisplayTaxRate": rate,
                  "EffectiveRate": rate, "Status": "ACTIVE",
                  "TaxComponents": [{"Name": name, "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}]}
        self.tax_rates[tax_type] = record
        return record

    def _add_tracking_category(self, name: str) -> dict:
        cat_id = self.new_id()
        record = {"TrackingCategoryID": cat_id, "Name": name, "Status": "ACTIVE", "Options": []}
        self.tracking_categories[cat_id] = record
        return record

    def _add_tracking_option(self, category: dict, name: str) -> dict:
        option = {"TrackingOptionID": self.new_id(), "Name": name, "Status": "ACTIVE"}
        category["Options"].append(option)
        return option

    # -- lookups ----------------------------------------------------------------------------------------

    def account_by_code(self, code: str) -> dict | None:
        low = str(code).strip().lower()
        return next((a for a in self.accounts.values() if a["Code"] and a["Code"].lower() == low), None)

    def account_by_ref(self, ref: Any) -> tuple[dict | None, str | None]:
        """An account named by {"AccountID"} or {"Code"}; (None, reason) when it cannot be found."""
        if not isinstance(ref, dict):
            return None, "missing"
        account_id, code = _get(ref, "AccountID"), _get(ref, "Code")
        if account_id and str(account_id) != ZERO_GUID:
            found = self.accounts.get(str(account_id).lower())
            return (found, None) if found else (None, "notfound")
        if code not in (None, ""):
            found = self.account_by_code(str(code))
            return (found, None) if found else (None, "notfound")
        return None, "missing"

    def item_by_code(self, code: str) -> dict | None:
        low = str(code).lower()
        return next((i for i in self.items.values() if i["Code"].lower() == low), None)

    def contact_by_number(self, number: str) -> dict | None:
        low = str(number).lower()
        matches = [c for c in self.contacts.values() if (c.get("ContactNumber") or "").lower() == low]
        active = [c for c in matches if c["ContactStatus"] == "ACTIVE"]
        return (active or matches or [None])[0]

    def contact_by_name(self, name: str, active_only: bool = True) -> dict | None:
        low = str(name).strip().lower()
        for c in self.contacts.values():
            if c["Name"].strip().lower() == low and (not active_only or c["ContactStatus"] == "ACTIVE"):
                return c
        return None

    def docs(self, kind: str) -> dict[str, dict]:
        return self.invoices if kind == "invoice" else self.credit_notes

    def doc_by_number(self, kind: str, number: str, types: Iterable[str] | None = None) -> dict | None:
        key = _DOC_KINDS[kind]["number"]
        for doc in self.docs(kind).values():
            if doc[key] and doc[key].lower() == str(number).lower() and doc["Status"] != "DELETED":
                if types is None or doc["Type"] in types:
                    return doc
        return None

    # -- inspection helpers for tests and demos -----------------------------------------------------

    def count_by_reference(self, kind: str, reference: str, include_void: bool = False) -> int:
        """How many live documents carry `reference` (as Reference or as the document number)."""
        kind_key = kind.lower().replace("-", "_").replace(" ", "_")
        with self.lock:
            if kind_key in ("invoice", "invoices", "accrec", "accpay", "bill", "bills"):
                rows, fields = self.invoices.values(), ("Reference", "InvoiceNumber")
            elif kind_key in ("credit_note", "credit_notes", "creditnote", "creditnotes", "accreccredit"):
                rows, fields = self.credit_notes.values(), ("Reference", "CreditNoteNumber")
            elif kind_key in ("payment", "payments"):
                rows, fields = self.payments.values(), ("Reference",)
            elif kind_key in ("bank_transfer", "bank_transfers", "banktransfer", "banktransfers"):
                rows, fields = self.bank_transfers.values(), ("Reference",)
            elif kind_key in ("contact", "contacts"):
                rows, fields = self.contacts.values(), ("ContactNumber",)
            else:
                raise ValueError(f"unknown kind {kind!r}; expected invoices, credit_notes, payments, bank_transfers or contacts")
            count = 0
            for row in rows:
                if not include_void and row.get("Status") in ("DELETED", "VOIDED"):
                    continue
                if any((row.get(f) or "") == reference for f in fields):
                    count += 1
            return count

    def render(self, kind: str, record_id: str) -> dict:
        """A stored record as the API would return it (kinds: invoice, credit_note, contact, payment, bank_transfer)."""
        with self.lock:
            if kind == "invoice":
                return self.render_doc(self.invoices[record_id], "invoice")
            if kind == "credit_note":
                return self.render_doc(self.credit_notes[record_id], "credit")
            if kind == "contact":
                return self.render_contact(self.contacts[record_id])
            if kind == "payment":
                return self.render_payment(self.payments[record_id])
            if kind == "bank_transfer":
                return self.render_bank_transfer(self.bank_transfers[record_id])
        raise ValueError(f"unknown kind {kind!r}")

    def account_balance(self, code: str) -> Decimal:
        """Net cash moved through a BANK account by payments and transfers (positive = money in)."""
        with self.lock:
            account = self.account_by_code(code)
            if account is None:
                raise KeyError(code)
            total = D0
            for p in self.payments.values():
                if p["Status"] != "AUTHORISED" or p["AccountID"] != account["AccountID"]:
                    continue
                incoming = p["PaymentType"] in ("ACCRECPAYMENT", "APCREDITPAYMENT")
                total += p["Amount"] if incoming else -p["Amount"]
            for t in self.bank_transfers.values():
                if t["FromAccountID"] == account["AccountID"]:
                    total -= t["Amount"]
                if t["ToAccountID"] == account["AccountID"]:
                    total += t["Amount"]
            return total

    # -- OAuth ---------------------------------------------------------------------------------------------

    def issue_code(self, client_id: str, redirect_uri: str, scope: tuple[str, ...], challenge: str | None,
                   method: str | None) -> str:
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.auth_codes[code] = AuthCode(code, client_id, redirect_uri, scope, self.now() + self.auth_code_ttl_s,
                                             challenge, method)
        return code

    def _token_set(self, client_id: str, scope: tuple[str, ...], auth_event_id: str) -> dict:
        now = self.now()
        claims = {"nbf": int(now), "exp": int(now + self.access_token_ttl_s), "iss": "https://identity.xero.com",
                  "aud": "https://identity.xero.com/resources", "client_id": client_id,
                  "sub": hashlib.sha256(f"{self.tenant_id}:user".encode()).hexdigest()[:32],
                  "auth_time": int(now), "xero_userid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.tenant_id)),
                  "global_session_id": uuid.uuid4().hex, "sid": uuid.uuid4().hex, "jti": uuid.uuid4().hex,
                  "authentication_event_id": auth_event_id, "scope": list(scope)}
        access = _jwt_like(claims)
        self.access_tokens[access] = AccessToken(access, client_id, scope, auth_event_id, now + self.access_token_ttl_s)
        result = {"access_token": access, "expires_in": self.access_token_ttl_s, "token_type": "Bearer",
                  "scope": " ".join(scope)}
        if "openid" in scope:
            result["id_token"] = _jwt_like({"nbf": int(now), "exp": int(now + 300), "iss": "https://identity.xero.com",
                                            "aud": client_id, "sub": claims["sub"], "auth_time": int(now),
                                            "xero_userid": claims["xero_userid"], "email": "owner@sandbox-seller.example",
                                            "given_name": "Sandbox", "family_name": "Owner"})
        if "offline_access" in scope:
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = RefreshToken(refresh, client_id, scope, auth_event_id,
                                                        now + self.refresh_token_ttl_s)
            result["refresh_token"] = refresh
        return result

    def exchange_code(self, client_id: str, form: dict) -> tuple[int, dict]:
        code, redirect_uri = form.get("code", ""), form.get("redirect_uri", "")
        with self.lock:
            record = self.auth_codes.get(code)
            if record is None or record.used or record.client_id != client_id or record.expires_at < self.now():
                return 400, {"error": "invalid_grant"}
            record.used = True  # single use, even when the rest of the request is wrong
            if record.redirect_uri != redirect_uri:
                return 400, {"error": "invalid_grant"}
            if record.code_challenge:
                verifier = form.get("code_verifier", "")
                if record.code_challenge_method == "S256":
                    computed = _b64url(hashlib.sha256(verifier.encode()).digest())
                else:
                    computed = verifier
                if not verifier or computed != record.code_challenge:
                    return 400, {"error": "invalid_grant"}
            auth_event_id = self.new_id()
            now = self.now()
            if self.connection is None:
                self.connection = {"id": self.connection_id, "authEventId": auth_event_id, "tenantId": self.tenant_id,
                                   "tenantType": "ORGANISATION", "tenantName": self.tenant_name,
                                   "createdDateUtc": now, "updatedDateUtc": now}
            else:
                self.connection["authEventId"] = auth_event_id
                self.connection["updatedDateUtc"] = now
            return 200, self._token_set(client_id, record.scope, auth_event_id)

    def refresh(self, client_id: str, form: dict) -> tuple[int, dict]:
        """Rotate: a refresh token is good once; within the grace period, while its successor has never
        been used, it may be presented again (the client lost the response) and the unused successor
        is revoked in favour of the new one."""
        token = form.get("refresh_token", "")
        with self.lock:
            record = self.refresh_tokens.get(token)
            now = self.now()
            if record is None or record.revoked or record.client_id != client_id or record.expires_at < now:
                return 400, {"error": "invalid_grant"}
            if record.used_at is not None:
                successor = self.refresh_tokens.get(record.successor or "")
                in_grace = now - record.used_at <= self.refresh_grace_s
                if not in_grace or successor is None or successor.used_at is not None or successor.revoked:
                    return 400, {"error": "invalid_grant"}
                successor.revoked = True
            else:
                record.used_at = now
            result = self._token_set(client_id, record.scope, record.auth_event_id)
            record.successor = result.get("refresh_token")
            return 200, result

    def revoke(self, client_id: str, token: str) -> None:
        with self.lock:
            record = self.refresh_tokens.get(token)
            if record is not None and record.client_id == client_id:
                record.revoked = True
                self.connection = None
            access = self.access_tokens.get(token)
            if access is not None and access.client_id == client_id:
                access.revoked = True

    def check_bearer(self, header: str) -> tuple[AccessToken | None, dict | None]:
        parts = header.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None, self.problem(401, "Unauthorized", "AuthenticationUnsuccessful")
        with self.lock:
            record = self.access_tokens.get(parts[1].strip())
            if record is None or record.revoked:
                return None, self.problem(401, "Unauthorized", "AuthenticationUnsuccessful")
            if record.expires_at <= self.now():
                at = datetime.fromtimestamp(record.expires_at, tz=timezone.utc).strftime("%m/%d/%Y %H:%M:%S")
                return None, self.problem(401, "Unauthorized", f"TokenExpired: token expired at {at}")
            return record, None

    @staticmethod
    def problem(status: int, title: str, detail: str) -> dict:
        return {"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": str(uuid.uuid4()),
                "Extensions": {}}

    def has_scope(self, token: AccessToken, resource: str, method: str) -> bool:
        family = _SCOPE_FAMILIES.get(resource)
        if family is None:
            return True
        broad, granular = family
        accepted = {broad, *granular}
        if method == "GET":
            accepted |= {s + ".read" for s in accepted}
        return any(s in accepted for s in token.scope)

    # -- idempotency -----------------------------------------------------------------------------------------

    def idempotent(self, tenant: str, key: str, fingerprint: str, run: Callable[[], Result]) -> Result:
        with self.lock:
            now = self.now()
            for k in [k for k, v in self._idempotency.items() if now - v.stored_at > self.idempotency_ttl_s]:
                del self._idempotency[k]
            cached = self._idempotency.get((tenant, key))
            if cached is not None:
                if cached.fingerprint != fingerprint:
                    return Result(400, {"ErrorNumber": 10, "Type": "ValidationException",
                                        "Message": f"Idempotency Key: {key} is used with a different request."})
                return Result(cached.status, cached.payload)
            result = run()
            self._idempotency[(tenant, key)] = IdempotentResponse(fingerprint, result.status, result.payload, now)
            return result

    # -- rendering ----------------------------------------------------------------------------------------------

    def envelope(self, collection: str, rows: list, pagination: dict | None = None) -> dict:
        out = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER_NAME,
               "DateTimeUTC": ms_instant(self.now(), offset=False)}
        if pagination is not None:
            out["pagination"] = pagination
        out[collection] = rows
        return out

    def render_account(self, a: dict) -> dict:
        out = {"AccountID": a["AccountID"], "Code": a["Code"], "Name": a["Name"], "Status": a["Status"],
               "Type": a["Type"], "TaxType": a["TaxType"]}
        if a.get("Description"):
            out["Description"] = a["Description"]
        out["Class"] = a["Class"]
        if a.get("SystemAccount"):
            out["SystemAccount"] = a["SystemAccount"]
        out["EnablePaymentsToAccount"] = a["EnablePaymentsToAccount"]
        out["ShowInExpenseClaims"] = a["ShowInExpenseClaims"]
        if a["Type"] == "BANK":
            out["BankAccountNumber"] = a.get("BankAccountNumber") or ""
            out["BankAccountType"] = a.get("BankAccountType") or "BANK"
            out["CurrencyCode"] = a.get("CurrencyCode") or self.base_currency
        out.update({"ReportingCode": a["ReportingCode"], "ReportingCodeName": a["ReportingCodeName"],
                    "HasAttachments": False, "UpdatedDateUTC": ms_instant(a["UpdatedDateUTC"]),
                    "AddToWatchlist": False})
        return out

    def render_tax_rate(self, t: dict) -> dict:
        out = dict(t)
        out["DisplayTaxRate"] = rq(t["DisplayTaxRate"], 4)
        out["EffectiveRate"] = rq(t["EffectiveRate"], 4)
        out["TaxComponents"] = [dict(c, Rate=rq(c["Rate"], 4)) for c in t["TaxComponents"]]
        return out

    def render_tracking_category(self, c: dict, include_archived: bool = False) -> dict:
        options = [{"TrackingOptionID": o["TrackingOptionID"], "Name": o["Name"], "Status": o["Status"],
                    "HasValidationErrors": False, "IsDeleted": False, "IsArchived": o["Status"] == "ARCHIVED",
                    "IsActive": o["Status"] == "ACTIVE"}
                   for o in c["Options"] if include_archived or o["Status"] == "ACTIVE"]
        return {"Name": c["Name"], "Status": c["Status"], "TrackingCategoryID": c["TrackingCategoryID"],
                "Options": options}

    def render_item(self, i: dict, unitdp: int = 2) -> dict:
        def details(d: dict) -> dict:
            out = {}
            if d.get("UnitPrice") is not None:
                out["UnitPrice"] = rq(d["UnitPrice"], unitdp)
            for k in ("AccountCode", "COGSAccountCode", "TaxType"):
                if d.get(k):
                    out[k] = d[k]
            return out

        out = {"ItemID": i["ItemID"], "Code": i["Code"], "Description": i.get("Description") or "",
               "UpdatedDateUTC": ms_instant(i["UpdatedDateUTC"]), "PurchaseDetails": details(i["PurchaseDetails"]),
               "SalesDetails": details(i["SalesDetails"]), "Name": i.get("Name") or "",
               "IsTrackedAsInventory": i["IsTrackedAsInventory"], "IsSold": i["IsSold"], "IsPurchased": i["IsPurchased"]}
        if i.get("PurchaseDescription"):
            out["PurchaseDescription"] = i["PurchaseDescription"]
        return out

    def render_contact(self, c: dict) -> dict:
        out = {"ContactID": c["ContactID"], "ContactStatus": c["ContactStatus"], "Name": c["Name"]}
        for key in ("ContactNumber", "AccountNumber", "FirstName", "LastName", "CompanyNumber", "EmailAddress",
                    "TaxNumber", "DefaultCurrency", "Website", "AccountsReceivableTaxType", "AccountsPayableTaxType"):
            if c.get(key) not in (None, ""):
                out[key] = c[key]
        out.update({"BankAccountDetails": c.get("BankAccountDetails") or "", "Addresses": c["Addresses"],
                    "Phones": c["Phones"], "UpdatedDateUTC": ms_instant(c["UpdatedDateUTC"]), "ContactGroups": [],
                    "IsSupplier": c["IsSupplier"], "IsCustomer": c["IsCustomer"], "SalesTrackingCategories": [],
                    "PurchasesTrackingCategories": [], "ContactPersons": c["ContactPersons"], "HasAttachments": False,
                    "HasValidationErrors": False})
        return out

    def contact_summary(self, contact_id: str) -> dict:
        c = self.contacts[contact_id]
        out = {"ContactID": c["ContactID"]}
        if c.get("ContactNumber"):
            out["ContactNumber"] = c["ContactNumber"]
        out.update({"ContactStatus": c["ContactStatus"], "Name": c["Name"], "Addresses": [], "Phones": [],
                    "ContactGroups": [], "ContactPersons": [], "HasValidationErrors": False})
        return out

    def render_line(self, line: dict, unitdp: int) -> dict:
        out: dict[str, Any] = {}
        if line.get("ItemCode"):
            out["ItemCode"] = line["ItemCode"]
        out["Description"] = line.get("Description") or ""
        if line.get("UnitAmount") is not None:
            out["UnitAmount"] = rq(line["UnitAmount"], unitdp)
        out["TaxType"] = line["TaxType"]
        out["TaxAmount"] = r2(line["TaxAmount"])
        out["LineAmount"] = r2(line["LineAmount"])
        if line.get("AccountCode"):
            out["AccountCode"] = line["AccountCode"]
        if line.get("AccountID"):
            out["AccountID"] = line["AccountID"]
        out["Tracking"] = [dict(t) for t in line["Tracking"]]
        if line.get("Quantity") is not None:
            out["Quantity"] = rq(line["Quantity"], 4)
        if line.get("DiscountRate") is not None:
            out["DiscountRate"] = rq(line["DiscountRate"], 2)
        if line.get("DiscountAmount") is not None:
            out["DiscountAmount"] = r2(line["DiscountAmount"])
        out["LineItemID"] = line["LineItemID"]
        out["ValidationErrors"] = []
        return out

    def render_doc(self, d: dict, kind: str, unitdp: int = 2, lines: bool = True) -> dict:
        k = _DOC_KINDS[kind]
        out: dict[str, Any] = {"Type": d["Type"], k["id"]: d[k["id"]], k["number"]: d[k["number"]] or "",
                               "Reference": d.get("Reference") or ""}
        if kind == "credit":
            out["ID"] = d[k["id"]]
        payments = [self.payments[pid] for pid in d["PaymentIDs"] if self.payments[pid]["Status"] == "AUTHORISED"]
        out["Payments"] = [{"PaymentID": p["PaymentID"], "Date": ms_date(p["Date"]), "Amount": r2(p["Amount"]),
                            "Reference": p.get("Reference") or "", "CurrencyRate": p["CurrencyRate"],
                            "HasAccount": False, "HasValidationErrors": False} for p in payments]
        allocations = [self.allocations[aid] for aid in d["AllocationIDs"] if not self.allocations[aid]["IsDeleted"]]
        if kind == "invoice":
            credited = []
            for a in allocations:
                cn = self.credit_notes[a["CreditNoteID"]]
                credited.append({"CreditNoteID": cn["CreditNoteID"], "CreditNoteNumber": cn["CreditNoteNumber"] or "",
                                 "ID": cn["CreditNoteID"], "AppliedAmount": r2(a["Amount"]), "Date": ms_date(a["Date"]),
                                 "DateString": date_string(a["Date"]), "Total": r2(cn["Total"]),
                                 "HasErrors": False})
            out["CreditNotes"] = credited
        else:
            out["Allocations"] = [{"AllocationID": a["AllocationID"], "Amount": r2(a["Amount"]),
                                   "Date": ms_date(a["Date"]),
                                   "Invoice": {"InvoiceID": a["InvoiceID"],
                                               "InvoiceNumber": self.invoices[a["InvoiceID"]]["InvoiceNumber"] or "",
                                               "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                                               "HasErrors": False, "IsDiscounted": False, "LineItems": []},
                                   "IsDeleted": False, "ValidationErrors": []} for a in allocations]
        out["Prepayments"] = []
        out["Overpayments"] = []
        if kind == "invoice":
            out["AmountDue"] = r2(d["AmountDue"])
            out["AmountPaid"] = r2(d["AmountPaid"])
            out["AmountCredited"] = r2(d["AmountCredited"])
        else:
            out["RemainingCredit"] = r2(d["RemainingCredit"])
        out["SentToContact"] = d.get("SentToContact", False)
        out["CurrencyRate"] = rq(d["CurrencyRate"], 6)
        out["HasErrors"] = False
        out["IsDiscounted"] = any(l.get("DiscountRate") or l.get("DiscountAmount") for l in d["LineItems"])
        out["HasAttachments"] = False
        out["Contact"] = self.contact_summary(d["ContactID"])
        out["DateString"] = date_string(d["Date"])
        out["Date"] = ms_date(d["Date"])
        if d.get("DueDate") is not None:
            out["DueDateString"] = date_string(d["DueDate"])
            out["DueDate"] = ms_date(d["DueDate"])
        out["Status"] = d["Status"]
        out["LineAmountTypes"] = d["LineAmountTypes"]
        out["LineItems"] = [self.render_line(l, unitdp) for l in d["LineItems"]] if lines else []
        out["SubTotal"] = r2(d["SubTotal"])
        out["TotalTax"] = r2(d["TotalTax"])
        out["Total"] = r2(d["Total"])
        if d.get("TotalDiscount"):
            out["TotalDiscount"] = r2(d["TotalDiscount"])
        out["UpdatedDateUTC"] = ms_instant(d["UpdatedDateUTC"])
        out["UpdatedDateUTCString"] = instant_string(d["UpdatedDateUTC"])
        out["CurrencyCode"] = d["CurrencyCode"]
        if d.get("FullyPaidOnDate") is not None:
            out["FullyPaidOnDate"] = ms_date(d["FullyPaidOnDate"])
        if d.get("Url"):
            out["Url"] = d["Url"]
        return out

    def render_payment(self, p: dict) -> dict:
        account = self.accounts[p["AccountID"]]
        out = {"PaymentID": p["PaymentID"], "Date": ms_date(p["Date"]), "BankAmount": r2(p["BankAmount"]),
               "Amount": r2(p["Amount"]), "Reference": p.get("Reference") or "",
               "CurrencyRate": rq(p["CurrencyRate"], 6), "PaymentType": p["PaymentType"], "Status": p["Status"],
               "UpdatedDateUTC": ms_instant(p["UpdatedDateUTC"]),
               "UpdatedDateUTCString": instant_string(p["UpdatedDateUTC"]), "HasAccount": True,
               "IsReconciled": p["IsReconciled"],
               "Account": {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]}}
        if p.get("InvoiceID"):
            out["Invoice"] = self.render_doc(self.invoices[p["InvoiceID"]], "invoice", lines=False)
        if p.get("CreditNoteID"):
            out["CreditNote"] = self.render_doc(self.credit_notes[p["CreditNoteID"]], "credit", lines=False)
        out["HasValidationErrors"] = False
        return out

    def render_bank_transfer(self, t: dict) -> dict:
        def acct(account_id: str) -> dict:
            a = self.accounts[account_id]
            return {"AccountID": a["AccountID"], "Code": a["Code"], "Name": a["Name"]}

        return {"BankTransferID": t["BankTransferID"], "CreatedDateUTCString": instant_string(t["CreatedDateUTC"]),
                "CreatedDateUTC": ms_instant(t["CreatedDateUTC"]), "DateString": date_string(t["Date"]),
                "Date": ms_date(t["Date"]), "Status": t["Status"], "FromBankAccount": acct(t["FromAccountID"]),
                "ToBankAccount": acct(t["ToAccountID"]), "Amount": r2(t["Amount"]),
                "FromBankTransactionID": t["FromBankTransactionID"], "ToBankTransactionID": t["ToBankTransactionID"],
                "FromIsReconciled": t["FromIsReconciled"], "ToIsReconciled": t["ToIsReconciled"],
                "Reference": t.get("Reference") or "", "CurrencyRate": rq(t["CurrencyRate"], 6),
                "HasAttachments": False, "FromTracking": [], "ToTracking": [], "ValidationErrors": []}

    # -- query views (typed values the `where` evaluator compares) -------------------------------------------

    @staticmethod
    def _dt(day: date | None) -> datetime | None:
        return None if day is None else datetime(day.year, day.month, day.day, tzinfo=timezone.utc)

    @staticmethod
    def _ts(ts: float | None) -> datetime | None:
        return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)

    def view_contact(self, c: dict) -> dict:
        fields = _ENTITY_FIELDS["Contact"]
        view = {k: c.get(k) for k in fields}
        view["ContactID"] = Guid(c["ContactID"])
        view["UpdatedDateUTC"] = self._ts(c["UpdatedDateUTC"])
        view["HasAttachments"] = False
        return view

    def view_account(self, a: dict) -> dict:
        view = {k: a.get(k) for k in _ENTITY_FIELDS["Account"]}
        view["AccountID"] = Guid(a["AccountID"])
        view["UpdatedDateUTC"] = self._ts(a["UpdatedDateUTC"])
        return view

    def view_doc(self, d: dict, kind: str) -> dict:
        k = _DOC_KINDS[kind]
        view = {key: d.get(key) for key in _ENTITY_FIELDS[k["entity"]]}
        view[k["id"]] = Guid(d[k["id"]])
        for key in ("Date", "DueDate", "FullyPaidOnDate"):
            view[key] = self._dt(d.get(key))
        view["UpdatedDateUTC"] = self._ts(d["UpdatedDateUTC"])
        view["HasAttachments"] = False
        view["Contact"] = self.view_contact(self.contacts[d["ContactID"]])
        return view

    def view_payment(self, p: dict) -> dict:
        view = {k: p.get(k) for k in _ENTITY_FIELDS["Payment"]}
        view["PaymentID"] = Guid(p["PaymentID"])
        view["Date"] = self._dt(p["Date"])
        view["UpdatedDateUTC"] = self._ts(p["UpdatedDateUTC"])
        view["Invoice"] = self.view_doc(self.invoices[p["InvoiceID"]], "invoice") if p.get("InvoiceID") else None
        view["CreditNote"] = (self.view_doc(self.credit_notes[p["CreditNoteID"]], "credit")
                              if p.get("CreditNoteID") else None)
        view["Account"] = self.view_account(self.accounts[p["AccountID"]])
        return view

    def view_bank_transfer(self, t: dict) -> dict:
        view = {k: t.get(k) for k in _ENTITY_FIELDS["BankTransfer"]}
        view["BankTransferID"] = Guid(t["BankTransferID"])
        view["FromBankTransactionID"] = Guid(t["FromBankTransactionID"])
        view["ToBankTransactionID"] = Guid(t["ToBankTransactionID"])
        view["Date"] = self._dt(t["Date"])
        view["CreatedDateUTC"] = self._ts(t["CreatedDateUTC"])
        view["FromBankAccount"] = self.view_account(self.accounts[t["FromAccountID"]])
        view["ToBankAccount"] = self.view_account(self.accounts[t["ToAccountID"]])
        view["HasAttachments"] = False
        return view

    def view_item(self, i: dict) -> dict:
        view = {k: i.get(k) for k in _ENTITY_FIELDS["Item"]}
        view["ItemID"] = Guid(i["ItemID"])
        view["UpdatedDateUTC"] = self._ts(i["UpdatedDateUTC"])
        return view

    def view_tax_rate(self, t: dict) -> dict:
        return {k: t.get(k) for k in _ENTITY_FIELDS["TaxRate"]}

    def view_tracking(self, c: dict) -> dict:
        return {"TrackingCategoryID": Guid(c["TrackingCategoryID"]), "Name": c["Name"], "Status": c["Status"]}


# --------------------------------------------------------------------------------------------------
# The accounting API
# --------------------------------------------------------------------------------------------------


def _validation_exception(elements: list[dict]) -> dict:
    return {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
            "Elements": elements}


def _query_exception(message: str) -> Result:
    return Result(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message})


def _post_data_invalid(message: str) -> Result:
    return Result(400, {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": message})


def _not_found() -> Result:
    return Result(404, NOT_FOUND_TEXT)


def _error_echo(raw: Any, id_key: str | None, flag: str, messages: list[str]) -> dict:
    echo: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    if id_key and not _get(echo, id_key):
        echo[id_key] = ZERO_GUID
    echo[flag] = True
    echo["StatusAttributeString"] = "ERROR"
    echo["ValidationErrors"] = [{"Message": m} for m in messages]
    return echo


class Accounting:
    """Request handlers of /api.xro/2.0; every method runs with the state lock held."""

    def __init__(self, state: XeroState):
        self.s = state

    # -- request plumbing -----------------------------------------------------------------------------

    def handle(self, method: str, segments: list[str], query: dict[str, str], headers: dict[str, str],
               body: bytes) -> Result:
        s = self.s
        resource = segments[0].lower() if segments else ""
        rest = segments[1:]
        table: dict[str, Callable[..., Result]] = {
            "invoices": self.invoices, "creditnotes": self.credit_notes, "contacts": self.contacts,
            "payments": self.payments, "banktransfers": self.bank_transfers, "accounts": self.accounts,
            "taxrates": self.tax_rates, "trackingcategories": self.tracking_categories, "items": self.items,
            "organisation": self.organisation, "currencies": self.currencies,
        }
        handler = table.get(resource)
        if handler is None:
            return _not_found()
        data = None
        if method in ("PUT", "POST"):
            content_type = headers.get("content-type", "")
            if "json" not in content_type.lower():
                return _post_data_invalid("The sandbox reads JSON request bodies only (send Content-Type: application/json); "
                                          "without it Xero parses the body as XML")
            try:
                data = loads(body) if body.strip() else None
            except (ValueError, UnicodeDecodeError) as exc:
                return _post_data_invalid(f"JSON for post data was invalid,{exc}")
        unitdp = 4 if query.get("unitdp") == "4" else 2
        summarize = query.get("summarizeerrors", "true").strip().lower() != "false"
        with s.lock:
            try:
                return handler(method, rest, query, headers, data, unitdp, summarize)
            except QueryParseError as exc:
                return _query_exception(str(exc))

    def _elements(self, data: Any, collection: str) -> list | Result:
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(key, str) and key.lower() == collection.lower():
                    if not isinstance(value, list):
                        return _post_data_invalid(f"{collection} must be an array")
                    elements = value
                    break
            else:
                elements = [data]
        elif isinstance(data, list):
            elements = data
        else:
            return _post_data_invalid("A request body is required")
        if len(elements) > self.s.max_batch:
            return Result(400, _validation_exception([{"ValidationErrors": [{"Message": (
                f"No more than {self.s.max_batch} {collection} can be submitted in one request; "
                f"this request has {len(elements)}.")}]}]))
        return elements

    def _batch(self, data: Any, collection: str, summarize: bool, one: Callable[[Any], tuple[bool, dict]]) -> Result:
        elements = self._elements(data, collection)
        if isinstance(elements, Result):
            return elements
        rows, failed = [], []
        for raw in elements:
            try:
                ok, rendered = one(raw)
            except BadValue as exc:  # a field of the wrong JSON type: that element fails, the rest go on
                ok, rendered = False, _error_echo(raw, None, "HasValidationErrors", [str(exc)])
            rows.append(rendered)
            if not ok:
                failed.append(rendered)
        if failed and summarize:
            # Xero commits the valid elements even though it answers 400 (FACTS §2).
            return Result(400, _validation_exception(failed))
        return Result(200, self.s.envelope(collection, rows))

    def _filter(self, rows: list, query: dict, headers: dict, entity: str, view: Callable[[Any], dict],
                updated: Callable[[Any], float] | None = None) -> list:
        since = headers.get("if-modified-since")
        if since and updated is not None:
            moment = parse_instant(since)
            if moment is not None:
                rows = [r for r in rows if updated(r) > moment]
        where = query.get("where")
        if where:
            predicate = compile_where(where, entity)
            rows = [r for r in rows if predicate(view(r))]
        return apply_order(rows, query.get("order"), entity, view)

    @staticmethod
    def _page(rows: list, query: dict) -> tuple[list, dict | None]:
        if "page" not in query:
            return rows, None
        try:
            page = max(1, int(query["page"]))
        except ValueError:
            page = 1
        try:
            size = min(1000, max(1, int(query.get("pagesize", "100"))))
        except ValueError:
            size = 100
        count = len(rows)
        pages = (count + size - 1) // size
        return rows[(page - 1) * size: page * size], {"page": page, "pageSize": size, "pageCount": pages,
                                                      "itemCount": count}

    @staticmethod
    def _csv(query: dict, name: str) -> list[str]:
        value = query.get(name.lower())
        return [v.strip() for v in value.split(",") if v.strip()] if value else []

    # -- organisation, currencies -----------------------------------------------------------------------

    def organisation(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        if method != "GET" or rest:
            return _not_found()
        s = self.s
        org = {"APIKey": "", "Name": s.tenant_name, "LegalName": s.tenant_name, "PaysTax": True, "Version": "US",
               "OrganisationType": "COMPANY", "BaseCurrency": s.base_currency, "CountryCode": "US",
               "IsDemoCompany": False, "OrganisationStatus": "ACTIVE", "FinancialYearEndDay": 31,
               "FinancialYearEndMonth": 12, "SalesTaxBasis": "ACCRUALS", "SalesTaxPeriod": "MONTHLY",
               "DefaultSalesTax": "Tax Exclusive", "DefaultPurchasesTax": "Tax Exclusive",
               "CreatedDateUTC": ms_instant(s.created_at, offset=False), "OrganisationEntityType": "COMPANY",
               "Timezone": "PACIFICSTANDARDTIME", "ShortCode": s.short_code, "OrganisationID": s.tenant_id,
               "Edition": "BUSINESS", "Class": "STANDARD", "Addresses": [], "Phones": [], "ExternalLinks": [],
               "PaymentTerms": {}}
        return Result(200, s.envelope("Organisations", [org]))

    def currencies(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        if method == "GET" and not rest:
            rows = [{"Code": c, "Description": CURRENCY_NAMES.get(c, c)} for c in sorted(self.s.currencies)]
            return Result(200, self.s.envelope("Currencies", rows))
        if method == "PUT" and not rest:
            code = str(_get(data, "Code") or "").upper()
            if not re.fullmatch(r"[A-Z]{3}", code):
                return Result(400, _validation_exception([_error_echo(data, None, "HasValidationErrors",
                                                                       ["Currency Code must be a valid ISO 4217 code"])]))
            self.s.currencies.add(code)
            return Result(200, self.s.envelope("Currencies", [{"Code": code, "Description": CURRENCY_NAMES.get(code, code)}]))
        return _not_found()

    # -- accounts --------------------------------------------------------------------------------------

    def accounts(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            if rest:
                found = s.accounts.get(rest[0].lower())
                return Result(200, s.envelope("Accounts", [s.render_account(found)])) if found else _not_found()
            rows = self._filter(list(s.accounts.values()), query, headers, "Account", s.view_account,
                                lambda a: a["UpdatedDateUTC"])
            return Result(200, s.envelope("Accounts", [s.render_account(a) for a in rows]))
        if method == "PUT" and not rest:
            raw = data if isinstance(data, dict) else {}
            if _has(raw, "Accounts") and isinstance(_get(raw, "Accounts"), list) and _get(raw, "Accounts"):
                raw = _get(raw, "Accounts")[0]
            errors = []
            code = str(_get(raw, "Code") or "").strip()
            name = str(_get(raw, "Name") or "").strip()
            typ = str(_get(raw, "Type") or "").strip().upper()
            if not name:
                errors.append("Please enter a Name.")
            if typ not in ACCOUNT_CLASSES:
                errors.append("Please select a valid account Type.")
            if typ != "BANK" and not code:
                errors.append("Please enter a Code.")
            if len(code) > 10:
                errors.append("The Code must be 10 characters or less.")
            if code and s.account_by_code(code):
                errors.append("Please enter a unique Code.")
            if name and any(a["Name"].lower() == name.lower() for a in s.accounts.values()):
                errors.append("Please enter a unique Name.")
            if typ == "BANK" and not _get(raw, "BankAccountNumber"):
                errors.append("Please enter a Bank Account Number.")
            tax_type = str(_get(raw, "TaxType") or "NONE")
            if tax_type not in s.tax_rates:
                errors.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
            if errors:
                return Result(400, _validation_exception([_error_echo(raw, "AccountID", "HasValidationErrors", errors)]))
            record = s._add_account(code, name, typ, Description=_get(raw, "Description"),
                                    EnablePaymentsToAccount=_bool(_get(raw, "EnablePaymentsToAccount")),
                                    BankAccountNumber=_get(raw, "BankAccountNumber"),
                                    BankAccountType=_get(raw, "BankAccountType") or ("BANK" if typ == "BANK" else None))
            record["TaxType"] = tax_type
            return Result(200, s.envelope("Accounts", [s.render_account(record)]))
        if method == "POST" and len(rest) == 1:  # archive / update a few fields
            found = s.accounts.get(rest[0].lower())
            if not found:
                return _not_found()
            raw = data if isinstance(data, dict) else {}
            if _has(raw, "Accounts") and isinstance(_get(raw, "Accounts"), list) and _get(raw, "Accounts"):
                raw = _get(raw, "Accounts")[0]
            status = _get(raw, "Status")
            if status:
                if str(status).upper() not in ("ACTIVE", "ARCHIVED"):
                    return Result(400, _validation_exception([_error_echo(raw, "AccountID", "HasValidationErrors",
                                                                          ["Invalid account Status."])]))
                found["Status"] = str(status).upper()
            if _has(raw, "EnablePaymentsToAccount"):
                found["EnablePaymentsToAccount"] = _bool(_get(raw, "EnablePaymentsToAccount"))
            if _get(raw, "Name"):
                found["Name"] = str(_get(raw, "Name"))
            found["UpdatedDateUTC"] = s.now()
            return Result(200, s.envelope("Accounts", [s.render_account(found)]))
        return _not_found()

    # -- tax rates -------------------------------------------------------------------------------------

    def tax_rates(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            rows = list(s.tax_rates.values())
            if rest:
                rows = [t for t in rows if t["TaxType"].lower() == rest[0].lower()]
                if not rows:
                    return _not_found()
            rows = self._filter(rows, query, headers, "TaxRate", s.view_tax_rate)
            return Result(200, s.envelope("TaxRates", [s.render_tax_rate(t) for t in rows]))
        if method == "PUT" and not rest:
            def one(raw):
                name = str(_get(raw, "Name") or "").strip()
                errors = []
                if not name:
                    errors.append("Name is required.")
                elif any(t["Name"].lower() == name.lower() for t in s.tax_rates.values()):
                    errors.append(f"The tax rate name '{name}' is already in use.")
                rate = D0
                comps = _get(raw, "TaxComponents") or []
                try:
                    for comp in comps:
                        rate += to_number(_get(comp, "Rate"), "Rate") or D0
                except BadValue as exc:
                    errors.append(str(exc))
                if not comps:
                    errors.append("At least one tax component is required.")
                if errors:
                    return False, _error_echo(raw, None, "HasValidationErrors", errors)
                n = 1
                while f"TAX{n:03d}" in s.tax_rates:
                    n += 1
                record = s._add_tax_rate(f"TAX{n:03d}", name, rate, str(_get(raw, "ReportTaxType") or "OUTPUT"))
                record["TaxComponents"] = [{"Name": str(_get(c, "Name") or name), "Rate": to_number(_get(c, "Rate"), "Rate") or D0,
                                            "IsCompound": _bool(_get(c, "IsCompound")), "IsNonRecoverable": False}
                                           for c in comps]
                return True, s.render_tax_rate(record)

            return self._batch(data, "TaxRates", True, one)
        return _not_found()

    # -- tracking categories ------------------------------------------------------------------------------

    def tracking_categories(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        include_archived = _bool(query.get("includearchived"))
        if method == "GET":
            rows = [c for c in s.tracking_categories.values() if include_archived or c["Status"] == "ACTIVE"]
            if rest:
                rows = [c for c in s.tracking_categories.values() if c["TrackingCategoryID"] == rest[0].lower()]
                if not rows:
                    return _not_found()
            rows = self._filter(rows, query, headers, "TrackingCategory", s.view_tracking)
            return Result(200, s.envelope("TrackingCategories",
                                          [s.render_tracking_category(c, include_archived) for c in rows]))
        raw = data if isinstance(data, dict) else {}
        if method == "PUT" and not rest:
            name = str(_get(raw, "Name") or "").strip()
            errors = []
            if not name:
                errors.append("Tracking Category Name is required.")
            elif len(name) > 100:
                errors.append("Tracking Category Name must be 100 characters or less.")
            elif any(c["Name"].lower() == name.lower() for c in s.tracking_categories.values()):
                errors.append("Tracking Category Name must be unique.")
            if sum(c["Status"] == "ACTIVE" for c in s.tracking_categories.values()) >= 2:
                errors.append("You can only have 2 active tracking categories.")
            if errors:
                return Result(400, _validation_exception([_error_echo(raw, "TrackingCategoryID", "HasValidationErrors", errors)]))
            cat = s._add_tracking_category(name)
            return Result(200, s.envelope("TrackingCategories", [s.render_tracking_category(cat)]))
        if method == "PUT" and len(rest) == 2 and rest[1].lower() == "options":
            cat = s.tracking_categories.get(rest[0].lower())
            if cat is None:
                return _not_found()
            name = str(_get(raw, "Name") or "").strip()
            errors = []
            if not name:
                errors.append("Tracking Option Name is required.")
            elif len(name) > 100:
                errors.append("Tracking Option Name must be 100 characters or less.")
            elif any(o["Name"].lower() == name.lower() for o in cat["Options"]):
                errors.append("Tracking Option Name must be unique.")
            if errors:
                return Result(400, _validation_exception([_error_echo(raw, "TrackingOptionID", "HasValidationErrors", errors)]))
            option = s._add_tracking_option(cat, name)
            rendered = {"TrackingOptionID": option["TrackingOptionID"], "Name": name, "Status": "ACTIVE",
                        "HasValidationErrors": False, "IsDeleted": False, "IsArchived": False, "IsActive": True}
            return Result(200, s.envelope("Options", [rendered]))
        return _not_found()

    # -- items ---------------------------------------------------------------------------------------------

    def items(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            rows = list(s.items.values())
            if rest:
                key = rest[0].lower()
                rows = [i for i in rows if i["ItemID"] == key or i["Code"].lower() == key]
                if not rows:
                    return _not_found()
            rows = self._filter(rows, query, headers, "Item", s.view_item, lambda i: i["UpdatedDateUTC"])
            return Result(200, s.envelope("Items", [s.render_item(i, unitdp) for i in rows]))
        if method in ("PUT", "POST") and not rest:
            return self._batch(data, "Items", summarize, lambda raw: self._save_item(raw, method, unitdp))
        return _not_found()

    def _save_item(self, raw: Any, method: str, unitdp: int) -> tuple[bool, dict]:
        s = self.s
        errors: list[str] = []
        if not isinstance(raw, dict):
            return False, _error_echo({}, "ItemID", "HasValidationErrors", ["An Item must be an object"])
        code = str(_get(raw, "Code") or "").strip()
        item_id = str(_get(raw, "ItemID") or "").lower()
        existing = s.items.get(item_id) if item_id and item_id != ZERO_GUID else None
        if item_id and item_id != ZERO_GUID and existing is None:
            errors.append("An existing Item with the specified ItemID could not be found")
        if existing is None and method == "POST" and code:
            existing = s.item_by_code(code)
        if not code and existing is None:
            errors.append("Item code must be specified")
        if len(code) > 30:
            errors.append("Item code must be 30 characters or less")
        clash = s.item_by_code(code) if code else None
        if clash is not None and clash is not existing:
            errors.append(f"Price List Item with Code ''{code}'' already exists")
        name = _get(raw, "Name")
        if name is not None and len(str(name)) > 50:
            errors.append("Item name must be 50 characters or less")

        def details(key: str) -> dict:
            given = _get(raw, key)
            base = dict(existing[key]) if existing else {}
            if not isinstance(given, dict):
                return base
            try:
                price = to_number(_get(given, "UnitPrice"), "UnitPrice")
            except BadValue as exc:
                errors.append(str(exc))
                price = None
            if price is not None:
                base["UnitPrice"] = rq(price, unitdp)
            for k in ("AccountCode", "COGSAccountCode", "TaxType"):
                value = _get(given, k)
                if value not in (None, ""):
                    if k != "TaxType" and s.account_by_code(str(value)) is None:
                        errors.append(f"Account code '{value}' is not a valid code for this document.")
                    if k == "TaxType" and str(value) not in s.tax_rates:
                        errors.append(f"The TaxType code {value} does not exist or cannot be used for this type of transaction.")
                    base[k] = str(value)
            return base

        sales, purchase = details("SalesDetails"), details("PurchaseDetails")
        if errors:
            return False, _error_echo(raw, "ItemID", "HasValidationErrors", errors)
        record = existing or {"ItemID": s.new_id(), "IsTrackedAsInventory": False}
        record.update({"Code": code or record["Code"], "Name": str(name) if name is not None else record.get("Name", ""),
                       "Description": str(_get(raw, "Description") or record.get("Description") or ""),
                       "PurchaseDescription": _get(raw, "PurchaseDescription") or record.get("PurchaseDescription"),
                       "IsSold": _bool(_get(raw, "IsSold"), record.get("IsSold", True)),
                       "IsPurchased": _bool(_get(raw, "IsPurchased"), record.get("IsPurchased", True)),
                       "SalesDetails": sales, "PurchaseDetails": purchase, "UpdatedDateUTC": s.now()})
        s.items[record["ItemID"]] = record
        rendered = s.render_item(record, unitdp)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    # -- contacts -------------------------------------------------------------------------------------------

    def contacts(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            if rest:
                key = rest[0]
                found = s.contacts.get(key.lower()) if _is_guid(key) else s.contact_by_number(key)
                return Result(200, s.envelope("Contacts", [s.render_contact(found)])) if found else _not_found()
            rows = list(s.contacts.values())
            if not _bool(query.get("includearchived")):
                rows = [c for c in rows if c["ContactStatus"] != "ARCHIVED"]
            ids = {i.lower() for i in self._csv(query, "IDs")}
            if ids:
                rows = [c for c in rows if c["ContactID"] in ids]
            term = (query.get("searchterm") or "").strip().lower()
            if term:
                rows = [c for c in rows if any(term in (c.get(k) or "").lower() for k in
                                               ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress"))]
            rows = self._filter(rows, query, headers, "Contact", s.view_contact, lambda c: c["UpdatedDateUTC"])
            rows, pagination = self._page(rows, query)
            return Result(200, s.envelope("Contacts", [s.render_contact(c) for c in rows], pagination))
        if method in ("PUT", "POST"):
            if len(rest) > 1:
                return _not_found()
            if rest:
                found = s.contacts.get(rest[0].lower()) if _is_guid(rest[0]) else s.contact_by_number(rest[0])
                if found is None:
                    return _not_found()
                elements = self._elements(data, "Contacts")
                if isinstance(elements, Result):
                    return elements
                pinned = [dict(e, ContactID=found["ContactID"]) if isinstance(e, dict) else e for e in elements[:1]]
                return self._batch({"Contacts": pinned}, "Contacts", summarize, lambda raw: self._save_contact(raw, "POST"))
            return self._batch(data, "Contacts", summarize, lambda raw: self._save_contact(raw, method))
        return _not_found()

    def _contact_fields(self, raw: dict, errors: list[str]) -> dict:
        fields: dict[str, Any] = {}
        limits = {"Name": 255, "ContactNumber": 50, "AccountNumber": 50, "EmailAddress": 255, "FirstName": 255,
                  "LastName": 255, "CompanyNumber": 50, "TaxNumber": 50, "Website": 255}
        for key, limit in limits.items():
            if _has(raw, key):
                try:
                    value = _text(_get(raw, key))
                except BadValue:
                    errors.append(f"{key} must be text")
                    continue
                if value is not None and len(value) > limit:
                    errors.append(f"{key} must be {limit} characters or less")
                fields[key] = value.strip() if isinstance(value, str) and key == "Name" else value
        for key in ("DefaultCurrency", "AccountsReceivableTaxType", "AccountsPayableTaxType", "BankAccountDetails"):
            if _has(raw, key):
                fields[key] = _get(raw, key)
        for key in ("Addresses", "Phones", "ContactPersons"):
            if _has(raw, key):
                value = _get(raw, key) or []
                if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                    errors.append(f"{key} must be a list of objects")
                else:
                    fields[key] = [{k: v for k, v in item.items() if not isinstance(v, (dict, list))} for item in value]
        if _has(raw, "ContactStatus"):
            status = str(_get(raw, "ContactStatus") or "").upper()
            if status not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
                errors.append("ContactStatus must be ACTIVE, ARCHIVED or GDPRREQUEST")
            fields["ContactStatus"] = status
        return fields

    def _name_clash(self, name: str, own_id: str | None) -> str | None:
        other = self.s.contact_by_name(name)
        if other is not None and other["ContactID"] != own_id:
            return (f"The contact name {name} is already assigned to another contact. "
                    "The contact name must be unique across all active contacts.")
        return None

    def _new_contact(self, fields: dict) -> dict:
        s = self.s
        record = {"ContactID": s.new_id(), "ContactStatus": "ACTIVE", "Name": "", "Addresses": [], "Phones": [],
                  "ContactPersons": [], "IsSupplier": False, "IsCustomer": False}
        record.update({k: v for k, v in fields.items() if v is not None or k not in ("ContactStatus",)})
        record["ContactStatus"] = record.get("ContactStatus") or "ACTIVE"
        record["UpdatedDateUTC"] = s.now()
        s.contacts[record["ContactID"]] = record
        return record

    def _save_contact(self, raw: Any, method: str) -> tuple[bool, dict]:
        s = self.s
        if not isinstance(raw, dict):
            return False, _error_echo({}, "ContactID", "HasValidationErrors", ["A Contact must be an object"])
        errors: list[str] = []
        fields = self._contact_fields(raw, errors)
        contact_id = str(_get(raw, "ContactID") or "").lower()
        existing = None
        if contact_id and contact_id != ZERO_GUID:
            existing = s.contacts.get(contact_id)
            if existing is None:
                errors.append("An existing Contact with the specified ContactID could not be found")
        elif method == "POST" and fields.get("ContactNumber"):
            existing = s.contact_by_number(fields["ContactNumber"])
        name = fields.get("Name")
        if existing is None and not errors and not name:
            errors.append("The contact name must be specified.")
        if name:
            clash = self._name_clash(name, existing["ContactID"] if existing else None)
            if clash:
                errors.append(clash)
        if errors:
            return False, _error_echo(raw, "ContactID", "HasValidationErrors", errors)
        if existing is None:
            record = self._new_contact(fields)
        else:
            existing.update(fields)
            existing["UpdatedDateUTC"] = s.now()
            record = existing
        rendered = s.render_contact(record)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    def _resolve_contact(self, raw_contact: Any, errors: list[str]) -> tuple[dict | None, dict | None, str | None]:
        """(existing contact, fields of a contact to create, new name for the existing one)."""
        s = self.s
        ident = "The Contact must contain at least 1 of the following elements to identify the contact: Name, ContactID, ContactNumber"
        if not isinstance(raw_contact, dict):
            errors.append(ident)
            return None, None, None
        cid = str(_get(raw_contact, "ContactID") or "").strip().lower()
        number = str(_get(raw_contact, "ContactNumber") or "").strip()
        name = str(_get(raw_contact, "Name") or "").strip()
        if cid and cid != ZERO_GUID:
            found = s.contacts.get(cid)
            if found is None:
                errors.append("An existing Contact with the specified ContactID could not be found")
                return None, None, None
            if name and name != found["Name"]:  # Xero renames the contact (FACTS §5)
                clash = self._name_clash(name, found["ContactID"])
                if clash:
                    errors.append(clash)
                return found, None, name
            return found, None, None
        if number:
            found = s.contact_by_number(number)
            if found is not None:
                return found, None, None
        if name:
            found = s.contact_by_name(name)
            if found is not None:
                return found, None, None
            sub_errors: list[str] = []
            fields = self._contact_fields(raw_contact, sub_errors)
            fields.pop("ContactStatus", None)
            errors.extend(sub_errors)
            return None, fields, None
        if number:
            errors.append(f"A Contact with ContactNumber '{number}' could not be found; include a Name to create one.")
            return None, None, None
        errors.append(ident)
        return None, None, None

    # -- invoices and credit notes -----------------------------------------------------------------------------

    def invoices(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        return self._documents("invoice", method, rest, query, headers, data, unitdp, summarize)

    def credit_notes(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        if method == "PUT" and len(rest) == 2 and rest[1].lower() == "allocations":
            return self._allocate(rest[0], data, summarize)
        return self._documents("credit", method, rest, query, headers, data, unitdp, summarize)

    def _find_doc(self, kind: str, key: str) -> dict | None:
        docs = self.s.docs(kind)
        if _is_guid(key):
            return docs.get(key.lower())
        return self.s.doc_by_number(kind, key)

    def _documents(self, kind, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        k = _DOC_KINDS[kind]
        docs = s.docs(kind)
        if method == "GET":
            if len(rest) > 1:
                return _not_found()
            if rest:
                found = self._find_doc(kind, rest[0])
                if found is None:
                    return _not_found()
                return Result(200, s.envelope(k["coll"], [s.render_doc(found, kind, unitdp)]))
            rows = list(docs.values())
            ids = {i.lower() for i in self._csv(query, "IDs")}
            if ids:
                rows = [d for d in rows if d[k["id"]] in ids]
            numbers = {n.lower() for n in self._csv(query, "InvoiceNumbers")}
            if numbers and kind == "invoice":
                rows = [d for d in rows if (d["InvoiceNumber"] or "").lower() in numbers]
            contact_ids = {c.lower() for c in self._csv(query, "ContactIDs")}
            if contact_ids:
                rows = [d for d in rows if d["ContactID"] in contact_ids]
            statuses = {st.upper() for st in self._csv(query, "Statuses")}
            if statuses:
                rows = [d for d in rows if d["Status"] in statuses]
            term = (query.get("searchterm") or "").strip().lower()
            if term:
                rows = [d for d in rows if term in (d[k["number"]] or "").lower() or term in (d.get("Reference") or "").lower()]
            rows = self._filter(rows, query, headers, k["entity"], lambda d: s.view_doc(d, kind),
                                lambda d: d["UpdatedDateUTC"])
            rows, pagination = self._page(rows, query)
            # Without `page`, Xero leaves LineItems out of list responses (spec: page "with line items").
            with_lines = pagination is not None and not _bool(query.get("summaryonly"))
            return Result(200, s.envelope(k["coll"], [s.render_doc(d, kind, unitdp, lines=with_lines) for d in rows],
                                          pagination))
        if method in ("PUT", "POST"):
            if len(rest) > 1:
                return _not_found()
            if rest:
                found = self._find_doc(kind, rest[0])
                if found is None:
                    return _not_found()
                elements = self._elements(data, k["coll"])
                if isinstance(elements, Result):
                    return elements
                pinned = [dict(e, **{k["id"]: found[k["id"]]}) if isinstance(e, dict) else e for e in elements[:1]]
                return self._batch({k["coll"]: pinned}, k["coll"], summarize,
                                   lambda raw: self._save_doc(kind, raw, "POST", unitdp))
            return self._batch(data, k["coll"], summarize, lambda raw: self._save_doc(kind, raw, method, unitdp))
        return _not_found()

    def _line_inputs(self, line: dict) -> dict:
        """A stored line turned back into request form (to recompute when the header changes)."""
        raw: dict[str, Any] = {"LineItemID": line["LineItemID"], "Description": line.get("Description"),
                               "Quantity": line.get("Quantity"), "UnitAmount": line.get("UnitAmount"),
                               "AccountCode": line.get("AccountCode"), "TaxType": line["TaxType"],
                               "ItemCode": line.get("ItemCode"),
                               "Tracking": [{"TrackingCategoryID": t["TrackingCategoryID"],
                                             "TrackingOptionID": t["TrackingOptionID"]} for t in line["Tracking"]]}
        if line.get("Quantity") is None and line.get("UnitAmount") is None:
            raw["LineAmount"] = line["LineAmount"]
        if line.get("DiscountRate") is not None:
            raw["DiscountRate"] = line["DiscountRate"]
        if line.get("DiscountAmount") is not None:
            raw["DiscountAmount"] = line["DiscountAmount"]
        if line.get("TaxOverridden"):
            raw["TaxAmount"] = line["TaxAmount"]
        return raw

    def _build_line(self, raw: Any, doc_type: str, lat: str, approving: bool, unitdp: int,
                    errors: list[str]) -> dict | None:
        s = self.s
        if not isinstance(raw, dict):
            errors.append("A line item must be an object")
            return None
        line: dict[str, Any] = {"LineItemID": str(_get(raw, "LineItemID") or s.new_id()).lower()}
        if line["LineItemID"] == ZERO_GUID:
            line["LineItemID"] = s.new_id()
        description = _get(raw, "Description")
        line["Description"] = None if description is None else str(description)
        if line["Description"] is not None and len(line["Description"]) > 4000:
            errors.append("Description must be 4000 characters or less")
        sales = doc_type in ("ACCREC", "ACCRECCREDIT")
        item = None
        item_code = _get(raw, "ItemCode")
        if item_code not in (None, ""):
            item = s.item_by_code(str(item_code))
            if item is None:
                errors.append(f"Item code '{item_code}' is not valid.")
            else:
                line["ItemCode"] = item["Code"]
        try:
            qty = to_number(_get(raw, "Quantity"), "Quantity")
            unit = to_number(_get(raw, "UnitAmount"), "UnitAmount")
            amount = to_number(_get(raw, "LineAmount"), "LineAmount")
            rate_off = to_number(_get(raw, "DiscountRate"), "DiscountRate")
            amount_off = to_number(_get(raw, "DiscountAmount"), "DiscountAmount")
            tax_given = to_number(_get(raw, "TaxAmount"), "TaxAmount")
        except BadValue as exc:
            errors.append(str(exc))
            return None
        details = (item or {}).get("SalesDetails" if sales else "PurchaseDetails") or {}
        if item is not None:
            if unit is None and amount is None and details.get("UnitPrice") is not None:
                unit = details["UnitPrice"]
            if line["Description"] is None:
                line["Description"] = item.get("Description") or item.get("Name")
        if (rate_off is not None or amount_off is not None) and doc_type != "ACCREC":
            errors.append("Discounts are only supported on ACCREC invoices.")
            rate_off = amount_off = None
        if rate_off is not None and amount_off is not None:
            errors.append("Only one of DiscountRate and DiscountAmount can be specified on a line item.")
            amount_off = None
        if rate_off is not None and not (D0 <= rate_off <= HUNDRED):
            errors.append("DiscountRate must be between 0 and 100.")
            rate_off = None
        if unit is not None:
            unit = rq(unit, unitdp)
        if qty is not None:
            qty = rq(qty, 4)
        discount = D0
        if qty is not None and unit is not None:
            gross = qty * unit
            if rate_off is not None:
                expected = r2(gross * (HUNDRED - rate_off) / HUNDRED)
                discount = r2(gross) - expected
            elif amount_off is not None:
                expected = r2(gross) - r2(amount_off)
                discount = r2(amount_off)
            else:
                expected = r2(gross)
            if amount is not None and amount != expected:
                errors.append(f"The line total {money_text(amount)} does not match the expected line total {money_text(expected)}")
            amount = expected
        elif amount is not None:
            amount = r2(amount)
            if qty is not None:
                if qty == 0:
                    errors.append("Quantity cannot be zero when a LineAmount is given without a UnitAmount.")
                    return None
                unit = rq(amount / qty, unitdp)
            elif unit is not None:
                qty = rq(amount / unit, 4) if unit != 0 else Decimal(1)
            else:
                qty, unit = Decimal(1), rq(amount, unitdp)
        elif unit is not None:
            qty = Decimal(1)
            amount = r2(unit)
        else:
            amount = D0
        line.update({"Quantity": qty, "UnitAmount": unit, "LineAmount": amount, "DiscountRate": rate_off,
                     "DiscountAmount": amount_off, "Discount": discount})
        if amount.copy_abs() > Decimal("9999999999.99"):
            errors.append("LineAmount must be less than 9,999,999,999.99")

        # account
        account = None
        code = _get(raw, "AccountCode")
        account_id = _get(raw, "AccountID")
        if code in (None, "") and account_id in (None, "") and details.get("AccountCode"):
            code = details["AccountCode"]
        if code not in (None, ""):
            account = s.account_by_code(str(code))
            if account is None or account["Type"] == "BANK" or account.get("SystemAccount") in ("DEBTORS", "CREDITORS", "GST"):
                errors.append(f"Account code '{code}' is not a valid code for this document.")
                account = None
            elif account["Status"] != "ACTIVE":
                errors.append(f"Account code '{code}' has been archived, or has been deleted. "
                              "Each line item must reference a valid account.")
                account = None
        elif account_id not in (None, ""):
            account = s.accounts.get(str(account_id).lower())
            if account is None or account["Type"] == "BANK" or account["Status"] != "ACTIVE":
                errors.append(f"AccountID '{account_id}' is not a valid account for this document.")
                account = None
        elif approving and amount != 0:
            errors.append("Account code must be specified for each line item with an amount on an approved document.")
        if account is not None:
            line["AccountCode"] = account["Code"]
            line["AccountID"] = account["AccountID"]

        # tax
        tax_type = _get(raw, "TaxType")
        if tax_type in (None, ""):
            tax_type = (details.get("TaxType") if item else None) or (account or {}).get("TaxType") or "NONE"
        tax_type = str(tax_type)
        tax_rate = s.tax_rates.get(tax_type)
        if tax_rate is None or tax_rate["Status"] != "ACTIVE":
            errors.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
            rate = D0
        else:
            rate = tax_rate["EffectiveRate"]
        line["TaxType"] = tax_type
        line["TaxOverridden"] = False
        if lat == "NoTax":
            tax = D0
        elif tax_given is not None:
            tax = r2(tax_given)
            line["TaxOverridden"] = True
        elif lat == "Exclusive":
            tax = r2(amount * rate / HUNDRED)
        else:
            tax = r2(amount * rate / (HUNDRED + rate))
        line["TaxAmount"] = tax

        # tracking
        tracking_raw = _get(raw, "Tracking") or []
        line["Tracking"] = []
        if not isinstance(tracking_raw, list):
            errors.append("Tracking must be a list")
            tracking_raw = []
        if len(tracking_raw) > 2:
            errors.append("A line item can have at most 2 tracking categories.")
        seen_categories = set()
        for t in tracking_raw[:2]:
            if not isinstance(t, dict):
                errors.append("A tracking entry must be an object")
                continue
            cat_id, cat_name = _get(t, "TrackingCategoryID"), _get(t, "Name")
            opt_id, opt_name = _get(t, "TrackingOptionID"), _get(t, "Option")
            category = None
            if cat_id:
                category = s.tracking_categories.get(str(cat_id).lower())
            elif cat_name:
                category = next((c for c in s.tracking_categories.values()
                                 if c["Name"].lower() == str(cat_name).strip().lower()), None)
            if category is None or category["Status"] != "ACTIVE":
                errors.append(f"The tracking category '{cat_name or cat_id}' does not exist or is not active.")
                continue
            if category["TrackingCategoryID"] in seen_categories:
                errors.append(f"Tracking category '{category['Name']}' can only be used once per line item.")
                continue
            seen_categories.add(category["TrackingCategoryID"])
            option = None
            if opt_id:
                option = next((o for o in category["Options"] if o["TrackingOptionID"] == str(opt_id).lower()), None)
            elif opt_name:
                option = next((o for o in category["Options"] if o["Name"].lower() == str(opt_name).strip().lower()), None)
            if option is None or option["Status"] != "ACTIVE":
                errors.append(f"The tracking option '{opt_name or opt_id}' does not exist for tracking category "
                              f"'{category['Name']}'.")
                continue
            line["Tracking"].append({"Name": category["Name"], "Option": option["Name"],
                                     "TrackingCategoryID": category["TrackingCategoryID"],
                                     "TrackingOptionID": option["TrackingOptionID"]})
        return line

    def _save_doc(self, kind: str, raw: Any, method: str, unitdp: int) -> tuple[bool, dict]:
        s = self.s
        k = _DOC_KINDS[kind]
        flag = "HasErrors"
        if not isinstance(raw, dict):
            return False, _error_echo({}, k["id"], flag, [f"An {k['label']} must be an object"])
        errors: list[str] = []
        docs = s.docs(kind)

        # which document: an update by ID (PUT or POST), by number (POST, sales types), or a new one
        existing = None
        doc_id = str(_get(raw, k["id"]) or "").strip().lower()
        if doc_id and doc_id != ZERO_GUID:
            existing = docs.get(doc_id)
            if existing is None:
                return False, _error_echo(raw, k["id"], flag, [
                    f"An existing {k['label']} with the specified {k['id']} could not be found"])
        typ = str(_get(raw, "Type") or (existing["Type"] if existing else "")).strip().upper()
        if typ not in k["types"]:
            msg = (f"{k['label']} Type must be specified" if not typ
                   else f"'{typ}' is not a valid {k['label']} Type; expected one of {', '.join(k['types'])}")
            return False, _error_echo(raw, k["id"], flag, [msg])
        number_raw = _get(raw, k["number"])
        number = None if number_raw in (None, "") else str(number_raw).strip()
        if existing is None and method == "POST" and number and typ == k["sales"]:
            existing = s.doc_by_number(kind, number, (k["sales"],))
        if existing is not None and existing["Type"] != typ:
            return False, _error_echo(raw, k["id"], flag, [f"The {k['label']} Type cannot be changed"])

        status_raw = _get(raw, "Status")
        status = str(status_raw).strip().upper() if status_raw not in (None, "") else None
        if existing is None:
            status = status or "DRAFT"
            if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
                return False, _error_echo(raw, k["id"], flag, [f"{k['label']} not of valid status for creation"])
        else:
            current = existing["Status"]
            status = status or current
            if current in ("PAID", "VOIDED", "DELETED"):
                return False, _error_echo(raw, k["id"], flag, [f"{k['label']} not of valid status for modification"])
            settled = (existing.get("AmountPaid", D0) > 0 or existing.get("AmountCredited", D0) > 0
                       or any(not s.allocations[a]["IsDeleted"] for a in existing["AllocationIDs"])
                       or any(s.payments[p]["Status"] == "AUTHORISED" for p in existing["PaymentIDs"]))
            if settled:
                return False, _error_echo(raw, k["id"], flag, [
                    "This document cannot be edited as it has a payment or credit note allocated to it."])
            allowed = {"DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
                       "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
                       "AUTHORISED": {"AUTHORISED", "VOIDED"}}[current]
            if status not in allowed:
                return False, _error_echo(raw, k["id"], flag, [f"{k['label']} not of valid status for modification"])
            if status in ("VOIDED", "DELETED"):
                existing["Status"] = status
                if kind == "invoice":
                    existing["AmountDue"] = D0
                else:
                    existing["RemainingCredit"] = D0
                existing["UpdatedDateUTC"] = s.now()
                rendered = s.render_doc(existing, kind, unitdp)
                rendered["StatusAttributeString"] = "OK"
                return True, rendered
        approving = status in ("SUBMITTED", "AUTHORISED")

        # contact
        contact, create_contact, rename = (None, None, None)
        if _has(raw, "Contact") or existing is None:
            contact, create_contact, rename = self._resolve_contact(_get(raw, "Contact"), errors)
        else:
            contact = s.contacts[existing["ContactID"]]

        # dates
        def read_date(key: str, fallback: date | None) -> date | None:
            if not _has(raw, key):
                return fallback
            value = _get(raw, key)
            if value in (None, ""):
                return None
            try:
                return parse_date(value)
            except BadValue:
                errors.append(f"'{value}' is not a valid {key}; expected YYYY-MM-DD.")
                return fallback

        doc_date = read_date("Date", existing["Date"] if existing else None) or (existing["Date"] if existing else s.today())
        due_date = read_date("DueDate", existing.get("DueDate") if existing else None)
        if kind == "invoice" and approving and due_date is None:
            errors.append("The document DueDate field must be specified.")

        # amounts type, currency
        lat_raw = _get(raw, "LineAmountTypes")
        if lat_raw in (None, ""):
            lat = existing["LineAmountTypes"] if existing else "Exclusive"
        else:
            lat = LINE_AMOUNT_TYPES.get(str(lat_raw).strip().lower())
            if lat is None:
                errors.append(f"'{lat_raw}' is not a valid LineAmountTypes value; expected Exclusive, Inclusive or NoTax.")
                lat = "Exclusive"
        currency = str(_get(raw, "CurrencyCode") or (existing["CurrencyCode"] if existing else s.base_currency)).upper()
        rate_raw = _get(raw, "CurrencyRate")
        try:
            currency_rate = to_number(rate_raw, "CurrencyRate")
        except BadValue as exc:
            errors.append(str(exc))
            currency_rate = None
        if currency not in s.currencies:
            errors.append(f"The currency code {currency} is not valid for this organisation.")
        if currency == s.base_currency:
            currency_rate = Decimal(1)
        elif currency_rate is None:
            currency_rate = s.fx_rates.get(currency) or (existing["CurrencyRate"] if existing else None)
            if currency_rate is None:
                errors.append(f"No exchange rate is available for {currency}; specify a CurrencyRate.")
                currency_rate = Decimal(1)
        elif currency_rate <= 0:
            errors.append("CurrencyRate must be greater than zero.")

        # number uniqueness (sales types only)
        if typ == k["sales"]:
            if number is None:
                number = existing[k["number"]] if existing else None
            if number is not None:
                if len(number) > 255:
                    errors.append(f"{k['number']} must be 255 characters or less")
                clash = s.doc_by_number(kind, number, (k["sales"],))
                if clash is not None and clash is not existing:
                    errors.append(k["unique"])
        elif number is None and existing is not None:
            number = existing[k["number"]]

        reference = _get(raw, "Reference")
        if typ == k["sales"]:
            reference = str(reference) if reference is not None else (existing.get("Reference") if existing else None)
        else:  # spec: Reference is "ACCREC only" / "ACCRECCREDIT only"
            reference = existing.get("Reference") if existing else None

        # lines
        if _has(raw, "LineItems"):
            lines_raw = _get(raw, "LineItems")
        elif existing is not None:
            lines_raw = [self._line_inputs(l) for l in existing["LineItems"]]
        else:
            lines_raw = None
        if not isinstance(lines_raw, list) or not lines_raw:
            errors.append(f"{'An invoice' if kind == 'invoice' else 'A credit note'} must contain at least one line item.")
            lines_raw = lines_raw if isinstance(lines_raw, list) else []
        lines = []
        for line_raw in lines_raw:
            line = self._build_line(line_raw, typ, lat, approving, 4 if unitdp == 4 else 2, errors)
            if line is not None:
                lines.append(line)
        line_total = sum((l["LineAmount"] for l in lines), D0)
        tax_total = sum((l["TaxAmount"] for l in lines), D0)
        discount_total = sum((l["Discount"] for l in lines), D0)
        if lat == "Inclusive":
            sub_total, total = line_total - tax_total, line_total
        else:
            sub_total, total = line_total, line_total + tax_total
        if total < 0:
            errors.append(f"The {k['label'].lower()} total must be greater than or equal to zero; use a "
                          f"{'credit note' if kind == 'invoice' else 'invoice'} for the opposite direction.")

        if errors:
            return False, _error_echo(raw, k["id"], flag, list(dict.fromkeys(errors)))

        # commit
        if create_contact is not None:
            contact = self._new_contact(create_contact)
        if rename:
            contact["Name"] = rename
            contact["UpdatedDateUTC"] = s.now()
        if typ in ("ACCREC", "ACCRECCREDIT"):
            contact["IsCustomer"] = True
        else:
            contact["IsSupplier"] = True
        if typ == k["sales"] and number is None:
            number = self._next_number(kind)
        record = existing or {k["id"]: s.new_id(), "PaymentIDs": [], "AllocationIDs": [], "AmountPaid": D0,
                              "AmountCredited": D0, "FullyPaidOnDate": None, "CreatedDateUTC": s.now()}
        record.update({"Type": typ, k["number"]: number or "", "Reference": reference, "ContactID": contact["ContactID"],
                       "Date": doc_date, "DueDate": due_date, "Status": status, "LineAmountTypes": lat,
                       "LineItems": lines, "SubTotal": sub_total, "TotalTax": tax_total, "Total": total,
                       "TotalDiscount": discount_total, "CurrencyCode": currency, "CurrencyRate": currency_rate,
                       "SentToContact": _bool(_get(raw, "SentToContact"), record.get("SentToContact", False)),
                       "Url": _get(raw, "Url") or record.get("Url"), "UpdatedDateUTC": s.now()})
        if kind == "invoice":
            record["AmountDue"] = total
        else:
            record["RemainingCredit"] = total
        docs[record[k["id"]]] = record
        rendered = s.render_doc(record, kind, unitdp)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    def _next_number(self, kind: str) -> str:
        k = _DOC_KINDS[kind]
        n = 1
        while self.s.doc_by_number(kind, f"{k['prefix']}{n:04d}") is not None:
            n += 1
        return f"{k['prefix']}{n:04d}"

    # -- allocations ---------------------------------------------------------------------------------------

    def _allocate(self, credit_key: str, data: Any, summarize: bool) -> Result:
        s = self.s
        credit = self._find_doc("credit", credit_key)
        if credit is None:
            return _not_found()

        def one(raw: Any) -> tuple[bool, dict]:
            errors: list[str] = []
            if not isinstance(raw, dict):
                return False, _error_echo({}, None, "HasErrors", ["An Allocation must be an object"])
            if credit["Status"] != "AUTHORISED":
                errors.append("Credit Note must be AUTHORISED before it can be allocated.")
            inv_ref = _get(raw, "Invoice")
            invoice = None
            if not isinstance(inv_ref, dict) or not (_get(inv_ref, "InvoiceID") or _get(inv_ref, "InvoiceNumber")):
                errors.append("An Invoice must be specified for the allocation.")
            else:
                key = str(_get(inv_ref, "InvoiceID") or _get(inv_ref, "InvoiceNumber"))
                invoice = self._find_doc("invoice", key)
                if invoice is None:
                    errors.append("An existing Invoice with the specified InvoiceID could not be found")
            try:
                amount = to_number(_get(raw, "Amount"), "Amount")
            except BadValue as exc:
                errors.append(str(exc))
                amount = None
            when = None
            if _get(raw, "Date") in (None, ""):
                errors.append("The Date field must be specified.")
            else:
                try:
                    when = parse_date(_get(raw, "Date"))
                except BadValue:
                    errors.append(f"'{_get(raw, 'Date')}' is not a valid Date; expected YYYY-MM-DD.")
            if amount is None:
                errors.append("The Amount field must be specified.")
            elif amount <= 0:
                errors.append("The allocation Amount must be greater than zero.")
            else:
                amount = r2(amount)
            if invoice is not None:
                expected_type = "ACCREC" if credit["Type"] == "ACCRECCREDIT" else "ACCPAY"
                if invoice["Type"] != expected_type:
                    errors.append(f"A {credit['Type']} credit note can only be allocated to an {expected_type} invoice.")
                if invoice["Status"] != "AUTHORISED":
                    errors.append("Invoice not of valid status for allocation; it must be AUTHORISED and unpaid.")
                if invoice["ContactID"] != credit["ContactID"]:
                    errors.append("The credit note and the invoice must belong to the same contact.")
                if invoice["CurrencyCode"] != credit["CurrencyCode"]:
                    errors.append("The credit note and the invoice must be in the same currency.")
                if amount is not None and amount > 0 and amount > invoice["AmountDue"]:
                    errors.append("The amount being allocated exceeds the amount due on the invoice.")
            if amount is not None and amount > 0 and credit["Status"] == "AUTHORISED" and amount > credit["RemainingCredit"]:
                errors.append("The amount being allocated exceeds the remaining credit on the credit note.")
            if errors:
                return False, _error_echo(raw, None, "HasErrors", list(dict.fromkeys(errors)))
            allocation = {"AllocationID": s.new_id(), "CreditNoteID": credit["CreditNoteID"],
                          "InvoiceID": invoice["InvoiceID"], "Amount": amount, "Date": when, "IsDeleted": False}
            s.allocations[allocation["AllocationID"]] = allocation
            credit["AllocationIDs"].append(allocation["AllocationID"])
            invoice["AllocationIDs"].append(allocation["AllocationID"])
            credit["RemainingCredit"] -= amount
            invoice["AmountCredited"] += amount
            invoice["AmountDue"] -= amount
            now = s.now()
            for doc in (credit, invoice):
                doc["UpdatedDateUTC"] = now
            if invoice["AmountDue"] == 0:
                invoice["Status"] = "PAID"
                invoice["FullyPaidOnDate"] = when
            if credit["RemainingCredit"] == 0:
                credit["Status"] = "PAID"
                credit["FullyPaidOnDate"] = when
            rendered = {"AllocationID": allocation["AllocationID"], "Amount": amount, "Date": ms_date(when),
                        "Invoice": s.render_doc(invoice, "invoice", lines=False),
                        "CreditNote": s.render_doc(credit, "credit", lines=False),
                        "StatusAttributeString": "OK", "ValidationErrors": []}
            return True, rendered

        return self._batch(data, "Allocations", summarize, one)

    # -- payments --------------------------------------------------------------------------------------------

    def payments(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            if rest:
                found = s.payments.get(rest[0].lower())
                return Result(200, s.envelope("Payments", [s.render_payment(found)])) if found else _not_found()
            rows = self._filter(list(s.payments.values()), query, headers, "Payment", s.view_payment,
                                lambda p: p["UpdatedDateUTC"])
            rows, pagination = self._page(rows, query)
            return Result(200, s.envelope("Payments", [s.render_payment(p) for p in rows], pagination))
        if method == "PUT" and not rest:
            return self._batch(data, "Payments", summarize, self._create_payment)
        if method == "POST" and not rest:  # createPayment: one payment, always summarized
            elements = self._elements(data, "Payments")
            if isinstance(elements, Result):
                return elements
            return self._batch({"Payments": elements[:1]}, "Payments", True, self._create_payment)
        if method == "POST" and len(rest) == 1:
            payment = s.payments.get(rest[0].lower())
            if payment is None:
                return _not_found()
            return self._batch(data, "Payments", True, lambda raw: self._delete_payment(payment, raw))
        return _not_found()

    def _create_payment(self, raw: Any) -> tuple[bool, dict]:
        s = self.s
        flag = "HasValidationErrors"
        if not isinstance(raw, dict):
            return False, _error_echo({}, "PaymentID", flag, ["A Payment must be an object"])
        errors: list[str] = []
        doc, kind = None, None
        inv_ref, cn_ref = _get(raw, "Invoice"), _get(raw, "CreditNote")
        inv_key = (_get(inv_ref, "InvoiceID") or _get(inv_ref, "InvoiceNumber")) if isinstance(inv_ref, dict) else None
        inv_key = inv_key or _get(raw, "InvoiceNumber")
        cn_key = (_get(cn_ref, "CreditNoteID") or _get(cn_ref, "CreditNoteNumber")) if isinstance(cn_ref, dict) else None
        cn_key = cn_key or _get(raw, "CreditNoteNumber")
        if inv_key and str(inv_key) != ZERO_GUID:
            kind = "invoice"
            doc = self._find_doc("invoice", str(inv_key))
            if doc is None:
                errors.append("An existing Invoice with the specified InvoiceID could not be found")
        elif cn_key and str(cn_key) != ZERO_GUID:
            kind = "credit"
            doc = self._find_doc("credit", str(cn_key))
            if doc is None:
                errors.append("An existing Credit Note with the specified CreditNoteID could not be found")
        else:
            errors.append("A payment must be applied to an Invoice or a CreditNote.")
        account, why = s.account_by_ref(_get(raw, "Account"))
        if account is None:
            errors.append("An Account must be specified for the payment." if why == "missing"
                          else "Account could not be found")
        elif (account["Type"] != "BANK" and not account["EnablePaymentsToAccount"]) or account["Status"] != "ACTIVE":
            errors.append("Account type is invalid for making a payment to/from")
        when = None
        if _get(raw, "Date") in (None, ""):
            errors.append("The Date field must be specified.")
        else:
            try:
                when = parse_date(_get(raw, "Date"))
            except BadValue:
                errors.append(f"'{_get(raw, 'Date')}' is not a valid Date; expected YYYY-MM-DD.")
        try:
            amount = to_number(_get(raw, "Amount"), "Amount")
            rate = to_number(_get(raw, "CurrencyRate"), "CurrencyRate")
        except BadValue as exc:
            errors.append(str(exc))
            amount = rate = None
        if amount is None:
            errors.append("The Amount field must be specified.")
        elif amount <= 0:
            errors.append("Payment amount must be greater than zero.")
        else:
            amount = r2(amount)
        if doc is not None:
            if doc["Status"] != "AUTHORISED":
                errors.append("Payments can only be made against AUTHORISED documents; this one is " + doc["Status"] + ".")
            outstanding = doc["AmountDue"] if kind == "invoice" else doc["RemainingCredit"]
            if amount is not None and amount > 0 and amount > outstanding:
                errors.append("Payment amount exceeds the amount outstanding on this document")
            if account is not None and account["Type"] == "BANK" and account.get("CurrencyCode") not in (None, doc["CurrencyCode"]) \
                    and doc["CurrencyCode"] != s.base_currency:
                errors.append("The payment account currency must match the document currency or the base currency.")
        if errors:
            return False, _error_echo(raw, "PaymentID", flag, list(dict.fromkeys(errors)))
        currency_rate = rate if rate is not None else doc["CurrencyRate"]
        payment = {"PaymentID": s.new_id(), "Date": when, "Amount": amount, "BankAmount": amount,
                   "Reference": _text(_get(raw, "Reference")), "IsReconciled": _bool(_get(raw, "IsReconciled")),
                   "Status": "AUTHORISED", "PaymentType": PAYMENT_TYPES[doc["Type"]], "AccountID": account["AccountID"],
                   "InvoiceID": doc["InvoiceID"] if kind == "invoice" else None,
                   "CreditNoteID": doc["CreditNoteID"] if kind == "credit" else None,
                   "CurrencyRate": currency_rate, "UpdatedDateUTC": s.now()}
        s.payments[payment["PaymentID"]] = payment
        doc["PaymentIDs"].append(payment["PaymentID"])
        doc["AmountPaid"] = doc.get("AmountPaid", D0) + amount
        if kind == "invoice":
            doc["AmountDue"] -= amount
            settled = doc["AmountDue"] == 0
        else:
            doc["RemainingCredit"] -= amount
            settled = doc["RemainingCredit"] == 0
        if settled:
            doc["Status"] = "PAID"
            doc["FullyPaidOnDate"] = when
        doc["UpdatedDateUTC"] = s.now()
        rendered = s.render_payment(payment)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    def _delete_payment(self, payment: dict, raw: Any) -> tuple[bool, dict]:
        s = self.s
        status = str(_get(raw, "Status") or "").upper()
        if status != "DELETED":
            return False, _error_echo(raw, "PaymentID", "HasValidationErrors",
                                      ["Only the Status of a payment can be updated, to DELETED."])
        if payment["Status"] == "DELETED":
            return False, _error_echo(raw, "PaymentID", "HasValidationErrors", ["This payment has already been deleted."])
        payment["Status"] = "DELETED"
        payment["UpdatedDateUTC"] = s.now()
        if payment.get("InvoiceID"):
            doc, due_key = s.invoices[payment["InvoiceID"]], "AmountDue"
        else:
            doc, due_key = s.credit_notes[payment["CreditNoteID"]], "RemainingCredit"
        doc[due_key] += payment["Amount"]
        doc["AmountPaid"] -= payment["Amount"]
        if doc["Status"] == "PAID":
            doc["Status"] = "AUTHORISED"
            doc["FullyPaidOnDate"] = None
        doc["UpdatedDateUTC"] = s.now()
        rendered = s.render_payment(payment)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    # -- bank transfers --------------------------------------------------------------------------------------

    def bank_transfers(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            if rest:
                found = s.bank_transfers.get(rest[0].lower())
                return Result(200, s.envelope("BankTransfers", [s.render_bank_transfer(found)])) if found else _not_found()
            rows = self._filter(list(s.bank_transfers.values()), query, headers, "BankTransfer",
                                s.view_bank_transfer, lambda t: t["CreatedDateUTC"])
            return Result(200, s.envelope("BankTransfers", [s.render_bank_transfer(t) for t in rows]))
        if method == "PUT" and not rest:  # createBankTransfer has no summarizeErrors
            return self._batch(data, "BankTransfers", True, self._create_bank_transfer)
        return _not_found()

    def _create_bank_transfer(self, raw: Any) -> tuple[bool, dict]:
        s = self.s
        flag = "HasValidationErrors"
        if not isinstance(raw, dict):
            return False, _error_echo({}, "BankTransferID", flag, ["A BankTransfer must be an object"])
        errors: list[str] = []
        accounts = {}
        for side in ("From", "To"):
            account, why = s.account_by_ref(_get(raw, f"{side}BankAccount"))
            if account is None:
                errors.append(f"A {side}BankAccount must be specified." if why == "missing"
                              else f"The {side}BankAccount could not be found.")
            elif account["Type"] != "BANK" or account["Status"] != "ACTIVE":
                errors.append(f"The {side}BankAccount must be an active account of type BANK.")
                account = None
            accounts[side] = account
        if accounts["From"] is not None and accounts["From"] is accounts["To"]:
            errors.append("The FromBankAccount and ToBankAccount must be different accounts.")
        try:
            amount = to_number(_get(raw, "Amount"), "Amount")
            rate = to_number(_get(raw, "CurrencyRate"), "CurrencyRate")
        except BadValue as exc:
            errors.append(str(exc))
            amount = rate = None
        if amount is None:
            errors.append("The Amount field must be specified.")
        elif amount <= 0:
            errors.append("The Amount must be greater than zero.")
        else:
            amount = r2(amount)
        when = s.today()
        if _get(raw, "Date") not in (None, ""):
            try:
                when = parse_date(_get(raw, "Date"))
            except BadValue:
                errors.append(f"'{_get(raw, 'Date')}' is not a valid Date; expected YYYY-MM-DD.")
        if errors:
            return False, _error_echo(raw, "BankTransferID", flag, list(dict.fromkeys(errors)))
        now = s.now()
        transfer = {"BankTransferID": s.new_id(), "FromAccountID": accounts["From"]["AccountID"],
                    "ToAccountID": accounts["To"]["AccountID"], "Amount": amount, "Date": when,
                    "Reference": _text(_get(raw, "Reference")), "CurrencyRate": rate or Decimal(1),
                    "FromIsReconciled": _bool(_get(raw, "FromIsReconciled")),
                    "ToIsReconciled": _bool(_get(raw, "ToIsReconciled")), "Status": "AUTHORISED",
                    "FromBankTransactionID": s.new_id(), "ToBankTransactionID": s.new_id(),
                    "CreatedDateUTC": now, "UpdatedDateUTC": now}
        s.bank_transfers[transfer["BankTransferID"]] = transfer
        return True, s.render_bank_transfer(transfer)


# --------------------------------------------------------------------------------------------------
# ASGI app
# --------------------------------------------------------------------------------------------------


def _form(body: bytes) -> dict[str, str]:
    return {k: v for k, v in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)}


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload), status_code=status, headers=headers or {},
                    media_type="application/json; charset=utf-8")


def build_xero_app(options: SandboxOptions | None = None, items: Iterable[tuple[str, str, Any]] | None = None) -> Starlette:
    """The Xero emulator as an ASGI app; its state (books, tokens, limits) is `app.state.xero`.

    `items`: (code, name, unit price) to seed the price list with; by default the synthetic seller's
    SKUs when walmart_accounting.sandbox.seller exists, else the mapping file's SKU items.
    """
    options = options or SandboxOptions()
    state = XeroState(options, items)
    accounting = Accounting(state)

    def client_auth(request: Request, form: dict) -> str | None:
        header = request.headers.get("authorization", "")
        client_id = secret = None
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
                client_id, _, secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        if client_id and client_id in state.clients and secrets.compare_digest(state.clients[client_id], secret or ""):
            return client_id
        return None

    async def authorize(request: Request) -> Response:
        q = request.query_params
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        if client_id not in state.clients:
            return Response("unauthorized_client: unknown client_id", status_code=400, media_type="text/plain")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return Response("invalid_request: redirect_uri must be an absolute http(s) URL", status_code=400,
                            media_type="text/plain")

        def back(params: dict[str, str]) -> Response:
            query = parts.query + ("&" if parts.query else "") + urlencode(params)
            return Response(status_code=302, headers={"Location": urlunsplit((parts.scheme, parts.netloc, parts.path,
                                                                               query, ""))})

        state_param = q.get("state")
        extra = {"state": state_param} if state_param is not None else {}
        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type", **extra})
        scope = tuple(s for s in q.get("scope", "").split() if s)
        if not scope:
            return back({"error": "invalid_scope", **extra})
        method = q.get("code_challenge_method") or ("plain" if q.get("code_challenge") else None)
        code = state.issue_code(client_id, redirect_uri, scope, q.get("code_challenge"), method)
        return back({"code": code, "scope": " ".join(scope), **extra, "session_state": secrets.token_urlsafe(16)})

    async def token(request: Request) -> Response:
        form = _form(await request.body())
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        client_id = client_auth(request, form)
        if client_id is None:
            return _json(400, {"error": "invalid_client"}, no_store)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            status, payload = state.exchange_code(client_id, form)
        elif grant == "refresh_token":
            status, payload = state.refresh(client_id, form)
        else:
            status, payload = 400, {"error": "unsupported_grant_type"}
        return _json(status, payload, no_store)

    async def revocation(request: Request) -> Response:
        form = _form(await request.body())
        client_id = client_auth(request, form)
        if client_id is None:
            return _json(400, {"error": "invalid_client"})
        state.revoke(client_id, form.get("token", ""))
        return Response(status_code=200)

    def connections(method: str, rest: list[str], query, access: AccessToken) -> Response:
        with state.lock:
            conn = state.connection
            if method == "GET" and not rest:
                rows = []
                if conn is not None:
                    wanted = query.get("authEventId")
                    if not wanted or wanted.lower() == conn["authEventId"]:
                        rows.append({"id": conn["id"], "authEventId": conn["authEventId"], "tenantId": conn["tenantId"],
                                     "tenantType": conn["tenantType"], "tenantName": conn["tenantName"],
                                     "createdDateUtc": datetime.fromtimestamp(conn["createdDateUtc"], tz=timezone.utc)
                                     .strftime("%Y-%m-%dT%H:%M:%S.%f0"),
                                     "updatedDateUtc": datetime.fromtimestamp(conn["updatedDateUtc"], tz=timezone.utc)
                                     .strftime("%Y-%m-%dT%H:%M:%S.%f0")})
                return _json(200, rows)
            if method == "DELETE" and len(rest) == 1:
                if conn is None or rest[0].lower() != conn["id"]:
                    return Response(status_code=404)
                state.connection = None
                return Response(status_code=204)
        return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")

    async def api(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        segments = [p for p in path.split("/") if p]
        low = [p.lower() for p in segments]
        access, problem = state.check_bearer(request.headers.get("authorization", ""))
        if problem is not None:
            return _json(401, problem, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if low[:1] == ["connections"]:
            return connections(request.method, segments[1:], request.query_params, access)
        if low[:2] != ["api.xro", "2.0"] or len(segments) < 3:
            return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")
        tenant = request.headers.get("xero-tenant-id")
        if not tenant:
            return _json(403, {"title": "Forbidden", "status": 403, "detail": "AuthenticationUnsuccessful",
                               "instance": str(uuid.uuid4())})
        with state.lock:
            connected = state.connection is not None
        if not connected or tenant.strip().lower() != state.tenant_id:
            return _json(403, state.problem(403, "Forbidden", "AuthenticationUnsuccessful"))
        resource = low[2]
        if not state.has_scope(access, resource, request.method):
            return _json(401, state.problem(401, "Unauthorized", "AuthorizationUnsuccessful"))
        key = f"{access.client_id}:{state.tenant_id}"
        correlation = {"Xero-Correlation-Id": str(uuid.uuid4())}
        if not state.enter(key):
            headers = {**state.remaining_headers(key), "X-Rate-Limit-Problem": "concurrent", **correlation}
            return Response("Too many concurrent requests", status_code=429, headers=headers, media_type="text/plain")
        try:
            problem_kind, retry_after = state.hit_limits(key, access.client_id)
            limit_headers = state.remaining_headers(key)
            if problem_kind is not None:
                headers = {**limit_headers, "X-Rate-Limit-Problem": problem_kind, "Retry-After": str(retry_after),
                           **correlation}
                return Response(f"Rate limit exceeded ({problem_kind})", status_code=429, headers=headers,
                                media_type="text/plain")
            body = await request.body()
            if len(body) > state.max_body_bytes:
                return Response("Request Entity Too Large", status_code=413, headers={**limit_headers, **correlation},
                                media_type="text/plain")
            query: dict[str, str] = {}
            for name, value in request.query_params.multi_items():
                lname = name.lower()
                query[lname] = f"{query[lname]},{value}" if lname in query and lname in ("ids", "invoicenumbers",
                                                                                         "contactids", "statuses") else value
            headers_in = {k.lower(): v for k, v in request.headers.items()}
            method = request.method
            idem_key = request.headers.get("idempotency-key")

            def run() -> Result:
                gate = state.gate
                if gate is not None:
                    gate.wait(state.gate_timeout_s)
                work = lambda: accounting.handle(method, segments[2:], query, headers_in, body)  # noqa: E731
                if idem_key is not None and method in ("PUT", "POST", "DELETE"):
                    if len(idem_key) > IDEMPOTENCY_KEY_MAX or not idem_key.strip():
                        return Result(400, {"ErrorNumber": 10, "Type": "ValidationException",
                                            "Message": f"The Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters."})
                    fingerprint = hashlib.sha256(
                        method.encode() + b" " + request.url.path.encode() + b"?" + request.url.query.encode()
                        + b"\n" + body).hexdigest()
                    return state.idempotent(state.tenant_id, idem_key, fingerprint, work)
                return work()

            result = await run_in_threadpool(run)
            out_headers = {**limit_headers, **correlation, **result.headers}
            if isinstance(result.payload, str):
                return Response(result.payload, status_code=result.status, headers=out_headers, media_type="text/plain")
            accept = request.headers.get("accept", "")
            if "json" in accept.lower():
                return _json(result.status, result.payload, out_headers)
            return Response(to_xml(result.payload), status_code=result.status, headers=out_headers,
                            media_type="text/xml; charset=utf-8")
        finally:
            state.leave(key)

    app = Starlette(routes=[
        Route("/login/identity/connect/authorize", authorize, methods=["GET"]),
        Route("/identity/connect/token", token, methods=["POST"]),
        Route("/identity/connect/revocation", revocation, methods=["POST"]),
        Route("/api/{path:path}", api, methods=["GET", "PUT", "POST", "DELETE"]),
    ])
    app.state.xero = state
    return app
