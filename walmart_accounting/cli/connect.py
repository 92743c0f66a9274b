"""`connect`, `ping` and `config check --ledger`: the OAuth consent round trip on a local port, a health check of
every configured API, and the mapping checked against what each connected ledger holds."""

from __future__ import annotations

import errno
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlparse

from walmart_accounting.connectors import exact, walmart, xero
from walmart_accounting.connectors.errors import ApiError, TransportError
from walmart_accounting.defs.ledgers.resources import LEDGERS, ExactResource, XeroResource
from walmart_accounting.defs.resources import MissingSetting, WalmartResource
from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.posting.references import missing_references
from walmart_accounting.store.store import Store


class CallbackCatcher:
    """A one-shot local HTTP server that receives the OAuth redirect and hands back its query."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.result: dict[str, str] = {}
        self._done = threading.Event()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                catcher.result = query
                ok = "code" in query
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"Connected. You can close this window." if ok else b"No authorization code received.")
                catcher._done.set()

            def log_message(self, *args):  # the query holds the code: keep it out of the console
                return

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise ApiError("connect", f"port {port} for the OAuth redirect (http://localhost:{port}/callback) is "
                           f"taken by another program (a sandbox started with --port {port}?); stop it, or run "
                           "`connect --port N` with a free port that your app's redirect URI names") from None
        self.port = self.server.server_address[1]
        self.redirect_uri = f"http://localhost:{self.port}/callback"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "CallbackCatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait(self, timeout_s: float) -> dict[str, str]:
        if not self._done.wait(timeout_s):
            raise TimeoutError(f"no redirect arrived on {self.redirect_uri} within {timeout_s:.0f} s")
        return self.result


def connect_flow(client, port: int, show: Callable[[str], None], timeout_s: float = 300) -> None:
    """Print the consent URL, catch the redirect on `port`, check `state`, exchange the code and store the tokens."""
    state = secrets.token_urlsafe(24)
    with CallbackCatcher(port) as catcher:
        show(client.authorization_url(catcher.redirect_uri, state))
        result = catcher.wait(timeout_s)
    if result.get("state") != state:
        raise ApiError(type(client).__name__, "the redirect's state does not match: consent not completed (possible CSRF)")
    if "code" not in result:
        raise ApiError(type(client).__name__, f"consent refused: {result.get('error', 'no code in the redirect')}")
    client.connect(result["code"], catcher.redirect_uri)


def xero_client_from_env(store: Store) -> xero.XeroClient:
    """The Xero client the code location's resource would build, from the same settings."""
    return XeroResource.resolved_from_env().client(store)


def exact_client_from_env(store: Store) -> exact.ExactClient:
    """The Exact Online client the code location's resource would build, from the same settings."""
    return ExactResource.resolved_from_env().client(store)


def walmart_client_from_env() -> walmart.WalmartClient:
    """The Walmart client the code location's resource would build, from the same settings."""
    return WalmartResource.resolved_from_env().client()


def ping_all(store: Store, echo: Callable[[str], None]) -> bool:
    """Check each configured API's credentials and show tenant/division, scopes and headroom; True if all are fine."""
    healthy = True
    checked = 0
    if os.environ.get("WALMART_CLIENT_ID"):
        checked += 1
        try:
            client = walmart_client_from_env()
            detail = client.token_detail()
            scopes = detail.get("scopes") or {}
            granted = ", ".join(f"{k}:{v}" for k, v in sorted(scopes.items())) or "(not reported)"
            echo(f"walmart: OK at {client.http.base_url}; scopes {granted}")
        except ApiError as exc:
            healthy = False
            echo(f"walmart: FAILED: {exc}{_hint('walmart', exc)}")
    if os.environ.get("XERO_CLIENT_ID"):
        checked += 1
        try:
            client = xero_client_from_env(store)
            # A still-valid access token would hide a wrong client secret: refresh once, which needs the secret.
            client.tokens.access_token(rejected=client.tokens.access_token())
            tenants = client.connections()
            tenant = client.tenant_id
            names = {t.get("tenantId"): t.get("tenantName") for t in tenants}
            client.get("Organisation")
            echo(f"xero: OK, organisation {names.get(tenant, '?')} ({tenant}); headroom {client.headroom()}")
        except ApiError as exc:
            healthy = False
            echo(f"xero: FAILED: {exc}{_hint('xero', exc)}")
    if os.environ.get("EXACT_CLIENT_ID"):
        checked += 1
        try:
            client = exact_client_from_env(store)
            me = client.me()
            next(client.query("financial/GLAccounts", select=["Code"], top=1), None)  # a division call reports headroom
            echo(f"exact: OK, {me.get('FullName', '?')}, division {client.division}; headroom {client.headroom()}")
        except ApiError as exc:
            healthy = False
            echo(f"exact: FAILED: {exc}{_hint('exact', exc)}")
    if checked == 0:
        echo("no API credentials are set (WALMART_CLIENT_ID, XERO_CLIENT_ID, EXACT_CLIENT_ID); nothing to check")
        return False
    return healthy


def check_ledger_references(store: Store, config: MappingConfig, echo: Callable[[str], None]) -> bool:
    """`config check --ledger`: each enabled ledger holds what the mapping names; each gap is printed by its key."""
    healthy = True
    for name in config.enabled_ledgers():
        references = config.ledger_references(name)
        try:
            resource = LEDGERS[name].resolved_from_env()
            data = resource.adapter(resource.client(store), config).reference_data(references)
        except MissingSetting as exc:
            healthy = False
            echo(f"{name}: FAILED: {exc}")
            continue
        except ApiError as exc:
            healthy = False
            echo(f"{name}: FAILED: {exc}{_hint(name, exc)}")
            continue
        problems = missing_references(references, data)
        for problem in problems:
            echo(problem)
        if problems:
            healthy = False
            echo(f"{name}: {len(problems)} of {len(references)} references missing or unusable in {data.where}")
        else:
            echo(f"{name}: OK, all {len(references)} references of the mapping are in {data.where}")
    return healthy


def _hint(api: str, exc: ApiError) -> str:
    text = str(exc).lower()
    if "not connected" in text:
        return ""  # never consented: the message already says to run `connect`
    if isinstance(exc, TransportError):
        url = os.environ.get(f"{api.upper()}_BASE_URL")
        return (f"\n  hint: nothing answered at {url or 'the default host'}: check {api.upper()}_BASE_URL"
                + ("" if url else " (unset)") + " and the network")
    if exc.status == 401 or "invalid_client" in text or "unauthorized" in text:
        return f"\n  hint: check {api.upper()}_CLIENT_ID / {api.upper()}_CLIENT_SECRET, or reconnect (`walmart-accounting connect {api}`)"
    if "invalid_grant" in text or "old refresh token" in text or "not connected" in text:
        return f"\n  hint: the consent expired or was revoked: run `walmart-accounting connect {api}`"
    if exc.status == 403:
        return "\n  hint: the organisation/division is not authorised for this app, or the token is for another country's host"
    if exc.status == 404:
        return f"\n  hint: wrong host? check {api.upper()}_BASE_URL (each Exact country has its own)"
    return ""
