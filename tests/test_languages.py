"""Dutch, English, French and German: the language comes from OutSmart's entry, else the browser; every text, error,
country, date, number and percentage follows it."""
import datetime
import functools
import html
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages import frontend as babel_frontend
from babel.messages.pofile import read_po
from flask import render_template_string

from exact.errors import ExactError
from exact.errors import ExactUnavailable
from exact.errors import ReauthorizationRequired
from models import Connection
from simhelpers import JAN
from simhelpers import JULIEN
from simhelpers import MAX
from views.embed import make_entry_token
from views.languages import LANGUAGES
from wizard_actions import HTMX
from wizard_actions import WizardActions

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
TRANSLATED = ("en", "fr", "de")  # Dutch is the source: the texts in the code
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


@functools.cache
def _catalogue(language: str = "en"):
    with open(po_path(language), "rb") as handle:
        return read_po(handle)


def translation(language: str, dutch: str) -> str:
    """The catalogue's text for a Dutch msgid (singular)."""
    string = _catalogue(language)[dutch].string
    return string[0] if isinstance(string, tuple) else string


@functools.cache
def _dutch_fragments(language: str) -> frozenset:
    """Dutch texts of the catalogue that pages in `language` must not show: the literal parts of every msgid whose
    translation differs, leaving out very short ones (a word like "Land" is no evidence)."""
    fragments = set()
    translated = " ".join(string for message in _catalogue(language) if message.id
                          for string in (message.string if isinstance(message.string, tuple) else (message.string,)))
    for message in _catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for dutch in ids:
            if dutch in strings:
                continue
            fragments.update(part.strip(" .,:;()–") for part in PLACEHOLDER.split(dutch))
    # A Dutch word that is also a word of the language's own texts ("Rechten" in "mit den Rechten") is no evidence.
    return frozenset(fragment for fragment in fragments if len(fragment) >= 5
                     and not re.search(rf"(?<!\w){re.escape(fragment)}(?!\w)", translated))


DUTCH = _dutch_fragments("en")


def visible_text(page: str) -> str:
    """What a user sees or hears: text and labelling attributes, without markup, scripts or the JSON config."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<meta[^>]*>", " ", page)
    labels = " ".join(re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + labels)


def assert_language(response, language, *texts, status=200):
    """The page is in `language`: its `lang`, the texts expected, and not one Dutch text the catalogue translates."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    text = visible_text(page)
    for expected in texts:
        assert expected in text, f"{expected!r} missing on {response.request.path}"
    fragments = _dutch_fragments(language) if language != "nl" else ()
    dutch = sorted(fragment for fragment in fragments
                   if re.search(rf"(?<!\w){re.escape(fragment)}(?!\w)", text))
    assert not dutch, f"Dutch on {response.request.path} ({language}): {dutch}"
    if "<html" in page:
        assert f'<html lang="{language}">' in page
    return page


def assert_english(response, *texts, status=200):
    return assert_language(response, "en", *texts, status=status)


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of that name, which pushes one request context for the whole test: under it
    every test-client request shares one `g`, where Flask-Babel caches the locale, so one request's language would
    leak into the next. Here each request gets its own, as in production."""


def enter(client, language, account="acme"):
    """Enter from OutSmart as its server signs the entry, in `language` (account acme replaces the demo account)."""
    with client.application.app_context():
        token = make_entry_token(account, "Anna de Boer", language, "https://app.out-smart.com")
    return client.get(f"/embed?token={token}")


@pytest.fixture
def english(app, client):
    """A client that entered from OutSmart in English (account acme, replacing the test app's demo account)."""
    assert_english(enter(client, "en"), "Software integrations", "Open settings", "Not connected")
    return client


@pytest.fixture
def english_wizard(english, sim):
    return WizardActions(english, sim)


# --- the catalogues -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def texts_in_code(tmp_path_factory):
    """Every msgid in the code, extracted as the README says."""
    pot = tmp_path_factory.mktemp("extract") / "messages.pot"
    cli = babel_frontend.CommandLineInterface()
    cli.run([sys.argv[0], "-q", "extract", "-F", str(TRANSLATIONS / "babel.cfg"), "-o", str(pot),
             str(TRANSLATIONS.parent)])
    with open(pot, "rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def test_each_language_offered_has_a_catalogue_and_each_catalogue_is_offered():
    assert set(LANGUAGES) == {"nl", *TRANSLATED}
    assert {path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")} == set(TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_in_the_code_has_a_translation(texts_in_code, language):
    """Every msgid must be in each catalogue, translated, not fuzzy, with the same placeholders."""
    catalogue = _catalogue(language)
    translated = {message.id for message in catalogue if message.id}
    assert texts_in_code - translated == set(), f"run pybabel update and translate these in {po_path(language)}"
    assert len(texts_in_code) > 200
    for message in catalogue:
        if message.id:
            assert not message.fuzzy, message.id
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings), f"no {language} for {message.id!r}"
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            for dutch, translated_text in zip(ids, strings):
                assert set(PLACEHOLDER.findall(dutch)) == set(PLACEHOLDER.findall(translated_text)), message.id


def test_french_keeps_its_punctuation_together():
    """French puts a space before ; : ? ! and inside « »: a no-break one, so a line never starts with the sign."""
    for message in _catalogue("fr"):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert not re.search(r" [;:?!»]|« ", text or ""), text


def test_the_agreed_terms():
    english = {message.id: message.string for message in _catalogue() if message.id}
    assert english["Software-integraties"] == "Software integrations"
    assert english["Naar inlogpagina"] == "Go to login page"
    assert english["Opslaan"] == "Save"
    assert english["Verbinding verbreken"] == "Disconnect"
    assert english["Verbind opnieuw"] == "Reconnect"
    assert english["Authenticatie verlopen. Verbind opnieuw om gegevens te synchroniseren."] == \
        "Authentication expired. Reconnect to sync data."
    # exact/errors.py's English tells the admin to click the button by its English name.
    assert "'Reconnect'" in ReauthorizationRequired().message("en")


# Exact Online's own words in French and German (its Belgian, French and German help centres and screens): the
# administration, the journal, the general ledger account, the VAT code, the payment condition, the rights.
EXACT_TERMS = {
    "fr": {"Administratie": "Administration", "Verkoopdagboek": "Journal de vente",
           "de grootboekrekeningen": "les comptes généraux", "Btw-code voor %(rate)s": "Code TVA pour %(rate)s",
           "Betalingsconditie": "Condition de paiement", "Rechten": "Droits",
           "Software-integraties": "Intégrations logicielles", "Naar inlogpagina": "Vers la page de connexion",
           "Opslaan": "Enregistrer", "Verbinding verbreken": "Déconnecter", "Verbind opnieuw": "Reconnecter",
           "Verbinding testen": "Tester la connexion"},
    "de": {"Administratie": "Administration", "Verkoopdagboek": "Verkaufsjournal",
           "de grootboekrekeningen": "die Sachkonten", "Btw-code voor %(rate)s": "Umsatzsteuercode für %(rate)s",
           "Betalingsconditie": "Zahlungsbedingung", "Rechten": "Rechte",
           "Software-integraties": "Software-Integrationen", "Naar inlogpagina": "Zur Anmeldeseite",
           "Opslaan": "Speichern", "Verbinding verbreken": "Verbindung trennen", "Verbind opnieuw": "Erneut verbinden",
           "Verbinding testen": "Verbindung testen"},
}


@pytest.mark.parametrize("language", sorted(EXACT_TERMS))
def test_exacts_terms_in_french_and_german(language):
    assert {dutch: translation(language, dutch) for dutch in EXACT_TERMS[language]} == EXACT_TERMS[language]


def _exact_errors():
    """Every ExactError class's messages by name (a rate limit's per scope)."""
    classes, found = [ExactError], {}
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        found.update({f"{cls.__name__}:{scope}": messages
                      for scope, messages in getattr(cls, "scoped_messages", {}).items()})
        if "messages" in vars(cls):
            found[cls.__name__] = cls.messages
    return sorted(found.items())


# The buttons exact/errors.py names; its messages quote them ('…', « … », „…“) as the page shows them.
BUTTONS = ("Verbind opnieuw", "Verbinden met Exact Online", "Verbinding testen")
QUOTED = re.compile(r"'([^']+)'|«\s*([^»]+?)\s*»|„([^“]+)“")


@pytest.mark.parametrize("error, messages", _exact_errors(), ids=[name for name, _messages in _exact_errors()])
def test_exacts_errors_speak_every_language_and_name_the_buttons_as_shown(error, messages):
    assert set(messages) == set(LANGUAGES), error
    fields = {language: set(re.findall(r"{(\w+)}", text)) for language, text in messages.items()}
    assert all(found == fields["nl"] for found in fields.values()), fields
    for language, text in messages.items():
        shown = [button if language == "nl" else translation(language, button) for button in BUTTONS]
        for quoted in ("".join(groups) for groups in QUOTED.findall(text)):
            assert any(button.startswith(quoted) for button in shown), (error, language, quoted)


# --- the whole setup in English ------------------------------------------------------------------------------------

def test_an_english_entry_shows_every_step_in_english(english, english_wizard):
    client, wizard = english, english_wizard
    assert_english(client.get("/integraties"), "Software integrations", "Link OutSmart to your accounting software")
    assert_english(client.get("/exact"), "Connect to Exact Online", "Not connected")
    assert_english(client.get("/exact/land"), "Log in to Exact Online", "Country of your Exact Online account",
                   "Go to login page", "Choose country", "Steps")
    assert_english(client.get("/exact/land", headers=HTMX), "Go to login page")

    callback = wizard.connect(JAN)
    assert callback.status_code == 303 and callback.headers["Location"].endswith("/exact/verbinding")
    assert_english(client.get("/exact/verbinding"), "Connected to Exact Online", "Connection details",
                   "Exact Online user", "Administrations with access", "Disconnect")
    assert_english(client.get("/exact/administratie"), "Choose the administration", "Search by name or code",
                   "4 administrations", "Archived", "Blocked", "Active", "current", "Choose this administration")
    assert_english(client.get("/exact/administratie?q=Projecten"), "1 administration", "found for “Projecten”")

    assert wizard.choose(101).status_code == 303
    assert_english(client.get("/exact/administratie"), "Chosen: Bakker Installatietechniek B.V. (101)",
                   "This administration holds 75 relations and 130 items", "Continue to import and export")
    assert_english(client.get("/exact/instellingen"), "Import and export settings", "Import into OutSmart",
                   "Import relations", "Export to Exact Online", "Sales journal", "VAT code for 21%", "— choose —",
                   "Processed", "Sales invoice", "Do not round", "Continue to check", "Refresh",
                   "Journals, G/L accounts and VAT codes fetched from Exact Online on")

    assert wizard.configure().status_code == 303
    assert_english(client.get("/exact/controle"), "Check and save",
                   "The selected country matches your Exact Online account", "Chosen country: Nederland",
                   "Needed for your settings:", "Create sales invoices",
                   "Yes, Bakker Installatietechniek B.V. (101) is the right administration", "Save", "Back")

    saved = wizard.save()
    assert saved.status_code == 303
    overview = assert_english(client.get(saved.headers["Location"]),
                              "Saved. OutSmart now synchronises with administration Bakker Installatietechniek B.V.",
                              "Connected to administration Bakker Installatietechniek B.V. (101)", "locked",
                              "Why can I not change the administration later?", "Technical details",
                              "Current access valid until", "Exact requests left", "(according to Exact Online on",
                              "Import into OutSmart", "Invoices in Exact Online", "Sales journal", "On", "Off",
                              "History", "Connected to Exact Online", "Administration chosen and locked",
                              "by Anna de Boer", "Change settings", "Disconnect")
    assert re.search(r'id="calls-today">\d,\d{3} of 5,000<', overview), "thousands with a comma in English"
    assert_english(client.get("/exact/instellingen"), "Save", "Import and export settings")
    assert_english(client.get("/exact/verbreken"), "Disconnect?", "Cancel",
                   "Synchronisation with Exact Online will stop")

    gone = client.post("/exact/verbreken", data={})
    assert gone.status_code == 303
    assert_english(client.get(gone.headers["Location"]), "You have disconnected from Exact Online",
                   "Synchronisation has stopped", "Disconnected")


def test_the_tip_before_the_login_in_english(english):
    assert_english(english.get("/exact/land"), "Before you log in", "a Belgian account only works with België",
                   "Log in with a dedicated Exact Online user for OutSmart", "not a personal user and not a MijnKantoor "
                   "user", "A One Exact Identity linked to several users cannot be used.")


def test_an_expired_connection_says_so_in_english(english, english_wizard):
    assert english_wizard.complete(JAN, 101).status_code == 303
    Connection.update(status=Connection.EXPIRED).where(Connection.account == "acme").execute()
    assert_english(english.get("/exact"), "Authentication expired. Reconnect to sync data.", "Reconnect")


# --- the whole setup in French and German --------------------------------------------------------------------------

NB, NNB = "\u00a0", "\u202f"  # no-break space; narrow no-break space (French thousands)
# Each language walked by an admin of that country's Exact Online: Julien Martin (France: VAT 20, 10, 5.5 and 2.1 %)
# and Max Müller (Germany: 19, 7 and 0 %). What each page must say, in the words Exact uses in that language.
WALKS = {
    "fr": {
        "user": JULIEN, "cc": "fr", "code": 801, "name": "Martin Chauffage SARL", "search": "Martin",
        "integrations": ("Intégrations logicielles", "Reliez OutSmart à votre logiciel de comptabilité",
                         "Non connecté", "Ouvrir les paramètres"),
        "overview": ("Connecter à Exact Online", "Non connecté"),
        "country": ("Connexion à Exact Online", "Pays de votre compte Exact Online", "Pays-Bas", "Belgique",
                    "Allemagne", "Royaume-Uni", "États-Unis", "Espagne", "France", "Vers la page de connexion",
                    "Choisir le pays", "Étapes"),
        "country_422": (f"Veuillez vérifier les points suivants{NB}:",
                        "Choisissez le pays dans lequel votre compte Exact Online a été créé."),
        "details": ("Connecté à Exact Online", "Détails de la connexion", "Utilisateur Exact Online",
                    "Administrations accessibles", "Déconnecter"),
        "country_fact": ("Pays", "France"),
        "list": ("Choisissez l’administration", "Rechercher par nom ou code", "2 administrations", "actuelle",
                 "Active", "Choisir cette administration"),
        "searched": (f"2 administrations pour la recherche «{NB}Martin{NB}»",),
        "chosen": (f"Choisie{NB}: Martin Chauffage SARL (801)",
                   "Cette administration contient 9 relations et 5 articles.", "Continuer vers l’import et l’export"),
        "settings": ("Paramètres d’import et d’export", "Importer les relations", "Exporter vers Exact Online",
                     "Journal de vente", "Compte de produits par défaut", f"Code TVA pour 20{NB}%",
                     f"Code TVA pour 5,5{NB}%", f"Code TVA pour 2,1{NB}%", "Condition de paiement", "— choisir —",
                     "Traité", "Facture de vente", "Ne pas arrondir", "Continuer vers la vérification", "Actualiser",
                     "Journaux, comptes généraux et codes TVA récupérés dans Exact Online le"),
        "wtforms": "N'est pas un choix valide.",
        "check": ("Vérifier et enregistrer", "Le pays sélectionné correspond à votre compte Exact Online",
                  f"Pays choisi{NB}: France.", "Créer des factures de vente",
                  "Oui, Martin Chauffage SARL (801) est la bonne administration", "Enregistrer", "Retour"),
        "unconfirmed": ("Confirmez que Martin Chauffage SARL (801) est la bonne administration.",),
        "saved": ("Enregistré. OutSmart synchronise maintenant avec l’administration Martin Chauffage SARL (801).",
                  "Connecté à l’administration Martin Chauffage SARL (801)", "verrouillée",
                  "Historique", "Administration choisie et verrouillée",
                  "par Anna de Boer", "Modifier les paramètres", "Tester la connexion", "Déconnecter"),
        "calls_today": rf"\d{NNB}\d{{3}} sur 5{NNB}000",
        "tested": (f"Réussi{NB}:", "La connexion fonctionne", "Tester à nouveau"),
        "disconnect": (f"Déconnecter{NB}?", "Annuler", "La synchronisation avec Exact Online s’arrête."),
        "disconnected": ("La connexion avec Exact Online est coupée.", "Déconnecté"),
        "expired": ("Authentification expirée. Reconnectez pour synchroniser les données.", "Reconnecter"),
        "not_found": ("Cela n’a pas fonctionné", "Cette page n’existe pas."),
    },
    "de": {
        "user": MAX, "cc": "de", "code": 401, "name": "Müller Haustechnik GmbH", "search": "Müller",
        "integrations": ("Software-Integrationen", "Verbinden Sie OutSmart mit Ihrer Buchhaltungssoftware",
                         "Nicht verbunden", "Einstellungen öffnen"),
        "overview": ("Mit Exact Online verbinden", "Nicht verbunden"),
        "country": ("Bei Exact Online anmelden", "Land Ihres Exact Online-Kontos", "Niederlande", "Belgien", "Deutschland",
                    "Vereinigtes Königreich", "Vereinigte Staaten", "Spanien", "Frankreich", "Zur Anmeldeseite",
                    "Land wählen", "Schritte"),
        "country_422": ("Bitte prüfen Sie Folgendes:",
                        "Wählen Sie das Land, in dem Ihr Exact Online-Konto angelegt wurde."),
        "details": ("Mit Exact Online verbunden", "Verbindungsdetails", "Exact Online-Benutzer",
                    "Administrationen mit Zugriff", "Verbindung trennen"),
        "country_fact": ("Land", "Deutschland"),
        "list": ("Wählen Sie die Administration", "Nach Name oder Code suchen", "2 Administrationen", "aktuell",
                 "Aktiv", "Diese Administration wählen"),
        "searched": ("2 Administrationen gefunden für „Müller“",),
        "chosen": ("Gewählt: Müller Haustechnik GmbH (401)",
                   "Diese Administration enthält 11 Relationen und 9 Artikel.",
                   "Weiter zu Import und Export"),
        "settings": ("Import- und Exporteinstellungen", "Relationen importieren", "Nach Exact Online exportieren",
                     "Verkaufsjournal", "Standard-Erlöskonto", f"Umsatzsteuercode für 19{NB}%",
                     f"Umsatzsteuercode für 7{NB}%", f"Umsatzsteuercode für 0{NB}%", "Zahlungsbedingung",
                     "— bitte wählen —", "Erledigt", "Verkaufsrechnung", "Nicht runden", "Weiter zur Prüfung",
                     "Aktualisieren", "Journale, Sachkonten und Umsatzsteuercodes am"),
        "wtforms": "Keine gültige Auswahl.",
        "check": ("Prüfen und speichern", "Das gewählte Land passt zu Ihrem Exact Online-Konto",
                  "Gewähltes Land: Deutschland.", "Verkaufsrechnungen anlegen",
                  "Ja, Müller Haustechnik GmbH (401) ist die richtige Administration", "Speichern", "Zurück"),
        "unconfirmed": ("Bestätigen Sie, dass Müller Haustechnik GmbH (401) die richtige Administration ist.",),
        "saved": ("Gespeichert. OutSmart synchronisiert jetzt mit der Administration Müller Haustechnik GmbH (401).",
                  "Verbunden mit der Administration Müller Haustechnik GmbH (401)", "festgelegt",
                  "Verlauf", "Administration gewählt und festgelegt",
                  "von Anna de Boer", "Einstellungen ändern", "Verbindung testen", "Verbindung trennen"),
        "calls_today": r"\d\.\d{3} von 5\.000",
        "tested": ("Erfolgreich:", "Die Verbindung funktioniert", "Erneut testen"),
        "disconnect": ("Verbindung trennen?", "Abbrechen", "Die Synchronisierung mit Exact Online wird beendet."),
        "disconnected": ("Die Verbindung mit Exact Online ist getrennt.", "Verbindung getrennt"),
        "expired": ("Authentifizierung abgelaufen. Verbinden Sie erneut, um Daten zu synchronisieren.",
                    "Erneut verbinden"),
        "not_found": ("Das hat nicht geklappt", "Diese Seite gibt es nicht."),
    },
}


@pytest.mark.parametrize("language", sorted(WALKS))
def test_an_entry_in_french_or_german_shows_every_step_in_that_language(client, sim, language):
    says, wizard = WALKS[language], WizardActions(client, sim)

    def page(response, key, status=200):
        return assert_language(response, language, *says[key], status=status)

    page(enter(client, language), "integrations")
    page(client.get("/integraties"), "integrations")
    page(client.get("/exact"), "overview")
    page(client.get("/exact/land"), "country")
    page(client.get("/exact/land", headers=HTMX), "country")
    page(client.post("/exact/land", data={}, headers=HTMX), "country_422", status=422)

    assert wizard.connect(says["user"], says["cc"]).status_code == 303
    details = page(client.get("/exact/verbinding"), "details")
    assert "<dt>{}</dt><dd>{}</dd>".format(*says["country_fact"]) in details
    page(client.get("/exact/administratie"), "list")
    page(client.get(f"/exact/administratie?q={says['search']}"), "searched")
    assert wizard.choose(says["code"]).status_code == 303
    page(client.get("/exact/administratie"), "chosen")
    page(client.get("/exact/instellingen"), "settings")
    refused = assert_language(wizard.configure(trigger_status="bogus"), language, status=422)
    assert says["wtforms"] in visible_text(refused), "WTForms' own catalogue for the language"

    assert wizard.configure().status_code == 303
    page(client.get("/exact/controle"), "check")
    page(wizard.save(confirm=False), "unconfirmed", status=422)
    saved = wizard.save()
    assert saved.status_code == 303
    overview = page(client.get(saved.headers["Location"]), "saved")
    assert re.search(rf'id="calls-today">{says["calls_today"]}<', overview), "thousands the language's way"
    history = re.search(r'<ul id="history">(.*?)</ul>', overview, re.S)[1]  # "Saved: Bakker …" the language's way
    if language == "fr":
        assert "\u00a0: " in history and not re.search(r"[^\u00a0]: ", history), history
    else:
        assert ": " in history and "\u00a0:" not in history, history
    tested = client.post("/exact/testen")
    assert tested.status_code == 303
    page(client.get(tested.headers["Location"]), "tested")
    page(client.get("/exact/verbreken"), "disconnect")
    page(client.get("/nope"), "not_found", status=404)

    Connection.update(status=Connection.EXPIRED).where(Connection.account == "acme").execute()
    page(client.get("/exact"), "expired")
    gone = client.post("/exact/verbreken", data={})
    assert gone.status_code == 303
    page(client.get(gone.headers["Location"]), "disconnected")


@pytest.mark.parametrize("language, try_again", [("en", "Try again"), ("fr", "Réessayer"), ("de", "Erneut versuchen")])
def test_an_exact_error_during_the_login_is_said_in_the_visits_language(client, sim, language, try_again):
    enter(client, language)
    sim.fault("oauth2/token", "503")
    response = WizardActions(client, sim).connect(JAN)
    page = assert_language(response, language, ExactUnavailable().message(language), try_again, status=502)
    assert ExactUnavailable().message("nl") not in page


# --- where the language comes from ---------------------------------------------------------------------------------

HEADINGS = {"nl": "Software-integraties", "en": "Software integrations", "fr": "Intégrations logicielles",
            "de": "Software-Integrationen"}


@pytest.mark.parametrize("accept, language", [
    ("en", "en"), ("en-GB,en;q=0.9", "en"),
    ("fr", "fr"), ("fr-BE,fr;q=0.9,nl;q=0.8", "fr"), ("fr-CA,en;q=0.9", "fr"),  # by the language, not the region
    ("de-DE,en-US;q=0.8", "de"), ("de-CH", "de"), ("es-ES,de;q=0.5,en;q=0.3", "de"),  # the first one we speak
    ("fr;q=0,de;q=0.1", "de"),  # q=0: not French
    ("nl", "nl"), ("nl-BE,nl;q=0.9,en;q=0.5", "nl"), ("es", "nl"), ("xx", "nl"), ("*", "nl"), (None, "nl")])
def test_without_an_entry_the_browsers_language_else_dutch(client, accept, language):
    headers = {"Accept-Language": accept} if accept else {}
    page = assert_language(client.get("/integraties", headers=headers), language, HEADINGS[language])
    assert not [heading for other, heading in HEADINGS.items() if other != language and heading in page]


def test_the_language_of_one_request_does_not_leak_into_the_next(client):
    for accept in ("en", "nl", "fr", "de", "en"):
        assert_language(client.get("/integraties", headers={"Accept-Language": accept}), accept, HEADINGS[accept])


@pytest.mark.parametrize("locale, accept, language", [
    ("fr", None, "fr"), ("de", "nl", "de"), ("en", "fr", "en"), ("nl", "de", "nl"),
    ("fr-BE", None, "fr"), ("de_DE", None, "de"), ("FR", None, "fr"),  # tags OutSmart may send, read by language
    ("es", "fr-BE,fr;q=0.9", "fr"), ("xx", "de", "de"),  # one we do not speak: the browser's
    ("es", None, "nl"), ("", "es", "nl")])  # neither: Dutch
def test_the_entrys_language_else_the_browsers_for_the_whole_visit(client, locale, accept, language):
    headers = {"Accept-Language": accept} if accept else {}
    with client.application.app_context():
        token = make_entry_token("acme", "Anna de Boer", locale, "https://app.out-smart.com")
    assert_language(client.get(f"/embed?token={token}", headers=headers), language, HEADINGS[language])
    # Kept for the whole visit, whatever the browser asks later.
    for later in ("nl-NL,nl", "en", "fr-FR", "de"):
        assert_language(client.get("/exact/land", headers={"Accept-Language": later}), language)


@pytest.mark.parametrize("language", ["fr", "de"])
def test_embed_url_signs_an_entry_in_french_or_german(app, client, language):
    """`flask --app app embed-url ACCOUNT --locale fr` (for tests, support and the demo) opens the screen in French."""
    from flask.cli import cli as flask_cli

    result = app.test_cli_runner().invoke(cli=flask_cli, args=["embed-url", "acme", "--locale", language])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert_language(client.get(url[url.index("/embed"):]), language, HEADINGS[language])


@pytest.mark.parametrize("taal, language", [("de", "de"), ("fr", "fr"), ("en", "en"), ("xx", "nl"), (None, "nl")])
def test_the_demo_hosts_language_switcher_names_each_language_in_its_own_words(app, client, taal, language):
    """The demo's stand-in OutSmart page offers the four languages, each named and marked (lang) in its own words,
    and signs its entry in the one chosen, as OutSmart signs the user's."""
    from views.demo_host import create_demo_host

    host = create_demo_host(app, app.config["APP_URL"]).test_client()
    app.config["HOST_ORIGINS"] = [*app.config["HOST_ORIGINS"], "http://localhost"]
    page = host.get("/", query_string={"taal": taal} if taal else {}).get_data(as_text=True)
    links = re.findall(r'<a href="\?taal=(\w+)" lang="(\w+)" hreflang="(\w+)"( aria-current="true")?>([^<]+)</a>', page)
    assert [(code, lang, hreflang, name) for code, lang, hreflang, _current, name in links] == \
        [(code, code, code, name) for code, name in LANGUAGES.items()]
    assert [code for code, _lang, _hreflang, current, _name in links if current] == [language]
    frame = html.unescape(re.search(r'<iframe[^>]* src="([^"]+)"', page).group(1))
    assert_language(client.get(frame[frame.index("/embed"):]), language, HEADINGS[language])


def test_the_entrys_language_wins_over_the_browsers(english):
    assert_english(english.get("/exact/land", headers={"Accept-Language": "nl-NL,nl"}), "Go to login page")


@pytest.mark.parametrize("accept, language, says", [
    ("en", "en", ("Open this page from OutSmart", "Settings → General → Software integrations")),
    ("fr-BE", "fr", ("Ouvrez cette page depuis OutSmart", "Paramètres → Général → Intégrations logicielles")),
    ("de-AT", "de", ("Öffnen Sie diese Seite in OutSmart", "Einstellungen → Allgemein → Software-Integrationen")),
    ("nl", "nl", ("Open deze pagina vanuit OutSmart", "Instellingen → Algemeen → Software-integraties"))])
def test_without_an_entry_the_refusal_speaks_the_browsers_language(app, client, accept, language, says):
    app.config["DEFAULT_ACCOUNT"] = None
    assert_language(client.get("/integraties", headers={"Accept-Language": accept}), language, *says, status=401)


# --- errors --------------------------------------------------------------------------------------------------------

def test_a_validation_error_is_english_and_next_to_its_field(english):
    response = english.post("/exact/land", data={}, headers=HTMX)
    page = assert_english(response, "Please check the following:",
                          "Choose the country where your Exact Online account was created.", status=422)
    assert re.search(r'<ul class="errors" id="country-errors"><li>Choose the country where your Exact Online '
                     r'account was created\.</li>', page)


def test_wtforms_own_messages_follow_the_language(client, english, english_wizard):
    """Flask-WTF translates WTForms' built-in messages with Flask-Babel (WTF_I18N_ENABLED, on by default)."""
    assert english_wizard.connect(JAN).status_code == 303
    page = assert_english(english.post("/exact/administratie", data={"division": "abc"}), status=422)
    assert "Not a valid integer value." in page
    assert english_wizard.choose(101).status_code == 303
    page = assert_english(english_wizard.configure(trigger_status="bogus"), status=422)
    assert "Not a valid choice." in page

    # The same client, now in Dutch: WTForms' Dutch catalogue.
    with english.application.app_context():
        token = make_entry_token("acme", "Anna de Boer", "nl", "https://app.out-smart.com")
    assert english.get(f"/embed?token={token}").status_code == 200
    dutch = english_wizard.configure(trigger_status="bogus").get_data(as_text=True)
    assert '<html lang="nl">' in dutch and "Ongeldige keuze." in dutch and "Not a valid choice." not in dutch


def test_an_exact_error_during_the_login_is_said_in_english(english, english_wizard, sim):
    sim.fault("oauth2/token", "503")
    response = english_wizard.connect(JAN)
    page = assert_english(response, ExactUnavailable().message("en"), "Not connected", "Try again", status=502)
    assert ExactUnavailable().message("nl") not in page


# --- dates, times, numbers, percentages and countries ----------------------------------------------------------------

NOON = datetime.datetime(2026, 3, 5, 11, 30)  # UTC; 12:30 in Amsterdam


@pytest.mark.parametrize("accept, number, date, rates", [
    ("nl", "5.000", "5 mrt 2026, 12:30:00", ("21%", "5,5%", "0%")),
    ("en", "5,000", "Mar 5, 2026, 12:30:00\N{NARROW NO-BREAK SPACE}PM", ("21%", "5.5%", "0%")),
    ("fr", "5\N{NARROW NO-BREAK SPACE}000", "5 mars 2026, 12:30:00", (f"21{NB}%", f"5,5{NB}%", f"0{NB}%")),
    ("de", "5.000", "05.03.2026, 12:30:00", (f"21{NB}%", f"5,5{NB}%", f"0{NB}%")),
])
def test_numbers_dates_and_percentages_are_formatted_for_the_language(app, accept, number, date, rates):
    with app.test_request_context(headers={"Accept-Language": accept}):
        assert render_template_string("{{ 5000|number }}") == number
        assert render_template_string("{{ when|datetime }}", when=NOON) == date
        assert render_template_string("{{ when|timestamp }}",
                                      when=NOON.replace(tzinfo=datetime.timezone.utc).timestamp()) == date
        # VAT rates as Exact gives them (exact/lists.py: percent as a plain decimal), every decimal kept.
        assert tuple(render_template_string("{{ rate|percent }}", rate=rate) for rate in ("21", "5.5", "0")) == rates


COUNTRY_NAMES = {
    "nl": ("Nederland", "België", "Deutschland", "United Kingdom", "United States", "España", "France"),
    "en": ("Nederland", "België", "Deutschland", "United Kingdom", "United States", "España", "France"),
    "fr": ("Pays-Bas", "Belgique", "Allemagne", "Royaume-Uni", "États-Unis", "Espagne", "France"),
    "de": ("Niederlande", "Belgien", "Deutschland", "Vereinigtes Königreich", "Vereinigte Staaten", "Spanien",
           "Frankreich"),
}


def test_the_french_and_german_country_names_are_the_common_ones():
    """As CLDR (Babel's locale data) names them: Pays-Bas, Niederlande, Royaume-Uni, Vereinigte Staaten…"""
    from babel import Locale

    territories = ("NL", "BE", "DE", "GB", "US", "ES", "FR")  # COUNTRIES' order: nl, be, de, uk, us, es, fr
    for language in ("fr", "de"):
        assert COUNTRY_NAMES[language] == tuple(Locale(language).territories[code] for code in territories)


@pytest.mark.parametrize("language", sorted(COUNTRY_NAMES))
def test_every_country_offered_is_named_in_the_pages_language(app, client, language):
    """Dutch and English keep each country's own name, as Exact's own country choice does; French and German name
    them in French and German. The country step offers them in that order, and a connection's country says it too."""
    from exact.hosts import COUNTRIES

    with app.test_request_context(headers={"Accept-Language": language}):
        assert tuple(render_template_string("{{ code|country }}", code=code) for code in COUNTRIES) == \
            COUNTRY_NAMES[language]
    page = client.get("/exact/land", headers={"Accept-Language": language})
    offered = r"\s+".join(re.escape(name) for name in COUNTRY_NAMES[language])
    assert re.search(offered, visible_text(assert_language(page, language))), "the country step, in this order"


def test_dates_in_the_pages_follow_the_language(client, english, english_wizard):
    assert english_wizard.connect(JAN).status_code == 303
    connected_at = (Connection.get(Connection.account == "acme").connected_at
                    .replace(tzinfo=datetime.timezone.utc).astimezone(ZoneInfo("Europe/Amsterdam")))
    page = english.get("/exact/verbinding").get_data(as_text=True)
    english_date = f"{connected_at:%b} {connected_at.day}, {connected_at.year}"
    assert english_date in page

    with client.application.app_context():
        token = make_entry_token("acme", "Anna de Boer", "nl", "https://app.out-smart.com")
    assert english.get(f"/embed?token={token}").status_code == 200
    page = english.get("/exact/verbinding").get_data(as_text=True)
    assert english_date not in page and f"{connected_at.day} " in page and str(connected_at.year) in page
