"""The webhook receiver's settings, read once from the environment so a bad value stops it at start-up.

Environment variables:

- ``WALMART_WEBHOOK_AUTH``: the ``authMethod`` the Walmart subscriptions were created with: ``HMAC``,
  ``BASIC_AUTH`` or ``OAUTH``. Unset: ``/webhooks/walmart`` refuses every request (401).
- ``WALMART_WEBHOOK_SECRET``: HMAC only: the subscription's ``clientSecret``; deliveries are signed with it
  (headers ``WM_SEC.TIMESTAMP`` and ``WM_SEC.SIGNATURE``).
- ``WALMART_WEBHOOK_USER``, ``WALMART_WEBHOOK_PASSWORD``: BASIC_AUTH only: the subscription's ``userName`` and
  ``password``, which Walmart sends base64-encoded in the auth header.
- ``WALMART_WEBHOOK_CLIENT_ID``, ``WALMART_WEBHOOK_CLIENT_SECRET``: OAUTH only: the subscription's ``clientId``
  and ``clientSecret``. Walmart exchanges them at the receiver's own token endpoint
  (``POST /webhooks/walmart/token``, the subscription's ``authUrl``) for a short-lived bearer token.
- ``WALMART_WEBHOOK_AUTH_HEADER`` (default ``Authorization``): the subscription's ``authHeaderName``
  (BASIC_AUTH and OAUTH).
- ``WALMART_WEBHOOK_TIMESTAMP_WINDOW_S`` (default 300): HMAC only: how many seconds ``WM_SEC.TIMESTAMP`` may
  differ from the receiver's clock. Older signed requests are refused as replays.
- ``EXACT_WEBHOOK_SECRET``: the Exact Online app's "Webhook secret" (App Center; not the client secret).
  Unset: ``/webhooks/exact`` refuses every request (401).
- ``WALMART_ACCOUNTING_WEBHOOK_MAX_BODY_BYTES`` (default 262144, 256 KiB): a larger request body is
  refused with 413 before it is read to the end.

Behind a reverse proxy, HMAC needs the path Walmart called forwarded unchanged (it is signed) and the
``WM_SEC.*`` headers passed through (nginx drops names with ``_`` or ``.`` unless
``underscores_in_headers on; ignore_invalid_headers off;``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

WALMART_AUTH_METHODS = ("HMAC", "BASIC_AUTH", "OAUTH")
DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_TIMESTAMP_WINDOW_S = 300
DEFAULT_TOKEN_TTL_S = 900  # like Walmart's own access tokens

# The receiver's paths; `webhooks subscribe` registers them under the public base URL it is given.
WALMART_PATH = "/webhooks/walmart"
WALMART_TOKEN_PATH = "/webhooks/walmart/token"
EXACT_PATH = "/webhooks/exact"


class SettingsError(ValueError):
    """A webhook setting that is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class WebhookSettings:
    """What the receiver verifies deliveries with; secrets never appear in its repr."""

    walmart_auth: str | None = None
    walmart_secret: str | None = field(default=None, repr=False)
    walmart_user: str | None = field(default=None, repr=False)
    walmart_password: str | None = field(default=None, repr=False)
    walmart_client_id: str | None = field(default=None, repr=False)
    walmart_client_secret: str | None = field(default=None, repr=False)
    walmart_auth_header: str = "Authorization"
    exact_secret: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timestamp_window_s: int = DEFAULT_TIMESTAMP_WINDOW_S
    token_ttl_s: int = DEFAULT_TOKEN_TTL_S

    def __post_init__(self) -> None:
        if self.walmart_auth is not None and self.walmart_auth not in WALMART_AUTH_METHODS:
            raise SettingsError(f"WALMART_WEBHOOK_AUTH must be one of {', '.join(WALMART_AUTH_METHODS)} "
                                f"(got {self.walmart_auth!r})")
        needed = {
            "HMAC": (("walmart_secret", "WALMART_WEBHOOK_SECRET"),),
            "BASIC_AUTH": (("walmart_user", "WALMART_WEBHOOK_USER"), ("walmart_password", "WALMART_WEBHOOK_PASSWORD")),
            "OAUTH": (("walmart_client_id", "WALMART_WEBHOOK_CLIENT_ID"),
                      ("walmart_client_secret", "WALMART_WEBHOOK_CLIENT_SECRET")),
        }.get(self.walmart_auth or "", ())
        missing = [env for attr, env in needed if not getattr(self, attr)]
        if missing:
            raise SettingsError(f"WALMART_WEBHOOK_AUTH={self.walmart_auth} needs {' and '.join(missing)}")
        if not self.walmart_auth_header.strip():
            raise SettingsError("WALMART_WEBHOOK_AUTH_HEADER must not be empty")
        if self.max_body_bytes <= 0:
            raise SettingsError("WALMART_ACCOUNTING_WEBHOOK_MAX_BODY_BYTES must be a positive number of bytes")
        if self.timestamp_window_s <= 0:
            raise SettingsError("WALMART_WEBHOOK_TIMESTAMP_WINDOW_S must be a positive number of seconds")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "WebhookSettings":
        """The settings the environment variables above describe."""
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            return env.get(name) or None

        def number(name: str, default: int) -> int:
            raw = env.get(name)
            if not raw:
                return default
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a whole number (got {raw!r})") from None

        auth = text("WALMART_WEBHOOK_AUTH")
        return cls(
            walmart_auth=auth.strip().upper() if auth else None,
            walmart_secret=text("WALMART_WEBHOOK_SECRET"),
            walmart_user=text("WALMART_WEBHOOK_USER"),
            walmart_password=text("WALMART_WEBHOOK_PASSWORD"),
            walmart_client_id=text("WALMART_WEBHOOK_CLIENT_ID"),
            walmart_client_secret=text("WALMART_WEBHOOK_CLIENT_SECRET"),
            walmart_auth_header=text("WALMART_WEBHOOK_AUTH_HEADER") or "Authorization",
            exact_secret=text("EXACT_WEBHOOK_SECRET"),
            max_body_bytes=number("WALMART_ACCOUNTING_WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            timestamp_window_s=number("WALMART_WEBHOOK_TIMESTAMP_WINDOW_S", DEFAULT_TIMESTAMP_WINDOW_S),
        )

    def walmart_auth_details(self, base_url: str) -> dict[str, str]:
        """The `authDetails` of a Walmart subscription to this receiver at `base_url` (its public root)."""
        base = base_url.rstrip("/")
        header = self.walmart_auth_header
        if self.walmart_auth == "HMAC":
            return {"authMethod": "HMAC", "clientSecret": str(self.walmart_secret), "authHeaderName": header}
        if self.walmart_auth == "BASIC_AUTH":
            return {"authMethod": "BASIC_AUTH", "userName": str(self.walmart_user),
                    "password": str(self.walmart_password), "authHeaderName": header}
        if self.walmart_auth == "OAUTH":
            return {"authMethod": "OAUTH", "authUrl": base + WALMART_TOKEN_PATH, "clientId": str(self.walmart_client_id),
                    "clientSecret": str(self.walmart_client_secret), "authHeaderName": header}
        raise SettingsError("WALMART_WEBHOOK_AUTH is not set: Walmart subscriptions need an auth method")
