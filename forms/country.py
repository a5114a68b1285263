"""Step 2: choose the country whose Exact Online the account lives on."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms.validators import InputRequired

from exact.hosts import COUNTRIES


class CountryForm(FlaskForm):
    """Country choice before "Naar inlogpagina"."""

    country = RadioField(
        _l("Land van uw Exact Online-account"),
        choices=[SelectChoice(code, country.name) for code, country in COUNTRIES.items()],
        validators=[InputRequired(_l("Kies het land waar uw Exact Online-account is aangemaakt."))],
    )
