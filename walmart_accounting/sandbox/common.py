"""What the three emulators share: a controllable clock, fault injection, fixed-window rate limits and a request log."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["status_500", "status_503", "status_429", "drop_after_commit", "delay", "delay_after_commit"]


class Clock:
    """Wall time by default; tests call advance() to age tokens and windows without sleeping."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


def api_path(scope) -> str:
    """The request path below the emulator's mount point (/v3/orders, not /walmart/v3/orders)."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


@dataclass
class FaultRule:
    """Misbehave on matching requests: `times` matches, after skipping the first `skip`.

    `path_prefix` is relative to the emulator's mount (for Xero, "/api/api.xro/2.0/Invoices").
    """

    api: str
    kind: FaultKind
    method: str | None = None
    path_prefix: str = ""
    times: int = 1
    skip: int = 0
    delay_s: float = 0.0
    retry_after_s: int = 1
    fired: int = 0
    seen: int = 0

    def matches(self, api: str, method: str, path: str) -> bool:
        if api != self.api or (self.method and method.upper() != self.method.upper()):
            return False
        return path.startswith(self.path_prefix)


class FaultInjector:
    """ASGI middleware factory: injects 5xx, 429, delays, or a dropped connection after the change is committed."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, api: str, kind: FaultKind, **kwargs) -> FaultRule:
        rule = FaultRule(api=api, kind=kind, **kwargs)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def _take(self, api: str, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.fired >= rule.times or not rule.matches(api, method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                rule.fired += 1
                return rule
        return None

    def wrap(self, api: str, app):
        injector = self

        async def middleware(scope, receive, send):
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            rule = injector._take(api, scope["method"], api_path(scope))
            if rule is None:
                await app(scope, receive, send)
                return
            if rule.kind == "delay":
                await asyncio.sleep(rule.delay_s)
                await app(scope, receive, send)
                return
            if rule.kind == "delay_after_commit":
                # The change is made at once; the answer comes late (a client with a short timeout gives up).
                held: list = []

                async def hold(message):
                    held.append(message)

                await app(scope, receive, hold)
                await asyncio.sleep(rule.delay_s)
                for message in held:
                    await send(message)
                return
            if rule.kind == "drop_after_commit":
                # Let the handler do its work, then cut the connection before the body arrives.
                async def swallow(message):
                    if message["type"] == "http.response.start":
                        await send(message)
                        return
                    raise ConnectionAbortedError("sandbox fault: connection dropped after commit")

                await app(scope, receive, swallow)
                return
            status = {"status_500": 500, "status_503": 503, "status_429": 429}[rule.kind]
            headers = [(b"content-type", b"application/json")]
            if status == 429:
                headers += [(b"retry-after", str(rule.retry_after_s).encode()), (b"x-rate-limit-problem", b"minute")]
            body = b'{"error":"sandbox injected fault"}'
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        return middleware


@dataclass
class WindowResult:
    allowed: bool
    remaining: int
    retry_after_s: int


class FixedWindowLimiter:
    """A fixed-window call counter per key (tenant, division), as Xero and Exact count."""

    def __init__(self, limit: int, window_s: int, clock: Clock):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> WindowResult:
        now = self.clock.now()
        window = int(now // self.window_s)
        with self._lock:
            start, count = self._windows.get(key, (window, 0))
            if start != window:
                start, count = window, 0
            reset_in = max(1, int((window + 1) * self.window_s - now) + 1)
            if count >= self.limit:
                return WindowResult(False, 0, reset_in)
            count += 1
            self._windows[key] = (start, count)
            return WindowResult(True, self.limit - count, reset_in)

    def reset_epoch(self) -> int:
        """Unix time at which the current window ends."""
        now = self.clock.now()
        return int((int(now // self.window_s) + 1) * self.window_s)


@dataclass
class RequestLog:
    """Counts of requests each emulator served, by API, method and path (what a demo reports)."""

    counts: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, api: str, method: str, path: str) -> None:
        with self._lock:
            self.counts[(api, method, path)] += 1

    def total(self, api: str) -> int:
        with self._lock:
            return sum(n for (a, _, _), n in self.counts.items() if a == api)

    def wrap(self, api: str, app):
        log = self

        async def middleware(scope, receive, send):
            if scope["type"] == "http":
                log.record(api, scope["method"], api_path(scope))
            await app(scope, receive, send)

        return middleware
