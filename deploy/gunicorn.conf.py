"""gunicorn's settings for the portal's web process (deploy/portal-web.service):

    gunicorn --config deploy/gunicorn.conf.py wsgi:app

Each value can be set per machine in the environment (the units' EnvironmentFile):
WEB_BIND (comma-separated addresses), WEB_CONCURRENCY (processes), WEB_THREADS, WEB_TIMEOUT,
WEB_GRACEFUL_TIMEOUT, and the portal's LOG_FORMAT and LOG_LEVEL, which gunicorn's own lines
follow too. SIGTERM (systemctl stop) is a graceful stop: no new connections, requests in
flight get WEB_GRACEFUL_TIMEOUT seconds; SIGHUP (systemctl reload) starts new processes with
the new code and stops the old ones gracefully.
"""

import multiprocessing
import os

from portal.observability import gunicorn_logconfig

_env = os.environ.get

bind = [address.strip() for address in _env("WEB_BIND", "127.0.0.1:8000").split(",")]
workers = int(_env("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
threads = int(_env("WEB_THREADS", "1"))
timeout = int(_env("WEB_TIMEOUT", "30"))  # a process silent this long is killed and replaced
graceful_timeout = int(_env("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# A fresh process now and then, so a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200
proc_name = "portal-web"
# The app alone decides which X-Forwarded-* headers to believe (TRUSTED_PROXIES, ProxyFix):
# gunicorn takes none of them, whoever sends them.
forwarded_allow_ips = ""
secure_scheme_headers = {}

# The access log: one line per request. The portal's log format adds the request id the app
# put in the answer's X-Request-ID (the proxy's, or a new one), as in the app's own lines for
# that request: `... INFO gunicorn.access [request_id=...] 10.0.0.5 "GET / HTTP/1.1" 200 ...`.
accesslog = "-"
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(b)s %(M)sms forwarded_for="%({x-forwarded-for}i)s" "%(a)s"'
)
logconfig_dict = gunicorn_logconfig(
    _env("LOG_FORMAT", "plain").strip().lower(), _env("LOG_LEVEL", "INFO").strip().upper()
)

# No control socket (gunicornc): systemd starts, reloads and stops the process; and two
# gunicorns on one machine would fight over the default path under $HOME.
control_socket_disable = True
