"""Step 7's pre-save checks as a checklist: each check with ✓, ✗ or – and why (in words for screen readers too); a
missing right names the settings that need it, and one button switches them off and shows the checklist again."""
import re
from html import unescape

import pytest

import connections
from models import Administration
from models import Connection
from simhelpers import JAN
from simhelpers import PIET
from wizard_actions import HTMX

PIETS_MISSING = ("Verkoopfacturen aanmaken – nodig voor: Aanmaken in Exact Online als: Verkoopfactuur")
EXPORT = "Afgeronde werkbonnen exporteren naar Exact Online"


def ready_to_save(wizard, username=JAN, code=101, **settings):
    assert wizard.connect(username).status_code == 303
    assert wizard.choose(code).status_code == 303
    assert wizard.configure(**settings).status_code == 303


def checks(html) -> dict:
    """{check id: (what screen readers hear first, the mark, the words)} of the checklist."""
    found = {}
    for item in re.findall(r'<li class="report__item[^"]*"[^>]*id="(check-[a-z]+)">(.*?)</li>\s*(?=<li class="report__item|</ol>)',
                           html, re.S):
        name, body = item
        mark = re.search(r'class="report__mark" aria-hidden="true">(.)<', body).group(1)
        said = re.search(r'class="visually-hidden">([^<]+)<', body).group(1)
        text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))).strip()
        found[name] = (said, mark, text)
    return found


def test_before_opslaan_the_country_is_checked_and_the_rest_says_what_it_will_check(client, wizard, sim):
    ready_to_save(wizard)
    sim.clear_calls()
    shown = checks(client.get("/exact/controle").get_data(as_text=True))
    assert sim.calls() == []  # the page asks Exact nothing: the rights are asked at Opslaan
    assert shown["check-country"][:2] == ("Gelukt:", "✓")
    assert "Gekozen land: Nederland. Ingelogd als jan@bakker-installatie.nl bij Exact Online Nederland." in \
        shown["check-country"][2]
    assert shown["check-rights"][:2] == ("Nog niet gecontroleerd:", "–")
    assert ("Wordt bij Exact Online gevraagd als u op Opslaan klikt. Nodig voor uw instellingen: Relaties bekijken, "
            "Artikelen bekijken, Verkoopfacturen aanmaken.") in shown["check-rights"][2]
    assert shown["check-administration"][:2] == ("Nog niet gecontroleerd:", "–")
    assert "Bevestig hieronder dat Bakker Installatietechniek B.V. (101) de juiste administratie is." in \
        shown["check-administration"][2]


def test_a_missing_right_is_a_cross_that_names_the_setting_needing_it(client, wizard):
    ready_to_save(wizard, PIET, 111)
    response = wizard.save()
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    shown = checks(html)
    assert shown["check-country"][:2] == ("Gelukt:", "✓")
    assert shown["check-rights"][:2] == ("Mislukt:", "✗")
    assert "De Exact Online-gebruiker mist 1 recht dat uw instellingen nodig hebben:" in shown["check-rights"][2]
    assert PIETS_MISSING in shown["check-rights"][2]
    assert shown["check-administration"][:2] == ("Gelukt:", "✓")  # ticked: that check passed
    assert f"Uitzetten: {EXPORT}." in shown["check-rights"][2]
    assert re.search(r'<input type="hidden" name="off" value="export_work_orders">', html)
    # The summary above names it too (and the saved connection's settings page says the same).
    assert ("mist deze rechten in administratie De Vries Klimaattechniek B.V.: Verkoopfacturen aanmaken (nodig voor: "
            "Aanmaken in Exact Online als: Verkoopfactuur)") in html
    assert Connection.get().division is None


def test_switching_them_off_shows_the_checklist_again_and_then_it_saves(client, wizard):
    ready_to_save(wizard, PIET, 111, import_employees="y")
    assert wizard.save().status_code == 422
    response = client.post("/exact/controle", data={"action": "switch_off", "off": "export_work_orders"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Uitgezet: {EXPORT}. De rechten zijn opnieuw gecontroleerd." in html
    shown = checks(html)
    assert shown["check-rights"][:2] == ("Gelukt:", "✓")
    assert "heeft de rechten die uw instellingen nodig hebben: Relaties bekijken, Artikelen bekijken, Medewerkers " \
           "bekijken." in shown["check-rights"][2]
    assert shown["check-administration"][:2] == ("Nog niet gecontroleerd:", "–")
    draft = Connection.get().draft_settings
    assert draft["export_work_orders"] is False and draft["import_employees"] is True
    assert wizard.save().status_code == 303
    assert Connection.get().settings["export_work_orders"] is False


def test_one_right_needed_by_two_settings_names_both_and_switches_both_off(client, wizard, sim):
    sim.seed_user("no-items@example.nl", 1, denied=[["logistics/Items", "GET"], ["payroll/Employees", "GET"]])
    assert wizard.connect("no-items@example.nl").status_code == 303
    assert wizard.choose(Administration.get().code).status_code == 303
    assert wizard.configure(import_hour_types="y", import_employees="y").status_code == 303
    response = wizard.save()
    shown = checks(response.get_data(as_text=True))
    assert "mist 2 rechten die uw instellingen nodig hebben:" in shown["check-rights"][2]
    assert ("Artikelen bekijken – nodig voor: Artikelen importeren als materialen, Arbeidsartikelen importeren als "
            "uursoorten") in shown["check-rights"][2]
    assert "Medewerkers bekijken – nodig voor: Medewerkers importeren" in shown["check-rights"][2]
    offered = re.findall(r'<input type="hidden" name="off" value="([a-z_]+)">', response.get_data(as_text=True))
    assert offered == ["import_materials", "import_hour_types", "import_employees"]
    switched = client.post("/exact/controle", data={"action": "switch_off", "off": offered})
    assert switched.status_code == 200 and checks(switched.get_data(as_text=True))["check-rights"][1] == "✓"
    draft = Connection.get().draft_settings
    assert not any(draft[name] for name in offered) and draft["import_relations"] is True


@pytest.mark.parametrize("off", [[], ["confirm"], ["division"], ["export_work_orders", "nonsense"], ["x" * 300]])
def test_switching_off_anything_else_is_refused_in_words_and_changes_nothing(client, wizard, off):
    ready_to_save(wizard, PIET, 111)
    before = Connection.get().draft_settings
    response = client.post("/exact/controle", data={"action": "switch_off", "off": off})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Kies welke instellingen uit moeten." in html or "Not a valid choice" in html or "geldige keuze" in html
    assert Connection.get().draft_settings == before


def test_switching_off_after_another_window_changed_the_settings_keeps_nothing(client, wizard):
    ready_to_save(wizard, PIET, 111)
    Connection.update(draft_settings={**Connection.get().draft_settings, "import_employees": True}).execute()
    stale = Connection.get()
    stale.draft_settings = {**stale.draft_settings, "import_employees": False}  # what this window had read
    assert connections.switch_off(stale, ["export_work_orders"]) is None
    assert Connection.get().draft_settings["export_work_orders"] is True
