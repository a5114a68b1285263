"""The visit's 8 hours over HTTP: the page knows when they end; /sessie/verlengen hands a fresh copy of the signed
session to a visit that is still valid (CSRF checked), and to nobody else."""
import json
import re
from contextlib import contextmanager
from unittest import mock

from itsdangerous import TimestampSigner

from views.embed import make_entry_token

EIGHT_HOURS = 8 * 3600


@contextmanager
def clock_ahead(seconds):
    """Every itsdangerous timestamp (sessions, CSRF tokens) read `seconds` later than now: 8 hours cannot be waited."""
    real = TimestampSigner.get_timestamp
    with mock.patch.object(TimestampSigner, "get_timestamp", lambda self: real(self) + seconds):
        yield


def enter(app):
    """A visit from OutSmart's signed entry; returns its client and the headers its page sends (htmx)."""
    app.config.update(DEFAULT_ACCOUNT=None, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        token = make_entry_token("acme", "anna@acme.example", "nl", "https://app.out-smart.com")
    page = client.get(f"/embed?token={token}")
    assert page.status_code == 200
    client.delete_cookie("session")  # inside OutSmart's iframe the cookie may never come back: the page's copy counts
    headers = json.loads(re.search(r"hx-headers='([^']+)'", page.get_data(as_text=True)).group(1))
    return client, page.get_data(as_text=True), {**headers, "HX-Request": "true"}


def test_the_page_says_when_the_visit_ends_and_warns_five_minutes_before(app):
    _client, html, _headers = enter(app)
    assert f'data-seconds-left="{EIGHT_HOURS}"' in html and 'data-warn-before="300"' in html
    assert 'data-extend-url="/sessie/verlengen"' in html
    assert "Uw sessie eindigt over 5 minuten. Wat u nog niet hebt opgeslagen, gaat dan verloren." in html
    assert '<p id="session-message" role="status" tabindex="-1"></p>' in html  # on the page before it speaks


def test_extending_gives_another_eight_hours_and_keeps_the_visit(app):
    client, _html, headers = enter(app)
    with clock_ahead(EIGHT_HOURS - 60):  # a minute before the end
        extended = client.post("/sessie/verlengen", headers=headers)
    assert extended.status_code == 200 and extended.headers["Cache-Control"] == "no-store"
    answer = extended.get_json()
    assert answer["seconds"] == EIGHT_HOURS and answer["session"] != headers["X-Session"]

    with clock_ahead(EIGHT_HOURS + 60):  # past the first copy's end
        ended = client.get("/exact", headers=headers)
        assert ended.status_code == 401 and "Open deze pagina vanuit OutSmart" in ended.get_data(as_text=True)
        going_on = client.get("/exact", headers={**headers, "X-Session": answer["session"]})
        assert going_on.status_code == 200 and 'id="exact"' in going_on.get_data(as_text=True)
        # The fresh copy is the same visit: same account, same CSRF secret (the page's token still posts).
        posted = client.post("/exact/land", data={"country": "nl"}, headers={**headers, "X-Session": answer["session"]})
        assert posted.status_code == 303


def test_only_a_valid_visit_with_its_csrf_token_is_extended(app):
    client, _html, headers = enter(app)
    without_token = client.post("/sessie/verlengen", headers={"X-Session": headers["X-Session"]})
    assert without_token.status_code == 400 and not without_token.is_json  # "Deze pagina was verlopen", no copy
    assert "Deze pagina was verlopen" in without_token.get_data(as_text=True)
    with clock_ahead(EIGHT_HOURS + 1):
        too_late = client.post("/sessie/verlengen", headers=headers)
    assert too_late.status_code == 401 and "Open deze pagina vanuit OutSmart" in too_late.get_data(as_text=True)
    assert headers["X-Session"] not in too_late.get_data(as_text=True)
    stranger = app.test_client().post("/sessie/verlengen")
    assert stranger.status_code == 401 and not stranger.is_json


def test_outside_outsmart_there_is_no_session_clock(client):
    """The demo's own pages (no signed entry) have no visit of OutSmart's to end."""
    assert 'id="session-time"' not in client.get("/integraties").get_data(as_text=True)
