"""Sandbox configuration: the shipped default, loading a JSON file, filling in defaults."""

from __future__ import annotations

import copy
import json
from pathlib import Path

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.json")
MERGED_SECTIONS = ("clock", "oauth", "limits", "page_sizes", "legislation_codes")
SELECT_RULES = ("documented", "always")


def default_config() -> dict:
    """A fresh copy of the shipped default configuration."""
    return json.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def load_config(path: str | Path) -> dict:
    """Read a JSON config file and complete it with the defaults."""
    return normalize(json.loads(Path(path).read_text(encoding="utf-8")))


def normalize(config: dict | None) -> dict:
    """Overlay ``config`` on the default: sections merge key by key, lists replace.

    So ``{"limits": {"minutely": 5}}`` keeps the demo apps, users and divisions.
    """
    result = default_config()
    for key, value in copy.deepcopy(config or {}).items():
        if key in MERGED_SECTIONS and isinstance(value, dict):
            result[key].update(value)
        else:
            result[key] = value
    _check(result)
    return result


def _check(config: dict) -> None:
    if config["select_required"] not in SELECT_RULES:
        raise ValueError(f"select_required must be one of {', '.join(SELECT_RULES)}")
    codes = {int(division["code"]) for division in config["divisions"]}
    for user in config["users"]:
        missing = {int(code) for code in user.get("divisions", [])} - codes
        if missing:
            raise ValueError(f"user {user['username']!r} names unknown divisions {sorted(missing)}")
    for app in config["apps"]:
        for key in ("client_id", "client_secret"):
            if not app.get(key):
                raise ValueError(f"every app needs a {key}")
