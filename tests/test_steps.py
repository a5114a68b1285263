"""The table of steps (views/steps.py) drives the stepper and sends an unfinished setup on to where it stopped."""
import re

from models import Connection
from simhelpers import JAN
from views.steps import STEPS
from wizard_actions import HTMX


def reopened(client):
    """Open the Exact Online settings again, as the admin does from the integrations list."""
    return client.get("/exact")


def test_reopening_an_unfinished_setup_goes_on_at_the_first_step_not_done(client, wizard):
    wizard.connect(JAN)
    response = reopened(client)
    assert response.status_code == 303 and response.headers["Location"] == "/exact/administratie"
    wizard.choose(101)
    assert reopened(client).headers["Location"] == "/exact/instellingen"
    wizard.configure()
    assert reopened(client).headers["Location"] == "/exact/controle"
    wizard.save()
    assert reopened(client).status_code == 200  # saved: the overview itself


def test_a_step_whose_needs_are_missing_sends_the_admin_to_the_first_open_step(client, wizard):
    wizard.connect(JAN)
    for url in ("/exact/instellingen", "/exact/controle"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/exact/administratie", url


def test_without_a_login_the_steps_send_the_admin_to_the_overview(client):
    for url in ("/exact/administratie", "/exact/instellingen", "/exact/controle"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/exact", url


def test_the_stepper_is_the_table(client, wizard):
    """"Stap 5 van 7 — Administratie kiezen", then each step of the table by its short label: those done marked ✓
    in text (and "Klaar:" for screen readers), not by colour alone; the current one as the current step."""
    wizard.connect(JAN)
    html = client.get("/exact/administratie", headers=HTMX).get_data(as_text=True)
    assert f"Stap 5 van {len(STEPS)} <span aria-hidden=\"true\">—</span> {STEPS[4].label}</p>" in html
    items = re.findall(r'<li class="stepper__step stepper__step--(\w+)"( aria-current="step")?>\s*'
                       r'<span class="stepper__mark" aria-hidden="true">([^<]+)</span>'
                       r'(<span class="visually-hidden">Klaar: </span>)?<span class="stepper__label">([^<]+)</span>', html)
    assert [(state, mark, label) for state, _current, mark, _done, label in items] == [
        ("done" if step.number < 5 else "current" if step.number == 5 else "todo",
         "✓" if step.number < 5 else str(step.number), str(step.short)) for step in STEPS]
    assert [bool(done) for _state, _current, _mark, done, _label in items] == [step.number < 5 for step in STEPS]
    assert [bool(current) for _state, current, _mark, _done, _label in items] == [step.number == 5 for step in STEPS]


def test_the_saved_connection_needs_no_step(client, wizard):
    wizard.complete(JAN, 101)
    assert Connection.get().is_locked
    check = client.get("/exact/controle")
    assert check.status_code == 303 and check.headers["Location"] == "/exact"


def test_after_saving_a_finished_steps_page_goes_to_the_overview(client, wizard):
    """Saved: the details, the choice of administration and the checks are behind the admin (views/steps.py, closed)."""
    wizard.complete(JAN, 101)
    for url in ("/exact/verbinding", "/exact/administratie", "/exact/administratie/lijst?q=Bakker", "/exact/controle"):
        for headers in ({}, HTMX):
            response = client.get(url, headers=headers)
            assert response.status_code == 303 and response.headers["Location"] == "/exact", url
    overview = client.get("/exact").get_data(as_text=True)
    assert "Kies de administratie" not in overview and "Bakker Installatietechniek B.V.</strong>" in overview
    assert client.get("/exact/instellingen").status_code == 200  # the settings stay editable


def test_a_crafted_choice_after_saving_is_refused_in_words_with_the_way_back(client, wizard):
    wizard.complete(JAN, 101)
    refused = wizard.choose(102)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Administratie vastgezet</h1>" in html and "Kies de administratie</h1>" not in html
    assert "De administratie Bakker Installatietechniek B.V. (101) is vastgezet." in html
    assert '<a href="/exact" class="button button--primary"' in html
    assert Connection.get().division == 101


def test_the_country_step_of_a_saved_connection_explains_reconnecting_and_disconnecting(client, wizard):
    wizard.complete(JAN, 101)
    html = client.get("/exact/land").get_data(as_text=True)
    assert "Opnieuw inloggen bij Exact Online</h1>" in html
    assert ("Deze verbinding is opgeslagen met administratie Bakker Installatietechniek B.V. (101) bij Exact Online "
            "Nederland.") in html
    assert "vernieuwt alleen de toegang. Kies Nederland, log in en vink bij Exact Online administratie 101 aan." in html
    assert "is nodig voor een andere administratie of een ander land." in html
    assert '<a href="/exact/verbreken"' in html
    assert 'value="nl" checked' in html.replace('checked id="country-0" name="country" required type="radio" value="nl"',
                                                'value="nl" checked')
    assert 'class="stepper' not in html  # no setup to walk through: the connection is saved


def test_the_country_step_says_before_the_login_which_country_and_which_exact_user(client):
    html = client.get("/exact/land").get_data(as_text=True)
    assert "Inloggen bij Exact Online</h1>" in html and "inlogflow" not in html
    assert "een Belgisch account werkt alleen met België" in html
    assert "Bij een verkeerd land zegt Exact Online alleen dat gebruikersnaam of wachtwoord niet klopt." in html
    assert "Log in met een vaste Exact Online-gebruiker voor OutSmart" in html
    assert "geen persoonlijke gebruiker en geen MijnKantoor-gebruiker" in html
    assert "Een One Exact Identity die aan meerdere gebruikers is gekoppeld, kan niet worden gebruikt." in html
