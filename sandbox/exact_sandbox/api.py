"""The REST API under /api/v1: auth, limits, scope, rights, then reading or writing."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, g, request

from . import derived, limits, writes
from . import fields as documented_fields
from .entities import NAVIGATION, RIGHTS, Entity, routes
from .entity import line_type
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
ME_TYPE = "Exact.Web.Api.System.Me"


def _me(st: SandboxState, call: Call) -> Response:
    user = st.users[call.username]
    fields = documented_fields.documented("Me")
    select = parse_select(request.args.get("$select"), fields, ME_TYPE)
    uri = f"{base_url()}/api/v1/current/Me(guid'{user['id']}')"
    rendered = _plain(_me_row(st, user), select or list(fields), uri, ME_TYPE)
    return _envelope([rendered], None, list_form=False)


def _me_row(st: SandboxState, user: dict) -> dict:
    first, _, last = user["full_name"].partition(" ")
    current = st.division_configs.get(user["current_division"], {})
    main = [code for code in user["divisions"] if st.division_configs[code].get("is_main")]
    return {
        "UserID": user["id"],
        "UserName": user["username"],
        "FullName": user["full_name"],
        "FirstName": first,
        "LastName": last,
        "Email": user["email"],
        "CurrentDivision": user["current_division"],
        "AccountingDivision": main[0] if main else None,
        "LanguageCode": user["language"],
        "Language": user["language"][:2].upper(),
        "Legislation": legislation_code(st, user.get("legislation")),
        "DivisionCustomer": _customer_id(current),
        "DivisionCustomerCode": _customer_code(current),
        "DivisionCustomerName": current.get("customer_name", current.get("name")),
        "DivisionCustomerVatNumber": current.get("vat_number"),
        "ServerTime": f"/Date({st.now_ms()})/",
    }


def legislation_code(st: SandboxState, legislation: object) -> int | None:
    """current/Me's Legislation is an Int64 (system/Divisions has the country's letters).

    The numbers per country are config (``legislation_codes``): Exact's values are not
    confirmed (README, uncertain).
    """
    if legislation is None or isinstance(legislation, int):
        return legislation
    code = st.config.get("legislation_codes", {}).get(str(legislation).upper())
    return None if code is None else int(code)


DIVISION_LISTS_DATA = {
    "system/divisions": ("Divisions", "Exact.Web.Api.System.Division"),
    "system/alldivisions": ("AllDivisions", "Exact.Web.Api.System.Division"),
    "hrm/divisions": ("HRMDivisions", "Exact.Web.Api.HRM.Division"),
}


def _division_list(st: SandboxState, call: Call) -> Response:
    user = st.users[call.username]
    licence = st.division_configs[call.division].get("licence")
    if call.endpoint == "system/alldivisions":
        codes = [code for code, cfg in st.division_configs.items() if cfg.get("licence") == licence]
    else:
        codes = [code for code in user["divisions"] if code in call.consent.divisions]
        if call.endpoint == "hrm/divisions":
            codes = [c for c in codes if st.division_configs[c].get("licence") == licence]
    name, type_name = DIVISION_LISTS_DATA[call.endpoint]
    field_names = documented_fields.documented(name)
    hrm = call.endpoint == "hrm/divisions"
    top = parse_int(request.args.get("$top"), "$top")
    select = parse_select(request.args.get("$select"), field_names, type_name)
    _check_select(st, select, top, "standard" in documented_fields.select_required(name))
    fields = select or list(field_names)
    rows = [_division_row(st, code, hrm, user) for code in sorted(codes)]
    where = parse_filter(request.args.get("$filter"), field_names, type_name)
    rows = [row for row in rows if where.test(row)]
    after = parse_int(request.args.get("$skiptoken", "").rstrip("L") or None, "$skiptoken")
    if after is not None:
        rows = [row for row in rows if row["Code"] > after]
    size, paged = _top_paging(st, top, _page_size(st, "standard"))
    page = rows[:size]
    path = f"{base_url()}/api/v1/{call.division}/{call.resource}"
    rendered = [_plain(row, fields, f"{path}({row['Code']})", type_name) for row in page]
    next_token = str(page[-1]["Code"]) if len(rows) > size and page else None
    return _page_answer(rendered, next_token, top, paged)


def _division_row(st: SandboxState, code: int, hrm: bool, user: dict) -> dict:
    cfg = st.division_configs[code]
    data = st.generated(code)
    move = data.move_date_ms if data else None
    created = "/Date(1577869200000)/"
    owner = derived.Context(st.users, code).owner({})
    row = {
        "Code": code,
        "Description": cfg.get("name", str(code)),
        "Customer": _customer_id(cfg),
        "CustomerCode": _customer_code(cfg),
        "CustomerName": cfg.get("customer_name", cfg.get("name")),
        "Status": int(cfg.get("status", 1)),
        "BlockingStatus": int(cfg.get("blocking_status", 0)),
        "VATNumber": cfg.get("vat_number"),
        "Country": cfg.get("country", "NL"),
        "Currency": cfg.get("currency", "EUR"),
        "Created": created,
        "Modified": created,
        "StartDate": created,
        "Creator": owner["id"] if owner else None,
        "CreatorFullName": owner["full_name"] if owner else None,
        "Modifier": owner["id"] if owner else None,
        "ModifierFullName": owner["full_name"] if owner else None,
    }
    hid = _hid(cfg)
    if hrm:
        return {**row, "HID": hid, "Main": bool(cfg.get("is_main", False))}
    return {
        **row,
        "Hid": hid,
        "ChamberOfCommerceNumber": cfg.get("kvk"),
        "IsMainDivision": bool(cfg.get("is_main")),
        "Current": code == user["current_division"],
        "Legislation": cfg.get("country", "NL"),
        "DivisionMoveDate": f"/Date({move})/" if move else None,
    }


def _hid(cfg: dict) -> int:
    return int(cfg.get("hid", int(cfg["code"]) % 100_000))


def _customer_id(cfg: dict) -> str | None:
    if not cfg:
        return None
    code = int(cfg["code"])
    return f"c0570e4e-0000-4000-8000-{code:012d}"


def _customer_code(cfg: dict) -> str | None:
    return f"{_hid(cfg):>18}" if cfg else None


# ---------------------------------------------------------------- reading entities
def _read(st: SandboxState, call: Call, entity: Entity, kind: str) -> Response:
    refused = rights_error(st, call, entity.read_right)
    if refused is not None:
        return refused
    table = st.data(call.division).tables[entity.name]
    if call.key is not None:
        return _read_one(call, entity, table, kind)
    top = parse_int(request.args.get("$top"), "$top")
    select = parse_select(request.args.get("$select"), entity.fields, entity.odata_type)
    _check_select(st, select, top, entity.select_required(kind))
    fields = select or list(entity.fields)
    size, paged = _top_paging(st, top, _page_size(st, kind))
    if size == 0:
        rows, next_token = [], None
    elif kind == "sync":
        rows, next_token = _sync_rows(st, entity, table, size)
    else:
        rows, next_token = _indexed_rows(entity, table, size)
    path = _path_for(call, entity, kind)
    rendered = render_many(rows, entity, fields, path, _expand(entity), call.division)
    return _page_answer(rendered, next_token, top, paged)


def _check_select(
    st: SandboxState, select: list[str] | None, top: int | None, required: bool
) -> None:
    """400 for a list without $select (or $top=1) where Exact demands one.

    ``required``: fields.json names this endpoint kind for the entity. Config
    ``select_required`` "documented" (default) goes by that; "always" refuses every list.
    """
    if select is not None or top == 1:
        return
    if required or st.config.get("select_required", "documented") == "always":
        raise ODataError(SELECT_MISSING)


def _top_paging(st: SandboxState, top: int | None, page_size: int) -> tuple[int, bool]:
    """(rows in this answer, whether the answer is a page with __next) for a $top.

    Without $top: a page of ``page_size``. With ``top_pages`` (default) a $top above one page
    is served in pages: each carries ``__next`` with the rest of the $top, until $top rows
    (a page reached through __next, with its $skiptoken, stays in that form). A $top within
    one page, or ``top_pages`` false: at most one page as a bare list, no __next.
    """
    if top is None:
        return page_size, True
    paged = bool(st.config.get("top_pages", True)) and (
        top > page_size or "$skiptoken" in request.args
    )
    return min(top, page_size), paged


def _page_answer(
    rows: list[dict], next_token: str | None, top: int | None, paged: bool
) -> Response:
    """The envelope of a list: pages with __next (the rest of a $top), or a $top's bare list."""
    if top is None:
        return _envelope(rows, next_token)
    if not paged:
        return _envelope(rows, None, list_form=True)
    rest = top - len(rows)
    if rest <= 0:
        next_token = None
    return _envelope(rows, next_token, next_top=rest)


def _read_one(call: Call, entity: Entity, table: Table, kind: str) -> Response:
    row = table.find(call.key)
    if row is None or kind != "standard":
        return fail(404, "Record not found")
    select = parse_select(request.args.get("$select"), entity.fields, entity.odata_type)
    path = _path_for(call, entity, kind)
    fields = select or list(entity.fields)
    rendered = render(row, entity, fields, path, _expand(entity), call.division)
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
def render(
    row: dict,
    entity: Entity,
    fields: list[str],
    path: str,
    expand: set[str],
    division: int | None = None,
) -> dict:
    """A row as Exact sends it: __metadata first, then the selected fields."""
    return render_many([row], entity, fields, path, expand, division)[0]


def render_many(
    rows: list[dict],
    entity: Entity,
    fields: list[str],
    path: str,
    expand: set[str],
    division: int | None = None,
) -> list[dict]:
    """render() for a page; the hot loop of serving, so it stays plain.

    A field the row does not hold is null, or a plausible value from ``derived``.
    """
    specials = _SPECIAL.intersection(fields)
    derivations = derived.for_fields(entity.name, fields)
    context = derived.Context(state().users, division)
    key, odata_type = entity.key, entity.odata_type
    result = []
    for row in rows:
        uri = f"{path}(guid'{row[key]}')"
        item = {"__metadata": {"uri": uri, "type": odata_type}}
        for name in fields:
            item[name] = row.get(name)
        if derivations:
            derived.fill(item, row, derivations, context)
        for name in specials:
            item[name] = _special(name, row, entity, uri, path, expand, context)
        result.append(item)
    return result


_SPECIAL = {"Url", "Attachment", *NAVIGATION}


def _special(
    name: str,
    row: dict,
    entity: Entity,
    uri: str,
    path: str,
    expand: set[str],
    context: derived.Context,
) -> object:
    if name == "Url":
        url = row.get("Url")
        return f"{base_url()}{url}" if url and url.startswith("/") else url
    if name == "Attachment":
        data = state().data(int(row["Division"]))
        return base64.b64encode(data.attachment_bytes(row["ID"])).decode()
    if name not in expand:
        return {"__deferred": {"uri": f"{uri}/{name}"}}
    return {"results": _children(name, row, entity, path, context)}


def _children(
    name: str, row: dict, entity: Entity, path: str, context: derived.Context
) -> list[dict]:
    """An expanded navigation property: the linked rows with their documented fields."""
    child_entity = NAVIGATION.get(name)
    fields = documented_fields.documented(child_entity) if child_entity else None
    derivations = derived.for_fields(child_entity or name, fields or ())
    child_type = line_type(entity.odata_type, name)
    folder = path.rsplit("/", 1)[0]
    results = []
    for child in row.get(name) or []:
        child_uri = f"{folder}/{name}(guid'{child['ID']}')"
        item = _plain(child, fields or list(child), child_uri, child_type)
        derived.fill(item, child, derivations, context)
        results.append(item)
    return results


def _plain(row: dict, fields: list[str] | tuple[str, ...], uri: str, type_name: str) -> dict:
    item = {"__metadata": {"uri": uri, "type": type_name}}
    for name in fields:
        item[name] = row.get(name)
    return item


def _envelope(
    rows: list[dict],
    next_token: str | None,
    list_form: bool = False,
    next_top: int | None = None,
) -> Response:
    """{"d": {"results": [...], "__next": ...}}, or the bare list {"d": [...]} for $top.

    ``next_top``: the $top the __next URL carries (what is left of the caller's $top).
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
        body["__next"] = _next_url(next_token, next_top)
    return json_response({"d": body})


def _next_url(token: str, top: int | None = None) -> str:
    skip = {"$skiptoken"} if top is None else {"$skiptoken", "$top"}
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in skip]
    if top is not None:
        params.append(("$top", str(top)))
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
