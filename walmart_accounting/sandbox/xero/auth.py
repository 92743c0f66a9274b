"""OAuth 2.0 and tenancy: authorize, token, revocation and connections endpoints, and the token state behind them."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from walmart_accounting.sandbox.xero.values import NOT_FOUND_TEXT
from walmart_accounting.sandbox.xero.wire import _form, _json

ACCESS_TOKEN_TTL_S = 1800
REFRESH_TOKEN_TTL_S = 60 * 24 * 3600
REFRESH_GRACE_S = 1800
AUTH_CODE_TTL_S = 300


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


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _jwt_like(payload: dict) -> str:
    """Shaped like Xero's RS256 JWTs so clients can read exp/claims; the signature is random bytes."""
    header = {"alg": "RS256", "kid": "sandbox-xero", "typ": "JWT", "x5t": "sandbox-xero"}
    return ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()),
                     _b64url(secrets.token_bytes(64))])


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
    "reports": ("accounting.reports.read", ()),
}


class AuthMixin:
    """XeroState's OAuth side: codes, rotating refresh tokens, bearer checks, scopes; each method takes the lock itself."""

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


# --------------------------------------------------------------------------------------------------
# HTTP endpoints
# --------------------------------------------------------------------------------------------------


def auth_routes(state: AuthMixin) -> list[Route]:
    """/login/identity/connect/authorize, /identity/connect/token and /identity/connect/revocation."""

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

    return [
        Route("/login/identity/connect/authorize", authorize, methods=["GET"]),
        Route("/identity/connect/token", token, methods=["POST"]),
        Route("/identity/connect/revocation", revocation, methods=["POST"]),
    ]


def connections(state: AuthMixin, method: str, rest: list[str], query, access: AccessToken) -> Response:
    """/api/connections: the one tenant this app is connected to (GET), or disconnect it (DELETE)."""
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
