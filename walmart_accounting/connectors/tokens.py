"""OAuth2 token sets kept in a shared store and refreshed under a lock with a re-read, so rotating refresh tokens are spent once."""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable, Protocol


class LockedValue(Protocol):
    value: dict[str, Any] | None

    def replace(self, value: dict[str, Any]) -> None: ...


class TokenStore(Protocol):
    """Where token sets live (the integration store encrypts them); `locked` serialises refreshers across processes."""

    def load_credential(self, name: str) -> dict[str, Any] | None: ...

    def save_credential(self, name: str, value: dict[str, Any]) -> None: ...

    def locked_credential(self, name: str) -> AbstractContextManager[LockedValue]: ...


class MemoryTokenStore:
    """A process-local token store (tests, one-off scripts); the integration store is the real one."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    def load_credential(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            value = self._values.get(name)
            return dict(value) if value else None

    def save_credential(self, name: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._values[name] = dict(value)

    def locked_credential(self, name: str):
        store = self

        class _Handle:
            def __init__(self) -> None:
                self.value = store.load_credential(name)
                self.replacement = None

            def replace(self, value: dict[str, Any]) -> None:
                self.replacement = value

            def __enter__(self):
                store._lock.acquire()
                self.value = store.load_credential(name)
                return self

            def __exit__(self, exc_type, *_):
                try:
                    if exc_type is None and self.replacement is not None:
                        store.save_credential(name, self.replacement)
                finally:
                    store._lock.release()

        return _Handle()


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: float  # by the client's clock
    issued_at: float
    scope: str | None = None

    @classmethod
    def from_response(cls, body: dict[str, Any], now: float, previous_refresh: str | None = None) -> "TokenSet":
        expires_in = float(body.get("expires_in") or 0)  # Exact sends it as a string
        return cls(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or previous_refresh,
            expires_at=now + expires_in,
            issued_at=now,
            scope=body.get("scope"),
        )

    @classmethod
    def from_stored(cls, value: dict[str, Any]) -> "TokenSet":
        return cls(
            access_token=value["access_token"], refresh_token=value.get("refresh_token"),
            expires_at=float(value["expires_at"]), issued_at=float(value.get("issued_at", 0)), scope=value.get("scope"),
        )

    def to_stored(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        value = {"access_token": self.access_token, "refresh_token": self.refresh_token,
                 "expires_at": self.expires_at, "issued_at": self.issued_at, "scope": self.scope}
        value.update(extra or {})
        return value

    def __repr__(self) -> str:  # never print tokens
        return f"TokenSet(expires_at={self.expires_at:.0f}, scope={self.scope!r})"


class RefreshingTokens:
    """Gives out a valid access token, refreshing through `refresh(refresh_token)` under the store's lock.

    Whoever takes the lock first refreshes; everyone else re-reads the stored set after the lock and
    finds it fresh, so a rotating refresh token is never spent twice (no `invalid_grant`).
    """

    def __init__(
        self,
        name: str,
        store: TokenStore,
        refresh: Callable[[str], dict[str, Any]],
        *,
        clock: Callable[[], float] = time.time,
        margin_s: float = 60.0,
    ):
        self.name = name
        self.store = store
        self._refresh = refresh
        self.clock = clock
        # Refresh this long before expiry. Exact (600 s tokens, no refresh before 570 s) needs exactly 30.
        self.margin_s = margin_s
        self._cached: TokenSet | None = None
        self._local = threading.Lock()

    def _needs_refresh(self, tokens: TokenSet, rejected: str | None) -> bool:
        if rejected is not None and tokens.access_token == rejected:
            return True  # the API refused this very token
        return self.clock() >= tokens.expires_at - self.margin_s

    def access_token(self, rejected: str | None = None) -> str:
        """A usable access token; `rejected` names one the API just refused (forces a refresh unless already replaced)."""
        with self._local:
            cached = self._cached
            if cached and not self._needs_refresh(cached, rejected):
                return cached.access_token
            with self.store.locked_credential(self.name) as held:
                if held.value is None:
                    from walmart_accounting.connectors.errors import AuthError

                    raise AuthError(self.name, f"not connected: run `walmart-accounting connect {self.name}` first")
                current = TokenSet.from_stored(held.value)
                if self._needs_refresh(current, rejected):
                    if not current.refresh_token:
                        from walmart_accounting.connectors.errors import AuthError

                        raise AuthError(self.name,
                                        f"access token expired and no refresh token: run `walmart-accounting connect {self.name}`")
                    now = self.clock()
                    body = self._refresh(current.refresh_token)
                    current = TokenSet.from_response(body, now, previous_refresh=current.refresh_token)
                    extra = {k: v for k, v in held.value.items() if k not in current.to_stored()}
                    held.replace(current.to_stored(extra))
                self._cached = current
                return current.access_token

    def save_new(self, body: dict[str, Any], extra: dict[str, Any] | None = None) -> TokenSet:
        """Store the token set from an authorization-code exchange."""
        tokens = TokenSet.from_response(body, self.clock())
        with self.store.locked_credential(self.name) as held:
            held.replace(tokens.to_stored(extra))
        with self._local:
            self._cached = tokens
        return tokens

    def stored_extra(self, key: str) -> Any:
        value = self.store.load_credential(self.name)
        return None if value is None else value.get(key)
