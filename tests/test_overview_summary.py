"""The saved overview tells every setting in words, in the settings page's sections: Exact's codes with their
descriptions (from the lists cached for the administration, no call to Exact), the filters, on and off as words."""
import re
from html import unescape

from models import Connection
from models import ExactList
from simhelpers import JAN
from wizard_actions import form_options


def summary_of(html) -> dict:
    """{section title: {label: value}} of the overview's settings."""
    found = {}
    for title, body in re.findall(r'<h3 id="summary-[a-z]+">([^<]+)</h3>\s*<dl[^>]*>(.*?)</dl>', html, re.S):
        pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", body, re.S)
        found[unescape(title)] = {unescape(label): unescape(value) for label, value in pairs}
    return found


def test_every_setting_is_told_in_words_with_exacts_descriptions(client, wizard, sim):
    assert wizard.connect(JAN).status_code == 303
    assert wizard.choose(101).status_code == 303
    client.post("/exact/instellingen", data={"filters": "relation_types"})
    client.post("/exact/instellingen", data={"filters": "item_groups"})
    options = form_options(client.get("/exact/instellingen").get_data(as_text=True))
    assert wizard.configure(relation_types=options["relation_types"][:2], item_groups=options["item_groups"][0],
                            relations_include_blocked="y", import_employees="y", hour_rounding="15",
                            create_missing_items="y").status_code == 303
    assert wizard.save().status_code == 303
    settings = Connection.get().settings
    lists = {kind: {str(row["Code"]).strip(): row.get("Description") for row in cached.rows}
             for kind, cached in ExactList.cached(Connection.get(), 101).items() if kind != "counts"}
    described = lambda kind, code: f"{code} – {lists[kind][code]}"  # noqa: E731

    sim.clear_calls()
    html = client.get("/exact").get_data(as_text=True)
    assert sim.calls() == []  # told from the cache
    shown = summary_of(html)
    assert list(shown) == ["Importeren naar OutSmart", "Exporteren naar Exact Online", "Facturen in Exact Online"]
    imported = shown["Importeren naar OutSmart"]
    assert imported["Relaties importeren"] == "Aan"
    assert imported["Relatietypen"] == ", ".join(described("relation_types", code) for code in settings["relation_types"])
    assert imported["Ook inactieve relaties"] == "Uit" and imported["Ook geblokkeerde relaties"] == "Aan"
    assert imported["Artikelgroepen"] == described("item_groups", settings["item_groups"][0])
    assert imported["Medewerkers importeren"] == "Aan" and imported["Betalingstransacties importeren"] == "Uit"
    exported = shown["Exporteren naar Exact Online"]
    assert exported == {"Afgeronde werkbonnen exporteren naar Exact Online": "Aan",
                        "Exporteren bij werkbonstatus": "Compleet", "Status na geslaagde export": "Afgehandeld",
                        "Uren afronden": "Op 15 minuten", "Ontbrekende relaties aanmaken in Exact Online": "Uit",
                        "Ontbrekende artikelen aanmaken in Exact Online": "Aan"}
    invoices = shown["Facturen in Exact Online"]
    assert invoices["Aanmaken in Exact Online als"] == "Verkoopfactuur"
    assert invoices["Verkoopdagboek"] == described("journals", settings["sales_journal"])
    assert invoices["Standaard omzetrekening"] == described("revenue_accounts", settings["revenue_account"])
    assert invoices["Betalingsconditie"] == described("payment_conditions", settings["payment_condition"])
    for rate, code in settings["vat_codes"].items():
        assert invoices[f"Btw-code voor {rate}%"] == described("vat_codes", code)
    assert not [value for rows in shown.values() for value in rows.values() if value in ("✓", "–", "")]  # words


def test_what_does_not_count_is_left_out_and_said(client, wizard):
    assert wizard.connect(JAN).status_code == 303
    assert wizard.choose(101).status_code == 303
    assert wizard.configure(import_relations=None, export_work_orders=None).status_code == 303
    assert wizard.save().status_code == 303
    shown = summary_of(client.get("/exact").get_data(as_text=True))
    assert shown["Importeren naar OutSmart"]["Relaties importeren"] == "Uit"
    assert "Relatietypen" not in shown["Importeren naar OutSmart"]  # a filter of an import that is off
    assert shown["Importeren naar OutSmart"]["Artikelgroepen"] == "Alle artikelgroepen"
    assert shown["Exporteren naar Exact Online"] == {"Afgeronde werkbonnen exporteren naar Exact Online": "Uit"}
    assert shown["Facturen in Exact Online"] == {
        "Facturen in Exact Online": "Niet van toepassing: het exporteren staat uit."}


def test_a_code_whose_list_is_not_cached_is_shown_as_the_code(client, wizard):
    assert wizard.complete(JAN, 101).status_code == 303
    ExactList.delete().execute()
    settings = Connection.get().settings
    shown = summary_of(client.get("/exact").get_data(as_text=True))
    assert shown["Facturen in Exact Online"]["Verkoopdagboek"] == settings["sales_journal"]
    assert shown["Facturen in Exact Online"]["Btw-code voor 21%"] == settings["vat_codes"]["21"]
