"""The /_sim control surface: faults, call log, settings, clock, reset, seed, state, and plain mode without it."""
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
import requests

from exact_sim import create_app
from exact_sim.settings import DEFAULTS
from simhelpers import JAN
from simhelpers import SOFIE
from simhelpers import LoginFailed
from simhelpers import SimServer


@pytest.fixture
def token(sim):
    """Jan's token with the default consent."""
    return sim.token_for(JAN)


def wait_for_calls(sim, count: int, **filters) -> list[dict]:
    """The call log once it holds `count` matching calls; a delayed call is logged only when it finishes."""
    deadline = time.monotonic() + 5
    while len(calls := sim.calls(**filters)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return calls


# Faults


@pytest.mark.parametrize(("kind", "status", "message"), [("500", 500, "Internal Server Error"),
                                                         ("503", 503, "Service Unavailable")])
def test_server_error_faults(sim, token, kind, status, message):
    sim.fault("system/Divisions", kind)
    answer = sim.get(token, "101/system/Divisions")
    assert answer.status_code == status
    assert answer.json()["error"]["message"]["value"] == message
    assert sim.get(token, "101/system/Divisions").status_code == 200


def test_fault_count_covers_that_many_calls(sim, token):
    sim.fault("financial/Journals", "503", count=2)
    assert [sim.get(token, "101/financial/Journals").status_code for _ in range(3)] == [503, 503, 200]


def test_fault_only_hits_its_endpoint_and_country(sim, token):
    sim.fault("system/Divisions", "500", country="be")
    sim.fault("crm/Accounts", "500")
    assert sim.get(token, "101/system/Divisions").status_code == 200
    assert sim.get(token, "current/Me").status_code == 200
    assert sim.get(token, "101/crm/Accounts").status_code == 500


def test_429_fault_sends_minutely_headers_with_the_given_reset(sim, token):
    sim.fault("system/Divisions", "429", reset_in=30)
    before = sim.now()
    answer = sim.get(token, "101/system/Divisions")
    assert answer.status_code == 429
    assert answer.json()["error"]["message"]["value"] == "Too many requests"
    assert not [name for name in answer.headers if name.startswith("X-RateLimit") and "Minutely" not in name]
    assert answer.headers["X-RateLimit-Minutely-Remaining"] == "0"
    reset = int(answer.headers["X-RateLimit-Minutely-Reset"]) / 1000
    assert before + 30 <= reset < before + 32


def test_timeout_fault_delays_the_real_answer(sim, token):
    sim.settings(fault_timeout_seconds=0.4)
    sim.fault("current/Me", "timeout")
    started = time.monotonic()
    answer = sim.get(token, "current/Me")
    assert time.monotonic() - started >= 0.4
    assert answer.status_code == 200
    assert answer.json()["d"]["results"][0]["UserName"] == JAN


def test_timeout_fault_makes_an_impatient_client_give_up(sim, token):
    sim.settings(fault_timeout_seconds=0.5)
    sim.fault("current/Me", "timeout")
    with pytest.raises(requests.Timeout):
        sim.get(token, "current/Me", timeout=0.1)
    assert sim.get(token, "current/Me").status_code == 200
    calls = wait_for_calls(sim, 2, endpoint="current/Me")
    assert [call["fault"] for call in calls] == [None, "timeout"]


def test_malformed_fault_is_200_with_broken_json(sim, token):
    sim.fault("system/Divisions", "malformed")
    answer = sim.get(token, "101/system/Divisions")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        answer.json()


def test_401_fault_refuses_a_valid_token(sim, token):
    sim.fault("current/Me", "401")
    answer = sim.get(token, "current/Me")
    assert answer.status_code == 401 and answer.content == b""
    assert sim.get(token, "current/Me").status_code == 200


def test_token_endpoint_fault_leaves_the_code_usable(sim):
    location = sim.login(sim.authorize_url(), JAN)
    code = parse_qs(urlparse(location).query)["code"][0]
    sim.fault("oauth2/token", "503")
    assert sim.exchange(code).status_code == 503
    assert sim.exchange(code).status_code == 200


def test_wildcard_fault_hits_any_endpoint(sim, token):
    sim.fault("*", "500", count=2)
    assert sim.get(token, "current/Me").status_code == 500
    assert sim.refresh(token["refresh_token"]).status_code == 500
    assert sim.get(token, "current/Me").status_code == 200


def test_faults_are_listed_and_validated(sim):
    assert sim.fault("oauth2/token", "503", count=3) == [
        {"endpoint": "oauth2/token", "kind": "503", "remaining": 3, "country": None, "reset_in": None}]
    for bad in ({"endpoint": "x", "kind": "418"}, {"kind": "500"}, {"endpoint": "x", "kind": "500", "count": 0},
                {"endpoint": "x", "kind": "500", "country": "xx"}):
        assert requests.post(f"{sim.url}/_sim/faults", json=bad, timeout=5).status_code == 400


# Call log


def test_call_log_records_every_api_call(sim):
    token = sim.token_for(JAN)
    sim.get(token, "current/Me")
    sim.get(token, "101/crm/Accounts/$count", accept=None)
    sim.get(token, "111/system/Divisions")
    calls = sim.calls()
    assert [(call["kind"], call["method"], call["endpoint"], call["status"]) for call in calls] == [
        ("auth", "GET", "oauth2/auth", 200), ("auth", "POST", "oauth2/login", 200),
        ("auth", "POST", "oauth2/consent", 302), ("token", "POST", "oauth2/token", 200),
        ("rest", "GET", "current/Me", 200), ("rest", "GET", "crm/Accounts/$count", 200),
        ("rest", "GET", "system/Divisions", 403)]
    assert calls[3]["grant_type"] == "authorization_code"
    assert [call["division"] for call in calls[4:]] == [None, 101, 111]
    assert calls[4]["accept"] == "application/json" and calls[5]["accept"] != "application/json"
    assert {call["country"] for call in calls} == {"nl"}
    assert calls[0]["path"].startswith("/nl/api/oauth2/auth?client_id=")
    assert calls[4]["path"] == "/nl/api/v1/current/Me"
    assert calls[0]["time"] <= calls[-1]["time"]


def test_call_log_filters_and_clears(sim, token):
    sim.advance(575)
    sim.refresh(token["refresh_token"])
    assert [call["grant_type"] for call in sim.calls(kind="token")] == ["authorization_code", "refresh_token"]
    sim.clear_calls()
    assert sim.calls() == []


def test_control_calls_are_not_logged(sim):
    sim.now()
    sim.settings()
    assert sim.calls() == []


# Settings, clock, reset


def test_settings_have_the_documented_defaults(sim):
    settings = sim.settings()
    assert settings == {**DEFAULTS, "mode": "test"}
    assert (settings["minutely_limit"], settings["daily_limit"], settings["page_size"]) == (60, 5000, 60)


@pytest.mark.parametrize("bad", [{"nope": 1}, {"mode": "plain"}, {"daily_limit": "many"}, {"refresh_grace": 1},
                                 {"too_early_status": 402}])
def test_invalid_settings_are_refused(sim, bad):
    answer = requests.post(f"{sim.url}/_sim/settings", json=bad, timeout=5)
    assert answer.status_code == 400
    assert "error" in answer.json()


def test_create_app_refuses_unknown_settings():
    with pytest.raises(ValueError):
        create_app({"mode": "production"})


def test_clock_advances_and_jumps(sim):
    real = time.time()
    assert abs(sim.now() - real) < 2
    assert sim.advance(3600) - real == pytest.approx(3600, abs=2)
    assert sim.set_time(2_000_000_000) == pytest.approx(2_000_000_000, abs=1)
    assert requests.post(f"{sim.url}/_sim/clock", json={"by": 1}, timeout=5).status_code == 400


def test_reset_restores_seed_settings_clock_and_empties_grants(sim, token):
    sim.seed_user("extra@example.nl", 3)
    sim.settings(page_size=10)
    sim.advance(10_000)
    sim.fault("*", "500")
    settings = sim.reset(daily_limit=7)
    assert settings["daily_limit"] == 7 and settings["page_size"] == 60
    assert abs(sim.now() - time.time()) < 2
    state = sim.state()
    assert state["chains"] == [] and state["faults"] == [] and state["calls"] == 0
    assert "extra@example.nl" not in state["users"]["nl"]
    assert sim.get(token, "current/Me").status_code == 401


def test_seed_adds_a_user_with_many_divisions(sim):
    seeded = sim.seed_user("bench@example.nl", 2500)
    assert seeded["divisions"] == 2500
    token = sim.token_for("bench@example.nl")
    first = seeded["first_division"]
    assert sim.get(token, f"{first}/system/Divisions/$count", accept=None).text == "2500"
    assert requests.post(f"{sim.url}/_sim/seed", json={"username": "bench@example.nl", "divisions": 1},
                         timeout=5).status_code == 400


def test_seeded_user_may_live_on_another_instance_with_its_own_password(sim):
    sim.seed_user("gast@example.de", 2, country="de", password="geheim", first_name="Gast")
    with pytest.raises(LoginFailed):
        sim.login(sim.authorize_url("nl"), "gast@example.de", password="geheim")
    location = sim.login(sim.authorize_url("de"), "gast@example.de", password="geheim")
    assert "code=" in location


def test_state_shows_chains_without_full_tokens(sim, token):
    state = sim.state()
    assert len(state["chains"]) == 1
    chain = state["chains"][0]
    assert (chain["username"], chain["country"], chain["divisions"]) == (JAN, "nl", [101, 102, 103, 104])
    assert chain["refresh_allowed_at"] == pytest.approx(chain["last_access_token_at"] + 570)
    text = requests.get(f"{sim.url}/_sim/state", timeout=5).text
    assert token["access_token"] not in text and token["refresh_token"] not in text


# Modes


def test_plain_mode_has_no_control_endpoints():
    plain = SimServer.start(mode="plain")
    try:
        for method, name in (("get", "clock"), ("post", "reset"), ("get", "calls"), ("get", "state")):
            assert requests.request(method, f"{plain.url}/_sim/{name}", timeout=5).status_code == 404
        assert requests.get(plain.authorize_url("nl"), timeout=5).status_code == 200
    finally:
        plain.stop()


def test_demo_mode_lists_the_instances_users_on_the_login_page(sim):
    demo = SimServer.start(mode="demo")
    try:
        page = requests.get(demo.authorize_url("nl"), timeout=5).text
        assert JAN in page and SOFIE not in page
        assert JAN not in requests.get(sim.authorize_url("nl"), timeout=5).text
    finally:
        demo.stop()


def test_command_line_help_runs():
    result = subprocess.run([sys.executable, "-m", "exact_sim", "--help"], capture_output=True, text=True, timeout=30,
                            cwd=Path(__file__).parent.parent)
    assert result.returncode == 0
    assert "--redirect-uri" in result.stdout and "--mode" in result.stdout
