"""Database models. Import from here: ``from portal.models import User, Account``."""

from portal.models.access import Invitation, PortalLink, PortalLinkOrigin, PortalLinkStatus
from portal.models.account import Account, AccountKind, Membership, Role
from portal.models.audit import AuditEvent
from portal.models.bookkeeping import (
    BankAccount,
    BankStatement,
    BankTransaction,
    BookItem,
    BookkeepingSettings,
    Category,
    ClaimStatus,
    ExpenseClaim,
    ExpenseLine,
    ExportRun,
    ItemKind,
    ItemLine,
    ItemStatus,
    StoredFile,
    SupplierRule,
)
from portal.models.exact import (
    ConnectionStatus,
    ExactConnection,
    ExactDivisionLink,
    LinkStatus,
)
from portal.models.module import AccountModule
from portal.models.outbox import OutboxMessage
from portal.models.sync import ExactRecord, RunStatus, SyncRun, SyncState, Trigger
from portal.models.user import User, UserSession, normalize_email

__all__ = [
    "BankAccount",
    "BankStatement",
    "BankTransaction",
    "BookItem",
    "BookkeepingSettings",
    "Category",
    "ClaimStatus",
    "ExpenseClaim",
    "ExpenseLine",
    "ExportRun",
    "ItemKind",
    "ItemLine",
    "ItemStatus",
    "StoredFile",
    "SupplierRule",
    "Account",
    "AccountKind",
    "AccountModule",
    "Invitation",
    "PortalLink",
    "PortalLinkOrigin",
    "PortalLinkStatus",
    "AuditEvent",
    "ConnectionStatus",
    "ExactConnection",
    "ExactDivisionLink",
    "ExactRecord",
    "LinkStatus",
    "Membership",
    "OutboxMessage",
    "Role",
    "RunStatus",
    "SyncRun",
    "SyncState",
    "Trigger",
    "User",
    "UserSession",
    "normalize_email",
]
