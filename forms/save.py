"""Step 7, Opslaan: the user guide's pre-save checks are this form's validation."""
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms.validators import ValidationError

from exact.hosts import COUNTRIES
from forms.rights import HasRights
from forms.rights import missing_rights_error


class SaveForm(FlaskForm):
    """Checks the country, the user's rights and the administration before anything is saved."""

    country = HiddenField()  # the country the page showed
    administration = HiddenField()  # the code of the administration the page asked to confirm
    confirm = BooleanField(_l("Ja, dit is de juiste administratie"))

    def __init__(self, connection, chosen, *args, host_for: Callable[[str], str] | None = None,
                 has_rights: HasRights | None = None, **kwargs):
        """`chosen` is the administration being saved; `host_for` and `has_rights` answer what only configuration
        and Exact know (the POST needs both, the page neither)."""
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.chosen = chosen
        self.host_for = host_for
        self.has_rights = has_rights
        self.rights_error = None
        self.country.data = self.country.data or connection.country
        if self.administration.raw_data is None:  # a page to show, not a POST to check: it asks about `chosen`
            self.administration.data = str(chosen.code)

    def validate(self, extra_validators=None):
        """Every check runs, so the page can say all that is wrong at once; rights are asked at Exact."""
        valid = super().validate(extra_validators)
        self.rights_error = missing_rights_error(self.connection.draft_settings, self.has_rights, self.chosen.name)
        return valid and not self.rights_error

    @property
    def errors(self):
        """The fields' errors, and the rights check's under "rights" (the check on the page that shows it)."""
        return {**super().errors, **({"rights": [self.rights_error]} if self.rights_error else {})}

    def validate_country(self, field):
        # The tokens belong to the country whose host issued them and answered current/Me at login; asking Me
        # again would cost an Exact call and prove nothing more. The rights asked next go to that same host.
        account = self.connection.country
        if field.data != account or self.connection.base_url != self.host_for(field.data):
            raise ValidationError(_(
                "Het gekozen land (%(chosen)s) hoort niet bij uw Exact Online-account (%(account)s). Verbreek de "
                "verbinding en verbind opnieuw met het land waar uw Exact Online-account is aangemaakt.",
                chosen=_country_name(field.data), account=_country_name(account)))

    def validate_confirm(self, field):
        if not field.data:
            raise ValidationError(_(
                "Bevestig dat %(name)s (%(code)s) de juiste administratie is. Na opslaan kunt u deze niet meer "
                "wijzigen.", name=self.chosen.name, code=self.chosen.code))
        # The page confirmed the administration it showed; another admin of the account (the choice is the
        # account's, not the browser's) may have chosen another one since.
        if self.administration.data != str(self.chosen.code):
            # Shown again unticked, for the administration chosen now: the admin must confirm that one.
            field.data = False
            self.administration.data = str(self.chosen.code)
            raise ValidationError(_(
                "Intussen is er een andere administratie gekozen, in een ander venster of door een andere beheerder: "
                "%(name)s (%(code)s). Er is niets opgeslagen. Controleer of dit de juiste administratie is en "
                "bevestig opnieuw.", name=self.chosen.name, code=self.chosen.code))


def _country_name(code: str) -> str:
    return COUNTRIES[code].name if code in COUNTRIES else code
