"""Xero's `where` and `order` language: the classic System.Linq.Dynamic grammar, typechecked and evaluated."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from walmart_accounting.sandbox.xero.values import _is_guid


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
             "InventoryAssetAccountCode": "String", "QuantityOnHand": "Decimal", "TotalCostPool": "Decimal",
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
