"""Typed Exact Online errors, each with a message a bookkeeper understands.

User messages are stored as plain English source strings (marked with `N_` so Babel extracts
them) and translated when read: `err.user_message` uses the translator the application gave
(`use_translations`; the portal's is Flask-Babel) and falls back to English everywhere else, so
reading it never crashes. This module imports no Flask: the client is usable on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from portal.exact.client.parsing import endpoint_of


class Text(str):
    """An English source string that is translated when shown (see `translate`)."""


def N_(text: str) -> Text:  # noqa: N802 - the name Babel's extractor looks for
    return Text(text)


Translator = Callable[..., str]
TimeFormatter = Callable[[datetime], str]
_hooks: dict[str, Callable | None] = {"gettext": None, "format_time": None}


def use_translations(gettext: Translator | None, format_time: TimeFormatter | None) -> None:
    """Let the application translate messages and format times (the portal: Flask-Babel).

    Without it (workers of other programs, scripts) messages are English and times UTC, so
    reading a message never needs an application around it.
    """
    _hooks["gettext"], _hooks["format_time"] = gettext, format_time


def _format_time(value: datetime) -> str:
    formatter = _hooks["format_time"]
    if formatter is not None:
        return formatter(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def translate(template: str, **params: Any) -> str:
    """Translate `template` and fill in `params`; `Text` params are translated too."""
    values = {}
    for key, value in params.items():
        if isinstance(value, Text):
            value = translate(value)
        elif isinstance(value, datetime):
            value = _format_time(value)
        values[key] = value
    gettext = _hooks["gettext"]
    if gettext is not None:
        return gettext(template, **values)
    return template % values if values else str(template)


class ExactError(Exception):
    """Any failure talking to Exact Online.

    `status`, `code`, `reason` (the `Reason` header), `raw_message` (Exact's own text),
    `endpoint` and `division` are for logs and support; `user_message` is for people.
    """

    template: Text = N_("Exact Online returned an error. Please try again later.")

    def __init__(
        self,
        raw_message: str = "",
        *,
        status: int | None = None,
        code: str | None = None,
        reason: str | None = None,
        endpoint: str | None = None,
        division: int | None = None,
        template: str | None = None,
        **params: Any,
    ) -> None:
        self.raw_message = raw_message or ""
        self.status = status
        self.code = code or None
        self.reason = reason or None
        self.endpoint = endpoint
        self.division = division
        if template is not None:
            self.template = Text(template)
        self.params = params
        super().__init__(self.technical())

    def __reduce__(self):
        # Keyword-only fields would be lost by Exception's default pickling (RQ, multiprocessing).
        return (_restore, (type(self), self.__dict__.copy()))

    @property
    def user_message(self) -> str:
        return translate(self.template, **self.params)

    def message(self) -> str:
        """Same as `user_message`; handy in templates."""
        return self.user_message

    def technical(self) -> str:
        parts = [f"HTTP {self.status}" if self.status else type(self).__name__]
        for label, value in (("code", self.code), ("reason", self.reason)):
            if value:
                parts.append(f"{label}={value}")
        if self.raw_message:
            parts.append(repr(self.raw_message))
        if self.endpoint:
            parts.append(f"endpoint={self.endpoint}")
        if self.division is not None:
            parts.append(f"division={self.division}")
        return " ".join(parts)


def _restore(cls: type[ExactError], state: dict[str, Any]) -> ExactError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error.technical())
    return error


class ExactReauthorizationNeeded(ExactError):
    """The token chain is broken: a person must connect Exact Online again."""

    template = N_(
        "The connection with Exact Online has stopped working. Someone with an Exact Online "
        "login must connect it again."
    )


class ExactRefreshTokenExpired(ExactReauthorizationNeeded):
    template = N_(
        "The connection with Exact Online was not used for 30 days and has expired. Someone "
        "with an Exact Online login must connect it again."
    )


class ExactConsentRevoked(ExactReauthorizationNeeded):
    """Exact refused an access token it issued minutes ago: the app's consent was withdrawn
    (or the Exact user lost access). Only a person connecting again mends that."""

    template = N_(
        "Exact Online refused a brand-new access token: the consent for this app was withdrawn "
        "in Exact Online, or the Exact user lost access. Someone with an Exact Online login "
        "must connect it again."
    )


class ExactTooEarlyToRefresh(ExactError):
    """Exact refuses a new access token within 570 s of the previous one."""

    template = N_("Exact Online asked us to wait a moment. Please try again in a minute.")


class ExactUnauthorized(ExactError):
    """A 401 from the API that a fresh access token did not cure."""

    template = N_(
        "Exact Online did not accept the connection's login. If this keeps happening, connect "
        "Exact Online again."
    )


FORBIDDEN_REASONS: dict[str, Text] = {
    "BlockedUser": N_("The Exact Online user of this connection is blocked in Exact Online."),
    "InactiveUser": N_("The Exact Online user of this connection is no longer active."),
    "BlockedCustomer": N_("The Exact Online subscription of this customer is blocked."),
    "LicenseExpired": N_("The Exact Online licence has expired."),
    "DivisionBlocked": N_("This administration is blocked in Exact Online."),
    "NoDivisionAccess": N_(
        "The Exact Online user of this connection has no access to this administration."
    ),
    "Application Scope Violated": N_(
        "This app has not been given permission for this data in Exact Online."
    ),
    "User division is not within division scope": N_(
        "This administration has not been granted to the app in Exact Online. Grant it in Exact "
        "Online: My Exact Online > Security centre > app permissions > Manage companies."
    ),
}

VIEW_FINANCIAL_MASTER_DATA = N_("View financial master data")
CHANGE_DOCUMENTS = N_("Create, update and delete documents")

# (endpoint prefix, data in plain words, right needed to read, right needed to write)
RIGHTS: list[tuple[str, Text, Text, Text | None]] = [
    ("financial/glaccounts", N_("GL accounts"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("sync/financial/glaccounts", N_("GL accounts"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("financial/glclassifications", N_("GL accounts"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("sync/financial/glclassifications", N_("GL accounts"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("hrm/costcenters", N_("cost centers"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("hrm/costunits", N_("cost units"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("financial/financialperiods", N_("financial periods"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("financial/journals", N_("journals"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("vat/vatcodes", N_("VAT codes"), VIEW_FINANCIAL_MASTER_DATA, None),
    ("cashflow/paymentconditions", N_("payment conditions"), VIEW_FINANCIAL_MASTER_DATA, None),
    (
        "financialtransaction/transactionlines",
        N_("financial entries"),
        N_("View financial entries"),
        None,
    ),
    (
        "sync/financial/transactionlines",
        N_("financial entries"),
        N_("View financial entries"),
        None,
    ),
    ("crm/accounts", N_("suppliers"), N_("View accounts"), N_("Manage accounts")),
    ("sync/crm/accounts", N_("suppliers"), N_("View accounts"), N_("Manage accounts")),
    ("documents/", N_("documents"), N_("View documents"), CHANGE_DOCUMENTS),
    ("sync/documents/", N_("documents"), N_("View documents"), CHANGE_DOCUMENTS),
    (
        "purchaseentry/",
        N_("purchase entries"),
        N_("Enter, modify and delete purchase entries"),
        None,
    ),
    (
        "generaljournalentry/",
        N_("general journal entries"),
        N_("Enter, modify and delete general journal entries"),
        None,
    ),
]


def missing_right(endpoint: str | None, method: str = "GET") -> tuple[Text, Text] | None:
    """(data in plain words, Exact right) needed for an endpoint, when we know it."""
    if not endpoint:
        return None
    key = endpoint_of(endpoint).lower()
    for prefix, data, read_right, write_right in RIGHTS:
        if key == prefix.rstrip("/") or key.startswith(prefix.rstrip("/") + "/"):
            writing = method.upper() in ("POST", "PUT", "DELETE")
            return data, (write_right if writing and write_right else read_right)
    return None


class ExactForbidden(ExactError):
    """403: blocked user, licence, division not granted, or a missing right."""

    template = N_("Exact Online refused access to this data.")

    @classmethod
    def build(
        cls,
        raw_message: str = "",
        *,
        reason: str | None = None,
        method: str = "GET",
        **fields: Any,
    ) -> ExactForbidden:
        """Pick the plainest message: a known Reason first, else the missing right."""
        known = _known_reason(reason) or _known_reason(raw_message)
        if known:
            return cls(
                raw_message, reason=reason or known, template=FORBIDDEN_REASONS[known], **fields
            )
        needed = missing_right(fields.get("endpoint"), method)
        if needed:
            template = N_(
                "The Exact Online user of this connection may not use %(data)s in this "
                "administration. In Exact Online, give this user the right \u201c%(right)s\u201d."
            )
            return cls(
                raw_message,
                reason=reason,
                template=template,
                data=needed[0],
                right=needed[1],
                **fields,
            )
        return cls(raw_message, reason=reason, **fields)


def _known_reason(text: str | None) -> str | None:
    if not text:
        return None
    lowered = text.lower()
    for key in FORBIDDEN_REASONS:
        if lowered.startswith(key.lower()) or (" " in key and key.lower() in lowered):
            return key
    return None


class ExactNotFound(ExactError):
    template = N_("The requested item was not found in Exact Online.")


class ExactRateLimited(ExactError):
    """Exact's 60-calls-per-minute limit for this administration; `reset_at` says when it lifts."""

    template = N_(
        "Exact Online's limit of calls per minute for this administration was reached. We "
        "continue after %(reset_at)s."
    )

    def __init__(self, raw_message: str = "", *, reset_at: datetime | None = None, **fields):
        self.reset_at = reset_at
        if reset_at is None:
            fields.setdefault(
                "template",
                N_("Exact Online's limit of calls per minute was reached. We continue shortly."),
            )
        super().__init__(raw_message, reset_at=reset_at, **fields)


class ExactDailyLimitReached(ExactError):
    """Exact's daily call limit for this administration; it resets at `reset_at` (UTC day)."""

    template = N_(
        "Exact Online's daily limit of calls for this administration was reached. We continue "
        "after %(reset_at)s."
    )

    def __init__(self, raw_message: str = "", *, reset_at: datetime | None = None, **fields):
        self.reset_at = reset_at
        if reset_at is None:
            fields.setdefault(
                "template",
                N_("Exact Online's daily limit of calls for this administration was reached."),
            )
        super().__init__(raw_message, reset_at=reset_at, **fields)


class ExactErrorBudgetExhausted(ExactError):
    """We stopped calling an endpoint so Exact does not block the app for an hour."""

    template = N_(
        "Exact Online gave too many errors for this data in the past hour. We paused to avoid "
        "being blocked by Exact Online and continue after %(until)s."
    )

    def __init__(self, raw_message: str = "", *, until: datetime, **fields):
        self.until = until
        super().__init__(raw_message, until=until, **fields)


class ExactValidationError(ExactError):
    """HTTP 500 with a message: Exact refused the data; its own words say why."""

    template = N_("Exact Online did not accept this: %(exact_message)s")

    def __init__(self, raw_message: str = "", **fields):
        super().__init__(raw_message, exact_message=raw_message, **fields)


class ExactUnavailable(ExactError):
    """Exact could not be reached (timeout, connection error, DNS) or failed on its side.

    `maybe_booked` is set when a POST may have been processed although no answer came back.
    """

    template = N_("Exact Online could not be reached. We will try again later.")

    def __init__(self, raw_message: str = "", *, maybe_booked: bool = False, **fields):
        self.maybe_booked = maybe_booked
        if maybe_booked:
            fields.setdefault(
                "template",
                N_(
                    "Exact Online did not answer in time. The entry may have been booked "
                    "anyway: check Exact Online before sending it again."
                ),
            )
        super().__init__(raw_message, **fields)


class ExactServerError(ExactUnavailable):
    """5xx without a message: a fault on Exact's side, usually temporary."""

    template = N_("Exact Online had an internal error. We will try again later.")


_REAUTH_ERRORS = {"invalid_grant", "unauthorized_client"}


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason_header(response: requests.Response) -> str | None:
    return response.headers.get("Reason") or None


def _exact_message(body: Any) -> tuple[str, str]:
    """(code, message text) from `{"error": {"code": .., "message": {"value": ..}}}`."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    return str(error.get("code") or ""), str(message or "").strip()


def _oauth_error(response: requests.Response, body: dict, fields: dict) -> ExactError:
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    reason = _reason_header(response)
    text = f"{description} {reason or ''}".lower()
    fields.update(code=error, reason=reason, status=response.status_code)
    if response.status_code >= 500:
        return ExactServerError(description, **fields)
    if "toearlytorefresh" in text or "not expired" in text:
        return ExactTooEarlyToRefresh(description, **fields)
    if "expired" in text and "refresh token" in text:
        return ExactRefreshTokenExpired(description, **fields)
    if error in _REAUTH_ERRORS or "old refresh token" in text or "revoked" in text:
        return ExactReauthorizationNeeded(description, **fields)
    if error == "invalid_client":
        template = N_(
            "The portal's Exact Online app settings are wrong (client ID or secret). Please "
            "contact support."
        )
        return ExactError(description, template=template, **fields)
    if response.status_code == 429:
        return ExactRateLimited(description, **fields)
    if response.status_code == 401:
        return ExactUnauthorized(description, **fields)
    return ExactError(description, **fields)


def error_from_response(
    response: requests.Response,
    endpoint: str | None = None,
    division: int | None = None,
) -> ExactError:
    """The typed error for a failed Exact answer (API or OAuth token endpoint)."""
    if endpoint is None and response.request is not None and response.request.url:
        endpoint = endpoint_of(response.request.url)
    fields: dict[str, Any] = {"endpoint": endpoint, "division": division}
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return _oauth_error(response, body, fields)

    status = response.status_code
    code, text = _exact_message(body)
    reason = _reason_header(response)
    fields.update(status=status, code=code)
    if status == 401:
        return ExactUnauthorized(text, reason=reason, **fields)
    if status == 403:
        method = response.request.method if response.request is not None else "GET"
        return ExactForbidden.build(text, reason=reason, method=method or "GET", **fields)
    if status == 404:
        return ExactNotFound(text, reason=reason, **fields)
    if status == 429:
        return rate_limit_error(response.headers, text, reason=reason, **fields)
    if status == 500 and text:
        return ExactValidationError(text, reason=reason, **fields)
    if status >= 500:
        return ExactServerError(text, reason=reason, **fields)
    return ExactError(text, reason=reason, **fields)


def _ms_to_datetime(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC) if value else None
    except (TypeError, ValueError):
        return None


def rate_limit_error(headers: Any, raw_message: str = "", **fields: Any) -> ExactError:
    """Daily or minutely limit error from a 429's headers."""
    if headers.get("X-RateLimit-Remaining") == "0":
        reset_at = _ms_to_datetime(headers.get("X-RateLimit-Reset"))
        return ExactDailyLimitReached(raw_message, reset_at=reset_at, **fields)
    reset_at = _ms_to_datetime(headers.get("X-RateLimit-Minutely-Reset"))
    return ExactRateLimited(raw_message, reset_at=reset_at, **fields)
