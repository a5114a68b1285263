"""The OAuth flow against the simulated Exact Online over real HTTP."""
import logging
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from exact import (AccessDenied, ConfigurationError, ExactOAuth, ExactRequestError, ExactUnavailable,
                   ReauthorizationRequired, Token, TooEarlyToRefresh, parse_callback)
from exact.oauth import code_challenge
from simhelpers import CLIENT_ID, CLIENT_SECRET, JAN, PKCE_VERIFIER, REDIRECT_URI
from test_exact_support import callback_args, connect, make_oauth


def test_authorization_url_carries_exacts_parameters(sim):
    url = make_oauth(sim).authorization_url("csrf-123")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == sim.base_url("nl") + "/api/oauth2/auth"
    assert parse_qs(parts.query) == {
        "client_id": [CLIENT_ID], "redirect_uri": [REDIRECT_URI], "response_type": ["code"],
        "state": ["csrf-123"], "force_login": ["0"],
    }


def test_authorization_url_carries_the_pkce_challenge_of_the_verifier(sim):
    query = parse_qs(urlsplit(make_oauth(sim).authorization_url("s", code_verifier=PKCE_VERIFIER)).query)
    assert query["code_challenge"] == [code_challenge(PKCE_VERIFIER)] and query["code_challenge_method"] == ["S256"]
    # RFC 7636 appendix B's example pair
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_code_is_exchanged_only_with_its_verifier(sim):
    oauth = make_oauth(sim)
    code = parse_callback(callback_args(sim.login(oauth.authorization_url("s", code_verifier=PKCE_VERIFIER), JAN)))
    with pytest.raises(ReauthorizationRequired):
        oauth.exchange_code(code, "another-login-s-verifier-" + "z" * 40)
    assert oauth.exchange_code(code, PKCE_VERIFIER).access_token


def test_authorization_url_can_force_the_login_screen(sim):
    assert parse_qs(urlsplit(make_oauth(sim).authorization_url("s", force_login=True)).query)["force_login"] == ["1"]


def test_http_base_url_needs_explicit_permission():
    with pytest.raises(ConfigurationError, match="not https"):
        ExactOAuth("http://127.0.0.1:9/nl", CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)


def test_login_and_code_exchange_yield_a_token_expiring_in_600_seconds(sim):
    oauth = make_oauth(sim)
    location = sim.login(oauth.authorization_url("state-1", code_verifier=PKCE_VERIFIER), JAN)
    args = callback_args(location)
    assert args["state"] == "state-1" and "!" in args["code"]
    before = sim.now()
    token = oauth.exchange_code(parse_callback(args), PKCE_VERIFIER)
    assert token.access_token and "!" in token.refresh_token
    assert before <= token.issued_at <= sim.now()
    assert token.expires_at == pytest.approx(token.issued_at + 600)


def test_code_exchange_sends_client_credentials_in_the_body(sim):
    sim.settings(accept_basic_auth=False)
    _, token = connect(sim, JAN)
    assert token.access_token


def test_code_exchange_decodes_a_still_encoded_code_once(sim):
    oauth = make_oauth(sim)
    location = sim.login(oauth.authorization_url("state-1", code_verifier=PKCE_VERIFIER), JAN)
    raw_code = parse_qs(urlsplit(location).query, keep_blank_values=True)["code"][0]
    assert oauth.exchange_code(quote(raw_code, safe=""), PKCE_VERIFIER).access_token


def test_a_used_code_cannot_be_exchanged_again(sim):
    oauth = make_oauth(sim)
    code = parse_callback(callback_args(sim.login(oauth.authorization_url("s", code_verifier=PKCE_VERIFIER), JAN)))
    oauth.exchange_code(code, PKCE_VERIFIER)
    with pytest.raises(ReauthorizationRequired):
        oauth.exchange_code(code, PKCE_VERIFIER)


def test_a_code_older_than_three_minutes_is_refused(sim):
    oauth = make_oauth(sim)
    code = parse_callback(callback_args(sim.login(oauth.authorization_url("s", code_verifier=PKCE_VERIFIER), JAN)))
    sim.advance(181)
    with pytest.raises(ReauthorizationRequired):
        oauth.exchange_code(code, PKCE_VERIFIER)


def test_wrong_client_secret_is_a_configuration_error(sim):
    oauth = ExactOAuth(sim.base_url("nl"), CLIENT_ID, "not-the-secret", REDIRECT_URI, clock=sim.now,
                       allow_insecure_transport=True)
    code = parse_callback(callback_args(sim.login(make_oauth(sim).authorization_url("s", code_verifier=PKCE_VERIFIER), JAN)))
    with pytest.raises(ConfigurationError) as raised:
        oauth.exchange_code(code, PKCE_VERIFIER)
    assert "not-the-secret" not in str(raised.value) + raised.value.detail


def test_cancel_on_the_consent_page_becomes_access_denied(sim):
    location = sim.login(make_oauth(sim).authorization_url("state-9", code_verifier=PKCE_VERIFIER), JAN, cancel=True)
    args = callback_args(location)
    assert args["error"] == "access_denied" and args["state"] == "state-9"
    with pytest.raises(AccessDenied):
        parse_callback(args)


@pytest.mark.parametrize("args", [{"error": "server_error", "error_description": "Oops"}, {"state": "s"}, {"code": ""}])
def test_callback_without_a_code_is_a_request_error(args):
    with pytest.raises(ExactRequestError):
        parse_callback(args)


def test_refresh_is_refused_locally_before_570_seconds(sim):
    oauth, token = connect(sim, JAN)
    sim.advance(569)
    sim.clear_calls()
    with pytest.raises(TooEarlyToRefresh) as raised:
        oauth.refresh(token)
    assert raised.value.retry_at == token.issued_at + 570
    assert sim.calls() == []


def test_refresh_after_575_seconds_rotates_the_refresh_token(sim):
    oauth, token = connect(sim, JAN)
    sim.advance(575)
    fresh = oauth.refresh(token)
    assert fresh.access_token != token.access_token
    assert fresh.refresh_token != token.refresh_token
    assert fresh.issued_at >= token.issued_at + 575
    assert fresh.expires_at == pytest.approx(fresh.issued_at + 600)


def test_refresh_sends_client_credentials_in_the_body(sim):
    sim.settings(accept_basic_auth=False)
    oauth, token = connect(sim, JAN)
    sim.advance(575)
    assert oauth.refresh(token).access_token


def test_the_old_refresh_token_is_dead_after_rotation(sim):
    oauth, token = connect(sim, JAN)
    sim.advance(575)
    oauth.refresh(token)
    sim.advance(575)
    with pytest.raises(ReauthorizationRequired) as raised:
        oauth.refresh(token)
    assert "Old refresh token used" in raised.value.detail
    assert token.refresh_token not in raised.value.detail


def test_a_refresh_token_idle_for_30_days_needs_a_new_consent(sim):
    oauth, token = connect(sim, JAN)
    sim.advance(31 * 86400)
    with pytest.raises(ReauthorizationRequired) as raised:
        oauth.refresh(token)
    assert "invalid_request" in raised.value.detail


def test_a_garbled_refresh_token_needs_a_new_consent(sim):
    oauth, token = connect(sim, JAN)
    sim.advance(575)
    garbled = Token("x", "garbled!token", expires_at=token.expires_at, issued_at=token.issued_at)
    with pytest.raises(ReauthorizationRequired) as raised:
        oauth.refresh(garbled)
    assert "invalid_grant" in raised.value.detail


def test_a_revoked_grant_needs_a_new_consent(sim):
    oauth, token = connect(sim, JAN)
    sim.revoke(JAN)
    sim.advance(575)
    with pytest.raises(ReauthorizationRequired):
        oauth.refresh(token)


@pytest.mark.parametrize("too_early_status", [400, 401])
def test_exact_saying_too_early_is_too_early_to_refresh(sim, too_early_status):
    sim.settings(too_early_status=too_early_status)
    # Our clock runs ten minutes ahead of Exact's, so we think the 570 s have passed and Exact disagrees.
    oauth = make_oauth(sim, clock=lambda: sim.now() + 600)
    _, token = connect(sim, JAN, oauth=oauth)
    with pytest.raises(TooEarlyToRefresh) as raised:
        oauth.refresh(token)
    assert raised.value.retry_at > sim.now() + 600


@pytest.mark.parametrize("kind", ["500", "503", "malformed"])
def test_token_endpoint_faults_mean_exact_is_unavailable(sim, kind):
    oauth, token = connect(sim, JAN)
    sim.advance(575)
    sim.fault("oauth2/token", kind)
    with pytest.raises(ExactUnavailable):
        oauth.refresh(token)


def test_token_endpoint_timeout_means_exact_is_unavailable(sim):
    sim.settings(fault_timeout_seconds=2)
    oauth = make_oauth(sim, timeout=0.5)
    _, token = connect(sim, JAN, oauth=oauth)
    sim.advance(575)
    sim.fault("oauth2/token", "timeout")
    with pytest.raises(ExactUnavailable):
        oauth.refresh(token)


def test_token_traffic_is_never_logged(app, sim, caplog):
    # The app's configuration (views/security.py) silences requests-oauthlib's debug records, which print tokens.
    caplog.set_level(logging.DEBUG)
    oauth, token = connect(sim, JAN)
    sim.advance(575)
    fresh = oauth.refresh(token)
    logged = caplog.text
    for secret in (token.access_token, token.refresh_token, fresh.refresh_token, CLIENT_SECRET):
        assert secret not in logged


def test_repr_shows_no_secret(sim):
    oauth = make_oauth(sim)
    assert CLIENT_SECRET not in repr(oauth)
    assert CLIENT_ID in repr(oauth)
