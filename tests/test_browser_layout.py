"""Every page fits a 360-px-wide iframe and a wide page: no sideways scrolling, one primary button, the stepper on one
line when wide; at 320 px each administration is a block with all its facts. Screenshots for the README."""
import re
from functools import partial

import pytest

from conftest import SCREENSHOTS  # an ignored folder unless SCREENSHOTS_DIR says otherwise

from a11y import describe
from a11y import violations

from models import Connection
from models import LoginAttempt
from models import RateLimitCount
from simhelpers import ACCOUNTANT
from simhelpers import JAN
from simhelpers import PIET
from wizard_actions import WizardActions
from wizard_actions import path_of
from wizard_actions import popup_to_exact

pytestmark = pytest.mark.e2e

SIZES = {"narrow": {"width": 360, "height": 800}, "wide": {"width": 1280, "height": 900}}


def check_page(page, size, name, found=None):
    """Screenshot the page (Dutch); it must not scroll sideways, and show at most one primary button; axe's
    violations (WCAG 2.2 AA) go into `found`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if page.evaluate("document.documentElement.lang") == "nl":
        page.screenshot(path=str(SCREENSHOTS / f"{size}-{name}.png"), full_page=True)
    if found is not None:
        problems = violations(page)
        if problems:
            found.append(describe(problems, f"[{size}, {page.evaluate('document.documentElement.lang')}: {name}] "))
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)""")
    assert overflow <= 0, f"{name} at {size}: {overflow}px sideways scrolling ({wide})"
    primaries = page.evaluate("""() => [...document.querySelectorAll('.button--primary')]
        .filter(e => e.offsetParent !== null).map(e => e.textContent.trim())""")
    assert len(primaries) <= 1, f"{name} at {size}: more than one primary button: {primaries}"
    if size == "wide" and page.locator(".stepper").count():
        assert_stepper_on_one_line(page, name)


def assert_stepper_on_one_line(page, name):
    """Every step on the same line, each label on one line of its own, nothing cut off (wide screens)."""
    steps = page.evaluate("""() => [...document.querySelectorAll('.stepper__step')].map(e => {
        const label = e.querySelector('.stepper__label'), box = e.getBoundingClientRect();
        return {top: Math.round(box.top), height: box.height, text: label.textContent,
                lines: Math.round(label.getBoundingClientRect().height / parseFloat(getComputedStyle(label).lineHeight)),
                cut: label.scrollWidth > label.clientWidth + 1, mark: e.querySelector('.stepper__mark').textContent}; })""")
    assert len(steps) == 7 and len({step["top"] for step in steps}) == 1, f"{name}: the stepper wraps: {steps}"
    assert all(step["lines"] == 1 and not step["cut"] for step in steps), f"{name}: a step's label wraps: {steps}"


def test_every_page_fits_narrow_and_wide_and_passes_axe_in_dutch_and_english(browser, app, live_app, sim):
    """The walk at 360 and 1280 px in Dutch (the README's screenshots), and at 1280 px in English; axe on each page."""
    found = []
    for size, locale in (("narrow", "nl-NL"), ("wide", "nl-NL"), ("wide", "en-GB")):
        context = browser.new_context(viewport=SIZES[size], locale=locale)
        try:
            walk(context.new_page(), app, live_app, sim, size, locale[:2], found)
        finally:
            context.close()
        Connection.delete().execute()
        LoginAttempt.delete().execute()
        RateLimitCount.delete().execute()  # each walk starts five logins: the account's limit is not tested here
    assert not found, "axe (WCAG 2.2 AA) found:\n" + "\n".join(found)


def walk(page, app, live_app, sim, size, language, found):
    from playwright.sync_api import expect

    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    wizard = WizardActions(client, sim)
    look = partial(check_page, found=found)
    page.goto(f"{live_app}/integraties")
    look(page, size, "1-integraties")
    page.goto(f"{live_app}/exact")
    look(page, size, "1b-overzicht-niet-verbonden")
    page.goto(f"{live_app}/exact/land")
    look(page, size, "2-land")
    # The popup login: the iframe waits (outside an iframe the popup counts as blocked), the popup's pages.
    with app.app_context():
        attempt, _handoff = LoginAttempt.start("demo", "nl", "Anna de Boer", None, LoginAttempt.POPUP)
    page.goto(f"{live_app}/exact/login/{attempt.id}/status")
    look(page, size, "3-wachten-op-exact")
    page.goto(f"{live_app}/exact/login/{attempt.id}")
    expect(page.locator("[data-handoff-missing]")).to_be_visible(timeout=10000)
    look(page, size, "3b-popup-start")
    LoginAttempt.update(outcome="aborted").where(LoginAttempt.id == attempt.id).execute()
    page.goto(f"{live_app}/exact/login/{attempt.id}")
    look(page, size, "3c-popup-geannuleerd")

    assert wizard.connect(JAN).status_code == 303
    page.goto(f"{live_app}/exact/verbinding")
    look(page, size, "4-verbinding")
    page.goto(f"{live_app}/exact/administratie")
    look(page, size, "5-administratie")
    page.locator("#division-101").check()
    page.locator("#administration-list button[type=submit]").click()
    page.locator("#administration-preview").wait_for()
    look(page, size, "5b-administratie-gekozen")
    page.goto(f"{live_app}/exact/instellingen")
    look(page, size, "6-instellingen")
    page.locator("form.settings button.button--primary").click()
    page.locator("#exact [role=alert]").wait_for()
    look(page, size, "6b-instellingen-fouten")
    assert wizard.configure().status_code == 303
    page.goto(f"{live_app}/exact/controle")
    look(page, size, "7-controle")
    page.locator("#save-form button.button--primary").click()
    page.locator("#confirm-errors").wait_for()
    look(page, size, "7b-controle-niet-bevestigd")
    assert wizard.save().status_code == 303
    page.goto(f"{live_app}/exact?notice=saved")
    page.locator("details.technical summary").click()
    page.locator("details.history summary").click()
    look(page, size, "8-opgeslagen")
    page.goto(f"{live_app}/exact/testen")
    page.locator("#exact button.button--primary").click()
    page.locator("#exact .report").wait_for()
    look(page, size, "8b-verbinding-getest")
    page.goto(f"{live_app}/exact/verbreken")
    look(page, size, "8d-verbreken")
    page.goto(f"{live_app}/exact/land")
    look(page, size, "8c-opnieuw-inloggen")
    # A new login that leaves out the locked administration: refused, the saved connection's heading kept.
    page.locator("input[name=country][value=nl]").check()
    page.locator("#exact button.button--primary").click()
    page.wait_for_url("**/nl/api/oauth2/auth?**")
    page.fill("input[name=username]", JAN)
    page.fill("input[name=password]", "demo")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.locator("input[name=division][value='101']").uncheck()
    page.get_by_role("button", name="Toestaan").click()
    expect(page.locator("#login-not-used")).to_be_visible()
    assert re.search(r"/exact/callback/[\w-]+/klaar$", page.url)  # no code in the address bar
    look(page, size, "8e-nieuwe-login-niet-gebruikt")
    page.goto(f"{live_app}/no-such-page")
    look(page, size, "9-niet-gevonden")

    # The popup's last page, at its clean address; Piet's missing right on the checklist; the accountant's pages.
    _attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    done = popup.get(path_of(sim.login(authorize, JAN, cancel=True)))
    cookie = popup.get_cookie(f"exact_login_{_attempt.id}", path="/exact/callback")
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": f"{live_app}/exact/callback"}])
    page.goto(f"{live_app}{done.headers['Location']}")
    look(page, size, "9b-popup-klaar")
    client.post("/exact/verbreken")
    assert wizard.connect(PIET).status_code == 303 and wizard.choose(111).status_code == 303
    assert wizard.configure(import_employees="y").status_code == 303
    page.goto(f"{live_app}/exact/controle")
    page.locator("#confirm").check()
    page.locator("#save-form button.button--primary").click()
    page.locator("#check-rights.failed").wait_for()
    look(page, size, "7c-controle-rechten-ontbreken")
    page.locator(".switch-off button[type=submit]").click()
    page.locator("#switched-off").wait_for()
    look(page, size, "7d-controle-uitgezet")
    assert wizard.connect(ACCOUNTANT).status_code == 303
    page.goto(f"{live_app}/exact/administratie?page=2")
    look(page, size, "5c-administratie-pagina-2")


def test_at_320_px_each_administration_is_a_block_with_all_its_facts(browser, app, live_app, sim):
    context = browser.new_context(viewport={"width": 320, "height": 800}, locale="nl-NL")
    page = context.new_page()
    try:
        assert WizardActions(app.test_client(), sim).connect(JAN).status_code == 303
        page.goto(f"{live_app}/exact/administratie")
        check_page(page, "320", "5-administratie")
        rows = page.evaluate("""() => [...document.querySelectorAll('.admins tbody tr')].map(row =>
            [...row.querySelectorAll('td[data-label]')].map(cell => {
                const box = cell.getBoundingClientRect();
                return {label: cell.dataset.label, text: cell.innerText, named: getComputedStyle(cell, '::before').content,
                        visible: box.width > 0 && box.height > 0,
                        inside: box.left >= 0 && box.right <= document.documentElement.clientWidth,
                        cut: cell.scrollWidth > cell.clientWidth + 1}; }))""")
        assert len(rows) == 4
        for cells in rows:
            assert [cell["label"] for cell in cells] == ["Code", "Land", "Valuta", "Btw-nummer", "Status"]
            for cell in cells:
                assert cell["visible"] and cell["inside"] and not cell["cut"], cell
                assert cell["named"] == f'"{cell["label"]}"' and cell["text"].strip(), cell  # says what it is
        archived = page.locator("tr:has(#division-103)")
        assert "Niet te kiezen: gearchiveerd in Exact Online" in archived.inner_text()
        assert page.locator("#division-103").get_attribute("aria-describedby") == "why-103"
    finally:
        context.close()
