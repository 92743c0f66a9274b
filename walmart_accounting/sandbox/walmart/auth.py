"""The gateway: the token endpoint, the WM_* headers and access token every call needs, and throttling."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.common import FixedWindowLimiter
from walmart_accounting.sandbox.walmart.base import GATEWAY_API, ApiBase, ApiError, json_response

TOKEN_TTL_S = 900  # DOC-TOKEN: access token lifetime 15 minutes

# CHOICE: per-endpoint limits. FACTS section 6: the US numbers are third-party (read the headers at
# runtime); these follow that summary. Keys are "<group>"; override with WalmartState.set_rate_limit().
DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "orders.read": (5000, 60),
    "orders.write": (60, 60),
    "inventory.update": (200, 60),
    "price.update": (100, 3600),
    "feeds.inventory": (10, 3600),
    "feeds.MP_INVENTORY": (10, 3600),
    "feeds.price": (10, 3600),
}

_UNAUTHORIZED_INFO = (
    'Unauthorized token or incorrect authorization header. Please verify correct format: "Authorization: Basic '
    'Base64Encode(clientId:clientSecret)" For more information, see '
    "https://developer.walmart.com/#/apicenter/marketPlace/latest#apiAuthentication."
)
_HEADER_INFO = "One or more request headers are invalid."


def _unauthorized() -> ApiError:
    # Observed live: 401 {"error":[{"code":"UNAUTHORIZED.GMP_GATEWAY_API","field":"UNAUTHORIZED",...}]}
    return ApiError(401, "UNAUTHORIZED.GMP_GATEWAY_API", "UNAUTHORIZED", "Unauthorized", _UNAUTHORIZED_INFO)


def _bad_header(name: str) -> ApiError:
    # Observed: 400 INVALID_REQUEST_HEADER.GMP_GATEWAY_API, field = header, "<header> set blank or null".
    return ApiError(400, "INVALID_REQUEST_HEADER.GMP_GATEWAY_API", name, f"{name} set blank or null", _HEADER_INFO)


class AuthState:
    """Tokens and throttling; mixed into WalmartState (state.py)."""

    # -- tokens ---------------------------------------------------------------------------------------

    def issue_token(self) -> str:
        token = "eyJraWQiOiJzYW5kYm94IiwiZW5jIjoiQTI1NkdDTSIsImFsZyI6ImRpciJ9.." + secrets.token_urlsafe(48)
        now = self.now()
        with self.lock:
            self.tokens[token] = (now, now + TOKEN_TTL_S)
            self.tokens_issued += 1
        return token

    def token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self.lock:
            entry = self.tokens.get(token)
        return entry is not None and self.now() < entry[1]

    # -- throttling -----------------------------------------------------------------------------------

    def set_rate_limit(self, key: str, limit: int, window_s: int) -> None:
        with self.lock:
            self._limiters[key] = FixedWindowLimiter(limit, window_s, self.clock)

    def throttle(self, key: str) -> dict[str, str]:
        """Count one call against `key`; raise 429 when over. Returns the usage headers (DOC-RATE)."""
        with self.lock:
            limiter = self._limiters.get(key)
        if limiter is None or not self.rate_limits_enabled:
            return {}
        result = limiter.hit(key)
        headers = {
            "X-Current-Token-Count": str(result.remaining),
            "X-Next-Replenishment-Time": str(limiter.reset_epoch() * 1000),
        }
        if not result.allowed:
            raise ApiError(
                429, f"REQUEST_THRESHOLD_VIOLATED.{GATEWAY_API}", "REQUEST_THRESHOLD_VIOLATED",
                "Request threshold violated", "Too many requests; retry after the window replenishes.",
                headers=headers,
            )
        return headers


class AuthApi(ApiBase):
    """POST /v3/token, GET /v3/token/detail, and the checks in front of every endpoint."""

    # -- plumbing -------------------------------------------------------------------------------------

    def endpoint(self, handler, *, auth: bool = True, limit: str | Callable[[Request], str | None] | None = None):
        state = self.state

        async def wrapped(request: Request) -> Response:
            try:
                if not request.headers.get("WM_QOS.CORRELATION_ID", "").strip():
                    raise _bad_header("WM_QOS.CORRELATION_ID")
                if not request.headers.get("WM_SVC.NAME", "").strip():
                    raise _bad_header("WM_SVC.NAME")
                if auth and not state.token_valid(request.headers.get("WM_SEC.ACCESS_TOKEN", "").strip()):
                    raise _unauthorized()
                usage: dict[str, str] = {}
                key = limit(request) if callable(limit) else limit
                if key:
                    usage = state.throttle(key)
                response = await handler(request)
                for name, value in usage.items():
                    response.headers[name] = value
                return response
            except ApiError as exc:
                return exc.response()

        return wrapped

    # -- auth -----------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        state = self.state
        header = request.headers.get("Authorization", "")
        creds = None
        if header[:6].lower() == "basic ":
            try:
                creds = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                creds = None
        if creds is None or creds != f"{state.client_id}:{state.client_secret}":
            # Observed: wrong or unknown client credentials answer 400 INVALID_REQUEST_HEADER ... Authorization.
            raise ApiError(400, f"INVALID_REQUEST_HEADER.{GATEWAY_API}", "Authorization",
                           "Incorrect Authorization header", _HEADER_INFO)
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise ApiError(415, f"UNSUPPORTED_MEDIA_TYPE.{GATEWAY_API}", "Content-Type",
                           "Content-Type must be application/x-www-form-urlencoded", "Unsupported media type.")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            # CHOICE: the sandbox seller has no solution-provider app, so only client_credentials is granted.
            raise ApiError(400, f"INVALID_REQUEST.{GATEWAY_API}", "grant_type",
                           f"Unsupported grant_type '{grant}'", "Request invalid.")
        token = state.issue_token()
        accept = request.headers.get("Accept", "").lower()
        if "application/json" in accept:
            return json_response({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_S})
        # CHOICE: JSON only when asked for (DOC-TOKEN: send Accept: application/json to get JSON); a missing,
        # */* or XML Accept gets the spec's application/xml OAuthTokenDTO.
        xml = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f"<OAuthTokenDTO><accessToken>{token}</accessToken><tokenType>Bearer</tokenType>"
            f"<expiresIn>{TOKEN_TTL_S}</expiresIn></OAuthTokenDTO>"
        )
        return Response(xml.encode(), media_type="application/xml")

    async def token_detail(self, request: Request) -> Response:
        token = request.headers.get("WM_SEC.ACCESS_TOKEN", "").strip()
        with self.state.lock:
            issued, expires = self.state.tokens[token]
        areas = ("reports", "item", "price", "lagtime", "feeds", "returns", "orders", "inventory", "content")
        scopes = {area: "full_access" for area in areas}
        return json_response({
            "expire_at": str(int(expires * 1000)), "issued_at": str(int(issued * 1000)),
            "is_valid": True, "is_channel_match": True, "scopes": scopes,
        })
