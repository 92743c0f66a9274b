"""build_xero_app: the Starlette app, and the /api route that checks bearer, tenant, scope and limits."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Iterable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from walmart_accounting.sandbox.options import SandboxOptions
from walmart_accounting.sandbox.xero.accounting import Accounting
from walmart_accounting.sandbox.xero.auth import auth_routes, connections
from walmart_accounting.sandbox.xero.limits import IDEMPOTENCY_KEY_MAX
from walmart_accounting.sandbox.xero.state import XeroState
from walmart_accounting.sandbox.xero.values import NOT_FOUND_TEXT
from walmart_accounting.sandbox.xero.wire import Result, _json, to_xml


def build_xero_app(options: SandboxOptions | None = None, items: Iterable[tuple[str, str, Any]] | None = None) -> Starlette:
    """The Xero emulator as an ASGI app; its state (books, tokens, limits) is `app.state.xero`.

    `items`: (code, name, unit price) to seed the price list with; by default the synthetic seller's SKUs.
    """
    options = options or SandboxOptions()
    state = XeroState(options, items)
    accounting = Accounting(state)

    async def api(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        segments = [p for p in path.split("/") if p]
        low = [p.lower() for p in segments]
        access, problem = state.check_bearer(request.headers.get("authorization", ""))
        if problem is not None:
            return _json(401, problem, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if low[:1] == ["connections"]:
            return connections(state, request.method, segments[1:], request.query_params, access)
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

                def work() -> Result:
                    return accounting.handle(method, segments[2:], query, headers_in, body)

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
        *auth_routes(state),
        Route("/api/{path:path}", api, methods=["GET", "PUT", "POST", "DELETE"]),
    ])
    app.state.xero = state
    return app
