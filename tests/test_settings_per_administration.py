"""Step 6 follows the chosen administration (issue 16): a VAT row per sales rate its own VAT codes carry, proposed with
the exclusive sales code of that rate; the one obvious answer proposed; choices carried from another administration
kept only where this one has them, the others cleared with a notice; every list from Exact in code order.

All of it over HTTP against the simulator, whose administrations carry their country's VAT codes (exact_sim/masterdata.py).
"""
import re

import pytest

from models import Connection
from models import Event
from models import ExactList
from simhelpers import CARMEN
from simhelpers import EMILY
from simhelpers import JAN
from simhelpers import JULIEN
from simhelpers import MAX
from simhelpers import OLIVER
from simhelpers import SOFIE
from simhelpers import USER_COUNTRY
from test_migrations import text_of
from views.embed import make_entry_token
from wizard_actions import DEFAULT_SETTINGS
from wizard_actions import form_options
from wizard_actions import submitted

CARRIED = "Deze instellingen hoorden bij een andere administratie en zijn leeggemaakt"


@pytest.fixture(autouse=True)
def _push_request_context():
    """Each request its own `g` (and so its own locale), as in production: see tests/test_languages.py."""


def connected(wizard, username, code):
    assert wizard.connect(username, USER_COUNTRY.get(username, "nl")).status_code == 303
    assert wizard.choose(code).status_code == 303


def settings_page(client):
    page = client.get("/exact/instellingen")
    assert page.status_code == 200, page.get_data(as_text=True)
    return page.get_data(as_text=True)


def vat_rows(html) -> list[tuple[str, str, list[str], list[str]]]:
    """Each VAT row in page order: (field, label, the codes offered, the code proposed)."""
    proposed = submitted(html)
    options = form_options(html)
    names = re.findall(r'<select[^>]* id="(vat_[^"]+)"', html)
    labels = {name: re.search(rf'<label for="{name}">([^<]+)</label>', html).group(1) for name in names}
    return [(name, labels[name], options.get(name, []), proposed.get(name, [])) for name in names]


def nothing_chosen(proposed: dict, name: str) -> bool:
    """The select shows "— kies —": no option, or the empty one, selected."""
    return proposed.get(name, [""]) == [""]


def as_proposed(html, **picks) -> dict:
    """What the page posts as it stands (DEFAULT_SETTINGS for the statuses), with the admin's own `picks`."""
    data = {name: values[0] for name, values in submitted(html).items() if name not in ("csrf_token", "_session")}
    return {**data, **DEFAULT_SETTINGS, **picks}


def test_a_belgian_admin_sees_belgian_vat_proposed_and_a_wrong_choice_is_refused(client, wizard):
    connected(wizard, SOFIE, 201)
    html = settings_page(client)
    assert vat_rows(html) == [
        ("vat_21", "Btw-code voor 21%", ["03"], ["03"]),
        ("vat_12", "Btw-code voor 12%", ["02"], ["02"]),
        ("vat_6", "Btw-code voor 6%", ["01"], ["01"]),
        ("vat_0", "Btw-code voor 0%", ["00"], ["00"]),
    ]
    assert "9%" not in text_of(html)
    # Offered: only the exclusive sales codes; the reverse-charge, inclusive and purchase-only ones are not.
    assert "03 – Btw 21%" in text_of(html)
    assert not {"04", "05", "06"} & {code for _, _, offered, _ in vat_rows(html) for code in offered}

    wrong = {  # row: (code posted, what the admin reads next to the row)
        "vat_12": ("03", "Btw-code 03 – Btw 21% is voor 21%, niet voor 12%."),
        "vat_0": ("04", "Btw-code 04 – Medecontractant (btw verlegd) is voor verlegde btw: daarmee berekent de "
                        "factuur geen btw."),
        "vat_21": ("05", "Btw-code 05 – Btw 21% inclusief rekent met prijzen inclusief btw; OutSmart stuurt prijzen "
                         "exclusief btw."),
        "vat_6": ("06", "Btw-code 06 – Btw 21% aankopen investeringen is alleen voor inkoop."),
    }
    picks = {"revenue_account": "8000", "payment_condition": "30"}
    for row, (code, words) in wrong.items():
        refused = client.post("/exact/instellingen", data=as_proposed(html, **picks, **{row: code}))
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422, (row, code)
        errors = re.search(rf'<ul class="errors" id="{row}-errors">(.*?)</ul>', page, re.S)
        assert errors, f"the refusal of {code} is next to {row}"
        rate = row.removeprefix("vat_")
        assert text_of(errors.group(1)).strip() == f"{words} Kies een btw-code voor verkoop van {rate}%, exclusief btw."
        assert f'<a href="#{row}">' in page, "the summary links to the row"
        assert Connection.get().draft_settings is None
    unknown = client.post("/exact/instellingen", data=as_proposed(html, **picks, vat_21="1"))
    assert unknown.status_code == 422
    assert "Deze btw-code bestaat niet in deze administratie." in text_of(unknown.get_data(as_text=True))

    accepted = client.post("/exact/instellingen", data=as_proposed(html, **picks))
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/exact/controle"
    assert Connection.get().draft_settings["vat_codes"] == {"21": "03", "12": "02", "6": "01", "0": "00"}


def test_a_dutch_admin_saves_without_touching_a_vat_or_journal_list(client, wizard, sim):
    connected(wizard, JAN, 101)
    html = settings_page(client)
    proposed = submitted(html)
    assert proposed["sales_journal"] == ["70"], "101's only sales journal"
    assert [(name, label, chosen) for name, label, _, chosen in vat_rows(html)] == [
        ("vat_21", "Btw-code voor 21%", ["1"]), ("vat_9", "Btw-code voor 9%", ["2"]), ("vat_0", "Btw-code voor 0%", ["0"])]
    # Where Exact has several answers the admin chooses: six revenue accounts, four payment conditions.
    assert nothing_chosen(proposed, "revenue_account") and nothing_chosen(proposed, "payment_condition")

    posted = {name: values[0] for name, values in proposed.items()} | {"revenue_account": "8010",
                                                                      "payment_condition": "14"}
    assert client.post("/exact/instellingen", data=posted).status_code == 303
    assert wizard.save().status_code == 303
    saved = Connection.get().settings
    assert (saved["sales_journal"], saved["vat_codes"]) == ("70", {"21": "1", "9": "2", "0": "0"})
    # The token API hands OutSmart's workers the same mapping.
    client.application.config["SERVICE_KEYS"] = {"sync-worker": "worker-key-Vd7q2LxN9sKp4RtZ8mWc3HyB6fJ"}
    described = client.get("/api/v1/accounts/demo/connection",
                           headers={"Authorization": "Bearer worker-key-Vd7q2LxN9sKp4RtZ8mWc3HyB6fJ"})
    assert described.json["settings"]["vat_codes"] == {"21": "1", "9": "2", "0": "0"}


def test_where_exact_has_one_answer_the_page_proposes_it(client, wizard):
    """Emily's 602 is a starter administration: one sales journal, one revenue account, one payment condition."""
    connected(wizard, EMILY, 602)
    html = settings_page(client)
    proposed = submitted(html)
    assert (proposed["sales_journal"], proposed["revenue_account"], proposed["payment_condition"]) == (
        ["70"], ["8000"], ["30"])
    assert [(name, label, chosen) for name, label, _, chosen in vat_rows(html)] == [
        ("vat_8_25", "Btw-code voor 8,25%", ["1"]), ("vat_0", "Btw-code voor 0%", ["0"])]
    response = client.post("/exact/instellingen", data=as_proposed(html))
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    # The optional import filters are never chosen for the admin, however few the choices.
    client.post("/exact/instellingen", data={"filters": "item_groups"})
    html = settings_page(client)
    assert form_options(html)["item_groups"] and "item_groups" not in submitted(html)


@pytest.mark.parametrize("username, code, rows", [
    (MAX, 401, [("vat_19", "19%", "1"), ("vat_7", "7%", "2"), ("vat_0", "0%", "0")]),
    (OLIVER, 501, [("vat_20", "20%", "1"), ("vat_5", "5%", "2"), ("vat_0", "0%", "0")]),
    (JULIEN, 801, [("vat_20", "20%", "1"), ("vat_10", "10%", "2"), ("vat_5_5", "5,5%", "3"),
                   ("vat_2_1", "2,1%", "4")]),
    (CARMEN, 701, [("vat_21", "21%", "1"), ("vat_10", "10%", "2"), ("vat_4", "4%", "3")]),
])
def test_germany_the_uk_france_and_spain_each_get_their_own_rows(client, wizard, username, code, rows):
    connected(wizard, username, code)
    html = settings_page(client)
    assert [(name, label, chosen) for name, label, _, chosen in vat_rows(html)] == [
        (name, f"Btw-code voor {rate}", [proposed]) for name, rate, proposed in rows]
    picks = {"revenue_account": "8000", "payment_condition": "30", "sales_journal": "70"}
    assert client.post("/exact/instellingen", data=as_proposed(html, **picks)).status_code == 303
    stored = Connection.get().draft_settings["vat_codes"]
    assert stored == {name.removeprefix("vat_").replace("_", "."): proposed for name, _, proposed in rows}


def test_rates_are_written_the_users_way_in_english(app, client, wizard):
    with app.app_context():
        token = make_entry_token("acme", "Anna de Boer", "en", "https://app.out-smart.com")
    assert client.get(f"/embed?token={token}").status_code == 200
    connected(wizard, JULIEN, 801)
    html = settings_page(client)
    assert [label for _, label, _, _ in vat_rows(html)] == [
        "VAT code for 20%", "VAT code for 10%", "VAT code for 5.5%", "VAT code for 2.1%"]
    refused = client.post("/exact/instellingen", data=as_proposed(html, vat_5_5="2", revenue_account="8000",
                                                                  payment_condition="30"))
    assert refused.status_code == 422
    assert ("VAT code 2 – TVA 10% is for 10%, not for 5.5%. Choose a sales VAT code of 5.5%, excluding VAT."
            in text_of(refused.get_data(as_text=True)))


def save_with(client, wizard, username, code, **picks):
    """The whole setup for one administration, the page's proposals posted with `picks`; then disconnect."""
    connected(wizard, username, code)
    html = settings_page(client)
    assert client.post("/exact/instellingen", data=as_proposed(html, **picks)).status_code == 303
    assert wizard.save().status_code == 303
    assert client.post("/exact/verbreken").status_code == 303


def test_settings_of_another_administration_are_kept_only_where_this_one_has_them(client, wizard):
    # Jan saved 102 with its second sales journal, then disconnects; Sofie connects the Belgian 201.
    save_with(client, wizard, JAN, 102, sales_journal="72", revenue_account="8100", payment_condition="14")
    assert Connection.get().settings["vat_codes"] == {"21": "1", "9": "2", "0": "0"}
    connected(wizard, SOFIE, 201)
    html = settings_page(client)
    notice = re.search(r'<p class="alert alert--info" role="status" id="carried-notice">([^<]+)</p>', html)
    assert notice and notice.group(1) == (
        f"{CARRIED}: Verkoopdagboek (72), Standaard omzetrekening (8100), Btw-code voor 21% (1), "
        "Btw-code voor 9% (2), Btw-code voor 0% (0). Kies ze hieronder opnieuw voor administratie 201.")
    proposed = submitted(html)
    # Kept where 201 has the code; what was cleared proposed anew where there is one answer.
    assert proposed["payment_condition"] == ["14"] and proposed["sales_journal"] == ["70"]
    assert nothing_chosen(proposed, "revenue_account")
    assert [chosen for _, _, _, chosen in vat_rows(html)] == [["03"], ["02"], ["01"], ["00"]]
    # Nothing is saved by looking: the connection keeps what it had until the admin goes on.
    assert Connection.get().settings["sales_journal"] == "72" and Connection.get().draft_settings is None

    assert client.post("/exact/instellingen", data=as_proposed(html, revenue_account="8200")).status_code == 303
    draft = Connection.get().draft_settings
    assert (draft["sales_journal"], draft["revenue_account"], draft["payment_condition"]) == ("70", "8200", "14")
    assert draft["vat_codes"] == {"21": "03", "12": "02", "6": "01", "0": "00"}
    # Gone for good: the page shows the draft from now on, without the notice.
    assert 'id="carried-notice"' not in settings_page(client)


def test_reconnecting_to_another_dutch_administration_clears_only_what_it_lacks(client, wizard):
    save_with(client, wizard, JAN, 102, sales_journal="72", revenue_account="8000", payment_condition="30")
    connected(wizard, JAN, 101)
    html = settings_page(client)
    assert f"{CARRIED}: Verkoopdagboek (72). Kies ze hieronder opnieuw voor administratie 101." in text_of(html)
    proposed = submitted(html)
    assert (proposed["sales_journal"], proposed["revenue_account"], proposed["payment_condition"]) == (
        ["70"], ["8000"], ["30"])
    assert [chosen for _, _, _, chosen in vat_rows(html)] == [["1"], ["2"], ["0"]]


def test_the_same_administration_again_keeps_every_choice_without_a_notice(client, wizard):
    save_with(client, wizard, JAN, 101, revenue_account="8030", payment_condition="08")
    connected(wizard, JAN, 101)
    html = settings_page(client)
    assert 'id="carried-notice"' not in html
    proposed = submitted(html)
    assert (proposed["revenue_account"], proposed["payment_condition"]) == (["8030"], ["08"])
    # Had Exact dropped the payment condition meanwhile, the page says so, without blaming another administration.
    cached = ExactList.get(ExactList.kind == "payment_conditions")
    cached.rows = [row for row in cached.rows if row["Code"] != "08"]
    cached.save()
    assert ("Deze eerder gekozen instellingen passen niet bij administratie 101 en zijn leeggemaakt: "
            "Betalingsconditie (08). Kies ze hieronder opnieuw.") in text_of(settings_page(client))


def test_a_draft_for_another_administration_is_not_offered_for_this_one(client, wizard):
    connected(wizard, JAN, 102)
    html = settings_page(client)
    assert client.post("/exact/instellingen", data=as_proposed(html, sales_journal="72", revenue_account="8000",
                                                               payment_condition="30")).status_code == 303
    assert wizard.choose(101).status_code == 303
    html = settings_page(client)
    proposed = submitted(html)
    assert proposed["sales_journal"] == ["70"] and nothing_chosen(proposed, "revenue_account")
    assert 'id="carried-notice"' not in html


def test_saved_choices_that_exact_no_longer_has_are_cleared_with_a_notice(client, wizard, sim):
    save_with_kept = {"revenue_account": "8300", "payment_condition": "08"}
    connected(wizard, JAN, 101)
    html = settings_page(client)
    assert client.post("/exact/instellingen", data=as_proposed(html, **save_with_kept)).status_code == 303
    assert wizard.save().status_code == 303
    # Exact's lists read again, as after Vernieuwen, lack the saved payment condition (a stored code Exact dropped).
    cached = ExactList.get(ExactList.kind == "payment_conditions")
    cached.rows = [row for row in cached.rows if row["Code"] != "08"]
    cached.save()
    html = settings_page(client)
    assert ("Deze eerder gekozen instellingen passen niet bij administratie 101 en zijn leeggemaakt: "
            "Betalingsconditie (08). Kies ze hieronder opnieuw.") in text_of(html)
    assert submitted(html)["revenue_account"] == ["8300"]


def test_every_list_from_exact_is_in_code_order_with_its_description(client, wizard, sim):
    connected(wizard, JAN, 101)
    client.post("/exact/instellingen", data={"filters": "relation_types"})
    html = client.post("/exact/instellingen", data={"filters": "item_groups", "relation_types": "B"}
                       ).get_data(as_text=True)
    token = sim.token_for(JAN)
    served = {name: [row["Code"] for row in sim.get(token, f"101/{resource}").json()["d"]["results"]]
              for name, resource in (("payment_condition", "cashflow/PaymentConditions"),
                                     ("item_groups", "logistics/ItemGroups"))}
    options = form_options(html)
    assert served["payment_condition"] != options["payment_condition"], "Exact sends them unsorted"
    assert options["payment_condition"] == ["00", "08", "14", "30"]
    assert options["item_groups"] == ["1", "2", "3", "4", "10"], "numerically: 10 after 4"
    assert options["relation_types"] == sorted(options["relation_types"])
    for name in ("sales_journal", "revenue_account", "vat_21"):
        codes = options[name]
        assert codes == sorted(codes, key=int), name
    text = text_of(html)
    assert "08 – 8 dagen" in text and "10 – Zonnepanelen" in text and "8300 – Omzet arbeid" in text


def test_without_vat_codes_exports_are_refused_in_words_and_imports_alone_go_on(client, wizard, sim):
    """A user who may not read the VAT codes gets an empty list from Exact: no row to map a rate to."""
    seeded = sim.seed_user("nina@zonder-btw.nl", 1, denied=[["vat/VATCodes", "GET"]])
    connected(wizard, "nina@zonder-btw.nl", seeded["first_division"])
    html = settings_page(client)
    assert vat_rows(html) == []
    assert "Deze administratie heeft geen btw-codes voor verkoop exclusief btw." in text_of(html)
    picks = {"sales_journal": "70", "revenue_account": "8000", "payment_condition": "30"}
    refused = client.post("/exact/instellingen", data=as_proposed(html, **picks))
    assert refused.status_code == 422
    assert ("Deze administratie heeft geen btw-codes die OutSmart voor verkoop kan gebruiken"
            in text_of(refused.get_data(as_text=True)))
    assert Connection.get().draft_settings is None
    imports_only = {name: value for name, value in as_proposed(html).items() if name != "export_work_orders"}
    assert client.post("/exact/instellingen", data=imports_only).status_code == 303
    assert Connection.get().draft_settings["vat_codes"] == {}


def test_the_history_names_each_vat_row_by_its_rate(client, wizard):
    save_with(client, wizard, JAN, 101, revenue_account="8000", payment_condition="30")
    connected(wizard, JAN, 101)
    assert client.post("/exact/instellingen", data=as_proposed(settings_page(client))).status_code == 303
    assert wizard.save().status_code == 303
    # Exports off, the VAT rows emptied: each row that changed is named.
    html = settings_page(client)
    data = {name: value for name, value in as_proposed(html).items() if name != "export_work_orders"}
    assert client.post("/exact/instellingen", data=data | {"vat_21": "", "vat_9": "", "vat_0": ""}).status_code == 303
    assert Connection.get().settings["vat_codes"] == {}
    # A change recorded by the release before issue 16 names its fixed row the same way.
    Event.record("demo", "settings_changed", "Anna de Vries", changed=["vat_low"])
    history = text_of(client.get("/exact").get_data(as_text=True))
    assert ("Instellingen gewijzigd: Afgeronde werkbonnen exporteren naar Exact Online, Btw-code voor 0%, "
            "Btw-code voor 21%, Btw-code voor 9%") in history
    assert "Instellingen gewijzigd: Btw-code voor 9% (door Anna de Vries)" in history


def test_import_filters_of_another_administration_are_kept_only_where_this_one_has_them(client, wizard):
    connected(wizard, JAN, 101)
    # "Filteren op artikelgroep…" posts the page as it stands, proposals included.
    html = client.post("/exact/instellingen", data=as_proposed(settings_page(client), filters="item_groups"))
    html = html.get_data(as_text=True)
    assert submitted(html)["vat_21"] == ["1"] and submitted(html)["sales_journal"] == ["70"]
    assert client.post("/exact/instellingen", data=as_proposed(
        html, item_groups=["2", "10"], revenue_account="8030", payment_condition="14")).status_code == 303
    assert wizard.save().status_code == 303
    assert client.post("/exact/verbreken").status_code == 303
    connected(wizard, JAN, 102)  # item groups 1, 2 and 4; no revenue account 8030
    html = settings_page(client)
    assert (f"{CARRIED}: Artikelgroep (10), Standaard omzetrekening (8030). Kies ze hieronder opnieuw voor "
            "administratie 102.") in text_of(html), "in the page's order"
    assert submitted(html)["item_groups"] == ["2"] and submitted(html)["payment_condition"] == ["14"]
