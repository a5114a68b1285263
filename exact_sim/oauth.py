"""OAuth2 under /{cc}/api/oauth2: the authorize, login and consent pages, and the token endpoint (§1, §8.2, §8.3)."""
from urllib.parse import unquote_plus
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import render_template
from flask import request

from .grants import AuthRequest
from .grants import TokenError
from .model import User
from .ratelimit import daily_headers
from .render import json_response
from .state import current_sim
from .state import locked

bp = Blueprint("oauth", __name__, url_prefix="/<cc>/api/oauth2")

APP_NAME = "OutSmart"
WRONG_LOGIN = "Gebruikersnaam of wachtwoord is onjuist."
NO_DIVISION = "Selecteer ten minste één administratie."
TOKEN_CALLS_SPENT = "Rate limit exceeded: token requests per day"


@bp.get("/auth")
@locked
def authorize(cc):
    """Validate the authorize request and show the login page; invalid requests get an error page, never a redirect."""
    sim = current_sim()
    client_id, redirect_uri = request.args.get("client_id"), request.args.get("redirect_uri")
    if client_id != sim.settings["client_id"]:
        return _error_page(cc, "Client not found")
    if redirect_uri != sim.settings["redirect_uri"]:
        return _error_page(cc, "De redirect_uri komt niet overeen met de geregistreerde redirect-URI van deze app.")
    if request.args.get("response_type") != "code":
        return _error_page(cc, "Ongeldig response_type; alleen 'code' wordt ondersteund.")
    challenge = request.args.get("code_challenge")
    if challenge is not None and request.args.get("code_challenge_method") != "S256":
        return _error_page(cc, "Ongeldige code_challenge_method; alleen 'S256' wordt ondersteund.")
    auth_request = sim.grants.open_request(cc, client_id, redirect_uri, request.args.get("state"), challenge)
    return _login_page(cc, auth_request)


@bp.post("/login")
@locked
def login(cc):
    """Check the credentials against this instance only; a user of another country fails like a wrong password."""
    sim = current_sim()
    auth_request = _pending_request(cc)
    if auth_request is None:
        return _error_page(cc, "Deze aanmelding is verlopen of onbekend. Start opnieuw vanuit de app.")
    username = request.form.get("username", "")
    user = sim.instances[cc].user(username)
    if user is None or user.password != request.form.get("password"):
        return _login_page(cc, auth_request, error=WRONG_LOGIN, username=username)
    auth_request.username = user.username
    ticked = set(user.divisions)
    if user.consent_excludes_current:
        ticked.discard(user.current_division)
    return _consent_page(cc, auth_request, user, ticked)


@bp.post("/consent")
@locked
def consent(cc):
    """Redirect back to the app with a code for the ticked divisions, or with error=access_denied on cancel."""
    sim = current_sim()
    auth_request = _pending_request(cc)
    if auth_request is None or auth_request.username is None:
        return _error_page(cc, "Deze aanmelding is verlopen of onbekend. Start opnieuw vanuit de app.")
    if request.form.get("action") == "cancel":
        sim.grants.close_request(auth_request)
        return _redirect_to_app(auth_request, error="access_denied")
    user = sim.instances[cc].user(auth_request.username)
    ticked = {int(value) for value in request.form.getlist("division") if value.isdigit()} & set(user.divisions)
    if not ticked:
        return _consent_page(cc, auth_request, user, ticked, error=NO_DIVISION)
    code = sim.grants.issue_code(auth_request, ticked, sim.now())
    return _redirect_to_app(auth_request, code=code)


@bp.post("/token")
@locked
def token(cc):
    """Exchange a code or rotate a refresh token; client credentials come from the form body or HTTP Basic."""
    sim = current_sim()
    settings = sim.settings
    client_id, client_secret = _client_credentials(settings["accept_basic_auth"])
    grant_type = request.form.get("grant_type")
    try:
        if client_id != settings["client_id"] or client_secret != settings["client_secret"]:
            raise TokenError(400, "invalid_client", "Client authentication failed.")
        user = sim.grants.user_of(cc, client_id, grant_type, request.form)
        if user is not None and not sim.budgets.token_call(client_id, user, settings, sim.now()):
            raise _token_calls_spent(settings, sim.now())
        if grant_type == "authorization_code":
            body = sim.grants.exchange_code(cc, client_id, request.form.get("code", ""),
                                            request.form.get("redirect_uri", ""), settings, sim.now(),
                                            request.form.get("code_verifier"))
        elif grant_type == "refresh_token":
            body = sim.grants.refresh(cc, client_id, request.form.get("refresh_token", ""), settings, sim.now())
        else:
            raise TokenError(400, "unsupported_grant_type", f"Grant type '{grant_type}' is not supported.")
    except TokenError as refusal:
        headers = {**refusal.headers, **({"Reason": refusal.reason} if refusal.reason else {})}
        return json_response({"error": refusal.error, "error_description": refusal.description}, refusal.status, headers)
    return json_response(body, headers={"Cache-Control": "no-store"})


def _token_calls_spent(settings: dict, now: float) -> TokenError:
    """The refusal past the day's token calls of a user (token_limit_status; Exact's answer is undocumented)."""
    if settings["token_limit_status"] == 429:
        return TokenError(429, "access_denied", TOKEN_CALLS_SPENT,
                          headers=daily_headers(settings["token_calls_per_day"], 0, now))
    return TokenError(400, "access_denied", TOKEN_CALLS_SPENT)


def _pending_request(cc: str) -> AuthRequest | None:
    """The authorize request named by the form's request_id, if it belongs to this instance."""
    auth_request = current_sim().grants.requests.get(request.form.get("request_id", ""))
    return auth_request if auth_request and auth_request.cc == cc else None


def _client_credentials(accept_basic_auth: bool) -> tuple[str | None, str | None]:
    """Client id and secret from the body, else from HTTP Basic (form-encoded per RFC 6749 §2.3.1)."""
    if "client_id" in request.form:
        return request.form["client_id"], request.form.get("client_secret")
    if accept_basic_auth and request.authorization and request.authorization.type == "basic":
        return unquote_plus(request.authorization.username or ""), unquote_plus(request.authorization.password or "")
    return None, None


def _redirect_to_app(auth_request: AuthRequest, **params) -> Response:
    """302 to the registered redirect URI with the given parameters and the app's state."""
    if auth_request.state is not None:
        params["state"] = auth_request.state
    separator = "&" if "?" in auth_request.redirect_uri else "?"
    return Response(status=302, headers={"Location": auth_request.redirect_uri + separator + urlencode(params)})


def _login_page(cc: str, auth_request: AuthRequest, error: str | None = None, username: str = "") -> str:
    """The login form; demo mode lists this instance's users so a demo needs no cheat sheet."""
    sim = current_sim()
    demo_users = [user.username for user in sim.instances[cc].users.values()] if sim.settings["mode"] == "demo" else []
    return render_template("login.html", cc=cc, request_id=auth_request.request_id, error=error, username=username,
                           demo_users=demo_users)


def _consent_page(cc: str, auth_request: AuthRequest, user: User, ticked: set[int], error: str | None = None) -> str:
    """The consent form with one checkbox per division the user can access."""
    divisions = [current_sim().instances[cc].divisions[code] for code in user.divisions]
    return render_template("consent.html", cc=cc, request_id=auth_request.request_id, app_name=APP_NAME, user=user,
                           divisions=divisions, ticked=ticked, error=error)


def _error_page(cc: str, message: str) -> tuple[str, int]:
    """A 400 page that stays on Exact's side: the app gets no redirect."""
    return render_template("error.html", cc=cc, message=message), 400
