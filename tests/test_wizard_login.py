"""Steps 1–4: the status list, the country choice, Exact's login and the way back."""
import datetime

from models import MODELS
from models import Connection
from models import LoginAttempt
from models import db
from models import utcnow
from simhelpers import JAN
from simhelpers import SOFIE
from wizard_actions import path_of
from wizard_actions import query_of


def test_integrations_list_shows_exact_not_connected(client):
    html = client.get("/integraties").get_data(as_text=True)
    assert "Exact Online" in html and "Niet verbonden" in html
    assert 'href="/exact"' in html


def test_country_is_required_and_nothing_starts_without_it(client):
    response = client.post("/exact/land", data={})
    assert response.status_code == 422
    assert "Kies het land waar uw Exact Online-account is aangemaakt." in response.get_data(as_text=True)
    assert LoginAttempt.select().count() == 0


def test_unknown_country_is_refused(client):
    assert client.post("/exact/land", data={"country": "xx"}).status_code == 422
    assert LoginAttempt.select().count() == 0


def test_naar_inlogpagina_goes_to_the_chosen_countrys_exact(wizard, sim):
    for country in ("nl", "be", "uk"):
        url = wizard.start_login(country)
        assert url.startswith(sim.base_url(country) + "/api/oauth2/auth?")
        params = query_of(url)
        assert params["response_type"] == "code"
        assert params["redirect_uri"] == "http://127.0.0.1:5000/exact/callback"
        attempt = LoginAttempt.get(LoginAttempt.state == params["state"])
        assert attempt.country == country


def test_dutch_user_returns_to_the_connection_details(client, wizard):
    response = wizard.connect(JAN)
    assert response.status_code == 303 and response.headers["Location"].endswith("/exact/verbinding")
    html = client.get("/exact/verbinding").get_data(as_text=True)
    assert "Jan Bakker" in html and JAN in html
    assert "Nederland" in html
    assert "<dt>Administraties met toegang</dt><dd>4</dd>" in html
    assert "Toegangstoken" not in html and "token" not in html.split("<main>")[1].lower()  # no jargon in the step
    connection = Connection.get()
    assert connection.status == Connection.CONNECTED and connection.country == "nl"


def test_belgian_user_connects_on_the_belgian_instance(client, wizard, sim):
    assert wizard.connect(SOFIE, country="be").status_code == 303
    connection = Connection.get()
    assert connection.base_url == sim.base_url("be")
    assert "België" in client.get("/exact/verbinding").get_data(as_text=True)


def test_integrations_list_tracks_the_status(client, wizard):
    wizard.connect(JAN)
    assert "nog niet opgeslagen" in client.get("/integraties").get_data(as_text=True)


def test_cancel_at_exact_says_so_and_offers_a_retry(client, wizard):
    response = wizard.connect(JAN, cancel=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "geen toegang gegeven" in html and "Opnieuw proberen" in html
    assert Connection.select().count() == 0


def test_a_callback_is_used_once(client, wizard, sim):
    callback = path_of(sim.login(wizard.start_login(), JAN))
    first = client.get(callback)
    again = client.get(callback)
    assert first.status_code == 303
    assert again.status_code == 400 and "verlopen of ongeldig" in again.get_data(as_text=True)
    assert Connection.select().count() == 1


def test_a_state_older_than_ten_minutes_is_refused(client, wizard, sim):
    callback = path_of(sim.login(wizard.start_login(), JAN))
    LoginAttempt.update(created_at=utcnow() - datetime.timedelta(minutes=11)).execute()
    response = client.get(callback)
    assert response.status_code == 400
    assert Connection.select().count() == 0


def test_a_state_of_another_account_is_refused(client, wizard, sim):
    callback = path_of(sim.login(wizard.start_login(), JAN))
    with client.session_transaction() as session:
        session["account"] = "someone-else"
    assert client.get(callback).status_code == 400
    assert Connection.select().count() == 0


def test_forged_state_is_refused(client, wizard, sim):
    callback = path_of(sim.login(wizard.start_login(), JAN))
    forged = callback.replace("state=", "state=x")
    assert client.get(forged).status_code == 400


def test_exact_failing_on_the_way_back_is_explained_and_nothing_is_stored(client, wizard, sim):
    authorize = wizard.start_login()
    callback = path_of(sim.login(authorize, JAN))
    sim.fault("oauth2/token", "503")
    back = client.get(callback)
    assert back.status_code == 303 and "code=" not in back.headers["Location"]
    response = client.get(back.headers["Location"])
    assert response.status_code == 502
    assert "Exact Online" in response.get_data(as_text=True)
    assert Connection.select().count() == 0


def test_tokens_are_not_readable_in_the_database(app, wizard, sim, tmp_path):
    wizard.connect(JAN)
    connection = Connection.get()
    clear = [connection.access_token.encode(), connection.refresh_token.encode()]
    assert all(clear)
    # The columns as stored (plain SQL, no model decrypting them): ciphertext only.
    stored = db.execute_sql("SELECT access_token, refresh_token FROM connection").fetchall()
    assert len(stored) == 1 and all(stored[0])
    assert not any(token in value.encode() for value in stored[0] for token in clear)
    # Everything the database holds: SQLite's file (and its write-ahead log), or every table's rows in PostgreSQL.
    if app.config["DATABASE_URL"].startswith("sqlite"):
        raw = b"".join(path.read_bytes() for path in tmp_path.glob("test.sqlite*"))
    else:
        raw = "\n".join(row[0] for model in MODELS
                        for row in db.execute_sql(f'SELECT t::text FROM "{model._meta.table_name}" t')).encode()
    assert b"bakker" in raw.lower()  # the dump holds the rows
    assert not any(token in raw for token in clear)


def test_token_times_are_stored_to_the_fraction_of_a_second(app, wizard):
    # Epoch seconds need a double: a 4-byte float (PostgreSQL's REAL) is up to 64 s off.
    wizard.connect(JAN)
    connection = Connection.get()
    connection.token_issued_at, connection.token_expires_at = 1795627136.613894, 1795627736.613894
    connection.save()
    stored = Connection.get_by_id(connection.id)
    assert stored.token_issued_at == 1795627136.613894 and stored.token_expires_at == 1795627736.613894
