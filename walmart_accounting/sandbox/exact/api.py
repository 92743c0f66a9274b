"""The REST entry point: authentication and quotas, resource dispatch, listing and paging, rendering, CRUD dispatch."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cmp_to_key
from typing import Any
from urllib.parse import quote, urlencode

from starlette.responses import Response

from walmart_accounting.domain.jsonmoney import loads
from walmart_accounting.sandbox.exact.coerce import _guid, coerce_body
from walmart_accounting.sandbox.exact.model import (
    DT,
    EPOCH,
    Division,
    EntitySet,
    G,
    ODataError,
    S,
    _bad,
    error_response,
    exact_date,
    json_response,
)
from walmart_accounting.sandbox.exact.odata import Selection, _ordinal, build_selection, odata_literal, parse_query
from walmart_accounting.sandbox.exact.sets import ME_FIELDS, SETS
from walmart_accounting.sandbox.exact.transactions import TRANSACTION_LINES

PAGE_SIZE = 60  # CRUD endpoints return at most 60 rows per response


class ApiMixin:
    """Answers /api/v1 requests for :class:`ExactState`; the handlers live in the resource mixins."""

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
                if es.path == TRANSACTION_LINES:  # computed from the entries, never stored
                    rows = self.transaction_lines(div)
                    if key is not None:
                        rows = [r for r in rows if r["ID"] == key]
                        if not rows or tail is not None:
                            raise ODataError(404, f"Resource not found for the segment '{es.entity}'.")
                        sel = build_selection(parse_query(params, es), es)
                        return json_response(200, {"d": self.render(es, rows[0], division, api_root, sel)})
                    if tail == "$count":
                        q = parse_query(params, es)
                        count = sum(1 for r in rows if q.predicate is None or q.predicate(r))
                        return Response(str(count), media_type="text/plain; charset=utf-8")
                    if tail is not None:
                        raise ODataError(404, f"Resource not found for the segment '{tail}'.")
                    return self._list(es, div, rows, params, api_root, division, es.path)
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
            for (_, desc), x, y in zip(sort_fields, a, b, strict=True):
                c = _ordinal(x, y)
                if c:
                    return -c if desc else c
            return 0

        rows = sorted(rows, key=lambda r: cmp_to_key(compare)(sort_key(r)))
        if q.skiptoken is not None:
            token = [str(v).lower() if es.fields.get(n) == G and v is not None else v
                     for (n, _), v in zip(sort_fields, q.skiptoken, strict=True)]
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
            token = ",".join(odata_literal(v, es.fields.get(n, S)) for (n, _), v in zip(sort_fields, last, strict=True))
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


def _json_value(value: Any, edm: str) -> Any:
    if value is None:
        return None
    if edm == DT:
        return exact_date(value)
    return value
