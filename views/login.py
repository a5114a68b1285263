"""Steps 2–4 and disconnecting: the Exact Online login and the connection it leaves behind."""
from flask import Blueprint
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from exact.errors import AccessDenied
from exact.hosts import COUNTRIES
from exact.errors import ExactError
from exact.oauth import parse_callback
from forms.country import CountryForm
from forms.disconnect import DisconnectForm
from models import Administration
from models import Connection
from models import Event
from models import ExactList
from models import LoginAttempt
from models import db
from models import utcnow
from views.account import current_account
from views.account import current_connection
from views.exact_api import client_for_token
from views.exact_api import host_for
from views.exact_api import oauth_for
from views.exact_api import store_token
from views.htmx import render_step

bp = Blueprint("login", __name__, url_prefix="/exact")


@bp.get("/land")
def country_get():
    """Step 2: choose the country, then go to Exact's login page."""
    connection = current_connection()
    form = CountryForm(country=connection.country)
    return render_step("country.html", step=2, form=form, connection=connection)


@bp.post("/land")
def country_post():
    """Start a login attempt and send the browser to the country's Exact login page."""
    connection = current_connection()
    form = CountryForm()
    if not form.validate_on_submit():
        return render_step("country.html", 422, step=2, form=form, connection=connection)
    if connection.is_locked and form.country.data != connection.country:
        form.country.errors.append(_(
            "Deze verbinding hoort bij Exact Online %(country)s, waar de administratie is vastgezet. Kies dat land, "
            "of verbreek eerst de verbinding.", country=COUNTRIES[connection.country].name))
        return render_step("country.html", 422, step=2, form=form, connection=connection)
    attempt = LoginAttempt.start(current_account(), form.country.data)
    # A full-page navigation: Exact's login page must never be framed or fetched by htmx.
    return redirect(oauth_for(attempt.country).authorization_url(attempt.state), 303)


@bp.get("/callback")
def callback():
    """Steps 3–4: back from Exact; check the state, take the tokens, read the user and administrations."""
    attempt = _take_attempt(request.args.get("state", ""))
    if attempt is None:
        return _login_failed(_("Deze inlogpoging is verlopen of ongeldig. Dat gebeurt als u langer dan 10 minuten "
                               "over het inloggen doet of een oude link gebruikt. Start het inloggen opnieuw."), 400)
    try:
        code = parse_callback(request.args)
    except AccessDenied:
        _finish(attempt, "cancelled")
        return _login_failed(_("U heeft OutSmart geen toegang gegeven bij Exact Online, dus er is niets verbonden. "
                               "Probeer het opnieuw en klik bij Exact Online op Toestaan."), 200)
    except ExactError as error:
        _finish(attempt, "failed")
        return _login_failed(error.message(_lang()), 502)
    connection = Connection.for_account(attempt.account)
    try:
        token = oauth_for(attempt.country).exchange_code(code)
        pending = {}
        client = client_for_token(attempt.country, token, lambda new: pending.update(token=new))
        me = client.me()
        divisions = client.divisions(me["CurrentDivision"])
    except ExactError as error:
        _finish(attempt, "failed")
        return _login_failed(error.message(_lang()), 502)
    refusal = _reconnect_refusal(connection, attempt.country, divisions)
    if refusal:
        _finish(attempt, "refused")
        return _login_failed(refusal, 409)
    with db.atomic():
        _store_login(connection, attempt.country, me, divisions)
        store_token(connection, pending.get("token", token))
        _finish(attempt, "connected")
        Event.record(connection.account, "connected", country=attempt.country, user=me.get("FullName"),
                     administrations=len(divisions))
    return redirect(url_for("login.details"), 303)


@bp.get("/verbinding")
def details():
    """Step 4: the connection details after returning from Exact."""
    connection = current_connection()
    if not connection.is_logged_in:
        return redirect(url_for("setup.overview"), 303)
    return render_step("details.html", step=4, connection=connection)


@bp.get("/verbreken")
def disconnect_get():
    """Ask before disconnecting: what stops, and what stays."""
    connection = current_connection()
    if connection.status in (Connection.NOT_CONNECTED, Connection.DISCONNECTED):
        return redirect(url_for("setup.overview"), 303)
    return render_step("disconnect.html", step=None, connection=connection, form=DisconnectForm())


@bp.post("/verbreken")
def disconnect_post():
    """Stop synchronising and forget the tokens; settings and history stay."""
    connection = current_connection()
    form = DisconnectForm()
    if not form.validate_on_submit():
        return render_step("disconnect.html", 422, step=None, connection=connection, form=form)
    if connection.id is not None and connection.status != Connection.DISCONNECTED:
        with db.atomic():
            Event.record(connection.account, "disconnected", administration=connection.division,
                         administration_name=connection.division_name)
            connection.status = Connection.DISCONNECTED
            connection.disconnected_at = utcnow()
            connection.clear_tokens()
            connection.division = connection.division_name = connection.draft_division = None
            connection.save()
            Administration.delete().where(Administration.connection == connection).execute()
            ExactList.delete().where(ExactList.connection == connection).execute()
    return redirect(url_for("setup.overview", notice="disconnected"), 303)


def _lang() -> str:
    return get_locale().language


def _take_attempt(state: str) -> LoginAttempt | None:
    """The attempt this state belongs to, claimed once: for this account, unused and under 10 minutes old."""
    attempt = LoginAttempt.get_or_none(LoginAttempt.state == state) if state else None
    if attempt is None or attempt.account != current_account() or attempt.expired():
        return None
    claimed = (LoginAttempt.update(used_at=utcnow())
               .where((LoginAttempt.id == attempt.id) & LoginAttempt.used_at.is_null())
               .execute())
    return attempt if claimed == 1 else None


def _finish(attempt: LoginAttempt, outcome: str) -> None:
    LoginAttempt.update(outcome=outcome).where(LoginAttempt.id == attempt.id).execute()


def _login_failed(message: str, status: int):
    return render_step("login_failed.html", status, step=3, message=message, connection=current_connection())


def _reconnect_refusal(connection: Connection, country: str, divisions: list) -> str | None:
    """Why a new login may not replace the tokens of a saved connection, if it may not."""
    if not connection.is_locked:
        return None
    if country != connection.country or host_for(country) != connection.base_url:
        return _("Deze verbinding hoort bij een Exact Online-account in een ander land. Log in op het land van de "
                 "vastgezette administratie, of verbreek de verbinding om een andere te kiezen.")
    if connection.division not in {row["Code"] for row in divisions}:
        return _("U heeft bij Exact Online geen toegang gegeven tot de vastgezette administratie %(name)s "
                 "(%(code)s). Log opnieuw in en vink die administratie aan, of verbreek de verbinding om een "
                 "andere te kiezen. Er is niets gewijzigd.", name=connection.division_name, code=connection.division)
    return None


def _store_login(connection: Connection, country: str, me: dict, divisions: list) -> None:
    """Save who logged in where and which administrations the consent allows."""
    connection.country = country
    connection.base_url = host_for(country)
    connection.exact_user_id = me.get("UserID")
    connection.exact_user_name = me.get("FullName")
    connection.exact_user_email = me.get("Email")
    connection.current_division = me.get("CurrentDivision")
    connection.consented_divisions = len(divisions)
    connection.connected_at = utcnow()
    connection.disconnected_at = None
    if not connection.is_locked:
        connection.status = Connection.CONNECTED
        connection.draft_division = None
    else:
        connection.status = Connection.SAVED
    connection.save()
    Administration.delete().where(Administration.connection == connection).execute()
    rows = [dict(connection=connection, code=row["Code"], name=row.get("Description") or str(row["Code"]),
                 country=row.get("Country"), currency=row.get("Currency"), vat_number=row.get("VATNumber"),
                 status=row.get("Status", 1), blocked=bool(row.get("BlockingStatus")),
                 current=row["Code"] == connection.current_division)
            for row in divisions]
    for batch in range(0, len(rows), 500):
        Administration.insert_many(rows[batch:batch + 500]).execute()
