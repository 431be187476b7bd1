"""Write audit events: every admin action leaves a line."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from portal.extensions import db
from portal.models import Account, AuditEvent, User


def record(
    account: Account,
    action: str,
    target: str | None = None,
    actor: User | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session; it commits with the change it describes."""
    if actor is None and getattr(current_user, "is_authenticated", False):
        actor = current_user
    event = AuditEvent(
        account_id=account.id,
        actor_id=actor.id if actor is not None else None,
        action=action,
        target=target,
        details=details,
    )
    db.session.add(event)
    return event
