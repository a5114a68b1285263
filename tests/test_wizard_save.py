"""Step 7 and after: the pre-save checks, Opslaan, the lock, editing, disconnecting and connecting again."""
import re
import time

from models import Connection
from models import Event
from simhelpers import JAN
from simhelpers import PIET
from simhelpers import SOFIE
from wizard_actions import HTMX


def ready_to_save(wizard, username=JAN, code=101, country="nl", **settings):
    assert wizard.connect(username, country).status_code == 303
    assert wizard.choose(code).status_code == 303
    assert wizard.configure(**settings).status_code == 303


def test_check_page_names_the_administration_and_warns_about_the_lock(client, wizard):
    ready_to_save(wizard)
    html = client.get("/exact/controle").get_data(as_text=True)
    assert "Bakker Installatietechniek B.V.</strong> (code 101" in html
    assert "niet naar een andere overschakelen" in html
    assert "Verkoopfacturen aanmaken" in html


def test_dutch_user_saves_and_the_administration_is_locked(client, wizard):
    ready_to_save(wizard)
    response = wizard.save()
    assert response.status_code == 303 and response.headers["Location"].endswith("/exact?notice=saved")
    connection = Connection.get()
    assert (connection.status, connection.division) == (Connection.SAVED, 101)
    assert connection.settings["document_type"] == "sales_invoice"
    assert connection.draft_settings is None
    html = client.get("/exact").get_data(as_text=True)
    assert "Bakker Installatietechniek B.V.</strong> (code 101)" in html and "vastgezet" in html
    assert "Verbonden met administratie Bakker Installatietechniek B.V. (101)" in client.get("/integraties").get_data(as_text=True)


def test_belgian_user_saves(client, wizard):
    ready_to_save(wizard, SOFIE, 201, "be")
    assert wizard.save().status_code == 303
    assert Connection.get().division == 201


def test_without_confirmation_nothing_is_saved(client, wizard):
    ready_to_save(wizard)
    response = wizard.save(confirm=False, **{})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bevestig dat Bakker Installatietechniek B.V. (101) de juiste administratie is" in html
    assert Connection.get().status == Connection.CONNECTED and Connection.get().division is None


def test_missing_rights_are_named_and_nothing_is_saved_until_fixed(client, wizard):
    ready_to_save(wizard, PIET, 111)
    response = wizard.save()
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "mist deze rechten" in html and "Verkoopfacturen aanmaken" in html
    assert Connection.get().division is None
    assert wizard.configure(document_type="sales_order").status_code == 303
    assert wizard.save().status_code == 303
    assert Connection.get().division == 111


def test_rights_are_asked_at_exact_for_each_chosen_setting(client, wizard, sim):
    ready_to_save(wizard, import_employees="y")
    sim.clear_calls()
    wizard.save()
    asked = {call["path"].split("endpoint=")[-1] for call in sim.calls() if "UserHasRights" in call["path"]}
    assert any("payroll/Employees" in item for item in asked)
    assert any("salesinvoice/SalesInvoices" in item for item in asked)


def test_a_country_that_does_not_match_the_account_is_refused(client, wizard):
    ready_to_save(wizard)
    response = wizard.save(country="be")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Het gekozen land (België) hoort niet bij uw Exact Online-account (Nederland)" in html
    assert Connection.get().division is None


def test_tokens_that_another_host_issued_fail_the_country_check(client, wizard, sim):
    ready_to_save(wizard)
    Connection.update(base_url=sim.base_url("be")).execute()
    response = wizard.save()
    assert response.status_code == 422
    assert Connection.get().division is None


def test_locked_administration_cannot_be_changed_even_by_a_crafted_post(client, wizard):
    ready_to_save(wizard)
    wizard.save()
    response = wizard.choose(102)
    assert response.status_code == 422 and "vastgezet" in response.get_data(as_text=True)
    again = client.post("/exact/controle", data={"confirm": "y", "division": "102"})
    assert again.status_code == 409
    crafted = client.post("/exact/land", data={"country": "be"})
    assert crafted.status_code == 422
    connection = Connection.get()
    assert (connection.division, connection.country, connection.status) == (101, "nl", Connection.SAVED)
    shown = client.get("/exact/administratie")  # the step's time has passed: the overview shows the locked one
    assert shown.status_code == 303 and shown.headers["Location"] == "/exact"
    assert "vastgezet" in client.get("/exact").get_data(as_text=True)


def test_settings_stay_editable_and_are_rechecked_on_every_save(client, wizard):
    ready_to_save(wizard, PIET, 111, document_type="sales_order")
    wizard.save()
    refused = wizard.configure(document_type="sales_invoice")
    assert refused.status_code == 422 and "Verkoopfacturen aanmaken" in refused.get_data(as_text=True)
    assert Connection.get().settings["document_type"] == "sales_order"
    accepted = wizard.configure(document_type="sales_entry", import_employees="y")
    assert accepted.status_code == 303
    assert Connection.get().settings["document_type"] == "sales_entry"
    assert Connection.get().division == 111
    changed = Event.select().where(Event.action == "settings_changed").get().detail["changed"]
    assert "document_type" in changed and "import_employees" in changed


def test_disconnect_stops_sync_discards_tokens_and_keeps_settings(client, wizard):
    ready_to_save(wizard)
    wizard.save()
    confirm = client.get("/exact/verbreken").get_data(as_text=True)
    assert "Bestaande gegevens in OutSmart blijven behouden" in confirm
    response = client.post("/exact/verbreken", headers=HTMX)
    assert response.status_code == 303
    connection = Connection.get()
    assert connection.status == Connection.DISCONNECTED
    assert connection.access_token is None and connection.refresh_token is None
    assert connection.settings["document_type"] == "sales_invoice"
    html = client.get("/exact").get_data(as_text=True)
    assert "De synchronisatie is gestopt. Bestaande gegevens in OutSmart blijven behouden." in html
    assert [event.action for event in Event.history(connection.account)][:2] == ["disconnected", "saved"]


def test_connect_again_after_disconnect_to_another_administration(client, wizard):
    ready_to_save(wizard)
    wizard.save()
    client.post("/exact/verbreken")
    ready_to_save(wizard, code=102)
    assert wizard.save().status_code == 303
    connection = Connection.get()
    assert (connection.division, connection.status) == (102, Connection.SAVED)
    assert Connection.select().count() == 1


def test_exact_refusing_the_tokens_marks_the_connection_expired(client, wizard, sim):
    ready_to_save(wizard)
    wizard.save()
    # Revoked at Exact; 570 s on, the next page asks the token endpoint, which says the grant is dead. (A 401 alone
    # does not expire a connection: tests/test_exact_budget.py.)
    sim.revoke(JAN)
    sim.advance(580)
    Connection.update(token_issued_at=time.time() - 580, token_expires_at=time.time() + 20).execute()
    response = client.post("/exact/instellingen/vernieuwen")
    assert response.status_code == 401
    assert 'data-exact-state="expired"' in response.get_data(as_text=True)  # the host is told (exact:status)
    assert Connection.get().status == Connection.EXPIRED
    html = client.get("/exact").get_data(as_text=True)
    assert "Authenticatie verlopen. Verbind opnieuw om gegevens te synchroniseren." in html
    assert re.search(r'<a href="/exact/land"[^>]*>\s*Verbind opnieuw', html)
    assert "Authenticatie verlopen" in client.get("/integraties").get_data(as_text=True)


def test_reconnecting_an_expired_connection_keeps_the_locked_administration(client, wizard, sim):
    ready_to_save(wizard)
    wizard.save()
    Connection.update(status=Connection.EXPIRED).execute()
    assert wizard.connect(JAN).status_code == 303
    connection = Connection.get()
    assert (connection.status, connection.division) == (Connection.SAVED, 101)


def test_reconnecting_without_the_locked_administration_changes_nothing(client, wizard, sim):
    ready_to_save(wizard)
    wizard.save()
    Connection.update(status=Connection.EXPIRED).execute()
    before = Connection.get().refresh_token
    response = wizard.connect(JAN, divisions=[102])
    assert response.status_code == 409
    assert "vastgezette administratie" in response.get_data(as_text=True)
    connection = Connection.get()
    assert (connection.status, connection.division, connection.refresh_token) == (Connection.EXPIRED, 101, before)


def test_faq_answers_appear_where_they_apply(client, wizard):
    ready_to_save(wizard)
    wizard.save()
    html = client.get("/exact").get_data(as_text=True)
    assert "Kan ik meer dan één administratie verbinden?" in html and "één administratie" in html
    assert "Waarom kan ik de administratie later niet wijzigen?" in html


def test_csrf_is_required_on_every_post(app, client, wizard):
    ready_to_save(wizard)
    app.config["WTF_CSRF_ENABLED"] = True
    for url, data in (("/exact/controle", {"confirm": "y"}), ("/exact/verbreken", {}),
                      ("/exact/administratie", {"division": "101"}), ("/exact/land", {"country": "nl"})):
        response = client.post(url, data=data)
        assert response.status_code == 400, url
    assert Connection.get().status == Connection.CONNECTED


def test_a_post_with_the_pages_csrf_token_is_accepted(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get("/exact/land").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    header_token = re.search(r'"X-CSRFToken":\s*"([^"]+)"', html).group(1)
    assert client.post("/exact/land", data={"country": "nl", "csrf_token": token}).status_code == 303
    assert client.post("/exact/land", data={"country": "nl"}, headers={"X-CSRFToken": header_token}).status_code == 303
