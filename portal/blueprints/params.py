"""Reading the query string of list pages: page numbers and search texts of any input."""

from __future__ import annotations

from flask import request

MAX_PAGE = 100_000
MAX_SEARCH = 100


def page_number() -> int:
    """``?page=``: 1 when missing or not a number, else clamped to 1..MAX_PAGE, so that an
    offset computed from it always fits the database."""
    value = request.args.get("page", "").lstrip("0")
    if not (value.isascii() and value.isdigit()):
        return 1
    if len(value) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(int(value), MAX_PAGE)


def search_text() -> str:
    """``?q=``, stripped and cut to MAX_SEARCH characters (a very long LIKE pattern is an
    error in SQLite and slow everywhere)."""
    return request.args.get("q", "").strip()[:MAX_SEARCH]
