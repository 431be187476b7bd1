"""The REST API under /api/v1: auth, limits, scope, rights, then reading or writing."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, g, request

from . import limits, writes
from .entities import NAVIGATION, RIGHTS, VAT_PERCENTAGE_FIELDS, Entity, routes
from .odata import SELECT_MISSING, Filter, ODataError, parse_filter, parse_int, parse_select
from .responses import atom_error, atom_feed, exact_error, json_response, state
from .state import Consent, SandboxState
from .table import Table

bp = Blueprint("sandbox_api", __name__)

ROUTES = routes()
DIVISION_LISTS = ("system/divisions", "system/alldivisions", "hrm/divisions")
_KEYED = re.compile(r"^(?P<path>.+?)\((?:guid)?'?\{?(?P<key>[^')}]*)\}?'?\)$", re.IGNORECASE)
_SAFE = "$,'():*"


@dataclass
class Call:
    """One API request, as the pipeline learns about it."""

    division: int | None
    resource: str
    endpoint: str
    key: str | None
    client_id: str = ""
    username: str = ""
    consent: Consent | None = None

    def throttle_key(self) -> tuple:
        return (self.client_id, self.username, self.division, self.endpoint)


@bp.route("/api/v1/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
def api(rest: str) -> Response:
    g.wants_json = "application/json" in request.headers.get("Accept", "")
    call = _parse(rest)
    if call is None:
        return fail(404, "Resource not found")
    st = state()
    with st.lock:
        return _serve(st, call)


def _parse(rest: str) -> Call | None:
    head, _, resource = rest.partition("/")
    if head.lower() == "current":
        division, resource = None, f"current/{resource}"
    elif head.isdigit():
        division = int(head)
    else:
        return None
    key = None
    match = _KEYED.match(resource)
    if match:
        resource, key = match.group("path"), match.group("key")
    return Call(division, resource, resource.lower(), key)


def _serve(st: SandboxState, call: Call) -> Response:
    refused = _authenticate(st, call)
    if refused is not None:
        return _finish(st, call, refused, {})
    if limits.is_blocked(st, call.throttle_key()):
        message = "API key temporarily blocked: too many errors on this endpoint in the last hour"
        return _finish(st, call, exact_error(429, message, "ErrorThrottle"), {})
    allowed, headers = limits.take_call(st, call.client_id, call.division)
    if not allowed:
        return _finish(st, call, limits.too_many(), headers)
    st.counters.add("api_calls", call.client_id, call.division or "current")
    try:
        response = _scope(st, call) or _dispatch(st, call)
    except ODataError as error:
        response = fail(400, str(error))
    except writes.RequestError as error:
        response = fail(400, str(error))
    return _finish(st, call, response, headers)


def _finish(st: SandboxState, call: Call, response: Response, headers: dict) -> Response:
    response.headers.update(headers)
    if call.client_id:
        st.counters.add("statuses", call.client_id, response.status_code)
        limits.record_status(st, call.throttle_key(), response.status_code)
    return response


def fail(status: int, message: str, reason: str | None = None) -> Response:
    if g.get("wants_json", True):
        return exact_error(status, message, reason)
    return atom_error(status, message, reason)


# ---------------------------------------------------------------- auth, scope, rights
def _authenticate(st: SandboxState, call: Call) -> Response | None:
    header = request.headers.get("Authorization", "")
    token = None
    if header[:7].lower() == "bearer ":
        token = st.oauth.access.get(header[7:].strip())
    if token is None:
        return _unauthorized()
    consent = st.oauth.consents[token.consent_id]
    call.client_id, call.username, call.consent = consent.client_id, consent.username, consent
    if consent.revoked or st.now() >= token.expires:
        return _unauthorized()
    return None


def _unauthorized() -> Response:
    response = fail(401, "Unauthorized: the access token is missing, invalid or expired")
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _scope(st: SandboxState, call: Call) -> Response | None:
    if call.division is None:
        return None
    user = st.users[call.username]
    division = st.division_configs.get(call.division)
    if division is None or call.division not in user["divisions"]:
        return fail(403, "User has no access to this division", "NoDivisionAccess")
    in_grant = call.division in call.consent.divisions
    lists_anywhere = st.config.get("division_list_from_any_user_division", True)
    if not in_grant and not (lists_anywhere and call.endpoint in DIVISION_LISTS):
        return fail(403, "User division is not within division scope", "Application Scope Violated")
    if int(division.get("blocking_status", 0)):
        return fail(403, "The division is blocked", "DivisionBlocked")
    return None


def rights_error(st: SandboxState, call: Call, right: str | None) -> Response | None:
    """403 naming the missing right, when the user lacks it in this division."""
    if not right:
        return None
    denied = st.users[call.username]["denied_rights"]
    if right not in denied.get(str(call.division), set()) | denied.get("*", set()):
        return None
    english, dutch = RIGHTS[right]
    if st.user_language_is_dutch(call.username):
        message = f"Geen toegang: u heeft het recht '{dutch}' nodig"
    else:
        message = f"Forbidden: you need the right '{english}'"
    return fail(403, message, f"MissingRight: {english}")


# ---------------------------------------------------------------- dispatch
def _dispatch(st: SandboxState, call: Call) -> Response:
    method = request.method
    if call.endpoint == "current/me" and method == "GET":
        return _me(st, call)
    if call.endpoint in DIVISION_LISTS and method == "GET":
        return _division_list(st, call)
    route = ROUTES.get(call.endpoint)
    if route is None:
        return fail(404, "Resource not found")
    entity, kind = route
    if method == "GET":
        return _read(st, call, entity, kind)
    if kind != "standard" or entity.write_right is None:
        return fail(405, "Method not allowed")
    refused = rights_error(st, call, entity.write_right)
    if refused is not None:
        return refused
    return writes.write(st, call, entity, base_url())


def base_url() -> str:
    return state().config.get("base_url") or request.url_root.rstrip("/")


# ---------------------------------------------------------------- current/Me and divisions
ME_FIELDS = (
    "UserID",
    "UserName",
    "FullName",
    "FirstName",
    "LastName",
    "Email",
    "CurrentDivision",
    "LanguageCode",
    "Legislation",
    "DivisionCustomer",
)


def _me(st: SandboxState, call: Call) -> Response:
    user = st.users[call.username]
    first, _, last = user["full_name"].partition(" ")
    current = st.division_configs.get(user["current_division"], {})
    row = {
        "UserID": user["id"],
        "UserName": user["username"],
        "FullName": user["full_name"],
        "FirstName": first,
        "LastName": last,
        "Email": user["email"],
        "CurrentDivision": user["current_division"],
        "LanguageCode": user["language"],
        "Legislation": user["legislation"],
        "DivisionCustomer": _customer_id(current),
    }
    fields = parse_select(request.args.get("$select"), ME_FIELDS, "Exact.Web.Api.System.Me")
    uri = f"{base_url()}/api/v1/current/Me(guid'{user['id']}')"
    rendered = _plain(row, fields or list(ME_FIELDS), uri, "Exact.Web.Api.System.Me")
    return _envelope([rendered], None, list_form=False)


DIVISION_FIELDS = (
    "Code",
    "Description",
    "Hid",
    "Customer",
    "CustomerCode",
    "CustomerName",
    "VATNumber",
    "ChamberOfCommerceNumber",
    "Country",
    "Currency",
    "Status",
    "BlockingStatus",
    "IsMainDivision",
    "DivisionMoveDate",
    "Created",
    "Modified",
)
HRM_DIVISION_FIELDS = (
    "Code",
    "Description",
    "HID",
    "Customer",
    "CustomerName",
    "Main",
    "Status",
    "BlockingStatus",
    "VATNumber",
    "Country",
    "Currency",
)


def _division_list(st: SandboxState, call: Call) -> Response:
    user = st.users[call.username]
    licence = st.division_configs[call.division].get("licence")
    if call.endpoint == "system/alldivisions":
        codes = [code for code, cfg in st.division_configs.items() if cfg.get("licence") == licence]
    else:
        codes = [code for code in user["divisions"] if code in call.consent.divisions]
        if call.endpoint == "hrm/divisions":
            codes = [c for c in codes if st.division_configs[c].get("licence") == licence]
    hrm = call.endpoint == "hrm/divisions"
    field_names = HRM_DIVISION_FIELDS if hrm else DIVISION_FIELDS
    type_name = "Exact.Web.Api.HRM.Division" if hrm else "Exact.Web.Api.System.Division"
    fields = _required_select(field_names, type_name)
    rows = [_division_row(st, code, hrm) for code in sorted(codes)]
    where = parse_filter(request.args.get("$filter"), field_names, type_name)
    rows = [row for row in rows if where.test(row)]
    after = parse_int(request.args.get("$skiptoken", "").rstrip("L") or None, "$skiptoken")
    if after is not None:
        rows = [row for row in rows if row["Code"] > after]
    top = parse_int(request.args.get("$top"), "$top")
    size = _page_size(st, "standard") if top is None else min(top, _page_size(st, "standard"))
    page = rows[:size]
    path = f"{base_url()}/api/v1/{call.division}/{call.resource}"
    rendered = [_plain(row, fields, f"{path}({row['Code']})", type_name) for row in page]
    next_token = str(page[-1]["Code"]) if len(rows) > size and top is None else None
    return _envelope(rendered, next_token, list_form=top is not None)


def _division_row(st: SandboxState, code: int, hrm: bool) -> dict:
    cfg = st.division_configs[code]
    data = st.generated(code)
    move = data.move_date_ms if data else None
    created = "/Date(1577869200000)/"
    row = {
        "Code": code,
        "Description": cfg.get("name", str(code)),
        "Customer": _customer_id(cfg),
        "CustomerName": cfg.get("customer_name", cfg.get("name")),
        "Status": int(cfg.get("status", 1)),
        "BlockingStatus": int(cfg.get("blocking_status", 0)),
        "VATNumber": cfg.get("vat_number"),
        "Country": cfg.get("country", "NL"),
        "Currency": cfg.get("currency", "EUR"),
    }
    hid = int(cfg.get("hid", code % 100_000))
    if hrm:
        return {**row, "HID": hid, "Main": bool(cfg.get("is_main", False))}
    return {
        **row,
        "Hid": hid,
        "CustomerCode": f"{hid:>18}",
        "ChamberOfCommerceNumber": cfg.get("kvk"),
        "IsMainDivision": bool(cfg.get("is_main")),
        "DivisionMoveDate": f"/Date({move})/" if move else None,
        "Created": created,
        "Modified": created,
    }


def _customer_id(cfg: dict) -> str | None:
    if not cfg:
        return None
    code = int(cfg["code"])
    return f"c0570e4e-0000-4000-8000-{code:012d}"


# ---------------------------------------------------------------- reading entities
def _read(st: SandboxState, call: Call, entity: Entity, kind: str) -> Response:
    refused = rights_error(st, call, entity.read_right)
    if refused is not None:
        return refused
    table = st.data(call.division).tables[entity.name]
    if call.key is not None:
        return _read_one(st, call, entity, table, kind)
    top = parse_int(request.args.get("$top"), "$top")
    select = parse_select(request.args.get("$select"), entity.fields, entity.odata_type)
    if select is None and top != 1:
        raise ODataError(SELECT_MISSING)
    fields = select or list(entity.fields)
    size = _page_size(st, kind)
    if top is not None:
        size = min(size, top)
    if kind == "sync":
        rows, next_token = _sync_rows(st, entity, table, size)
    else:
        rows, next_token = _indexed_rows(entity, table, size)
    if top is not None:
        next_token = None
    path = _path_for(call, entity, kind)
    expand = _expand(entity)
    rendered = render_many(rows, entity, fields, path, expand)
    return _envelope(rendered, next_token, list_form=top is not None)


def _read_one(st: SandboxState, call: Call, entity: Entity, table: Table, kind: str) -> Response:
    row = table.find(call.key)
    if row is None or kind != "standard":
        return fail(404, "Record not found")
    select = parse_select(request.args.get("$select"), entity.fields, entity.odata_type)
    path = _path_for(call, entity, kind)
    rendered = render(row, entity, select or list(entity.fields), path, _expand(entity))
    if not g.wants_json:
        return atom_feed(entity.name, [rendered["__metadata"]["uri"]])
    return json_response({"d": rendered})


def _sync_rows(st: SandboxState, entity: Entity, table: Table, size: int):
    """Rows above the Timestamp filter, in Timestamp order; only Timestamp may be filtered."""
    after = 0
    where = parse_filter(request.args.get("$filter"), entity.fields, entity.odata_type)
    if where.conditions is None:
        raise ODataError("Only 'Timestamp gt' filters are supported on sync endpoints.")
    for condition in where.conditions:
        if condition.field != "Timestamp" or condition.op not in ("gt", "ge"):
            raise ODataError("Only 'Timestamp gt' filters are supported on sync endpoints.")
        if condition.kind != "number":
            raise ODataError("Timestamp must be compared with an Int64 value, e.g. 1L.")
        after = max(after, int(condition.value) - (1 if condition.op == "ge" else 0))
    token = request.args.get("$skiptoken")
    if token:
        after = max(after, _int_token(token))
    keep = _retention_filter(st, entity)
    rows = []
    for row in table.iter_since(after):
        if keep is None or keep(row):
            rows.append(row)
            if len(rows) > size:
                break
    more = len(rows) > size
    rows = rows[:size]
    return rows, (f"{rows[-1]['Timestamp']}L" if more else None)


def _retention_filter(st: SandboxState, entity: Entity):
    """sync/Deleted keeps deletions two months (configurable)."""
    if entity.name != "Deleted":
        return None
    days = float(st.config.get("deleted_retention_days", 60))
    oldest = st.now_ms() - int(days * 86_400_000)
    return lambda row: int(row["DeletedDate"][6:-2]) >= oldest


def _int_token(token: str) -> int:
    try:
        return int(token.strip().strip("'").rstrip("Ll"))
    except ValueError as error:
        raise ODataError(f"Invalid $skiptoken '{token}'.") from error


def _indexed_rows(entity: Entity, table: Table, size: int):
    """Rows in index order matching the filter, resuming after the $skiptoken GUID."""
    where = parse_filter(request.args.get("$filter"), entity.fields, entity.odata_type)
    start = _guid_token_start(table, request.args.get("$skiptoken"))
    by_key = _key_condition(entity, where)
    if by_key is not None:
        row = table.find(by_key)
        candidates = [] if row is None else [(table.index(by_key), row)]
        candidates = [(i, r) for i, r in candidates if i >= start]
    else:
        candidates = table.iter_from(start)
    rows = []
    for _index, row in candidates:
        if where.test(row):
            rows.append(row)
            if len(rows) > size:
                break
    more = len(rows) > size
    rows = rows[:size]
    return rows, (f"guid'{rows[-1][entity.key]}'" if more else None)


def _guid_token_start(table: Table, token: str | None) -> int:
    if not token:
        return 0
    text = token.strip()
    if text.lower().startswith("guid'"):
        text = text[5:]
    index = table.raw_index(text.strip("'"))  # a deleted row still tells where to resume
    if index is None:
        raise ODataError(f"Invalid $skiptoken '{token}'.")
    return index + 1


def _key_condition(entity: Entity, where: Filter) -> str | None:
    """The GUID of an ``ID eq guid'...'`` among and-joined conditions: look it up directly."""
    for condition in where.conditions or []:
        if condition.field == entity.key and condition.op == "eq" and condition.kind == "guid":
            return str(condition.value)
    return None


def _path_for(call: Call, entity: Entity, kind: str) -> str:
    resource = getattr(entity, kind) or call.resource
    return f"{base_url()}/api/v1/{call.division}/{resource}"


def _expand(entity: Entity) -> set[str]:
    text = request.args.get("$expand") or ""
    wanted = {name.strip().lower() for name in text.split(",") if name.strip()}
    return {name for name in NAVIGATION if name.lower() in wanted and name in entity.fields}


def _page_size(st: SandboxState, kind: str) -> int:
    return int(st.config["page_sizes"][kind])


# ---------------------------------------------------------------- rendering
def render(row: dict, entity: Entity, fields: list[str], path: str, expand: set[str]) -> dict:
    """A row as Exact sends it: __metadata first, then the selected fields."""
    return render_many([row], entity, fields, path, expand)[0]


def render_many(
    rows: list[dict], entity: Entity, fields: list[str], path: str, expand: set[str]
) -> list[dict]:
    """render() for a page; the hot loop of serving, so it stays plain."""
    specials = _SPECIAL.intersection(fields)
    key, odata_type = entity.key, entity.odata_type
    result = []
    for row in rows:
        uri = f"{path}(guid'{row[key]}')"
        item = {"__metadata": {"uri": uri, "type": odata_type}}
        for name in fields:
            item[name] = row.get(name)
        for name in specials:
            item[name] = _special(name, row, entity, uri, path, expand)
        result.append(item)
    return result


_SPECIAL = {"Url", "Attachment", *NAVIGATION}


def _special(name: str, row: dict, entity: Entity, uri: str, path: str, expand: set[str]) -> object:
    if name == "Url":
        url = row.get("Url")
        return f"{base_url()}{url}" if url and url.startswith("/") else url
    if name == "Attachment":
        data = state().data(int(row["Division"]))
        return base64.b64encode(data.attachment_bytes(row["ID"])).decode()
    if name not in expand:
        return {"__deferred": {"uri": f"{uri}/{name}"}}
    children = row.get(name) or []
    fields = VAT_PERCENTAGE_FIELDS if name == "VATPercentages" else None
    child_type = entity.odata_type.rsplit(".", 1)[0] + "." + name.removesuffix("s")
    folder = path.rsplit("/", 1)[0]
    results = []
    for child in children:
        child_fields = fields or list(child)
        child_uri = f"{folder}/{name}(guid'{child['ID']}')"
        results.append(_plain(child, child_fields, child_uri, child_type))
    return {"results": results}


def _plain(row: dict, fields: list[str] | tuple[str, ...], uri: str, type_name: str) -> dict:
    item = {"__metadata": {"uri": uri, "type": type_name}}
    for name in fields:
        item[name] = row.get(name)
    return item


def _required_select(fields: tuple[str, ...], type_name: str) -> list[str]:
    top = parse_int(request.args.get("$top"), "$top")
    select = parse_select(request.args.get("$select"), fields, type_name)
    if select is None and top != 1:
        raise ODataError(SELECT_MISSING)
    return select or list(fields)


def _envelope(rows: list[dict], next_token: str | None, list_form: bool = False) -> Response:
    """{"d": {"results": [...], "__next": ...}}, or the bare list {"d": [...]} for $top.

    A caller that did not ask for JSON gets Atom XML, as from Exact.
    """
    if not g.wants_json:
        return atom_feed(
            request.path.rsplit("/", 1)[-1], [row["__metadata"]["uri"] for row in rows]
        )
    if list_form:
        return json_response({"d": rows})
    body: dict = {"results": rows}
    if next_token is not None:
        body["__next"] = _next_url(next_token)
    return json_response({"d": body})


def _next_url(token: str) -> str:
    params = [(k, v) for k, v in request.args.items(multi=True) if k != "$skiptoken"]
    params.append(("$skiptoken", token))
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe=_SAFE)}" for k, v in params)
    return f"{base_url()}{request.path}?{query}"


def download_attachment() -> Response:
    """The file behind a DocumentAttachments ``Url`` (needs the same bearer token)."""
    g.wants_json = True
    division = request.args.get("_Division_", "")
    if not division.isdigit():
        return fail(404, "Resource not found")
    call = Call(int(division), "docs/SysAttachment.aspx", "docs/sysattachment.aspx", None)
    st = state()
    with st.lock:
        refused = _authenticate(st, call) or _scope(st, call)
        refused = refused or rights_error(st, call, "view_documents")
        if refused is not None:
            return _finish(st, call, refused, {})
        data = st.data(call.division)
        row = data.tables["DocumentAttachments"].find(request.args.get("ID"))
        if row is None:
            return _finish(st, call, fail(404, "Attachment not found"), {})
        content = data.attachment_bytes(row["ID"])
    disposition = f'attachment; filename="{row["FileName"]}"'
    return Response(
        content, 200, {"Content-Disposition": disposition}, content_type="application/octet-stream"
    )
