"""What an office must act on, for the portal's overview ("Needs attention"), and what a client
account's overview says about its link. A constant number of queries whatever the number of
clients; Exact's API budgets come from Redis, not the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import Select, func, select

from portal import clock
from portal.exact.client.ratelimit import LOW_DAILY_SHARE, Budget
from portal.extensions import db
from portal.models import (
    Account,
    ConnectionStatus,
    ExactConnection,
    ExactDivisionLink,
    LinkStatus,
    PortalLink,
    PortalLinkStatus,
    RunStatus,
    SyncState,
)

SHOWN = 10  # rows named per kind; the rest is counted
EXPIRY_WARNING = timedelta(days=14)  # say when a connection's refresh token dies this soon
NEARLY_SPENT = LOW_DAILY_SHARE  # a division's daily API budget with a tenth or less left


@dataclass
class Group:
    """Some rows of one kind (at most SHOWN) and how many there are in all."""

    rows: list = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass
class Attention:
    connection: ExactConnection | None = None
    reauthorize: bool = False
    expires_in_days: int | None = None
    failed: Group = field(default_factory=Group)
    blocked: Group = field(default_factory=Group)
    pending: Group = field(default_factory=Group)
    budgets: Group = field(default_factory=Group)

    @property
    def empty(self) -> bool:
        return not (
            self.reauthorize
            or self.expires_in_days is not None
            or self.failed.total
            or self.blocked.total
            or self.pending.total
            or self.budgets.total
        )


def _group(query: Select) -> Group:
    """One query: the first SHOWN rows and the total (a window count over all of them)."""
    rows = db.session.execute(
        query.add_columns(func.count().over().label("total_")).limit(SHOWN)
    ).all()
    named = [
        SimpleNamespace(**{k: v for k, v in row._mapping.items() if k != "total_"}) for row in rows
    ]
    return Group(named, rows[0].total_ if rows else 0)


def _active_clients(portal: Account) -> Select:
    return (
        select(Account.id, Account.name)
        .join(PortalLink, PortalLink.client_id == Account.id)
        .where(PortalLink.portal_id == portal.id, PortalLink.status == PortalLinkStatus.ACTIVE)
    )


def _connection(account: Account) -> ExactConnection | None:
    return db.session.scalar(
        select(ExactConnection).where(ExactConnection.account_id == account.id).limit(1)
    )


def expires_in_days(connection: ExactConnection | None, now: datetime) -> int | None:
    """Days until an unused connection's refresh token dies, when that is soon."""
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        return None
    expires = connection.refresh_token_expires_at
    if expires is None or expires - now > EXPIRY_WARNING:
        return None
    return max(0, (expires - now).days)


def nearly_spent(budget: Budget, now: datetime) -> bool:
    if budget.daily_remaining is None or not budget.daily_limit:
        return False
    if budget.daily_reset_at is not None and budget.daily_reset_at <= now:
        return False  # a new day has begun
    return budget.daily_remaining <= budget.daily_limit * NEARLY_SPENT


def for_portal(portal: Account) -> Attention:
    """What the office must act on: at most six queries and two Redis round trips, whatever
    the number of clients."""
    now = clock.now()
    connection = _connection(portal)
    attention = Attention(
        connection=connection,
        reauthorize=connection is not None
        and connection.status == ConnectionStatus.NEEDS_REAUTHORIZATION,
        expires_in_days=expires_in_days(connection, now),
    )
    clients = _active_clients(portal)
    attention.failed = _group(
        clients.add_columns(SyncState.last_status, SyncState.last_run_at)
        .join(SyncState, SyncState.account_id == Account.id)
        .where(SyncState.last_status.in_([RunStatus.FAILED, RunStatus.STOPPED]))
        .order_by(SyncState.last_run_at.desc(), Account.id)
    )
    attention.blocked = _group(
        clients.add_columns(ExactDivisionLink.division_code)
        .join(ExactDivisionLink, ExactDivisionLink.account_id == Account.id)
        .where(ExactDivisionLink.status == LinkStatus.BLOCKED)
        .order_by(Account.name, Account.id)
    )
    attention.pending = _group(
        select(PortalLink.id, Account.name)
        .join(Account, Account.id == PortalLink.client_id)
        .where(PortalLink.portal_id == portal.id, PortalLink.status == PortalLinkStatus.PENDING)
        .order_by(PortalLink.created_at, PortalLink.id)
    )
    attention.budgets = _spent_budgets(portal, now)
    return attention


def _spent_budgets(portal: Account, now: datetime) -> Group:
    """The portal's clients whose division has nearly spent its daily budget: Redis's index of
    such divisions (one command; it holds a division until its daily reset), one query for the
    first SHOWN of this portal's with their total, and one pipelined read of the budgets shown.
    Nothing here grows with the portal's clients."""
    from portal.exact.wiring import rate_limits

    limits = rate_limits()
    low = limits.low_daily_divisions()
    if not low:
        return Group()
    group = _group(
        _active_clients(portal)
        .add_columns(ExactDivisionLink.division_code)
        .join(ExactDivisionLink, ExactDivisionLink.account_id == Account.id)
        .where(ExactDivisionLink.division_code.in_(sorted(low)))
        .order_by(Account.name, Account.id)
    )
    budgets = limits.budgets(row.division_code for row in group.rows)
    group.rows = [
        (row.id, row.name, row.division_code, budgets[row.division_code]) for row in group.rows
    ]
    return group


@dataclass
class ClientOverview:
    """A client account's overview: its office(s), its link, its last sync."""

    offices: list[str]
    link: ExactDivisionLink | None
    state: SyncState | None


def for_client(client: Account) -> ClientOverview:
    offices = list(
        db.session.scalars(
            select(Account.name)
            .join(PortalLink, PortalLink.portal_id == Account.id)
            .where(
                PortalLink.client_id == client.id,
                PortalLink.status == PortalLinkStatus.ACTIVE,
            )
            .order_by(Account.name)
        )
    )
    link = db.session.scalar(
        select(ExactDivisionLink).where(ExactDivisionLink.account_id == client.id).limit(1)
    )
    state = db.session.scalar(select(SyncState).where(SyncState.account_id == client.id))
    return ClientOverview(offices, link, state)
