"""Template helpers and translations: dates, times, numbers and texts in the user's language."""
import datetime

from flask_babel import format_datetime
from flask_babel import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from exact.hosts import COUNTRIES
from forms.settings import SettingsForm
from forms.settings import vat_label
from views.account import exact_status
from views.addresses import app_host
from views.addresses import app_origin
from views.failures import exact_error_message
from views.session import session_token
from views.steps import STEPS

EVENT_LABELS = {
    "connected": _l("Verbonden met Exact Online"),
    "saved": _l("Administratie gekozen en vastgezet"),
    "settings_changed": _l("Instellingen gewijzigd"),
    "disconnected": _l("Verbinding verbroken"),
    "expired": _l("Authenticatie verlopen"),
    "reconnected": _l("Opnieuw verbonden"),
    # Kept in the history of connections from before "expired" was the one event for a grant that died.
    "authentication_expired": _l("Authenticatie verlopen"),
    "refresh_failed": _l("Vernieuwen bij Exact Online mislukt"),
}


def register(app):
    """Install the filters and globals the templates use."""
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["timestamp"] = _timestamp
    app.jinja_env.filters["number"] = lambda value: format_decimal(value) if value is not None else ""
    app.jinja_env.filters["exact_error_message"] = exact_error_message
    app.jinja_env.filters["setting_label"] = _setting_label
    app.jinja_env.globals.update(countries=COUNTRIES, event_labels=EVENT_LABELS, session_token=session_token,
                                 exact_status=exact_status, get_locale=get_locale, steps=STEPS,
                                 app_origin=app_origin, app_host=app_host)


def _datetime(value: datetime.datetime | None) -> str:
    """A stored UTC datetime, shown in the user's time zone and format."""
    if value is None:
        return ""
    return format_datetime(value.replace(tzinfo=datetime.timezone.utc), "medium")


def _timestamp(value: float | None) -> str:
    return "" if value is None else format_datetime(datetime.datetime.fromtimestamp(value, datetime.timezone.utc), "medium")


# The VAT rows of releases before issue 16, fixed to Dutch rates: still named in the history they left.
FORMER_VAT_ROWS = {"vat_high": "21", "vat_low": "9", "vat_zero": "0"}


def _setting_label(name: str) -> str:
    """A setting's label as the settings page shows it; a VAT row is named "vat_codes.<rate>"."""
    rate = FORMER_VAT_ROWS.get(name) or (name.removeprefix("vat_codes.") if name.startswith("vat_codes.") else None)
    if rate is not None:
        try:
            return vat_label(rate)
        except ArithmeticError:
            return name
    field = getattr(SettingsForm, name, None)
    return str(field.args[0]) if field is not None and field.args else name
