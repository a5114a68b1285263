"""Annuleren while the login popup is open ends the login on the server: a popup that finishes afterwards connects
nothing and says so; the way back's code never stays in the address bar; a refused new login leaves a saved
connection's state and heading as they were. (The browser's side: test_browser_embedded.py.)"""
import re
import threading

import pytest

import connections
from models import Connection
from models import Event
from models import LoginAttempt
from simhelpers import JAN
from views.exact_clients import host_for
from views.exact_clients import login_client
from views.exact_clients import oauth_for
from wizard_actions import HTMX
from wizard_actions import WizardActions
from wizard_actions import back_from_exact
from wizard_actions import path_of
from wizard_actions import popup_to_exact
from wizard_actions import query_of

ABORTED = "Het inloggen is in OutSmart geannuleerd, daarom is er niets verbonden."


def csrf_of(client) -> str:
    return re.search(r'"X-CSRFToken":\s*"([^"]+)"', client.get("/exact/land").get_data(as_text=True)).group(1)


def cancel(client, attempt, csrf=None):
    """The waiting step's Annuleren, as htmx posts it (with the page's CSRF token in its header)."""
    headers = {**HTMX, **({"X-CSRFToken": csrf} if csrf else {})}
    return client.post(f"/exact/login/{attempt.id}/annuleren", headers=headers)


def nothing_connected():
    assert Connection.select().where(Connection.refresh_token.is_null(False)).count() == 0
    assert not Event.select().where(Event.action.in_(["connected", "reconnected"])).exists()


def test_annuleren_is_a_post_with_the_pages_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    csrf = csrf_of(client)
    started = client.post("/exact/land", data={"country": "nl", "popup": "1"}, headers={**HTMX, "X-CSRFToken": csrf})
    attempt = LoginAttempt.get()
    waiting = started.get_data(as_text=True)
    assert f'hx-post="/exact/login/{attempt.id}/annuleren"' in waiting and "data-login-cancel" in waiting
    assert client.get(f"/exact/login/{attempt.id}/annuleren").status_code == 405  # a link cannot end it
    refused = cancel(client, attempt)
    assert refused.status_code == 400 and "Deze pagina was verlopen" in refused.get_data(as_text=True)
    assert LoginAttempt.get().outcome is None
    done = cancel(client, attempt, csrf)
    assert done.status_code == 303 and done.headers["Location"] == "/exact/land?notice=login_aborted"
    assert LoginAttempt.get().outcome == "aborted"
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Het inloggen is geannuleerd. Er is niets gewijzigd." in shown


def test_a_popup_finishing_after_annuleren_connects_nothing_and_says_so(app, client, sim):
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    assert cancel(client, attempt).status_code == 303
    callback = path_of(sim.login(authorize, JAN))  # the admin goes on in the popup all the same
    back = popup.get(callback)
    assert back.status_code == 303 and back.headers["Location"] == f"/exact/callback/{attempt.id}/klaar"
    done = popup.get(back.headers["Location"])
    html = done.get_data(as_text=True)
    assert done.status_code == 409 and 'data-outcome="aborted"' in html
    assert "Niet verbonden" in html and ABORTED in html
    nothing_connected()
    assert sim.calls(kind="token") == []  # the code was not even exchanged
    # The iframe, asked again, says the same.
    assert ABORTED in client.get(f"/exact/login/{attempt.id}/status", headers=HTMX).get_data(as_text=True)


def test_annuleren_while_exact_answers_the_popup_keeps_nothing(app, client, sim):
    """The race itself: Exact is slow to list the administrations, and Annuleren comes in while the popup's callback
    waits for it. The callback has exchanged the code, but connect() finds the attempt ended: nothing is kept."""
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    callback = path_of(sim.login(authorize, JAN))
    sim.settings(fault_timeout_seconds=1)
    sim.fault("system/Divisions", "timeout")
    answers = {}
    # The popup's own client (it carries the popup's cookie) opens the way back, in a thread: it waits for Exact.
    finishing = threading.Thread(target=lambda: answers.update(back=back_from_exact(popup, callback)))
    finishing.start()
    while not [call for call in sim.calls() if call["endpoint"] == "current/Me"]:  # Divisions is next, and slow
        finishing.join(0.02)
        assert finishing.is_alive(), answers
    cancelled = cancel(client, attempt)
    finishing.join(10)
    assert cancelled.headers["Location"] == "/exact/land?notice=login_aborted"  # Annuleren won the race
    assert [call["kind"] for call in sim.calls(kind="token")] == ["token"]  # the code had been exchanged …
    nothing_connected()  # … but those tokens were dropped
    assert answers["back"].status_code == 409 and ABORTED in answers["back"].get_data(as_text=True)
    assert LoginAttempt.get().outcome == "aborted"


def finished_at_exact(app, client, sim):
    """A popup login as far as the callback gets before it connects: the attempt (still open) and what Exact said."""
    attempt, _popup, authorize, _handoff = popup_to_exact(app, client)
    code = query_of(sim.login(authorize, JAN))["code"]
    with app.test_request_context():
        token = oauth_for("nl").exchange_code(code, attempt.code_verifier)
        exact = login_client("nl", token, lambda new: None)
        me = exact.me()
        return attempt, connections.Login("nl", host_for("nl"), token, me, exact.divisions(me["CurrentDivision"]))


def test_connect_loses_to_an_attempt_that_ended_meanwhile(app, client, sim):
    """connections.connect() with the attempt as the callback read it (still open), after Annuleren ended it."""
    attempt, login = finished_at_exact(app, client, sim)
    stale = LoginAttempt.get_by_id(attempt.id)
    assert connections.abort_login(LoginAttempt.get_by_id(attempt.id))
    assert stale.outcome is None
    outcome = connections.connect(stale, login)
    assert outcome.too_late and not outcome.refused
    nothing_connected()
    assert LoginAttempt.get_by_id(attempt.id).outcome == "aborted"
    assert not connections.abort_login(stale)  # and it stays ended the way it ended


@pytest.mark.parametrize("rounds", [8])
def test_annuleren_and_the_popup_finishing_at_once_end_the_attempt_one_way(app, client, sim, rounds):
    """Each round: connect() and Annuleren at the same moment, in two threads. Whichever ends the attempt, the rest
    agrees with it: connected with its event, or aborted with nothing kept."""
    outcomes = []
    for _ in range(rounds):
        attempt, login = finished_at_exact(app, client, sim)
        barrier = threading.Barrier(2)
        results = {}

        def run(name, action):
            barrier.wait(10)
            results[name] = action()

        threads = [threading.Thread(target=run, args=("connect", lambda: connections.connect(attempt, login))),
                   threading.Thread(target=run, args=("abort", lambda: connections.abort_login(
                       LoginAttempt.get_by_id(attempt.id))))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        stored = LoginAttempt.get_by_id(attempt.id).outcome
        connected = Event.select().where(Event.action == "connected").count()
        assert results["connect"].too_late == results["abort"], results
        if stored == "aborted":
            assert results["abort"] and connected == 0
            assert Connection.select().where(Connection.refresh_token.is_null(False)).count() == 0
        else:
            assert stored == "connected" and not results["abort"] and connected == 1
            connections.disconnect(Connection.get(), None)
            Event.delete().execute()
        outcomes.append(stored)
    assert set(outcomes) <= {"aborted", "connected"}


def test_annuleren_after_the_popup_connected_keeps_the_connection(app, client, sim):
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    back_from_exact(popup, path_of(sim.login(authorize, JAN)))
    late = cancel(client, attempt)
    assert late.status_code == 303 and late.headers["Location"] == "/exact/verbinding"
    assert Connection.get().status == Connection.CONNECTED and LoginAttempt.get().outcome == "connected"


def test_another_account_cannot_end_a_login(app, client):
    from views.embed import make_entry_token

    client.post("/exact/land", data={"country": "nl", "popup": "1"}, headers=HTMX)
    attempt = LoginAttempt.get()
    other = app.test_client()
    with app.app_context():
        token = make_entry_token("someone-else", "Bert")
    assert other.get(f"/embed?token={token}").status_code == 200
    refused = cancel(other, attempt)
    assert refused.status_code == 404 and "verlopen of ongeldig" in refused.get_data(as_text=True)
    assert LoginAttempt.get().outcome is None


# --- the way back leaves no code in the address bar ------------------------------------------------------------------

def test_no_way_back_from_exact_is_shown_at_the_address_with_the_code(app, client, wizard, sim):
    """A full-page login cancelled at Exact, one Exact fails, the popup's: each ends at …/klaar, without code or state;
    only a login that connected goes straight on to its step."""
    sim.fault("oauth2/token", "503")
    for cancel_at_exact in (True, False):
        callback = path_of(sim.login(wizard.start_login(), JAN, cancel=cancel_at_exact))
        back = client.get(callback)
        assert back.status_code == 303 and re.fullmatch(r"/exact/callback/[\w-]+/klaar", back.headers["Location"])
        page = client.get(back.headers["Location"])
        assert page.status_code == (200 if cancel_at_exact else 502)
        assert "Niet verbonden" in page.get_data(as_text=True)
    connected = client.get(path_of(sim.login(wizard.start_login(), JAN)))
    assert connected.status_code == 303 and connected.headers["Location"] == "/exact/verbinding"


def test_the_result_address_shows_nothing_to_another_browser(app, client, wizard, sim):
    """…/klaar of a full-page login belongs to its OutSmart visit, the popup's to the window that went to Exact."""
    back = client.get(path_of(sim.login(wizard.start_login(), JAN, cancel=True)))
    page = client.get(back.headers["Location"])
    assert page.status_code == 200 and "geen toegang gegeven" in page.get_data(as_text=True)
    other = app.test_client().get(back.headers["Location"])
    assert other.status_code == 404 and "verlopen of ongeldig" in other.get_data(as_text=True)
    assert "geen toegang gegeven" not in other.get_data(as_text=True)
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    result = popup.get(path_of(sim.login(authorize, JAN, cancel=True))).headers["Location"]
    assert popup.get(result).status_code == 200
    assert client.get(result).status_code == 404  # the iframe's session is not the popup's window


# --- a refused new login on a saved connection -----------------------------------------------------------------------

def test_a_refused_new_login_keeps_the_saved_connections_heading(client, wizard):
    assert wizard.complete(JAN, 101).status_code == 303
    refused = wizard.connect(JAN, divisions=[102])  # at Exact, the locked administration left unticked
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    heading = re.search(r'<h1 id="exact-title"[^>]*>(.*?)</h1>', html, re.S).group(1).strip()
    assert heading == "Verbonden met administratie Bakker Installatietechniek B.V. (101)"
    assert "Niet verbonden" not in html and 'data-exact-state="saved" data-exact-division="101"' in html
    assert ("Uw nieuwe login is niet gebruikt, omdat u bij Exact Online geen toegang gaf tot de vastgezette "
            "administratie Bakker Installatietechniek B.V. (101).") in html
    assert "OutSmart synchroniseert verder met deze administratie" in html
    connection = Connection.get()
    assert (connection.status, connection.division) == (Connection.SAVED, 101)


def test_a_new_login_cancelled_at_exact_keeps_the_saved_connection_and_says_why(client, wizard):
    assert wizard.complete(JAN, 101).status_code == 303
    page = wizard.connect(JAN, cancel=True)
    html = page.get_data(as_text=True)
    assert "Verbonden met administratie Bakker Installatietechniek B.V. (101)</h1>" in html
    assert "Uw nieuwe login is niet gebruikt, omdat u bij Exact Online niet op Toestaan klikte." in html


def test_an_expired_connection_refused_again_is_still_expired_and_says_what_to_do(client, wizard):
    assert wizard.complete(JAN, 101).status_code == 303
    Connection.update(status=Connection.EXPIRED).execute()
    html = wizard.connect(JAN, divisions=[102]).get_data(as_text=True)
    assert re.search(r'<h1 id="exact-title"[^>]*>\s*Authenticatie verlopen\s*</h1>', html)
    assert "OutSmart synchroniseert nog niet. Log opnieuw in" in html
    assert re.search(r'<a href="/exact/land" class="button button--primary"', html)


def test_the_iframe_says_the_same_of_a_refused_popup_login(app, client, wizard, sim):
    assert wizard.complete(JAN, 101).status_code == 303
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    done = back_from_exact(popup, path_of(sim.login(authorize, JAN, divisions=[102])))
    assert done.status_code == 409 and "Nieuwe login niet gebruikt" in done.get_data(as_text=True)
    status = client.get(f"/exact/login/{attempt.id}/status", headers=HTMX).get_data(as_text=True)
    assert "Verbonden met administratie Bakker Installatietechniek B.V. (101)</h1>" in status
    assert "Uw nieuwe login is niet gebruikt" in status and "Niet verbonden" not in status


def test_wizard_actions_follow_the_browser(app, sim):
    """The helper the other tests use ends where a browser does (a sanity check of back_from_exact)."""
    wizard = WizardActions(app.test_client(), sim)
    assert wizard.connect(JAN, cancel=True).status_code == 200
