"""Step 5: choose the one administration (Exact division) OutSmart will use."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired
from wtforms.validators import ValidationError

from models import Administration

# Exact's division codes are positive 32-bit integers; a bigger number cannot be one, and SQLite cannot even bind it.
MAX_DIVISION = 2 ** 31 - 1


class AdministrationForm(FlaskForm):
    """The administration choice; only administrations the consent allows and that are in use."""

    division = IntegerField(_l("Administratie"),
                            validators=[InputRequired(_l("Kies een administratie uit de lijst."))])

    def __init__(self, connection, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.administration = None

    def validate_division(self, field):
        if self.connection.is_locked:
            raise ValidationError(_l(
                "De administratie is vastgezet en kan niet meer worden gewijzigd. Wilt u een andere administratie? "
                "Verbreek dan de verbinding en maak opnieuw verbinding."))
        code = field.data
        possible = code is not None and 0 < code <= MAX_DIVISION
        administration = Administration.find(self.connection, code) if possible else None
        if administration is None:
            raise ValidationError(_l(
                "Deze administratie hoort niet bij de toegang die u in Exact Online hebt gegeven. Kies een "
                "administratie uit de lijst, of verbind opnieuw en geef toegang tot de juiste administratie."))
        if not administration.selectable:
            # Formatted now, as a plain str that Jinja escapes: the name is typed at Exact (a lazy text with data
            # would reach the page as markup).
            raise ValidationError(_(
                "Administratie %(name)s is gearchiveerd of geblokkeerd in Exact Online en kan niet worden "
                "gesynchroniseerd. Kies een andere administratie.", name=administration.name))
        self.administration = administration
