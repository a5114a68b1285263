"""Step 2: choose the country whose Exact Online the account lives on."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms.validators import InputRequired

from exact.hosts import COUNTRIES

# Each country in the page's language as Exact names it there. The Dutch source is the name COUNTRIES gives (the
# country's own name, which Dutch and English pages keep, as Exact's own country choice does); French and German
# pages give the French and German names (Pays-Bas, Niederlande, …).
COUNTRY_NAMES = {
    "nl": _l("Nederland"),
    "be": _l("België"),
    "de": _l("Deutschland"),
    "uk": _l("United Kingdom"),
    "us": _l("United States"),
    "es": _l("España"),
    "fr": _l("France"),
}


def country_name(code: str | None) -> str:
    """A country's name in the page's language; an unknown code as it is."""
    name = COUNTRY_NAMES.get(code or "")
    return str(name) if name is not None else (code or "")


class CountryForm(FlaskForm):
    """Country choice before "Naar inlogpagina"."""

    country = RadioField(
        _l("Land van uw Exact Online-account"),
        choices=[SelectChoice(code, COUNTRY_NAMES[code]) for code in COUNTRIES],
        validators=[InputRequired(_l("Kies het land waar uw Exact Online-account is aangemaakt."))],
    )
