"""The simulator's own limits on an app's user, on by default: 200 token calls per UTC day, and the block after more
than 10 errors per endpoint and hour (§3; §8.3 step 6, §8.4 step 5). Exact's answers to both are undocumented: the
simulator's choices are settings (exact_sim/settings.py)."""
import pytest
import requests

from exact.errors import RateLimited
from exact.errors import ReauthorizationRequired
from exact.tokens import Token
from simhelpers import JAN
from simhelpers import PIET
from test_exact_support import make_oauth

DAY_START = 1_900_022_400  # 00:00 UTC
NOON = DAY_START + 12 * 3600
NEXT_DAY = DAY_START + 86400
SPENT = {"error": "access_denied", "error_description": "Rate limit exceeded: token requests per day"}
BLOCKED = {"error": {"code": "", "message": {"lang": "", "value":
                                             "The API key is blocked for this endpoint: too many errors within an hour."}}}


@pytest.fixture
def fast_refreshes(sim):
    """Exact's 570 s between tokens off, so a day's token calls fit in a test; noon, so the day does not turn."""
    sim.set_time(NOON)
    sim.settings(min_token_interval=0)


def refreshes(sim, token: dict, times: int) -> dict:
    for _ in range(times):
        answer = sim.refresh(token["refresh_token"])
        assert answer.status_code == 200, answer.text
        token = answer.json()
    return token


# --- token calls per user and UTC day -------------------------------------------------------------------------------

def test_the_201st_token_call_of_a_user_is_refused_until_midnight_and_rotates_nothing(sim, fast_refreshes):
    token = refreshes(sim, sim.token_for(JAN), 199)  # the code exchange and 199 refreshes: 200 calls
    refused = sim.refresh(token["refresh_token"])
    assert refused.status_code == 429 and refused.json() == SPENT
    assert (refused.headers["X-RateLimit-Limit"], refused.headers["X-RateLimit-Remaining"],
            refused.headers["X-RateLimit-Reset"]) == ("200", "0", str(NEXT_DAY * 1000))
    assert "Reason" not in refused.headers
    assert sim.state()["token_calls_today"] == {JAN: 201}  # a refused call counts too
    assert sim.get(token, "current/Me").status_code == 200  # the last access token still works
    assert sim.token_for(PIET)["access_token"]  # another user has a budget of their own
    sim.set_time(NEXT_DAY + 1)
    assert sim.refresh(token["refresh_token"]).status_code == 200  # a new day; nothing was rotated meanwhile


def test_a_code_exchange_is_a_token_call_too(sim, fast_refreshes):
    sim.settings(token_calls_per_day=2)
    refreshes(sim, sim.token_for(JAN), 1)
    with pytest.raises(requests.HTTPError, match="429"):
        sim.token_for(JAN)  # the exchange of a new login: the third call
    assert sim.state()["token_calls_today"] == {JAN: 3}


def test_our_client_reads_the_refusal_as_a_limit_not_a_dead_grant(sim, fast_refreshes):
    sim.settings(token_calls_per_day=1)
    first = sim.token_for(JAN)
    oauth = make_oauth(sim)
    token = Token(first["access_token"], first["refresh_token"], expires_at=NOON + 600, issued_at=NOON - 600)
    for status in (429, 400):
        sim.settings(token_limit_status=status)
        with pytest.raises(RateLimited) as raised:
            oauth.refresh(token)
        assert (raised.value.scope, raised.value.reset_at) == ("daily", NEXT_DAY)
        assert not isinstance(raised.value, ReauthorizationRequired)


def test_the_400_variant_and_switching_the_cap_off(sim, fast_refreshes):
    sim.settings(token_calls_per_day=2, token_limit_status=400)
    token = refreshes(sim, sim.token_for(JAN), 1)
    refused = sim.refresh(token["refresh_token"])
    assert refused.status_code == 400 and refused.json() == SPENT and "X-RateLimit-Limit" not in refused.headers
    sim.settings(token_calls_per_day=0)
    refreshes(sim, token, 3)


@pytest.mark.parametrize("settings", [{"token_limit_status": 401}, {"error_block_status": 404},
                                      {"error_limit": -1}, {"token_calls_per_day": "many"}])
def test_the_limit_settings_are_checked(sim, settings):
    with pytest.raises(requests.HTTPError, match="400"):
        sim.settings(**settings)
    assert sim.settings()["token_calls_per_day"] == 200 and sim.settings()["error_limit"] == 10


# --- the error block --------------------------------------------------------------------------------------------------

@pytest.fixture
def token(sim):
    sim.set_time(NOON + 1)
    return sim.token_for(JAN)


def test_more_than_ten_errors_on_an_endpoint_in_an_hour_block_it_for_an_hour(sim, token):
    for _ in range(11):  # the 11th error is answered as usual, and blocks the key
        assert sim.get(token, "101/crm/Nonsense").status_code == 404
    remaining = sim.get(token, "101/vat/VATCodes").headers["X-RateLimit-Remaining"]
    blocked = sim.get(token, "101/crm/Nonsense")
    assert blocked.status_code == 429 and blocked.json() == BLOCKED
    assert not any(name.startswith("X-RateLimit") for name in blocked.headers)
    [block] = sim.state()["blocked"]
    assert (block["user"], block["division"], block["endpoint"]) == (JAN, 101, "crm/Nonsense")
    assert block["until"] == pytest.approx(NOON + 1 + 3600, abs=5)  # an hour from the error that caused it
    # Only that key: other endpoints, other administrations and other users are served; a block is no call.
    assert sim.get(token, "101/vat/VATCodes").headers["X-RateLimit-Remaining"] == str(int(remaining) - 1)
    assert sim.get(token, "102/crm/Nonsense").status_code == 404
    assert sim.get(sim.token_for(PIET), "111/crm/Nonsense").status_code == 404
    sim.set_time(NOON + 1 + 3599)
    assert sim.get(sim.token_for(JAN), "101/crm/Nonsense").status_code == 429
    sim.set_time(NOON + 1 + 3601)
    assert sim.get(sim.token_for(JAN), "101/crm/Nonsense").status_code == 404


def test_ten_errors_in_an_hour_are_no_block_and_the_hour_is_a_clock_hour(sim, token):
    for _ in range(10):
        assert sim.get(token, "101/crm/Nonsense").status_code == 404
    sim.set_time(NOON + 3600 + 5)  # the next clock hour: counting starts again
    fresh = sim.token_for(JAN)
    for _ in range(10):
        assert sim.get(fresh, "101/crm/Nonsense").status_code == 404
    assert sim.state()["blocked"] == []


def test_faults_and_401s_of_revoked_tokens_count_like_any_error(sim, token):
    sim.settings(error_limit=3)
    sim.fault("financial/Journals", "401", count=2)
    assert [sim.get(token, "101/financial/Journals").status_code for _ in range(3)] == [401, 401, 200]
    sim.revoke(JAN)  # its tokens are still known to the simulator: their 401s count against Jan
    assert sim.get(token, "101/financial/Journals").status_code == 401
    assert sim.get(token, "101/financial/Journals").status_code == 401  # the 4th error: blocked from now on
    assert sim.get(token, "101/financial/Journals").status_code == 429
    assert sim.get(token, "current/Me").status_code == 401  # no division: a key of its own


def test_count_urls_share_their_collections_key(sim, token):
    sim.settings(error_limit=2)
    assert sim.get(token, "101/crm/Nonsense/$count", accept=None).status_code == 404
    assert sim.get(token, "101/crm/Nonsense").status_code == 404
    assert sim.get(token, "101/crm/Nonsense/$count", accept=None).status_code == 404
    assert sim.get(token, "101/crm/Nonsense").status_code == 429


def test_a_403_can_be_the_blocks_answer(sim):
    sim.set_time(NOON + 1)
    sim.settings(error_limit=1, error_block_status=403)
    token = sim.token_for(JAN, divisions=[102])
    for _ in range(2):
        assert sim.get(token, "101/vat/VATCodes").status_code == 403  # not in the consent: NoDivisionAccess
    blocked = sim.get(token, "101/vat/VATCodes")
    assert blocked.status_code == 403 and blocked.json() == BLOCKED and "Reason" not in blocked.headers


def test_unknown_tokens_count_against_nobody_and_the_block_can_be_switched_off(sim, token):
    for _ in range(12):
        assert sim.get("not-a-token", "101/crm/Nonsense").status_code == 401
    assert sim.get(token, "101/crm/Nonsense").status_code == 404 and sim.state()["errors_this_hour"][0]["errors"] == 1
    sim.settings(error_limit=0)
    for _ in range(12):
        assert sim.get(token, "101/crm/Nonsense").status_code == 404
    assert sim.state()["blocked"] == []
