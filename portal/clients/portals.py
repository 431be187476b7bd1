"""Office portals: create one, add the clients that granted access, create clients."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from portal import audit, clock
from portal.clients.access import grant_access, portal_with_email
from portal.clients.errors import AccessError
from portal.exact.client.ratelimit import Budget
from portal.extensions import db
from portal.models import (
    Account,
    AccountKind,
    ExactDivisionLink,
    Membership,
    PortalLink,
    PortalLinkOrigin,
    PortalLinkStatus,
    Role,
    SyncState,
    User,
    normalize_email,
)
from portal.pagination import Pagination, RowPagination
from portal.vat import normalize_vat


@dataclass
class BillingDetails:
    company: str
    vat_number: str
    address: str
    email: str


def create_portal(owner: User, name: str, portal_email: str, billing: BillingDetails) -> Account:
    """A new portal for an office; its creator is the owner."""
    portal_email = normalize_email(portal_email)
    if portal_with_email(portal_email) is not None:
        raise AccessError(_("Another portal already uses this e-mail address."))
    portal = Account(kind=AccountKind.PORTAL, name=name, portal_email=portal_email)
    set_billing(portal, billing)
    db.session.add(portal)
    db.session.flush()
    db.session.add(Membership(account_id=portal.id, user=owner, role=Role.OWNER))
    audit.record(portal, "portal.created", target=name, portal_email=portal_email)
    return portal


def set_billing(portal: Account, billing: BillingDetails) -> None:
    portal.billing_company = billing.company
    portal.billing_vat_number = normalize_vat(billing.vat_number)
    portal.billing_address = billing.address
    portal.billing_email = normalize_email(billing.email)


def pending_link(portal: Account, link_id: int) -> PortalLink:
    """A pending link of this portal; an error if the client revoked access meanwhile."""
    link = db.session.scalar(
        select(PortalLink).where(PortalLink.id == link_id, PortalLink.portal_id == portal.id)
    )
    if link is None:
        raise AccessError(_("This client has revoked the access in the meantime."))
    if link.status != PortalLinkStatus.PENDING:
        raise AccessError(_("This client account has already been added."))
    return link


def portal_client(portal: Account, client_id: int) -> Account:
    """A client account actively linked to the portal, or 404."""
    client = db.session.scalar(
        select(Account)
        .join(PortalLink, PortalLink.client_id == Account.id)
        .where(
            PortalLink.portal_id == portal.id,
            PortalLink.client_id == client_id,
            PortalLink.status == PortalLinkStatus.ACTIVE,
        )
    )
    if client is None:
        abort(404)
    return client


def add_client(portal: Account, link_id: int) -> PortalLink:
    """A portal admin adds a client that granted access: every portal member can enter it."""
    link = pending_link(portal, link_id)
    link.status, link.activated_at = PortalLinkStatus.ACTIVE, clock.now()
    audit.record(portal, "portal.client_added", target=link.client.name)
    audit.record(link.client, "access.portal_added", target=portal.name)
    return link


def create_managed_client(
    portal: Account, name: str, vat_number: str, contact_email: str, invite_owner: bool, actor: User
) -> Account:
    """A client account "in eigen beheer": linked to the portal and billed to it."""
    if not portal.has_complete_billing:
        raise AccessError(
            _(
                "Complete the portal's billing details first: the client accounts "
                "you create are billed to the portal."
            )
        )
    client = Account(
        kind=AccountKind.CLIENT,
        name=name,
        vat_number=normalize_vat(vat_number),
        contact_email=normalize_email(contact_email),
        billed_to_id=portal.id,
    )
    db.session.add(client)
    db.session.flush()
    db.session.add(
        PortalLink(
            portal_id=portal.id,
            client_id=client.id,
            status=PortalLinkStatus.ACTIVE,
            origin=PortalLinkOrigin.CREATED,
            role=Role.ADMIN,
            activated_at=clock.now(),
        )
    )
    audit.record(portal, "portal.client_created", target=name, billed_to=portal.name)
    audit.record(client, "account.created", target=name, billed_to=portal.name)
    if invite_owner and contact_email:
        grant_access(client, contact_email, Role.OWNER, actor)
    return client


@dataclass
class ClientRow:
    link: PortalLink
    client: Account
    billed_to_portal: bool
    exact_link: ExactDivisionLink | None = None
    sync_state: SyncState | None = None
    budget: Budget | None = None  # Exact's API budget of the linked division
    same_vat: list[str] = field(default_factory=list)  # other clients with this VAT number


def client_list(
    portal: Account,
    search: str = "",
    status: PortalLinkStatus | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Pagination:
    """A page of the portal's clients (``ClientRow`` items; a page beyond the last shows the
    last): one query for the page, a count of the portal's links (no join unless searching),
    and one query for the VAT twins of the page's clients: never one per row, and nothing
    loads or ranks all of the portal's clients.

    Rows carry their Exact link and sync state (joined), and for active clients the API budget
    of the linked division, read from Redis in one round trip (no query).
    """
    where = [PortalLink.portal_id == portal.id]
    if status is not None:
        where.append(PortalLink.status == status)
    count = select(func.count()).select_from(PortalLink)
    if search:
        where.append(func.lower(Account.name).contains(search.strip().lower(), autoescape=True))
        count = count.join(Account, Account.id == PortalLink.client_id)
    base = (
        select(PortalLink, Account, ExactDivisionLink, SyncState)
        .join(Account, Account.id == PortalLink.client_id)
        .outerjoin(ExactDivisionLink, ExactDivisionLink.account_id == Account.id)
        .outerjoin(SyncState, SyncState.account_id == Account.id)
        .where(*where)
        .order_by(Account.name, Account.id)
    )
    listing = _paginate_counted(base, count.where(*where), page, per_page)
    rows = listing.items = [
        ClientRow(link, client, client.billed_to_id == portal.id, exact_link, sync_state)
        for link, client, exact_link, sync_state in listing.items
    ]
    normal = {v: normalize_vat(v) for v in {row.client.vat_number for row in rows} if v}
    twins = duplicate_vat_numbers(portal, normal)
    for row in rows:
        vat = normal.get(row.client.vat_number, "")
        row.same_vat = [name for id_, name in twins.get(vat, []) if id_ != row.client.id]
    if status == PortalLinkStatus.ACTIVE:
        budgets = _division_budgets({r.exact_link.division_code for r in rows if r.exact_link})
        for row in rows:
            row.budget = budgets.get(row.exact_link.division_code) if row.exact_link else None
    return listing


class _CountedPagination(RowPagination):
    """Rows of the page as ``RowPagination``; the total from a count of its own (``count_select``),
    so the database does not build and join every row only to count them."""

    def _query_count(self) -> int:
        return self._query_args["session"].scalar(self._query_args["count_select"])


def _paginate_counted(select_: Select, count: Select, page: int, per_page: int) -> Pagination:
    def at(number: int) -> Pagination:
        return _CountedPagination(
            select=select_,
            count_select=count,
            session=db.session(),
            page=number,
            per_page=per_page,
            max_per_page=None,
            error_out=False,
        )

    listing = at(page)
    if not listing.items and listing.page > 1:
        listing = at(max(listing.pages, 1))
    return listing


def duplicate_vat_numbers(
    portal: Account, vat_numbers: dict[str, str] | None = None
) -> dict[str, list[tuple[int, str]]]:
    """VAT number -> the portal's clients (id, name) sharing it, for numbers more than one
    client has: likely one company with two client accounts. One query; with ``vat_numbers``
    (a page's numbers as stored -> normalized) only the clients with those numbers are read
    (stored numbers are normalized when written; matched as stored and normalized)."""
    query = (
        select(Account.id, Account.name, Account.vat_number)
        .join(PortalLink, PortalLink.client_id == Account.id)
        .where(PortalLink.portal_id == portal.id, Account.vat_number.is_not(None))
        .order_by(Account.name, Account.id)
    )
    if vat_numbers is not None:
        wanted = {v for pair in vat_numbers.items() for v in pair if v}
        if not wanted:
            return {}
        query = query.where(Account.vat_number.in_(sorted(wanted)))
    known = dict(vat_numbers or {})
    by_vat: dict[str, list[tuple[int, str]]] = {}
    for id_, name, vat in db.session.execute(query):
        normal = known[vat] if vat in known else known.setdefault(vat, normalize_vat(vat))
        if normal:
            by_vat.setdefault(normal, []).append((id_, name))
    return {vat: clients for vat, clients in by_vat.items() if len(clients) > 1}


def _division_budgets(division_codes: set[int]) -> dict[int, Budget]:
    """Exact's API budget of each division, as the app's calls left it (Redis, not the DB):
    one pipelined round trip."""
    if not division_codes:
        return {}
    from portal.exact.wiring import rate_limits

    limits = rate_limits()
    return limits.budgets(sorted(division_codes))
