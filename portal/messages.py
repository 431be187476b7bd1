"""Texts a worker or service stores for later display, translated when they are shown.

A worker writes in its own language (English), but a Dutch user must read Dutch. So a stored
text keeps, next to the text itself, its English source string and parameters (``to_json``);
``shown`` translates them in the reader's language. Old rows without that JSON (and any JSON
that cannot be read) show their text as is, so nothing stored before is lost.

``N_`` marks a source string for Babel (the extractor knows the name) and returns a
``Message``: a ``str`` (the text in the current language, so it can go anywhere a text went)
that remembers its template and parameters. Parameters may be plain values, datetimes, other
messages (translated too) and lists of those (joined with "; ").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, has_app_context

JSON = dict[str, Any]


def _babel_active() -> bool:
    return has_app_context() and "babel" in current_app.extensions


def gettext(template: str, **values: Any) -> str:
    """``template`` in the current language filled with ``values``: Flask-Babel where an app
    has it, else the English source (workers of other programs, scripts)."""
    if _babel_active():
        from flask_babel import gettext

        return gettext(template, **values)
    return template % values if values else str(template)


def format_utc(value: datetime) -> str:
    """A time of Exact's limits, which follow the UTC day: in UTC, said so."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if _babel_active():
        from flask_babel import format_datetime

        # The times in stored texts are Exact's limit resets, which follow the UTC day.
        return format_datetime(value.astimezone(UTC), "short", rebase=False) + " UTC"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _value(value: Any) -> Any:
    """A parameter as it is shown, in the current language."""
    if isinstance(value, Message):
        return value.render()
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, list | tuple):
        return "; ".join(str(_value(item)) for item in value)
    return value


class Message(str):
    """A text in the current language that remembers its English source and parameters."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Message:
        text = super().__new__(cls, _render(str(template), params))
        text.template, text.params = str(template), params
        return text

    def render(self) -> str:
        """The text in the current language (the reader's, in a request)."""
        return _render(self.template, self.params)

    def to_json(self) -> JSON:
        return {"t": self.template, "p": {key: _dump(v) for key, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Any) -> Message | None:
        if not isinstance(data, dict) or not isinstance(data.get("t"), str):
            return None
        params = data.get("p") or {}
        if not isinstance(params, dict):
            return None
        return cls(data["t"], **{key: _load(v) for key, v in params.items()})

    def __reduce__(self):  # pickling (RQ) keeps the template and parameters
        return (_rebuild, (self.template, self.params))


def _rebuild(template: str, params: dict[str, Any]) -> Message:
    return Message(template, **params)


def _render(template: str, params: dict[str, Any]) -> str:
    return gettext(template, **{key: _value(v) for key, v in params.items()})


def _dump(value: Any) -> Any:
    if isinstance(value, Message):
        return {"m": value.to_json()}
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, list | tuple):
        return {"list": [_dump(item) for item in value]}
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _load(value: Any) -> Any:
    if isinstance(value, dict):
        if "m" in value:
            return Message.from_json(value["m"]) or ""
        if "dt" in value:
            try:
                return datetime.fromisoformat(value["dt"])
            except (TypeError, ValueError):
                return ""
        if "list" in value and isinstance(value["list"], list):
            return [_load(item) for item in value["list"]]
        return ""
    return value


def N_(template: str, **params: Any) -> Message:  # noqa: N802 - the name Babel extracts
    """Mark ``template`` for translation; a ``Message`` that is translated again when shown."""
    return Message(template, **params)


def stored(value: Any) -> JSON | None:
    """What to keep next to a stored text: the message's JSON, or nothing for plain text."""
    return value.to_json() if isinstance(value, Message) else None


def restore(text: str | None, data: Any) -> str | None:
    """The stored text again, as a ``Message`` when its JSON is there (for storing it on)."""
    if text is None:
        return None
    try:
        return Message.from_json(data) or text
    except (KeyError, TypeError, ValueError):
        return text


def shown(text: str | None, data: Any) -> str:
    """A stored text in the reader's language; the text as stored when it has no message."""
    if data:
        try:
            message = Message.from_json(data)
            if message is not None:
                return message.render()
        except (KeyError, TypeError, ValueError):
            pass
    return text or ""
