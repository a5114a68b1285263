"""The JSON API for OutSmart's synchronisation workers: an account's connection and a valid access token."""
import hmac
import logging
import math
import os
import time
from fnmatch import fnmatchcase
from functools import wraps

from flask import Blueprint
from flask import current_app
from flask import g
from flask import jsonify
from flask import request

from exact.errors import ExactError
from exact.errors import ExactUnavailable
from exact.errors import RateLimited
from exact.errors import ReauthorizationRequired
from exact.errors import TokenBudgetSpent
from exact.errors import TooEarlyToRefresh
from exact.hosts import COUNTRIES
from models import Connection
from views import worker_reports
from views.exact_clients import token_store
from views.failures import attention_reason
from views.failures import exact_error_message

bp = Blueprint("api", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)

# Where RFC 6750 lets a bearer token travel besides the header; we refuse it there, and say why.
KEY_OUTSIDE_THE_HEADER = "access_token"


def register(app, csrf):
    """Install the API: no CSRF (no cookies, a bearer key per calling service) and no entry needed."""
    csrf.exempt(bp)
    app.register_blueprint(bp)


def service_key_required(view):
    """Admit a calling service by its bearer key from SERVICE_KEYS, for the accounts SERVICE_ACCOUNTS allows it.

    The key is read from the Authorization header only: an address (query string) ends up in logs along the way, so
    a request with an access_token in its query or body is refused whatever its header holds.
    A route that names an account is refused (403) when the account is outside the service's scope, before anything
    is looked up: the answer is the same whether the account exists or not.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        if KEY_OUTSIDE_THE_HEADER in request.args or KEY_OUTSIDE_THE_HEADER in request.form:
            # Whatever the header holds: a worker that puts its key in the address must hear so at once.
            return problem(401, "unauthorized", "A service key is accepted only in the header Authorization: Bearer "
                           "<key>, never in the address or the body. Replace a key that was sent that way: it may be "
                           "in logs along the way.")
        offered = request.headers.get("Authorization", "")
        scheme, _, key = offered.partition(" ")
        for name, expected in current_app.config["SERVICE_KEYS"].items():
            if scheme.lower() == "bearer" and key and hmac.compare_digest(key.encode(), expected.encode()):
                g.service = name
                if "account" in kwargs and not may_ask_for(name, kwargs["account"]):
                    log.warning("API: service %r refused for account %r, outside its SERVICE_ACCOUNTS", name,
                                kwargs["account"])
                    return problem(403, "forbidden", "This service key may not be used for this account (see "
                                   "SERVICE_ACCOUNTS); nothing was looked up or changed.")
                return view(*args, **kwargs)
        return problem(401, "unauthorized", "A valid service key is required: Authorization: Bearer <key>.")

    return wrapper


def may_ask_for(service: str, account: str) -> bool:
    """Whether SERVICE_ACCOUNTS lets the service ask for the account: one of its patterns matches (case-sensitive),
    or it names no patterns for the service (every account)."""
    patterns = current_app.config.get("SERVICE_ACCOUNTS", {}).get(service)
    return patterns is None or any(fnmatchcase(account, pattern) for pattern in patterns)


def problem(status: int, error: str, message: str, **extra):
    """A JSON error every worker can read the same way."""
    response = jsonify({"error": error, "message": message, **extra})
    response.status_code = status
    return response


def describe(connection: Connection) -> dict:
    """What a worker needs to know of a connection; never a token."""
    return {
        "account": connection.account,
        "state": connection.status,
        "country": connection.country,
        "host": COUNTRIES[connection.country].base_url if connection.country else None,
        "base_url": connection.base_url,
        "administration": ({"code": connection.division, "name": connection.division_name}
                           if connection.is_locked else None),
        "settings": connection.settings,
        "synchronise": connection.status == Connection.SAVED,
        "reason": attention_reason(connection.attention_reason) if _needs_attention(connection) else None,
    }


def _needs_attention(connection: Connection | None) -> bool:
    return connection is not None and connection.status == Connection.NEEDS_ATTENTION


@bp.get("/accounts/<account>/connection", provide_automatic_options=False)
@service_key_required
def connection(account):
    """The account's Exact Online connection: state, locked administration, host, settings."""
    found = Connection.of_account(account)
    if found is None:
        return problem(404, "not_found", "This account has no Exact Online connection.")
    return jsonify(describe(found))


@bp.post("/accounts/<account>/access-token", provide_automatic_options=False)
@service_key_required
def access_token(account):
    """A valid access token for the account's saved connection, refreshed (once for all callers) when due."""
    found = Connection.of_account(account)
    if _needs_attention(found):
        # Exact refuses the connection until the admin (or OutSmart's support) puts it right: no token, and why.
        return problem(409, "needs_attention", exact_error_message(found.attention_reason, "en"),
                       state=Connection.NEEDS_ATTENTION, reason=attention_reason(found.attention_reason))
    if found is None or found.status != Connection.SAVED:
        state = found.status if found else Connection.NOT_CONNECTED
        return problem(409, "not_synchronising", "The connection is not saved and active; the admin must connect "
                       "and save it in the Exact Online settings.", state=state)
    try:
        token = token_store().valid_token(found.id, loaded=found)
    except ReauthorizationRequired:
        return problem(409, "reauthorization_required", "Exact Online no longer accepts this connection; the admin "
                       "must reconnect it in the Exact Online settings.", state=Connection.EXPIRED)
    except RateLimited as limited:
        return _retry_later(429, "rate_limited", "Exact Online's rate limit is reached.", limited.reset_at)
    except TooEarlyToRefresh as early:
        return _retry_later(503, "too_early", "Exact Online does not give this connection a new access token yet "
                            "(it answered that the last one is too recent); the connection stays as it is. Ask again "
                            "after reset_at (also Retry-After).", early.retry_at)
    except TokenBudgetSpent as spent:
        return _retry_later(503, "token_budget_spent", f"Exact Online gives an Exact user at most {spent.limit} "
                            "access tokens a day and today's are used up; the connection stays as it is. Ask again "
                            "after reset_at, 00:00 UTC (also Retry-After).", spent.retry_at)
    except ExactUnavailable:
        return _retry_later(503, "exact_unavailable", "Exact Online is unavailable; try again later.", time.time() + 60)
    except ExactError as error:
        return problem(502, "exact_error", error.message("en"))
    response = jsonify({
        "access_token": token.access_token,
        "token_type": "Bearer",
        "expires_at": token.expires_at,
        "base_url": found.base_url,
        "division": found.division,
    })
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/accounts/<account>/connection/problems", provide_automatic_options=False)
@service_key_required
def connection_problems(account):
    """What Exact answered a worker (a 401 or a 403): checked by the app at Exact before anything changes."""
    try:
        report = worker_reports.read(request.is_json, request.get_data())
    except worker_reports.Unreadable as unreadable:
        return problem(400, "bad_request", str(unreadable))
    except worker_reports.InvalidReport as invalid:
        return problem(422, "invalid_report", str(invalid))
    found = Connection.of_account(account)
    if found is None:
        return problem(404, "not_found", "This account has no Exact Online connection; nothing was checked.")
    if _needs_attention(found):  # known already: until it is put right there is nothing to check
        return problem(409, "needs_attention", exact_error_message(found.attention_reason, "en"),
                       state=Connection.NEEDS_ATTENTION, reason=attention_reason(found.attention_reason))
    if found.status != Connection.SAVED:
        return problem(409, "not_synchronising", "The connection is not saved and active, so there is nothing to "
                       "check; the admin must connect and save it in the Exact Online settings.", state=found.status)
    if report.division is not None and report.division != found.division:
        return problem(422, "invalid_report", f"The endpoint names administration {report.division}, but this "
                       f"account synchronises administration {found.division}: report only what this account's "
                       "calls were answered. Nothing was changed.")
    try:
        checked = worker_reports.check(found, report)
    except RateLimited as limited:
        return _retry_later(429, "rate_limited", "Exact Online's rate limit is reached, so the report could not be "
                            "checked; nothing was changed.", limited.reset_at)
    except ExactUnavailable:
        return _retry_later(503, "exact_unavailable", "Exact Online is unavailable, so the report could not be "
                            "checked; nothing was changed. Try again later.", time.time() + 60)
    except ExactError as error:
        return problem(502, "exact_error", f"Exact Online refused the app's own check too: {error.message('en')}")
    log.info("API: service %r reported HTTP %d (Reason %r) on %s for account %r; checked: %s", g.service,
             report.status, report.reason, report.endpoint, account, checked.outcome)
    if checked.outcome == worker_reports.CHECK_LATER:
        return _retry_later(503, "check_later", worker_reports.advice(checked, report), checked.retry_at)
    return jsonify({"account": account, "state": checked.state, "outcome": checked.outcome,
                    "reason": attention_reason(checked.reason) if checked.outcome == worker_reports.NEEDS_ATTENTION
                    else None, "message": worker_reports.advice(checked, report)})


@bp.get("/openapi.json", provide_automatic_options=False)
def openapi():
    """This API, described for the workers' developers."""
    with open(os.path.join(current_app.static_folder, "openapi.json"), "rb") as spec:
        return current_app.response_class(spec.read(), mimetype="application/json")


def _retry_later(status: int, error: str, message: str, reset_at: float):
    response = problem(status, error, message, reset_at=reset_at)
    response.headers["Retry-After"] = str(max(1, math.ceil(reset_at - time.time())))
    return response
