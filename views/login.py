"""Steps 2–4 and disconnecting: the Exact Online login and the connection it leaves behind."""
import hmac
import logging
import secrets

from functools import partial

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _

import connections
from exact.errors import AccessDenied
from exact.errors import CurrentDivisionNotGranted
from exact.errors import ExactError
from exact.errors import NoDivisionAccess
from exact.oauth import parse_callback
from forms.country import CountryForm
from forms.country import country_name
from forms.disconnect import DisconnectForm
from models import Connection
from models import STATE_TTL
from models import LoginAttempt
from models import digest
from views import throttle
from views.account import current_account
from views.account import current_connection
from views.account import current_user
from views.account import current_visit
from views.addresses import app_host
from views.exact_clients import host_for
from views.exact_clients import login_client
from views.exact_clients import login_counted
from views.exact_clients import oauth_for
from views.failures import exact_error_message
from views.failures import is_error_key
from views.htmx import render_step

bp = Blueprint("login", __name__, url_prefix="/exact")
log = logging.getLogger(__name__)


def register(csrf):
    """The popup's own posts carry, instead of a CSRF token, the secret only the iframe that started the login has:
    the popup is a first-party window that shares no session (and often no cookie) with that iframe."""
    csrf.exempt(popup_continue)
    csrf.exempt(callback_confirm)


@bp.get("/land")
def country_get():
    """Step 2: choose the country, then go to Exact's login page."""
    connection = current_connection()
    form = CountryForm(country=connection.country)
    return render_step("country.html", step="country", form=form, connection=connection)


@bp.post("/land")
def country_post():
    """Start a login attempt: send the page to Exact, or (inside OutSmart) wait for the login popup."""
    connection = current_connection()
    form = CountryForm()
    if not form.validate_on_submit():
        return render_step("country.html", 422, step="country", form=form, connection=connection)
    if connection.is_locked and form.country.data != connection.country:
        form.country.errors.append(_(
            "Deze verbinding hoort bij Exact Online %(country)s, waar de administratie is vastgezet. Kies dat land, "
            "of verbreek eerst de verbinding.", country=country_name(connection.country)))
        return render_step("country.html", 422, step="country", form=form, connection=connection)
    wait = throttle.count_login_start(current_account())
    if wait:
        return throttle.retry_after(render_step("country.html", 429, step="country", form=form, connection=connection,
                                                refusal=throttle.login_start_refusal(wait)), wait)
    start = partial(connections.start_login, current_account(), form.country.data, current_user(), current_visit(),
                    pkce=current_app.config["EXACT_PKCE"])
    if request.form.get("popup"):
        attempt, handoff = start(LoginAttempt.POPUP)
        # The secret reaches the popup only from this iframe, by postMessage (static/js/app.js): never in a URL.
        return render_step("login_waiting.html", step="login", attempt=attempt, handoff=handoff,
                           connection=connection)
    attempt, _handoff = start(LoginAttempt.PAGE)
    # A full-page navigation: Exact's login page must never be framed or fetched by htmx.
    return redirect(_authorization_url(attempt), 303)


@bp.get("/login/<attempt_id>")
def popup_start(attempt_id):
    """In the popup: say which OutSmart account is being connected, and go on only with the iframe's secret."""
    attempt = _open_popup_attempt(attempt_id)
    if attempt is None:
        return _popup_done(None, "failed", _("Deze inlogpoging is verlopen of ongeldig. Sluit dit venster en start "
                                              "het inloggen opnieuw vanuit OutSmart."), 400)
    return render_template("popup_start.html", attempt=attempt, country=country_name(attempt.country))


@bp.post("/login/<attempt_id>")
def popup_continue(attempt_id):
    """The popup's "Doorgaan": with the secret its iframe handed it, tie the attempt to this browser, then go to Exact."""
    attempt = _open_popup_attempt(attempt_id)
    if attempt is None:
        return _popup_done(None, "failed", _("Deze inlogpoging is verlopen of ongeldig. Sluit dit venster en start "
                                              "het inloggen opnieuw vanuit OutSmart."), 400)
    if not attempt.handed(request.form.get("handoff")):
        return _popup_done(None, "failed", _not_from_outsmart(), 403)
    browser_key = secrets.token_urlsafe(32)
    if not attempt.bind_browser(digest(browser_key)):
        return _popup_done(attempt, "failed", _("Deze inlogpoging is al gestart in een ander venster. Sluit dit "
                                                 "venster en gebruik het andere, of start opnieuw."), 409)
    response = redirect(_authorization_url(attempt), 303)
    # Lax: sent on the top-level GET back from Exact. Where the browser blocks it, the callback asks the iframe again.
    response.set_cookie(_browser_cookie(attempt), browser_key, max_age=int(STATE_TTL.total_seconds()),
                        secure=True, httponly=True, samesite="Lax", path=url_for("login.callback"))
    return response


@bp.get("/login/<attempt_id>/status")
def popup_status(attempt_id):
    """The iframe asks how its popup login went: still waiting, connected, or not connected and why."""
    attempt = LoginAttempt.of_account(attempt_id, current_account())
    if attempt is None:
        return _login_failed(_("Deze inlogpoging is verlopen of ongeldig. Start het inloggen opnieuw."), 404)
    if attempt.outcome is None and (request.args.get("closed") or attempt.expired()):
        attempt.finish("closed")
    if attempt.outcome is None:
        response = render_step("login_waiting.html", step="login", attempt=attempt, connection=current_connection())
        response.headers["HX-Push-Url"] = "false"  # polling must not fill the history
        return response
    if attempt.outcome == "connected":
        return redirect(_after_login(current_connection(), attempt.reason == "other_user"), 303)
    return _login_failed(_failure_message(attempt.outcome, attempt.reason), 200)


@bp.get("/callback")
def callback():
    """Steps 3–4: back from Exact; check the state and that this is the browser that started, then connect."""
    attempt = _attempt_of_state(request.args.get("state", ""))
    if attempt is None:
        return _finish_page(None, "failed", "state", 400)
    if attempt.mode == LoginAttempt.POPUP and not _has_browser_key(attempt):
        # No cookie came back (blocked, or another browser): only the iframe that started the login can vouch for
        # this window, by handing it the secret again. The page asks its opener, then posts here.
        return render_template("popup_confirm.html", attempt=attempt, state=request.args.get("state"), code=request.args.get("code", ""),
                               error=request.args.get("error"), error_description=request.args.get("error_description"))
    if attempt.mode == LoginAttempt.PAGE and not _in_its_visit(attempt):
        return _finish_page(None, "failed", "other_visit", 400)
    return _finish_login(attempt, request.args)


@bp.post("/callback")
def callback_confirm():
    """The popup's callback page, vouched for by the secret its iframe handed it again."""
    attempt = _attempt_of_state(request.form.get("state", ""))
    if attempt is None or attempt.mode != LoginAttempt.POPUP:
        return _finish_page(None, "failed", "state", 400)
    if not attempt.handed(request.form.get("handoff")):
        return _popup_done(None, "failed", _not_from_outsmart(), 403)
    return _finish_login(attempt, request.form)


def _finish_login(attempt: LoginAttempt, answer) -> Response:
    """Use the attempt once, take Exact's answer (a code, or why not), and connect."""
    if not attempt.use():
        return _finish_page(None, "failed", "state", 400)
    try:
        login = _read_login(attempt, parse_callback(answer))
    except AccessDenied:
        return _finish_page(attempt, "cancelled", None, 200)
    except ExactError as error:
        log.warning("Exact login failed: %s", error.detail)
        return _finish_page(attempt, "failed", error.key, 502)
    outcome = connections.connect(attempt, login)
    if outcome.refused:
        return _finish_page(attempt, "refused", outcome.refused, 409)
    if attempt.mode == LoginAttempt.POPUP:
        return _popup_done(attempt, "connected", _("Verbonden met Exact Online. Dit venster sluit vanzelf."), 200)
    return redirect(_after_login(current_connection(), outcome.other_user), 303)


def _read_login(attempt: LoginAttempt, code: str) -> connections.Login:
    """Trade the code for tokens (with the attempt's PKCE verifier), then ask Exact who logged in and which
    administrations they allowed."""
    country = attempt.country
    token = oauth_for(country).exchange_code(code, attempt.code_verifier)
    refreshed = {}
    client = login_client(country, token, lambda new: refreshed.update(token=new))
    me = client.me()
    login_counted(client, me)
    try:
        divisions = client.divisions(me["CurrentDivision"])
    except NoDivisionAccess as refused:
        # Exact lists the consented administrations only in one of them; the user's current one was left out.
        raise CurrentDivisionNotGranted(me["CurrentDivision"], refused.detail) from None
    return connections.Login(country, host_for(country), refreshed.get("token", token), me, divisions)


@bp.get("/verbinding")
def details():
    """Step 4: the connection details after returning from Exact."""
    connection = current_connection()
    if not connection.is_logged_in:
        return redirect(url_for("setup.overview"), 303)
    return render_step("details.html", step="details", connection=connection)


@bp.get("/verbreken")
def disconnect_get():
    """Ask before disconnecting: what stops, and what stays."""
    connection = current_connection()
    if connection.status in (Connection.NOT_CONNECTED, Connection.DISCONNECTED):
        return redirect(url_for("setup.overview"), 303)
    return render_step("disconnect.html", connection=connection, form=DisconnectForm())


@bp.post("/verbreken")
def disconnect_post():
    """Stop synchronising and forget the tokens; settings and history stay."""
    connection = current_connection()
    form = DisconnectForm()
    if not form.validate_on_submit():
        return render_step("disconnect.html", 422, connection=connection, form=form)
    connections.disconnect(connection, current_user())  # already disconnected: the same outcome
    return redirect(url_for("setup.overview", notice="disconnected"), 303)


def _after_login(connection: Connection, other_user: bool) -> str:
    """A new connection goes on to its details (step 4); a reconnected saved one back to its settings."""
    if connection.is_locked:
        return url_for("setup.overview", notice="other_user" if other_user else "reconnected")
    return url_for("login.details")


def _authorization_url(attempt: LoginAttempt) -> str:
    return oauth_for(attempt.country).authorization_url(attempt.state, code_verifier=attempt.code_verifier)


def _open_popup_attempt(attempt_id: str) -> LoginAttempt | None:
    """A popup attempt that may still go to Exact: not expired, not ended, not back from Exact yet."""
    attempt = LoginAttempt.get_or_none(LoginAttempt.id == attempt_id)
    if (attempt is None or attempt.mode != LoginAttempt.POPUP or attempt.expired() or attempt.outcome
            or attempt.used_at):
        return None
    return attempt


def _attempt_of_state(state: str) -> LoginAttempt | None:
    """The attempt a state belongs to, while it is under 10 minutes old and unused."""
    attempt = LoginAttempt.get_or_none(LoginAttempt.state == state) if state else None
    if attempt is None or attempt.expired() or attempt.used_at is not None:
        return None
    return attempt


def _in_its_visit(attempt: LoginAttempt) -> bool:
    """A full-page login comes back to the OutSmart visit (the signed session) that started it."""
    return attempt.account == current_account() and attempt.visit is not None and attempt.visit == session.get("visit")


def _has_browser_key(attempt: LoginAttempt) -> bool:
    """Whether the popup's cookie, set when it went to Exact, came back: this is the browser that started."""
    key = request.cookies.get(_browser_cookie(attempt), "")
    return bool(key) and attempt.browser_key is not None and hmac.compare_digest(digest(key), attempt.browser_key)


def _browser_cookie(attempt: LoginAttempt) -> str:
    return f"exact_login_{attempt.id}"


def _not_from_outsmart() -> str:
    """Why a login window that OutSmart did not open (or cannot vouch for any more) does nothing."""
    return _("Dit inlogvenster is niet geopend door de OutSmart-pagina die het inloggen startte, daarom is er niets "
             "verbonden. Start het inloggen in OutSmart: Instellingen → Algemeen → Software-integraties → Exact "
             "Online. Startte u het daar wel? Dan blokkeert uw browser cookies voor deze site en kan dit venster "
             "OutSmart niet meer bereiken: sta cookies toe voor %(host)s en probeer het opnieuw.",
             host=app_host())


# Why a login did not connect, by the reason stored on the attempt; said in the language of whoever asks.
def _failure_message(outcome: str, reason: str | None) -> str:
    if outcome == "cancelled":
        return _("U heeft OutSmart geen toegang gegeven bij Exact Online, dus er is niets verbonden. Probeer het "
                 "opnieuw en klik bij Exact Online op Toestaan.")
    if outcome == "closed":
        return _("Het inlogvenster is gesloten voordat het inloggen klaar was. Er is niets verbonden; probeer het "
                 "opnieuw.")
    if reason == "other_visit":
        return _("Deze inlogpoging is gestart in een ander venster of voor een ander OutSmart-account, daarom is er "
                 "niets verbonden. Start het inloggen opnieuw in het venster waarin u de Exact Online-instellingen "
                 "van uw account open hebt.")
    if outcome == "refused" and reason in REFUSALS:
        return REFUSALS[reason]()
    if is_error_key(reason):
        return exact_error_message(reason)
    return _("Deze inlogpoging is verlopen of ongeldig. Dat gebeurt als u langer dan 10 minuten over het inloggen "
             "doet of een oude link gebruikt. Start het inloggen opnieuw.")


def _finish_page(attempt: LoginAttempt | None, outcome: str, reason: str | None, status: int):
    """End a login: record the outcome, then tell the popup's opener or show the result in the page."""
    if attempt is not None:
        attempt.finish(outcome, reason)
    message = _failure_message(outcome, reason)
    if attempt is not None and attempt.mode == LoginAttempt.POPUP:
        return _popup_done(attempt, outcome, message, status)
    return _login_failed(message, status)


def _popup_done(attempt: LoginAttempt | None, outcome: str, message: str, status: int):
    """The popup's last page: it tells the iframe (same origin) that the attempt ended, then closes."""
    return render_template("popup_done.html", attempt=attempt, outcome=outcome, message=message), status


def _login_failed(message: str, status: int):
    return render_step("login_failed.html", status, step="login", message=message, connection=current_connection())


REFUSALS = {
    "other_country": lambda: _(
        "Deze verbinding hoort bij een Exact Online-account in een ander land. Log in op het land van de "
        "vastgezette administratie, of verbreek de verbinding om een andere te kiezen. Er is niets gewijzigd."),
    "locked_division_missing": lambda: _(
        "U heeft bij Exact Online geen toegang gegeven tot de vastgezette administratie. Log opnieuw in en vink "
        "die administratie aan, of verbreek de verbinding om een andere te kiezen. Er is niets gewijzigd."),
}
