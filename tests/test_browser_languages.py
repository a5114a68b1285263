"""French and German in Chromium: their longer words still fit a 360-px-wide OutSmart iframe on every step (no
sideways scrolling), and each page says which language it is in."""
import pytest

from simhelpers import JULIEN
from simhelpers import MAX
from wizard_actions import WizardActions

pytestmark = pytest.mark.e2e

ADMINS = {"fr": (JULIEN, "fr", 801, "fr-FR"), "de": (MAX, "de", 401, "de-DE")}


def fits(page, language, name):
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("lang", language)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)""")
    assert overflow <= 0, f"{language}: {name} at 360 px: {overflow}px sideways scrolling ({wide})"


@pytest.mark.parametrize("language", sorted(ADMINS))
def test_every_step_fits_360_px_in_french_and_german(browser, app, live_app, sim, language):
    user, country, code, browser_locale = ADMINS[language]
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale=browser_locale)
    page = context.new_page()
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    wizard = WizardActions(client, sim)
    try:
        for path in ("/integraties", "/exact", "/exact/land"):
            page.goto(f"{live_app}{path}")
            fits(page, language, path)
        assert wizard.connect(user, country).status_code == 303
        for path in ("/exact/verbinding", "/exact/administratie"):
            page.goto(f"{live_app}{path}")
            fits(page, language, path)
        page.locator(f"#division-{code}").check()
        page.locator("#administration-list button[type=submit]").click()
        page.locator("#administration-preview").wait_for()
        fits(page, language, "administration chosen")
        page.goto(f"{live_app}/exact/instellingen")
        fits(page, language, "settings")
        page.locator("form.settings button.button--primary").click()
        page.locator("#exact [role=alert]").wait_for()
        fits(page, language, "settings with errors")
        assert wizard.configure().status_code == 303
        page.goto(f"{live_app}/exact/controle")
        fits(page, language, "check")
        assert wizard.save().status_code == 303
        page.goto(f"{live_app}/exact?notice=saved")
        page.locator("details.history summary").click()
        fits(page, language, "saved overview, history open")
        for path in ("/exact/testen", "/exact/verbreken"):
            page.goto(f"{live_app}{path}")
            fits(page, language, path)
    finally:
        context.close()
