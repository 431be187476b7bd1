"""The Exact Online REST client: paging, rate limits, retries and typed errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

from portal.exact.client import hosts
from portal.exact.client.errors import (
    ExactError,
    ExactServerError,
    ExactUnavailable,
    error_from_response,
)
from portal.exact.client.parsing import endpoint_of, unwrap, unwrap_one
from portal.exact.client.ratelimit import COUNTED_ERRORS, RateLimits

DIVISION_FIELDS = (
    "Code,Description,Hid,Customer,CustomerName,VATNumber,ChamberOfCommerceNumber,Country,"
    "Currency,Status,BlockingStatus,IsMainDivision,DivisionMoveDate"
)


class ExactClient:
    """Calls Exact Online's REST API for one connection.

    `token_provider()` returns a valid access token (e.g. `TokenManager.access_token` bound to a
    connection). `on_unauthorized(rejected_token)` returns a token to retry a 401 with (e.g.
    `TokenManager.after_unauthorized` bound to the connection); when that token is refused too
    it hears so once more and may raise (a fresh token refused: the consent was withdrawn).
    Without it the provider is asked once again. `calls_made` counts requests sent and
    `last_call_at` (from `clock`) says when the last one ended, for sync reports.
    Waits for rate limits use the RateLimits' own clock.
    """

    def __init__(
        self,
        base_url: str,
        token_provider: Callable[[], str],
        rate_limits: RateLimits,
        session: requests.Session | None = None,
        timeout: float = 30,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        *,
        on_unauthorized: Callable[[str], str] | None = None,
        backoff: float = 1.0,
        max_rate_limit_waits: int = 5,
    ) -> None:
        self.api_root = hosts.api_root(base_url)
        self.token_provider = token_provider
        self.rate_limits = rate_limits
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.sleep = sleep
        self.clock = clock
        self.on_unauthorized = on_unauthorized
        self.backoff = backoff
        self.max_rate_limit_waits = max_rate_limit_waits
        self.calls_made = 0
        self.rate_limited_answers = 0  # 429s seen, for run reports
        self.last_call_at: float | None = None

    # -- URLs -------------------------------------------------------------------------------

    def url(self, division: int | None, path: str) -> str:
        """Absolute URL for `path` in `division`; absolute URLs (`__next`) are used as given."""
        if "://" in path:
            if urlsplit(path)[:2] != urlsplit(self.api_root)[:2]:
                raise ExactError(f"refusing to follow a link to another host: {path}")
            return path
        path = path.lstrip("/")
        if division is None:
            return f"{self.api_root}/{path}"
        return f"{self.api_root}/{int(division)}/{path}"

    # -- core request -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        division: int | None,
        path: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """One logical call, with rate-limit waits and the retries described in the module."""
        method = method.upper()
        url = self.url(division, path)
        endpoint = endpoint_of(url)
        failures = rate_limited = 0
        unauthorized_answers = 0
        token_after_401: str | None = None
        while True:
            self.rate_limits.before_call(division, endpoint)
            # Fetched after any wait for Exact's minute, so a token never expires in between.
            token = token_after_401 or self.token_provider()
            try:
                response = self._send(method, url, token, params, json)
            except (requests.Timeout, requests.ConnectionError) as exc:
                self.calls_made += 1
                failures += 1
                self._after_network_error(exc, method, failures, endpoint, division)
                continue
            self.calls_made += 1
            self.last_call_at = self.clock()
            self.rate_limits.record(division, response.headers)
            status = response.status_code
            if status < 400:
                return response
            if status == 429:
                rate_limited += 1
                self.rate_limited_answers += 1
                if rate_limited > self.max_rate_limit_waits:
                    raise error_from_response(response, endpoint, division)
                self.rate_limits.on_too_many_requests(division, response.headers)
                continue
            if status in COUNTED_ERRORS:
                self.rate_limits.record_error(division, endpoint, status)
            if status == 401 and unauthorized_answers < self._unauthorized_retries():
                unauthorized_answers += 1
                new_token = self._token_after_401(token)
                if new_token != token:
                    token_after_401 = new_token
                    continue
            error = error_from_response(response, endpoint, division)
            if isinstance(error, ExactServerError):
                failures += 1
                self._after_server_error(error, method, failures)
                continue
            raise error

    def _send(self, method: str, url: str, token: str, params: Any, json: Any) -> requests.Response:
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        if method in ("POST", "PUT"):
            headers["Content-Type"] = "application/json"
            headers["Prefer"] = "return=representation"
        return self.session.request(
            method, url, params=params, json=json, headers=headers, timeout=self.timeout
        )

    def _unauthorized_retries(self) -> int:
        """How many 401s of one call are answered with another token: with ``on_unauthorized``
        the hook also hears that the token it gave was refused too (a fresh token refused: the
        token manager marks the connection); without it the provider is asked once more."""
        return 2 if self.on_unauthorized is not None else 1

    def _token_after_401(self, rejected: str) -> str:
        if self.on_unauthorized is not None:
            return self.on_unauthorized(rejected)
        return self.token_provider()

    def _after_network_error(
        self, exc: Exception, method: str, failures: int, endpoint: str, division: int | None
    ) -> None:
        """Back off before a retry, or raise. A write that may have arrived is never resent."""
        fields = {"endpoint": endpoint, "division": division}
        if method != "GET" and not isinstance(exc, requests.ConnectTimeout):
            raise ExactUnavailable(str(exc), maybe_booked=True, **fields) from exc
        if failures > self.max_retries:
            raise ExactUnavailable(str(exc), **fields) from exc
        self._backoff(failures)

    def _after_server_error(self, error: ExactServerError, method: str, failures: int) -> None:
        if method != "GET":
            raise ExactServerError(
                error.raw_message,
                maybe_booked=True,
                status=error.status,
                endpoint=error.endpoint,
                division=error.division,
            )
        if failures > self.max_retries:
            raise error
        self._backoff(failures)

    def _backoff(self, failures: int) -> None:
        self.sleep(self.backoff * 2 ** (failures - 1))

    # -- reading ----------------------------------------------------------------------------

    def get(self, division: int | None, path: str, params: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer of one GET (still in its `d` envelope)."""
        return self.request("GET", division, path, params=params).json()

    def get_one(
        self, division: int | None, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The first record of an answer (e.g. `Resource(guid'..')` or `$top=1`), or None."""
        return unwrap_one(self.get(division, path, params))

    def iter_pages(
        self, division: int | None, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Yield (rows, next_url) per page, following `__next` exactly as given, in order.

        `next_url` lets a sync commit a cursor per page; passing it back as `path` resumes.
        """
        while True:
            rows, next_url = unwrap(self.get(division, path, params))
            yield rows, next_url
            if not next_url:
                return
            path, params = next_url, None

    def get_all(
        self, division: int | None, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        for rows, _ in self.iter_pages(division, path, params):
            yield from rows

    # -- writing ----------------------------------------------------------------------------

    def post(self, division: int, path: str, json: Any) -> dict[str, Any]:
        """Create a record; returns it as Exact stored it. Never retried after a timeout."""
        response = self.request("POST", division, path, json=json)
        if response.status_code == 204 or not response.content:
            return {}
        return unwrap_one(response.json()) or {}

    # -- helpers for connecting -------------------------------------------------------------

    def current_me(self) -> dict[str, Any]:
        """The signed-in Exact user (`current/Me`, no division in the URL)."""
        me = self.get_one(None, "current/Me")
        if me is None:
            raise ExactError("current/Me returned no user", endpoint="current/Me")
        return me

    def divisions(self, current_division: int) -> list[dict[str, Any]]:
        """Divisions the user can reach and has granted the app (`system/Divisions`)."""
        params = {"$select": DIVISION_FIELDS}
        return list(self.get_all(current_division, "system/Divisions", params))
