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
        # The box posts the code it names: a save confirms that administration, not whichever one another admin
        # of the account has chosen since this page was shown (the choice is the account's, not the browser's).
        self.confirm.render_kw = {"value": str(administration.code)}

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
        # A number other than the code shown now confirms nothing: the page was shown before someone chose again.
        # A bare "y" (pages from before the box carried its code) ticks it as it always did. No administration code
        # has 19 digits; int() is never asked to read thousands of them.
        confirmed = field.raw_data[0] if field.raw_data else ""
        if confirmed.isdecimal() and (len(confirmed) > 18 or int(confirmed) != self.administration.code):
            field.data = False  # shown again unticked: the admin must confirm the administration chosen now
            raise ValidationError(_l(
                "Intussen is er een andere administratie gekozen, in een ander venster of door een andere beheerder: "
                "%(name)s (%(code)s). Er is niets opgeslagen. Controleer of dit de juiste administratie is en "
                "bevestig opnieuw.",
                name=self.administration.name, code=self.administration.code))
