"""Template helpers and translations: dates, times, numbers, percentages, countries and texts in the user's language
(Babel's formats for the page's locale: 5.000 and 21% in Dutch, 5 000 and 21 % in French, 05.03.2026 in German)."""
import datetime

from flask_babel import format_datetime
from flask_babel import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from forms.rights import setting_words
from forms.country import country_name
from forms.settings import SettingsForm
from forms.settings import percent
from forms.settings import vat_label
from views.account import exact_status
from views.addresses import app_host
from views.addresses import app_origin
from views.failures import attention_reason
from views.failures import exact_error
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
    "needs_attention": _l("Actie nodig"),
    "attention_resolved": _l("Verbinding werkt weer"),
    # An event sent to OutSmart's servers (outbox.py), and one it could not be told of in 24 hours.
    "webhook_delivered": _l("OutSmart geïnformeerd"),
    "webhook_given_up": _l("OutSmart kon niet worden geïnformeerd (24 uur geprobeerd)"),
}

# What OutSmart was told, in words: the history line after "OutSmart geïnformeerd: ".
WEBHOOK_LABELS = {
    "connection.connected": _l("verbonden met Exact Online"),
    "connection.saved": _l("administratie vastgezet"),
    "connection.settings_changed": _l("instellingen gewijzigd"),
    "connection.disconnected": _l("verbinding verbroken"),
    "connection.expired": _l("authenticatie verlopen"),
    "connection.needs_attention": _l("actie nodig in Exact Online"),
}

# Why a saved connection needs attention, in a few words (the status badge, the history); the full words are the
# error's message.
ATTENTION_LABELS = {
    "InactiveUser": _l("Exact Online-gebruiker niet actief"),
    "BlockedUser": _l("Exact Online-gebruiker geblokkeerd"),
    "BlockedCustomer": _l("klant geblokkeerd door Exact Online"),
    "LicenseExpired": _l("abonnement bij Exact Online verlopen"),
    "ApplicationScopeViolated": _l("toestemming ontbreekt in de registratie van OutSmart"),
}


def register(app):
    """Install the filters and globals the templates use."""
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["timestamp"] = _timestamp
    app.jinja_env.filters["number"] = lambda value: format_decimal(value) if value is not None else ""
    app.jinja_env.filters["percent"] = lambda rate: percent(str(rate)) if rate is not None else ""
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.filters["exact_error_message"] = exact_error_message
    app.jinja_env.filters["setting_label"] = _setting_label
    app.jinja_env.filters["setting_words"] = setting_words
    app.jinja_env.filters["attention_label"] = _attention_label
    app.jinja_env.filters["reconnect_helps"] = lambda key: getattr(exact_error(key), "reconnect_helps", False)
    app.jinja_env.globals.update(event_labels=EVENT_LABELS, session_token=session_token,
                                 webhook_labels=WEBHOOK_LABELS,
                                 exact_status=exact_status, get_locale=get_locale, steps=STEPS,
                                 app_origin=app_origin, app_host=app_host)


def _datetime(value: datetime.datetime | None) -> str:
    """A stored UTC datetime, shown in the user's time zone and format."""
    if value is None:
        return ""
    return format_datetime(value.replace(tzinfo=datetime.timezone.utc), "medium")


def _timestamp(value: float | None) -> str:
    return "" if value is None else format_datetime(datetime.datetime.fromtimestamp(value, datetime.timezone.utc), "medium")


def _attention_label(key: str | None) -> str:
    """Why a connection needs attention, in a few words."""
    label = ATTENTION_LABELS.get(attention_reason(key) or "")
    return str(label) if label is not None else ""


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
