"""Typed errors every client raises, carrying the API's own message and the correlation id, never a secret."""

from __future__ import annotations


class ApiError(RuntimeError):
    """A call to an external API failed."""

    retryable = False

    def __init__(
        self,
        api: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ):
        self.api = api
        self.message = message
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.method = method
        self.path = path
        where = f" {method} {path}" if method and path else ""
        status_text = f" HTTP {status}" if status is not None else ""
        code_text = f" [{code}]" if code else ""
        corr = f" (correlation id {correlation_id})" if correlation_id else ""
        super().__init__(f"{api}{where}{status_text}{code_text}: {message}{corr}")


class AuthError(ApiError):
    """Credentials rejected, token expired beyond refresh, consent revoked, or the wrong tenant/host."""


class ForbiddenError(ApiError):
    """Authenticated, but not allowed (scope, tenant, division, blocked user)."""


class NotFoundError(ApiError):
    """The resource does not exist."""


class ValidationError(ApiError):
    """The API rejected the request's content; `messages` lists them per document key where known."""

    def __init__(self, api: str, message: str, *, messages: dict[str, list[str]] | None = None, **kwargs):
        self.messages = messages or {}
        super().__init__(api, message, **kwargs)


class RateLimitError(ApiError):
    """Too many calls; `retry_after_s` is how long the API asked us to wait."""

    retryable = True

    def __init__(self, api: str, message: str, *, retry_after_s: float | None = None, problem: str | None = None, **kwargs):
        self.retry_after_s = retry_after_s
        self.problem = problem
        super().__init__(api, message, **kwargs)


class ServerError(ApiError):
    """A 5xx from the API: the request may or may not have been applied."""

    retryable = True


class TransportError(ApiError):
    """Timeout or dropped connection: the request may have been applied (`outcome_unknown`)."""

    retryable = True

    def __init__(self, api: str, message: str, *, outcome_unknown: bool = True, **kwargs):
        self.outcome_unknown = outcome_unknown
        super().__init__(api, message, **kwargs)
