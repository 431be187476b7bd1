"""The portal's wiring of the Exact client: settings, the token manager, rate limits and API
clients, and the rule of which connection may serve which client account.

Every call to Exact for a client's dossier goes through ``link_api_client``: only the
connection the dossier's link belongs to, and only while that connection's owner (the client
itself, or the portal it is actively linked to) still has access.
"""

from __future__ import annotations

from functools import partial

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.exact.client import hosts, oauth
from portal.exact.client.http import ExactClient
from portal.exact.client.ratelimit import RateLimits
from portal.exact.client.tokens import TokenManager
from portal.exact.store import DatabaseTokenStore
from portal.extensions import db
from portal.messages import N_
from portal.models import (
    Account,
    ConnectionStatus,
    ExactConnection,
    ExactDivisionLink,
    PortalLink,
    PortalLinkStatus,
)
from portal.queue import redis_connection

WEB_MAX_WAIT = 5  # seconds a web request may wait for Exact's minute to reset
# A job sleeps on Exact's minute only when it resets within JOB_MAX_WAIT seconds (the wait
# includes RateLimits' 1 s margin); a longer wait ends the run WAITING and its resume is
# scheduled for the reset, so the worker takes a dossier that has budget meanwhile. Why 3 s:
# the round trip costs the worker little (measured, SQLite + local sandbox: ~25 ms for the run
# that ends WAITING, ~8 ms for the division check the resume spends, one of the minute's 60
# calls) but delays the dossier by up to ~2 s (RQ's scheduler polls every second, the resume
# starts 1 s after the reset); a sleep of that order is as cheap, a longer one holds the
# worker from every other dossier. At most 3 s asleep per spent minute keeps the workers'
# sleep well under issue 14's 10 %.
JOB_MAX_WAIT = 3
COUNTRIES = tuple(hosts.HOSTS)


class ConnectError(Exception):
    """Connecting failed; ``message`` is for the user. ``status`` is the HTTP answer to give."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


# --- the app's Exact settings ---------------------------------------------------------------


def base_url_for(country: str) -> str:
    """The Exact host of the country, or the configured base URL (the sandbox)."""
    return current_app.config.get("EXACT_BASE_URL") or hosts.base_url_for(country)


def client_credentials() -> tuple[str, str]:
    config = current_app.config
    return config.get("EXACT_CLIENT_ID") or "", config.get("EXACT_CLIENT_SECRET") or ""


def redirect_uri() -> str:
    return current_app.config.get("EXACT_REDIRECT_URI") or url_for(
        "exact_oauth.callback", _external=True
    )


# --- tokens and the API client ----------------------------------------------------------------


def token_manager(connection: ExactConnection, use_lock: bool = True) -> TokenManager:
    """Single-flight refresh across processes (``use_lock=False`` only to prove the lock)."""
    client_id, secret = client_credentials()
    refresh = partial(oauth.refresh_tokens, connection.base_url, client_id, secret, clock=clock.now)
    return TokenManager(
        DatabaseTokenStore(), redis_connection(), refresh, clock=clock.now, use_lock=use_lock
    )


def rate_limits(max_wait: float = JOB_MAX_WAIT) -> RateLimits:
    """The app's per-division rate-limit state in Redis (Exact counts per app and division)."""
    return RateLimits(
        redis_connection(),
        scope=client_credentials()[0] or "exact",
        max_wait=max_wait,
        clock=clock.time,
        sleep=clock.sleep,
    )


def _exact_client(
    base_url: str, token_provider, max_wait: float = JOB_MAX_WAIT, **options
) -> ExactClient:
    return ExactClient(
        base_url,
        token_provider=token_provider,
        rate_limits=rate_limits(max_wait),
        clock=clock.time,
        sleep=clock.sleep,
        **options,
    )


def api_client(connection: ExactConnection, max_wait: float = JOB_MAX_WAIT) -> ExactClient:
    """An API client for the connection; every call shares its single-flight token refresh.

    A short ``max_wait`` (a web request, an export) also means fewer, quicker retries of 5xx
    answers; a sync job's (JOB_MAX_WAIT, shorter still) keeps the full retries.
    """
    manager = token_manager(connection)
    connection_id = connection.id  # not the ORM object: a sync reads in a thread of its own
    return _exact_client(
        connection.base_url,
        lambda: manager.access_token(connection_id),
        max_wait,
        on_unauthorized=lambda rejected: manager.after_unauthorized(connection_id, rejected),
        **({"max_retries": 2, "backoff": 0.5} if _quick_retries(max_wait) else {}),
    )


def _quick_retries(max_wait: float) -> bool:
    return max_wait != JOB_MAX_WAIT and max_wait <= WEB_MAX_WAIT


def serves(connection: ExactConnection, client: Account) -> bool:
    """Whether the connection may be used for the client's dossier: the client's own, or
    that of the portal the client is actively linked to. A connection whose owner lost access
    to the client is never used for it, for any call."""
    if connection.account_id == client.id:
        return True
    return (
        db.session.scalar(
            select(PortalLink.id).where(
                PortalLink.client_id == client.id,
                PortalLink.portal_id == connection.account_id,
                PortalLink.status == PortalLinkStatus.ACTIVE,
            )
        )
        is not None
    )


def no_longer_serves(connection: ExactConnection) -> ConnectError:
    return ConnectError(
        _(
            "The Exact Online connection of %(name)s may no longer be used for this client "
            "account: the client no longer gives %(name)s access. Link the administration "
            "again through a connection that may.",
            name=connection.account.name,
        ),
        403,
    )


def office_connection_notice(link: ExactDivisionLink) -> str | None:
    """What a client reads when the connection its link belongs to is its office's and needs
    re-authorisation: the office must act (and was mailed when it broke), not the client."""
    connection = link.connection
    if (
        connection.account_id == link.account_id
        or connection.status != ConnectionStatus.NEEDS_REAUTHORIZATION
    ):
        return None
    return N_(
        "The Exact Online connection of %(office)s needs attention; %(office)s has been notified.",
        office=connection.account.name,
    )


def link_api_client(link: ExactDivisionLink, max_wait: float = JOB_MAX_WAIT) -> ExactClient:
    """The API client for a client's dossier: only through the connection its link belongs
    to, and only while that connection may serve the client."""
    if not serves(link.connection, link.account):
        raise no_longer_serves(link.connection)
    return api_client(link.connection, max_wait=max_wait)


def connection_of(account: Account) -> ExactConnection | None:
    return db.session.scalar(
        select(ExactConnection).where(ExactConnection.account_id == account.id)
    )


def link_of(client: Account) -> ExactDivisionLink | None:
    return db.session.scalar(
        select(ExactDivisionLink).where(ExactDivisionLink.account_id == client.id)
    )


def division_by_code(connection: ExactConnection, code: int) -> dict | None:
    return next((d for d in connection.divisions or [] if d["code"] == code), None)
