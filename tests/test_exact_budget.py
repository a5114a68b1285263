"""Connections that survive real Exact (issue 15): a 401 renews the token instead of expiring a healthy connection;
"too early" is remembered by every process; the day's token calls of an Exact user and the errors per endpoint and
hour are counted in the database, and our calls stop before Exact's own limits do. All against the simulator over
HTTP, with its own token-call cap and error block on."""
import math
import re
import time

import pytest

from conftest import WORKER_KEY as KEY
from exact.errors import ErrorLimitReached
from exact_limits import ExactLimits
from limit_store import DatabaseStorage
from models import Connection
from models import Event
from models import db
from simhelpers import CLIENT_ID
from simhelpers import JAN
from test_faults import snapshot
from views.exact_clients import token_store

AUTH = {"Authorization": f"Bearer {KEY}"}
TOKEN_API = "/api/v1/accounts/demo/access-token"


@pytest.fixture
def saved(app, wizard, sim):
    """Jan's administration 101, saved; the token API knows the worker's key."""
    app.config["SERVICE_KEYS"] = {"sync-worker": KEY}
    assert wizard.complete(JAN, 101).status_code == 303
    return Connection.get()


@pytest.fixture
def long_tokens(sim):
    """Exact's access tokens live 15 minutes here: 570 s after one, it is not due by our clock, yet renewable."""
    sim.settings(access_token_ttl=900)


def age_token(sim, seconds):
    """`seconds` pass for the stored token, here and at Exact."""
    Connection.update(token_issued_at=Connection.token_issued_at - seconds,
                      token_expires_at=Connection.token_expires_at - seconds).execute()
    sim.advance(seconds)


def make_due(seconds_left=20, account="demo"):
    """Our clock says the token is due (570 s have passed), while Exact's clock says nothing of the kind."""
    now = time.time()
    (Connection.update(token_issued_at=now - 600 + seconds_left, token_expires_at=now + seconds_left)
     .where(Connection.account == account).execute())


def token_calls(sim):
    return [call for call in sim.calls() if call["kind"] == "token"]


def text_of(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- a 401 on a REST call -------------------------------------------------------------------------------------------

def test_a_401_with_a_good_refresh_token_renews_once_retries_and_keeps_the_state(long_tokens, client, saved, sim):
    age_token(sim, 600)  # 300 s left by our clock: not due; Exact's 570 s have passed
    before = Connection.get()
    sim.fault("financial/Journals", "401")  # e.g. revoked in flight, or expired early by Exact's clock
    sim.clear_calls()
    response = client.post("/exact/instellingen/vernieuwen")
    assert response.status_code == 303 and response.headers["Location"].endswith("/exact/instellingen")
    # The other lists went out beside the journals (at once); the refused call is renewed once and asked again.
    assert [(call["endpoint"], call["status"]) for call in sim.calls()
            if call["endpoint"] in ("financial/Journals", "oauth2/token")] == [
        ("financial/Journals", 401), ("oauth2/token", 200), ("financial/Journals", 200)]
    assert len(token_calls(sim)) == 1
    after = Connection.get()
    assert after.status == Connection.SAVED and after.refresh_token != before.refresh_token
    assert Event.select().where(Event.action == "expired").count() == 0
    assert client.get("/exact/instellingen").status_code == 200
    # The worker gets the renewed token, without another call to Exact.
    sim.clear_calls()
    assert client.post(TOKEN_API, headers=AUTH).json["access_token"] == after.access_token
    assert sim.calls() == []


def test_a_401_whose_renewal_finds_the_grant_dead_expires_the_connection_once(long_tokens, client, saved, sim):
    age_token(sim, 600)
    sim.revoke(JAN)  # Exact's REST API answers 401, its token endpoint invalid_grant
    sim.clear_calls()
    response = client.post("/exact/instellingen/vernieuwen")
    assert response.status_code == 401 and "Verbind opnieuw" in text_of(response)
    assert [call["status"] for call in token_calls(sim)] == [400]
    assert Connection.get().status == Connection.EXPIRED
    client.post("/exact/instellingen/vernieuwen")
    client.post(TOKEN_API, headers=AUTH)
    assert Event.select().where(Event.action == "expired").count() == 1
    assert "Authenticatie verlopen" in client.get("/exact").get_data(as_text=True)


def test_a_401_within_570_s_is_a_wait_in_words_without_a_token_call(client, saved, sim):
    before = snapshot()
    sim.fault("financial/Journals", "401")
    sim.clear_calls()
    response = client.post("/exact/instellingen/vernieuwen")
    html = text_of(response)
    assert response.status_code == 503
    assert "Exact Online weigerde zojuist de toegang van OutSmart" in html and "Opnieuw proberen" in html
    assert "u hoeft niet opnieuw te verbinden" in html and "Verbind opnieuw" not in html
    assert "Dit kan weer vanaf" in html
    retry_at = Connection.get().token_issued_at + 570
    assert abs(int(response.headers["Retry-After"]) - (retry_at - time.time())) <= 2
    assert token_calls(sim) == [] and snapshot() == before
    assert Event.select().where(Event.action == "expired").count() == 0


def test_a_401_after_another_caller_renewed_the_token_uses_the_stored_one(app, client, saved, sim):
    refused = saved.token
    make_due()
    sim.advance(580)
    assert client.post(TOKEN_API, headers=AUTH).status_code == 200  # the worker's call renews it
    sim.clear_calls()
    with app.app_context():
        renewed = token_store().valid_token(saved.id, refused=refused)
    assert renewed.access_token == Connection.get().access_token != refused.access_token
    assert sim.calls() == []


# --- "too early", remembered ----------------------------------------------------------------------------------------

def test_twenty_worker_calls_in_a_too_early_period_make_one_token_call(client, saved, sim):
    make_due(seconds_left=20)  # due by our clock; Exact issued the token seconds ago by its own
    sim.clear_calls()
    answers = [client.post(TOKEN_API, headers=AUTH) for _ in range(20)]
    assert [answer.status_code for answer in answers] == [200] * 20
    assert {answer.json["access_token"] for answer in answers} == {saved.access_token}  # Exact still accepts it
    assert [call["status"] for call in token_calls(sim)] == [400]  # one "too early", remembered
    wait_until = Connection.get().refresh_not_before
    assert wait_until > time.time() + 50
    html = text_of(client.get("/exact"))
    assert "Exact Online laat de toegang pas vanaf" in html and "weer vernieuwen" in html

    make_due(seconds_left=-5)  # expired by our clock too: the worker hears when to ask again
    answers = [client.post(TOKEN_API, headers=AUTH) for _ in range(20)]
    assert {answer.status_code for answer in answers} == {503}
    assert {answer.json["error"] for answer in answers} == {"too_early"}
    assert all(abs(int(answer.headers["Retry-After"]) - (wait_until - time.time())) <= 2 for answer in answers)
    assert answers[0].json["reset_at"] == pytest.approx(wait_until)
    assert len(token_calls(sim)) == 1
    assert Connection.get().status == Connection.SAVED
    page = client.post("/exact/instellingen/vernieuwen")  # the admin too: in words, with the time
    assert page.status_code == 503 and "Dit kan weer vanaf" in text_of(page)
    assert len(token_calls(sim)) == 1

    sim.advance(600)  # Exact's time has come: the next caller renews, once, for everyone
    Connection.update(refresh_not_before=time.time() - 1).execute()
    assert client.post(TOKEN_API, headers=AUTH).status_code == 200
    assert [call["status"] for call in token_calls(sim)] == [400, 200]
    assert Connection.get().refresh_not_before is None


# --- the day's token calls of an Exact user ---------------------------------------------------------------------------

def budget_text(client):
    html = text_of(client.get("/exact"))
    return re.search(r'id="token-budget">([^<]*)<', html).group(1), html


def test_the_days_token_calls_warn_past_80_percent_and_stop_at_200_until_midnight(client, saved, sim):
    sim.settings(min_token_interval=0)  # Exact's 570 s would make 200 refreshes take a day; its cap stays on
    assert budget_text(client)[0] == "vandaag nog 199 van de 200 keer"  # the login's code exchange counted
    for call in range(2, 161):
        make_due()
        assert client.post(TOKEN_API, headers=AUTH).status_code == 200
    shown, html = budget_text(client)
    assert shown == "vandaag nog 40 van de 200 keer" and "token-budget-warning" not in html
    make_due()
    assert client.post(TOKEN_API, headers=AUTH).status_code == 200  # the 161st
    shown, html = budget_text(client)
    assert shown == "vandaag nog 39 van de 200 keer"
    midnight = (math.floor(time.time() / 86400) + 1) * 86400
    assert "Let op: Exact Online laat de toegang per Exact Online-gebruiker maar 200 keer per dag vernieuwen" in html
    assert "is dat vandaag al 161 keer gebeurd" in html

    for call in range(162, 201):
        make_due()
        assert client.post(TOKEN_API, headers=AUTH).status_code == 200
    assert sim.state()["token_calls_today"] == {JAN: 200}
    before = Connection.get()

    make_due(seconds_left=20)  # the 201st: not made; the current token is still good for 20 s
    sim.clear_calls()
    answer = client.post(TOKEN_API, headers=AUTH)
    assert answer.status_code == 200 and answer.json["access_token"] == before.access_token
    make_due(seconds_left=-5)  # expired: the worker is told when a new one comes
    answer = client.post(TOKEN_API, headers=AUTH)
    assert answer.status_code == 503 and answer.json["error"] == "token_budget_spent"
    assert answer.json["reset_at"] == midnight and "00:00 UTC" in answer.json["message"]
    assert abs(int(answer.headers["Retry-After"]) - (midnight - time.time())) <= 2
    page = client.post("/exact/instellingen/vernieuwen")  # and the admin
    assert page.status_code == 503
    assert "maar 200 keer per dag vernieuwen, en dat aantal is vandaag bereikt" in text_of(page)
    assert "Dit kan weer vanaf" in text_of(page) and "Opnieuw proberen" in text_of(page)
    assert token_calls(sim) == []  # the 201st call was never made
    assert sim.state()["token_calls_today"] == {JAN: 200}
    shown, html = budget_text(client)
    assert shown == "vandaag nog 0 van de 200 keer"
    assert "de 200 keer per dag voor Jan Bakker zijn op. De synchronisatie wacht tot" in html
    stored = Connection.get()
    assert (stored.status, stored.refresh_token) == (Connection.SAVED, before.refresh_token)


def test_the_budget_is_the_exact_users_over_every_outsmart_account(app, saved, sim):
    """Two OutSmart accounts backed by the same Exact user share one budget (here: 3 a day)."""
    app.config["EXACT_TOKEN_CALLS_PER_DAY"] = 3
    sim.settings(min_token_interval=0)
    other = Connection.create(account="other", status=Connection.SAVED, country="nl", base_url=saved.base_url,
                              exact_user_id=saved.exact_user_id, division=101, access_token=saved.access_token,
                              refresh_token="not-ours", token_issued_at=time.time() - 600,
                              token_expires_at=time.time() - 5)
    with app.app_context():
        store = token_store()
        make_due()
        store.valid_token(saved.id)  # the 2nd call today (the login's exchange was the 1st)
        make_due()
        store.valid_token(saved.id)  # the 3rd
        sim.clear_calls()
        with pytest.raises(Exception) as raised:
            store.valid_token(other.id)  # the other account's token is due: none left today
    assert type(raised.value).__name__ == "TokenBudgetSpent" and token_calls(sim) == []
    assert Connection.get_by_id(other.id).status == Connection.SAVED


# --- errors per endpoint and hour -----------------------------------------------------------------------------------

def test_our_calls_stop_at_eight_errors_per_endpoint_and_hour_before_exacts_block(client, wizard, saved, sim):
    sim.fault("financial/Journals", "401", count=30)  # Exact refuses, again and again, on this endpoint
    sim.clear_calls()
    answers = [client.post("/exact/instellingen/vernieuwen") for _ in range(14)]
    assert {answer.status_code for answer in answers} == {503}
    journals = sim.calls(endpoint="financial/Journals")
    assert len(journals) == 8 and {call["status"] for call in journals} == {401}  # Exact blocks past 10
    state = sim.state()
    assert state["blocked"] == []
    assert [(row["endpoint"], row["errors"]) for row in state["errors_this_hour"]] == [("financial/Journals", 8)]
    last = text_of(answers[-1])
    assert "Exact Online gaf het afgelopen uur te vaak een foutmelding op dit onderdeel" in last
    next_hour = (math.floor(time.time() / 3600) + 1) * 3600
    assert abs(int(answers[-1].headers["Retry-After"]) - (next_hour - time.time())) <= 2
    assert "Dit kan weer vanaf" in last and "Opnieuw proberen" in last
    # Other endpoints are not held back: the settings are checked and saved as before.
    sim.clear_calls()
    assert wizard.configure(import_employees="y").status_code == 303
    assert sim.calls(endpoint="users/UserHasRights")
    html = text_of(client.get("/exact"))
    assert "Exact Online gaf het afgelopen uur te vaak een foutmelding bij de dagboeken" in html
    assert Connection.get().status == Connection.SAVED


def test_the_error_count_lifts_with_the_next_hour(app, saved):
    """The count is per clock hour: an hour on, the endpoint may be asked again."""
    clock = [time.time()]
    with app.app_context():
        limits = ExactLimits(DatabaseStorage(), CLIENT_ID, 200, 8, clock=lambda: clock[0])
        guard = limits.guard(saved.exact_user_id)
        for _ in range(8):
            guard.before_call(101, "financial/Journals")
            guard.count_error(101, "financial/Journals")
        with pytest.raises(ErrorLimitReached) as raised:
            guard.before_call(101, "financial/Journals")
        assert raised.value.retry_at == (math.floor(clock[0] / 3600) + 1) * 3600
        guard.before_call(101, "vat/VATCodes")  # another endpoint
        guard.before_call(102, "financial/Journals")  # another administration
        limits.guard("someone-else").before_call(101, "financial/Journals")  # another Exact user
        clock[0] = raised.value.retry_at + 1
        guard.before_call(101, "financial/Journals")
        assert limits.blocks(saved.exact_user_id) == []


# --- configuration --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, value", [("EXACT_TOKEN_CALLS_PER_DAY", "0"), ("EXACT_TOKEN_CALLS_PER_DAY", "lots"),
                                            ("EXACT_ERRORS_PER_HOUR", "11"), ("EXACT_ERRORS_PER_HOUR", "-1")])
def test_a_limit_setting_that_is_no_whole_number_in_range_stops_start_up(sim, tmp_path, setting, value):
    from app import BadConfiguration
    from app import create_app
    from conftest import app_settings

    with pytest.raises(BadConfiguration, match=setting):
        create_app({**app_settings(sim, tmp_path), setting: value})


def test_the_limits_are_read_from_the_environment(sim, tmp_path, monkeypatch):
    from app import create_app
    from conftest import app_settings

    monkeypatch.setenv("EXACT_TOKEN_CALLS_PER_DAY", "150")
    monkeypatch.setenv("EXACT_ERRORS_PER_HOUR", "5")
    app = create_app(app_settings(sim, tmp_path))
    assert (app.config["EXACT_TOKEN_CALLS_PER_DAY"], app.config["EXACT_ERRORS_PER_HOUR"]) == (150, 5)
    db.close()
