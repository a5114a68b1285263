"""The popup login over HTTP: the iframe waits on a server-side attempt that only the popup's browser can finish."""
import re

from models import Connection
from models import LoginAttempt
from simhelpers import JAN
from wizard_actions import HTMX
from wizard_actions import back_from_exact
from wizard_actions import handoff_in
from wizard_actions import popup_to_exact
from wizard_actions import path_of


def start_popup_login(client, country="nl"):
    """The iframe posts the country asking for a popup; returns the waiting fragment's response."""
    return client.post("/exact/land", data={"country": country, "popup": "1"}, headers=HTMX)


def popup_back_from_exact(app, client, sim, cancel=False):
    """The popup logs in at Exact. Returns the attempt, the popup's client and the callback it was sent back to."""
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    return attempt, popup, path_of(sim.login(authorize, JAN, cancel=cancel))


def test_the_iframe_gets_a_waiting_step_not_a_redirect(client):
    response = start_popup_login(client)
    html = response.get_data(as_text=True)
    attempt = LoginAttempt.get()
    assert response.status_code == 200 and attempt.mode == LoginAttempt.POPUP
    assert f'data-login-url="/exact/login/{attempt.id}"' in html
    assert f'data-login-status="/exact/login/{attempt.id}/status"' in html
    assert 'hx-trigger="every 2s"' in html
    assert attempt.state not in html  # the OAuth state stays on the server


def test_the_popup_is_tied_to_its_browser_before_it_goes_to_exact(app, client, sim):
    handoff = handoff_in(start_popup_login(client))
    attempt = LoginAttempt.get()
    popup = app.test_client()
    shown = popup.get(f"/exact/login/{attempt.id}").get_data(as_text=True)
    assert "U verbindt het OutSmart-account demo met Exact Online Nederland" in shown and handoff not in shown
    response = popup.post(f"/exact/login/{attempt.id}", data={"handoff": handoff})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(sim.base_url("nl") + "/api/oauth2/auth?")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"exact_login_{attempt.id}=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/exact/callback"):
        assert flag in cookie
    assert LoginAttempt.get().browser_key is not None
    again = app.test_client().post(f"/exact/login/{attempt.id}", data={"handoff": handoff})
    assert again.status_code == 409  # a second window cannot take over the attempt


def test_popup_login_connects_and_tells_the_opener(app, client, sim):
    attempt, popup, callback = popup_back_from_exact(app, client, sim)
    back = popup.get(callback)
    assert back.status_code == 303 and back.headers["Location"] == f"/exact/callback/{attempt.id}/klaar"
    done = popup.get(back.headers["Location"])  # the popup's last page, at an address without Exact's code
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert 'data-outcome="connected"' in html and f'data-attempt="{attempt.id}"' in html
    connection = Connection.get()
    assert connection.refresh_token not in html and connection.access_token not in html
    status = client.get(f"/exact/login/{attempt.id}/status", headers=HTMX)
    assert status.status_code == 303 and status.headers["Location"].endswith("/exact/verbinding")
    assert connection.account == "demo" and connection.status == Connection.CONNECTED


def test_a_callback_without_the_popups_cookie_is_refused(app, client, sim):
    _attempt, _popup, callback = popup_back_from_exact(app, client, sim)
    stranger = app.test_client()  # another browser: it never opened this popup, no iframe can vouch for it
    asked = stranger.get(callback)
    assert asked.status_code == 200 and "data-handoff-missing" in asked.get_data(as_text=True)
    state = re.search(r"state=([^&]+)", callback).group(1)
    code = re.search(r"code=([^&]+)", callback).group(1)
    refused = stranger.post("/exact/callback", data={"state": state, "code": code, "handoff": "guessed"})
    assert refused.status_code == 403 and "niet geopend door de OutSmart-pagina" in refused.get_data(as_text=True)
    assert Connection.select().count() == 0 and sim.calls(kind="token") == []


def test_waiting_does_not_fill_the_history(client):
    start_popup_login(client)
    attempt = LoginAttempt.get()
    response = client.get(f"/exact/login/{attempt.id}/status", headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "false"
    assert "Wachten op Exact Online" in response.get_data(as_text=True)


def test_a_closed_popup_means_not_connected(client):
    start_popup_login(client)
    attempt = LoginAttempt.get()
    response = client.get(f"/exact/login/{attempt.id}/status?closed=1", headers=HTMX)
    html = response.get_data(as_text=True)
    assert "Het inlogvenster is gesloten" in html and "Opnieuw proberen" in html
    assert LoginAttempt.get().outcome == "closed"
    # Logging in at the wrong country's Exact only gets "username or password incorrect" there: said here.
    assert ("Kon u niet inloggen bij Exact Online? U koos Exact Online Nederland. Een Exact Online-account werkt "
            "alleen in het land waar het is aangemaakt") in html


def test_cancel_in_the_popup_reaches_the_iframe(app, client, sim):
    attempt, popup, callback = popup_back_from_exact(app, client, sim, cancel=True)
    done = back_from_exact(popup, callback)
    assert 'data-outcome="cancelled"' in done.get_data(as_text=True)
    status = client.get(f"/exact/login/{attempt.id}/status", headers=HTMX).get_data(as_text=True)
    assert "geen toegang gegeven" in status
    assert Connection.select().count() == 0


def test_a_late_closed_report_does_not_undo_a_connection(app, client, sim):
    attempt, popup, callback = popup_back_from_exact(app, client, sim)
    back_from_exact(popup, callback)
    response = client.get(f"/exact/login/{attempt.id}/status?closed=1", headers=HTMX)
    assert response.status_code == 303
    assert LoginAttempt.get().outcome == "connected"


def test_exact_failing_during_a_popup_login_is_explained_in_the_iframe(app, client, sim):
    attempt, popup, callback = popup_back_from_exact(app, client, sim)
    sim.fault("oauth2/token", "503")
    assert back_from_exact(popup, callback).status_code == 502
    status = client.get(f"/exact/login/{attempt.id}/status", headers=HTMX).get_data(as_text=True)
    assert "Exact Online is op dit moment niet bereikbaar" in status
