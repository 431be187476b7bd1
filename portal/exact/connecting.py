"""Connecting Exact Online once: OAuth connect, reconnect and disconnect, and the list of
administrations (divisions) the connection reaches.

The portal (or a client on its own) connects with OAuth; the connection's tokens live in the
database store and are refreshed single-flight by the token manager.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import session
from flask_babel import gettext as _
from sqlalchemy import select

from portal import audit, clock
from portal.exact.client import oauth
from portal.exact.client.errors import ExactError
from portal.exact.client.tokens import TokenSet
from portal.exact.links import check_identity
from portal.exact.store import token_columns
from portal.exact.wiring import (
    COUNTRIES,
    WEB_MAX_WAIT,
    ConnectError,
    _exact_client,
    api_client,
    base_url_for,
    client_credentials,
    connection_of,
    division_by_code,
    redirect_uri,
)
from portal.extensions import db
from portal.models import (
    Account,
    ConnectionStatus,
    ExactConnection,
    ExactDivisionLink,
    RunStatus,
    Trigger,
    User,
)

SESSION_KEY = "exact_oauth"


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
            base_url, client_id, secret, redirect_uri(), args["code"], clock=clock.now
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
    connection.connected_at, connection.connected_by_id = clock.now(), user.id
    connection.alerted_at = None
    _set_divisions(connection, divisions)
    for column, value in token_columns(tokens).items():
        setattr(connection, column, value)
    db.session.flush()
    if reconnected:
        resume_unblocked(connection)
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


def resume_unblocked(connection: ExactConnection) -> list[int]:
    """After a reconnect: every dossier linked through the connection that may sync again is
    queued (once this transaction commits) and loses the stale failure the broken connection
    left, so its pages stop showing it. A dossier waiting out Exact's limit keeps waiting."""
    from portal.exact import scheduling, sync  # both import this module

    now = clock.now()
    account_ids = list(
        db.session.scalars(
            sync.eligible_links().where(ExactDivisionLink.connection_id == connection.id)
        )
    )
    resumed = []
    for account_id in account_ids:
        state = sync.state_for(account_id)
        if state.waiting_until is not None and state.waiting_until > now:
            continue
        if state.last_status in (RunStatus.FAILED, RunStatus.STOPPED):
            state.last_status = state.last_error = None
        scheduling.enqueue_sync_after_commit(account_id, Trigger.RESUME)
        resumed.append(account_id)
    return resumed


def _set_divisions(connection: ExactConnection, divisions: list[dict]) -> None:
    connection.divisions = [division_summary(d) for d in divisions]
    connection.divisions_refreshed_at = clock.now()


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


@dataclass(frozen=True)
class RefreshResult:
    """What a "Refresh list" changed: the administrations that appeared and vanished."""

    divisions: list[dict]
    added: list[dict]
    removed: list[dict]


def refresh_division_list(connection: ExactConnection) -> RefreshResult:
    """Ask Exact again which divisions the connection reaches (the "Refresh list" button)."""
    client = api_client(connection, max_wait=WEB_MAX_WAIT)
    current = connection.exact_current_division or int(client.current_me()["CurrentDivision"])
    before = {d["code"]: d for d in connection.divisions or []}
    _set_divisions(connection, client.divisions(current))
    after = {d["code"]: d for d in connection.divisions or []}
    for link in links_of(connection):
        check_identity(link, division_by_code(connection, link.division_code))
    return RefreshResult(
        divisions=connection.divisions,
        added=[after[code] for code in sorted(after.keys() - before.keys())],
        removed=[before[code] for code in sorted(before.keys() - after.keys())],
    )


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
