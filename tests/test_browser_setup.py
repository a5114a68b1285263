"""A new admin clicks through the whole setup in Chromium, against the simulator; screenshots for the README."""

import pytest

from conftest import SCREENSHOTS  # an ignored folder unless SCREENSHOTS_DIR says otherwise

from models import Connection
from simhelpers import JAN
from wizard_actions import EXACT_SELECTS

pytestmark = pytest.mark.e2e



def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_new_admin_sets_up_exact_online(page, live_app, app):
    from playwright.sync_api import expect

    app.config["DEMO"] = True
    page.goto(f"{live_app}/integraties")
    expect(page.locator("#exact-status")).to_have_text("Niet verbonden")
    shot(page, "1-software-integraties")

    page.get_by_role("link", name="Instellingen openen").click()
    expect(page).to_have_url(f"{live_app}/exact")
    page.get_by_role("link", name="Verbinden met Exact Online").click()
    expect(page).to_have_url(f"{live_app}/exact/land")
    page.get_by_label("Nederland").check()
    shot(page, "2-land-kiezen")

    page.get_by_role("button", name="Naar inlogpagina").click()
    page.wait_for_url("**/nl/api/oauth2/auth?**")
    page.fill("input[name=username]", JAN)
    page.fill("input[name=password]", "demo")
    shot(page, "3-inloggen-bij-exact")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.get_by_role("button", name="Toestaan").click()

    expect(page).to_have_url(f"{live_app}/exact/verbinding")
    expect(page.locator("#connection-facts")).to_contain_text("Jan Bakker")
    shot(page, "4-verbindingsgegevens")

    page.get_by_role("link", name="Kies de administratie").click()
    expect(page).to_have_url(f"{live_app}/exact/administratie")
    page.get_by_label("Zoek op naam of code").fill("Installatie")
    expect(page.locator("#administration-list")).to_contain_text("1 administratie gevonden")
    expect(page.locator("#division-103")).to_have_count(0)
    page.get_by_label("Bakker Installatietechniek B.V.").check()
    page.get_by_role("button", name="Deze administratie kiezen").click()
    expect(page.locator("#administration-preview")).to_contain_text("75 relaties en 130 artikelen")
    shot(page, "5-administratie-kiezen")

    page.get_by_role("link", name="Verder naar import en export").click()
    expect(page).to_have_url(f"{live_app}/exact/instellingen")
    for field in EXACT_SELECTS:
        page.select_option(f"#{field}", index=1)
    chosen_journal = page.locator("#sales_journal").input_value()
    expect(page.locator("input[name=relation_types]")).to_have_count(0)  # not read from Exact unless asked
    page.get_by_role("button", name="Filteren op relatietype…").click()
    page.get_by_label("B – Zakelijk").check()
    assert page.locator("#sales_journal").input_value() == chosen_journal, "what was chosen before stays"
    expect(page.get_by_role("button", name="Filteren op artikelgroep…")).to_be_visible()
    shot(page, "6-import-en-export")
    page.get_by_role("button", name="Verder naar controleren").click()

    expect(page).to_have_url(f"{live_app}/exact/controle")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("#confirm-errors")).to_contain_text("Bevestig dat Bakker Installatietechniek B.V. (101)")
    shot(page, "7a-controle-mislukt")
    page.get_by_label("Ja, Bakker Installatietechniek B.V. (101) is de juiste administratie").check()
    page.get_by_role("button", name="Opslaan").click()

    expect(page).to_have_url(f"{live_app}/exact?notice=saved")
    expect(page.locator("#locked-administration")).to_contain_text("Bakker Installatietechniek B.V.")
    expect(page.get_by_role("status").first).to_contain_text("Opgeslagen")
    shot(page, "7-opgeslagen")
    assert Connection.get().settings["relation_types"] == ["B"], "the filter ticked in the browser was saved"

    page.goto(f"{live_app}/integraties")
    expect(page.locator("#exact-status")).to_have_text(
        "Verbonden met administratie Bakker Installatietechniek B.V. (101)")
