"""Control endpoints under /_sandbox/ (JSON in, JSON out): things a test or a demo changes.

Exact has nothing like these; they stand in for what happens in Exact's UI (a bookkeeper
adds a supplier, a user revokes an app in the Security centre, a division moves) and for
time passing and the network failing.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from .clock import parse_time
from .entities import ENTITY_BY_NAME, RIGHTS
from .oauth import grant, revoke
from .responses import json_response, state
from .state import Counters, SandboxState

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")


class ControlError(Exception):
    """Bad control input: HTTP 400 {"error": message}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@bp.errorhandler(ControlError)
def _control_error(error: ControlError) -> Response:
    return json_response({"error": str(error)}, error.status)


def _json() -> dict:
    body = request.get_json(silent=True, force=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ControlError("send a JSON object")
    return body


def _need(body: dict, *names: str) -> list:
    missing = [name for name in names if body.get(name) in (None, "")]
    if missing:
        raise ControlError(f"missing: {', '.join(missing)}")
    return [body[name] for name in names]


# ---------------------------------------------------------------- overview and reset
@bp.get("/")
def overview() -> Response:
    st = state()
    with st.lock:
        return json_response(
            {
                "clock": st.clock.as_dict(),
                "apps": [
                    {"client_id": app["client_id"], "name": app.get("name")}
                    for app in st.apps.values()
                ],
                "users": [
                    {
                        "username": name,
                        "divisions": user["divisions"],
                        "current_division": user["current_division"],
                    }
                    for name, user in st.users.items()
                ],
                "divisions": sorted(st.division_configs),
            }
        )


@bp.post("/reset")
def reset() -> Response:
    """Back to the start: data, tokens, sessions, counters, faults, and the clock's time and
    speed at startup unless {"keep_clock": true}."""
    st = state()
    body = _json()
    with st.lock:
        st.reset()
        if not body.get("keep_clock"):
            start, speed = st.clock_start
            st.clock.set(start)
            st.clock.set_speed(speed)
    return json_response({"ok": True, "clock": st.clock.as_dict()})


# ---------------------------------------------------------------- clock
@bp.get("/clock")
def get_clock() -> Response:
    return json_response(state().clock.as_dict())


@bp.post("/clock")
def set_clock() -> Response:
    """{"now": epoch seconds or ISO text, "advance": seconds, "speed": factor} (any of them)."""
    st = state()
    body = _json()
    try:
        if body.get("now") is not None:
            st.clock.set(parse_time(body["now"]))
        if body.get("advance") is not None:
            st.clock.advance(float(body["advance"]))
        if body.get("speed") is not None:
            st.clock.set_speed(float(body["speed"]))
    except (TypeError, ValueError) as error:
        raise ControlError(str(error)) from error
    return json_response(st.clock.as_dict())


# ---------------------------------------------------------------- counters and faults
@bp.get("/counters")
def counters() -> Response:
    st = state()
    with st.lock:
        return json_response(st.counters.as_dict())


@bp.post("/counters/reset")
def reset_counters() -> Response:
    st = state()
    with st.lock:
        st.counters = Counters()
    return json_response({"ok": True})


@bp.get("/faults")
def list_faults() -> Response:
    return json_response({"faults": state().faults.public()})


@bp.post("/faults")
def add_fault() -> Response:
    try:
        fault = state().faults.add(_json())
    except (TypeError, ValueError) as error:
        raise ControlError(str(error)) from error
    return json_response(fault.public(), 201)


@bp.delete("/faults")
def clear_faults() -> Response:
    state().faults.clear()
    return json_response({"ok": True})


# ---------------------------------------------------------------- consents and users
@bp.get("/consents")
def list_consents() -> Response:
    st = state()
    with st.lock:
        return json_response(
            {
                "consents": [
                    {
                        "id": c.id,
                        "client_id": c.client_id,
                        "username": c.username,
                        "divisions": sorted(c.divisions),
                        "revoked": c.revoked,
                    }
                    for c in st.oauth.consents.values()
                ]
            }
        )


@bp.post("/consents/revoke")
def revoke_consent() -> Response:
    """{"client_id", "username"}: as withdrawing the app in Exact's Security centre."""
    client_id, username = _need(_json(), "client_id", "username")
    st = state()
    with st.lock:
        if not revoke(st, client_id, username):
            raise ControlError("no live consent for that app and user", 404)
    return json_response({"ok": True})


@bp.post("/consents/divisions")
def set_consent_divisions() -> Response:
    """{"client_id", "username", "divisions": [codes]}: Manage companies in the Security centre."""
    body = _json()
    client_id, username, divisions = _need(body, "client_id", "username", "divisions")
    st = state()
    with st.lock:
        user = _user(st, username)
        codes = {int(code) for code in divisions}
        if not codes <= set(user["divisions"]):
            raise ControlError("the user cannot reach all of those divisions")
        if st.oauth.consent_for(client_id, username) is None:
            raise ControlError("no live consent for that app and user", 404)
        consent = grant(st, client_id, username, codes)
        return json_response({"id": consent.id, "divisions": sorted(consent.divisions)})


@bp.post("/users/<username>/current-division")
def open_division(username: str) -> Response:
    """{"division": code}: the user opened another division in Exact (Me.CurrentDivision)."""
    (division,) = _need(_json(), "division")
    st = state()
    with st.lock:
        user = _user(st, username)
        if int(division) not in user["divisions"]:
            raise ControlError("the user cannot reach that division")
        user["current_division"] = int(division)
        return json_response({"username": username, "current_division": int(division)})


@bp.post("/users/<username>/rights")
def set_rights(username: str) -> Response:
    """{"division": code or "*", "deny": [right names]}: replaces the denied rights there."""
    body = _json()
    division = str(body.get("division", "*"))
    deny = set(body.get("deny") or [])
    unknown = deny - set(RIGHTS)
    if unknown:
        raise ControlError(f"unknown rights {sorted(unknown)}; known: {sorted(RIGHTS)}")
    st = state()
    with st.lock:
        user = _user(st, username)
        user["denied_rights"][division] = deny
        return json_response(
            {
                "username": username,
                "denied_rights": {
                    code: sorted(rights) for code, rights in user["denied_rights"].items()
                },
            }
        )


def _user(st: SandboxState, username: str) -> dict:
    user = st.users.get(username)
    if user is None:
        raise ControlError(f"unknown user {username!r}", 404)
    return user


# ---------------------------------------------------------------- divisions and records
@bp.get("/divisions/<int:code>")
def division_stats(code: int) -> Response:
    st = state()
    with st.lock:
        _division(st, code)
        return json_response(st.data(code).stats())


@bp.patch("/divisions/<int:code>")
def change_division(code: int) -> Response:
    """Change how system/Divisions shows a division: any of name, status, blocking_status,
    vat_number, kvk, customer_name."""
    body = _json()
    allowed = {"name", "status", "blocking_status", "vat_number", "kvk", "customer_name"}
    st = state()
    with st.lock:
        division = _division(st, code)
        division.update({key: value for key, value in body.items() if key in allowed})
        return json_response({key: division.get(key) for key in sorted(allowed | {"code"})})


@bp.post("/divisions/<int:code>/move")
def move_division(code: int) -> Response:
    """A division move: DivisionMoveDate becomes now and every Timestamp is regenerated."""
    st = state()
    with st.lock:
        _division(st, code)
        data = st.data(code)
        data.move(st.now_ms())
        return json_response(data.stats())


@bp.post("/divisions/<int:code>/records/<entity>")
def add_record(code: int, entity: str) -> Response:
    """{"fields": {...}}: a record added in Exact's UI. Answers the stored row."""
    st = state()
    fields = _fields(entity, _json())
    with st.lock:
        _division(st, code)
        row = st.data(code).add(entity, fields, st.now_ms())
        return json_response(row, 201)


@bp.get("/divisions/<int:code>/records/<entity>/<key>")
def get_record(code: int, entity: str, key: str) -> Response:
    st = state()
    _entity(entity)
    with st.lock:
        _division(st, code)
        row = st.data(code).tables[entity].find(key)
        if row is None:
            raise ControlError("no such record", 404)
        return json_response(row)


@bp.patch("/divisions/<int:code>/records/<entity>/<key>")
def change_record(code: int, entity: str, key: str) -> Response:
    """{"fields": {...}}: a change in Exact's UI; the row gets a new Timestamp."""
    st = state()
    fields = _fields(entity, _json())
    with st.lock:
        _division(st, code)
        row = st.data(code).update(entity, key, fields, st.now_ms())
        if row is None:
            raise ControlError("no such record", 404)
        return json_response(row)


@bp.delete("/divisions/<int:code>/records/<entity>/<key>")
def delete_record(code: int, entity: str, key: str) -> Response:
    """A deletion in Exact's UI; written to sync/Deleted for synced entities."""
    st = state()
    _entity(entity)
    with st.lock:
        _division(st, code)
        if not st.data(code).delete(entity, key, st.now_ms()):
            raise ControlError("no such record", 404)
        return json_response({"ok": True})


def _division(st: SandboxState, code: int) -> dict:
    division = st.division_configs.get(code)
    if division is None:
        raise ControlError(f"unknown division {code}", 404)
    return division


def _entity(name: str):
    entity = ENTITY_BY_NAME.get(name)
    if entity is None or name == "Deleted":
        known = sorted(n for n in ENTITY_BY_NAME if n != "Deleted")
        raise ControlError(f"unknown entity {name!r}; known: {known}", 404)
    return entity


def _fields(name: str, body: dict) -> dict:
    entity = _entity(name)
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise ControlError("fields must be an object")
    unknown = set(fields) - set(entity.fields) | ({"ID", "Timestamp", entity.key} & set(fields))
    if unknown:
        raise ControlError(f"fields not allowed for {name}: {sorted(unknown)}")
    if name == "Accounts" and fields.get("Code") is not None:
        fields["Code"] = f"{str(fields['Code']).strip():>18}"
    return fields
