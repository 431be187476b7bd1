"""Database models. Import from here: ``from portal.models import User, Account``."""

from portal.models.account import Account, AccountKind, Membership, Role
from portal.models.audit import AuditEvent
from portal.models.outbox import OutboxMessage
from portal.models.user import User, normalize_email

__all__ = [
    "Account",
    "AccountKind",
    "AuditEvent",
    "Membership",
    "OutboxMessage",
    "Role",
    "User",
    "normalize_email",
]
