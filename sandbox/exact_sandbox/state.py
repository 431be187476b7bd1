"""Everything the sandbox remembers, in memory, behind one lock."""

from __future__ import annotations

import copy
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .clock import SandboxClock, parse_time
from .data import DivisionData
from .faults import FaultList
from .rng import mix, text_key


@dataclass
class Consent:
    """An app's grant from one Exact user: which divisions it may use."""

    id: int
    client_id: str
    username: str
    divisions: set[int]
    created: float
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    client_id: str
    username: str
    redirect_uri: str
    consent_id: int
    issued: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    consent_id: int
    issued: float
    expires: float


@dataclass
class RefreshToken:
    """One link of a rotating chain; ``access_issued`` is when its access token was issued."""

    token: str
    consent_id: int
    issued: float
    access_issued: float
    used: bool = False


@dataclass
class OAuthStore:
    consents: dict[int, Consent] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # browser cookie -> username
    tickets: dict[str, tuple[str, float]] = field(default_factory=dict)  # login step -> user
    token_calls: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    next_consent: int = 1

    def consent_for(self, client_id: str, username: str) -> Consent | None:
        """The live consent of a user for an app (at most one)."""
        for consent in self.consents.values():
            mine = consent.client_id == client_id and consent.username == username
            if mine and not consent.revoked:
                return consent
        return None


class Counters:
    """Counts the tests of the portal assert on (e.g. "exactly one refresh")."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )

    def add(self, name: str, client_id: str, key: str | int) -> None:
        self.values[name][client_id][str(key)] += 1

    def as_dict(self) -> dict:
        result: dict = {}
        for name in (
            "api_calls",
            "token_calls",
            "code_exchanges",
            "refreshes",
            "statuses",
            "bookings",
            "faults",
        ):
            per_app = self.values.get(name, {})
            result[name] = {app: dict(keys) for app, keys in per_app.items()}
            result[f"{name}_total"] = sum(sum(keys.values()) for keys in per_app.values())
        return result


class LimitState:
    """Rate-limit windows and the error throttle."""

    def __init__(self) -> None:
        self.minute: dict[tuple, tuple[int, int]] = {}
        self.day: dict[tuple, tuple[str, int]] = {}
        self.errors: dict[tuple, deque[float]] = defaultdict(deque)
        self.blocked_until: dict[tuple, float] = {}


class SandboxState:
    """The sandbox's memory. Hold ``lock`` while reading or changing anything in it."""

    def __init__(self, config: dict, clock: SandboxClock | None = None) -> None:
        self.config = config
        self.clock = clock or clock_from_config(config)
        self.clock_start = (self.clock.now(), self.clock.speed)
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.apps = {app["client_id"]: copy.deepcopy(app) for app in self.config["apps"]}
            self.users = {user["username"]: _user(user) for user in self.config["users"]}
            self.division_configs = {
                int(division["code"]): copy.deepcopy(division)
                for division in self.config["divisions"]
            }
            self._data: dict[int, DivisionData] = {}
            self.oauth = OAuthStore()
            self.counters = Counters()
            self.limits = LimitState()
            self.faults = FaultList()

    def data(self, code: int) -> DivisionData:
        """A division's records, generated on first use."""
        with self.lock:
            found = self._data.get(code)
            if found is None:
                division = dict(self.division_configs[code])
                division.setdefault("years", _default_years(self.clock.now()))
                found = DivisionData(division)
                self._data[code] = found
            return found

    def generated(self, code: int) -> DivisionData | None:
        return self._data.get(code)

    # conveniences
    def now(self) -> float:
        return self.clock.now()

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def utc_day(self) -> str:
        return datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y-%m-%d")

    def setting(self, section: str, key: str) -> Any:
        return self.config[section][key]

    def user_language_is_dutch(self, username: str) -> bool:
        return self.users[username]["language"].lower().startswith("nl")


def clock_from_config(config: dict) -> SandboxClock:
    clock = config.get("clock") or {}
    start = clock.get("start")
    if isinstance(start, str):
        start = parse_time(start)
    return SandboxClock(start, clock.get("speed", 1.0))


def _default_years(now: float) -> list[int]:
    year = datetime.fromtimestamp(now, UTC).year
    return [year - 1, year]


def _user(config: dict) -> dict:
    """A user's runtime record: config plus the things control calls can change."""
    user = copy.deepcopy(config)
    user["divisions"] = [int(code) for code in user.get("divisions", [])]
    user.setdefault("language", "nl-NL")
    user.setdefault("legislation", "NL")
    user.setdefault("full_name", user["username"])
    user.setdefault("email", f"{user['username']}@sandbox.example")
    user["current_division"] = int(user.get("current_division") or user["divisions"][0])
    user["denied_rights"] = {
        str(code): set(rights) for code, rights in (user.get("denied_rights") or {}).items()
    }
    value = mix(text_key(user["username"]), 7)
    text = f"{value:016x}{mix(value):016x}"
    user["id"] = f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:32]}"
    return user
