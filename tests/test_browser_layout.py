"""Fits a 360-px-wide iframe and a wide page: no sideways scrolling; screenshots for the README."""

import pytest

from conftest import SCREENSHOTS  # an ignored folder unless SCREENSHOTS_DIR says otherwise
from simhelpers import JAN
from wizard_actions import WizardActions

pytestmark = pytest.mark.e2e

SIZES = {"narrow": {"width": 360, "height": 800}, "wide": {"width": 1280, "height": 900}}


def look(page, size, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{size}-{name}.png"), full_page=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)""")
    assert overflow <= 0, f"{name} at {size}: {overflow}px sideways scrolling ({wide})"


@pytest.mark.parametrize("size", SIZES)
def test_steps_fit_narrow_and_wide(browser, app, live_app, sim, size):
    context = browser.new_context(viewport=SIZES[size], locale="nl-NL")
    page = context.new_page()
    wizard = WizardActions(app.test_client(), sim)
    try:
        assert wizard.connect(JAN).status_code == 303
        page.goto(f"{live_app}/exact/administratie")
        page.locator("#division-101").check()
        page.locator("#administration-list button[type=submit]").click()
        page.locator("#administration-preview").wait_for()
        look(page, size, "administratie")
        page.goto(f"{live_app}/exact/instellingen")
        look(page, size, "instellingen")
        page.locator("form.settings button.button--primary").click()
        page.locator("#exact [role=alert]").wait_for()
        look(page, size, "instellingen-fouten")
        assert wizard.configure().status_code == 303
        page.goto(f"{live_app}/exact/controle")
        look(page, size, "controle")
        assert wizard.save().status_code == 303
        page.goto(f"{live_app}/exact?notice=saved")
        page.locator("details.history summary").click()
        look(page, size, "opgeslagen")
    finally:
        context.close()
