"""Xero Accounting API client: OAuth2 with rotating refresh tokens, tenant, batched writes with per-element results, limits."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterator
from urllib.parse import quote

from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from walmart_accounting.connectors.errors import ApiError, AuthError, ValidationError
from walmart_accounting.connectors.http import DEFAULT_TIMEOUT, HttpClient, RetryPolicy
from walmart_accounting.connectors.ratelimit import WindowLimiter
from walmart_accounting.connectors.tokens import RefreshingTokens, TokenStore
from walmart_accounting.domain import jsonmoney

log = logging.getLogger("walmart_accounting.xero")

API_URL = "https://api.xero.com"
IDENTITY_URL = "https://identity.xero.com"
AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
ACCOUNTING = "/api.xro/2.0"
# accounting.reports.read: the Trial Balance that read-back checks compare account balances with.
DEFAULT_SCOPES = ("openid offline_access accounting.transactions accounting.contacts accounting.settings "
                  "accounting.reports.read")
MAX_BATCH = 50
CREDENTIAL_NAME = "xero"


def _xero_error_text(response) -> tuple[str, str | None]:
    try:
        body = jsonmoney.loads(response.content)
    except ValueError:
        return (response.text.strip()[:500] or response.reason or "no message"), None
    if not isinstance(body, dict):
        return str(body)[:500], None
    if body.get("error"):  # identity endpoint: {"error": "invalid_grant"}
        return str(body.get("error_description") or body["error"]), str(body["error"])
    messages = [
        err.get("Message") for element in body.get("Elements") or [] for err in element.get("ValidationErrors") or []
    ]
    detail = body.get("Detail") or body.get("detail") or body.get("Message") or body.get("title") or body.get("Title")
    text = "; ".join(m for m in messages if m) or detail or str(body)[:500]
    return text, body.get("Type") or body.get("type") or (str(body["ErrorNumber"]) if "ErrorNumber" in body else None)


def where_literal(value: str) -> str:
    """A string literal for Xero's `where` filter (System.Linq.Dynamic): a double quote is written twice."""
    return '"' + value.replace('"', '""') + '"'


def idempotency_key(collection: str, document_keys: list[str], body: Any) -> str:
    """Deterministic Idempotency-Key from the documents' keys and the exact request body (max 128 chars)."""
    digest = hashlib.sha256(
        (collection + "|" + ",".join(document_keys) + "|" + jsonmoney.dumps(body)).encode("utf-8")
    ).hexdigest()
    first = document_keys[0] if document_keys else "batch"
    return f"wa-{collection.lower()}-{first}"[:60] + f"-{len(document_keys)}-{digest[:40]}"


@dataclass(frozen=True)
class ElementResult:
    """Xero's answer for one element of a batch write."""

    index: int
    ok: bool
    element: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class XeroClient:
    """Speaks Xero's accounting API for one organisation; tokens live encrypted in the integration store."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        token_store: TokenStore,
        *,
        api_url: str = API_URL,
        identity_url: str = IDENTITY_URL,
        authorize_url: str = AUTHORIZE_URL,
        tenant_id: str | None = None,
        scopes: str = DEFAULT_SCOPES,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        per_minute: int = 60,
        concurrent: int = 5,
    ):
        if not client_id or not client_secret:
            raise AuthError("xero", "XERO_CLIENT_ID and XERO_CLIENT_SECRET must both be set")
        self._client_id = client_id
        self._client_secret = client_secret
        self.identity_url = identity_url.rstrip("/")
        self.authorize_url = authorize_url
        self.scopes = scopes
        self.http = HttpClient("xero", api_url, timeout=timeout, retry=retry, error_parser=_xero_error_text, sleep=sleep)
        self.limiter = WindowLimiter("xero", per_minute, concurrent, clock=clock, sleep=sleep)
        self.tokens = RefreshingTokens(CREDENTIAL_NAME, token_store, self._refresh, clock=clock, margin_s=60)
        self._tenant_id = tenant_id
        self.clock = clock

    def __repr__(self) -> str:
        return f"XeroClient(api={self.http.base_url!r}, tenant={self._tenant_id!r})"

    @property
    def calls(self) -> int:
        return self.http.calls

    # -- OAuth2 ----------------------------------------------------------------------------------

    def _oauth(self, redirect_uri: str | None = None) -> OAuth2Session:
        return OAuth2Session(self._client_id, self._client_secret, scope=self.scopes, redirect_uri=redirect_uri,
                             token_endpoint_auth_method="client_secret_basic")

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        url, _ = self._oauth(redirect_uri).create_authorization_url(self.authorize_url, state=state)
        return url

    def connect(self, code: str, redirect_uri: str) -> None:
        """Exchange an authorization code and store the token set; remembers the first tenant."""
        session = self._oauth(redirect_uri)
        try:
            body = session.fetch_token(f"{self.identity_url}/connect/token", code=code, grant_type="authorization_code",
                                       timeout=self.http.timeout)
        except OAuthError as exc:
            raise AuthError("xero", f"authorization code rejected: {exc.error} {exc.description or ''}".strip(), code=exc.error) from None
        self.tokens.save_new(dict(body))
        tenant = self._tenant_id or self._discover_tenant()
        value = self.tokens.store.load_credential(CREDENTIAL_NAME) or {}
        value["tenant_id"] = tenant
        self.tokens.store.save_credential(CREDENTIAL_NAME, value)
        self._tenant_id = tenant

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        session = self._oauth()
        self.http.calls += 1
        try:
            return dict(session.refresh_token(f"{self.identity_url}/connect/token", refresh_token=refresh_token,
                                              timeout=self.http.timeout))
        except OAuthError as exc:
            hint = " (the refresh token was already used or has expired: run `walmart-accounting connect xero`)" \
                if exc.error == "invalid_grant" else ""
            raise AuthError("xero", f"token refresh failed: {exc.error}{hint}", code=exc.error) from None

    # -- tenants ---------------------------------------------------------------------------------

    def connections(self) -> list[dict[str, Any]]:
        return self._request("GET", "/connections", tenant=False)

    def _discover_tenant(self) -> str:
        organisations = [c for c in self.connections() if c.get("tenantType", "ORGANISATION") == "ORGANISATION"]
        if not organisations:
            raise AuthError("xero", "the connection has no Xero organisation; reconnect and pick one")
        return organisations[0]["tenantId"]

    @property
    def tenant_id(self) -> str:
        if not self._tenant_id:
            self._tenant_id = self.tokens.stored_extra("tenant_id") or self._discover_tenant()
        return self._tenant_id

    # -- requests --------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params=None, json_body=None, idempotency_key: str | None = None,
                 tenant: bool = True, retry_safe: bool | None = None) -> Any:
        correlation = str(uuid.uuid4())
        headers = {"Accept": "application/json"}
        if tenant:
            headers["xero-tenant-id"] = self.tenant_id
        if idempotency_key:  # never send an empty header (it breaks the request)
            headers["Idempotency-Key"] = idempotency_key
            retry_safe = True if retry_safe is None else retry_safe
        used: dict[str, str] = {}

        def authorise(h: dict[str, str]) -> None:
            used["token"] = self.tokens.access_token()
            h["Authorization"] = f"Bearer {used['token']}"

        body_text = None if json_body is None else jsonmoney.dumps(json_body)
        if body_text is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                with self.limiter.slot():
                    response = self.http.request(method, path, params=params, headers=headers, data=body_text,
                                                 retry_safe=retry_safe, correlation_id=correlation, before_send=authorise)
                self.limiter.observe(response.headers, "X-MinLimit-Remaining", "X-DayLimit-Remaining")
                return jsonmoney.loads(response.content) if response.content else {}
            except AuthError:
                if attempt == 2:
                    raise
                self.tokens.access_token(rejected=used.get("token"))  # refresh once, then retry
        raise AssertionError("unreachable")

    def get(self, collection: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """One GET of an accounting collection (e.g. Accounts, TaxRates)."""
        return self._request("GET", f"{ACCOUNTING}/{collection}", params=params).get(collection, [])

    def organisation(self) -> dict[str, Any]:
        """The connected organisation (GET /Organisation answers under "Organisations", so `get` would miss it)."""
        rows = self._request("GET", f"{ACCOUNTING}/Organisation").get("Organisations") or []
        return rows[0] if rows else {}

    def get_paged(self, collection: str, params: dict[str, str] | None = None, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every element of a paged collection (Invoices, Contacts, Payments, CreditNotes)."""
        page = 1
        while True:
            query = {**(params or {}), "page": str(page), "pageSize": str(page_size)}
            elements = self.get(collection, query)
            yield from elements
            if len(elements) < page_size:
                return
            page += 1

    def create(self, collection: str, elements: list[dict[str, Any]], *, document_keys: list[str],
               method: str = "PUT", path: str | None = None) -> list[ElementResult]:
        """Write up to 50 elements in one call, with an Idempotency-Key; returns one result per element."""
        if not 1 <= len(elements) <= MAX_BATCH:
            raise ValueError(f"a Xero batch holds 1 to {MAX_BATCH} elements, got {len(elements)}")
        body = {collection: elements}
        key = idempotency_key(collection, document_keys, body)
        target = path or f"{ACCOUNTING}/{collection}"
        try:
            response = self._request(method, target, params={"summarizeErrors": "false"}, json_body=body,
                                     idempotency_key=key)
        except ValidationError as exc:
            # A whole-request rejection: every element carries the same message.
            return [ElementResult(i, False, e, [exc.message]) for i, e in enumerate(elements)]
        returned = response.get(collection, [])
        if len(returned) != len(elements):
            raise ApiError("xero", f"{collection}: sent {len(elements)} elements, got {len(returned)} back")
        results = []
        for i, element in enumerate(returned):
            errors = [e.get("Message", "") for e in element.get("ValidationErrors") or []]
            warnings = [w.get("Message", "") for w in element.get("Warnings") or []]
            failed = element.get("StatusAttributeString") == "ERROR" or element.get("HasErrors") is True \
                or element.get("HasValidationErrors") is True or bool(errors)
            results.append(ElementResult(i, not failed, element, errors, warnings))
        return results

    def find_contacts(self, *, numbers: list[str] = (), emails: list[str] = ()) -> list[dict[str, Any]]:
        """Contacts whose ContactNumber or EmailAddress is one of the given values (escaped in the where filter)."""
        clauses = [f"ContactNumber=={where_literal(n)}" for n in numbers] + \
                  [f"EmailAddress=={where_literal(e)}" for e in emails]
        found: list[dict[str, Any]] = []
        for start in range(0, len(clauses), 25):  # keep the URL short
            found.extend(self.get_paged("Contacts", {"where": " OR ".join(clauses[start:start + 25])}))
        return found

    def find_invoices(self, numbers: list[str]) -> list[dict[str, Any]]:
        """Invoices by InvoiceNumber (our document keys), in batches that keep the URL short."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(numbers), 40):
            found.extend(self.get_paged("Invoices", {"InvoiceNumbers": ",".join(numbers[start:start + 40])}))
        return found

    def trial_balance(self, day: date, *, payments_only: bool = False) -> dict[str, Any]:
        """The Trial Balance report as at `day` (GET /Reports/TrialBalance?date=): one ReportWithRow, plain data."""
        params = {"date": day.isoformat()}
        if payments_only:
            params["paymentsOnly"] = "true"
        reports = self._request("GET", f"{ACCOUNTING}/Reports/TrialBalance", params=params).get("Reports") or []
        if not reports:
            raise ApiError("xero", f"Reports/TrialBalance for {day.isoformat()} returned no report")
        return reports[0]

    def allocate_credit_note(self, credit_note_id: str, allocation: dict[str, Any], document_key: str) -> list[ElementResult]:
        return self.create("Allocations", [allocation], document_keys=[document_key],
                           path=f"{ACCOUNTING}/CreditNotes/{quote(credit_note_id, safe='')}/Allocations")

    def headroom(self) -> dict[str, int | None]:
        """What the last response said about the remaining calls (for `ping`)."""
        return {"minute_remaining": self.limiter.minute_remaining, "day_remaining": self.limiter.day_remaining}
