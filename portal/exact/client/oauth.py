"""Exact Online OAuth2: authorization-code flow and token refresh, through Authlib.

Error answers of the token endpoint are turned into typed errors (see errors.py) by a compliance
hook that sees the raw response, so status, body and the `Reason` header are all available.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from portal.exact.client import hosts
from portal.exact.client.errors import ExactError, ExactUnavailable, error_from_response
from portal.exact.client.tokens import TokenSet, utcnow

TOKEN_ENDPOINT = "oauth2/token"


def _raise_for_error(response: requests.Response) -> requests.Response:
    if response.status_code >= 400:
        raise error_from_response(response, endpoint=TOKEN_ENDPOINT)
    return response


def make_session(
    client_id: str,
    client_secret: str | None = None,
    redirect_uri: str | None = None,
    timeout: float = 30,
) -> OAuth2Session:
    """An Authlib session that posts client credentials in the form, as Exact expects."""
    session = OAuth2Session(
        client_id,
        client_secret,
        token_endpoint_auth_method="client_secret_post",
        redirect_uri=redirect_uri,
        default_timeout=timeout,
    )
    return _with_error_hooks(session)


def _with_error_hooks(session: OAuth2Session) -> OAuth2Session:
    """Register the error hook (idempotent: Authlib keeps hooks in a set)."""
    session.register_compliance_hook("access_token_response", _raise_for_error)
    session.register_compliance_hook("refresh_token_response", _raise_for_error)
    return session


def authorization_url(
    base_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    force_login: bool = False,
) -> str:
    """Where to send the person to grant access. `force_login` ignores an open Exact session."""
    session = OAuth2Session(client_id, redirect_uri=redirect_uri)
    url, _ = session.create_authorization_url(
        hosts.authorize_url(base_url), state=state, force_login="1" if force_login else "0"
    )
    return url


def _token_call(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return call()
    except ExactError:
        raise
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise ExactUnavailable(str(exc), endpoint=TOKEN_ENDPOINT) from exc
    except (OAuthError, ValueError) as exc:
        raise ExactError(str(exc), endpoint=TOKEN_ENDPOINT) from exc


def _token_set(token: dict[str, Any], now: datetime, refreshed: bool) -> TokenSet:
    if not token.get("access_token") or not token.get("refresh_token"):
        raise ExactError(
            "token answer without access_token or refresh_token", endpoint=TOKEN_ENDPOINT
        )
    return TokenSet.issued(
        token["access_token"],
        token["refresh_token"],
        token.get("expires_in") or 600,
        now,
        refreshed=refreshed,
    )


def exchange_code(
    base_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    session: OAuth2Session | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> TokenSet:
    """Trade the code from the redirect for the first token pair.

    The code may contain `!`, arriving as `%21`; it is URL-decoded first. Decoding an already
    decoded code changes nothing, since codes hold no `%`.
    """
    session = _with_error_hooks(session or make_session(client_id, client_secret, redirect_uri))
    token = _token_call(
        lambda: session.fetch_token(
            hosts.token_url(base_url),
            grant_type="authorization_code",
            code=unquote(code),
            redirect_uri=redirect_uri,
        )
    )
    return _token_set(token, clock(), refreshed=False)


def refresh_tokens(
    base_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    session: OAuth2Session | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> TokenSet:
    """Rotate the pair: the old refresh token is dead once this returns. Persist the result."""
    session = _with_error_hooks(session or make_session(client_id, client_secret))
    token = _token_call(
        lambda: session.refresh_token(hosts.token_url(base_url), refresh_token=refresh_token)
    )
    return _token_set(token, clock(), refreshed=True)
