"""Rate limits and the error allowance (FACTS §5): per-minute and per-day quotas, their headers, blocked endpoints."""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response

from walmart_accounting.sandbox.exact.model import EPOCH, ODataError, error_response

MINUTELY_LIMIT = 60  # calls per minute per division per app
DAILY_LIMIT = 5000  # calls per day per division per app
TOKEN_CALLS_PER_DAY = 200  # token-endpoint calls per app per user per day
ERRORS_PER_HOUR = 10  # 400/401/403/404 per app, user, division and endpoint per hour
ERROR_BLOCK_S = 3600  # blocked for an hour once over the error allowance


class LimitsMixin:
    """Quotas and the hourly error allowance of :class:`ExactState`."""

    # ---- limits ----------------------------------------------------------------------------------
    @property
    def minutely_limit(self) -> int:
        return self.minutely.limit

    @minutely_limit.setter
    def minutely_limit(self, value: int) -> None:
        self.minutely.limit = value

    @property
    def daily_limit(self) -> int:
        return self.daily.limit

    @daily_limit.setter
    def daily_limit(self, value: int) -> None:
        self.daily.limit = value

    def _daily_headers(self, remaining: int) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.daily.limit), "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(self.daily.reset_epoch() * 1000)}

    def _minutely_headers(self, remaining: int) -> dict[str, str]:
        return {"X-RateLimit-Minutely-Limit": str(self.minutely.limit),
                "X-RateLimit-Minutely-Remaining": str(remaining),
                "X-RateLimit-Minutely-Reset": str(self.minutely.reset_epoch() * 1000)}

    # ---- error allowance (FACTS §5) --------------------------------------------------------------
    def _blocked_response(self, key: tuple, oauth: bool = False) -> Response | None:
        with self.lock:
            until = self._blocked.get(key)
            if until is None or self.clock.now() >= until:
                self._blocked.pop(key, None)
                return None
        message = ("Too many errors: more than %d errors on this endpoint within an hour; blocked until %s UTC"
                   % (self.errors_per_hour or 0, (EPOCH + timedelta(seconds=until)).isoformat(timespec="seconds")))
        if oauth:
            return self._oauth_error(429, "access_denied", message)
        return error_response(ODataError(429, message))

    def _record_error(self, key: tuple) -> None:
        if self.errors_per_hour is None:
            return
        now = self.clock.now()
        with self.lock:
            recent = [t for t in self._errors[key] if now - t < 3600] + [now]
            self._errors[key] = recent
            if len(recent) > self.errors_per_hour:
                self._blocked[key] = now + self.error_block_s
