"""Step 7, Opslaan: the user guide's pre-save checks are this form's validation, shown as a checklist."""
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import SelectChoice
from wtforms import SelectMultipleField
from wtforms.validators import InputRequired
from wtforms.validators import ValidationError

from forms.rights import SWITCHES
from forms.country import country_name
from forms.rights import HasRights
from forms.rights import Need
from forms.rights import missing_message
from forms.rights import missing_rights
from forms.rights import needed_rights
from forms.rights import setting_words

OK = "ok"
FAILED = "failed"
OPEN = "open"  # not checked yet: the rights are asked at Exact at Opslaan, the administration needs the tick


@dataclass(frozen=True)
class CheckResult:
    """One line of the checklist: which check, how it went, and why, in words."""

    name: str  # country | rights | administration
    title: str
    outcome: str  # OK | FAILED | OPEN
    words: str


class SaveForm(FlaskForm):
    """Checks the country, the user's rights and the administration before anything is saved."""

    country = HiddenField()  # the country the page showed
    administration = HiddenField()  # the code of the administration the page asked to confirm
    confirm = BooleanField(_l("Ja, dit is de juiste administratie"))

    def __init__(self, connection, chosen, *args, host_for: Callable[[str], str] | None = None,
                 has_rights: HasRights | None = None, **kwargs):
        """`chosen` is the administration being saved; `host_for` and `has_rights` answer what only configuration
        and Exact know (the POST needs both; the page only the first, for the country's line)."""
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.chosen = chosen
        self.host_for = host_for
        self.has_rights = has_rights
        self.rights_error = None
        self.missing: list[Need] | None = None  # None: not asked at Exact yet
        self.confirmed: bool | None = None  # None: not checked yet
        self.country.data = self.country.data or connection.country
        if self.administration.raw_data is None:  # a page to show, not a POST to check: it asks about `chosen`
            self.administration.data = str(chosen.code)

    def validate(self, extra_validators=None):
        """Every check runs, so the page can say all that is wrong at once; rights are asked at Exact."""
        valid = super().validate(extra_validators)
        self.confirmed = not self.confirm.errors
        return self.check_rights() and valid

    def check_rights(self) -> bool:
        """Ask Exact for each right the chosen settings need (also without the confirmation: after switching
        settings off, the checklist is shown again with its result)."""
        self.missing = missing_rights(self.connection.draft_settings, self.has_rights)
        self.rights_error = missing_message(self.missing, self.chosen.name)
        return not self.missing

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
                chosen=country_name(field.data), account=country_name(account)))

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

    def checklist(self) -> list[CheckResult]:
        """The three checks with their result so far: the country is known without asking Exact; the rights once
        asked (at Opslaan, or after switching settings off); the administration once the box was checked."""
        connection = self.connection
        country = country_name(self.country.data)
        if self.country.errors or (self.host_for and self._country_differs()):
            country_line = CheckResult("country", _("Land"), FAILED, " ".join(self.country.errors) or _(
                "Het gekozen land (%(chosen)s) hoort niet bij uw Exact Online-account (%(account)s).",
                chosen=country, account=country_name(connection.country)))
        else:
            country_line = CheckResult("country", _("Land"), OK, _(
                "Gekozen land: %(country)s. Ingelogd als %(user)s bij Exact Online %(country)s.", country=country,
                user=connection.exact_user_email))
        needs = needed_rights(connection.draft_settings or {})
        needed = ", ".join(need.words for need in needs)
        if self.missing is None:
            rights_line = CheckResult("rights", _("Rechten"), OPEN, _(
                "Wordt bij Exact Online gevraagd als u op Opslaan klikt. Nodig voor uw instellingen: %(rights)s.",
                rights=needed) if needs else _("Uw instellingen hebben geen extra rechten nodig."))
        elif self.missing:
            rights_line = CheckResult("rights", _("Rechten"), FAILED, ngettext(
                "De Exact Online-gebruiker mist %(num)d recht dat uw instellingen nodig hebben:",
                "De Exact Online-gebruiker mist %(num)d rechten die uw instellingen nodig hebben:", len(self.missing)))
        else:
            rights_line = CheckResult("rights", _("Rechten"), OK, _(
                "De Exact Online-gebruiker heeft de rechten die uw instellingen nodig hebben: %(rights)s.",
                rights=needed) if needs else _("Uw instellingen hebben geen extra rechten nodig."))
        name = _("%(name)s (%(code)s)", name=self.chosen.name, code=self.chosen.code)
        if self.confirmed is None:
            administration_line = CheckResult("administration", _("Administratie"), OPEN, _(
                "Bevestig hieronder dat %(name)s de juiste administratie is.", name=name))
        elif self.confirmed:
            administration_line = CheckResult("administration", _("Administratie"), OK, _(
                "U hebt bevestigd dat %(name)s de juiste administratie is.", name=name))
        else:
            administration_line = CheckResult("administration", _("Administratie"), FAILED,
                                              " ".join(self.confirm.errors))
        return [country_line, rights_line, administration_line]

    def _country_differs(self) -> bool:
        return self.connection.base_url != self.host_for(self.connection.country)

    def switch_off_offer(self) -> list[str]:
        """The on/off settings that, switched off, leave no missing right (what the button offers to do)."""
        return list(dict.fromkeys(name for need in self.missing or () for name in need.switches))


class SwitchOffForm(FlaskForm):
    """"Deze instellingen uitzetten" on the checklist: on/off settings whose missing rights stop the save."""

    off = SelectMultipleField(choices=[SelectChoice(name, name) for name in SWITCHES],
                              validators=[InputRequired(_l("Kies welke instellingen uit moeten."))])

    def labels(self) -> list[str]:
        return [setting_words(name) for name in self.off.data or []]
