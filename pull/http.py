"""One small HTTP client for the provider admin APIs: httpx for the requests, tenacity for the retries.

Retried: HTTP 429 and 5xx, and transport failures (refused, reset, timed out), with exponential backoff; a
`Retry-After` header (seconds or an HTTP date) is honoured, capped at `max_wait`. Not retried: 401/403 (a
`PullAuthError` naming the key's environment variable) and other 4xx (a `PullError` with the API's message).
The key travels only in a header; no message built here contains it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from tenacity.wait import wait_base

from pull.errors import PullAuthError, PullError


class RetryableStatus(Exception):
    def __init__(self, status: int, retry_after: float | None, detail: str):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        self.detail = detail


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds())


class _WaitRetryAfter(wait_base):
    """The server's Retry-After where it gave one, else exponential backoff; never more than `cap` seconds."""

    def __init__(self, base: float, cap: float):
        self._backoff = wait_exponential(multiplier=base, max=cap)
        self._cap = cap

    def __call__(self, retry_state) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self._cap)
        return self._backoff(retry_state)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (RetryableStatus, httpx.TransportError))


@dataclass
class RetryPolicy:
    attempts: int = 6          # tries per request, the first included
    backoff: float = 1.0       # first backoff in seconds; doubles each retry
    max_wait: float = 60.0     # cap on one wait, Retry-After included
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def _detail(response: httpx.Response) -> str:
    """The API's own error message, short (OpenAI/Anthropic/OpenRouter put it in error.message)."""
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        if isinstance(err, str):
            return err[:300]
    except ValueError:
        pass
    return response.text[:300].strip()


class ApiClient:
    """GET JSON from `base_url` with the provider's auth headers; `provider` and `key_env` name things in errors."""

    def __init__(self, *, provider: str, base_url: str, headers: dict[str, str], key_env: str,
                 retry: RetryPolicy | None = None, timeout: float = 60.0):
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.key_env = key_env
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  follow_redirects=False)
        self.requests = 0   # HTTP requests made, retries included (for reports and tests)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        """One GET, retried as the module says; returns the 2xx response."""
        retrying = Retrying(stop=stop_after_attempt(self.retry.attempts),
                            wait=_WaitRetryAfter(self.retry.backoff, self.retry.max_wait),
                            retry=retry_if_exception(_retryable), sleep=self.retry.sleep, reraise=True)
        try:
            return retrying(self._get_once, path, params)
        except RetryableStatus as e:
            raise PullError(f"{self.provider} {path} answered HTTP {e.status} {self.retry.attempts} times"
                            f"{': ' + e.detail if e.detail else ''}; try again later",
                            title="Provider unavailable") from None
        except httpx.TransportError as e:
            raise PullError(f"cannot reach {self.provider} at {self.base_url} ({type(e).__name__}) after "
                            f"{self.retry.attempts} attempts; check the network or the base URL",
                            title="Provider unreachable") from None

    def _get_once(self, path: str, params: dict[str, Any]) -> httpx.Response:
        self.requests += 1
        response = self._http.get(path, params=params)
        status = response.status_code
        if status in (401, 403):
            raise PullAuthError(
                f"{self.provider} refused the key in ${self.key_env} (HTTP {status}: {_detail(response)}). "
                f"Set {self.key_env} to a valid key with access to this API (an admin key for OpenAI and "
                "Anthropic usage/cost reports, a management key for OpenRouter).")
        if status == 429 or status >= 500:
            raise RetryableStatus(status, parse_retry_after(response.headers.get("retry-after")),
                                  _detail(response))
        if status >= 400:
            raise PullError(f"{self.provider} {path} answered HTTP {status}: {_detail(response)}",
                            title="Request refused")
        return response
