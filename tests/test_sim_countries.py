"""Country instances: one process, one path prefix per country, users and tokens local to their instance (§1.1)."""
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
import requests

from exact_sim.settings import COUNTRIES
from simhelpers import CHAIN_ERROR
from simhelpers import JAN
from simhelpers import SOFIE
from simhelpers import USER_COUNTRY
from simhelpers import LoginFailed


@pytest.mark.parametrize("cc", COUNTRIES)
def test_every_country_serves_its_own_login_page(sim, cc):
    page = requests.get(sim.authorize_url(cc), timeout=5)
    assert page.status_code == 200
    assert f'action="/{cc}/api/oauth2/login"' in page.text


def test_unknown_country_prefix_is_404(sim):
    assert requests.get(sim.authorize_url("xx"), timeout=5).status_code == 404
    assert requests.get(f"{sim.url}/xx/api/v1/current/Me", timeout=5).status_code == 404
    assert requests.post(f"{sim.url}/xx/api/oauth2/token", timeout=5).status_code == 404


def test_base_urls_setting_lists_every_instance(sim):
    assert sim.base_urls_setting == ",".join(f"{cc}={sim.url}/{cc}" for cc in COUNTRIES)


@pytest.mark.parametrize(("username", "cc"), sorted(USER_COUNTRY.items()))
def test_every_demo_user_signs_in_on_their_own_instance(sim, username, cc):
    token = sim.token_for(username, cc)
    me = sim.get(token, "current/Me", cc=cc).json()["d"]["results"][0]
    assert me["UserName"] == username
    divisions = sim.get(token, f"{me['CurrentDivision']}/system/Divisions", cc=cc).json()["d"]["results"]
    expected_country = {"uk": "GB"}.get(cc, cc.upper())
    assert {row["Country"] for row in divisions} == {expected_country}


@pytest.mark.parametrize(("username", "cc"), [(SOFIE, "nl"), (JAN, "be"), (JAN, "de")])
def test_a_user_of_another_instance_fails_like_a_wrong_password(sim, username, cc):
    with pytest.raises(LoginFailed) as failure:
        sim.login(sim.authorize_url(cc), username)
    assert "Gebruikersnaam of wachtwoord is onjuist." in failure.value.response.text


def test_nl_access_token_is_401_on_be(sim):
    token = sim.token_for(JAN, "nl")
    assert sim.get(token, "current/Me", cc="be").status_code == 401
    assert sim.get(token, "101/system/Divisions", cc="be").status_code == 401
    assert sim.get(token, "current/Me", cc="nl").status_code == 200


def test_nl_code_cannot_be_exchanged_on_be(sim):
    location = sim.login(sim.authorize_url("nl"), JAN)
    code = parse_qs(urlparse(location).query)["code"][0]
    answer = sim.exchange(code, "be")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert sim.exchange(code, "nl").status_code == 200


def test_nl_refresh_token_is_unknown_on_be(sim):
    token = sim.token_for(JAN, "nl")
    sim.advance(575)
    answer = sim.refresh(token["refresh_token"], "be")
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": CHAIN_ERROR}
    assert sim.refresh(token["refresh_token"], "nl").status_code == 200
