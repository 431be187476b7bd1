"""Linking client accounts to divisions: Activate (no link yet) or Overwrite (replace a
link), keeping everything else of the client (its settings and mappings are keyed by the
account); the division identity guard; and the rights check per data type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import audit, clock
from portal.exact.client.errors import ExactError, ExactForbidden, missing_right
from portal.exact.wiring import (
    WEB_MAX_WAIT,
    ConnectError,
    division_by_code,
    link_api_client,
    link_of,
    no_longer_serves,
    serves,
)
from portal.extensions import db
from portal.mail import send_mail_to
from portal.messages import N_
from portal.models import (
    Account,
    ExactConnection,
    ExactDivisionLink,
    LinkStatus,
    PortalLink,
    PortalLinkStatus,
    User,
)
from portal.permissions import Action, authority, people_who_may, require
from portal.vat import normalize_vat

# --- linking a client account to a division -------------------------------------------------


def suggest_division(connection: ExactConnection, client: Account) -> int | None:
    """The division that looks like the client's: same VAT number, else the same name."""
    divisions = connection.divisions or []
    vat = normalize_vat(client.vat_number)
    if vat:
        for division in divisions:
            if normalize_vat(division["vat"]) == vat:
                return division["code"]
    name = client.name.strip().lower()
    matches = [d["code"] for d in divisions if d["name"].strip().lower() == name]
    return matches[0] if len(matches) == 1 else None


def holders(connection: ExactConnection) -> dict[int, ExactDivisionLink]:
    """Division code -> the link that has it through this connection (one query)."""
    rows = db.session.scalars(
        select(ExactDivisionLink).where(ExactDivisionLink.connection_id == connection.id)
    )
    return {link.division_code: link for link in rows}


def holder_of(connection: ExactConnection, code: int) -> ExactDivisionLink | None:
    """The link that has the division through this connection, if any."""
    return db.session.scalar(
        select(ExactDivisionLink).where(
            ExactDivisionLink.connection_id == connection.id,
            ExactDivisionLink.division_code == code,
        )
    )


def taken_message(code: int, holder: Account) -> str:
    return _(
        "Administration %(code)s is already linked to %(client)s. An administration is linked "
        "to one client at a time: move it to this client explicitly, or pick another one.",
        code=code,
        client=holder.name,
    )


def activate(
    client: Account,
    connection: ExactConnection,
    code: int,
    user: User,
    overwrite: bool = False,
    move: bool = False,
) -> ExactDivisionLink:
    """Give the client a link to the division (Activate), or replace its link (Overwrite).

    A division is linked to one client per connection: when another client has it, it is
    refused unless ``move`` (a confirmed step), which takes the link from that client (its
    data stays, its sync stops). The division's identity is stored for the identity guard.
    The client's own settings and mappings are keyed by the account, so an overwrite keeps
    them.
    """
    require(Action.LINK_DOSSIER, client, user)
    if not serves(connection, client):
        raise no_longer_serves(connection)
    division = division_by_code(connection, code)
    if division is None:
        raise ConnectError(
            _(
                "This administration is not in the connection's list. Grant it "
                "in Exact Online and press Refresh list."
            )
        )
    link = link_of(client)
    if link is not None and not overwrite:
        raise ConnectError(_("This client already has a link. Use Overwrite to replace it."))
    holder = holder_of(connection, code)
    if holder is not None and holder.account_id != client.id:
        if not move:
            raise ConnectError(taken_message(code, holder.account), 409)
        moved_from = holder.account.name
        _take_away(holder, client, user)
    else:
        moved_from = None
    if link is None:
        link = ExactDivisionLink(account_id=client.id)
        db.session.add(link)
    before = describe_link(link) if link.id else None
    link.connection_id, link.division_code = connection.id, code
    _store_identity(link, division)
    link.activated_at, link.activated_by_id = clock.now(), user.id
    link.rights = None
    action = "exact.overwritten" if before else "exact.activated"
    details = {"client": client.name, "previous": before, "connection": connection.account.name}
    if moved_from:
        details["moved_from"] = moved_from
    for account in {client, connection.account}:
        audit.record(account, action, target=f"{code} {division['name']}", **details)
    if before and connection.account_id != client.id:
        _tell_owners(client, user, before, f"{code} {division['name']}")
    return link


def _tell_owners(client: Account, user: User, before: str, after: str) -> None:
    """The client's owners hear when its office changed the administration it is linked to."""
    send_mail_to(
        [owner for owner in people_who_may(Action.MANAGE_OWNERS, client) if owner.id != user.id],
        _l("The Exact Online link of %(client)s was changed", client=client.name),
        "exact_link_changed",
        client=client,
        actor=user,
        before=before,
        after=after,
    )


def _take_away(holder: ExactDivisionLink, to: Account, user: User) -> None:
    """Remove the link of the client that has the division (a move): its data stays, its
    sync stops ("no linked administration"). Flushed at once, so the unique constraint never
    sees the division twice, whatever order the rest of the transaction is flushed in."""
    losing = holder.account
    if not authority(user, losing).can(Action.LINK_DOSSIER):
        raise ConnectError(
            _(
                "Administration %(code)s is linked to %(client)s, and you may not change that "
                "client's link.",
                code=holder.division_code,
                client=losing.name,
            ),
            403,
        )
    audit.record(
        losing,
        "exact.moved_away",
        target=f"{holder.division_code} {holder.division_name}",
        to=to.name,
        actor=user,
    )
    before = describe_link(holder)
    db.session.delete(holder)
    db.session.flush()
    _tell_owners(losing, user, before, _("none (moved to %(client)s)", client=to.name))


# --- matching clients and divisions by VAT number ------------------------------------------


def _served_clients(connection: ExactConnection) -> list[Account]:
    """The client accounts the connection may serve: the portal's active clients, or the
    client itself for its own connection; by name."""
    owner = connection.account
    if not owner.is_portal:
        return [owner]
    return list(
        db.session.scalars(
            select(Account)
            .join(PortalLink, PortalLink.client_id == Account.id)
            .where(PortalLink.portal_id == owner.id, PortalLink.status == PortalLinkStatus.ACTIVE)
            .order_by(Account.name, Account.id)
        )
    )


def suggest_client(connection: ExactConnection, code: int) -> Account | None:
    """The one client the connection serves whose VAT number is the division's, if exactly
    one (the other direction of ``suggest_division``)."""
    division = division_by_code(connection, code)
    vat = normalize_vat(division["vat"]) if division else None
    if not vat:
        return None
    matches = [c for c in _served_clients(connection) if normalize_vat(c.vat_number) == vat]
    return matches[0] if len(matches) == 1 else None


def division_clients(connection: ExactConnection) -> dict[int, tuple[Account, bool]]:
    """Per division code: the client that has it (True), else the one client without a link
    whose VAT number is the division's (False, a suggestion). Two queries."""
    result = {code: (held.account, True) for code, held in holders(connection).items()}
    clients = _served_clients(connection)
    linked = _linked_ids(clients)
    by_vat: dict[str, list[Account]] = {}
    for client in clients:
        vat = normalize_vat(client.vat_number)
        if vat:
            by_vat.setdefault(vat, []).append(client)
    for division in connection.divisions or []:
        matches = by_vat.get(normalize_vat(division.get("vat")) or "", [])
        if division["code"] not in result and len(matches) == 1 and matches[0].id not in linked:
            result[division["code"]] = (matches[0], False)
    return result


def _linked_ids(clients: list[Account]) -> set[int]:
    return set(
        db.session.scalars(
            select(ExactDivisionLink.account_id).where(
                ExactDivisionLink.account_id.in_([c.id for c in clients])
            )
        )
    )


@dataclass
class VatMatch:
    client: Account
    division: dict


@dataclass
class MatchPlan:
    """Which clients without a link get which free division (one-to-one VAT matches), and
    why each other client without a link is left alone."""

    matches: list[VatMatch] = field(default_factory=list)
    skipped: list[tuple[Account, str]] = field(default_factory=list)


def plan_vat_matches(connection: ExactConnection, user: User) -> MatchPlan:
    """Only clients without a link, only divisions nobody has, only one-to-one matches, only
    clients in which the user may link an administration. Changes nothing."""
    taken = holders(connection)
    clients = _served_clients(connection)
    linked = _linked_ids(clients)
    divisions_by_vat: dict[str, list[dict]] = {}
    for division in connection.divisions or []:
        vat = normalize_vat(division.get("vat"))
        if vat:
            divisions_by_vat.setdefault(vat, []).append(division)
    clients_by_vat: dict[str, int] = {}
    for client in clients:
        vat = normalize_vat(client.vat_number)
        if vat:
            clients_by_vat[vat] = clients_by_vat.get(vat, 0) + 1
    plan = MatchPlan()
    for client in clients:
        if client.id in linked:
            continue
        vat = normalize_vat(client.vat_number)
        divisions = divisions_by_vat.get(vat, []) if vat else []
        if not vat:
            reason = _("no VAT number")
        elif not divisions:
            reason = _("no administration has this VAT number")
        elif len(divisions) > 1:
            reason = _(
                "several administrations have this VAT number (%(codes)s)",
                codes=", ".join(str(d["code"]) for d in divisions),
            )
        elif clients_by_vat[vat] > 1:
            reason = _("several clients have this VAT number")
        elif divisions[0]["code"] in taken:
            holder = taken[divisions[0]["code"]]
            reason = _(
                "administration %(code)s is already linked to %(client)s",
                code=holder.division_code,
                client=holder.account.name,
            )
        elif not authority(user, client).can(Action.LINK_DOSSIER):
            reason = _("you may not link this client's administration")
        else:
            plan.matches.append(VatMatch(client, divisions[0]))
            continue
        plan.skipped.append((client, reason))
    return plan


def link_vat_matches(connection: ExactConnection, user: User) -> MatchPlan:
    """Activate every one-to-one VAT match of ``plan_vat_matches`` (the caller commits and
    then queues each linked client's first import)."""
    plan = plan_vat_matches(connection, user)
    for match in plan.matches:
        activate(match.client, connection, match.division["code"], user)
    return plan


def _store_identity(link: ExactDivisionLink, division: dict) -> None:
    link.division_name = division["name"]
    link.vat_number = division["vat"] or None
    link.kvk_number = division["kvk"] or None
    link.status, link.blocked_reason = LinkStatus.ACTIVE, None


def describe_link(link: ExactDivisionLink) -> str:
    owner = link.connection.account.name if link.connection else "?"
    return f"{link.division_code} {link.division_name} ({owner})"


IDENTITY_FIELDS = (("name", "division_name"), ("vat", "vat_number"), ("kvk", "kvk_number"))


def check_identity(link: ExactDivisionLink, division: dict | None) -> bool:
    """Block the link when Exact reports another name, VAT or KvK number than at activation."""
    if division is None or link.status == LinkStatus.BLOCKED:
        return link.status == LinkStatus.ACTIVE
    changed = [
        N_(
            "%(field)s: %(old)s → %(new)s",
            field=N_("name") if key == "name" else key.upper(),
            old=getattr(link, attr) or "—",
            new=division[key] or "—",
        )
        for key, attr in IDENTITY_FIELDS
        if (division[key] or None) != (getattr(link, attr) or None)
    ]
    if changed:
        link.status = LinkStatus.BLOCKED
        link.blocked_reason = N_(
            "Exact Online now reports other details for administration "
            "%(code)s than when it was activated (%(changes)s). Nothing is "
            "synced until someone confirms or activates again.",
            code=link.division_code,
            changes=changed,
        )
        audit.record(
            link.account,
            "exact.link_blocked",
            target=str(link.division_code),
            changes=[str(change) for change in changed],
        )
        return False
    return True


def confirm_identity(link: ExactDivisionLink, user: User) -> None:
    """Accept the division's current details as the right ones and unblock the link."""
    require(Action.LINK_DOSSIER, link.account, user)
    if not serves(link.connection, link.account):
        raise no_longer_serves(link.connection)
    division = division_by_code(link.connection, link.division_code)
    if division is None:
        raise ConnectError(_("This administration is not in the connection's list any more."))
    _store_identity(link, division)
    audit.record(link.account, "exact.link_confirmed", target=str(link.division_code), actor=user)


# --- rights check ---------------------------------------------------------------------------

# Data type -> endpoint probed with $top=1; the Exact right it needs comes from the client's
# one table of rights (``missing_right``), which also explains a 403.
RIGHTS_PROBES = (
    ("gl_accounts", "financial/GLAccounts"),
    ("journals", "financial/Journals"),
    ("vat_codes", "vat/VATCodes"),
    ("suppliers", "crm/Accounts"),
    ("cost_centers", "hrm/Costcenters"),
    ("cost_units", "hrm/Costunits"),
    ("financial_periods", "financial/FinancialPeriods"),
    ("payment_conditions", "cashflow/PaymentConditions"),
    ("transaction_lines", "financialtransaction/TransactionLines"),
    ("documents", "documents/Documents"),
)


def probe_rights(link: ExactDivisionLink) -> dict:
    """One cheap call per data type the sync needs; per type whether the Exact user may."""
    client = link_api_client(link, max_wait=WEB_MAX_WAIT)
    results = {}
    for key, endpoint in RIGHTS_PROBES:
        right = str(missing_right(endpoint)[1])
        try:
            client.get(link.division_code, endpoint, {"$top": "1", "$select": "ID"})
        except ExactForbidden as error:
            results[key] = {"ok": False, "right": right, "message": error.user_message}
        except ExactError as error:
            results[key] = {"ok": None, "right": right, "message": error.user_message}
        else:
            results[key] = {"ok": True, "right": right, "message": ""}
    link.rights = results
    return results
