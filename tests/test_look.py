"""What the pages say and link for a clear look (issue 16): a favicon on every page, the popup's too; the integrations
heading once inside OutSmart; why an administration cannot be chosen; no jargon in the main view. (The layout at 360
and 1280 px, one primary button a page and the stepper on one line: test_browser_layout.py.)"""
import re

from models import LoginAttempt
from simhelpers import JAN
from views.embed import make_entry_token
from wizard_actions import HTMX
from wizard_actions import path_of
from wizard_actions import popup_to_exact

ICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


def test_the_favicon_is_served_and_every_kind_of_page_links_it(app, client, wizard, sim):
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    back = popup.get(path_of(sim.login(authorize, JAN, cancel=True)))
    pages = {"integrations": client.get("/integraties"), "country": client.get("/exact/land"),
             "not found": client.get("/no-such-page"), "popup start": popup.get(f"/exact/login/{attempt.id}"),
             "popup done": popup.get(back.headers["Location"])}
    assert ICON not in client.get("/exact/land", headers=HTMX).get_data(as_text=True)  # a fragment has no <head>
    app.config["DEFAULT_ACCOUNT"] = None
    pages["open from OutSmart"] = app.test_client().get("/exact/land")
    assert pages["open from OutSmart"].status_code == 401
    for name, page in pages.items():
        assert ICON in page.get_data(as_text=True), name


def test_inside_outsmart_the_integrations_heading_is_not_shown_twice(app, client):
    standalone = client.get("/integraties").get_data(as_text=True)
    assert '<h1 id="exact-title" tabindex="-1">Software-integraties</h1>' in standalone
    with app.app_context():
        token = make_entry_token("acme", "Anna", "nl")
    embedded = client.get(f"/embed?token={token}").get_data(as_text=True)
    # OutSmart's own page is headed "Software-integraties": ours stays for screen readers, out of sight.
    assert '<h1 id="exact-title" tabindex="-1" class="visually-hidden">Software-integraties</h1>' in embedded
    # No breadcrumb link of our own beside it: the text shown is that heading's only (the <title> and the session
    # warning's words, which name OutSmart's menu path, are not headings).
    assert embedded.count(">Software-integraties<") == 1


def test_an_administration_that_cannot_be_chosen_says_why_next_to_it(client, wizard):
    wizard.connect(JAN)
    html = client.get("/exact/administratie").get_data(as_text=True)
    for code, why in ((103, "Niet te kiezen: gearchiveerd in Exact Online"),
                      (104, "Niet te kiezen: geblokkeerd in Exact Online")):
        row = re.search(rf'<tr class="unavailable[^"]*">(.*?)</tr>', html[html.index(f'id="division-{code}"') - 300:],
                        re.S).group(1)
        assert f'disabled aria-describedby="why-{code}"' in row
        assert f'<span class="why" id="why-{code}">{why}</span>' in row
    assert 'aria-describedby="why-101"' not in html and 'id="why-101"' not in html


def test_the_pages_speak_plainly(client, wizard):
    """No "inlogflow", no "Toegangstoken", no counter of "this minute" anywhere on the way; the technical words only
    behind "Technische details"."""
    seen = [client.get("/exact/land").get_data(as_text=True)]
    wizard.connect(JAN)
    seen.append(client.get("/exact/verbinding").get_data(as_text=True))
    wizard.choose(101)
    wizard.configure()
    seen.append(client.get("/exact/controle").get_data(as_text=True))
    wizard.save()
    client.post("/exact/instellingen/vernieuwen")
    overview = client.get("/exact").get_data(as_text=True)
    seen.append(overview)
    for html in seen:
        assert "inlogflow" not in html and "Toegangstoken" not in html and "deze minuut" not in html
    main, technical = overview.split('<details class="technical" id="technical-details">')
    assert "<summary>Technische details</summary>" in technical
    for word in ("Huidige toegang geldig tot", "Exact-verzoeken over", "Laatst vernieuwd", "Toegang vernieuwen"):
        assert word not in main and word in technical, word
    assert "U hoeft niets te doen." in main


def test_one_primary_button_on_the_administration_step_once_one_is_chosen(client, wizard):
    wizard.connect(JAN)
    before = client.get("/exact/administratie").get_data(as_text=True)
    assert before.count("button--primary") == 1  # Deze administratie kiezen
    wizard.choose(101)
    after = client.get("/exact/administratie").get_data(as_text=True)
    assert after.count("button--primary") == 1 and re.search(r'button--primary"[^>]*>Verder naar import', after)
    assert LoginAttempt.select().count() == 1
