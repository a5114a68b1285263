"""Verbinding testen: whether the saved connection works at Exact now. Its checks are this form's validation, asked
at Exact in turn: the token (refreshed if due), the locked administration, a scope Exact refused before, and the
rights the current settings need (forms/rights.py), these all at once."""
import datetime
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from exact.client import ExactClient
from exact.errors import ApplicationScopeViolated
from exact.errors import ExactError
from exact.errors import NoDivisionAccess
from exact.tokens import Token
from forms.rights import required_rights

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"  # not asked: an earlier check stopped the test

# Endpoints every test reads anyway (the administration) or that are no collection to count.
NOT_PROBED = {"", "system/Divisions", "users/UserHasRights", "current/Me"}


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it went, and what that means, in words."""

    name: str  # token | administration | scope | right
    title: str
    outcome: str  # OK | FAILED | SKIPPED
    words: str


class ConnectionTestForm(FlaskForm):
    """Nothing to fill in (the CSRF token only); validating asks Exact, and leaves the report and what Exact said."""

    def __init__(self, connection, *args, valid_token: Callable[[], Token] | None = None,
                 client: ExactClient | None = None, **kwargs):
        """`valid_token` gives the connection's token, refreshed at Exact when due; `client` asks Exact the rest
        (the POST needs both, the page neither)."""
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.valid_token = valid_token
        self.client = client
        self.report: list[Check] = []
        self.refusal: ExactError | None = None  # what stopped the test, if Exact refused or failed
        self.answered = False  # Exact answered every call (a right the user lacks is an answer too)

    def validate(self, extra_validators=None):
        """The CSRF token, then every check in turn; valid only when every check is ✓."""
        if not super().validate(extra_validators):
            return False
        self.report = self._run()
        return all(check.outcome == OK for check in self.report)

    @property
    def errors(self):
        """The form's own errors, and a summary of the test's under "test"."""
        summary = self.summary() if self.report and not self.passed else None
        return {**super().errors, **({"test": [summary]} if summary else {})}

    @property
    def passed(self) -> bool:
        return bool(self.report) and all(check.outcome == OK for check in self.report)

    def summary(self) -> str:
        """Why a test did not pass, in one sentence (a passed one redirects to its report)."""
        if self.refusal is not None:
            return self.refusal_words(self.refusal)
        return _("De verbinding werkt, maar de Exact Online-gebruiker mist rechten die uw instellingen nodig hebben. "
                 "Vraag de beheerder van uw Exact Online om ze toe te kennen, of zet de instellingen die ze nodig "
                 "hebben uit.")

    def refusal_words(self, error: ExactError) -> str:
        """What Exact's refusal or failure means for this saved connection."""
        if isinstance(error, NoDivisionAccess):
            return _("Exact Online geeft de verbonden gebruiker geen toegang meer tot administratie %(name)s "
                     "(%(code)s). Geef de gebruiker in Exact Online weer toegang, of verbind opnieuw en vink deze "
                     "administratie aan.", name=self.connection.division_name, code=self.connection.division)
        return error.message(get_locale().language)

    def _run(self) -> list[Check]:
        """Every check in turn; after a refusal or failure the rest are not asked (they would say no more)."""
        connection = self.connection
        steps = [("token", _("Toegang tot Exact Online"), self._token),
                 ("administration", _("Administratie %(name)s (%(code)s)", name=connection.division_name,
                                      code=connection.division), self._administration)]
        refused = _refused_endpoint(connection.attention_reason)
        if refused not in NOT_PROBED:
            steps.append(("scope", _("Toestemming die eerder ontbrak"), lambda: self._scope(refused)))
        rights = required_rights(connection.settings or {})
        asked: list = []  # the rights' outcomes, asked at once when the first right's turn comes

        def right(index: int) -> tuple[str, str]:
            if not asked:
                division = connection.division
                asked.extend(self.client.together([self.client.plan_has_right(division, endpoint, action)
                                                   for endpoint, action, _words in rights]))
            if asked[index].error is not None:
                raise asked[index].error  # the first in the report's order is the one reported; the rest "Niet getest"
            return self._right(asked[index].value)

        steps.extend(("right", words, lambda index=index: right(index)) for index, (_e, _a, words) in enumerate(rights))
        report = []
        for name, title, ask in steps:
            if self.refusal is not None:
                report.append(Check(name, title, SKIPPED, _("Niet getest: Exact Online gaf hierboven al een fout.")))
                continue
            try:
                outcome, words = ask()
            except ExactError as error:
                self.refusal = error
                outcome, words = FAILED, self.refusal_words(error)
            report.append(Check(name, title, outcome, words))
        if not rights and self.refusal is None:
            report.append(Check("right", _("Rechten"), OK, _("Uw instellingen hebben geen extra rechten nodig.")))
        self.answered = self.refusal is None
        return report

    def _token(self) -> tuple[str, str]:
        before = self.connection.token_expires_at
        token = self.valid_token()
        if token.expires_at != before:
            return OK, _("Exact Online accepteert de verbinding. Het toegangstoken is zojuist vernieuwd en geldig tot "
                         "%(until)s.", until=_moment(token.expires_at))
        return OK, _("Exact Online accepteert de verbinding. Het toegangstoken is geldig tot %(until)s.",
                     until=_moment(token.expires_at))

    def _administration(self) -> tuple[str, str]:
        division = self.connection.division
        rows = self.client.list(division, "system/Divisions", select=["Code", "Status", "BlockingStatus"],
                                filter=f"Code eq {division}")
        row = next((row for row in rows if row.get("Code") == division), None)
        if row is None:
            return FAILED, _("Exact Online geeft deze administratie niet meer: de verbonden gebruiker heeft er geen "
                             "toegang meer toe, of ze is bij Exact Online niet aangevinkt. Verbind opnieuw en vink "
                             "deze administratie aan.")
        if row.get("BlockingStatus"):
            return FAILED, _("De administratie is in Exact Online tijdelijk geblokkeerd, bijvoorbeeld door onderhoud. "
                             "Test de verbinding later opnieuw.")
        if row.get("Status") != 1:
            return FAILED, _("De administratie is in Exact Online gearchiveerd of niet actief, daarom kan OutSmart er "
                             "niet mee synchroniseren. Zet haar in Exact Online weer actief, of verbreek de verbinding "
                             "en kies een andere.")
        return OK, _("Gelezen bij Exact Online: de administratie is actief.")

    def _scope(self, endpoint: str) -> tuple[str, str]:
        self.client.count(self.connection.division, endpoint)  # refused again: ApplicationScopeViolated
        return OK, _("Exact Online staat OutSmart nu toe wat het eerder weigerde.")

    def _right(self, allowed: bool) -> tuple[str, str]:
        if allowed:
            return OK, _("De Exact Online-gebruiker heeft dit recht.")
        return FAILED, _("De Exact Online-gebruiker mist dit recht in administratie %(name)s. Vraag de beheerder van "
                         "uw Exact Online om het toe te kennen, of zet de instellingen die het nodig hebben uit.",
                         name=self.connection.division_name)


def _moment(epoch: float | None) -> str:
    """A moment as the pages show it, in the user's language and time zone."""
    if epoch is None:
        return ""
    return format_datetime(datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc), "medium")


def _refused_endpoint(reason: str | None) -> str:
    """The endpoint a missing app scope was found on (the key ApplicationScopeViolated:<endpoint>), else ""."""
    name, _separator, endpoint = (reason or "").partition(":")
    return endpoint if name == ApplicationScopeViolated.__name__ else ""


def healthy_report(connection) -> list[Check]:
    """The report of a test that has just passed, said again from the saved connection (after the POST's redirect)."""
    report = [
        Check("token", _("Toegang tot Exact Online"), OK,
              _("Exact Online accepteert de verbinding. Het toegangstoken is geldig tot %(until)s.",
                until=_moment(connection.token_expires_at))),
        Check("administration", _("Administratie %(name)s (%(code)s)", name=connection.division_name,
                                  code=connection.division),
              OK, _("Gelezen bij Exact Online: de administratie is actief.")),
    ]
    rights = required_rights(connection.settings or {})
    report.extend(Check("right", words, OK, _("De Exact Online-gebruiker heeft dit recht."))
                  for _endpoint, _action, words in rights)
    if not rights:
        report.append(Check("right", _("Rechten"), OK, _("Uw instellingen hebben geen extra rechten nodig.")))
    return report
