"""The whole standalone setup with the keyboard only, and again with JavaScript off (plain posts and redirects)."""
import pytest

from simhelpers import JAN
from wizard_actions import EXACT_SELECTS

pytestmark = pytest.mark.e2e


def focused(page, selector):
    return page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page, selector, limit=80, backwards=False):
    """Press Tab (or Shift+Tab) until the focused element matches `selector`; check its focus is visible."""
    for _ in range(limit):
        if focused(page, selector):
            break
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    else:
        raise AssertionError(f"Tab never reached {selector}")
    style = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
        return {visible: e.matches(':focus-visible'), outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")
    if page.url.startswith(page.context.app_url):  # our pages (the simulator has its own styles)
        assert style["visible"] and style["outline"] != "none" and style["width"] >= 2, (selector, style)


def expect_step(page, heading):
    """After an htmx swap the new step's h1 has the focus."""
    from playwright.sync_api import expect

    expect(page.locator("#exact h1")).to_have_text(heading)
    page.wait_for_function("() => document.activeElement && document.activeElement.matches('#exact h1')")


def test_whole_setup_with_the_keyboard_only(page, live_app):
    from playwright.sync_api import expect

    page.context.app_url = live_app
    page.goto(f"{live_app}/integraties")
    tab_to(page, "#exact a.button")                       # Instellingen openen
    page.keyboard.press("Enter")
    expect_step(page, "Exact Online")
    tab_to(page, "#exact a.button--primary")              # Verbinden met Exact Online
    page.keyboard.press("Enter")
    expect_step(page, "Inloggen bij Exact Online")

    tab_to(page, "input[name=country]")                   # the radio group: first country
    page.keyboard.press("ArrowDown")                      # België …
    page.keyboard.press("ArrowUp")                        # … and back to Nederland, which arrows also select
    assert page.locator("input[name=country][value=nl]").is_checked()
    tab_to(page, "#exact button[type=submit]")
    page.keyboard.press("Enter")                          # a full-page navigation to Exact's login

    page.wait_for_url("**/nl/api/oauth2/auth?**")
    tab_to(page, "input[name=username]")
    page.keyboard.type(JAN)
    page.keyboard.press("Tab")
    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/nl/api/oauth2/login**")
    tab_to(page, "button[value=allow]")
    page.keyboard.press("Enter")

    page.wait_for_url(f"{live_app}/exact/verbinding")
    tab_to(page, "#exact a.button--primary")              # Kies de administratie
    page.keyboard.press("Enter")
    expect_step(page, "Kies de administratie")
    tab_to(page, "input[name=division]")
    page.keyboard.press("Space")
    assert page.locator("#division-101").is_checked()
    tab_to(page, "#administration-list button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#administration-preview")).to_contain_text("Bakker Installatietechniek B.V.")
    expect_step(page, "Kies de administratie")
    tab_to(page, "#administration-preview a.button--primary")  # Verder naar import en export
    page.keyboard.press("Enter")

    expect_step(page, "Import- en exportinstellingen")
    for field in EXACT_SELECTS:
        tab_to(page, f"#{field}")
        page.keyboard.press("ArrowDown")                  # the first choice from Exact
        assert page.locator(f"#{field}").input_value(), field
    tab_to(page, "form.settings button.button--primary")
    page.keyboard.press("Enter")

    expect_step(page, "Controleren en opslaan")
    tab_to(page, "#confirm")
    page.keyboard.press("Space")
    tab_to(page, "#exact button.button--primary")         # Opslaan
    tab_to(page, "#confirm", backwards=True)               # Shift+Tab back: the box is still ticked
    assert page.locator("#confirm").is_checked()
    tab_to(page, "#exact button.button--primary")
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_app}/exact?notice=saved")
    expect_step(page, "Exact Online")
    expect(page.locator("#locked-administration")).to_contain_text("Bakker Installatietechniek B.V.")
    expect(page.get_by_role("status").filter(has_text="Opgeslagen")).to_be_visible()


def test_whole_setup_without_javascript(browser, live_app):
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 900}, locale="nl-NL")
    page = context.new_page()
    try:
        page.goto(f"{live_app}/integraties")
        page.get_by_role("link", name="Instellingen openen").click()
        expect(page).to_have_url(f"{live_app}/exact")
        page.get_by_role("link", name="Verbinden met Exact Online").click()
        expect(page).to_have_url(f"{live_app}/exact/land")
        page.get_by_role("button", name="Naar inlogpagina").click()   # nothing chosen: the browser asks first
        expect(page).to_have_url(f"{live_app}/exact/land")
        page.get_by_label("Nederland").check()
        page.get_by_role("button", name="Naar inlogpagina").click()
        page.wait_for_url("**/nl/api/oauth2/auth?**")
        page.fill("input[name=username]", JAN)
        page.fill("input[name=password]", "demo")
        page.get_by_role("button", name="Inloggen").click()
        page.get_by_role("button", name="Toestaan").click()

        expect(page).to_have_url(f"{live_app}/exact/verbinding")
        page.get_by_role("link", name="Kies de administratie").click()
        expect(page).to_have_url(f"{live_app}/exact/administratie")
        page.get_by_label("Zoek op naam of code").fill("Installatie")
        page.get_by_role("button", name="Zoeken").click()
        expect(page.locator("#administration-count")).to_contain_text("1 administratie gevonden")
        page.get_by_label("Bakker Installatietechniek B.V.").check()
        page.get_by_role("button", name="Deze administratie kiezen").click()
        expect(page.locator("#administration-preview")).to_contain_text("75 relaties en 130 artikelen")

        page.get_by_role("link", name="Verder naar import en export").click()
        expect(page).to_have_url(f"{live_app}/exact/instellingen")
        page.get_by_role("button", name="Verder naar controleren").click()   # nothing chosen yet: 422
        expect(page.get_by_role("alert")).to_contain_text("Controleer het volgende")
        for field in EXACT_SELECTS:
            page.select_option(f"#{field}", index=1)
        page.get_by_role("button", name="Verder naar controleren").click()

        expect(page).to_have_url(f"{live_app}/exact/controle")
        page.get_by_label("Ja, Bakker Installatietechniek B.V. (101) is de juiste administratie").check()
        page.get_by_role("button", name="Opslaan").click()
        expect(page).to_have_url(f"{live_app}/exact?notice=saved")
        expect(page.locator("#locked-administration")).to_contain_text("Bakker Installatietechniek B.V.")
        expect(page.get_by_role("status").filter(has_text="Opgeslagen")).to_be_visible()

        page.get_by_role("link", name="Verbinding verbreken").click()
        page.get_by_role("button", name="Verbinding verbreken").click()
        expect(page).to_have_url(f"{live_app}/exact?notice=disconnected")
    finally:
        context.close()
