"""The login throttle: slow password guessing down without handing anyone a lockout.

Failed logins are counted in Redis three ways:

- per IP address, whatever the e-mail (``LOGIN_LIMIT_PER_IP``, Flask-Limiter on the view):
  one machine trying many addresses is refused;
- per e-mail address and IP address (``LOGIN_LIMIT_PER_EMAIL_IP``): one machine guessing one
  user's password is refused, while that user still logs in from anywhere else;
- per e-mail address, from everywhere: after EMAIL_FREE_FAILURES failures, each attempt must
  come 1, 2, 4, ... seconds (at most MAX_WAIT) after the last failure. Many machines guessing
  one password together get one guess per MAX_WAIT; the owner waits at most that long, and a
  browser that has logged in to the address before (a signed cookie) does not wait at all.

A refused attempt checks no password and counts for nothing. A password reset clears the
counters of the address.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse

from portal.models import normalize_email
from portal.queue import redis_connection

EMAIL_FREE_FAILURES = 10
MAX_WAIT = 60  # seconds
FORGET_AFTER = 15 * 60  # seconds after the last failure of an address, its count is gone
DEVICE_COOKIE = "login_device"
DEVICE_MAX_AGE = 180 * 24 * 3600
DEVICE_SALT = "login-device"


def now() -> float:
    """Epoch seconds; tests move it."""
    return time.time()


def _key(email: str) -> str:
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def _ip_limit() -> RateLimitItem:
    return parse(current_app.config["LOGIN_LIMIT_PER_EMAIL_IP"])


def wait_seconds(email: str, ip: str) -> int:
    """Seconds before a login for ``email`` from ``ip`` may be tried; 0: try it now."""
    conn = redis_connection()
    key = _key(email)
    ip_key = f"{key}:{ip}"
    if int(conn.get(ip_key) or 0) >= _ip_limit().amount:
        return max(1, conn.ttl(ip_key))
    if is_trusted_device(email):
        return 0
    failures, last = conn.hmget(key, "count", "last")
    over = int(failures or 0) - EMAIL_FREE_FAILURES
    if over < 0:
        return 0
    delay = min(2 ** min(over, 16), MAX_WAIT)
    return max(0, math.ceil(float(last) + delay - now()))


def record_failure(email: str, ip: str) -> None:
    key = _key(email)
    with redis_connection().pipeline() as pipe:
        pipe.set(f"{key}:{ip}", 0, ex=_ip_limit().get_expiry(), nx=True)
        pipe.incr(f"{key}:{ip}")
        pipe.hincrby(key, "count", 1)
        pipe.hset(key, "last", now())
        pipe.expire(key, FORGET_AFTER)
        pipe.execute()


def forget_ip(email: str, ip: str) -> None:
    """After a successful login: the IP's earlier typos no longer count."""
    redis_connection().delete(f"{_key(email)}:{ip}")


def clear(email: str) -> None:
    """Forget every failure for the address (after a successful password reset)."""
    conn = redis_connection()
    key = _key(email)
    conn.delete(key, *conn.scan_iter(match=f"{key}:*", count=1000))


def wait_message(seconds: int) -> str:
    if seconds > 90:
        return _(
            "Too many failed attempts for this address. Try again in %(minutes)d minutes, "
            "or reset your password.",
            minutes=math.ceil(seconds / 60),
        )
    return ngettext(
        "Too many failed attempts for this address. Try again in %(num)d second, "
        "or reset your password.",
        "Too many failed attempts for this address. Try again in %(num)d seconds, "
        "or reset your password.",
        seconds,
    )


# --- the browser that logged in before ---------------------------------------------------------


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def remember_device(response: Response, email: str) -> None:
    """Mark this browser as one that logged in to the address (after a successful login)."""
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps(_key(email)),
        max_age=DEVICE_MAX_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def is_trusted_device(email: str) -> bool:
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return False
    try:
        return _device_serializer().loads(value, max_age=DEVICE_MAX_AGE) == _key(email)
    except BadSignature:
        return False
