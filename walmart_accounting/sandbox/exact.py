"""An emulator of the Exact Online REST API (OData v3, JSON "verbose") for the sandbox.

Reference: specs/exact/FACTS.md (section numbers below point into it). The emulator
stands for ``https://start.exactonline.nl``: it serves ``/api/oauth2/auth``, ``/api/oauth2/token``,
``/api/v1/current/Me`` and ``/api/v1/{division}/{service}/{Entity}``.

Where a source leaves behaviour open, the emulator picks the *stricter* reading, so that a client
that works here also works against production:

- String comparisons in ``$filter`` are exact (ordinal, case- and space-sensitive). Exact pads
  some codes: account ``Code`` is right-aligned to 18 characters and VAT ``Code`` is left-aligned
  to 3 (``'0  '``), so ``Code eq '0'`` finds nothing here; filter with the padding or ``trim(Code)``.
- Resource paths are case-sensitive (``hrm/Costcenters``; ``hrm/CostCenters`` is a 404).
- Responses are JSON only when the request says ``Accept: application/json``; otherwise the body is
  XML, as Exact answers Atom by default.
- Unknown properties in a POST body are a 400, as with ``SalesVatCode`` on a line (FACTS §2).

Inspection for tests and demos: ``app.state.exact`` is the :class:`ExactState`.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from walmart_accounting.domain.jsonmoney import dumps, loads
import queue
import random
import re
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cmp_to_key, lru_cache
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from walmart_accounting.sandbox.common import FixedWindowLimiter

# --------------------------------------------------------------------------------------------------
# Constants (FACTS §1, §4, §5)

PAGE_SIZE = 60  # CRUD endpoints return at most 60 rows per response
ACCESS_TOKEN_LIFETIME_S = 600  # "expires_in": "600"
EARLY_REFRESH_S = 570  # a refresh before 9 min 30 s after the access token's issue is rejected
AUTH_CODE_LIFETIME_S = 180  # the authorization code works once, for 3 minutes
REFRESH_TOKEN_IDLE_S = 30 * 86400  # an unused refresh token expires after 30 days
MINUTELY_LIMIT = 60  # calls per minute per division per app
DAILY_LIMIT = 5000  # calls per day per division per app
TOKEN_CALLS_PER_DAY = 200  # token-endpoint calls per app per user per day
ERRORS_PER_HOUR = 10  # 400/401/403/404 per app, user, division and endpoint per hour
ERROR_BLOCK_S = 3600  # blocked for an hour once over the error allowance

EPOCH = datetime(1970, 1, 1)
CENT = Decimal("0.01")

# Webhook topics named by sources (FACTS §6); no complete official list exists.
WEBHOOK_TOPICS = frozenset(
    "Accounts Contacts Items StockPositions FinancialTransactions SalesOrders SalesInvoices "
    "PurchaseOrders GoodsDeliveries CostTransactions TimeTransactions Documents Quotations BankAccounts "
    "SalesEntries PurchaseEntries BankEntries CashEntries GeneralJournalEntries Subscriptions GLAccounts".split()
)

# G/L account types (financial/GLAccounts.Type) that entry lines in sales/purchase journals refuse:
# cash, bank, credit card, payment service, receivables, payables and VAT (FACTS §2, picqer #121).
CONTROL_GL_TYPES = frozenset({10, 12, 14, 16, 20, 21, 22, 24})
GL_TYPE_DESCRIPTIONS = {
    10: "Cash", 12: "Bank", 20: "Accounts receivable", 22: "Accounts payable", 24: "VAT",
    32: "Other assets", 90: "General", 110: "Revenue", 111: "Cost of goods", 120: "Other costs",
    121: "Sales, general administrative expenses",
}

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


AUDIT = "Division:I Created:T Modified:T Creator:G CreatorFullName"

SETS: dict[str, EntitySet] = {
    s.path: s
    for s in [
        _set("system/Divisions", "System.Division", "Code",
             "Code:I Description HID:I Currency Country Customer:G CustomerName Main:B Status:Y Created:T"),
        _set("crm/Accounts", "Account", "ID",
             "ID:G Code Name SearchCode Status Type IsSales:B IsSupplier:B Blocked:B Email Phone Website "
             "AddressLine1 AddressLine2 City Postcode State Country VATNumber ChamberOfCommerce Remarks Language "
             + AUDIT,
             "ID Code Name SearchCode Status IsSales IsSupplier Blocked Email Phone Website AddressLine1 "
             "AddressLine2 City Postcode State Country VATNumber ChamberOfCommerce Remarks Language",
             "GET POST PUT DELETE", topic="Accounts"),
        _set("financial/GLAccounts", "GLAccount", "ID",
             "ID:G Code Description Type:I TypeDescription BalanceSide BalanceType IsBlocked:B VATCode " + AUDIT,
             "Code Description Type BalanceSide BalanceType IsBlocked VATCode", "GET POST", topic="GLAccounts"),
        _set("financial/Journals", "Journal", "ID",
             "ID:G Code Description Type:I GLAccount:G GLAccountCode GLAccountType:I Currency "
             "AllowVariableCurrency:B " + AUDIT),
        _set("hrm/Costcenters", "HRM.Costcenter", "ID", "ID:G Code Description Active:B " + AUDIT,
             "Code Description Active", "GET POST"),
        _set("hrm/Costunits", "HRM.Costunit", "ID", "ID:G Code Description " + AUDIT, "Code Description",
             "GET POST"),
        _set("vat/VATCodes", "VAT.VATCode", "ID",
             "ID:G Code Description Percentage:D Type IsBlocked:B GLToPay:G GLToPayCode GLToClaim:G GLToClaimCode "
             "VATTransactionType " + AUDIT),
        _set("logistics/Items", "Item", "ID",
             "ID:G Code Description IsSalesItem:B IsStockItem:B IsPurchaseItem:B SalesVatCode GLRevenue:G "
             "GLRevenueCode Unit UnitDescription CostPriceStandard:D StandardSalesPrice:D Stock:D Barcode "
             "StartDate:T EndDate:T Notes " + AUDIT,
             "ID Code Description IsSalesItem IsStockItem IsPurchaseItem SalesVatCode GLRevenue Unit "
             "CostPriceStandard Barcode StartDate EndDate Notes",
             "GET POST PUT DELETE", topic="Items"),
        _set("inventory/Warehouses", "Inventory.Warehouse", "ID", "ID:G Code Description Main:Y " + AUDIT),
        _set("inventory/ItemWarehouses", "Inventory.ItemWarehouse", "ID",
             "ID:G Item:G ItemCode ItemDescription Warehouse:G WarehouseCode WarehouseDescription CurrentStock:D "
             "ReservedStock:D PlannedStockIn:D PlannedStockOut:D ProjectedStock:D " + AUDIT),
        _set("inventory/StockCounts", "Inventory.StockCount", "StockCountID",
             "StockCountID:G StockCountNumber:I StockCountDate:T Description Status:H Source:H Warehouse:G "
             "WarehouseCode WarehouseDescription " + AUDIT,
             "StockCountDate Description Status Source Warehouse StockCountLines", "GET POST DELETE",
             nav={"StockCountLines": ("inventory/StockCountLines", "StockCountID")}),
        _set("inventory/StockCountLines", "Inventory.StockCountLine", "ID",
             "ID:G StockCountID:G LineNumber:I Item:G ItemCode ItemDescription QuantityInStock:D QuantityNew:D "
             "QuantityDifference:D StorageLocation:G ReasonCode:G " + AUDIT,
             "Item QuantityNew QuantityDifference StorageLocation ReasonCode", "GET",
             parent=("inventory/StockCounts", "StockCountID")),
        _set("inventory/ProcessStockCount", "Inventory.ProcessStockCount", "StockCountID",
             "StockCountID:G SuccessMessage ErrorMessage", "StockCountID", "POST"),
        _set("salesentry/SalesEntries", "SalesEntry", "EntryID",
             "EntryID:G EntryNumber:I InvoiceNumber:I Journal JournalDescription Customer:G CustomerName "
             "EntryDate:T DueDate:T Description YourRef OrderNumber:I PaymentReference PaymentCondition Currency "
             "Rate:D AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D ReportingPeriod:H ReportingYear:H "
             "Reversal:B Status:H StatusDescription Type:I TypeDescription " + AUDIT,
             "EntryNumber InvoiceNumber Journal Customer EntryDate DueDate Description YourRef OrderNumber "
             "PaymentReference PaymentCondition Currency Rate AmountFC AmountDC VATAmountFC VATAmountDC "
             "ReportingPeriod ReportingYear Reversal Type SalesEntryLines",
             "GET POST PUT DELETE", topic="SalesEntries",
             nav={"SalesEntryLines": ("salesentry/SalesEntryLines", "EntryID")}),
        _set("salesentry/SalesEntryLines", "SalesEntryLine", "ID",
             "ID:G EntryID:G LineNumber:I AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D VATBaseAmountFC:D "
             "VATBaseAmountDC:D VATCode VATCodeDescription VATPercentage:D GLAccount:G GLAccountCode "
             "GLAccountDescription CostCenter CostCenterDescription CostUnit CostUnitDescription Description "
             "Quantity:D From:T To:T Type:I Notes " + AUDIT,
             "EntryID AmountFC AmountDC VATAmountFC VATAmountDC VATCode VATPercentage GLAccount CostCenter "
             "CostUnit Description Quantity From To Type Notes",
             "GET POST DELETE", topic="SalesEntries", parent=("salesentry/SalesEntries", "EntryID")),
        _set("purchaseentry/PurchaseEntries", "PurchaseEntry", "EntryID",
             "EntryID:G EntryNumber:I InvoiceNumber:I Journal JournalDescription Supplier:G SupplierName "
             "EntryDate:T DueDate:T Description YourRef PaymentReference PaymentCondition Currency Rate:D "
             "AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D ReportingPeriod:H ReportingYear:H Status:H "
             "StatusDescription Type:I TypeDescription " + AUDIT,
             "EntryNumber InvoiceNumber Journal Supplier EntryDate DueDate Description YourRef PaymentReference "
             "PaymentCondition Currency Rate AmountFC AmountDC VATAmountFC VATAmountDC ReportingPeriod "
             "ReportingYear Type PurchaseEntryLines",
             "GET POST PUT DELETE", topic="PurchaseEntries",
             nav={"PurchaseEntryLines": ("purchaseentry/PurchaseEntryLines", "EntryID")}),
        _set("purchaseentry/PurchaseEntryLines", "PurchaseEntryLine", "ID",
             "ID:G EntryID:G LineNumber:I AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D VATBaseAmountFC:D "
             "VATBaseAmountDC:D VATCode VATCodeDescription VATPercentage:D GLAccount:G GLAccountCode "
             "GLAccountDescription CostCenter CostCenterDescription CostUnit CostUnitDescription Description "
             "Quantity:D From:T To:T Type:I Notes " + AUDIT,
             "EntryID AmountFC AmountDC VATAmountFC VATAmountDC VATCode VATPercentage GLAccount CostCenter "
             "CostUnit Description Quantity From To Type Notes",
             "GET POST DELETE", topic="PurchaseEntries", parent=("purchaseentry/PurchaseEntries", "EntryID")),
        _set("salesinvoice/SalesInvoices", "SalesInvoice", "InvoiceID",
             "InvoiceID:G InvoiceNumber:I OrderNumber:I Type:I TypeDescription Journal JournalDescription "
             "OrderedBy:G OrderedByName InvoiceTo:G DeliverTo:G InvoiceDate:T OrderDate:T DueDate:T YourRef "
             "Description Remarks Currency AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D Status:H "
             "StatusDescription PaymentCondition PaymentReference Warehouse:G " + AUDIT,
             "OrderNumber Type Journal OrderedBy InvoiceTo DeliverTo InvoiceDate OrderDate DueDate YourRef "
             "Description Remarks Currency Status PaymentCondition PaymentReference Warehouse SalesInvoiceLines",
             "GET POST PUT DELETE", topic="SalesInvoices",
             nav={"SalesInvoiceLines": ("salesinvoice/SalesInvoiceLines", "InvoiceID")}),
        _set("salesinvoice/SalesInvoiceLines", "SalesInvoiceLine", "ID",
             "ID:G InvoiceID:G LineNumber:I Item:G ItemCode ItemDescription Description Quantity:D UnitPrice:D "
             "NetPrice:D AmountFC:D AmountDC:D VATAmountFC:D VATAmountDC:D VATCode VATCodeDescription "
             "VATPercentage:D GLAccount:G GLAccountCode CostCenter CostUnit DeliveryDate:T UnitCode Notes "
             + AUDIT,
             "InvoiceID Item Description Quantity UnitPrice NetPrice VATCode GLAccount CostCenter CostUnit "
             "DeliveryDate UnitCode Notes",
             "GET", parent=("salesinvoice/SalesInvoices", "InvoiceID")),
        _set("salesinvoice/PrintedSalesInvoices", "PrintedSalesInvoice", "InvoiceID",
             "InvoiceID:G InvoiceNumber:I SendEmailToCustomer:B SendOutputBasedOnAccount:B Division:I",
             "InvoiceID SendEmailToCustomer SendOutputBasedOnAccount", "POST"),
        _set("financialtransaction/BankEntries", "FinancialTransaction.BankEntry", "EntryID",
             "EntryID:G EntryNumber:I JournalCode JournalDescription Currency OpeningBalanceFC:D ClosingBalanceFC:D "
             "FinancialPeriod:H FinancialYear:H Status:H StatusDescription BankStatementDocument:G " + AUDIT,
             "EntryNumber JournalCode Currency OpeningBalanceFC ClosingBalanceFC FinancialPeriod FinancialYear "
             "BankStatementDocument BankEntryLines",
             "GET POST DELETE", topic="BankEntries",
             nav={"BankEntryLines": ("financialtransaction/BankEntryLines", "EntryID")}),
        _set("financialtransaction/BankEntryLines", "FinancialTransaction.BankEntryLine", "ID",
             "ID:G EntryID:G EntryNumber:I LineNumber:I Account:G AccountCode AccountName AmountFC:D AmountDC:D "
             "AmountVATFC:D Date:T Description GLAccount:G GLAccountCode GLAccountDescription OurRef:I CostCenter "
             "CostUnit VATCode VATPercentage:D Quantity:D ExchangeRate:D Document:G Notes " + AUDIT,
             "EntryID Account AmountFC AmountVATFC Date Description GLAccount OurRef CostCenter CostUnit VATCode "
             "VATPercentage Quantity ExchangeRate Document Notes",
             "GET POST", topic="BankEntries", parent=("financialtransaction/BankEntries", "EntryID")),
        _set("webhooks/WebhookSubscriptions", "Webhooks.WebhookSubscription", "ID",
             "ID:G CallbackURL Topic ClientID Description UserID:G Division:I Created:T Creator:G CreatorFullName",
             "CallbackURL Topic Description", "GET POST DELETE"),
    ]
}

ME_FIELDS = _fields(
    "UserID:G UserName FullName FirstName LastName Email LanguageCode CurrentDivision:I DivisionCustomer:G "
    "DivisionCustomerCode DivisionCustomerName Legislation:I ServerTime:T ServerUtcOffset:D"
)

# --------------------------------------------------------------------------------------------------
# $filter: a tokenizer and a recursive-descent parser that compiles to a predicate


@dataclass
class _Tok:
    kind: str  # str, typed, num, ident, ( ) ,
    value: Any
    pos: int
    edm: str = ""


_NUM = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?([mMdDfFlL])?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_/]*")
_TYPED_PREFIXES = {"guid", "datetime", "datetimeoffset", "time", "X", "binary"}
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_KEYWORDS = _COMPARE | {"and", "or", "not", "add", "sub", "mul", "div", "mod"}


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The content of the quoted literal opening at text[start] ('' is one quote), and the index after it."""
    buf: list[str] = []
    j = start + 1
    while True:
        if j >= len(text):
            raise _bad(f"Unterminated string literal at position {start} in '{text}'.")
        ch = text[j]
        if ch == "'":
            if j + 1 < len(text) and text[j + 1] == "'":
                buf.append("'")
                j += 2
                continue
            return "".join(buf), j + 1
        buf.append(ch)
        j += 1


def _typed_literal(prefix: str, raw: str, pos: int, text: str) -> tuple[str, Any]:
    if prefix == "guid":
        try:
            return G, str(uuid.UUID(raw))
        except ValueError:
            raise _bad(f"Unrecognized 'Edm.Guid' literal 'guid'{raw}'' at '{pos}' in '{text}'.") from None
    if prefix in ("datetime", "datetimeoffset"):
        try:
            return DT, parse_datetime(raw)
        except ValueError:
            raise _bad(f"Unrecognized 'Edm.DateTime' literal 'datetime'{raw}'' at '{pos}' in '{text}'.") from None
    raise _bad(f"Unrecognized '{prefix}' literal at '{pos}' in '{text}'.")


def tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            value, i2 = _read_quoted(text, i)
            toks.append(_Tok("str", value, i, S))
            i = i2
        elif ch in "(),":
            toks.append(_Tok(ch, ch, i))
            i += 1
        elif ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()):
            m = _NUM.match(text, i)
            digits, suffix = m.group(0), (m.group(3) or "").lower()
            number = digits[:-1] if suffix else digits
            if suffix == "m":
                edm = "Edm.Decimal"
            elif suffix in ("d", "f") or m.group(1) or m.group(2):
                edm = DBL
            elif suffix == "l":
                edm = "Edm.Int64"
            else:
                edm = I32 if -(2**31) <= int(number) < 2**31 else "Edm.Int64"
            value = Decimal(number) if edm in (DBL, "Edm.Decimal") else int(number)
            toks.append(_Tok("num", value, i, edm))
            i = m.end()
        elif ch.isalpha() or ch in "_$":
            m = _IDENT.match(text, i)
            word = m.group(0)
            end = m.end()
            if word in _TYPED_PREFIXES and end < n and text[end] == "'":
                raw, after = _read_quoted(text, end)
                edm, value = _typed_literal(word, raw, i, text)
                toks.append(_Tok("typed", value, i, edm))
                i = after
            else:
                toks.append(_Tok("ident", word, i))
                i = end
        else:
            raise _bad(f"Syntax error: character '{ch}' is not valid at position {i} in '{text}'.")
    return toks


Getter = Callable[[dict], Any]


def _ordinal(a: Any, b: Any) -> int:
    """Sort order with nulls first (SQL Server's ascending order)."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    return (a > b) - (a < b)


_STRING_FUNCS: dict[str, tuple[tuple[str, ...], str, Callable[..., Any]]] = {
    "substringof": ((S, S), BOOL, lambda a, b: a is not None and b is not None and a in b),
    "startswith": ((S, S), BOOL, lambda a, b: a is not None and b is not None and a.startswith(b)),
    "endswith": ((S, S), BOOL, lambda a, b: a is not None and b is not None and a.endswith(b)),
    "tolower": ((S,), S, lambda a: None if a is None else a.lower()),
    "toupper": ((S,), S, lambda a: None if a is None else a.upper()),
    "trim": ((S,), S, lambda a: None if a is None else a.strip()),
    "length": ((S,), I32, lambda a: None if a is None else len(a)),
    "indexof": ((S, S), I32, lambda a, b: None if a is None or b is None else a.find(b)),
    "year": ((DT,), I32, lambda d: None if d is None else d.year),
    "month": ((DT,), I32, lambda d: None if d is None else d.month),
    "day": ((DT,), I32, lambda d: None if d is None else d.day),
    "hour": ((DT,), I32, lambda d: None if d is None else d.hour),
    "minute": ((DT,), I32, lambda d: None if d is None else d.minute),
    "second": ((DT,), I32, lambda d: None if d is None else d.second),
}


def _compatible(a: str, b: str) -> bool:
    return a == "null" or b == "null" or a == b or (a in NUMERIC and b in NUMERIC)


class _FilterParser:
    def __init__(self, text: str, fields: dict[str, str], type_name: str):
        self.text = text
        self.fields = fields
        self.type_name = type_name
        self.toks = tokenize(text)
        self.i = 0

    def _peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _is_word(self, tok: _Tok | None, *words: str) -> bool:
        return tok is not None and tok.kind == "ident" and tok.value in words

    def _end_pos(self) -> int:
        return len(self.text)

    def parse(self) -> Callable[[dict], bool]:
        if not self.toks:
            raise _bad(f"Expression expected at position 0 in '{self.text}'.")
        edm, fn = self._or()
        tok = self._peek()
        if tok is not None:
            raise _bad(f"Syntax error at position {tok.pos} in '{self.text}'.")
        if edm != BOOL:
            raise _bad(f"Expression of type '{edm}' expected at position 0 to be of type 'Edm.Boolean'.")
        return lambda rec: fn(rec) is True

    def _binary_bool(self, word: str, sub: Callable[[], tuple[str, Getter]]) -> tuple[str, Getter]:
        edm, fn = sub()
        while self._is_word(self._peek(), word):
            tok = self.toks[self.i]
            self.i += 1
            redm, rfn = sub()
            if edm != BOOL or redm != BOOL:
                raise _bad(f"Operator '{word}' incompatible with operand types '{edm}' and '{redm}' "
                           f"at position {tok.pos}.")
            left = fn
            fn = (lambda l, r: lambda rec: bool(l(rec)) and bool(r(rec)))(left, rfn) if word == "and" else \
                (lambda l, r: lambda rec: bool(l(rec)) or bool(r(rec)))(left, rfn)
        return edm, fn

    def _or(self):
        return self._binary_bool("or", self._and)

    def _and(self):
        return self._binary_bool("and", self._not)

    def _not(self):
        tok = self._peek()
        if self._is_word(tok, "not"):
            self.i += 1
            edm, fn = self._not()
            if edm != BOOL:
                raise _bad(f"Operator 'not' incompatible with operand type '{edm}' at position {tok.pos}.")
            return BOOL, lambda rec: not fn(rec)
        return self._compare()

    def _compare(self):
        ledm, lfn = self._primary()
        tok = self._peek()
        if tok is None or tok.kind != "ident" or tok.value not in _COMPARE:
            if tok is not None and self._is_word(tok, "add", "sub", "mul", "div", "mod"):
                raise _bad(f"Arithmetic operators are not supported at position {tok.pos} in '{self.text}'.")
            return ledm, lfn
        op = tok.value
        self.i += 1
        redm, rfn = self._primary()
        if not _compatible(ledm, redm):
            raise _bad(f"Operator '{op}' incompatible with operand types '{ledm}' and '{redm}' at position {tok.pos}.")
        if op in ("gt", "ge", "lt", "le") and BOOL in (ledm, redm):
            raise _bad(f"Operator '{op}' incompatible with operand types '{ledm}' and '{redm}' at position {tok.pos}.")
        return BOOL, self._comparison(op, lfn, rfn)

    @staticmethod
    def _comparison(op: str, lfn: Getter, rfn: Getter) -> Getter:
        def run(rec: dict) -> bool:
            a, b = lfn(rec), rfn(rec)
            if op == "eq":
                return a == b if (a is None) == (b is None) else False
            if op == "ne":
                return not (a == b if (a is None) == (b is None) else False)
            if a is None or b is None:
                return False
            return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]

        return run

    def _primary(self) -> tuple[str, Getter]:
        tok = self._peek()
        if tok is None:
            raise _bad(f"Expression expected at position {self._end_pos()} in '{self.text}'.")
        self.i += 1
        if tok.kind == "(":
            edm, fn = self._or()
            close = self._peek()
            if close is None or close.kind != ")":
                where = close.pos if close else self._end_pos()
                raise _bad(f"')' or operator expected at position {where} in '{self.text}'.")
            self.i += 1
            return edm, fn
        if tok.kind in ("str", "typed", "num"):
            value = tok.value
            return tok.edm, lambda rec: value
        if tok.kind != "ident" or tok.value in _KEYWORDS:
            raise _bad(f"Expression expected at position {tok.pos} in '{self.text}'.")
        word = tok.value
        if word in ("true", "false"):
            value = word == "true"
            return BOOL, lambda rec: value
        if word == "null":
            return "null", lambda rec: None
        nxt = self._peek()
        if nxt is not None and nxt.kind == "(":
            return self._function(tok)
        edm = self.fields.get(word)
        if edm is None:
            raise _bad(f"No property '{word}' exists in type '{self.type_name}' at position {tok.pos}.")
        return edm, lambda rec: rec.get(word)

    def _function(self, name_tok: _Tok) -> tuple[str, Getter]:
        name = name_tok.value
        self.i += 1  # (
        args: list[tuple[str, Getter]] = []
        if self._peek() is not None and self._peek().kind == ")":
            self.i += 1
        else:
            while True:
                args.append(self._or())
                tok = self._peek()
                if tok is not None and tok.kind == ",":
                    self.i += 1
                    continue
                if tok is not None and tok.kind == ")":
                    self.i += 1
                    break
                where = tok.pos if tok else self._end_pos()
                raise _bad(f"')' or ',' expected at position {where} in '{self.text}'.")
        spec = _STRING_FUNCS.get(name)
        if spec is None:
            raise _bad(f"Unknown function '{name}' at position {name_tok.pos}.")
        params, result, impl = spec
        if len(args) != len(params) or any(not (a[0] == p or a[0] == "null") for a, p in zip(args, params)):
            raise _bad(f"No function signature for the function with name '{name}' matches the specified "
                       f"arguments. The function signatures considered are: {name}({', '.join(params)}).")
        getters = [g for _, g in args]
        return result, lambda rec: impl(*(g(rec) for g in getters))


def compile_filter(text: str, fields: dict[str, str], type_name: str) -> Callable[[dict], bool]:
    return _FilterParser(text, fields, type_name).parse()


def odata_literal(value: Any, edm: str) -> str:
    """A value written as an OData URI literal (for $skiptoken)."""
    if value is None:
        return "null"
    if edm == G:
        return f"guid'{value}'"
    if edm == DT:
        return f"datetime'{value.isoformat()}'"
    if edm == BOOL:
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def parse_literals(text: str) -> list[Any]:
    """'a',guid'..',12 -> ['a', '..', 12] (for $skiptoken)."""
    out: list[Any] = []
    expect_value = True
    for tok in tokenize(text):
        if expect_value:
            if tok.kind in ("str", "typed", "num"):
                out.append(tok.value)
            elif tok.kind == "ident" and tok.value in ("true", "false", "null"):
                out.append({"true": True, "false": False, "null": None}[tok.value])
            else:
                raise _bad(f"The skip token value '{text}' is invalid.")
        elif tok.kind != ",":
            raise _bad(f"The skip token value '{text}' is invalid.")
        expect_value = not expect_value
    if expect_value:
        raise _bad(f"The skip token value '{text}' is invalid.")
    return out


# --------------------------------------------------------------------------------------------------
# Query options

_SYSTEM_OPTIONS = {"$filter", "$select", "$top", "$skip", "$orderby", "$skiptoken", "$inlinecount", "$expand",
                   "$format"}


@dataclass
class Selection:
    fields: set[str] | None  # None: all
    navs: dict[str, "Selection"]  # expanded navs with their own selection


@dataclass
class Query:
    predicate: Callable[[dict], bool] | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    select: list[str] | None = None
    expand: list[str] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    skiptoken: list[Any] | None = None
    inlinecount: bool = False
    raw: dict[str, str] = field(default_factory=dict)


def _nonnegative(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise _bad(f"Invalid integer value '{value}' for query option '{name}'.") from None
    if number < 0:
        raise _bad(f"Invalid value '{value}' for query option '{name}': must be non-negative.")
    return number


def parse_query(params: dict[str, str], es: EntitySet) -> Query:
    for name in params:
        if name.startswith("$") and name not in _SYSTEM_OPTIONS:
            raise _bad(f"The query parameter '{name}' begins with a system-reserved '$' character but is not "
                       "recognized.")
    q = Query(raw=dict(params))
    if params.get("$format", "json").lower() not in ("json", "application/json"):
        raise _bad(f"Unsupported $format '{params['$format']}'.")
    if "$filter" in params:
        q.predicate = compile_filter(params["$filter"], es.fields, es.type_name)
    if "$orderby" in params:
        for part in params["$orderby"].split(","):
            words = part.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
                raise _bad(f"Syntax error in $orderby '{params['$orderby']}'.")
            if words[0] not in es.fields:
                raise _bad(f"No property '{words[0]}' exists in type '{es.type_name}'.")
            q.orderby.append((words[0], len(words) == 2 and words[1] == "desc"))
    if "$expand" in params:
        for nav in (p.strip() for p in params["$expand"].split(",")):
            if nav not in es.nav:
                raise _bad(f"No property '{nav}' exists in type '{es.type_name}'.")
            q.expand.append(nav)
    if "$select" in params:
        q.select = [p.strip() for p in params["$select"].split(",") if p.strip()]
        if not q.select:
            raise _bad("Syntax error in $select: property expected.")
    if "$top" in params:
        q.top = _nonnegative("$top", params["$top"])
    if "$skip" in params:
        q.skip = _nonnegative("$skip", params["$skip"])
    if "$skiptoken" in params:
        q.skiptoken = parse_literals(params["$skiptoken"])
        if len(q.skiptoken) != len(q.orderby) + 1:
            raise _bad(f"The skip token value '{params['$skiptoken']}' is invalid.")
    if "$inlinecount" in params:
        mode = params["$inlinecount"]
        if mode not in ("allpages", "none"):
            raise _bad(f"Invalid value '{mode}' for $inlinecount; expected 'allpages' or 'none'.")
        q.inlinecount = mode == "allpages"
    return q


def build_selection(q: Query, es: EntitySet) -> Selection:
    navs = {nav: Selection(None, {}) for nav in q.expand}
    if q.select is None or "*" in q.select:
        return Selection(None, navs)
    fields: set[str] = set()
    for item in q.select:
        head, _, sub = item.partition("/")
        if head in es.fields and not sub:
            fields.add(head)
        elif head in es.nav:
            if head not in navs:
                raise _bad("Only properties specified in $expand can be traversed in $select query options. "
                           f"Selected item: '{item}'.")
            fields.add(head)
            if sub:
                child = SETS[es.nav[head][0]]
                if sub not in child.fields:
                    raise _bad(f"No property '{sub}' exists in type '{child.type_name}'.")
                sel = navs[head]
                sel.fields = (sel.fields or set()) | {sub}
        else:
            raise _bad(f"No property '{head}' exists in type '{es.type_name}'.")
    return Selection(fields, navs)


# --------------------------------------------------------------------------------------------------
# Value coercion for POST/PUT bodies


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


# --------------------------------------------------------------------------------------------------
# State


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


@dataclass
class _Job:
    url: str
    body: bytes
    kind: str  # "validation" | "event"
    meta: dict


class ExactState:
    """Everything the emulator holds; thread-safe. Lower the limits on it in tests."""

    def __init__(self, options, items: Iterable[Any] | None = None):
        from walmart_accounting.domain.config import load_default_config

        self.options = options
        self.clock = options.clock
        self.lock = threading.RLock()
        self.rng = random.Random(options.seed)
        creds = options.credentials
        self.clients = {creds.exact_client_id: creds.exact_client_secret}
        self.webhook_secret = creds.exact_webhook_secret
        # Limits (FACTS §5): attributes tests may lower.
        self.minutely = FixedWindowLimiter(MINUTELY_LIMIT, 60, self.clock)
        self.daily = FixedWindowLimiter(DAILY_LIMIT, 86400, self.clock)
        self.token_daily = FixedWindowLimiter(TOKEN_CALLS_PER_DAY, 86400, self.clock)
        self.errors_per_hour: int | None = ERRORS_PER_HOUR
        self.error_block_s = ERROR_BLOCK_S
        self.page_size = PAGE_SIZE
        self.api_root = "https://start.exactonline.nl/api/v1"  # replaced by the served URL on the first call
        self.require_json_accept = True
        self.webhook_validation_delay_s = 0.0
        self._errors: dict[tuple, list[float]] = defaultdict(list)
        self._pending_events: list[tuple] = []
        self._blocked: dict[tuple, float] = {}
        # OAuth
        self._codes: dict[str, dict] = {}
        self._access: dict[str, dict] = {}
        self._current_access: dict[str, str] = {}
        self._last_issue: dict[str, float] = {}
        self._refresh: dict[str, dict] = {}
        # User and divisions
        self.cfg = load_default_config()
        ledger = self.cfg.ledger("exact")
        self.user_id = self._new_guid()
        self.user = {"UserName": "accountant@sandbox-seller.example", "FullName": "Sandbox Accountant",
                     "FirstName": "Sandbox", "LastName": "Accountant"}
        self.division = self.rng.randint(1_000_000, 3_999_999)
        self.divisions: dict[int, Division] = {}
        self.allowed_divisions: set[int] = set()
        self.add_division(self.division, self.cfg.seller.name, ledger.base_currency, accessible=True)
        self.sales_journal = ledger.sales_journal
        self.bank_journal = "20"
        self.clearing_journal = "21"
        self.purchase_journal = "60"
        self._seed(self.divisions[self.division], ledger, items)
        # Webhooks
        self.deliveries: list[dict] = []
        self._jobs: "queue.Queue[_Job]" = queue.Queue()
        self._worker: threading.Thread | None = None
        self._delivered = threading.Condition(self.lock)

    # ---- limits ----------------------------------------------------------------------------------
    @property
    def minutely_limit(self) -> int:
        return self.minutely.limit

    @minutely_limit.setter
    def minutely_limit(self, value: int) -> None:
        self.minutely.limit = value

    @property
    def daily_limit(self) -> int:
        return self.daily.limit

    @daily_limit.setter
    def daily_limit(self, value: int) -> None:
        self.daily.limit = value

    # ---- helpers ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.clock.now())

    def _new_guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _audit(self, div: Division) -> dict:
        now = self.now()
        return {"Division": div.code, "Created": now, "Modified": now, "Creator": self.user_id,
                "CreatorFullName": self.user["FullName"]}

    def _insert(self, div: Division, path: str, values: dict) -> dict:
        es = SETS[path]
        rec = {name: None for name in es.fields}
        if "Division" in es.fields:
            rec.update(self._audit(div))
        rec.update(values)
        if not rec.get(es.key):
            rec[es.key] = self._new_guid()
        div.table(path)[rec[es.key]] = rec
        return rec

    def add_division(self, code: int, description: str = "Other division", currency: str = "USD",
                     accessible: bool = False) -> Division:
        """A division the user has (accessible=True) or that exists but the app may not reach."""
        with self.lock:
            div = Division(code, description, currency)
            self.divisions[code] = div
            if accessible:
                self.allowed_divisions.add(code)
            return div

    def div(self, division: int | None = None) -> Division:
        return self.divisions[division or self.division]

    # ---- seed ------------------------------------------------------------------------------------
    def _seed(self, div: Division, ledger, items) -> None:
        accounts = ledger.accounts
        names = {
            accounts.sales: ("Walmart Sales", 110), accounts.shipping: ("Shipping Income", 110),
            accounts.discounts: ("Discounts and Promotions", 110), accounts.refunds: ("Refunds and Returns", 110),
            accounts.clearing: ("Walmart Clearing", 12), accounts.bank: ("Business Checking", 12),
            accounts.facilitator_tax: ("Marketplace Facilitator Tax", 90),
            accounts.adjustments: ("Walmart Adjustments", 120), accounts.reserve: ("Walmart Reserve", 32),
        }
        for fee, code in accounts.fees.items():
            names.setdefault(code, (f"Walmart fees: {fee.replace('_', ' ')}", 121))
        names.setdefault("1300", ("Debtors", 20))
        names.setdefault("1500", ("VAT payable", 24))
        names.setdefault("1520", ("VAT receivable", 24))
        names.setdefault("1600", ("Creditors", 22))
        for sku in ledger.skus.items.values():
            if sku.account:
                names.setdefault(sku.account, (f"Sales {sku.account}", 110))
        if ledger.skus.default.account:
            names.setdefault(ledger.skus.default.account, ("Walmart Sales", 110))
        for code, (description, gl_type) in sorted(names.items()):
            self._insert(div, "financial/GLAccounts", self._gl_values(code, description, gl_type))
        gl = {r["Code"]: r for r in div.table("financial/GLAccounts").values()}

        # VAT codes: Exact pads codes to 3 characters; percentages are fractions (0.115 = 11.5 %).
        vat_specs = {ledger.tax_codes.no_tax: ("No VAT", Decimal("0"), "N")}
        vat_specs.setdefault(ledger.tax_codes.facilitator, ("No VAT (marketplace facilitator)", Decimal("0"), "N"))
        for state, code in ledger.tax_codes.seller_remitted.items():
            pct = Decimal("0.115") if state == "PR" else Decimal("0.06")
            vat_specs.setdefault(code, (f"Sales tax {state} {pct * 100:g} %", pct, "E"))
        for code, (description, pct, vtype) in vat_specs.items():
            to_pay = gl["1500"] if pct else None
            to_claim = gl["1520"] if pct else None
            self._insert(div, "vat/VATCodes", {
                "Code": code.ljust(3), "Description": description, "Percentage": pct, "Type": vtype,
                "IsBlocked": False, "GLToPay": to_pay and to_pay["ID"], "GLToPayCode": to_pay and to_pay["Code"],
                "GLToClaim": to_claim and to_claim["ID"], "GLToClaimCode": to_claim and to_claim["Code"],
                "VATTransactionType": "B"})

        journals = [
            (self.sales_journal, "Sales journal", 20, gl["1300"]),
            (self.bank_journal, "Business Checking", 12, gl[accounts.bank]),
            (self.clearing_journal, "Walmart Clearing", 12, gl[accounts.clearing]),
            (self.purchase_journal, "Purchase journal", 22, gl["1600"]),
            ("90", "General journal", 90, None),
        ]
        for code, description, jtype, account in journals:
            self._insert(div, "financial/Journals", {
                "Code": code, "Description": description, "Type": jtype, "Currency": div.currency,
                "GLAccount": account and account["ID"], "GLAccountCode": account and account["Code"],
                "GLAccountType": account and account["Type"], "AllowVariableCurrency": jtype in (20, 22)})

        cost_centers = {ledger.skus.default.cost_center} | {s.cost_center for s in ledger.skus.items.values()}
        for code in sorted(c for c in cost_centers if c):
            self._insert(div, "hrm/Costcenters", {"Code": code, "Description": f"{code} (Walmart Marketplace)",
                                                  "Active": True})
        if self.cfg.tracking:
            self._insert(div, "hrm/Costunits", {"Code": self.cfg.tracking.option,
                                                "Description": self.cfg.tracking.category})

        warehouse = self._insert(div, "inventory/Warehouses", {"Code": "1", "Description": "Main warehouse",
                                                               "Main": 1})
        self.main_warehouse = warehouse["ID"]
        sales_gl = gl[ledger.skus.default.account or accounts.sales]
        for item in self._initial_items(items, ledger):
            rec = self._insert(div, "logistics/Items", {
                "Code": item["code"], "Description": item["name"], "IsSalesItem": True, "IsStockItem": True,
                "IsPurchaseItem": True, "SalesVatCode": ledger.tax_codes.no_tax.ljust(3),
                "GLRevenue": sales_gl["ID"], "GLRevenueCode": sales_gl["Code"], "Unit": "pc",
                "UnitDescription": "Piece", "CostPriceStandard": item["cost"], "Barcode": item["barcode"],
                "StandardSalesPrice": item["price"], "Stock": item["stock"], "StartDate": EPOCH.replace(year=2020)})
            self._set_stock(div, rec, item["stock"])

    @staticmethod
    def _gl_values(code: str, description: str, gl_type: int) -> dict:
        balance_sheet = gl_type < 100
        credit = gl_type in (22, 24, 90, 110)
        return {"Code": code, "Description": description, "Type": gl_type,
                "TypeDescription": GL_TYPE_DESCRIPTIONS.get(gl_type, "General"),
                "BalanceSide": "C" if credit else "D", "BalanceType": "B" if balance_sheet else "W",
                "IsBlocked": False, "VATCode": None}

    def _initial_items(self, items, ledger) -> list[dict]:
        source = list(items) if items is not None else _seller_skus(self.options)
        out: dict[str, dict] = {}
        for raw in source or []:
            get = raw.get if isinstance(raw, dict) else (lambda name, default=None, _r=raw: getattr(_r, name, default))
            code = get("sku") or get("Code") or get("code")
            if not code:
                continue
            price_cents, cost_cents = get("price_cents"), get("cost_cents")
            price = Decimal(price_cents).scaleb(-2) if price_cents is not None else Decimal("0")
            cost = Decimal(cost_cents).scaleb(-2) if cost_cents is not None else Decimal("0")
            stock = raw.get("stock") if isinstance(raw, dict) else None  # only explicit test data
            out[str(code)] = {"code": str(code), "name": str(get("name") or get("Description") or code),
                              "price": price, "cost": cost, "barcode": get("gtin"),
                              "stock": Decimal(stock) if stock is not None else Decimal("0")}
        for sku in ledger.skus.items.values():
            if sku.item_code and sku.item_code not in out:
                out[sku.item_code] = {"code": sku.item_code, "name": sku.item_code, "price": Decimal("0"),
                                      "cost": Decimal("0"), "barcode": None, "stock": Decimal("0")}
        return list(out.values())

    def _set_stock(self, div: Division, item: dict, quantity: Decimal) -> None:
        row = None
        for rec in div.table("inventory/ItemWarehouses").values():
            if rec["Item"] == item["ID"] and rec["Warehouse"] == self.main_warehouse:
                row = rec
        if row is None:
            wh = div.table("inventory/Warehouses")[self.main_warehouse]
            row = self._insert(div, "inventory/ItemWarehouses", {
                "Item": item["ID"], "ItemCode": item["Code"], "ItemDescription": item["Description"],
                "Warehouse": wh["ID"], "WarehouseCode": wh["Code"], "WarehouseDescription": wh["Description"],
                "ReservedStock": Decimal("0"), "PlannedStockIn": Decimal("0"), "PlannedStockOut": Decimal("0")})
        row["CurrentStock"] = quantity
        row["ProjectedStock"] = quantity
        row["Modified"] = self.now()
        item["Stock"] = sum((r["CurrentStock"] for r in div.table("inventory/ItemWarehouses").values()
                             if r["Item"] == item["ID"]), Decimal("0"))

    # ---- OAuth (FACTS §1) ------------------------------------------------------------------------
    def authorize(self, params: dict[str, str]) -> Response:
        client_id = params.get("client_id", "")
        if client_id not in self.clients:
            return Response(f"Client with identifier '{client_id}' not found.", status_code=400,
                            media_type="text/plain; charset=utf-8")
        redirect_uri = params.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return Response("The redirect_uri is missing or invalid.", status_code=400,
                            media_type="text/plain; charset=utf-8")
        query: dict[str, str] = {}
        if params.get("response_type") != "code":
            query["error"] = "unsupported_response_type"
        else:
            code = f"stampNL001.{secrets.token_urlsafe(24)}!IAAAA{secrets.token_urlsafe(96)}"
            with self.lock:
                self._codes[code] = {"client_id": client_id, "redirect_uri": redirect_uri,
                                     "issued": self.clock.now(), "used": False}
            query["code"] = code
        if "state" in params:
            query["state"] = params["state"]
        sep = "&" if parts.query else "?"
        return RedirectResponse(redirect_uri + sep + urlencode(query), status_code=302)

    def _oauth_error(self, status: int, error: str, description: str | None = None,
                     headers: dict[str, str] | None = None) -> Response:
        body = {"error": error}
        if description:
            body["error_description"] = description
        return json_response(status, body, headers)

    def token(self, form: dict[str, str]) -> Response:
        client_id = form.get("client_id", "")
        key = (client_id or "?", None, "oauth2/token")
        blocked = self._blocked_response(key, oauth=True)
        if blocked is not None:
            return blocked
        response = self._token(form, client_id)
        if response.status_code in (400, 401, 403, 404):
            self._record_error(key)
        return response

    def _token(self, form: dict[str, str], client_id: str) -> Response:
        if self.clients.get(client_id) is None or not hmac.compare_digest(
                self.clients[client_id], form.get("client_secret", "")):
            return self._oauth_error(400, "invalid_client")
        if not self.token_daily.hit(client_id).allowed:
            return self._oauth_error(400, "access_denied", "Rate limit exceeded: token requests per day")
        grant = form.get("grant_type")
        now = self.clock.now()
        with self.lock:
            if grant == "authorization_code":
                code = self._codes.get(form.get("code", ""))
                if code is None or code["used"] or code["client_id"] != client_id:
                    return self._oauth_error(400, "invalid_grant")
                code["used"] = True
                if now - code["issued"] > AUTH_CODE_LIFETIME_S:
                    return self._oauth_error(400, "invalid_grant")
                if form.get("redirect_uri") != code["redirect_uri"]:
                    return self._oauth_error(400, "invalid_grant")
                return self._issue(client_id, now)
            if grant == "refresh_token":
                token = form.get("refresh_token", "")
                rec = self._refresh.get(token)
                if not token:
                    return self._oauth_error(400, "invalid_request")
                if rec is None or rec["client_id"] != client_id:
                    return self._oauth_error(400, "invalid_grant")
                if rec["state"] == "rotated":
                    return self._oauth_error(401, "unauthorized_client", "Old refresh token used.")
                if now - rec["issued"] > REFRESH_TOKEN_IDLE_S:
                    return self._oauth_error(400, "invalid_grant")
                if now - self._last_issue.get(client_id, 0.0) < EARLY_REFRESH_S:
                    return self._oauth_error(400, "access_denied", "Rate limit exceeded: access_token not expired",
                                             {"Reason": "TooEarlyToRefreshTokens"})
                rec["state"] = "rotated"
                return self._issue(client_id, now)
            return self._oauth_error(400, "unsupported_grant_type")

    def _issue(self, client_id: str, now: float) -> Response:
        tokens = self.issue_tokens(client_id, now)
        return json_response(200, tokens, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def issue_tokens(self, client_id: str | None = None, now: float | None = None) -> dict:
        """A fresh access/refresh token pair (what the token endpoint answers); revokes the previous access token."""
        client_id = client_id or next(iter(self.clients))
        now = self.clock.now() if now is None else now
        with self.lock:
            access = "AAEAA" + secrets.token_urlsafe(96)
            refresh = "__1P!I" + secrets.token_urlsafe(48)
            old = self._current_access.get(client_id)
            if old:
                self._access.pop(old, None)
            self._access[access] = {"client_id": client_id, "issued": now}
            self._current_access[client_id] = access
            self._last_issue[client_id] = now
            self._refresh[refresh] = {"client_id": client_id, "issued": now, "state": "active"}
        return {"access_token": access, "token_type": "bearer", "expires_in": str(ACCESS_TOKEN_LIFETIME_S),
                "refresh_token": refresh}

    def authenticate(self, header: str | None) -> str:
        """The client id behind a bearer token, or a 401."""
        unauthorized = ODataError(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})
        if not header or not header.startswith("Bearer "):
            raise unauthorized
        with self.lock:
            rec = self._access.get(header[len("Bearer "):].strip())
            if rec is None or self.clock.now() - rec["issued"] >= ACCESS_TOKEN_LIFETIME_S:
                raise unauthorized
            return rec["client_id"]

    # ---- error allowance (FACTS §5) --------------------------------------------------------------
    def _blocked_response(self, key: tuple, oauth: bool = False) -> Response | None:
        with self.lock:
            until = self._blocked.get(key)
            if until is None or self.clock.now() >= until:
                self._blocked.pop(key, None)
                return None
        message = ("Too many errors: more than %d errors on this endpoint within an hour; blocked until %s UTC"
                   % (self.errors_per_hour or 0, (EPOCH + timedelta(seconds=until)).isoformat(timespec="seconds")))
        if oauth:
            return self._oauth_error(429, "access_denied", message)
        return error_response(ODataError(429, message))

    def _record_error(self, key: tuple) -> None:
        if self.errors_per_hour is None:
            return
        now = self.clock.now()
        with self.lock:
            recent = [t for t in self._errors[key] if now - t < 3600] + [now]
            self._errors[key] = recent
            if len(recent) > self.errors_per_hour:
                self._blocked[key] = now + self.error_block_s

    # ---- API entry point -------------------------------------------------------------------------
    def handle_api(self, method: str, rest: str, params: dict[str, str], headers, body: bytes,
                   api_root: str) -> Response:
        try:
            client_id = self.authenticate(headers.get("authorization"))
        except ODataError as err:
            return error_response(err)
        if rest == "current/Me":
            if method != "GET":
                return error_response(ODataError(405, "Method not allowed"))
            try:
                return self._me(params, api_root)
            except ODataError as err:
                return error_response(err)
        division_text, _, resource = rest.partition("/")
        if not division_text.isdigit():
            return error_response(ODataError(404, f"Resource not found for the segment '{division_text}'."))
        division = int(division_text)
        endpoint = re.sub(r"\(.*$", "", resource)
        key = (client_id, division, endpoint)
        if endpoint != "system/Divisions" and division not in self.allowed_divisions:
            # Exact does not say which divisions exist: every unreachable one is the same 403.
            self._record_error(key)
            return error_response(ODataError(403, "Forbidden", {"Reason": "NoDivisionAccess"}))
        blocked = self._blocked_response(key)
        if blocked is not None:
            return blocked
        limit_key = f"{client_id}:{division}"
        minute = self.minutely.hit(limit_key)
        if not minute.allowed:
            return error_response(ODataError(429, "API rate limit exceeded: too many calls this minute.",
                                             self._minutely_headers(0)))
        day = self.daily.hit(limit_key)
        if not day.allowed:
            return error_response(ODataError(429, "API rate limit exceeded: daily limit reached.",
                                             self._daily_headers(0)))
        try:
            response = self._dispatch(method, division, resource, params, headers, body, api_root)
        except ODataError as err:
            response = error_response(err)
        response.headers.update(self._daily_headers(day.remaining))
        response.headers.update(self._minutely_headers(minute.remaining))
        if response.status_code in (400, 401, 403, 404):
            self._record_error(key)
        return response

    def _daily_headers(self, remaining: int) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.daily.limit), "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(self.daily.reset_epoch() * 1000)}

    def _minutely_headers(self, remaining: int) -> dict[str, str]:
        return {"X-RateLimit-Minutely-Limit": str(self.minutely.limit),
                "X-RateLimit-Minutely-Remaining": str(remaining),
                "X-RateLimit-Minutely-Reset": str(self.minutely.reset_epoch() * 1000)}

    def _me(self, params: dict[str, str], api_root: str) -> Response:
        row = {"UserID": self.user_id, **self.user, "Email": self.user["UserName"], "LanguageCode": "en-US",
               "CurrentDivision": self.division, "DivisionCustomer": None, "DivisionCustomerCode": None,
               "DivisionCustomerName": self.cfg.seller.name, "Legislation": 1, "ServerTime": self.now(),
               "ServerUtcOffset": Decimal("0")}
        es = EntitySet("current/Me", "Exact.Web.Api.System.Me", "UserID", ME_FIELDS, frozenset(), frozenset({"GET"}))
        q = parse_query(params, es)
        sel = build_selection(q, es)
        out = {"__metadata": {"uri": f"{api_root}/current/Me(guid'{self.user_id}')", "type": es.type_name}}
        for name, edm in ME_FIELDS.items():
            if sel.fields is None or name in sel.fields:
                out[name] = _json_value(row.get(name), edm)
        return json_response(200, {"d": {"results": [out]}})

    _RESOURCE = re.compile(r"^(?P<set>[A-Za-z]+/[A-Za-z]+)(?:\((?P<key>[^)]*)\))?(?:/(?P<tail>\$count|[A-Za-z]+))?$")

    def _dispatch(self, method: str, division: int, resource: str, params: dict[str, str], headers, body: bytes,
                  api_root: str) -> Response:
        m = self._RESOURCE.match(resource)
        es = SETS.get(m.group("set")) if m else None
        if es is None:
            segment = (m.group("set") if m else resource).rsplit("/", 1)[-1]
            raise ODataError(404, f"Resource not found for the segment '{segment}'.")
        raw_key, tail = m.group("key"), m.group("tail")
        if method not in es.methods:
            raise ODataError(405, f"Method {method} is not allowed on {es.path}.")
        key = self._parse_key(es, raw_key) if raw_key is not None else None
        with self.lock:
            div = self.divisions[division]
            if method == "GET":
                if es.path == "system/Divisions":
                    return self._list(es, div, self._division_rows(), params, api_root, division, es.path)
                if key is None:
                    if tail == "$count":
                        q = parse_query(params, es)
                        rows = [r for r in div.table(es.path).values() if q.predicate is None or q.predicate(r)]
                        return Response(str(len(rows)), media_type="text/plain; charset=utf-8")
                    if tail is not None:
                        raise ODataError(404, f"Resource not found for the segment '{tail}'.")
                    return self._list(es, div, list(div.table(es.path).values()), params, api_root, division,
                                      es.path)
                rec = self._get(es, div, key)
                if tail is None:
                    q = parse_query(params, es)
                    return json_response(200, {"d": self.render(es, rec, division, api_root, build_selection(q, es))})
                if tail not in es.nav:
                    raise ODataError(404, f"Resource not found for the segment '{tail}'.")
                child_path, fk = es.nav[tail]
                rows = div.children(child_path, fk, key)
                return self._list(SETS[child_path], div, rows, params, api_root, division,
                                  f"{es.path}(guid'{key}')/{tail}")
            if tail is not None:
                raise ODataError(405, f"Method {method} is not allowed on {resource}.")
            if method == "POST":
                if key is not None:
                    raise ODataError(405, "POST on an entity key is not allowed; use PUT to update.")
                ctype = headers.get("content-type", "")
                if "json" not in ctype:
                    raise _bad("Content-Type header value missing or not application/json.")
                try:
                    payload = loads(body) if body else None
                except ValueError:
                    raise _bad("Error processing request stream. JSON text specified is not valid.") from None
                data = coerce_body(es, payload, "POST")
                rec, events = self._create(es, div, data)
                response = json_response(201, {"d": self.render(es, rec, division, api_root, Selection(
                    None, {nav: Selection(None, {}) for nav in es.nav}))})
            elif method == "PUT":
                if key is None:
                    raise ODataError(405, "PUT needs an entity key.")
                try:
                    payload = loads(body) if body else None
                except ValueError:
                    raise _bad("Error processing request stream. JSON text specified is not valid.") from None
                data = coerce_body(es, payload, "PUT")
                rec = self._get(es, div, key)
                events = self._update(es, div, rec, data)
                response = Response(status_code=204)
            else:  # DELETE
                if key is None:
                    raise ODataError(405, "DELETE needs an entity key.")
                rec = self._get(es, div, key)
                events = self._delete(es, div, rec)
                response = Response(status_code=204)
        for topic, action, event_es, event_key in events:
            self._emit(division, topic, action, event_key,
                       f"{api_root}/{division}/{event_es.path}(guid'{event_key}')")
        return response

    @staticmethod
    def _parse_key(es: EntitySet, raw: str) -> str:
        m = re.fullmatch(r"guid'([^']*)'", raw.strip())
        if not m:
            raise _bad("Bad Request - Error in query syntax.")
        try:
            return _guid(m.group(1))
        except ValueError:
            raise _bad("Bad Request - Error in query syntax.") from None

    def _get(self, es: EntitySet, div: Division, key: str) -> dict:
        rec = div.table(es.path).get(key)
        if rec is None:
            raise ODataError(404, f"Resource not found for the segment '{es.entity}'.")
        return rec

    def _division_rows(self) -> list[dict]:
        rows = []
        for code in sorted(self.allowed_divisions):
            d = self.divisions[code]
            rows.append({"Code": code, "Description": d.description, "HID": code % 1000, "Currency": d.currency,
                         "Country": "US", "Customer": None, "CustomerName": d.description,
                         "Main": code == self.division, "Status": 1, "Created": EPOCH.replace(year=2024)})
        return rows

    # ---- listing, paging, rendering (FACTS §4) ---------------------------------------------------
    def _list(self, es: EntitySet, div: Division, rows: list[dict], params: dict[str, str], api_root: str,
              division: int, path: str) -> Response:
        q = parse_query(params, es)
        sel = build_selection(q, es)
        if q.predicate is not None:
            rows = [r for r in rows if q.predicate(r)]
        total = len(rows)
        sort_fields = [(name, desc) for name, desc in q.orderby] + [(es.key, False)]

        def sort_key(rec: dict) -> list[Any]:
            return [rec.get(name) for name, _ in sort_fields]

        def compare(a: list[Any], b: list[Any]) -> int:
            for (name, desc), x, y in zip(sort_fields, a, b):
                c = _ordinal(x, y)
                if c:
                    return -c if desc else c
            return 0

        rows = sorted(rows, key=lambda r: cmp_to_key(compare)(sort_key(r)))
        if q.skiptoken is not None:
            token = [str(v).lower() if es.fields.get(n) == G and v is not None else v
                     for (n, _), v in zip(sort_fields, q.skiptoken)]
            rows = [r for r in rows if compare(sort_key(r), token) > 0]
        elif q.skip:
            rows = rows[q.skip:]
        wanted = len(rows) if q.top is None else min(q.top, len(rows))
        page = rows[: min(self.page_size, wanted)]
        d: dict[str, Any] = {"results": [self.render(es, r, division, api_root, sel) for r in page]}
        if q.inlinecount:
            d["__count"] = str(total)
        if len(page) < wanted:
            last = sort_key(page[-1])
            token = ",".join(odata_literal(v, es.fields.get(n, S)) for (n, _), v in zip(sort_fields, last))
            nxt = {k: v for k, v in q.raw.items() if k not in ("$skiptoken", "$skip", "$top")}
            if q.top is not None:
                nxt["$top"] = str(q.top - len(page))
            nxt["$skiptoken"] = token
            d["__next"] = f"{api_root}/{division}/{path}?" + urlencode(nxt, quote_via=quote, safe="$',()")
        return json_response(200, {"d": d})

    def render(self, es: EntitySet, rec: dict, division: int, api_root: str, sel: Selection) -> dict:
        key = rec[es.key]
        key_text = f"({key})" if es.fields[es.key] != G else f"(guid'{key}')"
        uri = f"{api_root}/{division}/{es.path}{key_text}"
        out: dict[str, Any] = {"__metadata": {"uri": uri, "type": es.type_name}}
        for name, edm in es.fields.items():
            if sel.fields is None or name in sel.fields:
                out[name] = _json_value(rec.get(name), edm)
        for nav, (child_path, fk) in es.nav.items():
            if sel.fields is not None and nav not in sel.fields:
                continue
            if nav in sel.navs:
                child = SETS[child_path]
                rows = self.divisions[division].children(child_path, fk, key)
                out[nav] = {"results": [self.render(child, r, division, api_root, sel.navs[nav]) for r in rows]}
            else:
                out[nav] = {"__deferred": {"uri": f"{uri}/{nav}"}}
        return out

    # ---- create / update / delete ----------------------------------------------------------------
    def _create(self, es: EntitySet, div: Division, data: dict) -> tuple[dict, list]:
        handler = getattr(self, "_create_" + es.path.replace("/", "_").lower(), None)
        if handler is None:
            raise ODataError(405, f"Method POST is not allowed on {es.path}.")
        self._pending_events = []
        rec = handler(div, data)
        events = [(es.topic, "Create", es, rec[es.key])] if es.topic else []
        events += self._pending_events
        self._pending_events = []
        return rec, events

    def _update(self, es: EntitySet, div: Division, rec: dict, data: dict) -> list:
        handler = getattr(self, "_update_" + es.path.replace("/", "_").lower(), None)
        if handler is None:
            raise ODataError(405, f"Method PUT is not allowed on {es.path}.")
        handler(div, rec, data)
        rec["Modified"] = self.now()
        return [(es.topic, "Update", es, rec[es.key])] if es.topic else []

    def _delete(self, es: EntitySet, div: Division, rec: dict) -> list:
        handler = getattr(self, "_delete_" + es.path.replace("/", "_").lower(), None)
        if handler is None:
            raise ODataError(405, f"Method DELETE is not allowed on {es.path}.")
        events = handler(div, rec) or []
        return ([(es.topic, "Delete", es, rec[es.key])] if es.topic else []) + events

    # Accounts: Code is an 18-character right-aligned string (FACTS §2).
    def _account_code(self, div: Division, code: str | None, own_id: str | None = None) -> str:
        table = div.table("crm/Accounts")
        if code is None or not code.strip():
            numbers = [int(r["Code"]) for r in table.values() if r["Code"] and r["Code"].strip().isdigit()]
            code = str(max(numbers, default=0) + 1)
        code = code.strip()
        if len(code) > 18:
            raise _bad("Code: the maximum length is 18 characters.")
        padded = code.rjust(18)
        for other in table.values():
            if other["Code"] == padded and other["ID"] != own_id:
                raise _bad(f"Code: an account with code {code} already exists.")
        return padded

    def _create_crm_accounts(self, div: Division, data: dict) -> dict:
        if not (data.get("Name") or "").strip():
            raise _bad("Mandatory: Name")
        status = data.get("Status") or "A"
        if status not in ("A", "S", "P", "C"):
            raise _bad(f"Status: invalid value '{status}'; expected A, S, P or C.")
        if data.get("ID") and data["ID"] in div.table("crm/Accounts"):
            raise _bad("ID: an account with this ID already exists.")
        values = {**data, "Code": self._account_code(div, data.get("Code")), "Status": status, "Type": "A",
                  "IsSales": data.get("IsSales", status == "C"), "IsSupplier": bool(data.get("IsSupplier")),
                  "Blocked": bool(data.get("Blocked"))}
        values.setdefault("SearchCode", None)
        return self._insert(div, "crm/Accounts", values)

    def _update_crm_accounts(self, div: Division, rec: dict, data: dict) -> None:
        data.pop("ID", None)
        if "Code" in data:
            data["Code"] = self._account_code(div, data["Code"], rec["ID"])
        if "Name" in data and not (data["Name"] or "").strip():
            raise _bad("Mandatory: Name")
        rec.update(data)

    def _delete_crm_accounts(self, div: Division, rec: dict) -> None:
        for path, name in (("salesentry/SalesEntries", "Customer"), ("purchaseentry/PurchaseEntries", "Supplier"),
                           ("salesinvoice/SalesInvoices", "OrderedBy"), ("financialtransaction/BankEntryLines",
                                                                         "Account")):
            if div.find(path, name, rec["ID"]):
                raise _bad("The account cannot be deleted: it is used in transactions.")
        del div.table("crm/Accounts")[rec["ID"]]

    def _create_financial_glaccounts(self, div: Division, data: dict) -> dict:
        code = (data.get("Code") or "").strip()
        if not code or not data.get("Description"):
            raise _bad("Mandatory: Code, Description")
        if any(r["Code"] == code for r in div.table("financial/GLAccounts").values()):
            raise _bad(f"Code: G/L account {code} already exists.")
        gl_type = data.get("Type") or 90
        values = self._gl_values(code, data["Description"], gl_type)
        values.update({k: v for k, v in data.items() if k in ("BalanceSide", "BalanceType", "IsBlocked", "VATCode")
                       and v is not None})
        return self._insert(div, "financial/GLAccounts", values)

    def _create_code_description(self, div: Division, path: str, data: dict) -> dict:
        code = (data.get("Code") or "").strip()
        if not code:
            raise _bad("Mandatory: Code")
        if len(code) > 8:
            raise _bad("Code: the maximum length is 8 characters.")
        if div.find(path, "Code", code):
            raise _bad(f"Code: {code} already exists.")
        return self._insert(div, path, {**data, "Code": code})

    def _create_hrm_costcenters(self, div: Division, data: dict) -> dict:
        data.setdefault("Active", True)
        return self._create_code_description(div, "hrm/Costcenters", data)

    def _create_hrm_costunits(self, div: Division, data: dict) -> dict:
        return self._create_code_description(div, "hrm/Costunits", data)

    # Items
    def _item_values(self, div: Division, data: dict, own_id: str | None = None) -> dict:
        values = dict(data)
        if "Code" in values:
            code = (values["Code"] or "").strip()
            if not code:
                raise _bad("Mandatory: Code")
            if len(code) > 30:
                raise _bad("Code: the maximum length is 30 characters.")
            other = div.find("logistics/Items", "Code", code)
            if other and other["ID"] != own_id:
                raise _bad(f"Code: item {code} already exists.")
            values["Code"] = code
        if values.get("SalesVatCode") is not None:
            values["SalesVatCode"] = self._vat_code(div, values["SalesVatCode"])["Code"]
        if values.get("GLRevenue") is not None:
            gl = self._gl_account(div, values["GLRevenue"], "GLRevenue")
            values["GLRevenueCode"] = gl["Code"]
        return values

    def _create_logistics_items(self, div: Division, data: dict) -> dict:
        if "Code" not in data:
            raise _bad("Mandatory: Code")
        if not data.get("Description"):
            raise _bad("Mandatory: Description")
        if data.get("ID") and data["ID"] in div.table("logistics/Items"):
            raise _bad("ID: an item with this ID already exists.")
        values = self._item_values(div, data)
        values.setdefault("IsSalesItem", True)
        values.setdefault("IsStockItem", False)
        values.setdefault("IsPurchaseItem", False)
        values.setdefault("Unit", "pc")
        values.update({"UnitDescription": "Piece", "Stock": Decimal("0")})
        return self._insert(div, "logistics/Items", values)

    def _update_logistics_items(self, div: Division, rec: dict, data: dict) -> None:
        data.pop("ID", None)
        rec.update(self._item_values(div, data, rec["ID"]))

    def _delete_logistics_items(self, div: Division, rec: dict) -> None:
        if any(r["Item"] == rec["ID"] for r in div.table("salesinvoice/SalesInvoiceLines").values()) or any(
                r["Item"] == rec["ID"] for r in div.table("inventory/StockCountLines").values()):
            raise _bad("The item cannot be deleted: it is used in transactions.")
        del div.table("logistics/Items")[rec["ID"]]

    # Lookups shared by the entries
    def _gl_account(self, div: Division, guid: str | None, name: str = "GLAccount") -> dict:
        if guid is None:
            raise _bad(f"Mandatory: {name}")
        gl = div.table("financial/GLAccounts").get(guid)
        if gl is None:
            raise _bad(f"{name}: G/L account {guid} does not exist.")
        if gl["IsBlocked"]:
            raise _bad(f"{name}: G/L account {gl['Code']} is blocked.")
        return gl

    def _vat_code(self, div: Division, code: str) -> dict:
        wanted = code.strip()
        for rec in div.table("vat/VATCodes").values():
            if rec["Code"].strip() == wanted:
                if rec["IsBlocked"]:
                    raise _bad(f"Not allowed: VAT code {wanted} is blocked.")
                return rec
        raise _bad(f"VATCode: VAT code '{code}' does not exist.")

    def _code_ref(self, div: Division, path: str, code: str | None, name: str) -> dict | None:
        if code is None:
            return None
        rec = div.find(path, "Code", code.strip())
        if rec is None:
            raise _bad(f"{name}: '{code}' does not exist.")
        return rec

    def _journal(self, div: Division, code: str | None, types: tuple[int, ...], kind: str, name: str) -> dict:
        if not code:
            raise _bad(f"Mandatory: {name}")
        journal = div.find("financial/Journals", "Code", code.strip())
        if journal is None:
            raise _bad(f"{name}: journal '{code}' does not exist.")
        if journal["Type"] not in types:
            raise _bad(f"{name}: journal '{code}' is not a {kind} journal.")
        return journal

    def _account(self, div: Division, guid: str | None, name: str) -> dict:
        if guid is None:
            raise _bad(f"Mandatory: {name}")
        account = div.table("crm/Accounts").get(guid)
        if account is None:
            raise _bad(f"{name}: account {guid} does not exist.")
        if account["Blocked"]:
            raise _bad(f"{name}: account {account['Code'].strip()} is blocked.")
        return account

    def _next_number(self, div: Division, journal: str, year: int, suggested: int | None, used: set[int]) -> int:
        """Entry numbers per journal and year: YY + journal + 4-digit sequence; a suggestion is only a hint."""
        seq_key = f"{journal}:{year}"
        base = int(f"{year % 100:02d}{journal}0000") if journal.isdigit() else 0
        last = max(div.sequences[seq_key], base)
        if suggested is not None and suggested > last and suggested not in used:
            number = suggested  # accepted; otherwise silently replaced (FACTS §2, ossobv)
        else:
            number = last + 1
            while number in used:
                number += 1
        div.sequences[seq_key] = max(number, last)
        return number

    # Sales and purchase entries (FACTS §2)
    def _entry_lines(self, div: Division, lines: list[dict], entry_type: int, rate: Decimal, kind: str) -> list[dict]:
        out = []
        for n, line in enumerate(lines, start=1):
            if line.get("AmountFC") is None:
                raise _bad(f"Mandatory: AmountFC (line {n})")
            gl = self._gl_account(div, line.get("GLAccount"))
            if gl["Type"] in CONTROL_GL_TYPES:
                raise _bad(f"Invalid: G/L account type ({gl['Code']} {gl['TypeDescription']} is not allowed "
                           f"on {kind} lines)")
            vat_code = line.get("VATCode") if line.get("VATCode") is not None else gl.get("VATCode")
            vat = self._vat_code(div, vat_code) if vat_code is not None else None
            amount = line["AmountFC"]
            pct = vat["Percentage"] if vat else Decimal("0")
            vat_amount = line["VATAmountFC"] if line.get("VATAmountFC") is not None else _q2(amount * pct)
            center = self._code_ref(div, "hrm/Costcenters", line.get("CostCenter"), "CostCenter")
            unit = self._code_ref(div, "hrm/Costunits", line.get("CostUnit"), "CostUnit")
            if line.get("Type") is not None and line["Type"] not in (entry_type,):
                raise _bad(f"Type: line type {line['Type']} does not match the entry type {entry_type}.")
            out.append({
                "LineNumber": n, "AmountFC": amount, "AmountDC": _q2(amount * rate), "VATAmountFC": vat_amount,
                "VATAmountDC": _q2(vat_amount * rate), "VATBaseAmountFC": amount, "VATBaseAmountDC": _q2(amount * rate),
                "VATCode": vat["Code"] if vat else None, "VATCodeDescription": vat["Description"] if vat else None,
                "VATPercentage": pct, "GLAccount": gl["ID"], "GLAccountCode": gl["Code"],
                "GLAccountDescription": gl["Description"], "CostCenter": center and center["Code"],
                "CostCenterDescription": center and center["Description"], "CostUnit": unit and unit["Code"],
                "CostUnitDescription": unit and unit["Description"], "Description": line.get("Description"),
                "Quantity": line.get("Quantity"), "From": line.get("From"), "To": line.get("To"),
                "Type": entry_type, "Notes": line.get("Notes")})
        return out

    def _create_entry(self, div: Division, data: dict, *, path: str, lines_nav: str, party: str,
                      journal_types: tuple[int, ...], kind: str, types: dict[int, str]) -> dict:
        es = SETS[path]
        account = self._account(div, data.get(party), party)
        journal = self._journal(div, data.get("Journal"), journal_types, kind, "Journal")
        if data.get("EntryDate") is None:
            raise _bad("Mandatory: EntryDate")
        entry_type = data.get("Type") if data.get("Type") is not None else min(types)
        if entry_type not in types:
            raise _bad(f"Type: invalid value {entry_type}; expected one of {sorted(types)}.")
        lines_in = data.get(lines_nav)
        if not lines_in:
            raise _bad(f"Mandatory: {lines_nav}")
        currency = data.get("Currency") or div.currency
        if currency != div.currency:
            if data.get("Rate") is None:
                raise _bad(f"Rate: an exchange rate is mandatory for currency {currency}.")
            rate = data["Rate"]
        else:
            rate = Decimal("1")
        lines = self._entry_lines(div, lines_in, entry_type, rate, kind)
        net = sum((ln["AmountFC"] for ln in lines), Decimal("0"))
        vat = sum((ln["VATAmountFC"] for ln in lines), Decimal("0"))
        total = net + vat
        if data.get("AmountFC") is not None and data["AmountFC"] != total:
            raise _bad(f"AmountFC: the entry amount {data['AmountFC']} does not equal the lines including VAT "
                       f"({total}).")
        if data.get("VATAmountFC") is not None and data["VATAmountFC"] != vat:
            raise _bad(f"VATAmountFC: the VAT amount {data['VATAmountFC']} does not equal the VAT of the lines "
                       f"({vat}).")
        credit_type = max(types)
        if entry_type == credit_type and total > 0:
            raise _bad(f"A credit note (Type {credit_type}) needs negative amounts; the total is {total}.")
        entry_date = data["EntryDate"]
        year = data.get("ReportingYear") or entry_date.year
        used = {r["EntryNumber"] for r in div.table(path).values() if r["Journal"] == journal["Code"]}
        number = self._next_number(div, journal["Code"], year, data.get("InvoiceNumber") or data.get("EntryNumber"),
                                   used)
        header = {k: v for k, v in data.items() if k in es.fields}
        header.update({
            "EntryNumber": number, "InvoiceNumber": number, "Journal": journal["Code"],
            "JournalDescription": journal["Description"], party: account["ID"], f"{party}Name": account["Name"],
            "DueDate": data.get("DueDate") or entry_date + timedelta(days=30), "Currency": currency, "Rate": rate,
            "AmountFC": total, "AmountDC": _q2(total * rate), "VATAmountFC": vat, "VATAmountDC": _q2(vat * rate),
            "ReportingYear": year, "ReportingPeriod": data.get("ReportingPeriod") or entry_date.month,
            "Status": 20, "StatusDescription": "Open", "Type": entry_type, "TypeDescription": types[entry_type]})
        if "Reversal" in es.fields:
            header["Reversal"] = bool(data.get("Reversal"))
        rec = self._insert(div, path, header)
        child_path = es.nav[lines_nav][0]
        for line in lines:
            self._insert(div, child_path, {**line, "EntryID": rec["EntryID"]})
        return rec

    def _recalculate_entry(self, div: Division, path: str, rec: dict) -> None:
        es = SETS[path]
        child_path, fk = next(iter(es.nav.values()))
        lines = div.children(child_path, fk, rec["EntryID"])
        net = sum((ln["AmountFC"] for ln in lines), Decimal("0"))
        vat = sum((ln["VATAmountFC"] for ln in lines), Decimal("0"))
        rate = rec["Rate"] or Decimal("1")
        rec.update({"AmountFC": net + vat, "AmountDC": _q2((net + vat) * rate), "VATAmountFC": vat,
                    "VATAmountDC": _q2(vat * rate), "Modified": self.now()})

    _SALES = dict(path="salesentry/SalesEntries", lines_nav="SalesEntryLines", party="Customer", journal_types=(20,),
                  kind="sales", types={20: "Sales entry", 21: "Sales credit note"})
    _PURCHASE = dict(path="purchaseentry/PurchaseEntries", lines_nav="PurchaseEntryLines", party="Supplier",
                     journal_types=(22,), kind="purchase", types={30: "Purchase entry", 31: "Purchase credit note"},
                     )

    def _create_salesentry_salesentries(self, div: Division, data: dict) -> dict:
        return self._create_entry(div, data, **self._SALES)

    def _create_purchaseentry_purchaseentries(self, div: Division, data: dict) -> dict:
        return self._create_entry(div, data, **self._PURCHASE)

    def _update_entry(self, div: Division, rec: dict, data: dict, spec: dict) -> None:
        if rec["Status"] == 50:
            raise _bad("A processed entry cannot be changed.")
        party = spec["party"]
        if party in data:
            account = self._account(div, data[party], party)
            data[f"{party}Name"] = account["Name"]
        if "Journal" in data and data["Journal"] is not None and data["Journal"].strip() != rec["Journal"]:
            raise _bad("Journal: the journal of an entry cannot be changed.")
        for name in ("AmountFC", "VATAmountFC", "AmountDC", "VATAmountDC", "Type", "EntryNumber", "InvoiceNumber",
                     "Currency", "Rate", "Journal"):
            data.pop(name, None)
        rec.update(data)

    def _update_salesentry_salesentries(self, div, rec, data):
        self._update_entry(div, rec, data, self._SALES)

    def _update_purchaseentry_purchaseentries(self, div, rec, data):
        self._update_entry(div, rec, data, self._PURCHASE)

    def _delete_entry(self, div: Division, rec: dict, path: str) -> None:
        if rec["Status"] == 50:
            raise _bad("A processed entry cannot be deleted.")
        child_path, fk = next(iter(SETS[path].nav.values()))
        for line in div.children(child_path, fk, rec["EntryID"]):
            del div.table(child_path)[line["ID"]]
        del div.table(path)[rec["EntryID"]]

    def _delete_salesentry_salesentries(self, div, rec):
        self._delete_entry(div, rec, "salesentry/SalesEntries")

    def _delete_purchaseentry_purchaseentries(self, div, rec):
        self._delete_entry(div, rec, "purchaseentry/PurchaseEntries")

    def _create_line(self, div: Division, data: dict, path: str, kind: str) -> dict:
        es = SETS[path]
        parent_path, fk = es.parent
        parent = div.table(parent_path).get(data.get(fk) or "")
        if parent is None:
            raise _bad(f"Mandatory: {fk} (an existing entry)")
        if parent["Status"] == 50:
            raise _bad("A processed entry cannot be changed.")
        existing = div.children(path, fk, parent[fk])
        line = self._entry_lines(div, [data], parent["Type"], parent["Rate"] or Decimal("1"), kind)[0]
        line["LineNumber"] = max((r["LineNumber"] for r in existing), default=0) + 1
        rec = self._insert(div, path, {**line, fk: parent[fk]})
        self._recalculate_entry(div, parent_path, parent)
        return rec

    def _create_salesentry_salesentrylines(self, div, data):
        return self._create_line(div, data, "salesentry/SalesEntryLines", "sales")

    def _create_purchaseentry_purchaseentrylines(self, div, data):
        return self._create_line(div, data, "purchaseentry/PurchaseEntryLines", "purchase")

    def _delete_line(self, div: Division, rec: dict, path: str) -> list:
        parent_path, fk = SETS[path].parent
        parent = div.table(parent_path)[rec[fk]]
        if parent["Status"] == 50:
            raise _bad("A processed entry cannot be changed.")
        del div.table(path)[rec["ID"]]
        if not div.children(path, fk, parent[fk]):
            # Deleting the last line removes the entire entry (FACTS §2, ossobv).
            del div.table(parent_path)[parent[fk]]
            pes = SETS[parent_path]
            return [(pes.topic, "Delete", pes, parent[fk])]
        self._recalculate_entry(div, parent_path, parent)
        return []

    def _delete_salesentry_salesentrylines(self, div, rec):
        return self._delete_line(div, rec, "salesentry/SalesEntryLines")

    def _delete_purchaseentry_purchaseentrylines(self, div, rec):
        return self._delete_line(div, rec, "purchaseentry/PurchaseEntryLines")

    # Sales invoices (FACTS §2, §3)
    def _create_salesinvoice_salesinvoices(self, div: Division, data: dict) -> dict:
        journal = self._journal(div, data.get("Journal"), (20,), "sales", "Journal")
        ordered_by = self._account(div, data.get("OrderedBy"), "OrderedBy")
        invoice_type = data.get("Type") or 8020
        if invoice_type in (8023, 8024):
            raise _bad(f"Type: {invoice_type} (direct sales invoice/credit note) is not available in this edition.")
        if invoice_type not in (8020, 8021):
            raise _bad(f"Type: invalid value {invoice_type}; expected 8020 or 8021.")
        if data.get("Warehouse") is not None:
            raise _bad("Warehouse: cannot be set for a normal sales invoice or credit note.")
        status = data.get("Status") or 20
        if status not in (10, 20):
            raise _bad(f"Status: invalid value {status} for a new invoice; expected 10 or 20.")
        lines_in = data.get("SalesInvoiceLines")
        if not lines_in:
            raise _bad("Mandatory: SalesInvoiceLines")
        for name in ("InvoiceTo", "DeliverTo"):
            if data.get(name) is not None:
                self._account(div, data[name], name)
        invoice_date = data.get("InvoiceDate") or datetime.combine(self.now().date(), datetime.min.time())
        lines = []
        for n, line in enumerate(lines_in, start=1):
            item = div.table("logistics/Items").get(line.get("Item") or "")
            if item is None:
                raise _bad(f"Mandatory: Item (line {n}): an existing item is required.")
            quantity = line.get("Quantity") if line.get("Quantity") is not None else Decimal("1")
            price = line.get("NetPrice") if line.get("NetPrice") is not None else line.get("UnitPrice")
            if price is None:
                price = item["StandardSalesPrice"] or Decimal("0")
            if price < 0:
                raise _bad("Exact can't handle a negative selling price: use a negative quantity and a positive "
                           "price.")
            gl = self._gl_account(div, line.get("GLAccount") or item["GLRevenue"])
            if gl["Type"] in CONTROL_GL_TYPES:
                raise _bad(f"Invalid: G/L account type ({gl['Code']} {gl['TypeDescription']})")
            vat = self._vat_code(div, line.get("VATCode") or item["SalesVatCode"] or "0")
            amount = _q2(quantity * price)
            vat_amount = _q2(amount * vat["Percentage"])
            center = self._code_ref(div, "hrm/Costcenters", line.get("CostCenter"), "CostCenter")
            unit = self._code_ref(div, "hrm/Costunits", line.get("CostUnit"), "CostUnit")
            lines.append({
                "LineNumber": n, "Item": item["ID"], "ItemCode": item["Code"], "ItemDescription": item["Description"],
                "Description": line.get("Description") or item["Description"], "Quantity": quantity,
                "UnitPrice": line.get("UnitPrice") if line.get("UnitPrice") is not None else price, "NetPrice": price,
                "AmountFC": amount, "AmountDC": amount, "VATAmountFC": vat_amount, "VATAmountDC": vat_amount,
                "VATCode": vat["Code"], "VATCodeDescription": vat["Description"], "VATPercentage": vat["Percentage"],
                "GLAccount": gl["ID"], "GLAccountCode": gl["Code"], "CostCenter": center and center["Code"],
                "CostUnit": unit and unit["Code"], "DeliveryDate": line.get("DeliveryDate"),
                "UnitCode": line.get("UnitCode") or item["Unit"], "Notes": line.get("Notes")})
        net = sum((ln["AmountFC"] for ln in lines), Decimal("0"))
        vat_total = sum((ln["VATAmountFC"] for ln in lines), Decimal("0"))
        table = div.table("salesinvoice/SalesInvoices")
        used = {r["InvoiceNumber"] for r in table.values()}
        # Invoice numbers come from the journal's free numbers, shared with its sales entries.
        number = self._next_number(div, journal["Code"], invoice_date.year, None, used)
        order_number = data.get("OrderNumber") or max((r["OrderNumber"] or 0 for r in table.values()), default=0) + 1
        header = {k: v for k, v in data.items() if k in SETS["salesinvoice/SalesInvoices"].fields}
        header.update({
            "InvoiceNumber": number, "OrderNumber": order_number, "Type": invoice_type,
            "TypeDescription": {8020: "Sales invoice", 8021: "Sales credit note"}[invoice_type],
            "Journal": journal["Code"], "JournalDescription": journal["Description"], "OrderedByName": ordered_by["Name"],
            "InvoiceTo": data.get("InvoiceTo") or ordered_by["ID"], "DeliverTo": data.get("DeliverTo") or ordered_by["ID"],
            "InvoiceDate": invoice_date, "OrderDate": data.get("OrderDate") or invoice_date,
            "DueDate": data.get("DueDate") or invoice_date + timedelta(days=30),
            "Currency": data.get("Currency") or div.currency, "AmountFC": net + vat_total, "AmountDC": net + vat_total,
            "VATAmountFC": vat_total, "VATAmountDC": vat_total, "Status": status,
            "StatusDescription": {10: "Draft", 20: "Open"}[status]})
        rec = self._insert(div, "salesinvoice/SalesInvoices", header)
        for line in lines:
            self._insert(div, "salesinvoice/SalesInvoiceLines", {**line, "InvoiceID": rec["InvoiceID"]})
        return rec

    def _update_salesinvoice_salesinvoices(self, div: Division, rec: dict, data: dict) -> None:
        for name in ("Journal", "OrderedBy"):
            if name in data:
                raise _bad(f"{name}: cannot be changed on an existing invoice; leave it out of the PUT.")
        if rec["Status"] == 50:
            raise _bad("A processed invoice cannot be changed.")
        if data.get("Status") not in (None, 10, 20):
            raise _bad("Status: process an invoice through PrintedSalesInvoices.")
        for name in ("Type", "Warehouse"):
            data.pop(name, None)
        rec.update(data)

    def _delete_salesinvoice_salesinvoices(self, div: Division, rec: dict) -> None:
        if rec["Status"] == 50:
            raise _bad("A processed invoice cannot be deleted.")
        for line in div.children("salesinvoice/SalesInvoiceLines", "InvoiceID", rec["InvoiceID"]):
            del div.table("salesinvoice/SalesInvoiceLines")[line["ID"]]
        del div.table("salesinvoice/SalesInvoices")[rec["InvoiceID"]]

    def _create_salesinvoice_printedsalesinvoices(self, div: Division, data: dict) -> dict:
        invoice = div.table("salesinvoice/SalesInvoices").get(data.get("InvoiceID") or "")
        if invoice is None:
            raise _bad("Mandatory: InvoiceID (an existing sales invoice)")
        if invoice["Status"] == 50:
            raise _bad("The invoice has already been processed.")
        invoice.update({"Status": 50, "StatusDescription": "Processed", "Modified": self.now()})
        self._pending_events.append(("SalesInvoices", "Update", SETS["salesinvoice/SalesInvoices"],
                                     invoice["InvoiceID"]))
        return {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"],
                "SendEmailToCustomer": bool(data.get("SendEmailToCustomer")),
                "SendOutputBasedOnAccount": bool(data.get("SendOutputBasedOnAccount")), "Division": div.code}

    # Bank entries: opening balance plus the lines equals the closing balance.
    def _journal_balance(self, div: Division, journal_code: str) -> Decimal:
        total = Decimal("0")
        for entry in div.table("financialtransaction/BankEntries").values():
            if entry["JournalCode"] == journal_code:
                total += sum((ln["AmountFC"] for ln in div.children("financialtransaction/BankEntryLines", "EntryID",
                                                                       entry["EntryID"])), Decimal("0"))
        return total

    def _bank_line(self, div: Division, line: dict, n: int, journal: dict, rate: Decimal) -> dict:
        if line.get("AmountFC") is None:
            raise _bad(f"Mandatory: AmountFC (line {n})")
        gl = self._gl_account(div, line.get("GLAccount"))
        if gl["ID"] == journal["GLAccount"]:
            raise _bad(f"GLAccount: {gl['Code']} is the G/L account of journal {journal['Code']} itself.")
        account = self._account(div, line["Account"], "Account") if line.get("Account") else None
        if line.get("OurRef") is not None:
            match = [e for path, party in (("salesentry/SalesEntries", "Customer"),
                                           ("purchaseentry/PurchaseEntries", "Supplier"))
                     for e in div.table(path).values()
                     if e["InvoiceNumber"] == line["OurRef"] and (account is None or e[party] == account["ID"])]
            if not match:
                raise _bad(f"OurRef: no invoice {line['OurRef']} for this account.")
        vat = self._vat_code(div, line["VATCode"]) if line.get("VATCode") is not None else None
        center = self._code_ref(div, "hrm/Costcenters", line.get("CostCenter"), "CostCenter")
        unit = self._code_ref(div, "hrm/Costunits", line.get("CostUnit"), "CostUnit")
        amount = line["AmountFC"]
        return {
            "LineNumber": n, "Account": account and account["ID"], "AccountCode": account and account["Code"],
            "AccountName": account and account["Name"], "AmountFC": amount, "AmountDC": _q2(amount * rate),
            "AmountVATFC": line.get("AmountVATFC"),
            "Date": line.get("Date") or datetime.combine(self.now().date(), datetime.min.time()),
            "Description": line.get("Description"), "GLAccount": gl["ID"], "GLAccountCode": gl["Code"],
            "GLAccountDescription": gl["Description"], "OurRef": line.get("OurRef"),
            "CostCenter": center and center["Code"], "CostUnit": unit and unit["Code"],
            "VATCode": vat and vat["Code"], "VATPercentage": vat and vat["Percentage"], "Quantity": line.get("Quantity"),
            "ExchangeRate": rate, "Document": line.get("Document"), "Notes": line.get("Notes")}

    def _create_financialtransaction_bankentries(self, div: Division, data: dict) -> dict:
        journal = self._journal(div, data.get("JournalCode"), (12,), "bank", "JournalCode")
        lines_in = data.get("BankEntryLines")
        if not lines_in:
            raise _bad("Mandatory: BankEntryLines")
        currency = data.get("Currency") or journal["Currency"]
        if currency != journal["Currency"]:
            raise _bad(f"Currency: journal {journal['Code']} only allows {journal['Currency']}.")
        lines = [self._bank_line(div, line, n, journal, Decimal("1")) for n, line in enumerate(lines_in, start=1)]
        movement = sum((ln["AmountFC"] for ln in lines), Decimal("0"))
        opening = data.get("OpeningBalanceFC")
        closing = data.get("ClosingBalanceFC")
        if opening is None:
            opening = closing - movement if closing is not None else self._journal_balance(div, journal["Code"])
        if closing is None:
            closing = opening + movement
        if opening + movement != closing:
            raise _bad(f"The opening balance ({opening}) plus the lines ({movement}) does not equal the closing "
                       f"balance ({closing}).")
        first = lines[0]["Date"]
        used = {r["EntryNumber"] for r in div.table("financialtransaction/BankEntries").values()
                if r["JournalCode"] == journal["Code"]}
        number = self._next_number(div, journal["Code"], data.get("FinancialYear") or first.year,
                                   data.get("EntryNumber"), used)
        rec = self._insert(div, "financialtransaction/BankEntries", {
            "EntryNumber": number, "JournalCode": journal["Code"], "JournalDescription": journal["Description"],
            "Currency": currency, "OpeningBalanceFC": opening, "ClosingBalanceFC": closing,
            "FinancialPeriod": data.get("FinancialPeriod") or first.month,
            "FinancialYear": data.get("FinancialYear") or first.year, "Status": 20, "StatusDescription": "Open",
            "BankStatementDocument": data.get("BankStatementDocument")})
        for line in lines:
            self._insert(div, "financialtransaction/BankEntryLines",
                         {**line, "EntryID": rec["EntryID"], "EntryNumber": number})
        return rec

    def _create_financialtransaction_bankentrylines(self, div: Division, data: dict) -> dict:
        entry = div.table("financialtransaction/BankEntries").get(data.get("EntryID") or "")
        if entry is None:
            raise _bad("Mandatory: EntryID (an existing bank entry)")
        journal = div.find("financial/Journals", "Code", entry["JournalCode"])
        existing = div.children("financialtransaction/BankEntryLines", "EntryID", entry["EntryID"])
        line = self._bank_line(div, data, len(existing) + 1, journal, Decimal("1"))
        rec = self._insert(div, "financialtransaction/BankEntryLines",
                           {**line, "EntryID": entry["EntryID"], "EntryNumber": entry["EntryNumber"]})
        entry["ClosingBalanceFC"] = entry["ClosingBalanceFC"] + line["AmountFC"]
        return rec

    def _delete_financialtransaction_bankentries(self, div: Division, rec: dict) -> None:
        if rec["Status"] == 50:
            raise _bad("A processed entry cannot be deleted.")
        for line in div.children("financialtransaction/BankEntryLines", "EntryID", rec["EntryID"]):
            del div.table("financialtransaction/BankEntryLines")[line["ID"]]
        del div.table("financialtransaction/BankEntries")[rec["EntryID"]]

    # Stock counts (FACTS §2 "Stock")
    def _create_inventory_stockcounts(self, div: Division, data: dict) -> dict:
        if data.get("StockCountDate") is None:
            raise _bad("Mandatory: StockCountDate")
        warehouse = div.table("inventory/Warehouses").get(data.get("Warehouse") or "")
        if warehouse is None:
            raise _bad("Mandatory: Warehouse (an existing warehouse)")
        lines_in = data.get("StockCountLines")
        if not lines_in:
            raise _bad("Mandatory: StockCountLines")
        status = data.get("Status") or 12
        if status not in (12, 21):
            raise _bad(f"Status: invalid value {status}; expected 12 (draft) or 21 (processed).")
        lines = []
        for n, line in enumerate(lines_in, start=1):
            item = div.table("logistics/Items").get(line.get("Item") or "")
            if item is None:
                raise _bad(f"Mandatory: Item (line {n}): an existing item is required.")
            if not item["IsStockItem"]:
                raise _bad(f"Item {item['Code']} is not a stock item.")
            in_stock = self._stock_of(div, item["ID"], warehouse["ID"])
            new, diff = line.get("QuantityNew"), line.get("QuantityDifference")
            if new is None and diff is None:
                raise _bad(f"Mandatory: QuantityNew or QuantityDifference (line {n})")
            if new is not None and diff is not None and new - in_stock != diff:
                raise _bad(f"QuantityNew and QuantityDifference disagree (line {n}).")
            if new is None:
                new = in_stock + diff
            lines.append({"LineNumber": n, "Item": item["ID"], "ItemCode": item["Code"],
                          "ItemDescription": item["Description"], "QuantityInStock": in_stock, "QuantityNew": new,
                          "QuantityDifference": new - in_stock, "StorageLocation": line.get("StorageLocation"),
                          "ReasonCode": line.get("ReasonCode")})
        number = max((r["StockCountNumber"] for r in div.table("inventory/StockCounts").values()), default=0) + 1
        rec = self._insert(div, "inventory/StockCounts", {
            "StockCountNumber": number, "StockCountDate": data["StockCountDate"], "Description": data.get("Description"),
            "Status": 12, "Source": data.get("Source") or 4, "Warehouse": warehouse["ID"],
            "WarehouseCode": warehouse["Code"], "WarehouseDescription": warehouse["Description"]})
        for line in lines:
            self._insert(div, "inventory/StockCountLines", {**line, "StockCountID": rec["StockCountID"]})
        if status == 21:
            self._process_stock_count(div, rec)
        return rec

    def _stock_of(self, div: Division, item_id: str, warehouse_id: str) -> Decimal:
        for rec in div.table("inventory/ItemWarehouses").values():
            if rec["Item"] == item_id and rec["Warehouse"] == warehouse_id:
                return rec["CurrentStock"] or Decimal("0")
        return Decimal("0")

    def _process_stock_count(self, div: Division, count: dict) -> None:
        events = []
        for line in div.children("inventory/StockCountLines", "StockCountID", count["StockCountID"]):
            item = div.table("logistics/Items")[line["Item"]]
            self._set_stock(div, item, line["QuantityNew"])
            events.append(("StockPositions", "Update", SETS["logistics/Items"], item["ID"]))
        count.update({"Status": 21, "Modified": self.now()})
        self._pending_events += events

    def _create_inventory_processstockcount(self, div: Division, data: dict) -> dict:
        count = div.table("inventory/StockCounts").get(data.get("StockCountID") or "")
        if count is None:
            raise _bad("Mandatory: StockCountID (an existing stock count)")
        if count["Status"] == 21:
            return {"StockCountID": count["StockCountID"], "SuccessMessage": None,
                    "ErrorMessage": "The stock count has already been processed."}
        self._process_stock_count(div, count)
        return {"StockCountID": count["StockCountID"], "SuccessMessage": "The stock count has been processed.",
                "ErrorMessage": None}

    def _delete_inventory_stockcounts(self, div: Division, rec: dict) -> None:
        if rec["Status"] == 21:
            raise _bad("A processed stock count cannot be deleted.")
        for line in div.children("inventory/StockCountLines", "StockCountID", rec["StockCountID"]):
            del div.table("inventory/StockCountLines")[line["ID"]]
        del div.table("inventory/StockCounts")[rec["StockCountID"]]

    # Webhook subscriptions (FACTS §6)
    def _create_webhooks_webhooksubscriptions(self, div: Division, data: dict) -> dict:
        url, topic = data.get("CallbackURL"), data.get("Topic")
        if not url:
            raise _bad("Mandatory: CallbackURL")
        if not topic:
            raise _bad("Mandatory: Topic")
        if topic not in WEBHOOK_TOPICS:
            raise _bad(f"Topic: '{topic}' is not a valid webhook topic.")
        parts = urlsplit(url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        # Exact only calls HTTPS callbacks; the sandbox also calls plain HTTP on loopback for local receivers.
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise _bad("CallbackURL: the callback must use HTTPS.")
        for other in div.table("webhooks/WebhookSubscriptions").values():
            if other["CallbackURL"] == url and other["Topic"] == topic:
                raise _bad(f"A subscription for topic {topic} on this callback URL already exists.")
        rec = self._insert(div, "webhooks/WebhookSubscriptions", {
            "CallbackURL": url, "Topic": topic, "Description": data.get("Description"),
            "ClientID": next(iter(self.clients)), "UserID": self.user_id})
        # Roughly a second after the subscription, Exact sends an empty POST to validate the callback.
        self._enqueue(_Job(url, b"", "validation", {"subscription": rec["ID"], "topic": topic}))
        return rec

    def _delete_webhooks_webhooksubscriptions(self, div: Division, rec: dict) -> None:
        del div.table("webhooks/WebhookSubscriptions")[rec["ID"]]

    # ---- webhook delivery ------------------------------------------------------------------------
    def _emit(self, division: int, topic: str, action: str, key: str, endpoint: str) -> None:
        with self.lock:
            subs = [s for s in self.divisions[division].table("webhooks/WebhookSubscriptions").values()
                    if s["Topic"] == topic]
        for sub in subs:
            content = dumps({"Topic": topic, "ClientId": sub["ClientID"], "Division": division, "Action": action,
                             "Key": key, "ExactOnlineEndpoint": endpoint,
                             "EventCreatedOn": self.now().isoformat(timespec="milliseconds")}).encode()
            body = b'{"Content":' + content + b',"HashCode":"' + self.sign(content).encode() + b'"}'
            self._enqueue(_Job(sub["CallbackURL"], body, "event",
                               {"subscription": sub["ID"], "topic": topic, "action": action, "key": key}))

    def sign(self, content: bytes) -> str:
        """Exact's HashCode: uppercase hex HMAC-SHA256 of the raw Content JSON with the webhook secret."""
        return hmac.new(self.webhook_secret.encode(), content, hashlib.sha256).hexdigest().upper()

    def _enqueue(self, job: _Job) -> None:
        with self.lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._deliver_loop, name="exact-webhooks", daemon=True)
                self._worker.start()
        self._jobs.put(job)

    def _deliver_loop(self) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            job = self._jobs.get()
            if job.kind == "validation" and self.webhook_validation_delay_s > 0:
                threading.Event().wait(self.webhook_validation_delay_s)
            record = {"url": job.url, "kind": job.kind, "body": job.body, "status": None, "error": None, **job.meta}
            try:
                headers = {"Content-Type": "application/json"} if job.body else {}
                request = urllib.request.Request(job.url, data=job.body, method="POST", headers=headers)
                with opener.open(request, timeout=self.options.webhook_timeout_s) as response:
                    record["status"] = response.status
            except urllib.error.HTTPError as exc:
                record["status"] = exc.code
                record["error"] = f"HTTP {exc.code}"
            except Exception as exc:  # a dead receiver must not take the emulator down
                record["error"] = f"{type(exc).__name__}: {exc}"
            with self._delivered:
                self.deliveries.append(record)
                self._delivered.notify_all()

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block (real time) until at least `count` delivery attempts finished; returns them all."""
        with self._delivered:
            self._delivered.wait_for(lambda: len(self.deliveries) >= count, timeout=timeout)
            return list(self.deliveries)

    # ---- seeding and inspection ------------------------------------------------------------------
    def create(self, resource: str, body: dict, division: int | None = None) -> dict:
        """Create a record as a POST would (same validation, webhooks included) without HTTP or quota."""
        path = self._resolve(resource)
        es = SETS[path]
        if "POST" not in es.methods:
            raise ValueError(f"{path} cannot be created")
        division = division or self.division
        with self.lock:
            rec, events = self._create(es, self.divisions[division], coerce_body(es, loads(dumps(body)), "POST"))
            stored = dict(rec)
        for topic, action, event_es, event_key in events:
            self._emit(division, topic, action, event_key,
                       f"{self.api_root}/{division}/{event_es.path}(guid'{event_key}')")
        return stored

    def _resolve(self, resource: str) -> str:
        if resource in SETS:
            return resource
        matches = [p for p in SETS if p.rsplit("/", 1)[1].lower() == resource.lower()]
        if len(matches) != 1:
            raise KeyError(f"unknown Exact resource {resource!r}")
        return matches[0]

    def records(self, resource: str, division: int | None = None) -> list[dict]:
        """Copies of the stored records of an entity set (e.g. 'SalesEntries'); headers carry their lines."""
        path = self._resolve(resource)
        es = SETS[path]
        with self.lock:
            div = self.div(division)
            out = []
            for rec in div.table(path).values():
                row = dict(rec)
                for nav, (child_path, fk) in es.nav.items():
                    row[nav] = [dict(r) for r in div.children(child_path, fk, rec[es.key])]
                out.append(row)
            return out

    @property
    def accounts(self) -> list[dict]:
        return self.records("crm/Accounts")

    @property
    def sales_entries(self) -> list[dict]:
        return self.records("salesentry/SalesEntries")

    @property
    def purchase_entries(self) -> list[dict]:
        return self.records("purchaseentry/PurchaseEntries")

    @property
    def sales_invoices(self) -> list[dict]:
        return self.records("salesinvoice/SalesInvoices")

    @property
    def bank_entries(self) -> list[dict]:
        return self.records("financialtransaction/BankEntries")

    @property
    def stock_counts(self) -> list[dict]:
        return self.records("inventory/StockCounts")

    @property
    def items(self) -> list[dict]:
        return self.records("logistics/Items")

    @property
    def webhook_subscriptions(self) -> list[dict]:
        return self.records("webhooks/WebhookSubscriptions")

    def count_where(self, resource: str, **values: Any) -> int:
        return sum(1 for rec in self.records(resource) if all(rec.get(k) == v for k, v in values.items()))

    def count_by_your_ref(self, resource: str, your_ref: str) -> int:
        """How many documents carry this YourRef. BankEntries have no YourRef: their lines' Description counts."""
        path = self._resolve(resource)
        if "YourRef" in SETS[path].fields:
            return self.count_where(path, YourRef=your_ref)
        nav = next(iter(SETS[path].nav), None)
        return sum(1 for rec in self.records(path) if nav and any(ln.get("Description") == your_ref for ln in rec[nav]))

    def gl_code(self, guid: str, division: int | None = None) -> str:
        with self.lock:
            return self.div(division).table("financial/GLAccounts")[guid]["Code"]

    def gl_id(self, code: str, division: int | None = None) -> str:
        with self.lock:
            return self.div(division).find("financial/GLAccounts", "Code", code)["ID"]

    def stock(self, item_code: str, division: int | None = None) -> Decimal:
        with self.lock:
            div = self.div(division)
            item = div.find("logistics/Items", "Code", item_code)
            return item["Stock"] if item else Decimal("0")

    def trial_balance(self, division: int | None = None) -> dict[str, Decimal]:
        """G/L balances in the division currency by account code, debit positive (open entries count)."""
        with self.lock:
            div = self.div(division)
            gls = div.table("financial/GLAccounts")
            by_type = lambda t: next(r["Code"] for r in gls.values() if r["Type"] == t)  # noqa: E731
            vat_gl = {r["Code"]: (r["GLToPayCode"], r["GLToClaimCode"]) for r in div.table("vat/VATCodes").values()}
            out: dict[str, Decimal] = defaultdict(Decimal)

            def post(path: str, control: str, sign: int, nav: str) -> None:
                for e in div.table(path).values():
                    if path == "salesinvoice/SalesInvoices" and e["Status"] != 50:
                        continue
                    fk = SETS[path].key
                    out[control] += sign * e["AmountDC"]
                    for ln in div.children(SETS[path].nav[nav][0], fk, e[fk]):
                        out[ln["GLAccountCode"]] -= sign * ln["AmountDC"]
                        if ln["VATAmountDC"]:
                            pay, claim = vat_gl.get(ln["VATCode"], (None, None))
                            out[(pay if sign > 0 else claim) or "1500"] -= sign * ln["VATAmountDC"]

            post("salesentry/SalesEntries", by_type(20), 1, "SalesEntryLines")
            post("salesinvoice/SalesInvoices", by_type(20), 1, "SalesInvoiceLines")
            post("purchaseentry/PurchaseEntries", by_type(22), -1, "PurchaseEntryLines")
            for e in div.table("financialtransaction/BankEntries").values():
                journal = div.find("financial/Journals", "Code", e["JournalCode"])
                for ln in div.children("financialtransaction/BankEntryLines", "EntryID", e["EntryID"]):
                    out[journal["GLAccountCode"]] += ln["AmountDC"]
                    out[ln["GLAccountCode"]] -= ln["AmountDC"]
            return {code: amount for code, amount in out.items()}

    def gl_balance(self, code: str, division: int | None = None) -> Decimal:
        return self.trial_balance(division).get(code, Decimal("0"))


def _json_value(value: Any, edm: str) -> Any:
    if value is None:
        return None
    if edm == DT:
        return exact_date(value)
    return value


def _seller_skus(options) -> list[Any] | None:
    """The synthetic seller's SKUs, when the seller module is there (it is optional for this emulator)."""
    start, days = getattr(options, "seller_start", None), getattr(options, "seller_days", None)
    return _cached_seller_skus(options.seed, start, days)


@lru_cache(maxsize=8)
def _cached_seller_skus(seed: int, start: date | None, days: int | None) -> list[Any] | None:
    try:
        from walmart_accounting.sandbox.seller import SyntheticSeller  # type: ignore[import-not-found]
    except Exception:
        return None
    attempts = [lambda: SyntheticSeller(seed)]
    if start is not None and days is not None:
        attempts.insert(0, lambda: SyntheticSeller(seed, start, days))
    for make in attempts:
        try:
            return list(make().skus)
        except Exception:
            continue
    return None


# --------------------------------------------------------------------------------------------------
# ASGI app


def _accepts_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept or request.query_params.get("$format", "").lower() == "json"


_XML_NOTE = ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
             "<title>This sandbox, like Exact Online, answers in Atom XML unless the request sends "
             "Accept: application/json</title></feed>")


def build_exact_app(options, items: Iterable[Any] | None = None) -> Starlette:
    """The Exact Online emulator as an ASGI app; its state is `app.state.exact` (an ExactState)."""
    state = ExactState(options, items)

    async def auth(request: Request) -> Response:
        return state.authorize(dict(request.query_params))

    async def token(request: Request) -> Response:
        ctype = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            return state._oauth_error(400, "invalid_request", "The request must be form-encoded.")
        try:  # python-multipart is not a dependency; a token request is a plain urlencoded form
            form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return state._oauth_error(400, "invalid_request", "The request body is not valid UTF-8.")
        return state.token(form)

    async def api(request: Request) -> Response:
        body = await request.body()
        # request.base_url is the outermost app's root; the API root must include the mount (/exact).
        api_root = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}/api/v1"
        state.api_root = api_root
        response = state.handle_api(request.method, request.path_params["rest"], dict(request.query_params),
                                    request.headers, body, api_root)
        if state.require_json_accept and not _accepts_json(request) and response.status_code != 204:
            xml = Response(_XML_NOTE, status_code=response.status_code, media_type="application/atom+xml")
            for name, value in response.headers.items():
                if name.lower().startswith("x-ratelimit") or name.lower() == "reason":
                    xml.headers[name] = value
            return xml
        return response

    app = Starlette(routes=[
        Route("/api/oauth2/auth", auth, methods=["GET"]),
        Route("/api/oauth2/token", token, methods=["POST"]),
        Route("/api/v1/{rest:path}", api, methods=["GET", "POST", "PUT", "DELETE"]),
    ])
    app.state.exact = state
    return app
