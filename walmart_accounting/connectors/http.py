"""HTTP behaviour every client shares: timeouts, safe retries with backoff and jitter, typed errors, secret-free logs."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from walmart_accounting.connectors.errors import (
    ApiError,
    AuthError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)

log = logging.getLogger("walmart_accounting.http")

DEFAULT_TIMEOUT = (5.0, 60.0)  # connect, read
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, and the longest Retry-After we honour."""

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


ErrorParser = Callable[[requests.Response], tuple[str, str | None]]


def _default_error_text(response: requests.Response) -> tuple[str, str | None]:
    text = response.text.strip()
    return (text[:500] or response.reason or "no message"), None


class _BeforeSendFailed(Exception):
    """Carries an error of a request's `before_send` (a token fetch) past the retry loop."""

    def __init__(self, error: ApiError):
        super().__init__(str(error))
        self.error = error


class HttpClient:
    """A requests session bound to one API's base URL, with the shared retry and error rules."""

    def __init__(
        self,
        api: str,
        base_url: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        error_parser: ErrorParser = _default_error_text,
        retry_after: Callable[[requests.Response], float | None] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.api = api
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self.error_parser = error_parser
        self.retry_after = retry_after or _retry_after
        self.session = session or requests.Session()
        self.sleep = sleep
        self.calls = 0  # requests actually sent, for reports and the demo summary

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: Any = None,
        files: Any = None,
        retry_safe: bool | None = None,
        correlation_id: str | None = None,
        before_send: Callable[[dict[str, str]], None] | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> requests.Response:
        """Send a request; retry 5xx, timeouts and drops only when `retry_safe` (idempotent or idempotency-keyed).

        A 429 is always retried after Retry-After: the API did not process the request. A refused
        connection is always retried: nothing was sent. `before_send` may update headers on every
        attempt (a fresh token after a refresh).
        """
        method = method.upper()
        safe = method in SAFE_METHODS if retry_safe is None else retry_safe

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, RateLimitError):
                return True
            if isinstance(exc, TransportError):
                return safe or not exc.outcome_unknown
            return isinstance(exc, ServerError) and safe

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimitError) and exc.retry_after_s is not None:
                return min(exc.retry_after_s, self.retry.max_retry_after_s)
            return self.retry.backoff(state.attempt_number)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s; retry %d after %.1f s", exc, state.attempt_number, state.upcoming_sleep)

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.max_attempts), wait=wait, retry=retry_if_exception(should_retry),
            sleep=self.sleep, before_sleep=before_sleep, reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    send_headers = dict(headers or {})
                    if before_send:
                        try:
                            before_send(send_headers)
                        except ApiError as exc:
                            # A token request has had its own retries: retrying it again here would multiply them.
                            raise _BeforeSendFailed(exc) from exc
                    return self._send_once(method, path, params, send_headers, json_body, data, files, correlation_id,
                                           ok_statuses)
        except _BeforeSendFailed as failed:
            raise failed.error from None
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _send_once(self, method, path, params, headers, json_body, data, files, correlation_id, ok_statuses) -> requests.Response:
        started = time.monotonic()
        try:
            self.calls += 1
            response = self.session.request(
                method, self.url(path), params=params, headers=headers, json=json_body, data=data, files=files,
                timeout=self.timeout,
            )
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            # A refused connection or connect timeout never reached the server; anything later may have been applied.
            never_sent = isinstance(exc, requests.ConnectTimeout) or (
                isinstance(exc, requests.ConnectionError) and "refused" in str(exc).lower()
            )
            raise TransportError(
                self.api, f"{type(exc).__name__} after {time.monotonic() - started:.1f} s",
                outcome_unknown=not never_sent, correlation_id=correlation_id, method=method, path=_path_only(path),
            ) from None
        log.debug("%s %s %s -> %s in %.2f s (correlation %s)", self.api, method, _path_only(path),
                  response.status_code, time.monotonic() - started, correlation_id)
        if response.status_code < 400 or response.status_code in ok_statuses:
            return response
        raise self.error_for(response, method, path, correlation_id)

    def error_for(self, response: requests.Response, method: str, path: str, correlation_id: str | None) -> ApiError:
        """Map an HTTP error response to the typed error, with the API's own message."""
        try:
            message, code = self.error_parser(response)
        except ValueError:
            message, code = _default_error_text(response)
        status = response.status_code
        kwargs = dict(status=status, code=code, correlation_id=correlation_id, method=method, path=_path_only(path))
        if status == 429:
            return RateLimitError(
                self.api, message, retry_after_s=self.retry_after(response),
                problem=response.headers.get("X-Rate-Limit-Problem"), **kwargs,
            )
        if status == 401:
            return AuthError(self.api, message, **kwargs)
        if status == 403:
            reason = response.headers.get("Reason")
            return ForbiddenError(self.api, f"{message} (reason: {reason})" if reason else message, **kwargs)
        if status == 404:
            return NotFoundError(self.api, message, **kwargs)
        if status >= 500:
            return ServerError(self.api, message, **kwargs)
        return ValidationError(self.api, message, **kwargs)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _path_only(path: str) -> str:
    # Query strings can carry filters with customer data; logs and errors keep the path only.
    return path.split("?", 1)[0]
