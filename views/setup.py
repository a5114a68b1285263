"""Steps 5–7 and the saved connection: administration, import/export settings, checks and Opslaan."""
from functools import wraps

from flask import Blueprint
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from exact.hosts import COUNTRIES
from forms.administration import AdministrationForm
from forms.save import SaveForm
from forms.settings import SettingsForm
from forms.settings import required_rights
from models import PAGE_SIZE
from models import Administration
from models import Connection
from models import Event
from models import db
from models import utcnow
from views.account import current_connection
from views.account import current_user
from views.exact_api import FILTER_LISTS
from views.exact_api import client_for
from views.exact_api import host_for
from views.exact_api import master_data
from views.exact_api import preview_counts
from views.htmx import render_step
from views.htmx import wants_partial

bp = Blueprint("setup", __name__, url_prefix="/exact")
MAX_PAGE = 100_000


def logged_in(view):
    """Send a request without a working Exact login back to the overview, which says what to do."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        connection = current_connection()
        if not connection.is_logged_in:
            return redirect(url_for("setup.overview"), 303)
        return view(connection, *args, **kwargs)

    return wrapper


def administration_chosen(view):
    """Give a step that needs the chosen administration its Exact lists; without one, go back to step 5."""

    @wraps(view)
    def wrapper(connection, *args, **kwargs):
        if connection.working_division is None:
            return redirect(url_for("setup.administration_get"), 303)
        return view(connection, _lists_of(connection), *args, **kwargs)

    return wrapper


@bp.get("")
def overview():
    """The Exact Online settings: status, and the next thing to do."""
    connection = current_connection()
    if connection.status == Connection.CONNECTED:
        return redirect(url_for("login.details"), 303)
    settings_form = None
    if connection.status == Connection.SAVED and connection.settings:
        settings_form = SettingsForm({}, data=connection.settings, meta={"csrf": False})
    return render_step("overview.html", step=None, connection=connection, settings_form=settings_form,
                       history=Event.history(connection.account) if connection.id else [])


@bp.get("/administratie")
@logged_in
def administration_get(connection):
    """Step 5: the administrations the consent allows, searchable and paged; the chosen one previewed."""
    form = AdministrationForm(connection, division=connection.working_division)
    return _administration_page(connection, form)


@bp.get("/administratie/lijst")
@logged_in
def administration_list(connection):
    """The search results alone, for htmx's live search; a full page otherwise."""
    if not wants_partial():
        # Only the search and the page go along: url_for would also obey _external, _scheme or _method from the query.
        search = {name: request.args.get(name) for name in ("q", "page")}
        return redirect(url_for("setup.administration_get", **search), 303)
    return render_step("administration_list.html", **_administration_results(connection))


@bp.post("/administratie")
@logged_in
def administration_post(connection):
    """Remember the chosen administration (not saved yet) and show what it holds."""
    form = AdministrationForm(connection)
    if not form.validate_on_submit():
        return _administration_page(connection, form, 422)
    code = form.administration.code
    # Settings are picked from one administration's journals, accounts and VAT codes: choosing another one drops
    # those made for the previous one, in the same statement, so no other request can pair them with the new one.
    (Connection.update(draft_division=code, draft_settings=None)
     .where((Connection.id == connection.id)
            & (Connection.draft_division.is_null() | (Connection.draft_division != code)))
     .execute())
    return redirect(url_for("setup.administration_get"), 303)


@bp.get("/instellingen")
@logged_in
@administration_chosen
def settings_get(connection, lists):
    """Step 6: import and export settings, with the choices read from the administration."""
    form = SettingsForm(_choices(lists), data=connection.draft_settings or connection.settings)
    return _settings_page(connection, form, lists)


@bp.post("/instellingen")
@logged_in
@administration_chosen
def settings_post(connection, lists):
    """Keep the settings for the checks; on a saved connection, check them and save at once."""
    form = SettingsForm(_choices(lists))
    if request.form.get("filters") in FILTER_LISTS:
        # "Filter on …" only fetched a filter's choices: show them with everything ticked so far, save nothing.
        return _settings_page(connection, form, lists)
    if not form.validate_on_submit():
        return _settings_page(connection, form, lists, 422)
    if not connection.is_locked:
        # Kept only while the administration they were checked against is still the one chosen and nothing is saved.
        kept = (Connection.update(draft_settings=form.settings())
                .where((Connection.id == connection.id) & (Connection.draft_division == connection.draft_division)
                       & Connection.division.is_null())
                .execute())
        if kept != 1:
            return _settings_changed_meanwhile(connection)
        return redirect(url_for("setup.check_get"), 303)
    missing = _missing_rights(connection, connection.division, form.settings())
    if missing:
        form.form_errors.append(_(
            "De Exact Online-gebruiker mist deze rechten: %(rights)s. Vraag de beheerder van uw Exact Online om "
            "deze rechten toe te kennen, of zet de instellingen die ze nodig hebben uit.", rights=", ".join(missing)))
        return _settings_page(connection, form, lists, 422)
    changed = sorted(name for name, value in form.settings().items() if (connection.settings or {}).get(name) != value)
    with db.atomic():
        Connection.update(settings=form.settings()).where(Connection.id == connection.id).execute()
        Event.record(connection.account, "settings_changed", current_user(), changed=changed)
    return redirect(url_for("setup.overview", notice="settings_saved"), 303)


def _settings_changed_meanwhile(connection):
    """Another window or admin chose another administration (or saved) while these settings were being checked."""
    fresh = Connection.get_by_id(connection.id)
    if not fresh.is_logged_in or fresh.working_division is None:
        return redirect(url_for("setup.overview"), 303)
    lists = _lists_of(fresh)
    form = SettingsForm(_choices(lists), formdata=None, data=fresh.draft_settings or fresh.settings)
    form.form_errors.append(_(
        "Intussen is de administratie gewijzigd of opgeslagen, in een ander venster of door een andere beheerder. "
        "Uw instellingen zijn daarom niet bewaard. Kies ze hieronder opnieuw voor administratie %(code)s.",
        code=fresh.working_division))
    return _settings_page(fresh, form, lists, 409)


@bp.post("/instellingen/vernieuwen")
@logged_in
def settings_refresh(connection):
    """Read the administration's journals, accounts, VAT codes, … from Exact again."""
    if connection.working_division is not None:
        master_data(connection, connection.working_division, refresh=True)
    return redirect(url_for("setup.settings_get"), 303)


@bp.get("/controle")
@logged_in
def check_get(connection):
    """Step 7: what will be checked and saved; the administration to confirm."""
    if connection.is_locked:
        return redirect(url_for("setup.overview"), 303)
    administration = _draft_administration(connection)
    if administration is None or connection.draft_settings is None:
        return redirect(url_for("setup.settings_get" if administration else "setup.administration_get"), 303)
    form = SaveForm(connection, administration, checks=None)
    return _check_page(connection, administration, form)


@bp.post("/controle")
@logged_in
def check_post(connection):
    """Opslaan: run the pre-save checks; save the connection and its settings in one transaction."""
    if connection.is_locked:
        return _already_saved(connection)
    administration = _draft_administration(connection)
    if administration is None or connection.draft_settings is None:
        return redirect(url_for("setup.overview"), 303)
    form = SaveForm(connection, administration, checks=PreSaveChecks(connection, administration.code))
    if not form.validate_on_submit():
        return _check_page(connection, administration, form, 422)
    with db.atomic():
        saved = (Connection
                 .update(division=administration.code, division_name=administration.name,
                         settings=connection.draft_settings, status=Connection.SAVED, saved_at=utcnow(),
                         draft_division=None, draft_settings=None)
                 .where((Connection.id == connection.id) & (Connection.status == Connection.CONNECTED)
                        & Connection.division.is_null())
                 .execute())
        if saved != 1:
            return _already_saved(connection)
        Event.record(connection.account, "saved", current_user(), administration=administration.code,
                     administration_name=administration.name)
    return redirect(url_for("setup.overview", notice="saved"), 303)


class PreSaveChecks:
    """The checks only Exact can answer, asked when the admin clicks Opslaan."""

    def __init__(self, connection: Connection, division: int):
        self.connection = connection
        self.division = division
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = client_for(self.connection)
        return self._client

    def country_error(self, country: str) -> str | None:
        """Why the chosen country does not match the account, if it does not."""
        chosen = COUNTRIES.get(country, (country, None))[0]
        account = COUNTRIES.get(self.connection.country, (self.connection.country, None))[0]
        wrong = _("Het gekozen land (%(chosen)s) hoort niet bij uw Exact Online-account (%(account)s). Verbreek de "
                  "verbinding en verbind opnieuw met het land waar uw Exact Online-account is aangemaakt.",
                  chosen=chosen, account=account)
        # The tokens belong to the country whose host issued them and answered current/Me at login; asking Me
        # again would cost an Exact call and prove nothing more. The rights asked next go to that same host.
        if country != self.connection.country or self.connection.base_url != host_for(country):
            return wrong
        return None

    def missing_rights(self) -> list[str]:
        return _missing_rights(self.connection, self.division, self.connection.draft_settings, self.client)


def _missing_rights(connection, division, settings, client=None) -> list[str]:
    """The rights, in plain words, the Exact user lacks for these settings."""
    client = client or client_for(connection)
    return [words for endpoint, action, words in required_rights(settings)
            if not client.has_right(division, endpoint, action)]


def _settings_page(connection, form, lists, status=200):
    """Step 6 with this form and these lists."""
    return render_step("settings.html", status, step=6, connection=connection, form=form, lists=lists)


def _lists_of(connection) -> dict:
    """The working administration's Exact lists, with the filter lists this request needs."""
    return master_data(connection, connection.working_division, filters=_filters_wanted(connection))


def _filters_wanted(connection) -> tuple:
    """The import filters whose choices this request needs: asked for, ticked in the form, or chosen before."""
    chosen = connection.draft_settings or connection.settings or {}
    return tuple(kind for kind in FILTER_LISTS
                 if request.form.get("filters") == kind or request.form.getlist(kind) or chosen.get(kind))


def _choices(lists: dict) -> dict:
    """Form choices (code, label) per kind from the cached Exact lists."""
    choices = {}
    for kind, cached in lists.items():
        if kind == "counts":
            continue
        choices[kind] = [SelectChoice(str(row["Code"]).strip(), f'{str(row["Code"]).strip()} – {row.get("Description", "")}')
                         for row in cached.rows]
    return choices


def _draft_administration(connection):
    return Administration.find(connection, connection.draft_division) if connection.draft_division else None


def _administration_results(connection) -> dict:
    query = request.args.get("q", "")[:100]
    # Past any real list (20 a page), and small enough that the database's OFFSET cannot overflow.
    page = min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)
    rows, total = Administration.search(connection, query, page)
    return dict(connection=connection, rows=rows, total=total, query=query, page=page,
                pages=max(1, -(-total // PAGE_SIZE)))


def _administration_page(connection, form, status=200):
    chosen = _draft_administration(connection) if not connection.is_locked else None
    counts = preview_counts(connection, chosen.code) if chosen else None
    return render_step("administration.html", status, step=5, form=form, chosen=chosen, counts=counts,
                       **_administration_results(connection))


def _check_page(connection, administration, form, status=200):
    rights = required_rights(connection.draft_settings)
    return render_step("check.html", status, step=7, connection=connection, administration=administration,
                       form=form, rights=rights, country_name=COUNTRIES[connection.country][0])


def _already_saved(connection):
    """Opslaan found the connection saved, or disconnected, by another window or admin since the page was read."""
    fresh = Connection.get_by_id(connection.id)
    if fresh.is_locked:
        return render_step("already_saved.html", 409, step=7, connection=fresh)
    return render_step("error.html", 409, step=None, connection=fresh, retry=None, reconnect=True, message=_(
        "Intussen is de verbinding met Exact Online verbroken, in een ander venster of door een andere beheerder. "
        "Er is niets opgeslagen. Verbind opnieuw om een administratie te kiezen en op te slaan."))
