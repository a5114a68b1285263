"""The simulator's OAuth2: authorize errors, login, consent, code exchange and refresh-token rules (§1, §8.2, §8.3)."""
import threading
from datetime import datetime
from datetime import timezone
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
import requests

from simhelpers import CHAIN_ERROR
from simhelpers import CLIENT_ID
from simhelpers import CLIENT_SECRET
from simhelpers import JAN
from simhelpers import KARIN
from simhelpers import REDIRECT_URI
from simhelpers import PKCE_VERIFIER
from simhelpers import LoginFailed

TOO_EARLY = "Rate limit exceeded: access_token not expired"


def code_from(location: str) -> str:
    """The decoded code of a callback URL."""
    return parse_qs(urlparse(location).query)["code"][0]


def us_time(epoch: float) -> str:
    """M/D/YYYY h:mm:ss AM/PM in UTC, computed independently of the simulator."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return f"{moment.month}/{moment.day}/{moment.year} {int(moment.strftime('%I'))}:{moment:%M:%S} {moment:%p}"


# Authorize request


def test_authorize_shows_a_login_form_posting_to_the_instance(sim):
    page = requests.get(sim.authorize_url("nl"), timeout=5)
    assert page.status_code == 200
    assert '<form method="post" action="/nl/api/oauth2/login">' in page.text
    assert 'name="request_id"' in page.text
    assert 'name="username"' in page.text and 'name="password"' in page.text


@pytest.mark.parametrize(("params", "text"), [
    ({"client_id": "{00000000-0000-0000-0000-000000000000}"}, "Client not found"),
    ({"redirect_uri": "http://127.0.0.1:5000/exact/callback/"}, "redirect_uri"),
    ({"redirect_uri": "http://evil.example/callback"}, "redirect_uri"),
    ({"response_type": "token"}, "response_type"),
])
def test_invalid_authorize_request_gets_an_error_page_and_no_redirect(sim, params, text):
    page = requests.get(sim.authorize_url("nl", **params), timeout=5, allow_redirects=False)
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert text in page.text
    assert "<form" not in page.text


# Login and consent


def test_wrong_password_shows_the_login_page_again_with_an_error(sim):
    with pytest.raises(LoginFailed) as failure:
        sim.login(sim.authorize_url(), JAN, password="wrong")
    assert failure.value.response.status_code == 200
    assert "Gebruikersnaam of wachtwoord is onjuist." in failure.value.response.text
    assert 'action="/nl/api/oauth2/login"' in failure.value.response.text


def test_consent_offers_every_division_of_the_user_and_preticks_them(sim):
    page = requests.get(sim.authorize_url(), timeout=5)
    request_id = page.text.split('name="request_id" value="')[1].split('"')[0]
    consent = requests.post(f"{sim.base_url('nl')}/api/oauth2/login",
                            data={"request_id": request_id, "username": JAN, "password": "demo"}, timeout=5)
    assert '<form method="post" action="/nl/api/oauth2/consent">' in consent.text
    for code in (101, 102, 103, 104):
        assert f'name="division" value="{code}" checked' in consent.text
    assert '<button name="action" value="allow">Toestaan</button>' in consent.text
    assert '<button name="action" value="cancel">Annuleren</button>' in consent.text


def test_karins_current_division_is_not_preticked(sim):
    location = sim.login(sim.authorize_url(), KARIN)
    sim.exchange(code_from(location)).raise_for_status()
    assert sim.state()["chains"][0]["divisions"] == [122]


def test_cancel_redirects_with_access_denied_and_state(sim):
    location = sim.login(sim.authorize_url(state="s-123"), JAN, cancel=True)
    assert location == f"{REDIRECT_URI}?error=access_denied&state=s-123"


def test_allow_without_any_division_shows_the_consent_page_again(sim):
    with pytest.raises(LoginFailed) as failure:
        sim.login(sim.authorize_url(), JAN, divisions=[])
    assert failure.value.response.status_code == 200
    assert "Selecteer ten minste één administratie." in failure.value.response.text
    assert 'action="/nl/api/oauth2/consent"' in failure.value.response.text


def test_allow_redirects_with_an_encoded_code_and_the_state(sim):
    location = sim.login(sim.authorize_url(state="abc"), JAN)
    assert location.startswith(f"{REDIRECT_URI}?code=")
    assert "%21" in location and "!" not in location
    assert parse_qs(urlparse(location).query)["state"] == ["abc"]
    assert code_from(location)[4:10] == "!IAAAA"


def test_consent_binds_the_ticked_divisions(sim):
    location = sim.login(sim.authorize_url(), JAN, divisions=[102])
    sim.exchange(code_from(location)).raise_for_status()
    assert sim.state()["chains"][0]["divisions"] == [102]


# Code exchange


def test_token_response_shape(sim):
    token = sim.token_for(JAN)
    assert set(token) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert token["expires_in"] == "600"
    assert token["token_type"] == "bearer"
    assert token["access_token"].startswith("gAAAA") and len(token["access_token"]) > 600
    assert token["refresh_token"][4:9] == "!IAAA"


def test_code_is_single_use(sim):
    code = code_from(sim.login(sim.authorize_url(), JAN))
    assert sim.exchange(code).status_code == 200
    second = sim.exchange(code)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_code_expires_after_180_seconds(sim):
    fresh = code_from(sim.login(sim.authorize_url(), JAN))
    stale = code_from(sim.login(sim.authorize_url(), JAN))
    sim.advance(175)
    assert sim.exchange(fresh).status_code == 200
    sim.advance(6)
    expired = sim.exchange(stale)
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


def test_code_exchange_needs_the_same_redirect_uri(sim):
    code = code_from(sim.login(sim.authorize_url(), JAN))
    mismatch = sim.exchange(code, redirect_uri="http://127.0.0.1:5000/other")
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == "invalid_grant"


def test_unknown_code_is_invalid_grant(sim):
    answer = sim.exchange("XTzM!IAAAAnot-a-real-code")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("overrides", [
    {"client_secret": "wrong"},
    {"client_id": "{00000000-0000-0000-0000-000000000000}"},
])
def test_bad_client_credentials_are_invalid_client(sim, overrides):
    code = code_from(sim.login(sim.authorize_url(), JAN))
    answer = sim.exchange(code, **overrides)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"
    assert sim.exchange(code).status_code == 200


def test_client_credentials_may_come_as_http_basic(sim):
    code = code_from(sim.login(sim.authorize_url(), JAN))
    url = f"{sim.base_url('nl')}/api/oauth2/token"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": PKCE_VERIFIER}
    wrong = requests.post(url, data=form, auth=(CLIENT_ID, "wrong"), timeout=5)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
    right = requests.post(url, data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=5)
    assert right.status_code == 200
    assert right.json()["expires_in"] == "600"


def test_http_basic_is_refused_when_switched_off(sim):
    sim.settings(accept_basic_auth=False)
    code = code_from(sim.login(sim.authorize_url(), JAN))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    answer = requests.post(f"{sim.base_url('nl')}/api/oauth2/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=5)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"


def test_unsupported_grant_type(sim):
    answer = sim.refresh("x", grant_type="client_credentials")
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


# Refresh


def test_refresh_rotates_and_the_old_refresh_token_is_refused(sim):
    first = sim.token_for(JAN)
    sim.advance(570)
    second = sim.refresh(first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert second.json()["access_token"] != first["access_token"]
    assert second.json()["expires_in"] == "600"
    sim.advance(600)
    old = sim.refresh(first["refresh_token"])
    assert old.status_code == 401
    assert old.json() == {"error": "unauthorized_client", "error_description": "Old refresh token used."}
    assert sim.refresh(second.json()["refresh_token"]).status_code == 200


def test_refresh_within_570_seconds_is_too_early(sim):
    token = sim.token_for(JAN)
    sim.advance(540)
    early = sim.refresh(token["refresh_token"])
    assert early.status_code == 400
    assert early.json() == {"error": "access_denied", "error_description": TOO_EARLY}
    assert early.headers["Reason"] == f"TooEarlyToRefreshTokens: {TOO_EARLY}"
    sim.advance(35)
    assert sim.refresh(token["refresh_token"]).status_code == 200


def test_too_early_can_use_the_2021_docs_401_variant(sim):
    sim.settings(too_early_status=401)
    token = sim.token_for(JAN)
    early = sim.refresh(token["refresh_token"])
    assert early.status_code == 401
    assert early.json()["error_description"] == "Access Token not expired"
    assert early.headers["Reason"] == "Access Token not expired"


def test_refresh_token_expires_after_30_idle_days(sim):
    token = sim.token_for(JAN)
    issued_at = sim.state()["chains"][0]["refresh_token_issued_at"]
    now = sim.advance(30 * 86400 + 5)
    expired = sim.refresh(token["refresh_token"])
    assert expired.status_code == 400
    body = expired.json()
    assert body["error"] == "invalid_request"
    prefix = f"The refresh token expired at {us_time(issued_at + 30 * 86400)} and it is now "
    assert body["error_description"].startswith(prefix)
    # The request reaches the server a moment after `now` was read; allow the clock to tick a second.
    assert body["error_description"][len(prefix):] in {f"{us_time(now)}.", f"{us_time(now + 1)}."}


def test_refresh_token_is_still_valid_just_before_30_days(sim):
    token = sim.token_for(JAN)
    sim.advance(30 * 86400 - 60)
    assert sim.refresh(token["refresh_token"]).status_code == 200


def test_unknown_refresh_token_is_invalid_grant_with_chain_reason(sim):
    answer = sim.refresh("abcd!IAAAgarbage")
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": CHAIN_ERROR}
    assert answer.headers["Reason"] == f"Unknown: {CHAIN_ERROR}"


def test_grace_mode_accepts_the_previous_refresh_token_until_its_successor_is_used(sim):
    sim.settings(refresh_grace=True)
    first = sim.token_for(JAN)["refresh_token"]
    sim.advance(570)
    second = sim.refresh(first).json()["refresh_token"]
    sim.advance(570)
    third = sim.refresh(first)
    assert third.status_code == 200
    assert sim.refresh(second).status_code == 401
    sim.advance(570)
    assert sim.refresh(third.json()["refresh_token"]).status_code == 200
    sim.advance(570)
    assert sim.refresh(first).json() == {"error": "unauthorized_client", "error_description": "Old refresh token used."}


def test_old_access_token_stays_valid_after_a_refresh(sim):
    first = sim.token_for(JAN)
    sim.advance(575)
    sim.refresh(first["refresh_token"]).raise_for_status()
    assert sim.get(first, "current/Me").status_code == 200
    sim.advance(30)
    assert sim.get(first, "current/Me").status_code == 401


def test_refresh_can_revoke_the_old_access_token(sim):
    sim.settings(revoke_old_access_token=True)
    first = sim.token_for(JAN)
    sim.advance(575)
    second = sim.refresh(first["refresh_token"]).json()
    assert sim.get(first, "current/Me").status_code == 401
    assert sim.get(second, "current/Me").status_code == 200


def test_concurrent_refreshes_with_one_refresh_token_let_exactly_one_win(sim):
    token = sim.token_for(JAN)
    sim.advance(580)
    statuses = []
    workers = [threading.Thread(target=lambda: statuses.append(sim.refresh(token["refresh_token"]).status_code))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(statuses) == [200, 401]


def test_revoked_chain_refuses_refresh_and_access_token(sim):
    token = sim.token_for(JAN)
    assert sim.revoke(JAN) == 1
    assert sim.get(token, "current/Me").status_code == 401
    sim.advance(575)
    answer = sim.refresh(token["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["error_description"] == CHAIN_ERROR


def test_a_code_asked_with_a_pkce_challenge_needs_its_verifier(sim):
    code = code_from(sim.login(sim.authorize_url(), JAN))
    for verifier in (None, "someone-elses-verifier-" + "y" * 40):
        refused = sim.exchange(code, code_verifier=verifier)
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_grant", "error_description": "PKCE verification failed."}
    assert sim.exchange(code).status_code == 200  # a refused exchange does not use the code up


def test_without_a_challenge_a_code_is_refused_while_pkce_is_required(sim):
    code = code_from(sim.login(sim.authorize_url(code_challenge=None, code_challenge_method=None), JAN))
    assert sim.exchange(code, code_verifier=None).status_code == 400
    sim.settings(require_pkce=False)
    assert sim.exchange(code, code_verifier=None).status_code == 200


def test_only_the_s256_challenge_method_is_accepted(sim):
    page = requests.get(sim.authorize_url(code_challenge_method="plain"), timeout=5)
    assert page.status_code == 400 and "S256" in page.text
