"""Dutch and English: the language comes from OutSmart's entry, else the browser; every text, error, date and number
follows it."""
import datetime
import html
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages import frontend as babel_frontend
from babel.messages.pofile import read_po
from flask import render_template_string

from exact.errors import ExactUnavailable
from exact.errors import ReauthorizationRequired
from models import Connection
from simhelpers import JAN
from views.embed import make_entry_token
from wizard_actions import HTMX
from wizard_actions import WizardActions

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalogue():
    with open(PO, "rb") as handle:
        return read_po(handle)


def _dutch_fragments():
    """Dutch texts of the catalogue that English pages must not show: the literal parts of every msgid whose English
    differs, leaving out very short ones (a word like "Land" is no evidence)."""
    fragments = set()
    for message in _catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for dutch in ids:
            if dutch in strings:
                continue
            fragments.update(part.strip(" .,:;()–") for part in PLACEHOLDER.split(dutch))
    return {fragment for fragment in fragments if len(fragment) >= 5}


DUTCH = _dutch_fragments()


def visible_text(page: str) -> str:
    """What a user sees or hears: text and labelling attributes, without markup, scripts or the JSON config."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<meta[^>]*>", " ", page)
    labels = " ".join(re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + labels)


def assert_english(response, *texts, status=200):
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    text = visible_text(page)
    for expected in texts:
        assert expected in text, f"{expected!r} missing on {response.request.path}"
    dutch = sorted(fragment for fragment in DUTCH if re.search(rf"(?<!\w){re.escape(fragment)}(?!\w)", text))
    assert not dutch, f"Dutch on {response.request.path}: {dutch}"
    if "<html" in page:
        assert '<html lang="en">' in page
    return page


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of that name, which pushes one request context for the whole test: under it
    every test-client request shares one `g`, where Flask-Babel caches the locale, so one request's language would
    leak into the next. Here each request gets its own, as in production."""


@pytest.fixture
def english(app, client):
    """A client that entered from OutSmart in English (account acme, replacing the test app's demo account)."""
    with app.app_context():
        token = make_entry_token("acme", "Anna de Boer", "en", "https://app.out-smart.com")
    assert_english(client.get(f"/embed?token={token}"), "Software integrations", "Open settings", "Not connected")
    return client


@pytest.fixture
def english_wizard(english, sim):
    return WizardActions(english, sim)


# --- the catalogue -------------------------------------------------------------------------------------------------

def test_every_text_in_the_code_has_an_english_translation(tmp_path):
    """Extract as the README says; every msgid must be in the English catalogue, translated, not fuzzy."""
    pot = tmp_path / "messages.pot"
    cli = babel_frontend.CommandLineInterface()
    cli.run([sys.argv[0], "-q", "extract", "-F", str(TRANSLATIONS / "babel.cfg"), "-o", str(pot),
             str(TRANSLATIONS.parent)])
    with open(pot, "rb") as handle:
        in_code = {message.id for message in read_po(handle) if message.id}
    catalogue = _catalogue()
    translated = {message.id for message in catalogue if message.id}
    assert in_code - translated == set(), "run pybabel update and translate these"
    assert len(in_code) > 200
    for message in catalogue:
        if message.id:
            assert not message.fuzzy, message.id
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings), f"no English for {message.id!r}"
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            for dutch, english in zip(ids, strings):
                assert set(PLACEHOLDER.findall(dutch)) == set(PLACEHOLDER.findall(english)), message.id


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


# --- where the language comes from ---------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", ["en", "en-GB,en;q=0.9", "de-DE,en-US;q=0.8"])
def test_a_browser_asking_for_english_gets_english_without_an_entry(client, accept):
    assert_english(client.get("/integraties", headers={"Accept-Language": accept}), "Software integrations")


@pytest.mark.parametrize("accept", ["nl", "nl-BE,nl;q=0.9,en;q=0.5", "fr-FR", "xx", None])
def test_dutch_for_dutch_and_unknown_browsers(client, accept):
    headers = {"Accept-Language": accept} if accept else {}
    page = client.get("/integraties", headers=headers).get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Software-integraties" in page and "Software integrations" not in page


def test_the_language_of_one_request_does_not_leak_into_the_next(client):
    assert "Software integrations" in client.get("/integraties", headers={"Accept-Language": "en"}).get_data(True)
    assert "Software-integraties" in client.get("/integraties", headers={"Accept-Language": "nl"}).get_data(True)
    assert "Software integrations" in client.get("/integraties", headers={"Accept-Language": "en"}).get_data(True)


def test_the_entrys_language_wins_over_the_browsers(english):
    assert_english(english.get("/exact/land", headers={"Accept-Language": "nl-NL,nl"}), "Go to login page")


def test_without_an_entry_the_refusal_speaks_the_browsers_language(app, client):
    app.config["DEFAULT_ACCOUNT"] = None
    assert_english(client.get("/integraties", headers={"Accept-Language": "en"}), "Open this page from OutSmart",
                   "Settings → General → Software integrations", status=401)
    dutch = client.get("/integraties", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<html lang="nl">' in dutch and "Open deze pagina vanuit OutSmart" in dutch


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


# --- dates, times and numbers --------------------------------------------------------------------------------------

NOON = datetime.datetime(2026, 3, 5, 11, 30)  # UTC; 12:30 in Amsterdam


@pytest.mark.parametrize("accept, number, date", [
    ("nl", "5.000", "5 mrt 2026, 12:30:00"),
    ("en", "5,000", "Mar 5, 2026, 12:30:00\N{NARROW NO-BREAK SPACE}PM"),
])
def test_numbers_and_dates_are_formatted_for_the_language(app, accept, number, date):
    with app.test_request_context(headers={"Accept-Language": accept}):
        assert render_template_string("{{ 5000|number }}") == number
        assert render_template_string("{{ when|datetime }}", when=NOON) == date
        assert render_template_string("{{ when|timestamp }}",
                                      when=NOON.replace(tzinfo=datetime.timezone.utc).timestamp()) == date


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
