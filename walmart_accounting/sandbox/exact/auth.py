"""OAuth 2 (FACTS §1): authorization codes, 10-minute access tokens and rotating refresh tokens."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode, urlsplit

from starlette.responses import RedirectResponse, Response

from walmart_accounting.sandbox.exact.model import ODataError, json_response

ACCESS_TOKEN_LIFETIME_S = 600  # "expires_in": "600"
EARLY_REFRESH_S = 570  # a refresh before 9 min 30 s after the access token's issue is rejected
AUTH_CODE_LIFETIME_S = 180  # the authorization code works once, for 3 minutes
REFRESH_TOKEN_IDLE_S = 30 * 86400  # an unused refresh token expires after 30 days


class AuthMixin:
    """The authorization and token endpoints and bearer-token checks of :class:`ExactState`."""

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
