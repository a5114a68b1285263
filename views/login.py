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
from views.steps import requires

bp = Blueprint("login", __name__, url_prefix="/exact")
log = logging.getLogger(__name__)
LOGIN_MINUTES = int(STATE_TTL.total_seconds() // 60)  # how long a login may take, in the words the pages use


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
        return _waiting(attempt, connection, handoff)
    attempt, _handoff = start(LoginAttempt.PAGE)
    # A full-page navigation: Exact's login page must never be framed or fetched by htmx.
    return redirect(_authorization_url(attempt), 303)


@bp.get("/login/<attempt_id>")
def popup_start(attempt_id):
    """In the popup: say which OutSmart account is being connected, and go on only with the iframe's secret."""
    attempt = _open_popup_attempt(attempt_id)
    if attempt is None:
        return _popup_gone(attempt_id)
    return render_template("popup_start.html", attempt=attempt, country=country_name(attempt.country))


@bp.post("/login/<attempt_id>")
def popup_continue(attempt_id):
    """The popup's "Doorgaan": with the secret its iframe handed it, tie the attempt to this browser, then go to Exact."""
    attempt = _open_popup_attempt(attempt_id)
    if attempt is None:
        return _popup_gone(attempt_id)
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
    if attempt.outcome is None and attempt.expired():
        attempt.finish("expired")
    elif attempt.outcome is None and request.args.get("closed"):
        attempt.finish("closed")
    if attempt.outcome is None:
        if request.args.get("waiting"):
            # The page already shows this attempt's waiting step: nothing to swap (htmx swaps no 204), so the focus,
            # the "popup blocked" message and the live regions stay as they are.
            return Response(status=204, headers={"Cache-Control": "no-store"})
        response = _waiting(attempt, current_connection())
        response.headers["HX-Push-Url"] = "false"  # polling must not fill the history
        return response
    if attempt.outcome == "connected":
        return redirect(_after_login(current_connection(), attempt.reason == "other_user"), 303)
    return _login_failed(_failure_message(attempt.outcome, attempt.reason), 200, attempt)


@bp.post("/login/<attempt_id>/annuleren")
def popup_cancel(attempt_id):
    """Annuleren while the popup logs in: the attempt ends here, so the popup finishing later connects nothing
    (static/js/app.js closes the popup as well). If the popup had finished first, its outcome stands."""
    connection = current_connection()
    attempt = LoginAttempt.of_account(attempt_id, current_account())
    if attempt is None:
        return _login_failed(_("Deze inlogpoging is verlopen of ongeldig. Start het inloggen opnieuw."), 404)
    connections.abort_login(attempt)
    if attempt.outcome == "connected":  # too late: the popup got there first, and says so on the next page
        return redirect(_after_login(current_connection(), attempt.reason == "other_user"), 303)
    return redirect(url_for("setup.overview" if connection.is_locked else "login.country_get", notice="login_aborted"),
                    303)


@bp.get("/callback")
def callback():
    """Steps 3–4: back from Exact; check the state and that this is the browser that started, then connect."""
    attempt = _attempt_of_state(request.args.get("state", ""))
    if attempt is None:
        return _state_refused(request.args.get("state", ""))
    if attempt.mode == LoginAttempt.POPUP and not _has_browser_key(attempt):
        # No cookie came back (blocked, or another browser): only the iframe that started the login can vouch for
        # this window, by handing it the secret again. The page asks its opener, then posts here.
        return render_template("popup_confirm.html", attempt=attempt, state=request.args.get("state"), code=request.args.get("code", ""),
                               error=request.args.get("error"), error_description=request.args.get("error_description"))
    if attempt.mode == LoginAttempt.PAGE and not _in_its_visit(attempt):
        return _finish_page(None, "failed", "other_visit", 400)
    if not _finish_login(attempt, request.args):
        return _state_refused(attempt.state)
    if attempt.mode == LoginAttempt.PAGE and attempt.outcome == "connected":
        return redirect(_after_login(current_connection(), attempt.reason == "other_user"), 303)
    # The way back's address holds Exact's one-time code: the result is shown at an address without it.
    return redirect(url_for("login.callback_done", attempt_id=attempt.id), 303)


@bp.post("/callback")
def callback_confirm():
    """The popup's callback page, vouched for by the secret its iframe handed it again."""
    attempt = _attempt_of_state(request.form.get("state", ""))
    if attempt is None or attempt.mode != LoginAttempt.POPUP:
        return _state_refused(request.form.get("state", ""))
    if not attempt.handed(request.form.get("handoff")):
        return _popup_done(None, "failed", _not_from_outsmart(), 403)
    if not _finish_login(attempt, request.form):
        return _state_refused(attempt.state)
    # Posted (the address holds no code): the popup's last page right here; without a cookie of this browser no
    # other address could show it only to this window.
    return _popup_result(attempt)


@bp.get("/callback/<attempt_id>/klaar")
def callback_done(attempt_id):
    """How a login ended, at an address without Exact's code: the popup's last page (for the browser window that
    went to Exact, by its cookie), or the step in the OutSmart visit that started a full-page login."""
    attempt = LoginAttempt.get_or_none(LoginAttempt.id == attempt_id)
    if attempt is None or attempt.outcome is None:
        return _popup_gone(None)
    if attempt.mode == LoginAttempt.POPUP:
        return _popup_result(attempt) if _has_browser_key(attempt) else _popup_gone(None)
    if not _in_its_visit(attempt):
        return _popup_gone(None)
    if attempt.outcome == "connected":
        return redirect(_after_login(current_connection(), attempt.reason == "other_user"), 303)
    return _login_failed(_failure_message(attempt.outcome, attempt.reason), _outcome_status(attempt), attempt)


def _finish_login(attempt: LoginAttempt, answer) -> bool:
    """Use the attempt once, take Exact's answer (a code, or why not), and connect; the outcome is on the attempt.
    False if the attempt was used before. An attempt that ended meanwhile (Annuleren in OutSmart) exchanges nothing."""
    if not attempt.use():
        return False
    if _ended_meanwhile(attempt):
        return True
    try:
        login = _read_login(attempt, parse_callback(answer))
    except AccessDenied:
        attempt.finish("cancelled")
        return True
    except ExactError as error:
        log.warning("Exact login failed: %s", error.detail)
        attempt.finish("failed", error.key)
        return True
    if connections.connect(attempt, login).too_late:
        _ended_meanwhile(attempt)  # the tokens just issued are dropped: nothing was kept
    return True


def _ended_meanwhile(attempt: LoginAttempt) -> bool:
    """Whether the attempt has ended (Annuleren in OutSmart), reading how: its outcome stands."""
    stored = LoginAttempt.get_by_id(attempt.id)
    attempt.outcome, attempt.reason = stored.outcome, stored.reason
    return attempt.outcome is not None


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
@requires("details")
def details(connection):
    """Step 4: the connection details after returning from Exact."""
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


def _waiting(attempt: LoginAttempt, connection: Connection, handoff: str | None = None) -> Response:
    """The popup login's waiting step: it asks for news every LOGIN_STATUS_INTERVAL seconds, says how long the login
    may take, and warns LOGIN_WARNING_BEFORE seconds before that time is over."""
    config = current_app.config
    return render_step("login_waiting.html", step="login", attempt=attempt, handoff=handoff, connection=connection,
                       interval=config["LOGIN_STATUS_INTERVAL"], warn_before=config["LOGIN_WARNING_BEFORE"],
                       minutes=LOGIN_MINUTES)


def _state_refused(state: str):
    """Back from Exact with a state that is no live attempt's (too late, used, or never ours). A popup's state says
    so on the popup's own last page, never in a copy of the setup inside the popup."""
    if state.startswith(LoginAttempt.POPUP_STATE):
        return _popup_done(None, "failed", _(
            "Deze inlogpoging is verlopen of ongeldig: het inloggen moet binnen %(minutes)s minuten klaar zijn. Er is "
            "niets verbonden. Sluit dit venster en start het inloggen opnieuw in OutSmart.", minutes=LOGIN_MINUTES),
            400)
    return _finish_page(None, "failed", "state", 400)


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


def _popup_gone(attempt_id: str | None):
    """A popup page for an attempt that cannot go on: ended (and how), or expired, unknown, or not this window's."""
    attempt = LoginAttempt.get_or_none(LoginAttempt.id == attempt_id) if attempt_id else None
    if attempt is not None and attempt.outcome == "aborted":
        return _popup_done(attempt, "aborted", _failure_message("aborted", None), 409)
    return _popup_done(None, "failed", _("Deze inlogpoging is verlopen of ongeldig. Sluit dit venster en start het "
                                         "inloggen opnieuw vanuit OutSmart."), 404 if attempt_id is None else 400)


def _popup_result(attempt: LoginAttempt):
    """The popup's last page for an attempt that has ended."""
    if attempt.outcome == "connected":
        return _popup_done(attempt, "connected", _("Verbonden met Exact Online. Dit venster sluit vanzelf."), 200)
    return _popup_done(attempt, attempt.outcome, _failure_message(attempt.outcome, attempt.reason),
                       _outcome_status(attempt))


def _outcome_status(attempt: LoginAttempt) -> int:
    """The answer's status for how a login ended: refused or ended in OutSmart first 409, Exact failing 502, another
    failure 400."""
    if attempt.outcome in ("refused", "aborted"):
        return 409
    if attempt.outcome == "failed":
        return 502 if is_error_key(attempt.reason) else 400
    return 200


# Why a login did not connect, by the reason stored on the attempt; said in the language of whoever asks.
def _failure_message(outcome: str, reason: str | None) -> str:
    if outcome == "aborted":
        return _("Het inloggen is in OutSmart geannuleerd, daarom is er niets verbonden.")
    if outcome == "cancelled":
        return _("U heeft OutSmart geen toegang gegeven bij Exact Online, dus er is niets verbonden. Probeer het "
                 "opnieuw en klik bij Exact Online op Toestaan.")
    if outcome == "expired":
        return _("De %(minutes)s minuten om in te loggen zijn voorbij, daarom is er niets verbonden. Start het "
                 "inloggen opnieuw; u krijgt dan weer %(minutes)s minuten.", minutes=LOGIN_MINUTES)
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


def _finish_page(attempt: None, outcome: str, reason: str | None, status: int):
    """A way back from Exact that belongs to no attempt this browser may finish: said in the page, nothing recorded."""
    return _login_failed(_failure_message(outcome, reason), status)


def _popup_done(attempt: LoginAttempt | None, outcome: str, message: str, status: int):
    """The popup's last page: it tells the iframe (same origin) that the attempt ended, then closes."""
    return render_template("popup_done.html", attempt=attempt, outcome=outcome, message=message), status


def _login_failed(message: str, status: int, attempt: LoginAttempt | None = None):
    """A login that did not connect, in the OutSmart visit; a saved connection keeps its state and heading."""
    connection = current_connection()
    not_used = _not_used_because(attempt, connection) if attempt is not None and connection.is_locked else None
    return render_step("login_failed.html", status, step=None if connection.is_locked else "login", message=message,
                       connection=connection, not_used=not_used, attempt=attempt)


def _not_used_because(attempt: LoginAttempt, connection: Connection) -> str:
    """Why a new login left a saved connection as it was, as one sentence ("… niet gebruikt, omdat …")."""
    if attempt.outcome == "refused" and attempt.reason == "other_country":
        return _("Uw nieuwe login is niet gebruikt, omdat u inlogde bij Exact Online %(login)s en deze verbinding "
                 "hoort bij Exact Online %(country)s. Log opnieuw in en kies %(country)s, of verbreek de verbinding "
                 "om een ander land te kiezen.", login=country_name(attempt.country),
                 country=country_name(connection.country))
    if attempt.outcome == "refused" and attempt.reason == "locked_division_missing":
        return _("Uw nieuwe login is niet gebruikt, omdat u bij Exact Online geen toegang gaf tot de vastgezette "
                 "administratie %(name)s (%(code)s). Log opnieuw in en vink die administratie aan bij Exact Online, of "
                 "verbreek de verbinding om een andere te kiezen.", name=connection.division_name,
                 code=connection.division)
    if attempt.outcome == "cancelled":
        return _("Uw nieuwe login is niet gebruikt, omdat u bij Exact Online niet op Toestaan klikte.")
    if attempt.outcome == "closed":
        return _("Uw nieuwe login is niet gebruikt, omdat het inlogvenster werd gesloten voordat het inloggen klaar "
                 "was.")
    if attempt.outcome == "aborted":
        return _("Uw nieuwe login is niet gebruikt, omdat u het inloggen hebt geannuleerd.")
    return _("Uw nieuwe login is niet gebruikt, omdat het inloggen bij Exact Online niet is gelukt.")


REFUSALS = {
    "other_country": lambda: _(
        "Deze verbinding hoort bij een Exact Online-account in een ander land. Log in op het land van de "
        "vastgezette administratie, of verbreek de verbinding om een andere te kiezen. Er is niets gewijzigd."),
    "locked_division_missing": lambda: _(
        "U heeft bij Exact Online geen toegang gegeven tot de vastgezette administratie. Log opnieuw in en vink "
        "die administratie aan, of verbreek de verbinding om een andere te kiezen. Er is niets gewijzigd."),
}
