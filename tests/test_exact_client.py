"""ExactClient's REST calls against the simulated Exact Online over real HTTP."""
import math

import pytest

from exact import (DivisionBlocked, ExactClient, ExactRequestError, ExactUnavailable, NoDivisionAccess, RateLimited,
                   ReauthorizationRequired)
from exact import Token
from exact.errors import AccessTokenRefused
from simhelpers import ACCOUNTANT, JAN, KARIN, PIET, SOFIE
from test_exact_support import connect, make_client, make_oauth

# Ten seconds into a minute, so a test's calls can't straddle a minute boundary by accident.
MID_MINUTE = 1_767_225_610.0  # 2026-01-01T00:00:10Z


def test_me_returns_the_signed_in_user(sim):
    client, _ = make_client(sim, JAN)
    me = client.me()
    assert me["UserName"] == JAN
    assert me["CurrentDivision"] == 101


def test_divisions_follows_every_page_exactly_once(sim):
    client, _ = make_client(sim, ACCOUNTANT)
    current = client.me()["CurrentDivision"]
    sim.clear_calls()
    divisions = client.divisions(current)
    codes = [division["Code"] for division in divisions]
    assert len(codes) == 250 and len(set(codes)) == 250
    assert len(sim.calls(endpoint="system/Divisions")) == 5  # 60 per page


def test_divisions_lists_jans_divisions_in_one_call(sim):
    client, _ = make_client(sim, JAN)
    sim.clear_calls()
    assert {division["Code"] for division in client.divisions(101)} == {101, 102, 103, 104}
    assert len(sim.calls()) == 1


def test_has_right_reports_rights_per_endpoint_and_action(sim):
    client, _ = make_client(sim, PIET)
    division = client.me()["CurrentDivision"]
    assert client.has_right(division, "salesinvoice/SalesInvoices", "GET") is True
    assert client.has_right(division, "salesinvoice/SalesInvoices", "POST") is False


def test_list_applies_filter_and_select(sim):
    client, _ = make_client(sim, JAN)
    everything = client.list(101, "financial/Journals")
    sales = client.list(101, "financial/Journals", select=["Code", "Description", "Type"], filter="Type eq 20")
    assert sales and len(sales) < len(everything)
    assert all(journal["Type"] == 20 for journal in sales)
    assert {key for key in sales[0] if not key.startswith("__")} == {"Code", "Description", "Type"}


def test_count_matches_the_rows_listed(sim):
    client, _ = make_client(sim, JAN)
    assert client.count(101, "crm/Accounts") == len(client.list(101, "crm/Accounts", select=["ID"]))
    assert client.count(101, "logistics/Items") == len(client.list(101, "logistics/Items", select=["ID"]))


def test_rest_calls_ask_for_json_and_count_asks_for_nothing(sim):
    client, _ = make_client(sim, JAN)
    sim.clear_calls()
    client.me()
    client.list(101, "vat/VATCodes")
    client.count(101, "crm/Accounts")
    assert [call["accept"] for call in sim.calls()] == ["application/json", "application/json", None]


def test_rate_limit_headers_are_read_after_division_calls(sim):
    sim.set_time(MID_MINUTE)
    client, _ = make_client(sim, JAN)
    client.list(101, "vat/VATCodes")
    client.list(101, "vat/VATCodes")
    limits = client.rate_limits
    assert (limits.minutely_limit, limits.minutely_remaining) == (60, 58)
    assert (limits.daily_limit, limits.daily_remaining) == (5000, 4998)
    assert limits.minutely_reset == pytest.approx(MID_MINUTE - 10 + 60)
    assert limits.daily_reset == math.floor(MID_MINUTE / 86400 + 1) * 86400


def test_due_token_is_refreshed_and_saved_before_the_next_call(sim):
    oauth, token = connect(sim, JAN)
    saved: list[tuple[Token, list[str]]] = []
    client = ExactClient(sim.base_url("nl"), token, refresh=oauth.refresh, clock=sim.now,
                         on_token=lambda fresh: saved.append((fresh, [c["endpoint"] for c in sim.calls()])))
    sim.advance(575)
    sim.clear_calls()
    assert client.me()["UserName"] == JAN
    [(fresh, calls_when_saved)] = saved
    assert fresh.refresh_token != token.refresh_token
    assert client.token == fresh
    assert calls_when_saved == ["oauth2/token"]  # saved after the refresh, before current/Me
    assert [c["endpoint"] for c in sim.calls()] == ["oauth2/token", "current/Me"]


def test_token_is_not_refreshed_while_it_has_more_than_30_seconds_left(sim):
    client, saved = make_client(sim, JAN)
    sim.advance(565)
    client.me()
    assert saved == []


def test_exact_saying_too_early_leaves_the_current_token_in_use(sim):
    skew = [0.0]

    def clock() -> float:
        return sim.now() + skew[0]

    oauth, token = connect(sim, JAN, oauth=make_oauth(sim, clock=clock))
    saved: list[Token] = []
    client = ExactClient(sim.base_url("nl"), token, refresh=oauth.refresh, on_token=saved.append, clock=clock)
    skew[0] = 575  # our clock jumps ahead: we think a refresh is due, Exact disagrees
    assert client.me()["UserName"] == JAN
    assert client.me()["UserName"] == JAN
    assert saved == []
    assert len(sim.calls(endpoint="oauth2/token")) == 2  # the exchange and one refused refresh, not one per call


def test_401_within_570_s_of_the_token_is_a_wait_without_a_token_call(sim):
    client, saved = make_client(sim, JAN)
    sim.fault("current/Me", "401")
    sim.clear_calls()
    with pytest.raises(AccessTokenRefused) as raised:
        client.me()
    assert len(sim.calls()) == 1 and saved == []  # Exact's 570 s forbid a new token: not asked
    assert raised.value.retry_at == client.token.issued_at + 570


def test_401_after_570_s_renews_the_token_once_and_retries_the_call(sim):
    sim.settings(access_token_ttl=900)  # 570 s after a token there is time left by our clock: not due, yet renewable
    client, saved = make_client(sim, JAN)
    old = client.token
    sim.advance(600)
    sim.fault("current/Me", "401")  # e.g. revoked in flight, or expired early by Exact's clock
    sim.clear_calls()
    assert client.me()["UserName"] == JAN
    assert [(call["endpoint"], call["status"]) for call in sim.calls()] == [
        ("current/Me", 401), ("oauth2/token", 200), ("current/Me", 200)]
    assert saved == [client.token] and client.token.refresh_token != old.refresh_token


def test_a_second_401_after_renewing_is_a_wait_not_a_dead_grant(sim):
    sim.settings(access_token_ttl=900)
    client, saved = make_client(sim, JAN)
    sim.advance(600)
    sim.fault("current/Me", "401", count=2)
    sim.clear_calls()
    with pytest.raises(AccessTokenRefused) as raised:
        client.me()
    assert [call["endpoint"] for call in sim.calls()] == ["current/Me", "oauth2/token", "current/Me"]
    assert len(saved) == 1 and raised.value.retry_at == saved[0].issued_at + 570


def test_revoked_access_is_a_wait_until_the_token_endpoint_says_the_grant_is_dead(sim):
    client, _ = make_client(sim, JAN)
    sim.revoke(JAN)
    with pytest.raises(AccessTokenRefused):
        client.me()  # within 570 s: Exact's token endpoint may not be asked yet
    sim.advance(575)
    with pytest.raises(ReauthorizationRequired):
        client.me()


def test_expired_token_that_cannot_refresh_needs_reauthorization(sim):
    client, _ = make_client(sim, JAN)
    old_token = client.token
    sim.advance(575)
    client.me()  # refreshes, rotating the refresh token
    client.token = old_token  # e.g. another worker kept the stale pair
    sim.advance(600)
    with pytest.raises(ReauthorizationRequired):
        client.me()


def test_token_from_another_country_is_refused(sim):
    nl_client, _ = make_client(sim, JAN, "nl")
    _, be_token = connect(sim, SOFIE, "be")
    nl_client.token = be_token
    with pytest.raises(AccessTokenRefused):
        nl_client.me()


def test_division_not_granted_in_consent_is_no_division_access(sim):
    client, _ = make_client(sim, KARIN)
    current = client.me()["CurrentDivision"]
    with pytest.raises(NoDivisionAccess) as raised:
        client.list(current, "financial/Journals")
    assert raised.value.division == current
    assert "NoDivisionAccess" in raised.value.detail
    assert f"administratie {current}" in raised.value.message("nl")


def test_blocked_division_is_division_blocked(sim):
    client, _ = make_client(sim, JAN)
    with pytest.raises(DivisionBlocked) as raised:
        client.list(104, "financial/Journals")
    assert raised.value.division == 104


def test_bad_query_is_a_request_error_with_exacts_text_for_the_logs(sim):
    client, _ = make_client(sim, JAN)
    sim.clear_calls()
    with pytest.raises(ExactRequestError) as raised:
        client.list(101, "financial/Journals", filter="Nonsense eq 1")
    assert raised.value.exact_message and raised.value.exact_message in raised.value.detail
    assert raised.value.exact_message not in raised.value.message("nl")
    assert len(sim.calls()) == 1  # 4xx count towards Exact's error limit: never retried


def test_minutely_limit_raises_rate_limited_until_the_next_minute(sim):
    sim.set_time(MID_MINUTE)
    sim.settings(minutely_limit=2)
    client, _ = make_client(sim, JAN)
    client.list(101, "vat/VATCodes")
    client.list(101, "vat/VATCodes")
    with pytest.raises(RateLimited) as raised:
        client.list(101, "vat/VATCodes")
    assert raised.value.scope == "minutely"
    assert raised.value.reset_at == MID_MINUTE - 10 + 60
    assert client.rate_limits.minutely_remaining == 0


def test_minutely_limit_is_waited_out_once_when_allowed(sim):
    sim.set_time(MID_MINUTE)
    sim.settings(minutely_limit=2)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        sim.advance(seconds)

    client, _ = make_client(sim, JAN, wait_for_minutely_reset_up_to=60, sleep=sleep)
    for _ in range(3):
        assert client.list(101, "vat/VATCodes")
    assert len(slept) == 1 and 50 <= slept[0] <= 52


def test_minutely_limit_too_far_away_is_not_waited_for(sim):
    sim.set_time(MID_MINUTE)
    sim.settings(minutely_limit=1)
    client, _ = make_client(sim, JAN, wait_for_minutely_reset_up_to=10, sleep=pytest.fail)
    client.list(101, "vat/VATCodes")
    with pytest.raises(RateLimited):
        client.list(101, "vat/VATCodes")


def test_daily_limit_raises_rate_limited_until_utc_midnight(sim):
    sim.set_time(MID_MINUTE)
    sim.settings(daily_limit=1)
    client, _ = make_client(sim, JAN, wait_for_minutely_reset_up_to=60, sleep=pytest.fail)
    client.list(101, "vat/VATCodes")
    with pytest.raises(RateLimited) as raised:
        client.list(101, "vat/VATCodes")
    assert raised.value.scope == "daily"
    assert raised.value.reset_at == math.floor(MID_MINUTE / 86400 + 1) * 86400


@pytest.mark.parametrize("kind", ["500", "503", "malformed"])
def test_server_faults_mean_exact_is_unavailable(sim, kind):
    client, _ = make_client(sim, JAN)
    sim.fault("system/Divisions", kind)
    with pytest.raises(ExactUnavailable):
        client.divisions(101)


def test_a_timeout_means_exact_is_unavailable(sim):
    sim.settings(fault_timeout_seconds=2)
    client, _ = make_client(sim, JAN, timeout=0.5)
    sim.fault("system/Divisions", "timeout")
    with pytest.raises(ExactUnavailable, match="Timeout"):
        client.divisions(101)


def test_an_unreachable_host_means_exact_is_unavailable(sim):
    client, _ = make_client(sim, JAN)
    unreachable = ExactClient("http://127.0.0.1:9/nl", client.token, refresh=pytest.fail, on_token=pytest.fail,
                              clock=sim.now)
    with pytest.raises(ExactUnavailable, match="ConnectionError"):
        unreachable.me()


def test_errors_and_reprs_never_show_tokens(sim):
    client, _ = make_client(sim, JAN)
    sim.fault("current/Me", "401")
    with pytest.raises(AccessTokenRefused) as raised:
        client.me()
    error = raised.value
    shown = " ".join([str(error), repr(error), error.detail, error.message("nl"), error.message("en"), repr(client)])
    assert client.token.access_token not in shown and client.token.refresh_token not in shown


def test_a_second_429_after_waiting_is_raised_not_retried(sim):
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        sim.advance(seconds)

    client, _ = make_client(sim, JAN, wait_for_minutely_reset_up_to=60, sleep=sleep)
    sim.fault("vat/VATCodes", "429", count=2, reset_in=5)
    sim.clear_calls()
    with pytest.raises(RateLimited) as raised:
        client.list(101, "vat/VATCodes")
    assert raised.value.scope == "minutely"
    assert len(slept) == 1 and len(sim.calls()) == 2
