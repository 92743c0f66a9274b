"""Returns: the list with its filters and paging."""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.walmart.base import RETURNS_API, SELLER_ID, ApiBase, _bad_param, dumps
from walmart_accounting.sandbox.walmart.helpers import (
    _bool_param,
    _cursor,
    _dt_to_ms,
    _int_param,
    _iso_to_ms,
    _parse_time,
    _query,
)

RETURNS_DEFAULT_LIMIT, RETURNS_MAX_LIMIT = 10, 200
RETURN_STATUSES = ("INITIATED", "DELIVERED", "COMPLETED")


def render_return(ret: dict, *, replacement_info: bool) -> dict:
    if replacement_info:
        return ret
    out = dict(ret)
    out.pop("replacementCustomerOrderId", None)
    out.pop("returnType", None)
    lines = []
    for line in ret.get("returnOrderLines") or []:
        line = dict(line)
        line.pop("rechargeReason", None)
        line.pop("returnCancellationReason", None)
        lines.append(line)
    out["returnOrderLines"] = lines
    return out


class ReturnsState:
    """The returns the emulator holds; mixed into WalmartState (state.py)."""

    def _add_return_locked(self, ret: dict) -> None:
        rid = str(ret["returnOrderId"])
        self._returns[rid] = ret
        created = _iso_to_ms(ret.get("returnOrderDate")) or 0
        stamps = [created]
        for line in ret.get("returnOrderLines") or []:
            stamps.append(_iso_to_ms(line.get("statusTime")) or 0)
            for st in line.get("currentTrackingStatuses") or []:
                stamps.append(_iso_to_ms(st.get("statusTime")) or 0)
            for ev in line.get("returnTrackingDetail") or []:
                stamps.append(_iso_to_ms(ev.get("eventTime")) or 0)
        getter = getattr(self.seller, "return_last_modified", None)
        modified = None
        if getter is not None:
            try:
                modified = _dt_to_ms(getter(rid))
            except Exception:  # an injected return the seller does not know
                modified = None
        self._return_created[rid] = created
        self._return_modified[rid] = modified if modified is not None else max(stamps)

    def add_return(self, ret: dict, *, notify: bool = False) -> str:
        with self.lock:
            self._add_return_locked(copy.deepcopy(ret))
        rid = str(ret["returnOrderId"])
        if notify:
            self.emit("RETURN_CREATED", rid)
        return rid


class ReturnsApi(ApiBase):
    """GET /v3/returns."""

    async def list_returns(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        now_ms = state.now_ms()
        limit = _int_param(RETURNS_API, params, "limit", RETURNS_DEFAULT_LIMIT, low=1, high=RETURNS_MAX_LIMIT,
                           high_message=f"limit cannot be larger than {RETURNS_MAX_LIMIT}")
        offset = _int_param(RETURNS_API, params, "offset", 0, low=0)

        def when(name: str) -> int | None:
            raw = params.get(name)
            if raw is None or raw == "":
                return None
            ms = _parse_time(raw, allow_millis=True, allow_offset=True)
            if ms is None:
                raise _bad_param(RETURNS_API, name, f"Invalid date format for {name}: '{raw}'")
            return ms

        c_start, c_end = when("returnCreationStartDate"), when("returnCreationEndDate")
        m_start, m_end = when("returnLastModifiedStartDate"), when("returnLastModifiedEndDate")
        status = params.get("status") or None
        if status is not None and status not in RETURN_STATUSES:
            valid = ", ".join(RETURN_STATUSES)
            raise _bad_param(RETURNS_API, "status", f"Invalid status '{status}'. Valid statuses are: {valid}")
        return_type = params.get("returnType") or None
        if return_type is not None and return_type not in ("REPLACEMENT", "REFUND"):
            raise _bad_param(RETURNS_API, "returnType", f"Invalid returnType '{return_type}'")
        rid, coid = params.get("returnOrderId") or None, params.get("customerOrderId") or None

        with state.lock:
            ordered = sorted(state._returns, key=lambda r: (state._return_created[r], r), reverse=True)
            matches = []
            for r in ordered:
                ret = state._returns[r]
                created, modified = state._return_created[r], state._return_modified[r]
                if created > now_ms:
                    continue
                if rid and r != rid:
                    continue
                if coid and str(ret.get("customerOrderId")) != coid:
                    continue
                if c_start is not None and created < c_start:
                    continue
                if c_end is not None and created > c_end:
                    continue
                if m_start is not None and modified < m_start:
                    continue
                if m_end is not None and modified > m_end:
                    continue
                if return_type and (ret.get("returnType") or "REFUND") != return_type:
                    continue
                if status:
                    lines = ret.get("returnOrderLines") or []
                    found = any(ln.get("status") == status for ln in lines) or any(
                        st.get("status") == status for ln in lines for st in (ln.get("currentTrackingStatuses") or []))
                    if not found:
                        continue
                matches.append(ret)
            total = len(matches)
            replacement_info = _bool_param(params, "replacementInfo")
            page = [render_return(r, replacement_info=replacement_info) for r in matches[offset:offset + limit]]
            meta: dict[str, Any] = {"totalCount": total, "limit": limit}
            if offset + limit < total:
                # Official example: "?sellerId=151&limit=10&offset=10"; the filters ride along so the next page
                # answers the same question.
                keep = ("returnOrderId", "customerOrderId", "status", "replacementInfo", "returnType",
                        "returnCreationStartDate", "returnCreationEndDate",
                        "returnLastModifiedStartDate", "returnLastModifiedEndDate")
                meta["nextCursor"] = _cursor([("sellerId", SELLER_ID), ("limit", limit), ("offset", offset + limit),
                                              *[(k, params.get(k)) for k in keep]])
            body = dumps({"meta": meta, "returnOrders": page})
        return Response(body.encode("utf-8"), media_type="application/json")
