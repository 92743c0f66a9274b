"""The Accounting API's plumbing: error payloads, batches with summarizeErrors, where/order/If-Modified-Since, paging."""

from __future__ import annotations

from typing import Any, Callable

from walmart_accounting.sandbox.xero.query import apply_order, compile_where
from walmart_accounting.sandbox.xero.state import XeroState
from walmart_accounting.sandbox.xero.values import NOT_FOUND_TEXT, ZERO_GUID, BadValue, _get, _is_guid
from walmart_accounting.sandbox.xero.wire import Result, parse_instant


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


class AccountingBase:
    """What every resource handler of /api.xro/2.0 builds on; the resource families are mixins of it."""

    def __init__(self, state: XeroState):
        self.s = state

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

    def _find_doc(self, kind: str, key: str) -> dict | None:
        docs = self.s.docs(kind)
        if _is_guid(key):
            return docs.get(key.lower())
        return self.s.doc_by_number(kind, key)
