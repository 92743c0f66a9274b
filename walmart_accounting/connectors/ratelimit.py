"""Client-side rate limiting: stay under per-minute, per-day and concurrency limits using what the API's headers say."""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

from walmart_accounting.connectors.errors import RateLimitError


class WindowLimiter:
    """At most `per_minute` calls in any 60 s, at most `concurrent` in flight, and a stop when the day is used up."""

    def __init__(
        self,
        api: str,
        per_minute: int,
        concurrent: int,
        *,
        clock: Callable[[], float] = time.time,  # epoch seconds: Exact's reset headers are epoch ms
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.api = api
        self.per_minute = per_minute
        self._slots = threading.BoundedSemaphore(concurrent)
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self.clock = clock
        self.sleep = sleep
        self.minute_remaining: int | None = None
        self.day_remaining: int | None = None
        self.minute_reset_at: float | None = None
        self.waited_s = 0.0

    def _wait_for_minute_slot(self) -> None:
        while True:
            with self._lock:
                now = self.clock()
                while self._recent and now - self._recent[0] >= 60:
                    self._recent.popleft()
                exhausted_by_headers = (
                    self.minute_remaining is not None and self.minute_remaining <= 0
                    and self.minute_reset_at is not None and now < self.minute_reset_at
                )
                if len(self._recent) < self.per_minute and not exhausted_by_headers:
                    self._recent.append(now)
                    return
                if exhausted_by_headers:
                    delay = self.minute_reset_at - now
                else:
                    delay = 60 - (now - self._recent[0])
            delay = max(delay, 0.05)
            self.waited_s += delay
            self.sleep(delay)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one call's place: waits for a minute slot and a concurrency slot; refuses when the day is spent."""
        if self.day_remaining is not None and self.day_remaining <= 0:
            raise RateLimitError(self.api, "daily call limit reached; the next window opens tomorrow", problem="day")
        self._wait_for_minute_slot()
        with self._slots:
            yield

    def observe(self, headers: Mapping[str, str], minute_header: str, day_header: str,
                minute_reset_header: str | None = None) -> None:
        """Update headroom from a response's headers."""
        with self._lock:
            if minute_header in headers:
                self.minute_remaining = _int(headers[minute_header])
            if day_header in headers:
                self.day_remaining = _int(headers[day_header])
            if minute_reset_header and minute_reset_header in headers:
                reset = _int(headers[minute_reset_header])
                if reset is not None:
                    self.minute_reset_at = reset / 1000  # Exact gives the reset as epoch milliseconds
            elif self.minute_remaining is not None and self.minute_remaining <= 0 and self._recent:
                self.minute_reset_at = self._recent[0] + 60


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
