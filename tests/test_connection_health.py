"""A saved connection stays healthy: keep-alive, the health panel, the reconnect guard, the audit trail, key rotation."""
import re
import time

from cryptography.fernet import Fernet

from models import Connection
from models import Event
from models import db
from simhelpers import JAN
from wizard_actions import HTMX

DAY = 86400


def save_jan(wizard):
    assert wizard.complete(JAN, 101).status_code == 303
    return Connection.get()


def test_keep_alive_refreshes_only_old_refresh_tokens(app, wizard, sim):
    before = save_jan(wizard)
    runner = app.test_cli_runner()
    sim.clear_calls()
    assert "keep-alive: 0 due; refreshed 0, skipped 0 (another runner had them), failed 0\n" == runner.invoke(
        args=["keep-alive"]).output
    assert sim.calls() == []
    Connection.update(token_issued_at=time.time() - 21 * DAY).execute()
    sim.advance(21 * DAY)  # at Exact, too, the last token is three weeks old
    result = runner.invoke(args=["keep-alive"])
    assert result.output == "keep-alive: 1 due; refreshed 1, skipped 0 (another runner had them), failed 0\n"
    after = Connection.get()
    assert after.refresh_token != before.refresh_token and after.token_issued_at > time.time() - 60
    assert after.status == Connection.SAVED


def test_keep_alive_marks_a_dead_connection_for_a_new_login(app, wizard, sim):
    save_jan(wizard)
    Connection.update(token_issued_at=time.time() - 31 * DAY).execute()
    sim.advance(31 * DAY)  # past Exact's 30 idle days
    result = app.test_cli_runner().invoke(args=["keep-alive"])
    assert result.output == ("demo: not refreshed (ReauthorizationRequired)\n"
                             "keep-alive: 1 due; refreshed 0, skipped 0 (another runner had them), failed 1 (1 "
                             "ReauthorizationRequired: Exact no longer accepts the grant: marked expired, the admin "
                             "must reconnect)\n")
    assert result.exit_code == 0  # nothing for an operator to do: the admin is asked to reconnect
    connection = Connection.get()
    assert connection.status == Connection.EXPIRED
    html = wizard.client.get("/exact").get_data(as_text=True)
    assert "Authenticatie verlopen. Verbind opnieuw om gegevens te synchroniseren." in html
    assert "De koppeling met Exact Online is verlopen of ingetrokken" in html  # the last error, in plain words


def test_keep_alive_refuses_a_window_past_exacts_limit(app):
    result = app.test_cli_runner().invoke(args=["keep-alive", "--older-than-days", "30"])
    assert result.exit_code != 0 and "under 30 days" in result.output


def test_health_panel_shows_token_deadlines_and_exact_budget(client, wizard):
    connection = save_jan(wizard)
    client.post("/exact/instellingen/vernieuwen")  # six Exact calls: the rate-limit headers are recorded
    html = client.get("/exact").get_data(as_text=True)
    # The numbers are technical details, behind a <details>, in plain words; the main view says the connection works.
    main, details = html.split('<details class="technical" id="technical-details">')
    assert "Huidige toegang geldig tot" in details and 'id="refresh-deadline"' in details
    assert "Toegangstoken" not in html and "geldig tot" not in main and "calls-today" not in main
    limits = Connection.get().rate_limits
    assert limits["daily_limit"] == 5000 and limits["daily_remaining"] < 5000
    assert f'id="calls-today">{limits["daily_remaining"]:,} van 5.000'.replace(",", ".") in details
    assert 'id="calls-minute">' in details
    # Exact's counters say when Exact gave them: the minute's is no "this minute" that has long reset.
    seen = re.search(r'id="calls-seen">\(volgens Exact Online op ([^<]+)\)</span>', details).group(1)
    assert re.fullmatch(r"\d+ \w+ \d{4}, \d\d:\d\d:\d\d", seen) and "deze minuut" not in html
    assert "Verbonden met administratie Bakker Installatietechniek B.V. (101)" in main
    assert "OutSmart synchroniseert met deze administratie in Exact Online Nederland, met de rechten van Jan " \
           "Bakker. U hoeft niets te doen." in main
    assert connection.refresh_idle_deadline - connection.token_issued_at == 30 * DAY


def test_reconnect_as_another_exact_user_is_allowed_with_a_warning(client, wizard):
    save_jan(wizard)
    Connection.update(status=Connection.EXPIRED, exact_user_id="someone-else").execute()
    response = wizard.connect(JAN)
    assert response.headers["Location"].endswith("/exact?notice=other_user")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "als een andere Exact Online-gebruiker (Jan Bakker)" in html
    assert Connection.get().status == Connection.SAVED and Connection.get().division == 101


def test_reconnect_as_the_same_user_returns_to_the_settings(client, wizard):
    save_jan(wizard)
    Connection.update(status=Connection.EXPIRED).execute()
    response = wizard.connect(JAN)
    assert response.headers["Location"].endswith("/exact?notice=reconnected")


def test_audit_trail_names_who_did_what(app, client, wizard):
    with client.session_transaction() as session:
        session["user"] = "Petra Admin"
    save_jan(wizard)
    wizard.configure(import_employees="y")
    client.post("/exact/verbreken", headers=HTMX)
    actions = [(event.action, event.user) for event in Event.history("demo")]
    assert actions == [("disconnected", "Petra Admin"), ("settings_changed", "Petra Admin"),
                       ("saved", "Petra Admin"), ("connected", "Petra Admin")]
    html = client.get("/exact").get_data(as_text=True)
    assert "Instellingen gewijzigd: Medewerkers importeren (door Petra Admin)" in html
    assert "Administratie gekozen en vastgezet: Bakker Installatietechniek B.V. (door Petra Admin)" in html


def test_rotating_the_token_key_re_encrypts_every_token(app, wizard):
    connection = save_jan(wizard)
    old_key = app.config["TOKEN_KEYS"][0]
    new_key = Fernet.generate_key().decode()
    raw_before = db.execute_sql("SELECT refresh_token FROM connection").fetchone()[0]
    app.config["TOKEN_KEYS"] = [new_key, old_key]
    result = app.test_cli_runner().invoke(args=["rotate-token-keys"])
    assert "re-encrypted the tokens of 1 connections" in result.output
    raw_after = db.execute_sql("SELECT refresh_token FROM connection").fetchone()[0]
    assert raw_after != raw_before
    assert Fernet(new_key).decrypt(raw_after.encode()).decode() == connection.refresh_token
    assert Connection.get().refresh_token == connection.refresh_token
