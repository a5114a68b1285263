"""Template helpers and translations: dates, times, numbers and texts in the user's language."""
import datetime
from functools import cached_property

from flask import has_request_context
from flask import request
from flask_babel import Babel
from flask_babel import Domain
from flask_babel import format_datetime
from flask_babel import format_decimal
from flask_babel import get_locale
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l

from exact.hosts import COUNTRIES
from forms.settings import SettingsForm
from views.account import exact_status
from views.failures import exact_error_message
from views.session import session_token

EVENT_LABELS = {
    "connected": _l("Verbonden met Exact Online"),
    "saved": _l("Administratie gekozen en vastgezet"),
    "settings_changed": _l("Instellingen gewijzigd"),
    "disconnected": _l("Verbinding verbroken"),
    "authentication_expired": _l("Authenticatie verlopen"),
    "refresh_failed": _l("Vernieuwen bij Exact Online mislukt"),
    "reconnected": _l("Opnieuw verbonden"),
}


def register(app):
    """Install the filters and globals the templates use."""
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["timestamp"] = _timestamp
    app.jinja_env.filters["number"] = lambda value: format_decimal(value) if value is not None else ""
    app.jinja_env.filters["exact_error_message"] = exact_error_message
    app.jinja_env.filters["setting_label"] = _setting_label
    app.jinja_env.globals.update(countries=COUNTRIES, event_labels=EVENT_LABELS, session_token=session_token,
                                 exact_status=exact_status, get_locale=get_locale)
    # Flask-Babel's own callables find the domain, then the catalogue, through several context lookups per text.
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: _catalogue().ugettext(string),
        ngettext=lambda singular, plural, n: _catalogue().ungettext(singular, plural, n),
        pgettext=lambda context, string: _catalogue().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: _catalogue().unpgettext(context, singular, plural, n),
        newstyle=True)


def _catalogue():
    """The request's message catalogue (see RequestDomain), straight from where it was kept."""
    found = request.environ.get(TRANSLATIONS_KEY) if has_request_context() else None
    return found if found is not None else get_translations()


class RequestBabel(Babel):
    """Flask-Babel, whose message catalogue is found once per request (see RequestDomain)."""

    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)


class RequestDomain(Domain):
    """Flask-Babel looks the catalogue up again for every string (~60 on a page, 100 on the settings step)."""

    def get_translations(self):
        if not has_request_context():
            return super().get_translations()
        found = request.environ.get(TRANSLATIONS_KEY)
        if found is None:
            found = request.environ[TRANSLATIONS_KEY] = super().get_translations()
        return found


TRANSLATIONS_KEY = "outsmart.translations"


def _datetime(value: datetime.datetime | None) -> str:
    """A stored UTC datetime, shown in the user's time zone and format."""
    if value is None:
        return ""
    return format_datetime(value.replace(tzinfo=datetime.timezone.utc), "medium")


def _timestamp(value: float | None) -> str:
    return "" if value is None else format_datetime(datetime.datetime.fromtimestamp(value, datetime.timezone.utc), "medium")


def _setting_label(name: str) -> str:
    """A setting's label as the settings page shows it."""
    field = getattr(SettingsForm, name, None)
    return str(field.args[0]) if field is not None and field.args else name
