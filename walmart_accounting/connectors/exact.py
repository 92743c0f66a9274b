"""Exact Online REST (OData v3) client: 570 s refresh rule under lock, division, escaped $filter, __next paging, limits."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterator

from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from walmart_accounting.connectors.errors import AuthError
from walmart_accounting.connectors.http import DEFAULT_TIMEOUT, HttpClient, RetryPolicy
from walmart_accounting.connectors.ratelimit import WindowLimiter
from walmart_accounting.connectors.tokens import RefreshingTokens, TokenStore
from walmart_accounting.domain import jsonmoney

log = logging.getLogger("walmart_accounting.exact")

BASE_URL = "https://start.exactonline.nl"
CREDENTIAL_NAME = "exact"
# Tokens live 600 s and may not be refreshed before 570 s: refreshing 30 s before expiry meets both.
REFRESH_MARGIN_S = 30


def _exact_error_text(response) -> tuple[str, str | None]:
    try:
        body = jsonmoney.loads(response.content)
    except ValueError:
        return (response.text.strip()[:500] or response.reason or "no message"), None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        message = err.get("message")
        text = message.get("value") if isinstance(message, dict) else str(message or "")
        return text or str(body)[:500], err.get("code") or None
    if isinstance(body, dict) and body.get("error"):
        return str(body.get("error_description") or body["error"]), str(body["error"])
    return str(body)[:500], None


def _exact_retry_after(response, now: float) -> float:
    """Exact sends no Retry-After on 429: wait until the minutely (or daily) window's reset, given in epoch ms."""
    for header in ("X-RateLimit-Minutely-Reset", "X-RateLimit-Reset"):
        value = response.headers.get(header)
        if value:
            try:
                return max(1.0, int(value) / 1000 - now)
            except ValueError:
                continue
    return 60.0


class ODataLiteral:
    """OData v3 literals; every value goes through here so a quote in a SKU or a name cannot change the query."""

    @staticmethod
    def string(value: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return "'" + value.replace("'", "''") + "'"

    @staticmethod
    def guid(value: str) -> str:
        return f"guid'{uuid.UUID(str(value))}'"  # validates: nothing but a GUID gets through

    @staticmethod
    def datetime(value: date | datetime) -> str:
        text = value.strftime("%Y-%m-%dT%H:%M:%S") if isinstance(value, datetime) else value.isoformat()
        return f"datetime'{text}'"

    @staticmethod
    def number(value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("only integers are written as OData numbers here")
        return str(value)


def eq(field: str, value: Any) -> str:
    """`field eq <literal>`, with the literal chosen by the value's type."""
    if not field.replace("/", "").isidentifier():
        raise ValueError(f"not an OData property name: {field!r}")
    if isinstance(value, uuid.UUID):
        return f"{field} eq {ODataLiteral.guid(str(value))}"
    if isinstance(value, (date, datetime)):
        return f"{field} eq {ODataLiteral.datetime(value)}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{field} eq {ODataLiteral.number(value)}"
    return f"{field} eq {ODataLiteral.string(str(value))}"


def any_of(field: str, values: list[Any]) -> str:
    return " or ".join(eq(field, v) for v in values)


def account_code(code: str) -> str:
    """Exact stores crm/Accounts.Code right-aligned in 18 characters; filters must match that padding."""
    return str(code).strip().rjust(18)


@dataclass(frozen=True)
class ExactPage:
    results: list[dict[str, Any]]
    next_url: str | None


class ExactClient:
    """Speaks Exact Online's REST API for one division; tokens live encrypted in the integration store."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        token_store: TokenStore,
        *,
        base_url: str = BASE_URL,
        division: int | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        per_minute: int = 60,
    ):
        if not client_id or not client_secret:
            raise AuthError("exact", "EXACT_CLIENT_ID and EXACT_CLIENT_SECRET must both be set")
        self._client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/")
        self.http = HttpClient("exact", self.base_url, timeout=timeout, retry=retry, error_parser=_exact_error_text,
                                retry_after=lambda response: _exact_retry_after(response, clock()), sleep=sleep)
        self.limiter = WindowLimiter("exact", per_minute, concurrent=per_minute, clock=clock, sleep=sleep)
        self.tokens = RefreshingTokens(CREDENTIAL_NAME, token_store, self._refresh, clock=clock, margin_s=REFRESH_MARGIN_S)
        self._division = division
        self.clock = clock
        self.sleep = sleep

    def __repr__(self) -> str:
        return f"ExactClient(base_url={self.base_url!r}, division={self._division!r})"

    @property
    def calls(self) -> int:
        return self.http.calls

    # -- OAuth2 ----------------------------------------------------------------------------------

    def _oauth(self, redirect_uri: str | None = None) -> OAuth2Session:
        # Exact reads client_id and client_secret from the form body.
        return OAuth2Session(self._client_id, self._client_secret, redirect_uri=redirect_uri,
                             token_endpoint_auth_method="client_secret_post")

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        url, _ = self._oauth(redirect_uri).create_authorization_url(f"{self.base_url}/api/oauth2/auth", state=state)
        return url

    def connect(self, code: str, redirect_uri: str) -> None:
        """Exchange an authorization code (valid 3 minutes, once) and store the token set."""
        try:
            body = self._oauth(redirect_uri).fetch_token(f"{self.base_url}/api/oauth2/token", code=code,
                                                         grant_type="authorization_code", timeout=self.http.timeout)
        except OAuthError as exc:
            raise AuthError("exact", f"authorization code rejected: {exc.error} {exc.description or ''}".strip(), code=exc.error) from None
        self.tokens.save_new(dict(body))

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        self.http.calls += 1
        try:
            return dict(self._oauth().refresh_token(f"{self.base_url}/api/oauth2/token", refresh_token=refresh_token,
                                                    timeout=self.http.timeout))
        except OAuthError as exc:
            hint = ""
            if "Old refresh token" in (exc.description or ""):
                hint = " (another process used this refresh token; Exact needs new consent: `walmart-accounting connect exact`)"
            elif "not expired" in (exc.description or ""):
                hint = " (Exact refuses refreshes earlier than 570 s after the token was issued)"
            raise AuthError("exact", f"token refresh failed: {exc.error} {exc.description or ''}{hint}".strip(), code=exc.error) from None

    # -- requests --------------------------------------------------------------------------------

    @property
    def division(self) -> int:
        if self._division is None:
            me = self.me()
            self._division = int(me["CurrentDivision"])
        return self._division

    def me(self) -> dict[str, Any]:
        results = self._request("GET", "/api/v1/current/Me", params={"$select": "CurrentDivision,UserID,FullName"})
        rows = (results.get("d") or {}).get("results") or []
        if not rows:
            raise AuthError("exact", "current/Me returned no user")
        return rows[0]

    def _request(self, method: str, path_or_url: str, *, params=None, json_body=None) -> dict[str, Any]:
        correlation = str(uuid.uuid4())
        headers = {"Accept": "application/json"}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            headers["Prefer"] = "return=representation"
        used: dict[str, str] = {}

        def authorise(h: dict[str, str]) -> None:
            used["token"] = self.tokens.access_token()
            h["Authorization"] = f"Bearer {used['token']}"

        body_text = None if json_body is None else jsonmoney.dumps(json_body)
        for attempt in (1, 2):
            try:
                with self.limiter.slot():
                    # Exact counts every 4xx against an hourly error allowance: never retry them blindly.
                    response = self.http.request(method, path_or_url, params=params, headers=headers, data=body_text,
                                                 retry_safe=method == "GET", correlation_id=correlation, before_send=authorise)
                self.limiter.observe(response.headers, "X-RateLimit-Minutely-Remaining", "X-RateLimit-Remaining",
                                     "X-RateLimit-Minutely-Reset")
                return jsonmoney.loads(response.content) if response.content else {}
            except AuthError:
                if attempt == 2:
                    raise
                self.tokens.access_token(rejected=used.get("token"))
        raise AssertionError("unreachable")

    def _division_path(self, resource: str) -> str:
        return f"/api/v1/{self.division}/{resource}"

    def query(self, resource: str, *, filter: str | None = None, select: list[str] | None = None,
              top: int | None = None, orderby: str | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a resource matching an OData filter (build it with eq/any_of), following __next."""
        params: dict[str, str] = {}
        if filter:
            params["$filter"] = filter
        if select:
            params["$select"] = ",".join(select)
        if top is not None:
            params["$top"] = str(top)
        if orderby:
            params["$orderby"] = orderby
        url: str | None = self._division_path(resource)
        query: dict[str, str] | None = params
        while url:
            body = self._request("GET", url, params=query)
            d = body.get("d") or {}
            yield from d.get("results", []) if isinstance(d, dict) else d
            url = d.get("__next") if isinstance(d, dict) else None
            query = None  # __next is absolute and carries its own query

    def create(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST one entity; returns it as Exact stored it (with its GUID)."""
        result = self._request("POST", self._division_path(resource), json_body=body)
        return result.get("d") or {}

    def find_by_your_ref(self, resource: str, your_ref: str, select: list[str]) -> list[dict[str, Any]]:
        """Entities with this YourRef (our document key), looked up before any create."""
        return list(self.query(resource, filter=eq("YourRef", your_ref), select=select))

    def get_by_id(self, resource: str, entity_id: str, select: list[str] | None = None) -> dict[str, Any]:
        params = {"$select": ",".join(select)} if select else None
        path = f"{self._division_path(resource)}({ODataLiteral.guid(entity_id)})"
        return self._request("GET", path, params=params).get("d") or {}

    def delete(self, resource: str, entity_id: str) -> None:
        self._request("DELETE", f"{self._division_path(resource)}({ODataLiteral.guid(entity_id)})")

    def headroom(self) -> dict[str, int | None]:
        return {"minute_remaining": self.limiter.minute_remaining, "day_remaining": self.limiter.day_remaining}


