import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from portal.exact.client.errors import (
    ExactConsentRevoked,
    ExactReauthorizationNeeded,
    ExactServerError,
    ExactTooEarlyToRefresh,
    ExactUnavailable,
)
from portal.exact.client.tokens import InMemoryTokenStore, RedisTokenStore, TokenManager, TokenSet

ISSUED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LOCK = "exact:token-lock:conn-1"


class Clock:
    def __init__(self, now=ISSUED):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


class FakeRefresh:
    """Stands in for oauth.refresh_tokens; rotates like Exact does."""

    def __init__(self, clock, error=None):
        self.clock = clock
        self.error = error
        self.calls = []

    def __call__(self, refresh_token):
        self.calls.append(refresh_token)
        if self.error:
            raise self.error
        n = len(self.calls)
        return TokenSet.issued(f"access-{n}", f"refresh-{n}", "600", self.clock(), refreshed=True)


def first_pair(expires_in=600):
    return TokenSet.issued("access-0", "refresh-0", expires_in, ISSUED)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(redis_conn):
    store = RedisTokenStore(redis_conn)
    store.save("conn-1", first_pair())
    return store


def manager_for(store, redis_conn, refresh, clock, **options):
    return TokenManager(store, redis_conn, refresh, clock=clock, **options)


def test_token_set_round_trip_and_lifetimes():
    tokens = first_pair()
    assert tokens.access_expires_at == ISSUED + timedelta(seconds=600)
    assert tokens.refresh_token_expires_at == ISSUED + timedelta(days=30)
    assert tokens.refreshed_at is None
    assert TokenSet.from_dict(tokens.to_dict()) == tokens


def test_no_refresh_and_no_lock_while_valid(store, redis_conn, clock):
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock, blocking_timeout=0.2)
    other = redis_conn.lock(LOCK, timeout=10)
    assert other.acquire()  # someone holds the lock: a valid token must not wait for it
    clock.advance(500)
    started = time.monotonic()
    assert manager.access_token("conn-1") == "access-0"
    assert time.monotonic() - started < 0.1
    assert refresh.calls == []
    other.release()


def test_refresh_near_expiry_persists_the_rotated_pair(store, redis_conn, clock):
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(575)
    assert manager.access_token("conn-1") == "access-1"
    assert refresh.calls == ["refresh-0"]
    saved = store.load("conn-1")
    assert (saved.access_token, saved.refresh_token) == ("access-1", "refresh-1")
    assert saved.refreshed_at == clock.now
    assert saved.refresh_token_expires_at == clock.now + timedelta(days=30)
    assert not redis_conn.exists(LOCK)  # released
    assert manager.access_token("conn-1") == "access-1"
    assert len(refresh.calls) == 1


def test_never_refresh_before_570_seconds(redis_conn, clock):
    store = InMemoryTokenStore()
    store.save("conn-1", first_pair(expires_in=120))  # short-lived: expiring before 570 s
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(300)
    assert manager.access_token("conn-1") == "access-0"
    assert manager.force_refresh("conn-1") is None
    clock.advance(269)  # 569 s
    assert manager.force_refresh("conn-1") is None
    assert refresh.calls == []
    clock.advance(1)  # 570 s
    assert manager.access_token("conn-1") == "access-1"
    assert refresh.calls == ["refresh-0"]


def test_force_refresh_for_keep_alive(store, redis_conn, clock):
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(86400)
    new = manager.force_refresh("conn-1")
    assert new.refresh_token == "refresh-1"
    assert store.load("conn-1") == new


def test_reload_after_lock_uses_the_pair_another_process_stored(store, redis_conn, clock):
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(590)
    other = redis_conn.lock(LOCK, timeout=10)
    assert other.acquire()  # another process is refreshing
    result = {}
    waiter = threading.Thread(target=lambda: result.update(token=manager.access_token("conn-1")))
    waiter.start()
    time.sleep(0.2)
    assert "token" not in result  # it waits for the lock
    store.save("conn-1", TokenSet.issued("access-other", "refresh-other", "600", clock()))
    other.release()
    waiter.join(5)
    assert result["token"] == "access-other"
    assert refresh.calls == []


@pytest.mark.parametrize(
    "error", [ExactServerError("boom", status=503), ExactUnavailable("timeout")]
)
def test_failed_refresh_keeps_the_old_pair(store, redis_conn, clock, error):
    refresh = FakeRefresh(clock, error=error)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(580)
    with pytest.raises(ExactUnavailable):
        manager.access_token("conn-1")
    assert store.load("conn-1") == first_pair()
    assert store.needs_reauthorization("conn-1") is None
    assert not redis_conn.exists(LOCK)
    refresh.error = None
    assert manager.access_token("conn-1") == "access-2"  # the old refresh token still works


def test_old_refresh_token_used_marks_needs_reauthorization(store, redis_conn, clock):
    error = ExactReauthorizationNeeded("Old refresh token used.", status=401)
    refresh = FakeRefresh(clock, error=error)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(580)
    with pytest.raises(ExactReauthorizationNeeded):
        manager.access_token("conn-1")
    assert store.needs_reauthorization("conn-1") == "Old refresh token used."
    assert store.load("conn-1") == first_pair()  # nothing overwritten
    store.save("conn-1", first_pair())  # reconnecting clears the mark
    assert store.needs_reauthorization("conn-1") is None


def test_rejection_after_a_rotation_elsewhere_is_not_a_broken_chain(store, redis_conn, clock):
    rotated = TokenSet.issued("access-x", "refresh-x", "600", ISSUED + timedelta(seconds=579))

    def refresh(refresh_token):
        store.save("conn-1", rotated)  # e.g. a process whose lock expired got there first
        raise ExactReauthorizationNeeded("Old refresh token used.")

    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(580)
    assert manager.access_token("conn-1") == "access-x"
    assert store.needs_reauthorization("conn-1") is None


def test_too_early_to_refresh_uses_the_stored_token(store, redis_conn, clock):
    refresh = FakeRefresh(clock, error=ExactTooEarlyToRefresh("access_token not expired"))
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(575)
    assert manager.access_token("conn-1") == "access-0"
    assert len(refresh.calls) == 1
    assert store.needs_reauthorization("conn-1") is None


def test_missing_tokens_need_reauthorization(redis_conn, clock):
    manager = manager_for(InMemoryTokenStore(), redis_conn, FakeRefresh(clock), clock)
    with pytest.raises(ExactReauthorizationNeeded):
        manager.access_token("conn-1")


def test_after_unauthorized(store, redis_conn, clock):
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(100)
    assert manager.after_unauthorized("conn-1", "stale-token") == "access-0"  # newer one stored
    assert refresh.calls == []
    clock.advance(480)
    assert manager.after_unauthorized("conn-1", "access-0") == "access-1"
    assert store.needs_reauthorization("conn-1") is None


def test_a_refused_fresh_token_marks_the_connection_at_once(store, redis_conn, clock):
    """Exact turned down the token it issued minutes ago (too young to refresh, not expired):
    only a withdrawn consent explains that, so the status follows at once."""
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(100)
    with pytest.raises(ExactConsentRevoked):
        manager.after_unauthorized("conn-1", "access-0")
    assert refresh.calls == []
    assert "consent" in store.needs_reauthorization("conn-1")


def test_a_just_refreshed_token_refused_too_marks_the_connection(store, redis_conn, clock):
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock)
    clock.advance(580)
    assert manager.after_unauthorized("conn-1", "access-0") == "access-1"  # refreshed
    with pytest.raises(ExactConsentRevoked):  # the fresh one was refused as well
        manager.after_unauthorized("conn-1", "access-1")
    assert store.needs_reauthorization("conn-1")


def test_busy_lock_gives_unavailable(store, redis_conn, clock):
    manager = manager_for(store, redis_conn, FakeRefresh(clock), clock, blocking_timeout=0.2)
    other = redis_conn.lock(LOCK, timeout=10)
    assert other.acquire()
    clock.advance(590)
    with pytest.raises(ExactUnavailable):
        manager.access_token("conn-1")
    other.release()


def test_lock_can_be_disabled(store, redis_conn, clock):
    refresh = FakeRefresh(clock)
    manager = manager_for(store, redis_conn, refresh, clock, use_lock=False, blocking_timeout=0.2)
    other = redis_conn.lock(LOCK, timeout=10)
    assert other.acquire()
    clock.advance(590)
    assert manager.access_token("conn-1") == "access-1"  # did not wait for the held lock
    other.release()
