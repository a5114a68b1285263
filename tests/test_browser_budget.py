"""WCAG 2.2 AA in Chromium for what issue 15 adds to the pages: the health panel with the day's token calls nearly
used up, a "too early" wait and an endpoint held back after errors; and the error page of a wait, with its time."""
import time

import pytest

from a11y import assert_accessible
from simhelpers import JAN
from wizard_actions import WizardActions

pytestmark = pytest.mark.e2e

LOCALES = {"nl": "nl-NL", "en": "en-GB"}
SAYS = {
    "nl": ("vandaag nog 35 van de 200 keer", "Let op: Exact Online laat de toegang", "weer vernieuwen",
           "te vaak een foutmelding bij de dagboeken", "Dit kan weer vanaf"),
    "en": ("35 of 200 times left today", "Please note: Exact Online renews the access", "will renew the access again",
           "too often in the past hour", "This is possible again from"),
}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_health_panels_waits_and_the_error_page_of_a_wait_pass_axe(browser, app, live_app, sim, language):
    from playwright.sync_api import expect

    from models import Connection
    from views.exact_clients import exact_limits

    wizard = WizardActions(app.test_client(), sim)
    assert wizard.complete(JAN, 101).status_code == 303
    with app.app_context():
        user = Connection.get().exact_user_id
        limits = exact_limits()
        for _ in range(164):  # with the login's exchange: 165 of 200 used
            limits.count_token_call(user)
        for _ in range(8):
            limits.guard(user).count_error(101, "financial/Journals")
        Connection.update(refresh_not_before=time.time() + 60).execute()
    budget, warning, wait, block, until = SAYS[language]

    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale=LOCALES[language])
    page = context.new_page()
    try:
        page.goto(f"{live_app}/exact")
        expect(page.locator("#token-budget")).to_have_text(budget)
        for text in (warning, wait, block):
            expect(page.locator("#exact")).to_contain_text(text)
        assert_accessible(page, f"{language}: health panel with waits")

        # Reading the lists again would ask the held-back endpoint: a wait, with its time.
        page.goto(f"{live_app}/exact/instellingen")
        page.locator("form.inline button[type=submit]").click()
        expect(page.locator("#retry-at")).to_contain_text(until)
        assert_accessible(page, f"{language}: error page of a wait")
    finally:
        context.close()
