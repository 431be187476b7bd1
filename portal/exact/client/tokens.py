"""Exact Online tokens: storage and single-flight refresh across processes and machines.

Exact's refresh tokens are single-use and rotate: when two processes refresh with the same
refresh token, one of them gets "Old refresh token used." and the chain can break. So a refresh
happens under a Redis lock per connection, the token is reloaded after taking the lock (another
process may have refreshed already), and the new pair is persisted before anything else.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import redis
from redis.exceptions import LockError

from portal.exact.client.errors import (
    ExactConsentRevoked,
    ExactReauthorizationNeeded,
    ExactTooEarlyToRefresh,
    ExactUnavailable,
)

log = logging.getLogger(__name__)

ACCESS_TOKEN_LIFETIME = timedelta(seconds=600)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
# Exact refuses a new access token until 570 s after the previous one was issued.
MIN_REFRESH_AGE = timedelta(seconds=570)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    issued_at: datetime
    refreshed_at: datetime | None
    refresh_token_expires_at: datetime

    @classmethod
    def issued(
        cls,
        access_token: str,
        refresh_token: str,
        expires_in: int | str,
        now: datetime,
        refreshed: bool = False,
    ) -> TokenSet:
        """A pair Exact just issued; `expires_in` may be a string, as Exact sends it."""
        return cls(
            access_token=access_token,
            refresh_token=refresh_token,
            access_expires_at=now + timedelta(seconds=int(expires_in)),
            issued_at=now,
            refreshed_at=now if refreshed else None,
            refresh_token_expires_at=now + REFRESH_TOKEN_LIFETIME,
        )

    def valid_for(self, now: datetime) -> float:
        """Seconds the access token stays valid (negative once expired)."""
        return (self.access_expires_at - now).total_seconds()

    def may_refresh(self, now: datetime) -> bool:
        """Whether Exact accepts a refresh now (570 s after the access token was issued)."""
        return now >= self.issued_at + MIN_REFRESH_AGE

    def to_dict(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        values = dict(data)
        for key in ("access_expires_at", "issued_at", "refreshed_at", "refresh_token_expires_at"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


class TokenStore(Protocol):
    def load(self, connection_id: Any) -> TokenSet | None: ...

    def save(self, connection_id: Any, tokens: TokenSet) -> None: ...

    def mark_needs_reauthorization(self, connection_id: Any, reason: str) -> None: ...


class InMemoryTokenStore:
    """For tests and scripts in one process."""

    def __init__(self) -> None:
        self.tokens: dict[Any, TokenSet] = {}
        self.reauthorization: dict[Any, str] = {}
        self.saves = 0
        self._lock = threading.Lock()

    def load(self, connection_id: Any) -> TokenSet | None:
        with self._lock:
            return self.tokens.get(connection_id)

    def save(self, connection_id: Any, tokens: TokenSet) -> None:
        with self._lock:
            self.tokens[connection_id] = tokens
            self.reauthorization.pop(connection_id, None)
            self.saves += 1

    def mark_needs_reauthorization(self, connection_id: Any, reason: str) -> None:
        with self._lock:
            self.reauthorization[connection_id] = reason

    def needs_reauthorization(self, connection_id: Any) -> str | None:
        return self.reauthorization.get(connection_id)


class RedisTokenStore:
    """Tokens as JSON in Redis, shared by processes (used by the concurrency test)."""

    def __init__(self, redis_conn: redis.Redis, prefix: str = "exact:tokens") -> None:
        self.redis = redis_conn
        self.prefix = prefix

    def _key(self, connection_id: Any) -> str:
        return f"{self.prefix}:{connection_id}"

    def load(self, connection_id: Any) -> TokenSet | None:
        raw = self.redis.get(self._key(connection_id))
        return TokenSet.from_dict(json.loads(raw)) if raw else None

    def save(self, connection_id: Any, tokens: TokenSet) -> None:
        pipe = self.redis.pipeline()
        pipe.set(self._key(connection_id), json.dumps(tokens.to_dict()))
        pipe.delete(self._key(connection_id) + ":reauth")
        pipe.execute()

    def mark_needs_reauthorization(self, connection_id: Any, reason: str) -> None:
        self.redis.set(self._key(connection_id) + ":reauth", reason)

    def needs_reauthorization(self, connection_id: Any) -> str | None:
        raw = self.redis.get(self._key(connection_id) + ":reauth")
        return raw.decode() if raw else None


RefreshFunc = Callable[[str], TokenSet]


class TokenManager:
    """Hands out valid access tokens and refreshes them one process at a time.

    `refresh_func(refresh_token) -> TokenSet` calls Exact's token endpoint, e.g.
    `functools.partial(oauth.refresh_tokens, base_url, client_id, client_secret)`.
    `lock_timeout` must exceed the token call's HTTP timeout, or the lock can expire mid-refresh.
    `use_lock=False` exists only to prove in a test that the lock is needed.
    """

    def __init__(
        self,
        store: TokenStore,
        redis_conn: redis.Redis,
        refresh_func: RefreshFunc,
        *,
        clock: Callable[[], datetime] = utcnow,
        lock_timeout: float = 60.0,
        blocking_timeout: float = 30.0,
        margin: float = 30.0,
        use_lock: bool = True,
        lock_prefix: str = "exact:token-lock",
    ) -> None:
        self.store = store
        self.redis = redis_conn
        self.refresh_func = refresh_func
        self.clock = clock
        self.lock_timeout = lock_timeout
        self.blocking_timeout = blocking_timeout
        self.margin = margin
        self.use_lock = use_lock
        self.lock_prefix = lock_prefix

    def _load(self, connection_id: Any) -> TokenSet:
        tokens = self.store.load(connection_id)
        if tokens is None:
            raise ExactReauthorizationNeeded("no tokens stored for this connection")
        return tokens

    def _usable(self, tokens: TokenSet) -> bool:
        """Use without refreshing: valid beyond the margin, or too young to refresh (570 s)."""
        now = self.clock()
        return tokens.valid_for(now) > self.margin or not tokens.may_refresh(now)

    def access_token(self, connection_id: Any) -> str:
        """A valid access token, refreshing it first when it is about to expire."""
        tokens = self._load(connection_id)
        if self._usable(tokens):
            return tokens.access_token
        with self._locked(connection_id):
            tokens = self._load(connection_id)
            if self._usable(tokens):
                return tokens.access_token
            return self._refresh(connection_id, tokens).access_token

    def force_refresh(self, connection_id: Any) -> TokenSet | None:
        """Refresh now if Exact allows it (keep-alive of the 30-day refresh token).

        Returns the new pair, or None when it is too early (the 570 s rule).
        """
        with self._locked(connection_id):
            tokens = self._load(connection_id)
            if not tokens.may_refresh(self.clock()):
                return None
            return self._refresh(connection_id, tokens)

    def after_unauthorized(self, connection_id: Any, rejected_token: str | None = None) -> str:
        """A token to retry with after Exact answered 401 (use as ExactClient.on_unauthorized).

        If another process stored a different token meanwhile, that one is returned; else the
        token is refreshed when the 570 s rule allows it. A refused refresh marks the connection
        (see ``_refresh``). So does a refused *fresh* token: Exact turned down the very token it
        issued less than 570 s ago and that has not expired, which only a withdrawn consent (or
        an Exact user without access) explains; the status then follows that answer at once
        and ``ExactConsentRevoked`` is raised.
        """
        with self._locked(connection_id):
            tokens = self._load(connection_id)
            if rejected_token and tokens.access_token != rejected_token:
                return tokens.access_token
            now = self.clock()
            if tokens.may_refresh(now):
                return self._refresh(connection_id, tokens).access_token
            if rejected_token and tokens.valid_for(now) > 0:
                error = ExactConsentRevoked("a fresh access token was refused", status=401)
                log.warning("Exact refused a fresh token of connection %s", connection_id)
                self.store.mark_needs_reauthorization(connection_id, str(error.template))
                raise error
            return tokens.access_token

    def _refresh(self, connection_id: Any, tokens: TokenSet) -> TokenSet:
        """Call Exact, persist the rotated pair at once; never store anything on failure."""
        try:
            new = self.refresh_func(tokens.refresh_token)
        except ExactTooEarlyToRefresh:
            log.info(
                "Exact says too early to refresh connection %s; using stored token", connection_id
            )
            return self._load(connection_id)
        except ExactReauthorizationNeeded as exc:
            current = self.store.load(connection_id)
            if current is not None and current.refresh_token != tokens.refresh_token:
                # Someone else rotated the pair meanwhile (e.g. our lock expired): theirs is good.
                log.warning("Refresh token of connection %s was rotated elsewhere", connection_id)
                return current
            self.store.mark_needs_reauthorization(connection_id, exc.raw_message or exc.technical())
            raise
        self.store.save(connection_id, new)
        return new

    def _locked(self, connection_id: Any):
        if not self.use_lock:
            return _NoLock()
        lock = self.redis.lock(
            f"{self.lock_prefix}:{connection_id}",
            timeout=self.lock_timeout,
            blocking_timeout=self.blocking_timeout,
            sleep=0.05,
        )
        return _HeldLock(lock, connection_id)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _HeldLock:
    """Acquire a redis Lock; a lost lock on release is logged, since tokens are saved by then."""

    def __init__(self, lock: Any, connection_id: Any) -> None:
        self.lock = lock
        self.connection_id = connection_id

    def __enter__(self) -> None:
        if not self.lock.acquire():
            raise ExactUnavailable(f"token lock of connection {self.connection_id} stayed busy")

    def __exit__(self, *exc: object) -> None:
        try:
            self.lock.release()
        except LockError:
            log.warning("Token lock of connection %s expired before release", self.connection_id)
