"""A tiny Exact-like token endpoint with rotating refresh tokens, for the concurrency test.

It answers "Old refresh token used." (401 unauthorized_client) when a refresh token is reused,
as Exact does, and counts the calls. Independent of the sandbox package on purpose.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from datetime import UTC, datetime, timedelta

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "race-client"
CLIENT_SECRET = "race-secret"
CONNECTION_ID = "race-connection"


class RotatingTokenServer:
    def __init__(self, delay: float = 0.2) -> None:
        self.delay = delay
        self.current_refresh_token = "refresh-0"
        self.generation = 0
        self.refresh_calls = 0
        self.old_token_failures = 0
        self._lock = threading.Lock()
        self._server = None
        self.base_url = ""

    def _json(self, status: int, body: dict) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.method != "POST" or request.path != "/api/oauth2/token":
            return Response("not found", status=404)(environ, start_response)
        return self._token(request.form)(environ, start_response)

    def _token(self, form) -> Response:
        time.sleep(self.delay)  # a slow token endpoint: concurrent racers overlap
        with self._lock:
            self.refresh_calls += 1
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return self._json(400, {"error": "invalid_client"})
            if form.get("grant_type") != "refresh_token":
                return self._json(400, {"error": "unsupported_grant_type"})
            if form.get("refresh_token") != self.current_refresh_token:
                self.old_token_failures += 1
                return self._json(
                    401,
                    {
                        "error": "unauthorized_client",
                        "error_description": "Old refresh token used.",
                    },
                )
            self.generation += 1
            self.current_refresh_token = f"refresh-{self.generation}"
            answer = {
                "access_token": f"access-{self.generation}",
                "token_type": "bearer",
                "expires_in": "600",
                "refresh_token": self.current_refresh_token,
            }
        return self._json(200, answer)

    def start(self) -> RotatingTokenServer:
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def expiring_tokens():
    """A pair issued 580 s ago: 20 s left, so every racer wants to refresh it."""
    from portal.exact.client.tokens import TokenSet

    issued = datetime.now(UTC) - timedelta(seconds=580)
    return TokenSet.issued("access-0", "refresh-0", "600", issued)


def race_worker(redis_url, base_url, use_lock, barrier, results) -> None:
    """One worker process: wait for all, then ask for an access token once."""
    import redis

    from portal.exact.client import oauth
    from portal.exact.client.errors import ExactError
    from portal.exact.client.tokens import RedisTokenStore, TokenManager

    conn = redis.Redis.from_url(redis_url)
    refresh = functools.partial(oauth.refresh_tokens, base_url, CLIENT_ID, CLIENT_SECRET)
    manager = TokenManager(
        RedisTokenStore(conn), conn, refresh, use_lock=use_lock, blocking_timeout=20
    )
    barrier.wait(timeout=60)
    try:
        results.put(("ok", manager.access_token(CONNECTION_ID)))
    except ExactError as exc:
        results.put(("error", type(exc).__name__, exc.raw_message))
    finally:
        conn.close()
