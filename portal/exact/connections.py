"""Connecting Exact Online once, and linking client accounts to its divisions.

The portal (or a client on its own) connects with OAuth; the connection's tokens live in the
database store and are refreshed single-flight by the token manager. Client accounts get a
link to one division of a connection: Activate (no link yet) or Overwrite (replace a link),
keeping everything else of the client (its settings and mappings are keyed by the account).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from flask import current_app, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal import audit
from portal.exact import hosts, oauth
from portal.exact.errors import ExactError, ExactForbidden
from portal.exact.http import ExactClient
from portal.exact.ratelimit import RateLimits
from portal.exact.store import DatabaseTokenStore, token_columns
from portal.exact.tokens import TokenManager, TokenSet
from portal.extensions import db
from portal.jobs.queues import redis_connection
from portal.models import (
    Account,
    ConnectionStatus,
    ExactConnection,
    ExactDivisionLink,
    LinkStatus,
    PortalLink,
    PortalLinkStatus,
    User,
)
from portal.permissions import Action, require

SESSION_KEY = "exact_oauth"
WEB_MAX_WAIT = 5  # seconds a web request may wait for Exact's minute to reset; jobs wait longer
COUNTRIES = ("nl", "be", "de", "fr", "es", "co.uk", "com")


def now() -> datetime:
    """The portal's clock for tokens (tests move it together with the sandbox's)."""
    return datetime.now(UTC)


def clock() -> float:
    """Epoch seconds for rate limits and retries; tests replace it with a virtual clock."""
    return time.time()


def sleep(seconds: float) -> None:
    """Waiting for Exact (rate limits, backoff); tests replace it to skip the wait."""
    time.sleep(seconds)


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
    refresh = partial(oauth.refresh_tokens, connection.base_url, client_id, secret, clock=now)
    return TokenManager(
        DatabaseTokenStore(), redis_connection(), refresh, clock=lambda: now(), use_lock=use_lock
    )


def rate_limits(max_wait: float = 65) -> RateLimits:
    """The app's per-division rate-limit state in Redis (Exact counts per app and division)."""
    return RateLimits(
        redis_connection(),
        scope=client_credentials()[0] or "exact",
        max_wait=max_wait,
        clock=lambda: clock(),
        sleep=lambda seconds: sleep(seconds),
    )


def _exact_client(base_url: str, token_provider, max_wait: float = 65, **options) -> ExactClient:
    return ExactClient(
        base_url,
        token_provider=token_provider,
        rate_limits=rate_limits(max_wait),
        clock=lambda: clock(),
        sleep=lambda seconds: sleep(seconds),
        **options,
    )


def api_client(connection: ExactConnection, max_wait: float = 65) -> ExactClient:
    """An API client for the connection; every call shares its single-flight token refresh.

    A short ``max_wait`` (a web request) also means fewer, quicker retries of 5xx answers.
    """
    manager = token_manager(connection)
    return _exact_client(
        connection.base_url,
        lambda: manager.access_token(connection.id),
        max_wait,
        on_unauthorized=lambda rejected: manager.after_unauthorized(connection.id, rejected),
        **({"max_retries": 2, "backoff": 0.5} if max_wait <= WEB_MAX_WAIT else {}),
    )


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


def link_api_client(link: ExactDivisionLink, max_wait: float = 65) -> ExactClient:
    """The API client for a client's dossier: only through the connection its link belongs
    to, and only while that connection may serve the client."""
    if not serves(link.connection, link.account):
        raise no_longer_serves(link.connection)
    return api_client(link.connection, max_wait=max_wait)


def connection_of(account: Account) -> ExactConnection | None:
    return db.session.scalar(
        select(ExactConnection).where(ExactConnection.account_id == account.id)
    )


# --- connecting -----------------------------------------------------------------------------


def not_started_here() -> ConnectError:
    """Exact's redirect does not match a connecting started in this browser session."""
    return ConnectError(
        _(
            "This answer from Exact Online does not belong to a connection "
            "started here. Start connecting again from the portal."
        ),
        403,
    )


def pending_account_id() -> int | None:
    """The account whose connecting is under way in this browser session, if any."""
    pending = session.get(SESSION_KEY)
    return pending.get("account_id") if pending else None


def start_authorization(account: Account, country: str, force_login: bool) -> str:
    """Remember a fresh ``state`` in the session and return Exact's authorize URL."""
    if country not in COUNTRIES:
        raise ConnectError(_("Choose the country of your Exact Online."))
    state = secrets.token_urlsafe(24)
    session[SESSION_KEY] = {"state": state, "account_id": account.id, "country": country}
    client_id, _secret = client_credentials()
    return oauth.authorization_url(
        base_url_for(country), client_id, redirect_uri(), state, force_login=force_login
    )


@dataclass
class ConnectResult:
    connection: ExactConnection
    reconnected: bool
    unreachable_clients: list[str]


def finish_authorization(args, user: User) -> tuple[int, ConnectResult]:
    """Handle Exact's redirect: check state, exchange the code, store the connection.

    Returns the account id the connection belongs to. Nothing is stored unless every step
    succeeded: a denied consent, a tampered state or a reused code changes nothing.
    """
    # Only the answer carrying the pending state may use it up: a forged one (a cross-site
    # link to the callback) is refused and leaves the connecting under way alone.
    pending = session.get(SESSION_KEY)
    state = args.get("state", "").encode()
    if not pending or not state or not secrets.compare_digest(pending["state"].encode(), state):
        raise not_started_here()
    session.pop(SESSION_KEY)
    if args.get("error"):
        raise ConnectError(
            _(
                "Exact Online did not give access (%(error)s). Nothing was changed.",
                error=args.get("error"),
            )
        )
    if not args.get("code"):
        raise ConnectError(_("Exact Online sent no authorization code. Please try again."))
    account = db.session.get(Account, pending["account_id"])
    base_url = base_url_for(pending["country"])
    client_id, secret = client_credentials()
    try:
        tokens = oauth.exchange_code(
            base_url, client_id, secret, redirect_uri(), args["code"], clock=now
        )
        me, divisions = _who_and_what(base_url, tokens)
    except ExactError as error:
        raise ConnectError(_("Connecting failed: %(reason)s", reason=error.user_message)) from error
    result = _store_connection(account, pending["country"], base_url, tokens, me, divisions, user)
    return account.id, result


def _who_and_what(base_url: str, tokens: TokenSet) -> tuple[dict, list[dict]]:
    client = _exact_client(base_url, lambda: tokens.access_token)
    me = client.current_me()
    return me, client.divisions(int(me["CurrentDivision"]))


def _store_connection(
    account: Account,
    country: str,
    base_url: str,
    tokens: TokenSet,
    me: dict,
    divisions: list[dict],
    user: User,
) -> ConnectResult:
    connection = connection_of(account)
    reconnected = connection is not None
    if connection is None:
        connection = ExactConnection(account_id=account.id)
        db.session.add(connection)
    connection.country, connection.base_url = country, base_url
    connection.exact_user_id = str(me.get("UserID") or "")
    connection.exact_user_name = me.get("FullName")
    connection.exact_user_email = me.get("Email")
    connection.exact_current_division = me.get("CurrentDivision")
    connection.connected_at, connection.connected_by_id = now(), user.id
    connection.alerted_at = None
    _set_divisions(connection, divisions)
    for column, value in token_columns(tokens).items():
        setattr(connection, column, value)
    db.session.flush()
    lost = unreachable_clients(connection)
    audit.record(
        account,
        "exact.reconnected" if reconnected else "exact.connected",
        target=connection.exact_user_email,
        exact_user=connection.exact_user_name,
        country=country,
        unreachable=lost,
    )
    return ConnectResult(connection, reconnected, lost)


def _set_divisions(connection: ExactConnection, divisions: list[dict]) -> None:
    connection.divisions = [division_summary(d) for d in divisions]
    connection.divisions_refreshed_at = now()


def division_summary(row: dict) -> dict:
    return {
        "code": int(row["Code"]),
        "name": row.get("Description") or "",
        "customer": row.get("CustomerName") or "",
        "vat": row.get("VATNumber") or "",
        "kvk": row.get("ChamberOfCommerceNumber") or "",
        "country": row.get("Country") or "",
        "status": row.get("Status"),
    }


def unreachable_clients(connection: ExactConnection) -> list[str]:
    """Names of client accounts linked through this connection to divisions it cannot reach."""
    codes = {d["code"] for d in connection.divisions or []}
    rows = db.session.execute(
        select(Account.name, ExactDivisionLink.division_code)
        .join(ExactDivisionLink, ExactDivisionLink.account_id == Account.id)
        .where(ExactDivisionLink.connection_id == connection.id)
    ).all()
    return sorted(name for name, code in rows if code not in codes)


def refresh_division_list(connection: ExactConnection) -> list[dict]:
    """Ask Exact again which divisions the connection reaches (the "Refresh list" button)."""
    client = api_client(connection, max_wait=WEB_MAX_WAIT)
    current = connection.exact_current_division or int(client.current_me()["CurrentDivision"])
    _set_divisions(connection, client.divisions(current))
    for link in links_of(connection):
        check_identity(link, division_by_code(connection, link.division_code))
    return connection.divisions


def disconnect(connection: ExactConnection) -> None:
    """Forget the tokens; links stay (a reconnect brings them back)."""
    connection.status = ConnectionStatus.DISCONNECTED
    connection.status_reason = None
    connection.tokens_encrypted = None
    audit.record(connection.account, "exact.disconnected", target=connection.exact_user_email)


def links_of(connection: ExactConnection) -> list[ExactDivisionLink]:
    return list(
        db.session.scalars(
            select(ExactDivisionLink).where(ExactDivisionLink.connection_id == connection.id)
        )
    )


def division_by_code(connection: ExactConnection, code: int) -> dict | None:
    return next((d for d in connection.divisions or [] if d["code"] == code), None)


# --- linking a client account to a division -------------------------------------------------


def suggest_division(connection: ExactConnection, client: Account) -> int | None:
    """The division that looks like the client's: same VAT number, else the same name."""
    from portal.clients.vat import normalize_vat

    divisions = connection.divisions or []
    vat = normalize_vat(client.vat_number)
    if vat:
        for division in divisions:
            if normalize_vat(division["vat"]) == vat:
                return division["code"]
    name = client.name.strip().lower()
    matches = [d["code"] for d in divisions if d["name"].strip().lower() == name]
    return matches[0] if len(matches) == 1 else None


def link_of(client: Account) -> ExactDivisionLink | None:
    return db.session.scalar(
        select(ExactDivisionLink).where(ExactDivisionLink.account_id == client.id)
    )


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
    link.activated_at, link.activated_by_id = now(), user.id
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

# Data type -> (endpoint probed with $top=1, Exact right that reading it needs).
RIGHTS_PROBES = (
    ("gl_accounts", "financial/GLAccounts", "View financial master data"),
    ("journals", "financial/Journals", "View financial master data"),
    ("vat_codes", "vat/VATCodes", "View financial master data"),
    ("suppliers", "crm/Accounts", "View accounts"),
    ("cost_centers", "hrm/Costcenters", "View financial master data"),
    ("cost_units", "hrm/Costunits", "View financial master data"),
    ("financial_periods", "financial/FinancialPeriods", "View financial master data"),
    ("payment_conditions", "cashflow/PaymentConditions", "View financial master data"),
    ("transaction_lines", "financialtransaction/TransactionLines", "View financial entries"),
    ("documents", "documents/Documents", "View documents"),
)


def probe_rights(link: ExactDivisionLink) -> dict:
    """One cheap call per data type the sync needs; per type whether the Exact user may."""
    client = link_api_client(link, max_wait=WEB_MAX_WAIT)
    results = {}
    for key, endpoint, right in RIGHTS_PROBES:
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
