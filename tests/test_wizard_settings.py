"""Step 6: import and export settings, with choices read live from the chosen administration."""
from models import Connection
from simhelpers import JAN
from wizard_actions import EXACT_SELECTS
from wizard_actions import form_options


def connected(wizard, code=101):
    wizard.connect(JAN)
    wizard.choose(code)


def test_choices_come_from_the_chosen_administration(client, wizard):
    connected(wizard)
    options = form_options(client.get("/exact/instellingen").get_data(as_text=True))
    for field in EXACT_SELECTS:
        assert options.get(field), field


def test_filter_choices_are_read_from_exact_only_when_the_admin_asks(client, wizard, sim):
    connected(wizard)
    sim.clear_calls()
    html = client.get("/exact/instellingen").get_data(as_text=True)
    read = " ".join(call["path"] for call in sim.calls())
    assert "AccountClassifications" not in read and "ItemGroups" not in read
    assert 'name="filters" value="relation_types"' in html and 'name="relation_types"' not in html
    sim.clear_calls()
    # The admin ticks "Ook inactieve relaties", then asks for the relation types.
    asked = client.post("/exact/instellingen", data={"import_relations": "y", "relations_include_inactive": "y",
                                                    "filters": "relation_types"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert [call["path"].split("/")[-1] for call in sim.calls()] == ["AccountClassifications"]
    assert form_options(html)["relation_types"], "the relation types are offered as checkboxes"
    assert 'id="relations_include_inactive" name="relations_include_inactive" type="checkbox" value="y"' in html
    assert 'checked id="relations_include_inactive"' in html, "what the admin ticked is kept"
    assert "errors" not in html.split('id="exact"')[1].split("<form")[0], "asking for choices is not a failed save"
    assert 'name="filters" value="item_groups"' in html, "the other filter is still only read on request"
    assert Connection.get().draft_settings is None, "nothing was saved"


def test_a_chosen_filter_is_saved_and_shown_again(client, wizard, sim):
    connected(wizard)
    kind = form_options(client.post("/exact/instellingen", data={"filters": "item_groups"})
                        .get_data(as_text=True))["item_groups"][0]
    assert wizard.configure(item_groups=kind).status_code == 303
    assert Connection.get().draft_settings["item_groups"] == [kind]
    html = client.get("/exact/instellingen").get_data(as_text=True)
    assert f'checked id="item_groups-0" name="item_groups" type="checkbox" value="{kind}"' in html


def test_only_sales_journals_and_revenue_accounts_are_offered(client, wizard, sim):
    connected(wizard)
    html = client.get("/exact/instellingen").get_data(as_text=True)
    assert "Inkoopboek" not in html and "Kas" not in html.split('name="sales_journal"')[1].split("</select>")[0]


def test_lists_are_cached_and_refreshable(client, wizard, sim):
    connected(wizard)
    client.get("/exact/instellingen")
    sim.clear_calls()
    client.get("/exact/instellingen")
    assert sim.calls() == []
    response = client.post("/exact/instellingen/vernieuwen")
    assert response.status_code == 303
    assert len(sim.calls()) == 4, "the four export lists; the filter lists were never asked for"
    client.post("/exact/instellingen", data={"filters": "relation_types"})
    sim.clear_calls()
    client.post("/exact/instellingen/vernieuwen")
    assert len(sim.calls()) == 5, "a filter list read once is refreshed with the others"


def test_missing_export_choices_are_refused_next_to_the_field(client, wizard):
    connected(wizard)
    response = wizard.configure(sales_journal="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="sales_journal-errors"' in html and "Kies een verkoopdagboek." in html
    assert Connection.get().draft_settings is None


def test_a_value_exact_does_not_have_is_refused(client, wizard):
    connected(wizard)
    response = wizard.configure(vat_21="NOPE")
    assert response.status_code == 422
    assert Connection.get().draft_settings is None


def test_without_exports_the_export_fields_may_stay_empty(client, wizard):
    connected(wizard)
    response = wizard.configure(export_work_orders=None, sales_journal="", revenue_account="", vat_21="",
                                vat_9="", vat_0="", payment_condition="")
    assert response.status_code == 303 and response.headers["Location"].endswith("/exact/controle")
    assert Connection.get().draft_settings["export_work_orders"] is False


def test_same_trigger_and_success_status_is_refused(client, wizard):
    connected(wizard)
    response = wizard.configure(trigger_status="afgehandeld", success_status="afgehandeld")
    assert response.status_code == 422
    assert "moet anders zijn" in response.get_data(as_text=True)


def test_valid_settings_go_to_the_checks(client, wizard):
    connected(wizard)
    response = wizard.configure(relations_include_inactive="y", hour_rounding="30")
    assert response.status_code == 303 and response.headers["Location"].endswith("/exact/controle")
    draft = Connection.get().draft_settings
    assert draft["relations_include_inactive"] is True and draft["hour_rounding"] == "30"
    assert Connection.get().settings is None  # nothing is saved before Opslaan
