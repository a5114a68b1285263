"""Step 5: one administration, found quickly, previewed before going on."""
from models import Connection
from simhelpers import ACCOUNTANT
from simhelpers import JAN
from simhelpers import KARIN
from wizard_actions import HTMX


def test_list_shows_each_administrations_facts(client, wizard):
    wizard.connect(JAN)
    html = client.get("/exact/administratie").get_data(as_text=True)
    for text in ("101", "Bakker Installatietechniek B.V.", "NL", "EUR", "huidige", "Gearchiveerd", "Geblokkeerd"):
        assert text in html, text


def test_archived_and_blocked_are_visible_but_not_selectable(client, wizard):
    wizard.connect(JAN)
    html = client.get("/exact/administratie").get_data(as_text=True)
    assert 'value="103" id="division-103"\n                     disabled' in html
    for code in (103, 104):
        response = wizard.choose(code)
        assert response.status_code == 422
        assert "gearchiveerd of geblokkeerd" in response.get_data(as_text=True)
    assert Connection.get().draft_division is None


def test_choosing_shows_a_preview_of_what_it_holds(client, wizard, sim):
    wizard.connect(JAN)
    response = wizard.choose(101, htmx=True)
    assert response.status_code == 303
    html = client.get("/exact/administratie").get_data(as_text=True)
    assert "Gekozen: Bakker Installatietechniek B.V. (101)" in html
    assert "75 relaties en 130 artikelen" in html


def test_preview_counts_are_read_from_exact_once(client, wizard, sim):
    wizard.connect(JAN)
    wizard.choose(101)
    sim.clear_calls()
    client.get("/exact/administratie")
    client.get("/exact/administratie")
    assert sorted(call["endpoint"] for call in sim.calls()) == ["crm/Accounts/$count", "logistics/Items/$count"]


def test_an_administration_outside_the_consent_is_refused(client, wizard):
    wizard.connect(KARIN)  # her consent page leaves her current administration unticked
    html = client.get("/exact/administratie").get_data(as_text=True)
    assert "Jansen Elektrotechniek B.V." not in html
    response = wizard.choose(121)
    assert response.status_code == 422
    assert "hoort niet bij de toegang" in response.get_data(as_text=True)


def test_accountant_with_250_administrations_pages_and_searches(client, wizard, sim):
    wizard.connect(ACCOUNTANT)
    first = client.get("/exact/administratie").get_data(as_text=True)
    assert "250 administraties" in first and "Pagina 1 van 13" in first
    sim.clear_calls()
    found = client.get("/exact/administratie/lijst?q=300123", headers=HTMX)
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and html.lstrip().startswith('<div id="administration-list"')
    assert "1 administratie" in html and 'value="300123"' in html
    assert sim.calls() == []  # search and paging cost no Exact calls


def test_search_by_name_and_second_page(client, wizard):
    wizard.connect(ACCOUNTANT)
    html = client.get("/exact/administratie?q=de jong").get_data(as_text=True)
    assert "De Jong" in html and "250 administraties" not in html
    second = client.get("/exact/administratie?page=2").get_data(as_text=True)
    assert "Pagina 2 van 13" in second


def test_search_list_without_htmx_is_the_full_page(client, wizard):
    wizard.connect(JAN)
    response = client.get("/exact/administratie/lijst?q=bakker")
    assert response.status_code == 303 and "/exact/administratie?q=bakker" in response.headers["Location"]


def test_steps_need_a_login_first(client):
    for url in ("/exact/administratie", "/exact/instellingen", "/exact/controle"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"].endswith("/exact"), url
