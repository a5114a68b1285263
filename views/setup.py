"""Steps 5–7 and the saved connection: administration, import/export settings, checks and Opslaan."""
from functools import partial
from functools import wraps

from flask import Blueprint
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

import connections
from exact.lists import in_code_order
from forms.administration import AdministrationForm
from forms.connection_test import ConnectionTestForm
from forms.connection_test import healthy_report
from forms.save import SaveForm
from forms.save import SwitchOffForm
from forms.settings import SettingsForm
from forms.settings import code_label
from forms.settings import settings_form
from models import PAGE_SIZE
from models import Administration
from models import Connection
from models import Event
from models import ExactList
from views.account import current_connection
from views.account import current_user
from views.exact_clients import FILTER_LISTS
from views.exact_clients import client_for
from views.exact_clients import health as exact_health
from views.exact_clients import host_for
from views.exact_clients import master_data
from views.exact_clients import preview_counts
from views.exact_clients import token_store
from views.htmx import render_step
from views.htmx import wants_partial
from views.steps import requires
from views.steps import where_to_go_on

bp = Blueprint("setup", __name__, url_prefix="/exact")
MAX_PAGE = 100_000


def with_lists(view):
    """Give a step about the chosen administration that administration's Exact lists."""

    @wraps(view)
    def wrapper(connection, *args, **kwargs):
        return view(connection, _lists_of(connection), *args, **kwargs)

    return wrapper


@bp.get("")
def overview():
    """The Exact Online settings: status, and the next thing to do; an unfinished setup goes on where it stopped."""
    connection = current_connection()
    if connection.status == Connection.CONNECTED:
        return redirect(where_to_go_on(connection), 303)
    summary = None
    if connection.is_locked and connection.settings:
        # In words, with Exact's descriptions from the lists cached for the administration: no call to Exact.
        form = _form(ExactList.cached(connection, connection.division), formdata=None, data=connection.settings,
                     meta={"csrf": False})
        summary = form.summary(connection.settings)
    return render_step("overview.html", connection=connection, summary=summary,
                       history=Event.history(connection.account) if connection.id else [],
                       health=exact_health(connection) if connection.is_locked else None)


@bp.get("/administratie")
@requires("administration")
def administration_get(connection):
    """Step 5: the administrations the consent allows, searchable and paged; the chosen one previewed."""
    form = AdministrationForm(connection, division=connection.working_division)
    return _administration_page(connection, form)


@bp.get("/administratie/lijst")
@requires("administration")
def administration_list(connection):
    """The search results alone, for htmx's live search; a full page otherwise."""
    if not wants_partial():
        # Only the search and the page go along: url_for would also obey _external, _scheme or _method from the query.
        search = {name: request.args.get(name) for name in ("q", "page")}
        return redirect(url_for("setup.administration_get", **search), 303)
    return render_step("administration_list.html", **_administration_results(connection))


@bp.post("/administratie")
@requires("administration")
def administration_post(connection):
    """Remember the chosen administration (not saved yet) and show what it holds."""
    form = AdministrationForm(connection)
    if not form.validate_on_submit():
        return _administration_page(connection, form, 422)
    connections.choose_administration(connection, form.administration.code)
    return redirect(url_for("setup.administration_get"), 303)


@bp.get("/instellingen")
@requires("settings")
@with_lists
def settings_get(connection, lists):
    """Step 6: import and export settings, with the choices read from the administration.

    What was chosen before is shown where this administration has it; the page proposes the one obvious answer.
    """
    form, carried = _proposed_form(connection, lists)
    return _settings_page(connection, form, lists, carried=carried)


@bp.post("/instellingen")
@requires("settings")
@with_lists
def settings_post(connection, lists):
    """Keep the settings for the checks; on a saved connection, check them at Exact and save them at once."""
    if request.form.get("filters") in FILTER_LISTS:
        # "Filter on …" only fetched a filter's choices: show them with everything ticked so far, save nothing.
        return _settings_page(connection, _form(lists), lists)
    if not connection.is_locked:
        form = _form(lists)
        if not form.validate_on_submit():
            return _settings_page(connection, form, lists, 422)
        if not connections.keep_draft_settings(connection, form.settings()):
            return _settings_changed_meanwhile(connection)
        return redirect(url_for("setup.check_get"), 303)
    with client_for(connection) as client:
        has_rights = partial(client.has_rights, connection.division)  # all at once
        form = _form(lists, rights=(has_rights, connection.division_name))
        if not form.validate_on_submit():
            return _settings_page(connection, form, lists, 422)
        if not connections.change_settings(connection, form.settings(), current_user()):
            return redirect(url_for("setup.overview"), 303)  # disconnected meanwhile: the overview says so
    return redirect(url_for("setup.overview", notice="settings_saved"), 303)


def _settings_changed_meanwhile(connection):
    """Another window or admin chose another administration (or saved) while these settings were being checked."""
    fresh = Connection.get_by_id(connection.id)
    if not fresh.is_logged_in or fresh.working_division is None:
        return redirect(url_for("setup.overview"), 303)
    lists = _lists_of(fresh)
    form, carried = _proposed_form(fresh, lists)
    form.form_errors.append(_(
        "Intussen is de administratie gewijzigd of opgeslagen, in een ander venster of door een andere beheerder. "
        "Uw instellingen zijn daarom niet bewaard. Kies ze hieronder opnieuw voor administratie %(code)s.",
        code=fresh.working_division))
    return _settings_page(fresh, form, lists, 409, carried=carried)


@bp.post("/instellingen/vernieuwen")
@requires("settings")
def settings_refresh(connection):
    """Read the administration's journals, accounts, VAT codes, … from Exact again."""
    master_data(connection, connection.working_division, refresh=True)
    return redirect(url_for("setup.settings_get"), 303)


@bp.get("/controle")
@requires("check")
def check_get(connection):
    """Step 7: what will be checked and saved; the administration to confirm."""
    administration = _draft_administration(connection)
    if administration is None:  # disconnected by another window since the connection was read
        return redirect(where_to_go_on(Connection.get_by_id(connection.id)), 303)
    return _check_page(connection, administration, SaveForm(connection, administration, host_for=host_for))


@bp.post("/controle")
@requires("check")
def check_post(connection):
    """Opslaan: run the pre-save checks; save the connection and its settings in one transaction. Or, from the
    checklist's offer, switch off the settings whose rights are missing and show the checklist again."""
    administration = _draft_administration(connection)
    if connection.is_locked or administration is None:  # None: disconnected since the connection was read
        return _save_lost(connection)
    if request.form.get("action") == "switch_off":
        return _switch_off(connection, administration)
    with client_for(connection) as client:
        form = SaveForm(connection, administration, host_for=host_for,
                        has_rights=partial(client.has_rights, administration.code))  # all at once
        if not form.validate_on_submit():
            return _check_page(connection, administration, form, 422)
        if not connections.save(connection, administration, current_user()):
            return _save_lost(connection)
    return redirect(url_for("setup.overview", notice="saved"), 303)


def _switch_off(connection, administration):
    """"Deze instellingen uitzetten": the draft without them, its rights asked at Exact again, the checklist shown."""
    form = SwitchOffForm()
    if not form.validate_on_submit():
        page = SaveForm(connection, administration, formdata=None, host_for=host_for)
        page.form_errors.extend(error for errors in form.errors.values() for error in errors)
        return _check_page(connection, administration, page, 422)
    settings = connections.switch_off(connection, form.off.data)
    if settings is None:
        return _save_lost(connection)
    connection.draft_settings = settings
    with client_for(connection) as client:
        page = SaveForm(connection, administration, formdata=None, host_for=host_for,
                        has_rights=partial(client.has_rights, administration.code))  # all at once
        passed = page.check_rights()
    return _check_page(connection, administration, page, 200 if passed else 422, switched=form.labels())


@bp.get("/testen")
def test_get():
    """Verbinding testen: what the test asks Exact, and the report of a test that has just passed."""
    connection = current_connection()
    if not _testable(connection):
        return redirect(url_for("setup.overview"), 303)
    passed = request.args.get("notice") == "tested" and connection.status == Connection.SAVED
    return _test_page(connection, ConnectionTestForm(connection), healthy_report(connection) if passed else None,
                      passed=passed)


@bp.post("/testen")
def test_post():
    """Ask Exact whether the saved connection works now; keep only a refreshed token and what Exact's answers mean
    for the connection (it needs attention, or no longer does)."""
    connection = current_connection()
    if not _testable(connection):
        return redirect(url_for("setup.overview"), 303)
    with client_for(connection) as client:
        form = ConnectionTestForm(connection, client=client,
                                  valid_token=partial(token_store().valid_token, connection.id, loaded=connection))
        passed = form.validate_on_submit()
    connections.record_test(connection, form.refusal, form.answered, current_user())
    if not passed:
        return _test_page(Connection.get_by_id(connection.id), form, form.report, 422)
    return redirect(url_for("setup.test_get", notice="tested"), 303)


def _testable(connection) -> bool:
    """A saved connection with its tokens: working, or needing attention."""
    return connection.is_locked and connection.is_logged_in


def _test_page(connection, form, report, status=200, passed=False):
    return render_step("connection_test.html", status, connection=connection, form=form, report=report,
                       passed=passed)


def _settings_page(connection, form, lists, status=200, carried=None):
    """Step 6 with this form and these lists; `carried` says which earlier choices were cleared."""
    return render_step("settings.html", status, step="settings", connection=connection, form=form, lists=lists,
                       carried=carried, title=_("Import- en exportinstellingen") if connection.is_locked else None)


def _form(lists: dict, **kwargs) -> SettingsForm:
    """The settings form of the administration these lists come from."""
    vat_codes = lists["vat_codes"].rows if "vat_codes" in lists else []
    return settings_form(_choices(lists), vat_codes, **kwargs)


def _proposed_form(connection, lists) -> tuple[SettingsForm, str | None]:
    """The form as the page proposes it: the choices made before (a draft, the saved settings, or those of an earlier
    connection) where this administration has them, the one obvious answer where nothing is chosen; and a notice
    naming what was cleared."""
    stored = connection.draft_settings or connection.settings
    form = _form(lists, formdata=None, data=stored)
    cleared = form.propose(stored)
    if not cleared:
        return form, None
    code = connection.working_division
    # A draft and a locked connection's settings were made for this administration; after disconnecting, the
    # settings kept are those of the administration last saved.
    made_for = (code if connection.draft_settings or connection.is_locked
                else Event.last_saved_division(connection.account))
    if made_for != code:
        return form, _("Deze instellingen hoorden bij een andere administratie en zijn leeggemaakt: %(settings)s. "
                       "Kies ze hieronder opnieuw voor administratie %(code)s.", settings=", ".join(cleared), code=code)
    return form, _("Deze eerder gekozen instellingen passen niet bij administratie %(code)s en zijn leeggemaakt: "
                   "%(settings)s. Kies ze hieronder opnieuw.", settings=", ".join(cleared), code=code)


def _lists_of(connection) -> dict:
    """The working administration's Exact lists, with the filter lists this request needs."""
    return master_data(connection, connection.working_division, filters=_filters_wanted(connection))


def _filters_wanted(connection) -> tuple:
    """The import filters whose choices this request needs: asked for, ticked in the form, or chosen before."""
    chosen = connection.draft_settings or connection.settings or {}
    return tuple(kind for kind in FILTER_LISTS
                 if request.form.get("filters") == kind or request.form.getlist(kind) or chosen.get(kind))


def _choices(lists: dict) -> dict:
    """Form choices (code, label) per kind from the cached Exact lists, in code order."""
    choices = {}
    for kind, cached in lists.items():
        if kind == "counts":
            continue
        choices[kind] = [SelectChoice(str(row["Code"]).strip(), code_label(str(row["Code"]).strip(), row.get("Description")))
                         for row in in_code_order(cached.rows)]
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
    # An Exact that lists the consented administrations in one left out of the consent (as the simulator does by
    # default) lets such a login through: the list then lacks the user's current administration, and says why.
    current = connection.current_division
    left_out = current if current and Administration.find(connection, current) is None else None
    return render_step("administration.html", status, step="administration", form=form, chosen=chosen, counts=counts,
                       current_left_out=left_out, **_administration_results(connection))


def _check_page(connection, administration, form, status=200, switched=None):
    """Step 7: the checklist as far as it was checked; `switched` names the settings just switched off."""
    return render_step("check.html", status, step="check", connection=connection, administration=administration,
                       form=form, checks=form.checklist(), switched=switched, switch_form=SwitchOffForm(formdata=None))


def _save_lost(connection):
    """Opslaan found the connection saved, disconnected or chosen anew by another window or admin since it was read."""
    fresh = Connection.get_by_id(connection.id)
    if fresh.is_locked:
        return render_step("already_saved.html", 409, step="check", connection=fresh)
    if not fresh.is_logged_in:
        return render_step("error.html", 409, connection=fresh, retry=None, reconnect=True, message=_(
            "Intussen is de verbinding met Exact Online verbroken, in een ander venster of door een andere beheerder. "
            "Er is niets opgeslagen. Verbind opnieuw om een administratie te kiezen en op te slaan."))
    administration = _draft_administration(fresh)
    if administration is None or fresh.draft_settings is None:
        return redirect(where_to_go_on(fresh), 303)
    form = SaveForm(fresh, administration, formdata=None, host_for=host_for)
    form.form_errors.append(_(
        "Intussen zijn de administratie of de instellingen gewijzigd, in een ander venster of door een andere "
        "beheerder. Er is niets opgeslagen. Controleer hieronder wat nu gekozen is en bevestig opnieuw."))
    return _check_page(fresh, administration, form, 409)
