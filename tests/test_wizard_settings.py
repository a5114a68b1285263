"""Step 6: import and export settings, with choices read live from the chosen administration."""
from models import Connection
from wizard_actions import form_options

JAN = "jan@bakker-installatie.nl"


def connected(wizard, code=101):
    wizard.connect(JAN)
    wizard.choose(code)


def test_choices_come_from_the_chosen_administration(client, wizard):
    connected(wizard)
    options = form_options(client.get("/exact/instellingen").get_data(as_text=True))
    for field in ("sales_journal", "revenue_account", "vat_high", "vat_low", "vat_zero", "payment_condition",
                  "item_groups", "relation_types"):
        assert options.get(field), field


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
    assert len(sim.calls()) == 6


def test_missing_export_choices_are_refused_next_to_the_field(client, wizard):
    connected(wizard)
    response = wizard.configure(sales_journal="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="sales_journal-errors"' in html and "Kies een verkoopdagboek." in html
    assert Connection.get().draft_settings is None


def test_a_value_exact_does_not_have_is_refused(client, wizard):
    connected(wizard)
    response = wizard.configure(vat_high="NOPE")
    assert response.status_code == 422
    assert Connection.get().draft_settings is None


def test_without_exports_the_export_fields_may_stay_empty(client, wizard):
    connected(wizard)
    response = wizard.configure(export_work_orders=None, sales_journal="", revenue_account="", vat_high="",
                                vat_low="", vat_zero="", payment_condition="")
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
