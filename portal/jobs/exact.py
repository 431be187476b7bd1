"""Exact jobs: keep connections alive, and tell the office when one has stopped working."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.exact import wiring
from portal.exact.client.errors import ExactError
from portal.extensions import db
from portal.jobs.context import app_job
from portal.mail import send_mail_to
from portal.models import ConnectionStatus, ExactConnection
from portal.permissions import Action, people_who_may
from portal.urls import external_url

log = logging.getLogger(__name__)
REFRESH_WHEN_WITHIN = timedelta(days=7)


@app_job
def keep_connections_alive() -> dict:
    """Refresh every connection whose refresh token would die within a week unused, and
    alert the admins of connections that need a person to reconnect (once per breakage)."""
    refreshed = failed = 0
    due = db.session.scalars(
        select(ExactConnection).where(
            ExactConnection.status == ConnectionStatus.CONNECTED,
            ExactConnection.refresh_token_expires_at < clock.now() + REFRESH_WHEN_WITHIN,
        )
    ).all()
    for connection in due:
        try:
            if wiring.token_manager(connection).force_refresh(connection.id) is not None:
                refreshed += 1
        except ExactError as error:
            failed += 1
            log.warning("keep-alive of connection %s failed: %s", connection.id, error)
    alerted = alert_broken_connections()
    return {"refreshed": refreshed, "failed": failed, "alerted": alerted}


@app_job
def alert_broken() -> int:
    """Queued the moment a connection breaks, so its admins hear at once (not hours later)."""
    return alert_broken_connections()


def alert_broken_connections() -> int:
    """Mail the admins of each connection that needs re-authorisation, once."""
    db.session.expire_all()
    broken = db.session.scalars(
        select(ExactConnection).where(
            ExactConnection.status == ConnectionStatus.NEEDS_REAUTHORIZATION,
            ExactConnection.alerted_at.is_(None),
        )
    ).all()
    for connection in broken:
        link = external_url("exact.overview", account_id=connection.account_id)
        send_mail_to(
            people_who_may(Action.CONNECT_EXACT, connection.account_id),
            _l("Exact Online stopped working for %(name)s", name=connection.account.name),
            "exact_connection_broken",
            connection=connection,
            link=link,
        )
        connection.alerted_at = clock.now()
    db.session.commit()
    return len(broken)
