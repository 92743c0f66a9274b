"""The OData query language: the $filter tokenizer and parser, URI literals, and the other query options."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from walmart_accounting.sandbox.exact.model import BOOL, DBL, DT, I32, NUMERIC, EntitySet, G, S, _bad, parse_datetime
from walmart_accounting.sandbox.exact.sets import SETS

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
            fn = (lambda lhs, rhs: lambda rec: bool(lhs(rec)) and bool(rhs(rec)))(left, rfn) if word == "and" else \
                (lambda lhs, rhs: lambda rec: bool(lhs(rec)) or bool(rhs(rec)))(left, rfn)
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
        if len(args) != len(params) or any(not (a[0] == p or a[0] == "null") for a, p in zip(args, params, strict=True)):
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
