"""Typed Exact Online errors, each with a plain-words message in Dutch, English, French and German."""
from typing import Literal

Scope = Literal["minutely", "daily"]


class ExactError(Exception):
    """Something went wrong talking to Exact Online."""

    # Templates are formatted with the instance's attributes; `detail` is never shown to users.
    messages: dict[str, str] = {
        "nl": "Er ging iets mis bij het contact met Exact Online. Probeer het later opnieuw; "
              "blijft het misgaan, neem dan contact op met support.",
        "en": "Something went wrong while contacting Exact Online. Please try again later; "
              "if it keeps happening, contact support.",
        "fr": "Un problème est survenu lors de la communication avec Exact Online. Réessayez plus tard ; si le "
              "problème persiste, contactez le support.",
        "de": "Bei der Verbindung mit Exact Online ist etwas schiefgegangen. Bitte versuchen Sie es später erneut; "
              "tritt der Fehler weiter auf, wenden Sie sich an den Support.",
    }

    def __init__(self, detail: str = ""):
        super().__init__(detail)
        self.detail = detail  # for logs: status, Reason header, Exact's error code; never secrets

    def message(self, lang: str = "nl") -> str:
        """The user-facing message in `lang` ("nl", "en", "fr" or "de"; anything else gets Dutch)."""
        templates = self._templates()
        template = templates.get(lang[:2].lower(), templates["nl"])
        return template.format_map(vars(self))

    def _templates(self) -> dict[str, str]:
        return self.messages

    @property
    def key(self) -> str:
        """How the failure is remembered (on a connection, a login attempt): its class, and its scope or division."""
        extra = getattr(self, "scope", None) or getattr(self, "division", None)
        return type(self).__name__ if extra is None else f"{type(self).__name__}:{extra}"

    def __str__(self) -> str:
        return f"{type(self).__name__}: {self.detail or self.message('en')}"


class ReauthorizationRequired(ExactError):
    """The grant is gone (expired, superseded or revoked): the user must connect again."""

    messages = {
        "nl": "De koppeling met Exact Online is verlopen of ingetrokken. Klik op 'Verbind opnieuw' "
              "en log in bij Exact Online om de koppeling te herstellen.",
        "en": "The connection to Exact Online has expired or was revoked. Click 'Reconnect' "
              "and sign in to Exact Online to restore it.",
        "fr": "La connexion avec Exact Online a expiré ou a été révoquée. Cliquez sur « Reconnecter » et "
              "connectez-vous à Exact Online pour la rétablir.",
        "de": "Die Verbindung mit Exact Online ist abgelaufen oder wurde widerrufen. Klicken Sie auf „Erneut "
              "verbinden“ und melden Sie sich bei Exact Online an, um sie wiederherzustellen.",
    }


class TooEarlyToRefresh(ExactError):
    """Exact refuses a new access token less than 570 s after the previous one."""

    messages = {
        "nl": "Exact Online laat de verbinding nog niet vernieuwen. Probeer het over een minuut opnieuw.",
        "en": "Exact Online does not allow the connection to be renewed yet. Please try again in a minute.",
        "fr": "Exact Online ne permet pas encore de renouveler la connexion. Réessayez dans une minute.",
        "de": "Exact Online lässt die Verbindung noch nicht erneuern. Bitte versuchen Sie es in einer Minute erneut.",
    }

    def __init__(self, retry_at: float, detail: str = ""):
        super().__init__(detail)
        self.retry_at = retry_at


class RateLimited(ExactError):
    """Exact's per-minute or per-day call limit for this division is used up."""

    scoped_messages: dict[Scope, dict[str, str]] = {
        "minutely": {
            "nl": "Exact Online staat maar een beperkt aantal verzoeken per minuut toe en die grens is bereikt. "
                  "Probeer het over een minuut opnieuw.",
            "en": "Exact Online allows only a limited number of requests per minute and that limit has been "
                  "reached. Please try again in a minute.",
            "fr": "Exact Online n’accepte qu’un nombre limité de requêtes par minute, et cette limite est atteinte. "
                  "Réessayez dans une minute.",
            "de": "Exact Online erlaubt nur eine begrenzte Zahl von Anfragen pro Minute, und diese Grenze ist "
                  "erreicht. Bitte versuchen Sie es in einer Minute erneut.",
        },
        "daily": {
            "nl": "Het maximum aantal verzoeken per dag aan Exact Online is voor deze administratie bereikt. "
                  "Probeer het morgen opnieuw.",
            "en": "The daily maximum number of requests to Exact Online has been reached for this administration. "
                  "Please try again tomorrow.",
            "fr": "Le nombre maximal de requêtes par jour vers Exact Online est atteint pour cette administration. "
                  "Réessayez demain.",
            "de": "Die maximale Zahl von Anfragen pro Tag an Exact Online ist für diese Administration erreicht. "
                  "Bitte versuchen Sie es morgen erneut.",
        },
    }

    def __init__(self, reset_at: float, scope: Scope, detail: str = ""):
        super().__init__(detail)
        self.reset_at = reset_at  # epoch seconds
        self.scope = scope

    def _templates(self) -> dict[str, str]:
        return self.scoped_messages[self.scope]


class NoDivisionAccess(ExactError):
    """The user may not use this division, or did not tick it on the consent screen."""

    messages = {
        "nl": "U hebt geen toegang tot administratie {division} in Exact Online, of deze administratie is niet "
              "aangevinkt toen u toestemming gaf. Kies een andere administratie, of klik op 'Verbind opnieuw' "
              "en vink deze administratie aan.",
        "en": "You have no access to administration {division} in Exact Online, or it was not ticked when you "
              "gave permission. Choose another administration, or click 'Reconnect' and tick this administration.",
        "fr": "Vous n’avez pas accès à l’administration {division} dans Exact Online, ou elle n’a pas été cochée "
              "lorsque vous avez donné votre autorisation. Choisissez une autre administration, ou cliquez sur "
              "« Reconnecter » et cochez cette administration.",
        "de": "Sie haben in Exact Online keinen Zugriff auf die Administration {division}, oder sie war nicht "
              "angehakt, als Sie Ihre Zustimmung gegeben haben. Wählen Sie eine andere Administration, oder klicken "
              "Sie auf „Erneut verbinden“ und haken Sie diese Administration an.",
    }

    def __init__(self, division: int, detail: str = ""):
        super().__init__(detail)
        self.division = division


class DivisionBlocked(ExactError):
    """Exact has blocked the division for now (maintenance, conversion, backup)."""

    messages = {
        "nl": "Administratie {division} is in Exact Online tijdelijk geblokkeerd, bijvoorbeeld door onderhoud. "
              "Probeer het later opnieuw; blijft dit zo, neem dan contact op met Exact Online.",
        "en": "Company {division} is temporarily blocked in Exact Online, for example for maintenance. "
              "Please try again later; if it stays blocked, contact Exact Online.",
        "fr": "L’administration {division} est temporairement bloquée dans Exact Online, par exemple pour "
              "maintenance. Réessayez plus tard ; si elle reste bloquée, contactez Exact Online.",
        "de": "Die Administration {division} ist in Exact Online vorübergehend gesperrt, zum Beispiel wegen "
              "Wartungsarbeiten. Bitte versuchen Sie es später erneut; bleibt sie gesperrt, wenden Sie sich an Exact "
              "Online.",
    }

    def __init__(self, division: int, detail: str = ""):
        super().__init__(detail)
        self.division = division


class ExactUnavailable(ExactError):
    """Exact did not answer, answered with a server error, or sent something unreadable."""

    messages = {
        "nl": "Exact Online is op dit moment niet bereikbaar of gaf een onverwacht antwoord. "
              "Probeer het over een paar minuten opnieuw.",
        "en": "Exact Online cannot be reached right now or gave an unexpected answer. "
              "Please try again in a few minutes.",
        "fr": "Exact Online est injoignable pour le moment ou a donné une réponse inattendue. Réessayez dans "
              "quelques minutes.",
        "de": "Exact Online ist im Moment nicht erreichbar oder hat unerwartet geantwortet. Bitte versuchen Sie es "
              "in ein paar Minuten erneut.",
    }


class AccessDenied(ExactError):
    """The user declined on Exact's consent page."""

    messages = {
        "nl": "U hebt bij Exact Online geen toestemming gegeven, dus de koppeling is niet gemaakt. "
              "Wilt u toch koppelen? Klik dan opnieuw op 'Verbinden' en geef toestemming.",
        "en": "You did not give permission at Exact Online, so no connection was made. "
              "Still want to connect? Click 'Connect' again and give permission.",
        "fr": "Vous n’avez pas donné votre autorisation dans Exact Online, la connexion n’a donc pas été établie. "
              "Vous souhaitez tout de même connecter ? Cliquez à nouveau sur « Connecter à Exact Online » et donnez "
              "votre autorisation.",
        "de": "Sie haben in Exact Online keine Zustimmung gegeben, deshalb wurde keine Verbindung hergestellt. "
              "Möchten Sie doch verbinden? Klicken Sie erneut auf „Mit Exact Online verbinden“ und geben Sie Ihre "
              "Zustimmung.",
    }


class ConfigurationError(ExactError):
    """Exact does not recognise this app (client id, secret or address): only support can fix it."""

    messages = {
        "nl": "De koppeling met Exact Online is bij ons niet goed ingesteld, zodat Exact deze app niet herkent. "
              "U kunt dit niet zelf oplossen: neem contact op met support.",
        "en": "The link with Exact Online is not set up correctly on our side, so Exact does not recognise "
              "this app. You cannot fix this yourself: please contact support.",
        "fr": "La liaison avec Exact Online n’est pas correctement configurée de notre côté, si bien qu’Exact ne "
              "reconnaît pas cette application. Vous ne pouvez pas résoudre ce problème vous-même : contactez le "
              "support.",
        "de": "Die Anbindung an Exact Online ist bei uns nicht richtig eingerichtet, deshalb erkennt Exact diese App "
              "nicht. Sie können das nicht selbst beheben: Bitte wenden Sie sich an den Support.",
    }


class ExactRequestError(ExactError):
    """Exact rejected a request for another reason; its own text is kept for the logs."""

    messages = {
        "nl": "Exact Online heeft dit verzoek geweigerd. Controleer of uw gebruiker in Exact Online de benodigde "
              "rechten heeft; lukt het dan nog niet, neem dan contact op met support.",
        "en": "Exact Online refused this request. Check that your Exact Online user has the required rights; "
              "if it still fails, contact support.",
        "fr": "Exact Online a refusé cette demande. Vérifiez que votre utilisateur Exact Online dispose des droits "
              "nécessaires ; si cela ne fonctionne toujours pas, contactez le support.",
        "de": "Exact Online hat diese Anfrage abgelehnt. Prüfen Sie, ob Ihr Exact Online-Benutzer die nötigen Rechte "
              "hat; klappt es dann immer noch nicht, wenden Sie sich an den Support.",
    }

    def __init__(self, detail: str = "", exact_message: str = ""):
        super().__init__(detail)
        self.exact_message = exact_message  # Exact's error.message.value: for logs, not for users


class CurrentDivisionNotGranted(ExactError):
    """At the login, Exact refused to list the consented administrations: its list is asked in the user's current
    administration, which the consent left out (403 NoDivisionAccess there)."""

    messages = {
        "nl": "U hebt bij Exact Online uw huidige administratie ({division}) niet aangevinkt. OutSmart leest via die "
              "administratie welke administraties u hebt aangevinkt, dus zonder die lukt het inloggen niet. Log "
              "opnieuw in en vink bij Exact Online ook uw huidige administratie aan; daarna kiest u zelf welke "
              "administratie OutSmart gebruikt.",
        "en": "At Exact Online you did not tick your current administration ({division}). OutSmart reads through it "
              "which administrations you allowed, so the login cannot finish without it. Sign in again and tick your "
              "current administration at Exact Online as well; afterwards you choose which administration OutSmart "
              "uses.",
        "fr": "Dans Exact Online, vous n’avez pas coché votre administration actuelle ({division}). OutSmart lit par "
              "elle les administrations que vous avez autorisées, la connexion ne peut donc pas aboutir sans elle. "
              "Connectez-vous à nouveau et cochez aussi votre administration actuelle dans Exact Online ; vous "
              "choisirez ensuite vous-même l’administration qu’OutSmart utilise.",
        "de": "Sie haben in Exact Online Ihre aktuelle Administration ({division}) nicht angehakt. OutSmart liest "
              "über sie, welche Administrationen Sie freigegeben haben, deshalb kann die Anmeldung ohne sie nicht "
              "abgeschlossen werden. Melden Sie sich erneut an und haken Sie in Exact Online auch Ihre aktuelle "
              "Administration an; danach wählen Sie selbst, welche Administration OutSmart verwendet.",
    }

    def __init__(self, division: int, detail: str = ""):
        super().__init__(detail)
        self.division = division


class AttentionNeeded(ExactError):
    """Exact refuses the connection (a 403 with a reason) until someone puts it right: the admin, Exact or OutSmart's
    support. Trying again changes nothing, so a saved connection stops synchronising and says why."""

    # The admin can put it right by connecting again (as another Exact user); else at Exact, or only support can.
    reconnect_helps = False


class InactiveUser(AttentionNeeded):
    """403 Reason: InactiveUser: the connected Exact user is no longer active."""

    reconnect_helps = True
    messages = {
        "nl": "De Exact Online-gebruiker waarmee OutSmart verbonden is, is in Exact Online niet meer actief. Verbind "
              "opnieuw met een actieve Exact Online-gebruiker; tot dan synchroniseert OutSmart niet.",
        "en": "The Exact Online user OutSmart is connected with is no longer active in Exact Online. Reconnect with "
              "an active Exact Online user; until then OutSmart does not synchronise.",
        "fr": "L’utilisateur Exact Online avec lequel OutSmart est connecté n’est plus actif dans Exact Online. "
              "Reconnectez avec un utilisateur Exact Online actif ; d’ici là, OutSmart ne synchronise pas.",
        "de": "Der Exact Online-Benutzer, mit dem OutSmart verbunden ist, ist in Exact Online nicht mehr aktiv. "
              "Verbinden Sie erneut mit einem aktiven Exact Online-Benutzer; bis dahin synchronisiert OutSmart "
              "nicht.",
    }


class BlockedUser(AttentionNeeded):
    """403 Reason: BlockedUser: the connected Exact user is blocked."""

    reconnect_helps = True
    messages = {
        "nl": "De Exact Online-gebruiker waarmee OutSmart verbonden is, is in Exact Online geblokkeerd. Verbind "
              "opnieuw met een actieve Exact Online-gebruiker; tot dan synchroniseert OutSmart niet.",
        "en": "The Exact Online user OutSmart is connected with is blocked in Exact Online. Reconnect with an active "
              "Exact Online user; until then OutSmart does not synchronise.",
        "fr": "L’utilisateur Exact Online avec lequel OutSmart est connecté est bloqué dans Exact Online. "
              "Reconnectez avec un utilisateur Exact Online actif ; d’ici là, OutSmart ne synchronise pas.",
        "de": "Der Exact Online-Benutzer, mit dem OutSmart verbunden ist, ist in Exact Online gesperrt. Verbinden "
              "Sie erneut mit einem aktiven Exact Online-Benutzer; bis dahin synchronisiert OutSmart nicht.",
    }


class BlockedCustomer(AttentionNeeded):
    """403 Reason: BlockedCustomer: Exact has blocked the customer that holds the licence of the administration."""

    messages = {
        "nl": "Exact Online heeft uw bedrijf als klant geblokkeerd, daarom weigert Exact Online elk verzoek. Neem "
              "contact op met Exact Online om de blokkade op te heffen en klik daarna op 'Verbinding testen'; tot "
              "dan synchroniseert OutSmart niet.",
        "en": "Exact Online has blocked your company as a customer, so Exact Online refuses every request. Contact "
              "Exact Online to lift the block, then click 'Test connection'; until then OutSmart does not "
              "synchronise.",
        "fr": "Exact Online a bloqué votre entreprise en tant que client, c’est pourquoi Exact Online refuse toute "
              "demande. Contactez Exact Online pour lever le blocage, puis cliquez sur « Tester la connexion » ; "
              "d’ici là, OutSmart ne synchronise pas.",
        "de": "Exact Online hat Ihr Unternehmen als Kunden gesperrt, deshalb lehnt Exact Online jede Anfrage ab. "
              "Wenden Sie sich an Exact Online, um die Sperre aufheben zu lassen, und klicken Sie danach auf "
              "„Verbindung testen“; bis dahin synchronisiert OutSmart nicht.",
    }


class LicenseExpired(AttentionNeeded):
    """403 Reason: LicenseExpired: the Exact Online licence (subscription) of the administration has expired."""

    messages = {
        "nl": "Het abonnement (de licentie) van uw Exact Online is verlopen, daarom weigert Exact Online elk verzoek. "
              "Verleng het abonnement bij Exact Online en klik daarna op 'Verbinding testen'; tot dan synchroniseert "
              "OutSmart niet.",
        "en": "Your Exact Online subscription (licence) has expired, so Exact Online refuses every request. Renew "
              "the subscription at Exact Online, then click 'Test connection'; until then OutSmart does not "
              "synchronise.",
        "fr": "Votre abonnement (licence) Exact Online a expiré, c’est pourquoi Exact Online refuse toute demande. "
              "Renouvelez l’abonnement auprès d’Exact Online, puis cliquez sur « Tester la connexion » ; d’ici là, "
              "OutSmart ne synchronise pas.",
        "de": "Ihr Exact Online-Abonnement (die Lizenz) ist abgelaufen, deshalb lehnt Exact Online jede Anfrage ab. "
              "Verlängern Sie das Abonnement bei Exact Online und klicken Sie danach auf „Verbindung testen“; bis "
              "dahin synchronisiert OutSmart nicht.",
    }


class ApplicationScopeViolated(AttentionNeeded):
    """403 "Forbidden - Application Scope Violated": OutSmart's app registration at Exact lacks a scope the endpoint
    needs (app scopes, mandatory since 2024). Not the admin's doing; only OutSmart can add it."""

    messages = {
        "nl": "Exact Online weigert een verzoek omdat de registratie van OutSmart bij Exact Online een toestemming "
              "(scope) mist. Dit is niet iets wat u zelf kunt oplossen: neem contact op met de support van OutSmart. "
              "Tot dan synchroniseert OutSmart niet.",
        "en": "Exact Online refuses a request because OutSmart's registration at Exact Online lacks a permission "
              "(scope). This is not something you can fix: contact OutSmart support. Until then OutSmart does not "
              "synchronise.",
        "fr": "Exact Online refuse une demande parce qu’il manque une autorisation (scope) dans l’enregistrement "
              "d’OutSmart auprès d’Exact Online. Vous ne pouvez pas résoudre ce problème vous-même : contactez le "
              "support d’OutSmart. D’ici là, OutSmart ne synchronise pas.",
        "de": "Exact Online lehnt eine Anfrage ab, weil der Registrierung von OutSmart bei Exact Online eine "
              "Berechtigung (Scope) fehlt. Das können Sie nicht selbst beheben: Bitte wenden Sie sich an den Support "
              "von OutSmart. Bis dahin synchronisiert OutSmart nicht.",
    }

    def __init__(self, endpoint: str = "", detail: str = ""):
        super().__init__(detail)
        self.endpoint = endpoint  # the refused endpoint (e.g. financial/Journals): "Verbinding testen" asks it again

    @property
    def key(self) -> str:
        return f"{type(self).__name__}:{self.endpoint}" if self.endpoint else type(self).__name__


# Exact's 403 Reason header values that need attention, and the text of the error body for a missing app scope.
ATTENTION_REASONS: dict[str, type[AttentionNeeded]] = {
    "InactiveUser": InactiveUser,
    "BlockedUser": BlockedUser,
    "BlockedCustomer": BlockedCustomer,
    "LicenseExpired": LicenseExpired,
}
SCOPE_VIOLATED = "application scope violated"


def http_detail(method: str, path: str, status: int, reason: str | None = None,
                error: str | None = None, description: str | None = None) -> str:
    """A log line describing a failed call; URL query strings are left out on purpose."""
    parts = [f"{method} {path} -> HTTP {status}"]
    if reason:
        parts.append(f"Reason: {reason}")
    if error:
        parts.append(f"error: {error}")
    if description:
        parts.append(f"description: {description}")
    return "; ".join(parts)


# Waits that keep a healthy connection healthy (issue 15): Exact's rules on tokens and errors, kept by us before Exact
# has to enforce them. Each says when it ends (`retry_at`, epoch seconds); the connection's state does not change.

class AccessTokenRefused(ExactError):
    """Exact answered 401 to a token we thought valid, and a new one cannot be had before `retry_at` (570 s after the
    last one). The grant may well be alive: only the token endpoint can say it is dead."""

    messages = {
        "nl": "Exact Online weigerde zojuist de toegang van OutSmart. De koppeling zelf is in orde en u hoeft niet "
              "opnieuw te verbinden, maar Exact laat de toegang pas na een korte wachttijd vernieuwen. Probeer het "
              "over een paar minuten opnieuw.",
        "en": "Exact Online has just refused OutSmart's access. The connection itself is fine and you do not need to "
              "reconnect, but Exact lets the access be renewed only after a short wait. Please try again in a few "
              "minutes.",
        "fr": "Exact Online vient de refuser l’accès d’OutSmart. La connexion elle-même est en ordre et vous n’avez "
              "pas besoin de reconnecter, mais Exact ne permet de renouveler l’accès qu’après un court délai. "
              "Réessayez dans quelques minutes.",
        "de": "Exact Online hat den Zugriff von OutSmart gerade abgelehnt. Die Verbindung selbst ist in Ordnung und "
              "Sie müssen nicht erneut verbinden, aber Exact lässt den Zugriff erst nach einer kurzen Wartezeit "
              "erneuern. Bitte versuchen Sie es in ein paar Minuten erneut.",
    }

    def __init__(self, retry_at: float = 0.0, detail: str = ""):
        super().__init__(detail)
        self.retry_at = retry_at


class TokenBudgetSpent(ExactError):
    """Exact's token calls for this app and Exact user are used up for the UTC day: none until `retry_at` (00:00 UTC)."""

    messages = {
        "nl": "Exact Online laat de toegang per Exact Online-gebruiker maar {limit} keer per dag vernieuwen, en dat "
              "aantal is vandaag bereikt. De koppeling blijft in orde en gaat morgen vanzelf verder; u hoeft niets te "
              "doen.",
        "en": "Exact Online lets the access be renewed only {limit} times a day per Exact Online user, and that "
              "number has been reached today. The connection stays as it is and carries on by itself tomorrow; you "
              "do not need to do anything.",
        "fr": "Exact Online ne permet de renouveler l’accès que {limit} fois par jour et par utilisateur Exact "
              "Online, et ce nombre est atteint aujourd’hui. La connexion reste en ordre et reprendra d’elle-même "
              "demain ; vous n’avez rien à faire.",
        "de": "Exact Online lässt den Zugriff pro Exact Online-Benutzer nur {limit}-mal am Tag erneuern, und diese "
              "Zahl ist heute erreicht. Die Verbindung bleibt in Ordnung und läuft morgen von selbst weiter; Sie "
              "müssen nichts tun.",
    }

    def __init__(self, retry_at: float = 0.0, limit: int = 200, detail: str = ""):
        super().__init__(detail)
        self.retry_at = retry_at
        self.limit = limit


class ErrorLimitReached(ExactError):
    """Our calls to one Exact endpoint failed so often this hour that one more could get the app blocked at Exact
    (more than 10 errors per app, user, administration, endpoint and hour): none until `retry_at`."""

    messages = {
        "nl": "Exact Online gaf het afgelopen uur te vaak een foutmelding op dit onderdeel. Om te voorkomen dat Exact "
              "de koppeling blokkeert, vraagt OutSmart hier tot het volgende hele uur niets meer. Probeer het daarna "
              "opnieuw; blijft het misgaan, neem dan contact op met support.",
        "en": "Exact Online gave an error for this part too often in the past hour. To keep Exact from blocking the "
              "connection, OutSmart asks nothing more here until the next full hour. Please try again after that; if "
              "it keeps happening, contact support.",
        "fr": "Exact Online a renvoyé trop souvent une erreur pour cette partie au cours de la dernière heure. Pour "
              "éviter qu’Exact bloque la connexion, OutSmart ne demande plus rien ici jusqu’à l’heure pleine "
              "suivante. Réessayez ensuite ; si le problème persiste, contactez le support.",
        "de": "Exact Online hat in der letzten Stunde zu oft einen Fehler zu diesem Teil gemeldet. Damit Exact die "
              "Verbindung nicht sperrt, fragt OutSmart hier bis zur nächsten vollen Stunde nichts mehr ab. Bitte "
              "versuchen Sie es danach erneut; tritt der Fehler weiter auf, wenden Sie sich an den Support.",
    }

    def __init__(self, retry_at: float = 0.0, endpoint: str = "", detail: str = ""):
        super().__init__(detail)
        self.retry_at = retry_at
        self.endpoint = endpoint
