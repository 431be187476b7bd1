"""The sandbox Flask app and a helper to serve it over real HTTP in a background thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from flask import Flask, Response, g, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import api, control, oauth
from .clock import SandboxClock
from .config import normalize
from .responses import exact_error, json_response, state
from .state import SandboxState

MAX_BODY_BYTES = 10 * 1024 * 1024  # Exact refuses POST bodies over 10 MB


def create_sandbox_app(config: dict | None = None, clock: SandboxClock | None = None) -> Flask:
    """A Flask app behaving like Exact Online (see README.md). ``config`` overlays the default."""
    app = Flask("exact_sandbox")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["exact_sandbox"] = SandboxState(normalize(config), clock)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.before_request(_inject_fault)
    app.after_request(_fail_after_booking)
    app.register_error_handler(404, lambda _e: exact_error(404, "Resource not found"))
    app.register_error_handler(405, lambda _e: exact_error(405, "Method not allowed"))
    app.register_error_handler(413, lambda _e: exact_error(413, "Request body too large"))
    app.add_url_rule("/", "index", _index)
    app.add_url_rule("/docs/SysAttachment.aspx", "attachment", api.download_attachment)
    return app


def _index() -> Response:
    st = state()
    return json_response(
        {
            "service": "Exact Online sandbox",
            "authorize": "/api/oauth2/auth",
            "token": "/api/oauth2/token",
            "api": "/api/v1",
            "control": "/_sandbox/",
            "apps": sorted(st.apps),
        }
    )


# ---------------------------------------------------------------- faults
def _inject_fault() -> Response | None:
    if request.path.startswith("/_sandbox") or request.path == "/":
        return None
    st = state()
    fault = st.faults.take(request.method, request.path)
    if fault is None:
        return None
    with st.lock:
        st.counters.add("faults", "sandbox", fault.kind)
    if fault.kind == "slow":
        time.sleep(fault.delay)
        return None
    if fault.kind == "book_then_fail":
        g.fail_after = fault
        return None
    if fault.kind == "drop":
        return _drop_connection()
    if fault.kind == "rate_limit":
        return Response(b"", 429)
    return _status_page(fault.status)


def _fail_after_booking(response: Response) -> Response:
    fault = g.pop("fail_after", None)
    if fault is None or response.status_code >= 300:
        return response
    return _drop_connection() if fault.drop else _status_page(fault.status)


def _status_page(status: int) -> Response:
    if status >= 500:
        body = f"<html><body><h1>{status} Service Error</h1></body></html>"
        return Response(body, status, content_type="text/html")
    return exact_error(status, "Injected fault")


def _drop_connection() -> Response:
    """Close the socket without an answer; the client sees the connection end."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", 500)


# ---------------------------------------------------------------- serving
class QuietHandler(WSGIRequestHandler):
    """No access log line per request (tests and benchmarks make thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class SandboxServer:
    """A sandbox served over HTTP in a daemon thread."""

    def __init__(self, server: BaseWSGIServer, app: Flask) -> None:
        self.server = server
        self.app = app
        self.state: SandboxState = app.extensions["exact_sandbox"]
        self.host = server.host
        self.port = server.port
        self.url = f"http://{server.host}:{server.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.01,), name="exact-sandbox", daemon=True
        )

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server stops (the CLI waits here for Ctrl-C)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox_in_thread(
    config: dict | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    clock: SandboxClock | None = None,
    quiet: bool = True,
    ssl_context: object | None = None,
) -> SandboxServer:
    """Serve a new sandbox on ``host:port`` (0 picks a free port); ``.stop()`` ends it."""
    app = create_sandbox_app(config, clock)
    handler = QuietHandler if quiet else WSGIRequestHandler
    server = make_server(
        host, port, app, threaded=True, request_handler=handler, ssl_context=ssl_context
    )
    sandbox = SandboxServer(server, app)
    if ssl_context is not None:
        sandbox.url = f"https://{'localhost' if host == '127.0.0.1' else host}:{server.port}"
    return sandbox.start()
