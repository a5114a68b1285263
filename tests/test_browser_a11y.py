"""WCAG 2.2 AA and axe's best practices: axe-core on every step and state of the settings screen, in Dutch, English,
French and German; on each, no attribute says "None" (a Python None written into the markup)."""
import time

import pytest

from a11y import describe
from a11y import violations
from conftest import serve  # noqa: F401  (the fixtures come from conftest)
from simhelpers import ACCOUNTANT
from simhelpers import JAN
from simhelpers import KARIN
from simhelpers import PIET
from wizard_actions import EXACT_SELECTS
from wizard_actions import WizardActions
from wizard_actions import path_of

pytestmark = pytest.mark.e2e

# Each language through Accept-Language, as a browser set to it sends it.
LOCALES = {"nl": "nl-NL", "en": "en-GB", "fr": "fr-FR", "de": "de-DE"}


# Every attribute, on every element, whose value is the word None.
NONE_ATTRIBUTES = """() => [...document.querySelectorAll('*')].flatMap((element) => [...element.attributes]
    .filter((attribute) => attribute.value.trim() === 'None')
    .map((attribute) => `${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''} ${attribute.name}`))"""


class Audit:
    """Run axe on each state; collect every violation, so one run names them all."""

    def __init__(self, language):
        self.language = language
        self.found = []
        self.states = []

    def __call__(self, target, state):
        from playwright.sync_api import expect

        expect(target.locator("html")).to_have_attribute("lang", self.language)
        self.states.append(state)
        found = violations(target)
        if found:
            self.found.append(describe(found, f"[{self.language}: {state}] "))
        for attribute in target.evaluate(NONE_ATTRIBUTES):
            self.found.append(f"[{self.language}: {state}] {attribute}=\"None\"")

    def check(self):
        assert not self.found, "axe (WCAG 2.2 AA, best practices) found:\n" + "\n".join(self.found)


def exact_login(page, username=JAN):
    page.wait_for_url("**/api/oauth2/auth?**")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.get_by_role("button", name="Toestaan").click()


def submit(page):
    """The step's main button (the first primary submit button)."""
    page.locator("#exact button.button--primary[type=submit]").first.click()


@pytest.mark.parametrize("language", list(LOCALES))
def test_every_step_and_state_passes_axe(browser, app, live_app, sim, language):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale=LOCALES[language])
    page = context.new_page()
    audit = Audit(language)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    wizard = WizardActions(client, sim)
    try:
        page.goto(f"{live_app}/integraties")
        audit(page, "integrations, not connected")
        page.goto(f"{live_app}/exact")
        audit(page, "overview, not connected")

        page.goto(f"{live_app}/exact/land")
        audit(page, "country")
        page.locator("#exact form").evaluate("form => form.noValidate = true")  # past the browser's own check
        submit(page)
        expect(page.locator("#exact [role=alert]")).to_be_visible()
        audit(page, "country, nothing chosen (422)")

        # The popup login's waiting state (outside an iframe the popup is "blocked": that message shows too).
        with app.app_context():
            from models import LoginAttempt
            attempt, _handoff = LoginAttempt.start("demo", "nl", "tester", None, LoginAttempt.POPUP)
        page.goto(f"{live_app}/exact/login/{attempt.id}/status")
        expect(page.locator("#exact[data-login-status]")).to_be_visible()
        audit(page, "login waiting (popup)")
        app.config["LOGIN_WARNING_BEFORE"] = 600  # the warning of the login's last minutes, at once
        page.reload()
        expect(page.locator("#login-time-warning")).not_to_be_empty()
        audit(page, "login waiting, time nearly up")
        app.config["LOGIN_WARNING_BEFORE"] = 120
        page.goto(f"{live_app}/exact/login/{attempt.id}")  # opened without its iframe: it says so, after 4 s
        expect(page.locator("[data-handoff-missing]")).to_be_visible(timeout=10000)
        audit(page, "popup start, not opened by OutSmart")
        page.goto(f"{live_app}/exact/callback?state={attempt.state}&code=x")  # back without cookie nor opener
        expect(page.locator("[data-handoff-missing]")).to_be_visible(timeout=10000)
        audit(page, "popup back from Exact, not opened by OutSmart")
        page.goto(f"{live_app}/exact/login/no-such-attempt")
        audit(page, "popup done (failed)")

        page.goto(f"{live_app}/exact/land")
        page.locator("input[name=country][value=nl]").check()
        submit(page)
        exact_login(page)
        expect(page).to_have_url(f"{live_app}/exact/verbinding")
        audit(page, "connection details")
        page.goto(f"{live_app}/integraties")
        audit(page, "integrations, connected")

        page.goto(f"{live_app}/exact/administratie")
        audit(page, "administration list")
        # The unsearched list holds Bakker too: wait until the search's answer is swapped in (its count says "found"),
        # or that late swap would undo the choice made below.
        unsearched = page.locator("#administration-count").inner_text()
        page.locator("#q").press_sequentially("Bakker")
        expect(page.locator("#administration-count")).not_to_have_text(unsearched)
        expect(page.locator("#administration-list")).to_contain_text("Bakker")
        expect(page.locator("#division-101")).to_be_visible()
        audit(page, "administration list, searched")
        page.locator("#division-101").check()
        submit(page)
        expect(page.locator("#administration-preview")).to_be_visible()
        audit(page, "administration chosen (preview)")

        page.goto(f"{live_app}/exact/instellingen")
        audit(page, "settings")
        submit(page)
        expect(page.locator("#exact [role=alert]")).to_be_visible()
        audit(page, "settings with errors (422)")
        for field in EXACT_SELECTS:
            page.select_option(f"#{field}", index=1)
        submit(page)
        expect(page).to_have_url(f"{live_app}/exact/controle")
        audit(page, "check")
        submit(page)
        expect(page.locator("#confirm-errors")).to_be_visible()
        audit(page, "check, not confirmed (422)")
        page.locator("#confirm").check()
        page.locator("#exact input[name=country]").evaluate("input => input.value = 'be'")
        submit(page)
        expect(page.locator("#check-country.failed")).to_be_visible()
        audit(page, "check, country mismatch (422)")

        # Piet lacks the right to create sales invoices.
        assert wizard.connect(PIET).status_code == 303
        assert wizard.choose(111).status_code == 303
        assert wizard.configure().status_code == 303
        page.goto(f"{live_app}/exact/controle")
        page.locator("#confirm").check()
        submit(page)
        expect(page.locator("#check-rights.failed")).to_be_visible()
        audit(page, "check, missing rights (422)")
        assert wizard.configure(document_type="sales_order").status_code == 303
        page.goto(f"{live_app}/exact/controle")
        page.locator("#confirm").check()
        submit(page)
        expect(page).to_have_url(f"{live_app}/exact?notice=saved")
        page.locator("details.history summary").click()
        audit(page, "saved overview (locked, health, history open)")
        page.goto(f"{live_app}/integraties")
        audit(page, "integrations, saved")
        page.goto(f"{live_app}/exact/instellingen")
        audit(page, "settings of the saved connection")
        submit(page)
        expect(page).to_have_url(f"{live_app}/exact?notice=settings_saved")
        audit(page, "settings saved notice")

        # Verbinding testen: what it asks, a passed test's report, one Exact refuses; the state that needs attention.
        page.goto(f"{live_app}/exact/testen")
        audit(page, "connection test")
        submit(page)
        expect(page.locator("#exact .report")).to_be_visible()
        audit(page, "connection test passed")
        sim.settings(expired_licenses=[111])
        submit(page)
        expect(page.locator("#exact .report__item--failed")).to_be_visible()
        audit(page, "connection test refused (422)")
        page.goto(f"{live_app}/exact")
        audit(page, "overview, needs attention")
        page.goto(f"{live_app}/integraties")
        audit(page, "integrations, needs attention")
        sim.settings(expired_licenses=[])
        assert client.post("/exact/testen").status_code == 303  # working again

        page.goto(f"{live_app}/exact/verbreken")
        audit(page, "disconnect confirmation")

        # Exact refuses a token: an action ends on the error page, saying when to try again; the state stays.
        sim.fault("*", "401")
        page.goto(f"{live_app}/exact/instellingen")
        page.locator("form.inline button[type=submit]").click()
        expect(page.locator("#exact [role=alert]")).to_be_visible()
        audit(page, "error page (Exact refused)")
        # Exact stops accepting the grant: its token endpoint says so at the next renewal; the overview shows the banner.
        with app.app_context():
            from models import Connection
            sim.revoke(PIET)
            sim.advance(580)
            Connection.update(token_issued_at=time.time() - 580, token_expires_at=time.time() + 20).execute()
        page.goto(f"{live_app}/exact/instellingen")
        page.locator("form.inline button[type=submit]").click()
        expect(page.locator("#exact [role=alert]")).to_be_visible()
        page.goto(f"{live_app}/exact")
        expect(page.locator("#exact")).to_have_attribute("data-exact-state", "expired")
        audit(page, "overview, expired")
        page.goto(f"{live_app}/integraties")
        audit(page, "integrations, expired")

        page.goto(f"{live_app}/exact/verbreken")
        submit_danger = page.locator("#exact button.button--danger")
        submit_danger.click()
        expect(page.locator("#exact")).to_have_attribute("data-exact-state", "disconnected")
        audit(page, "overview, disconnected")
        page.goto(f"{live_app}/integraties")
        audit(page, "integrations, disconnected")

        page.goto(f"{live_app}/no-such-page")
        audit(page, "not found")

        # Karin's consent left out her current administration: the step says so.
        assert wizard.connect(KARIN).status_code == 303
        page.goto(f"{live_app}/exact/administratie")
        expect(page.locator("#current-left-out")).to_be_visible()
        audit(page, "administration list, current one left out of the consent")

        # The accountant with 250 administrations: paging.
        assert wizard.connect(ACCOUNTANT).status_code == 303
        page.goto(f"{live_app}/exact/administratie?page=2")
        expect(page.locator(".pager")).to_be_visible()
        audit(page, "administration list, page 2 of many")

        # Too many login starts for the account (views/throttle.py): the country step refuses with a wait.
        for _ in range(11):
            if client.post("/exact/land", data={"country": "nl"}).status_code == 429:
                break
        page.goto(f"{live_app}/exact/land")
        page.locator("input[name=country][value=nl]").check()
        submit(page)
        expect(page.locator("#exact [role=alert]")).to_be_visible()
        audit(page, "country, too many login starts (429)")

        app.config["DEMO"] = True
        page.goto(f"{live_app}/integraties")
        expect(page.locator(".demo-banner")).to_be_visible()
        audit(page, "demo banner")
        app.config["DEMO"] = False

        app.config["DEFAULT_ACCOUNT"] = None
        stranger = browser.new_context(locale=LOCALES[language]).new_page()
        stranger.goto(f"{live_app}/exact")
        audit(stranger, "open from OutSmart (401)")
        for _ in range(6):
            stranger.goto(f"{live_app}/embed?token=forged")
        expect(stranger.locator("[role=alert]")).to_be_visible()
        audit(stranger, "too many failed entries (429)")
        stranger.context.close()
    finally:
        context.close()
    audit.check()


def test_bezig_shows_and_is_announced_while_exact_is_slow(page, app, live_app, sim):
    """A slow Exact: the button's "Bezig…" appears inside a status region that was already on the page."""
    from playwright.sync_api import expect

    from wizard_actions import WizardActions

    wizard = WizardActions(app.test_client(), sim)
    assert wizard.connect(JAN).status_code == 303
    assert wizard.choose(101).status_code == 303
    page.goto(f"{live_app}/exact/instellingen")
    refresh = page.locator("form.inline")
    region = refresh.locator(".busy-region[role=status]")
    expect(region.locator(".busy")).to_be_hidden()
    sim.settings(fault_timeout_seconds=1.5)
    sim.fault("financial/Journals", "timeout")
    refresh.locator("button[type=submit]").click()
    expect(region.locator(".busy")).to_be_visible()
    expect(refresh.locator("button[type=submit]")).to_be_disabled()
    expect(page.locator("#lists-fetched")).to_be_focused(timeout=10000)  # the lists it read again, said by date


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_outsmart_entry_in_another_language_passes_axe(browser, app, live_app, language):
    """OutSmart's signed entry with locale en, fr or de, in a Dutch browser: the embedded variant (no breadcrumb of our
    own) in a narrow frame."""
    from playwright.sync_api import expect

    from views.embed import make_entry_token

    with app.app_context():
        token = make_entry_token("acme", "anna@acme.example", language, "https://app.out-smart.com")
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="nl-NL")
    page = context.new_page()
    audit = Audit(language)
    try:
        page.goto(f"{live_app}/embed?token={token}")
        expect(page.locator("#exact")).to_be_visible()
        audit(page, "entry (integrations)")
        page.goto(f"{live_app}/exact/land")
        audit(page, "country")
        app.config["SESSION_WARNING_BEFORE"] = app.permanent_session_lifetime.total_seconds()
        page.reload()
        stay_longer = {"en": "Stay longer", "fr": "Prolonger la session", "de": "Sitzung verlängern"}[language]
        expect(page.get_by_role("button", name=stay_longer)).to_be_visible()
        audit(page, "session about to end")
    finally:
        context.close()
    audit.check()
