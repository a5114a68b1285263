"""The setup's seven steps in one table: the stepper, each view's step, and where an unfinished setup goes on."""
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import lazy_gettext as _l

from models import Connection
from views.account import current_connection


@dataclass(frozen=True)
class Step:
    """One step of the user guide: its number and label, the view that shows it, what it needs, when it is done;
    its short label for the stepper's line, and when showing it makes no sense any more (then: the overview)."""

    number: int
    name: str
    label: str
    endpoint: str | None  # None: the login happens at Exact, not on a page of ours
    needs: Callable[[Connection], bool]
    done: Callable[[Connection], bool]
    short: str = ""
    closed: Callable[[Connection], bool] = lambda connection: False


def _always(connection: Connection) -> bool:
    return True


def _logged_in(connection: Connection) -> bool:
    return connection.is_logged_in


def _administration_chosen(connection: Connection) -> bool:
    return connection.is_logged_in and connection.working_division is not None


def _settings_kept(connection: Connection) -> bool:
    return _administration_chosen(connection) and (connection.is_locked or connection.draft_settings is not None)


def _saved(connection: Connection) -> bool:
    return connection.is_locked


STEPS = (
    Step(1, "integrations", _l("Software-integraties"), "integrations.index", _always, _always,
         short=_l("Integraties")),
    Step(2, "country", _l("Land kiezen"), "login.country_get", _always, _logged_in, short=_l("Land")),
    Step(3, "login", _l("Inloggen bij Exact Online"), None, _always, _logged_in, short=_l("Inloggen")),
    # Saved: the details, the choice of administration and the checks are behind the admin; the overview shows them.
    Step(4, "details", _l("Verbindingsgegevens"), "login.details", _logged_in, _logged_in, short=_l("Verbinding"),
         closed=_saved),
    Step(5, "administration", _l("Administratie kiezen"), "setup.administration_get", _logged_in,
         _administration_chosen, short=_l("Administratie"), closed=_saved),
    Step(6, "settings", _l("Import en export"), "setup.settings_get", _administration_chosen, _settings_kept,
         short=_l("Import en export")),
    Step(7, "check", _l("Controleren en opslaan"), "setup.check_get", _settings_kept, _saved, short=_l("Opslaan"),
         closed=_saved),
)
BY_NAME = {step.name: step for step in STEPS}


def first_open_step(connection: Connection) -> Step | None:
    """The first step not yet done, where an unfinished setup goes on; None once the connection is saved."""
    return next((step for step in STEPS if step.endpoint and not step.done(connection)), None)


def where_to_go_on(connection: Connection) -> str:
    """The URL of the first step not yet done; the overview once everything is, or without a working login."""
    step = first_open_step(connection) if connection.is_logged_in else None
    return url_for(step.endpoint if step else "setup.overview")


def requires(name: str):
    """Show the step only when what it needs is there; otherwise go where the setup can go on. A step whose time has
    passed (closed: the administration once saved) is not shown either: its page goes to the overview. A POST to it
    still reaches its view, which refuses it in words."""
    step = BY_NAME[name]

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            connection = current_connection()
            if not step.needs(connection):
                return redirect(where_to_go_on(connection), 303)
            if request.method == "GET" and step.closed(connection):
                return redirect(url_for("setup.overview"), 303)
            return view(connection, *args, **kwargs)

        return wrapper

    return decorate
