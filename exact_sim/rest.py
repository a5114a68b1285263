"""REST under /{cc}/api/v1: bearer auth, division access, rate limits, then the read-only endpoints (§8.4, §8.5)."""
import re
from urllib.parse import quote
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import g
from flask import request

from . import odata
from . import render
from .grants import Chain
from .masterdata import ENTITIES
from .model import User
from .odata import ODataError
from .settings import SCOPES
from .settings import TYPED_FIELDS
from .state import current_sim
from .state import locked
from .system import DIVISION_FIELDS
from .system import DIVISION_TYPE
from .system import ME_FIELDS
from .system import ME_TYPE
from .system import division_row
from .system import me_row

bp = Blueprint("rest", __name__, url_prefix="/<cc>/api/v1")

FORBIDDEN = "Forbidden"
SCOPE_VIOLATED = "Forbidden - Application Scope Violated. Cannot read"
QUOTED = re.compile(r"'(.*)'")


class NotAuthenticated(Exception):
    """The bearer token is missing, unknown, expired, revoked or from another instance."""


@bp.errorhandler(NotAuthenticated)
def not_authenticated(_error):
    """Answer 401 with the configured body (empty by default, as observed)."""
    body = current_sim().settings["rest_401_body"]
    return Response(body, 401, content_type=render.JSON_TYPE if body else None)


@bp.errorhandler(ODataError)
def odata_error(error: ODataError):
    """Answer with Exact's error envelope."""
    return render.error_response(error.status, error.message, error.headers)


@bp.after_request
def add_rate_limit_headers(response):
    """Every counted division call carries the six rate-limit headers, errors included."""
    response.headers.update(g.get("rate_limit_headers", {}))
    return response


@bp.get("/current/Me")
@locked
def me(cc):
    """The signed-in user; no division, so not rate limited and without rate-limit headers."""
    sim = current_sim()
    chain = _authenticate(cc)
    user = sim.instances[cc].users[chain.username.lower()]
    _check_user(user)
    row = _typed(me_row(user, sim.instances[cc], sim.now()))
    uri = f"{_base_url(cc)}/api/v1/current/Me(guid'{user.user_id}')"
    select = odata.parse_select(request.args.get("$select"), ME_FIELDS)
    return render.collection_response([_shape(row, uri, ME_TYPE, select)], None, "Me", sim.now())


@bp.get("/<division>/<path:resource>")
@locked
def division_resource(cc, division, resource):
    """Any endpoint under a division: system/Divisions, users/UserHasRights, master data collections and their $count."""
    sim = current_sim()
    chain = _authenticate(cc)
    if not division.isdigit():
        raise ODataError(404, f"Resource not found for the segment '{division}'.")
    code = int(division)
    _count_call(cc, chain, code)
    user = sim.instances[cc].users[chain.username.lower()]
    collection, counting = resource.removesuffix("/$count"), resource.endswith("/$count")
    # Exact does not validate the division in the URL of system/Divisions (picqer #470), beyond access; unless
    # divisions_need_consent says it does.
    _check_access(cc, user, chain, code,
                  consent_needed=collection != "system/Divisions" or sim.settings["divisions_need_consent"])
    _check_user(user)
    _check_customer(cc, code)
    _check_scope(collection)
    if resource == "users/UserHasRights":
        return _user_has_rights(user, code)
    if collection == "system/Divisions":
        instance = sim.instances[cc]
        rows = [_typed(division_row(instance.divisions[granted], user))
                for granted in user.divisions if granted in chain.divisions]
        return _collection(cc, code, collection, rows, "Code", DIVISION_FIELDS, DIVISION_TYPE, counting)
    entity = ENTITIES.get(collection)
    if entity is None:
        raise ODataError(404, f"Resource not found for the segment '{collection.rsplit('/', 1)[-1]}'.")
    # Without read rights Exact returns an empty list, not an error (§2.4).
    rows = [_typed(row) for row in sim.rows(cc, code, collection)] if user.may(code, collection, "GET") else []
    return _collection(cc, code, collection, rows, "ID", entity.fields, entity.type_name, counting)


def _typed(row: dict) -> dict:
    """The row with what people typed at Exact served as the typed_texts setting says (seeded texts by default)."""
    template = current_sim().settings["typed_texts"]
    if template == "{text}":
        return row
    return {name: template.replace("{text}", value) if name in TYPED_FIELDS and isinstance(value, str) else value
            for name, value in row.items()}


def _authenticate(cc: str) -> Chain:
    """The chain of the request's bearer token, or NotAuthenticated."""
    sim = current_sim()
    authorization = request.headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    chain = sim.grants.authenticate(cc, token.strip(), sim.now()) if scheme.lower() == "bearer" else None
    if chain is None:
        raise NotAuthenticated()
    return chain


def _count_call(cc: str, chain: Chain, code: int) -> None:
    """Apply the per-app, per-division limits; a refused call raises 429 with only the refusing window's headers."""
    sim = current_sim()
    decision = sim.limiter.hit((cc, chain.client_id, code), sim.settings, sim.now())
    if decision.limited_by:
        raise ODataError(429, "Too many requests", decision.headers)
    g.rate_limit_headers = decision.headers


def _check_access(cc: str, user: User, chain: Chain, code: int, consent_needed: bool) -> None:
    """Refuse a division the user cannot access, did not grant in consent, or that is blocked."""
    if code not in user.divisions or (consent_needed and code not in chain.divisions):
        raise ODataError(403, FORBIDDEN, {"Reason": "NoDivisionAccess"})
    if current_sim().instances[cc].divisions[code].blocking_status:
        raise ODataError(403, FORBIDDEN, {"Reason": "DivisionBlocked"})


def _check_user(user: User) -> None:
    """Refuse every call of a blocked or inactive user (blocked_users, inactive_users)."""
    settings = current_sim().settings
    for setting, reason in (("blocked_users", "BlockedUser"), ("inactive_users", "InactiveUser")):
        if user.username.lower() in {name.lower() for name in settings[setting]}:
            raise ODataError(403, FORBIDDEN, {"Reason": reason})


def _check_customer(cc: str, code: int) -> None:
    """Refuse a division whose customer is blocked or whose licence expired (named by any of its divisions)."""
    sim = current_sim()
    divisions = sim.instances[cc].divisions
    for setting, reason in (("blocked_customers", "BlockedCustomer"), ("expired_licenses", "LicenseExpired")):
        if divisions[code].customer in {divisions[named].customer for named in sim.settings[setting]
                                        if named in divisions}:
            raise ODataError(403, FORBIDDEN, {"Reason": reason})


def _check_scope(collection: str) -> None:
    """Refuse an endpoint whose app scope OutSmart's registration lacks (missing_scopes)."""
    if SCOPES.get(collection) in current_sim().settings["missing_scopes"]:
        raise ODataError(403, SCOPE_VIOLATED)


def _user_has_rights(user: User, code: int) -> Response:
    """users/UserHasRights?endpoint='crm/Accounts'&action='GET' — parameter values are single-quoted."""
    values = {}
    for name in ("endpoint", "action"):
        quoted = QUOTED.fullmatch(request.args.get(name, ""))
        if quoted is None or not quoted.group(1):
            raise ODataError(400, f"Missing required parameter: {name}")
        values[name] = quoted.group(1)
    return render.function_response("UserHasRights", user.may(code, values["endpoint"], values["action"]))


def _collection(cc: str, code: int, collection: str, rows: list[dict], key: str, fields: tuple, type_name: str,
                counting: bool) -> Response:
    """Filter, count or page a collection and render it with __metadata and an absolute __next link."""
    sim = current_sim()
    clauses = odata.parse_filter(request.args.get("$filter"), fields)
    rows = [row for row in rows if odata.matches(row, clauses)]
    if counting:
        return Response(str(len(rows)), 200, content_type="text/plain; charset=utf-8")
    select = odata.parse_select(request.args.get("$select"), fields)
    page, next_args = odata.paginate(rows, key, request.args, sim.settings["page_size"])
    next_url = next_args and request.base_url + "?" + urlencode(next_args, quote_via=quote, safe="$',()")
    base = f"{_base_url(cc)}/api/v1/{code}/{collection}"
    shaped = [_shape(row, f"{base}({_key_literal(row[key])})", type_name, select) for row in page]
    return render.collection_response(shaped, next_url, collection.rsplit("/", 1)[-1], sim.now())


def _shape(row: dict, uri: str, type_name: str, select: list[str] | None) -> dict:
    """A row with its __metadata, reduced to the $select-ed fields."""
    fields = {name: row[name] for name in select} if select else row
    return {"__metadata": {"uri": uri, "type": type_name}, **fields}


def _key_literal(key) -> str:
    """The key as it appears in an entity URI: `guid'…'` or a bare number."""
    return f"guid'{key}'" if isinstance(key, str) else str(key)


def _base_url(cc: str) -> str:
    """This instance's base URL as the client reached it."""
    return f"{request.host_url.rstrip('/')}/{cc}"
