"""Linking client accounts to divisions: Activate (no link yet) or Overwrite (replace a
link), keeping everything else of the client (its settings and mappings are keyed by the
account); the division identity guard; and the rights check per data type.
"""

from __future__ import annotations

from flask_babel import gettext as _

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
from portal.models import Account, ExactConnection, ExactDivisionLink, LinkStatus, User
from portal.permissions import Action, require
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


def activate(
    client: Account, connection: ExactConnection, code: int, user: User, overwrite: bool = False
) -> ExactDivisionLink:
    """Give the client a link to the division (Activate), or replace its link (Overwrite).

    The division's identity is stored for the identity guard. The client's own settings and
    mappings are keyed by the account, so an overwrite keeps them.
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
    if link is None:
        link = ExactDivisionLink(account_id=client.id)
        db.session.add(link)
    before = describe_link(link) if link.id else None
    link.connection_id, link.division_code = connection.id, code
    _store_identity(link, division)
    link.activated_at, link.activated_by_id = clock.now(), user.id
    link.rights = None
    action = "exact.overwritten" if before else "exact.activated"
    for account in {client, connection.account}:
        audit.record(
            account,
            action,
            target=f"{code} {division['name']}",
            client=client.name,
            previous=before,
        )
    return link


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
        f"{_('name') if key == 'name' else key.upper()}: "
        f"{getattr(link, attr) or '—'} → {division[key] or '—'}"
        for key, attr in IDENTITY_FIELDS
        if (division[key] or None) != (getattr(link, attr) or None)
    ]
    if changed:
        link.status = LinkStatus.BLOCKED
        link.blocked_reason = _(
            "Exact Online now reports other details for administration "
            "%(code)s than when it was activated (%(changes)s). Nothing is "
            "synced until someone confirms or activates again.",
            code=link.division_code,
            changes="; ".join(changed),
        )
        audit.record(
            link.account, "exact.link_blocked", target=str(link.division_code), changes=changed
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
