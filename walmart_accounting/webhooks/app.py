"""The webhook receiver: an ASGI app that verifies Walmart and Exact deliveries, writes them to the store's inbox and answers at once.

Routes: ``POST /webhooks/walmart``, ``POST /webhooks/walmart/token`` (the OAUTH ``authUrl``),
``POST /webhooks/exact`` and ``GET /healthz``. Anything unverified is 401 and nothing is stored; a body
over the limit is 413; a verified body that is not the sender's JSON is 400; an event already in the inbox
is 200 (so the sender stops retrying) and is not stored again. Acting on the inbox is for the code
location's sensors: the receiver never calls Dagster or a ledger. Settings: :mod:`walmart_accounting.webhooks.settings`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from walmart_accounting.store.store import Store
from walmart_accounting.webhooks import verify
from walmart_accounting.webhooks.settings import EXACT_PATH, WALMART_PATH, WALMART_TOKEN_PATH, WebhookSettings
from walmart_accounting.webhooks.verify import Unverified

log = logging.getLogger("walmart_accounting.webhooks")

# The inbox's column widths (store/models.py WebhookEvent): longer ids would fail on PostgreSQL.
_MAX_EVENT_ID, _MAX_EVENT_TYPE = 128, 64


class _Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _answer(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Unverified as exc:
            log.warning("webhook %s refused (401): %s", request.url.path, exc)
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        except _Refused as exc:
            log.warning("webhook %s refused (%d): %s", request.url.path, exc.status, exc.reason)
            return JSONResponse({"error": exc.reason}, status_code=exc.status)

    return endpoint


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as Content-Length or the bytes streamed so far pass `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise _Refused(400, "malformed Content-Length")
        if int(declared) > limit:
            raise _Refused(413, f"body of {int(declared)} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refused(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _path_and_query(request: Request) -> str:
    # What the sender signed: the path as it was on the wire (still percent-encoded), then the query.
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _json_object(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise _Refused(400, f"{what} is not a JSON object")
    return value


def _id_field(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Refused(400, f"no {name}")
    if len(value) > limit:
        raise _Refused(400, f"{name} longer than {limit} characters")
    return value


def walmart_event(body: bytes) -> tuple[str, str]:
    """(event id, event type) of a Walmart envelope: ``source.eventId`` and ``source.eventType``."""
    source = _json_object(body, "body").get("source")
    if not isinstance(source, dict):
        raise _Refused(400, "no source object")
    return (_id_field(source.get("eventId"), "source.eventId", _MAX_EVENT_ID),
            _id_field(source.get("eventType"), "source.eventType", _MAX_EVENT_TYPE))


def exact_event(content: bytes) -> tuple[str, str]:
    """(event id, event type) of an Exact Content: a hash of what identifies the change (Exact sends no id), and Topic."""
    fields = _json_object(content, "Content")
    topic = _id_field(fields.get("Topic"), "Content.Topic", _MAX_EVENT_TYPE)
    _id_field(fields.get("Key"), "Content.Key", _MAX_EVENT_ID)
    # A redelivery of the same change carries the same fields, so it hashes to the same id.
    identity = "|".join(str(fields.get(k)) for k in ("Division", "Topic", "Key", "Action", "EventCreatedOn"))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest(), topic


class WebhookReceiver:
    """The receiver's endpoints over one store, one settings object and one clock."""

    def __init__(self, settings: WebhookSettings, store: Store, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.store = store
        self.clock = clock

    async def _store(self, source: str, event_id: str, event_type: str, body: bytes) -> Response:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(400, "body is not UTF-8") from None
        try:
            # Synchronous SQLAlchemy: on a worker thread, so the event loop keeps answering.
            stored = await run_in_threadpool(self.store.receive_webhook, source, event_id, event_type, text)
        except Exception as exc:  # the database is down or locked: the sender retries on a non-2xx
            log.error("webhook %s %s %s not stored: %s: %s", source, event_type, event_id, type(exc).__name__,
                      str(getattr(exc, "orig", None) or exc)[:200])
            return JSONResponse({"error": "not stored, retry later"}, status_code=503)
        log.info("webhook %s %s %s %s", source, event_type, event_id, "stored" if stored else "duplicate (already stored)")
        return JSONResponse({"status": "stored" if stored else "duplicate"})

    async def walmart(self, request: Request) -> Response:
        """POST /webhooks/walmart: verify with the subscription's auth method, then store once per eventId."""
        s = self.settings
        header = request.headers.get(s.walmart_auth_header)
        if s.walmart_auth is None:
            raise Unverified("WALMART_WEBHOOK_AUTH is not set")
        if s.walmart_auth == "BASIC_AUTH":
            verify.verify_basic(s, header)
        elif s.walmart_auth == "OAUTH":
            verify.verify_bearer(s, header, self.clock())
        else:
            verify.check_timestamp(s, request.headers, self.clock())  # a stale request is refused unread
        body = await read_body(request, s.max_body_bytes)
        if s.walmart_auth == "HMAC":
            verify.verify_hmac(s, request.method, _path_and_query(request), request.headers, body, self.clock())
        event_id, event_type = walmart_event(body)
        return await self._store("walmart", event_id, event_type, body)

    async def walmart_token(self, request: Request) -> Response:
        """POST /webhooks/walmart/token: the OAUTH authUrl, client credentials in, a short-lived bearer token out."""
        s = self.settings
        if s.walmart_auth != "OAUTH":
            return JSONResponse({"error": "not found"}, status_code=404)
        value = request.headers.get(s.walmart_auth_header) or request.headers.get("authorization")
        try:
            verify.verify_client_credentials(s, value)
        except Unverified as exc:
            log.warning("webhook token request refused (401): %s", exc)
            return JSONResponse({"error": "invalid_client"}, status_code=401, headers={"WWW-Authenticate": "Basic"})
        form = parse_qs((await read_body(request, s.max_body_bytes)).decode("latin-1"))
        if form.get("grant_type") != ["client_credentials"]:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        return JSONResponse(verify.issue_token(s, self.clock()), headers={"Cache-Control": "no-store"})

    async def exact(self, request: Request) -> Response:
        """POST /webhooks/exact: answer the empty validation POST; verify HashCode, then store once per change."""
        s = self.settings
        if not s.exact_secret:
            raise Unverified("EXACT_WEBHOOK_SECRET is not set")
        body = await read_body(request, s.max_body_bytes)
        if not body:
            # Exact's validation request after a subscription is created: answered, nothing stored.
            log.info("webhook exact: validation request answered")
            return JSONResponse({"status": "validated"})
        content = verify.verify_exact(s.exact_secret, body)
        event_id, event_type = exact_event(content)
        return await self._store("exact", event_id, event_type, body)

    async def healthz(self, request: Request) -> Response:
        """GET /healthz: the process answers, and which senders it is configured for."""
        return JSONResponse({"status": "ok", "walmart": self.settings.walmart_auth is not None,
                             "exact": bool(self.settings.exact_secret)})


def build_app(settings: WebhookSettings, store: Store, clock: Callable[[], float] = time.time) -> Starlette:
    """The receiver's ASGI app over `store`; `clock` (epoch seconds) is for the timestamp window and tokens."""
    receiver = WebhookReceiver(settings, store, clock)
    app = Starlette(routes=[
        Route(WALMART_PATH, _answer(receiver.walmart), methods=["POST"]),
        Route(WALMART_TOKEN_PATH, _answer(receiver.walmart_token), methods=["POST"]),
        Route(EXACT_PATH, _answer(receiver.exact), methods=["POST"]),
        Route("/healthz", receiver.healthz, methods=["GET"]),
    ])
    app.state.receiver = receiver
    return app


def serve(settings: WebhookSettings, store: Store, host: str = "127.0.0.1", port: int = 8780) -> None:
    """Run the receiver under uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(build_app(settings, store), host=host, port=port, server_header=False)
