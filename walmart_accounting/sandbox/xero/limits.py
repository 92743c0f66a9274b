"""Rate limits (minute, day, app-wide, concurrent) with Xero's headers, and Idempotency-Key replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from walmart_accounting.sandbox.xero.wire import Result

IDEMPOTENCY_TTL_S = 360
IDEMPOTENCY_KEY_MAX = 128
MAX_BODY_BYTES = 3_500_000


@dataclass
class IdempotentResponse:
    fingerprint: str
    status: int
    payload: Any
    stored_at: float


class LimitsMixin:
    """XeroState's call accounting; the limiters and counters themselves are made in XeroState.__init__."""

    # -- limits --------------------------------------------------------------------------------------

    @property
    def minute_limit(self) -> int:
        return self.minute_limiter.limit

    @minute_limit.setter
    def minute_limit(self, value: int) -> None:
        self.minute_limiter.limit = value

    @property
    def day_limit(self) -> int:
        return self.day_limiter.limit

    @day_limit.setter
    def day_limit(self, value: int) -> None:
        self.day_limiter.limit = value

    @property
    def app_minute_limit(self) -> int:
        return self.app_minute_limiter.limit

    @app_minute_limit.setter
    def app_minute_limit(self, value: int) -> None:
        self.app_minute_limiter.limit = value

    def set_limits(self, minute: int | None = None, day: int | None = None, concurrent: int | None = None,
                   app_minute: int | None = None) -> None:
        if minute is not None:
            self.minute_limit = minute
        if day is not None:
            self.day_limit = day
        if concurrent is not None:
            self.concurrent_limit = concurrent
        if app_minute is not None:
            self.app_minute_limit = app_minute

    def in_flight(self, tenant_id: str | None = None) -> int:
        with self.lock:
            if tenant_id is None:
                return sum(self._in_flight.values())
            return sum(n for key, n in self._in_flight.items() if key.endswith(":" + tenant_id))

    def enter(self, key: str) -> bool:
        with self.lock:
            if self._in_flight.get(key, 0) >= self.concurrent_limit:
                return False
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return True

    def leave(self, key: str) -> None:
        with self.lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)

    def remaining_headers(self, key: str) -> dict[str, str]:
        with self.lock:
            last = self._last_remaining.get(key) or {"min": self.minute_limit, "day": self.day_limit,
                                                      "app": self.app_minute_limit}
        return {"X-DayLimit-Remaining": str(last["day"]), "X-MinLimit-Remaining": str(last["min"]),
                "X-AppMinLimit-Remaining": str(last["app"])}

    def hit_limits(self, key: str, client_id: str) -> tuple[str | None, int]:
        """Count one call; (problem, retry_after_s) when a window is exhausted, else (None, 0)."""
        with self.lock:
            last = self._last_remaining.setdefault(key, {"min": self.minute_limit, "day": self.day_limit,
                                                         "app": self.app_minute_limit})
            minute = self.minute_limiter.hit(key)
            last["min"] = minute.remaining
            if not minute.allowed:
                return "minute", minute.retry_after_s
            day = self.day_limiter.hit(key)
            last["day"] = day.remaining
            if not day.allowed:
                return "day", day.retry_after_s
            app = self.app_minute_limiter.hit("app:" + client_id)
            last["app"] = app.remaining
            if not app.allowed:
                return "appminute", app.retry_after_s
            return None, 0
    # -- idempotency -----------------------------------------------------------------------------------------

    def idempotent(self, tenant: str, key: str, fingerprint: str, run: Callable[[], Result]) -> Result:
        with self.lock:
            now = self.now()
            for k in [k for k, v in self._idempotency.items() if now - v.stored_at > self.idempotency_ttl_s]:
                del self._idempotency[k]
            cached = self._idempotency.get((tenant, key))
            if cached is not None:
                if cached.fingerprint != fingerprint:
                    return Result(400, {"ErrorNumber": 10, "Type": "ValidationException",
                                        "Message": f"Idempotency Key: {key} is used with a different request."})
                return Result(cached.status, cached.payload)
            result = run()
            self._idempotency[(tenant, key)] = IdempotentResponse(fingerprint, result.status, result.payload, now)
            return result
