"""Where the keyboard lands, beyond what axe checks: every error-summary link on the element next to its error, the
focus at what "Filteren op …" and "Vernieuwen" loaded, the administrations one named group, and a window title per
step that follows every htmx swap."""
import pytest

from simhelpers import JAN
from simhelpers import PIET
from wizard_actions import WizardActions

pytestmark = pytest.mark.e2e

LANDED = """(error) => {
    const focused = document.activeElement;
    const described = (focused.getAttribute('aria-describedby') || '').split(/\\s+/)
        .map((id) => document.getElementById(id)).filter(Boolean).map((element) => element.textContent).join(' ');
    const box = focused.getBoundingClientRect();
    return {id: focused.id, tag: focused.tagName.toLowerCase(),
            near: focused.textContent.includes(error) || described.includes(error),
            inView: box.top < window.innerHeight && box.bottom > 0};
}"""


def follow_every_summary_link(page):
    """Follow each link of the step's error summary with the keyboard; each lands on its target, focused, with its
    error inside it or in its description, on screen. Returns the targets' ids in order."""
    # app.js moves the focus once htmx's swap has settled: only then is the keyboard the admin's.
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    links = page.locator("#exact [role=alert] a[href^='#']")
    landed = []
    for index in range(links.count()):
        link = links.nth(index)
        error = link.inner_text().strip()
        link.focus()
        page.keyboard.press("Enter")
        where = page.evaluate(LANDED, error)
        target = link.get_attribute("href")[1:]
        assert where["id"] == target, (error, where)
        assert where["near"] and where["inView"], (error, where)
        landed.append(f"{where['tag']}#{where['id']}")
    return landed


def test_every_error_summary_link_lands_next_to_its_error(page, app, live_app, sim):
    from playwright.sync_api import expect

    wizard = WizardActions(app.test_client(), sim)
    page.goto(f"{live_app}/exact/land")
    page.locator("#exact form").evaluate("form => form.noValidate = true")
    page.get_by_role("button", name="Naar inlogpagina").click()
    expect(page.locator("#exact [role=alert]")).to_be_visible()
    assert follow_every_summary_link(page) == ["fieldset#country"]
    expect(page.locator("fieldset#country legend + .errors")).to_have_text("Kies het land waar uw Exact Online-account "
                                                                           "is aangemaakt.")

    assert wizard.connect(PIET).status_code == 303
    page.goto(f"{live_app}/exact/administratie")
    page.get_by_role("button", name="Deze administratie kiezen").click()  # none chosen
    expect(page.locator("#exact [role=alert]")).to_contain_text("Kies een administratie uit de lijst.")
    assert follow_every_summary_link(page) == ["fieldset#division"]
    expect(page.locator("#division-errors")).to_have_text("Kies een administratie uit de lijst.")  # by the list

    assert wizard.choose(111).status_code == 303
    page.goto(f"{live_app}/exact/instellingen")
    page.locator("input[name=document_type]").evaluate_all("radios => radios.forEach(r => r.checked = false)")
    page.get_by_role("button", name="Filteren op relatietype…").click()
    expect(page.locator("#relation_types")).to_be_visible()
    page.locator("#exact form.settings").evaluate("form => form.noValidate = true")
    page.locator("input[name=document_type]").evaluate_all("radios => radios.forEach(r => r.checked = false)")
    page.get_by_role("button", name="Verder naar controleren").click()
    expect(page.locator("#exact [role=alert]")).to_be_visible()
    # The VAT rows come pre-chosen (the one obvious answer); the other lists from Exact are left to choose.
    assert follow_every_summary_link(page) == ["fieldset#document_type", "select#sales_journal",
                                               "select#revenue_account", "select#payment_condition"]

    assert wizard.configure().status_code == 303  # Piet may not create sales invoices: the rights check fails
    page.goto(f"{live_app}/exact/controle")
    page.locator("#exact input[name=country]").evaluate("input => input.value = 'be'")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("#check-rights.failed")).to_be_visible()
    assert follow_every_summary_link(page) == ["p#country", "input#confirm", "p#rights"]


def test_focus_stays_at_what_a_button_loaded(page, app, live_app, sim):
    from playwright.sync_api import expect

    wizard = WizardActions(app.test_client(), sim)
    assert wizard.connect(JAN).status_code == 303
    assert wizard.choose(101).status_code == 303
    page.goto(f"{live_app}/exact/instellingen")
    page.get_by_role("button", name="Filteren op relatietype…").click()
    group = page.get_by_role("group", name="Alleen deze relatietypen (niets aangevinkt: alle)")
    expect(group).to_be_focused()
    expect(group.get_by_role("checkbox").first).to_be_visible()
    page.keyboard.press("Tab")
    expect(group.get_by_role("checkbox").first).to_be_focused()  # on into the choices it loaded

    page.get_by_role("button", name="Filteren op artikelgroep…").click()
    expect(page.get_by_role("group", name="Alleen deze artikelgroepen (niets aangevinkt: alle)")).to_be_focused()

    page.get_by_role("button", name="Vernieuwen").click()
    fetched = page.locator("#lists-fetched")
    expect(fetched).to_be_focused()
    expect(fetched).to_contain_text("opgehaald uit Exact Online op")


def test_the_administrations_are_one_named_group(page, app, live_app, sim):
    from playwright.sync_api import expect

    assert WizardActions(app.test_client(), sim).connect(JAN).status_code == 303
    page.goto(f"{live_app}/exact/administratie")
    group = page.get_by_role("group", name="Administratie")
    expect(group.get_by_role("radio")).to_have_count(page.locator("input[name=division]").count())
    expect(group.get_by_role("radio", name="Bakker Installatietechniek B.V.")).to_be_visible()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_each_step_has_its_own_window_title_after_every_swap(browser, app, live_app, sim, language):
    from playwright.sync_api import expect

    titles = {
        "nl": ["Software-integraties — Exact Online", "Instellingen — Exact Online",
               "Stap 2 van 7: Land kiezen — Exact Online", "Fout: Stap 2 van 7: Land kiezen — Exact Online",
               "Stap 5 van 7: Administratie kiezen — Exact Online"],
        "en": ["Software integrations — Exact Online", "Settings — Exact Online",
               "Step 2 of 7: Choose country — Exact Online", "Error: Step 2 of 7: Choose country — Exact Online",
               "Step 5 of 7: Choose administration — Exact Online"],
    }[language]
    context = browser.new_context(locale={"nl": "nl-NL", "en": "en-GB"}[language])
    page = context.new_page()
    try:
        page.goto(f"{live_app}/integraties")
        expect(page).to_have_title(titles[0])
        page.locator("#exact a.button").click()  # htmx swaps the next step in: the title follows
        expect(page.locator("#exact h1")).to_be_focused()
        expect(page).to_have_title(titles[1])
        page.locator("#exact a.button--primary").click()
        expect(page).to_have_title(titles[2])
        page.locator("#exact form").evaluate("form => form.noValidate = true")
        page.locator("#exact button[type=submit]").click()
        expect(page).to_have_title(titles[3])

        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        assert WizardActions(client, sim).connect(JAN).status_code == 303
        page.goto(f"{live_app}/exact/administratie")
        expect(page).to_have_title(titles[4])
        page.locator("#q").press_sequentially("Bakker")  # the list's fragment keeps the step's title
        expect(page.locator("#administration-count")).to_contain_text("Bakker")
        expect(page).to_have_title(titles[4])
    finally:
        context.close()
