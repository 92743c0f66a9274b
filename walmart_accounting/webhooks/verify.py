"""How each sender proves a delivery is its own: Walmart's three auth methods and Exact's HashCode, checked in constant time.

Walmart (FACTS §7): BASIC_AUTH sends base64(userName:password) in the auth header; OAUTH sends
``Bearer <token>`` from the subscription's ``authUrl``, which is this receiver's token endpoint; HMAC signs
``<METHOD>\\n<PATH_AND_QUERY>\\n<WM_SEC.TIMESTAMP>\\n<lowercase hex SHA256 of the raw body>`` with the client
secret (base64 HMAC-SHA256 in ``WM_SEC.SIGNATURE``). Exact (FACTS §6): ``HashCode`` is the uppercase hex
HMAC-SHA256 of the raw bytes between ``{"Content":`` and ``,"HashCode":`` with the webhook secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from walmart_accounting.webhooks.settings import WebhookSettings

TIMESTAMP_HEADER = "WM_SEC.TIMESTAMP"
SIGNATURE_HEADER = "WM_SEC.SIGNATURE"

# FACTS §6 (picqer's pattern): the Content bytes exactly as sent, never re-serialised.
_EXACT_BODY = re.compile(rb'^\{"Content":(.*),"HashCode":"([0-9A-Fa-f]{64})"\}$', re.S)


class Unverified(Exception):
    """A delivery that did not prove its sender; the reason is for the log, never for the response."""


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# -- Walmart: BASIC_AUTH ---------------------------------------------------------------------------


def _basic_matches(value: str | None, user: str, password: str) -> bool:
    # Walmart's docs send the bare base64 value; a "Basic " prefix is accepted too.
    if not value:
        return False
    expected = base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
    value = value.strip()
    if value[:6].lower() == "basic ":
        value = value[6:].strip()
    return _same(value, expected)


def verify_basic(settings: WebhookSettings, value: str | None) -> None:
    """BASIC_AUTH: the auth header must carry the configured user and password."""
    if not _basic_matches(value, str(settings.walmart_user), str(settings.walmart_password)):
        raise Unverified("missing or wrong basic credentials" if value else f"no {settings.walmart_auth_header} header")


# -- Walmart: OAUTH (this receiver is the token issuer) --------------------------------------------


def _token_key(settings: WebhookSettings) -> bytes:
    # A key of its own, derived from the client secret, so a token's MAC is no use for anything else.
    return hmac.new(str(settings.walmart_client_secret).encode("utf-8"), b"walmart-accounting webhook token",
                    hashlib.sha256).digest()


def _token_mac(settings: WebhookSettings, claims: str) -> str:
    message = f"{settings.walmart_client_id}|{claims}".encode("utf-8")
    digest = hmac.new(_token_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_client_credentials(settings: WebhookSettings, value: str | None) -> None:
    """The token request must authenticate with the subscription's clientId:clientSecret (HTTP Basic)."""
    if not _basic_matches(value, str(settings.walmart_client_id), str(settings.walmart_client_secret)):
        raise Unverified("token request with missing or wrong client credentials")


def issue_token(settings: WebhookSettings, now: float) -> dict[str, object]:
    """A bearer token that this receiver verifies without storing it: expiry and nonce, MAC'd with a key from the secret."""
    claims = f"{int(now) + settings.token_ttl_s}.{secrets.token_urlsafe(12)}"
    return {"access_token": f"{claims}.{_token_mac(settings, claims)}", "token_type": "Bearer",
            "expires_in": settings.token_ttl_s}


def verify_bearer(settings: WebhookSettings, value: str | None, now: float) -> None:
    """OAUTH: the auth header must carry ``Bearer <token>`` issued by :func:`issue_token` and not yet expired."""
    if not value:
        raise Unverified(f"no {settings.walmart_auth_header} header")
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or token.count(".") != 2:
        raise Unverified("not a bearer token of this receiver")
    expires, nonce, mac = token.split(".")
    if not _same(mac, _token_mac(settings, f"{expires}.{nonce}")):
        raise Unverified("bearer token with a bad signature")
    if not expires.isdigit() or int(expires) <= now:
        raise Unverified("expired bearer token")


# -- Walmart: HMAC -----------------------------------------------------------------------------------


def walmart_signature(secret: str, method: str, path_and_query: str, timestamp: str, body: bytes) -> str:
    """WM_SEC.SIGNATURE of a request: base64 HMAC-SHA256 of the documented string to sign."""
    to_sign = f"{method.upper()}\n{path_and_query}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}"
    return base64.b64encode(hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).digest()).decode("ascii")


def check_timestamp(settings: WebhookSettings, headers, now: float) -> str:
    """HMAC, before the body is read: a signature and a timestamp inside the window; returns the timestamp."""
    timestamp = (headers.get(TIMESTAMP_HEADER) or "").strip()
    if not headers.get(SIGNATURE_HEADER):
        raise Unverified(f"no {SIGNATURE_HEADER} header")
    if not timestamp.isdigit():
        raise Unverified(f"missing or malformed {TIMESTAMP_HEADER}")
    if abs(now - int(timestamp)) > settings.timestamp_window_s:
        raise Unverified(f"{TIMESTAMP_HEADER} outside the {settings.timestamp_window_s} s window (expired or replayed)")
    return timestamp


def verify_hmac(settings: WebhookSettings, method: str, path_and_query: str, headers, body: bytes, now: float) -> None:
    """HMAC: the timestamp is inside the window and WM_SEC.SIGNATURE signs this method, path, timestamp and body."""
    timestamp = check_timestamp(settings, headers, now)
    try:
        given = base64.b64decode(headers.get(SIGNATURE_HEADER, "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Unverified(f"{SIGNATURE_HEADER} is not base64") from None
    expected = base64.b64decode(walmart_signature(str(settings.walmart_secret), method, path_and_query, timestamp, body))
    if not hmac.compare_digest(given, expected):
        raise Unverified("signature does not match")


# -- Exact ---------------------------------------------------------------------------------------------


def exact_hashcode(secret: str, content: bytes) -> str:
    """Exact's HashCode of the raw Content bytes: uppercase hex HMAC-SHA256 with the webhook secret."""
    return hmac.new(secret.encode("utf-8"), content, hashlib.sha256).hexdigest().upper()


def verify_exact(secret: str, body: bytes) -> bytes:
    """A signed Exact delivery's Content bytes; raises Unverified unless HashCode matches them."""
    match = _EXACT_BODY.match(body)
    if not match:
        raise Unverified('body is not {"Content":...,"HashCode":"<64 hex>"}')
    content, given = match.group(1), match.group(2).decode("ascii").upper()
    if not _same(given, exact_hashcode(secret, content)):
        raise Unverified("HashCode does not match")
    return content
