"""The database token store: encrypted tokens, written in a transaction of their own.

The token manager calls ``save`` right after Exact rotated the refresh token. It must reach
the database at once and regardless of the caller's unit of work (which may still roll back),
because the old refresh token is dead from that moment on.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update

from portal import clock
from portal.crypto import decrypt, encrypt
from portal.exact.client.tokens import TokenSet
from portal.extensions import db
from portal.models import ConnectionStatus, ExactConnection
from portal.queue import get_queue

TABLE = ExactConnection.__table__
ALERT_JOB = "portal.jobs.exact.alert_broken"  # mails the admins of broken connections, once


class DatabaseTokenStore:
    def load(self, connection_id: int) -> TokenSet | None:
        """The stored tokens, read fresh from the database (not the session's cache)."""
        with db.engine.connect() as conn:
            row = conn.execute(
                select(TABLE.c.tokens_encrypted, TABLE.c.status).where(TABLE.c.id == connection_id)
            ).first()
        if row is None or row.tokens_encrypted is None:
            return None
        if row.status != ConnectionStatus.CONNECTED:
            return None
        return TokenSet.from_dict(json.loads(decrypt(row.tokens_encrypted)))

    def save(self, connection_id: int, tokens: TokenSet) -> None:
        with db.engine.begin() as conn:
            conn.execute(
                update(TABLE).where(TABLE.c.id == connection_id).values(**token_columns(tokens))
            )

    def mark_needs_reauthorization(self, connection_id: int, reason: str) -> None:
        """The status follows Exact's answer at once; the account's admins are mailed (a job,
        once per breakage) as soon as the connection turns from connected to broken."""
        with db.engine.begin() as conn:
            changed = conn.execute(
                update(TABLE)
                .where(
                    TABLE.c.id == connection_id,
                    TABLE.c.status == ConnectionStatus.CONNECTED,
                )
                .values(status=ConnectionStatus.NEEDS_REAUTHORIZATION, status_reason=reason)
            ).rowcount
        if changed:
            get_queue("default").enqueue(ALERT_JOB)


def token_columns(tokens: TokenSet) -> dict:
    """The columns that change with a new token pair (status back to connected)."""
    return {
        "tokens_encrypted": encrypt(json.dumps(tokens.to_dict())),
        "access_expires_at": tokens.access_expires_at,
        "refresh_token_expires_at": tokens.refresh_token_expires_at,
        "last_refresh_at": tokens.refreshed_at or tokens.issued_at or clock.now(),
        "status": ConnectionStatus.CONNECTED,
        "status_reason": None,
    }
