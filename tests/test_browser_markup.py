"""The attack of issue 14 in Chromium: an administration named as markup that htmx would post with.

Someone at Exact names the administrations `<div hx-post="/exact/verbreken" hx-trigger="load">`. Were that name
markup on any page, htmx would process it and post the disconnect with the page's own CSRF token and session. The
admin goes through the whole setup, refusals included; nothing is posted there, the name reads as typed, and the
connection stays saved.
"""
import pytest

from models import Connection
from models import Event
from simhelpers import JAN
from wizard_actions import EXACT_SELECTS

pytestmark = pytest.mark.e2e

ATTACK = '<div hx-post="/exact/verbreken" hx-trigger="load">'


def test_an_administration_named_as_an_htmx_post_posts_nothing(page, live_app, app, sim):
    from playwright.sync_api import expect

    app.config["WTF_CSRF_ENABLED"] = True  # as in production: the attack posts with the page's own token
    sim.settings(typed_texts=ATTACK)  # every name and description at Exact is the attack itself
    disconnects = []
    page.on("request", lambda request: "/exact/verbreken" in request.url and disconnects.append(request.method))

    page.goto(f"{live_app}/exact/land")
    assert page.evaluate("[htmx.config.allowEval, htmx.config.allowScriptTags, htmx.config.selfRequestsOnly]") == \
        [False, False, True]
    page.get_by_label("Nederland").check()
    page.get_by_role("button", name="Naar inlogpagina").click()
    page.wait_for_url("**/nl/api/oauth2/auth?**")
    page.fill("input[name=username]", JAN)
    page.fill("input[name=password]", "demo")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.get_by_role("button", name="Toestaan").click()
    expect(page).to_have_url(f"{live_app}/exact/verbinding")
    expect(page.locator("#connection-facts")).to_contain_text(f"{ATTACK} ({ATTACK})")  # Exact user and e-mail

    page.get_by_role("link", name="Kies de administratie").click()
    expect(page.locator("label[for=division-101]")).to_have_text(ATTACK)
    # A crafted choice of the archived administration: the refusal names it.
    page.locator("#division-103").evaluate("radio => { radio.disabled = false; radio.checked = true; }")
    page.get_by_role("button", name="Deze administratie kiezen").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Administratie {ATTACK} is gearchiveerd of geblokkeerd")
    page.locator("#division-101").check()
    page.get_by_role("button", name="Deze administratie kiezen").click()
    expect(page.locator("#administration-preview")).to_contain_text(f"Gekozen: {ATTACK} (101)")

    page.get_by_role("link", name="Verder naar import en export").click()
    expect(page).to_have_url(f"{live_app}/exact/instellingen")
    for field in EXACT_SELECTS:
        options = page.locator(f"#{field} option").all_text_contents()[1:]  # after "— kies —"
        assert options and all(option.endswith(f" – {ATTACK}") for option in options), (field, options)
        page.select_option(f"#{field}", index=1)
    page.get_by_role("button", name="Filteren op relatietype…").click()
    # In code order: A first (Exact sends them unsorted).
    expect(page.locator("label.option:has(input[name=relation_types])").first).to_have_text(f"A – {ATTACK}")
    page.get_by_role("button", name="Verder naar controleren").click()

    expect(page).to_have_url(f"{live_app}/exact/controle")
    page.get_by_role("button", name="Opslaan").click()  # not confirmed: refused, naming the administration
    expect(page.locator("#confirm-errors")).to_contain_text(f"Bevestig dat {ATTACK} (101)")
    page.locator("#confirm").check()
    page.get_by_role("button", name="Opslaan").click()
    expect(page).to_have_url(f"{live_app}/exact?notice=saved")
    expect(page.locator("#locked-administration strong")).to_have_text(ATTACK)
    page.locator("details.history summary").click()
    expect(page.locator("#history")).to_contain_text(ATTACK)

    page.reload()  # the saved overview loaded whole, as the admin opens it next time
    expect(page.locator("#locked-administration strong")).to_have_text(ATTACK)
    page.wait_for_load_state("networkidle")
    assert page.locator("[hx-trigger=load]").count() == 0
    assert disconnects == [], "the name was processed as markup and posted"
    connection = Connection.get()
    assert (connection.status, connection.division, connection.division_name) == (Connection.SAVED, 101, ATTACK)
    assert connection.refresh_token
    assert [event.action for event in Event.select().order_by(Event.id)] == ["connected", "saved"]
