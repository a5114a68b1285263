"""Workers report what Exact answered them (POST /api/v1/accounts/{account}/connection/problems): the app checks it
at Exact itself (current/Me, then a refresh) and acts only on what its own check finds; a report alone changes
nothing, and hostile reports get a JSON 400/422 in words."""
import json
import time

import pytest
import requests
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hostile import COUNTS
from hostile import HOSTILE
from hostile import SPECIAL_VALUES
from hostile import assert_refused_with_a_message
from hostile import comparable
from hostile import snapshot
from hostile import text
from models import Connection
from models import Event
from simhelpers import JAN
from test_token_api import AUTH
from test_token_api import saved  # noqa: F401  (fixture: Jan's administration 101 saved, one worker key)
from test_webhooks import receiver  # noqa: F401  (fixture: OutSmart's server, checking every signature)
from test_webhooks import webhooks_on  # noqa: F401  (fixture: the app sends its events to it)

PROBLEMS = "/api/v1/accounts/{account}/connection/problems"
A_401 = {"status": 401, "endpoint": "101/crm/Accounts", "reason": None}


def report(client, body, account="demo"):
    """POST a report as a worker sends it: JSON, with the worker's key."""
    return client.post(PROBLEMS.format(account=account), data=json.dumps(body),
                       headers={**AUTH, "Content-Type": "application/json"})


def stored() -> dict:
    """Every table as stored, but the counts of Exact's answers (the token calls and errors counted per hour and day:
    counting what Exact answered the app's own check is what they are for)."""
    return comparable(snapshot(), skip_tables=[COUNTS])


def exact_calls(sim) -> list[tuple[str, str | None, int]]:
    return [(call["endpoint"], call["grant_type"], call["status"]) for call in sim.calls()]


def make_refresh_possible(sim, seconds_ago=580):
    """The stored token was issued `seconds_ago` (over Exact's 570 s) by our clock and by Exact's, and is still
    valid for a minute by ours, so no refresh is due before a call."""
    now = time.time()
    Connection.update(token_issued_at=now - seconds_ago, token_expires_at=now + 60).execute()
    sim.advance(seconds_ago)


def test_a_401_whose_check_works_changes_nothing_and_costs_one_current_me(client, saved, sim):
    """Exact accepts the connection's own token: the worker's was out of date. One current/Me, no refresh, no
    event, not a byte of the database changed."""
    before = stored()
    sim.clear_calls()
    answer = report(client, {**A_401, "reason": "Unknown: Token is not allowed"})
    assert answer.status_code == 200, answer.json
    assert answer.json["outcome"] == "working" and answer.json["state"] == "saved"
    assert "Nothing was changed" in answer.json["message"] and "access-token" in answer.json["message"]
    assert exact_calls(sim) == [("current/Me", None, 200)]
    assert stored() == before


def test_a_401_for_a_token_exact_dropped_early_renews_it_and_keeps_the_connection(client, saved, sim):
    """Exact considers the access token expired while we think it has a minute left: our current/Me is refused as
    well, a refresh works, the new token works. The token is renewed; the state, the history stay."""
    make_refresh_possible(sim)
    sim.advance(30)  # 610 s at Exact: past the token's 600 s there, not by our clock
    stored = Connection.get()
    sim.clear_calls()
    answer = report(client, A_401)
    assert answer.status_code == 200, answer.json
    assert answer.json["outcome"] == "refreshed" and answer.json["state"] == "saved"
    assert exact_calls(sim) == [("current/Me", None, 401), ("oauth2/token", "refresh_token", 200),
                                ("current/Me", None, 200)]
    renewed = Connection.get()
    assert renewed.status == Connection.SAVED and renewed.refresh_token != stored.refresh_token
    assert Event.select().where(Event.action == "expired").count() == 0
    assert client.post("/api/v1/accounts/demo/access-token", headers=AUTH).json["access_token"] == \
        renewed.access_token


def test_a_report_whose_check_finds_the_grant_dead_expires_the_connection_once(app, saved, sim, live_app):
    """The admin revoked the app at Exact: current/Me refused, the token endpoint says the grant is dead. Over HTTP,
    as a worker sends it: the connection expires (one `expired` event), the admin sees "Authenticatie verlopen",
    the token API answers 409; a second report is answered 409 without asking Exact."""
    make_refresh_possible(sim)
    sim.revoke(JAN)
    sim.clear_calls()
    url = live_app + PROBLEMS.format(account="demo")
    answer = requests.post(url, json=A_401, headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "expired" and answer.json()["state"] == "expired"
    assert "reconnect" in answer.json()["message"]
    assert exact_calls(sim) == [("current/Me", None, 401), ("oauth2/token", "refresh_token", 400)]
    stored = Connection.get()
    assert stored.status == Connection.EXPIRED and stored.last_error == "ReauthorizationRequired"
    assert [(event.action, event.user) for event in Event.select().where(Event.action == "expired")] == [
        ("expired", None)]
    assert "Authenticatie verlopen" in app.test_client().get("/exact").get_data(as_text=True)
    assert requests.post(live_app + "/api/v1/accounts/demo/access-token", headers=AUTH, timeout=30).status_code == 409

    sim.clear_calls()
    again = requests.post(url, json=A_401, headers=AUTH, timeout=30)
    assert again.status_code == 409 and again.json()["state"] == "expired"
    assert sim.calls() == [] and Event.select().where(Event.action == "expired").count() == 1


def test_a_401_within_570_seconds_of_the_last_token_is_checked_later_and_changes_nothing(client, saved, sim):
    """Our own token is refused too, but Exact allows no new one yet: no conclusion, no token call, nothing
    changed; the answer says when it can be told. When that time has come, the same report expires the
    connection."""
    sim.revoke(JAN)  # right after the save: the token is seconds old
    before = stored()
    issued = Connection.get().token_issued_at
    sim.clear_calls()
    answer = report(client, A_401)
    assert answer.status_code == 503 and answer.json["error"] == "check_later", answer.json
    assert answer.json["reset_at"] == pytest.approx(issued + 570)
    assert 1 <= int(answer.headers["Retry-After"]) <= 570
    assert exact_calls(sim) == [("current/Me", None, 401)]
    assert stored() == before

    make_refresh_possible(sim)  # 580 s later
    assert report(client, A_401).json["outcome"] == "expired"
    assert Connection.get().status == Connection.EXPIRED


def test_a_401_when_the_exact_users_token_calls_are_spent_is_checked_tomorrow(app, client, saved, sim):
    """Our own token is refused too and a new one would be the Exact user's 2nd token call of the day, over a budget
    of 1: Exact's token endpoint is not asked, nothing changes, and the answer says to report again at 00:00 UTC."""
    app.config["EXACT_TOKEN_CALLS_PER_DAY"] = 1  # the login's code exchange was the one
    make_refresh_possible(sim)
    sim.advance(30)  # past the token's 600 s at Exact
    before = stored()
    sim.clear_calls()
    answer = report(client, A_401)
    assert answer.status_code == 503 and answer.json["error"] == "check_later", answer.json
    assert "token calls for today are used up" in answer.json["message"]
    assert answer.json["reset_at"] % 86400 == 0 and answer.json["reset_at"] > time.time()
    assert exact_calls(sim) == [("current/Me", None, 401)]
    assert stored() == before


def test_a_403_with_a_working_grant_changes_nothing(client, saved, sim):
    """A 403 concerns the worker's request (rights, administration): the grant works, nothing changes."""
    before = stored()
    sim.clear_calls()
    answer = report(client, {"status": 403, "endpoint": "/api/v1/101/salesinvoice/SalesInvoices",
                             "reason": "NoDivisionAccess", "message": "Forbidden"})
    assert answer.status_code == 200 and answer.json["outcome"] == "working", answer.json
    assert "concerns the request you made" in answer.json["message"]
    assert exact_calls(sim) == [("current/Me", None, 200)]
    assert stored() == before


def test_a_403_whose_check_finds_the_grant_dead_expires_the_connection(client, saved, sim):
    """What the worker reports does not decide: the app's own check does, whatever the status reported."""
    make_refresh_possible(sim)
    sim.revoke(JAN)
    answer = report(client, {"status": 403, "endpoint": "current/Me", "reason": "InactiveUser"})
    assert answer.status_code == 200 and answer.json["outcome"] == "expired", answer.json
    assert Connection.get().status == Connection.EXPIRED


# --- 403s whose reason needs attention: confirmed by the app's own calls first ----------------------------------

@pytest.mark.parametrize("reason, setting, key, calls", [
    # A user-level refusal: current/Me itself is refused.
    ("InactiveUser", {"inactive_users": [JAN]}, "InactiveUser", [("current/Me", None, 403)]),
    ("BlockedUser", {"blocked_users": [JAN]}, "BlockedUser", [("current/Me", None, 403)]),
    # The administration's licence or customer: current/Me works, the administration is asked.
    ("LicenseExpired", {"expired_licenses": [101]}, "LicenseExpired",
     [("current/Me", None, 200), ("system/Divisions", None, 403)]),
    ("BlockedCustomer", {"blocked_customers": [101]}, "BlockedCustomer",
     [("current/Me", None, 200), ("system/Divisions", None, 403)]),
])
def test_a_403_whose_reason_the_apps_own_calls_confirm_needs_attention(client, saved, sim, reason, setting, key,
                                                                       calls):
    """The connection enters needs_attention (one event, the reason kept), the worker is told to stop, and the token
    API then refuses with the reason."""
    sim.settings(**setting)
    sim.clear_calls()
    answer = report(client, {"status": 403, "endpoint": "101/crm/Accounts", "reason": reason})
    assert answer.status_code == 200, answer.json
    assert (answer.json["outcome"], answer.json["state"], answer.json["reason"]) == (
        "needs_attention", "needs_attention", reason)
    assert "Stop synchronising" in answer.json["message"]
    assert [(endpoint.split("?")[0], grant, status) for endpoint, grant, status in exact_calls(sim)] == calls
    stored = Connection.get()
    assert (stored.status, stored.attention_reason) == (Connection.NEEDS_ATTENTION, key)
    assert [event.action for event in Event.select().where(Event.action == "needs_attention")] == ["needs_attention"]
    token = client.post("/api/v1/accounts/demo/access-token", headers=AUTH)
    assert token.status_code == 409 and token.json["reason"] == reason
    sim.clear_calls()
    again = report(client, {"status": 403, "endpoint": "101/crm/Accounts", "reason": reason})
    assert again.status_code == 409 and again.json["error"] == "needs_attention" and sim.calls() == []


def test_a_missing_app_scope_is_confirmed_on_the_reported_collection(client, saved, sim):
    """Exact's message names the scope violation: the app counts the reported collection itself, is refused too,
    and keeps which endpoint lacked its scope ("Verbinding testen" asks it again)."""
    sim.settings(missing_scopes=["CRM accounts"])
    sim.clear_calls()
    answer = report(client, {"status": 403, "endpoint": "/api/v1/101/crm/Accounts",
                             "message": "Forbidden - Application Scope Violated. Cannot read"})
    assert answer.json["outcome"] == "needs_attention" and answer.json["reason"] == "ApplicationScopeViolated"
    assert [call[0] for call in exact_calls(sim)] == ["current/Me", "system/Divisions", "crm/Accounts/$count"]
    assert Connection.get().attention_reason == "ApplicationScopeViolated:crm/Accounts"


@pytest.mark.parametrize("body", [
    {"status": 403, "endpoint": "101/crm/Accounts", "reason": "LicenseExpired"},
    {"status": 403, "endpoint": "101/crm/Accounts", "reason": "InactiveUser: the user is inactive"},
    {"status": 403, "endpoint": "101/crm/Accounts", "message": "Forbidden - Application Scope Violated. Cannot read"},
    {"status": 401, "endpoint": "current/Me", "reason": "BlockedUser"},
])
def test_a_reason_exact_does_not_give_the_app_changes_nothing(client, saved, sim, body):
    """The worker names a reason that needs attention, but Exact accepts every call the app makes to confirm it:
    the report alone changes nothing."""
    before = stored()
    answer = report(client, body)
    assert answer.status_code == 200 and answer.json["outcome"] == "working", answer.json
    assert answer.json["reason"] is None
    assert stored() == before


def test_a_401_report_while_exact_refuses_the_user_needs_attention_not_expiry(client, saved, sim):
    """Whatever status the worker reports, the app's own check decides: an inactive user is not a dead grant."""
    sim.settings(inactive_users=[JAN])
    answer = report(client, A_401)
    assert answer.json["outcome"] == "needs_attention" and answer.json["reason"] == "InactiveUser"
    assert Connection.get().status == Connection.NEEDS_ATTENTION


@pytest.mark.parametrize("kind, status, error", [("503", 503, "exact_unavailable"), ("500", 503, "exact_unavailable"),
                                                 ("429", 429, "rate_limited"), ("malformed", 503, "exact_unavailable")])
def test_exact_failing_during_the_check_changes_nothing_and_says_when_to_try_again(client, saved, sim, kind, status,
                                                                                    error):
    before = stored()
    sim.fault("current/Me", kind, reset_in=30)
    answer = report(client, A_401)
    assert answer.status_code == status and answer.json["error"] == error, answer.json
    assert "nothing was changed" in answer.json["message"] and int(answer.headers["Retry-After"]) >= 1
    assert stored() == before


def test_a_report_for_another_administration_is_refused_and_not_checked(client, saved, sim):
    sim.clear_calls()
    answer = report(client, {"status": 403, "endpoint": "102/crm/Accounts", "reason": "NoDivisionAccess"})
    assert answer.status_code == 422 and answer.json["error"] == "invalid_report"
    assert "administration 102" in answer.json["message"] and "101" in answer.json["message"]
    assert sim.calls() == []


def test_reports_about_connections_there_is_nothing_to_check_for(client, app, saved, sim):
    """No connection: 404. Not saved (here: disconnected): 409 with the state. Neither asks Exact."""
    sim.clear_calls()
    assert report(client, A_401, account="nobody").status_code == 404
    client.post("/exact/verbreken", data={"confirm": "y"})
    answer = report(client, A_401)
    assert answer.status_code == 409 and answer.json["state"] == "disconnected", answer.json
    assert sim.calls() == []


# --- hostile reports ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, says", [
    ({}, "status must be"),
    ({"endpoint": "101/crm/Accounts"}, "status must be"),
    ({**A_401, "status": 500}, "401 or 403"),
    ({**A_401, "status": "401"}, "as a number"),
    ({**A_401, "status": True}, "as a number"),
    ({**A_401, "status": 401.0}, "as a number"),
    ({**A_401, "endpoint": None}, "endpoint must be"),
    ({**A_401, "endpoint": "https://start.exactonline.nl/api/v1/101/crm/Accounts"}, "without host"),
    ({**A_401, "endpoint": "101/crm/Accounts?$filter=Name eq 'x'"}, "query string"),
    ({**A_401, "endpoint": "../../etc/passwd"}, "endpoint must be"),
    ({**A_401, "endpoint": "101/crm/Accounts\r\nX-Injected: 1"}, "endpoint must be"),
    ({**A_401, "endpoint": "101/" + "a/" * 200 + "b"}, "at most 300"),
    ({**A_401, "reason": "NoDivisionAccess\nforged log line"}, "reason must be"),
    ({**A_401, "reason": 42}, "reason must be"),
    ({**A_401, "reason": "x" * 301}, "at most 300"),
    ({**A_401, "message": "a\x00b"}, "message must be"),
    ({**A_401, "message": ["Forbidden"]}, "message must be"),
    ({**A_401, "Reason": "NoDivisionAccess"}, "only the fields"),
    ({"status": 999, "endpoint": 5, "reason": 5, "message": 5, "extra": 1}, "status must be"),
    ([A_401], "JSON object"),
    ("401", "JSON object"),
    (None, "JSON object"),
])
def test_each_malformed_report_is_refused_in_words_naming_what_is_wrong(client, saved, sim, body, says):
    before = stored()
    sim.clear_calls()
    answer = report(client, body)
    assert_refused_with_a_message(answer, {422}, repr(body)[:80], says=says)
    assert answer.json["error"] == "invalid_report" and sim.calls() == []
    assert stored() == before


def test_every_wrong_field_of_a_report_is_named_at_once(client, saved):
    message = report(client, {"status": 999, "endpoint": 5, "reason": 5, "message": 5, "extra": 1}).json["message"]
    assert all(f"{field} must be" in message for field in ("status", "endpoint", "reason", "message"))
    assert "only the fields" in message


@pytest.mark.parametrize("data, content_type, says", [
    (b'{"status": 401', "application/json", "not valid JSON"),
    (b"\xff\xfe\xfd", "application/json", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", "not valid JSON"),
    (b'{"status": 1' + b"0" * 5000 + b'}', "application/json", "not valid JSON"),
    (b"", "application/json", "not valid JSON"),
    (json.dumps(A_401).encode(), "text/plain", "Content-Type: application/json"),
    (json.dumps(A_401).encode(), None, "Content-Type: application/json"),
    (b"status=401&endpoint=current/Me", "application/x-www-form-urlencoded", "Content-Type: application/json"),
])
def test_a_body_that_is_not_json_is_refused_in_words(client, saved, sim, data, content_type, says):
    before = stored()
    sim.clear_calls()
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    answer = client.post(PROBLEMS.format(account="demo"), data=data, headers=headers)
    assert_refused_with_a_message(answer, {400}, repr(data)[:60], says=says)
    assert answer.json["error"] == "bad_request" and sim.calls() == []
    assert stored() == before


json_value = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats() | text
                          | st.sampled_from(SPECIAL_VALUES[:40]),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                          max_leaves=8)
ENDPOINTS = ["101/crm/Accounts", "current/Me", "/api/v1/101/crm/Accounts(guid'00000000-0000-0000-0000-000000000001')",
             "101/crm/Accounts/$count", "api/v1/101/sync/Financial/GLAccounts", "102/crm/Accounts", "0/crm/Accounts",
             "crm", "101/", "/", "", "101/crm/Accounts?x=1", "101//crm", "101/crm/Accounts(", "https://x/api/v1/1/a/b"]
reports = st.fixed_dictionaries({}, optional={
    "status": st.one_of(st.sampled_from([401, 403, 401.0, "403", True, 0, 500, -401, 2 ** 64]), json_value),
    "endpoint": st.one_of(st.sampled_from(ENDPOINTS), text, json_value),
    "reason": st.one_of(st.sampled_from([None, "NoDivisionAccess", "DivisionBlocked: 101", "x" * 301, "é"]), text,
                        json_value),
    "message": st.one_of(st.none(), text, json_value),
    "Reason": st.just("NoDivisionAccess"),
    "status_code": st.just(401),
})
bodies = st.one_of(reports.map(json.dumps), json_value.map(json.dumps), st.binary(max_size=80),
                   st.sampled_from(["", "{", "null", "[" * 5000, '{"status": 401, "endpoint": "current/Me"}']))
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "application/problem+json",
                                 "text/plain", "application/x-www-form-urlencoded", None])


# Any body, any content type: a report about a healthy connection (valid or not) changes nothing; an invalid one
# is refused in words (400/422) without asking Exact; a valid one costs one current/Me and is answered "working".
@settings(HOSTILE, max_examples=80)
@given(body=bodies, content_type=content_types)
@example(body=json.dumps({"status": 403, "endpoint": "current/Me", "reason": "DivisionBlocked: 101"}),
         content_type="application/json")
def test_any_report_about_a_healthy_connection_changes_nothing(saved, sim, body, content_type):
    from flask import current_app

    client = current_app.test_client()
    before = stored()
    sim.clear_calls()
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    answer = client.post(PROBLEMS.format(account="demo"), data=body, headers=headers)
    context = f"{content_type}: {body[:100]!r}"
    assert answer.is_json, context
    sent = body.encode(errors="replace") if isinstance(body, str) else body
    if answer.status_code == 200:
        assert answer.json["outcome"] == "working" and answer.json["state"] == "saved", context
        assert exact_calls(sim) == [("current/Me", None, 200)], context
    elif content_type == "application/x-www-form-urlencoded" and b"access_token" in sent:
        assert_refused_with_a_message(answer, {401}, context, says="never in the address or the body")
    else:
        assert_refused_with_a_message(answer, {400, 422}, context)
        assert sim.calls() == [], context
    assert stored() == before, context


# --- what a report changes, OutSmart's servers hear ---------------------------------------------------------------

@pytest.mark.parametrize("setting, body, type, reason", [
    ({}, A_401, "connection.expired", "ReauthorizationRequired"),
    ({"expired_licenses": [101]}, {"status": 403, "endpoint": "101/crm/Accounts", "reason": "LicenseExpired"},
     "connection.needs_attention", "LicenseExpired"),
])
def test_what_a_report_changes_reaches_outsmarts_server_signed(client, saved, sim, receiver, webhooks_on, setting,
                                                               body, type, reason):
    """The state change a confirmed report makes is told to OutSmart's server (a real receiver checking the
    signature with standardwebhooks): once, with the reason."""
    webhooks_on()
    if setting:
        sim.settings(**setting)
    else:
        make_refresh_possible(sim)
        sim.revoke(JAN)
    assert report(client, body).status_code == 200
    received = receiver.wait_for(1)
    assert len(received) == 1 and received[0].refused is None
    event = received[0].payload
    assert (event["type"], event["account"], event["data"]["reason"]) == (type, "demo", reason)
