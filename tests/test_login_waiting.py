"""The popup login's waiting step over HTTP: status checks that change nothing answer 204 (htmx swaps nothing); the
10 minutes are said, warned about and, once over, said in words; a popup back from Exact too late ends on the
popup's own page, never on the setup."""
import datetime
import re

from models import Connection
from models import LoginAttempt
from models import STATE_TTL
from models import utcnow
from simhelpers import JAN
from wizard_actions import HTMX
from wizard_actions import path_of
from wizard_actions import popup_to_exact

TIME_UP = "De 10 minuten om in te loggen zijn voorbij, daarom is er niets verbonden."
TOO_LATE = "het inloggen moet binnen 10 minuten klaar zijn"


def start(client):
    response = client.post("/exact/land", data={"country": "nl", "popup": "1"}, headers=HTMX)
    assert response.status_code == 200
    return response.get_data(as_text=True), LoginAttempt.get()


def expire(attempt):
    LoginAttempt.update(created_at=utcnow() - STATE_TTL - datetime.timedelta(seconds=1)).where(
        LoginAttempt.id == attempt.id).execute()


def test_the_waiting_step_says_the_time_limit_and_checks_without_swapping(client):
    html, attempt = start(client)
    assert "U heeft 10 minuten om in te loggen; kort voor het einde waarschuwt deze pagina u." in html
    left = int(re.search(r'data-login-seconds-left="(\d+)"', html).group(1))
    assert 590 <= left <= 600 and 'data-login-warn-before="120"' in html
    # The warning's words wait in an empty status region that is on the page from the start; "Opnieuw beginnen" too.
    assert re.search(r'<p id="login-time-warning" role="status" data-warning="Nog 2 minuten om in te loggen\. Lukt '
                     r'dat niet op tijd, begin dan opnieuw: u krijgt weer 10 minuten\."></p>', html)
    assert re.search(r'<form id="login-restart" action="/exact/land" method="post" data-busy data-login-form hidden>'
                     r'.*?name="country" value="nl".*?Opnieuw beginnen', html, re.S)
    assert f'hx-get="/exact/login/{attempt.id}/status?waiting=1" hx-trigger="every 2s"' in html

    for _ in range(3):
        check = client.get(f"/exact/login/{attempt.id}/status?waiting=1", headers=HTMX)
        assert check.status_code == 204 and check.data == b""  # nothing happened: nothing to swap
    assert LoginAttempt.get_by_id(attempt.id).outcome is None


def test_the_check_interval_and_the_warning_are_configurable(app, client):
    app.config.update(LOGIN_STATUS_INTERVAL=0.25, LOGIN_WARNING_BEFORE=300)
    html, _attempt = start(client)
    assert 'hx-trigger="every 0.25s"' in html and 'data-login-warn-before="300"' in html
    assert 'data-warning="Nog 5 minuten om in te loggen.' in html


def test_when_the_time_is_up_the_step_says_so(client):
    _html, attempt = start(client)
    expire(attempt)
    for query in ("?waiting=1", "?waiting=1&closed=1"):  # the popup may be closed by then too: the time was up first
        answer = client.get(f"/exact/login/{attempt.id}/status{query}", headers=HTMX)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200 and TIME_UP in html and "Opnieuw proberen" in html, query
        assert "Het inlogvenster is gesloten" not in html
    assert LoginAttempt.get_by_id(attempt.id).outcome == "expired"


def test_a_popup_back_from_exact_too_late_ends_on_its_own_page(app, client, sim):
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    callback = path_of(sim.login(authorize, JAN))
    expire(attempt)
    late = popup.get(callback)
    html = late.get_data(as_text=True)
    assert late.status_code == 400 and TOO_LATE in html and "Sluit dit venster" in html
    assert 'data-outcome="failed"' in html and "<title>Niet verbonden — Exact Online</title>" in html
    assert 'class="stepper"' not in html and "<nav" not in html and 'id="exact-title"' not in html  # not the setup
    assert sim.calls(kind="token") == [] and not Connection.select().exists()

    # Even once the attempt is gone (every new start deletes those past their 10 minutes): still the popup's page.
    start(client)
    assert LoginAttempt.get_or_none(LoginAttempt.id == attempt.id) is None
    gone = popup.get(callback)
    assert gone.status_code == 400 and TOO_LATE in gone.get_data(as_text=True)
    assert 'data-outcome="failed"' in gone.get_data(as_text=True)


def test_a_popup_callback_used_twice_ends_on_the_popups_page(app, client, sim):
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    callback = path_of(sim.login(authorize, JAN))
    first = popup.get(callback)  # connected: the result at an address without the code
    assert first.status_code == 303 and "code=" not in first.headers["Location"]
    assert popup.get(first.headers["Location"]).status_code == 200
    again = popup.get(callback)
    assert again.status_code == 400 and 'data-outcome="failed"' in again.get_data(as_text=True)
    assert 'class="stepper"' not in again.get_data(as_text=True)


def test_a_full_page_login_back_too_late_is_told_in_the_setup(client, wizard, sim):
    """Without a popup the whole page went to Exact: the answer is the setup's own step, as before."""
    authorize = wizard.start_login()
    expire(LoginAttempt.get())
    late = client.get(path_of(sim.login(authorize, JAN)))
    html = late.get_data(as_text=True)
    assert late.status_code == 400 and "verlopen of ongeldig" in html and 'id="exact"' in html
    assert "data-outcome" not in html
