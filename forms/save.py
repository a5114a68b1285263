"""Step 7: the pre-save checks of the user guide, as validation of the Opslaan form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms.validators import ValidationError


class SaveForm(FlaskForm):
    """Checks the country, the user's rights and the administration before anything is saved."""

    country = HiddenField()
    rights = HiddenField()
    confirm = BooleanField(_l("Ja, dit is de juiste administratie"))

    def __init__(self, connection, administration, checks, *args, **kwargs):
        """`checks` answers the questions only Exact can: country_error(country), missing_rights()."""
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.administration = administration
        self.checks = checks
        if not self.country.data:
            self.country.data = connection.country

    def validate_country(self, field):
        error = self.checks.country_error(field.data)
        if error:
            raise ValidationError(error)

    def validate_rights(self, field):
        missing = self.checks.missing_rights()
        if missing:
            raise ValidationError(_l(
                "De Exact Online-gebruiker mist deze rechten in administratie %(name)s: %(rights)s. Vraag de "
                "beheerder van uw Exact Online om deze rechten toe te kennen, of zet de instellingen die ze nodig "
                "hebben uit.", name=self.administration.name, rights=", ".join(missing)))

    def validate_confirm(self, field):
        if not field.data:
            raise ValidationError(_l(
                "Bevestig dat %(name)s (%(code)s) de juiste administratie is. Na opslaan kunt u deze niet meer "
                "wijzigen.", name=self.administration.name, code=self.administration.code))
