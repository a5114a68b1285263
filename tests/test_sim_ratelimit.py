"""The simulator's rate limits: per app and division, a clock-aligned minute and a UTC day (§3, §8.4)."""
import pytest

from simhelpers import JAN

# 12:00:01 UTC on a whole day, so a test has 59 s of real time before the minute turns.
DAY_START = 1_900_022_400
NOON = DAY_START + 12 * 3600
DAILY = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
MINUTELY = ("X-RateLimit-Minutely-Limit", "X-RateLimit-Minutely-Remaining", "X-RateLimit-Minutely-Reset")
TOO_MANY = {"error": {"code": "", "message": {"lang": "", "value": "Too many requests"}}}


@pytest.fixture
def token(sim):
    """Jan's token, issued after the clock was set to just past noon."""
    sim.set_time(NOON + 1)
    return sim.token_for(JAN)


def rate_headers(answer) -> dict:
    """The X-RateLimit-* headers of an answer."""
    return {name: value for name, value in answer.headers.items() if name.startswith("X-RateLimit")}


def test_division_calls_carry_all_six_headers_with_the_default_limits(sim, token):
    answer = sim.get(token, "101/financial/Journals")
    assert rate_headers(answer) == {
        "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": str((DAY_START + 86400) * 1000),
        "X-RateLimit-Minutely-Limit": "60", "X-RateLimit-Minutely-Remaining": "59",
        "X-RateLimit-Minutely-Reset": str((NOON + 60) * 1000)}


def test_errors_on_division_urls_carry_the_headers_too(sim, token):
    for path in ("111/financial/Journals", "101/crm/Nonsense", "101/crm/Accounts?$filter=Nope eq 1"):
        answer = sim.get(token, path)
        assert answer.status_code in (400, 403, 404)
        assert set(rate_headers(answer)) == {*DAILY, *MINUTELY}


def test_61st_call_in_a_minute_is_429_with_only_minutely_headers(sim, token):
    for number in range(1, 61):
        answer = sim.get(token, "101/vat/VATCodes")
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Minutely-Remaining"] == str(60 - number)
    refused = sim.get(token, "101/vat/VATCodes")
    assert refused.status_code == 429
    assert rate_headers(refused) == {"X-RateLimit-Minutely-Limit": "60", "X-RateLimit-Minutely-Remaining": "0",
                                     "X-RateLimit-Minutely-Reset": str((NOON + 60) * 1000)}
    assert refused.json() == TOO_MANY


def test_minute_window_is_clock_aligned_and_recovers_at_the_next_minute(sim, token):
    sim.settings(minutely_limit=3)
    for _ in range(3):
        assert sim.get(token, "101/vat/VATCodes").status_code == 200
    assert sim.get(token, "101/vat/VATCodes").status_code == 429
    sim.set_time(NOON + 59.5)
    assert sim.get(token, "101/vat/VATCodes").status_code == 429
    sim.set_time(NOON + 60.2)
    recovered = sim.get(token, "101/vat/VATCodes")
    assert recovered.status_code == 200
    assert recovered.headers["X-RateLimit-Minutely-Remaining"] == "2"
    # The two refusals did not use up daily quota.
    assert recovered.headers["X-RateLimit-Remaining"] == "4996"


def test_limits_are_per_division(sim, token):
    sim.settings(minutely_limit=2)
    for _ in range(2):
        sim.get(token, "101/vat/VATCodes")
    assert sim.get(token, "101/vat/VATCodes").status_code == 429
    assert sim.get(token, "102/vat/VATCodes").status_code == 200


def test_count_429_makes_refusals_use_up_quota(sim, token):
    sim.settings(minutely_limit=1, count_429=True)
    sim.get(token, "101/vat/VATCodes")
    assert sim.get(token, "101/vat/VATCodes").status_code == 429
    sim.set_time(NOON + 61)
    assert sim.get(token, "101/vat/VATCodes").headers["X-RateLimit-Remaining"] == "4997"


def test_call_after_the_daily_limit_is_429_with_only_daily_headers(sim, token):
    sim.settings(daily_limit=5)
    for _ in range(5):
        assert sim.get(token, "101/vat/VATCodes").status_code == 200
    refused = sim.get(token, "101/vat/VATCodes")
    assert refused.status_code == 429
    assert rate_headers(refused) == {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                                     "X-RateLimit-Reset": str((DAY_START + 86400) * 1000)}
    assert refused.json() == TOO_MANY
    sim.set_time(NOON + 60)
    assert sim.get(token, "101/vat/VATCodes").status_code == 429


def test_daily_window_resets_at_midnight_utc(sim):
    sim.set_time(DAY_START + 86400 - 30)
    token = sim.token_for(JAN)
    sim.settings(daily_limit=2)
    for _ in range(2):
        sim.get(token, "101/vat/VATCodes")
    assert sim.get(token, "101/vat/VATCodes").status_code == 429
    sim.set_time(DAY_START + 86400 + 1)
    renewed = sim.get(token, "101/vat/VATCodes")
    assert renewed.status_code == 200
    assert renewed.headers["X-RateLimit-Remaining"] == "1"
    assert renewed.headers["X-RateLimit-Reset"] == str((DAY_START + 2 * 86400) * 1000)


def test_me_is_not_rate_limited_or_counted(sim, token):
    sim.settings(minutely_limit=1)
    for _ in range(3):
        answer = sim.get(token, "current/Me")
        assert answer.status_code == 200
        assert not rate_headers(answer)
    assert sim.get(token, "101/vat/VATCodes").headers["X-RateLimit-Minutely-Remaining"] == "0"
