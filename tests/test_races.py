"""Races on one account's connection, against the app on a real multi-threaded server."""
import json
import random
import re
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from models import Administration
from models import Connection
from models import Event
from models import ExactList
from models import LoginAttempt
from simhelpers import ACCOUNTANT
from simhelpers import JAN
from views.embed import make_entry_token
from wizard_actions import DEFAULT_SETTINGS
from wizard_actions import EXACT_SELECTS
from wizard_actions import flat_settings
from wizard_actions import form_options
from wizard_actions import path_of

ADMINS = 20
ALREADY_SAVED = "Deze verbinding is al opgeslagen met administratie"
CHANGED_MEANWHILE = "Intussen is er een andere administratie gekozen"
DISCONNECTED_MEANWHILE = "Intussen is de verbinding met Exact Online verbroken"
# What a used state gets (as test_wizard_login pins it): the login is not done again, and the page says why.
USED_STATE = "Deze inlogpoging is verlopen of ongeldig."
STATUSES = ("compleet", "gecontroleerd", "afgehandeld", "gefactureerd")
# The settings an Opslaan must lock together with its administration.
COMPARED = (*EXACT_SELECTS, "hour_rounding", "trigger_status", "success_status", "document_type")


class Admin:
    """One OutSmart admin's browser, with its own session and CSRF token, talking to a live server."""

    def __init__(self, app, url, name, account="demo"):
        self.url = url
        self.name = name
        self.http = requests.Session()
        with app.app_context():
            token = make_entry_token(account, name)
        page = self.http.get(f"{url}/embed", params={"token": token}, timeout=30)
        assert page.status_code == 200, page.text
        # Sent with every request, as htmx does inside OutSmart's iframe (where the cookie may never come back).
        self.http.headers.update(json.loads(re.search(r"hx-headers='([^']+)'", page.text).group(1)))
        self.confirm = None  # what this admin's check page ticks: the administration it confirms
        self.options = None  # the settings page's choices, once loaded

    def get(self, path):
        return self.http.get(self.url + path, allow_redirects=False, timeout=30)

    def post(self, path, data=None):
        return self.http.post(self.url + path, data=data or {}, allow_redirects=False, timeout=30)

    def connect(self, sim, username):
        """Steps 2–4: log in at Exact as `username` and come back."""
        authorize = self.post("/exact/land", {"country": "nl"})
        assert authorize.status_code == 303, authorize.text
        callback = self.get(path_of(sim.login(authorize.headers["Location"], username)))
        assert callback.status_code == 303, callback.text

    def choose(self, code):
        response = self.post("/exact/administratie", {"division": code})
        assert response.status_code == 303, response.text

    def configure(self, options=None, **overrides):
        """Step 6 with the first Exact choice of every select; returns the settings as posted."""
        # `options` from an earlier settings page of the same administration spare loading that page again.
        if options is None:
            page = self.get("/exact/instellingen")
            assert page.status_code == 200, page.text
            options = form_options(page.text)
        self.options = options
        data = {**DEFAULT_SETTINGS, **{name: options[name][0] for name in EXACT_SELECTS}, **overrides}
        response = self.post("/exact/instellingen", data)
        assert response.status_code == 303, response.text
        return data

    def open_check(self):
        """Step 7: the check page; remember the administration it asks to confirm."""
        page = self.get("/exact/controle")
        assert page.status_code == 200, page.text
        self.confirm = re.search(r'<input[^>]*name="administration"[^>]*value="([^"]+)"', page.text).group(1)
        return page

    def save(self):
        return self.post("/exact/controle", {"confirm": "y", "administration": self.confirm})


def at_once(actions):
    """Run the callables in threads released together by a barrier; return their results (or exceptions) in order."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=30)
            results[index] = action()
        except Exception as error:  # reported by the test's assertions, not lost in a thread
            results[index] = error

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def live(app, sim):
    """conftest's live_app, but stopped in 50 ms instead of 500 (serve_forever's poll): these tests are many."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["EXACT_REDIRECT_URI"] = f"{url}/exact/callback"
    sim.settings(redirect_uri=app.config["EXACT_REDIRECT_URI"])
    yield url
    server.shutdown()
    thread.join()


@pytest.fixture
def team(app, live, sim):
    """team(n): n admins of the same OutSmart account, each in its own browser with its own CSRF token."""
    app.config["WTF_CSRF_ENABLED"] = True
    # 20 saves ask Exact ~100 things of one division within a second; the minute limit is not what is tested here.
    sim.settings(minutely_limit=100000)
    return lambda size: [Admin(app, live, f"Beheerder {number}") for number in range(1, size + 1)]


def slow_exact_checks(sim, saves, seconds=0.4):
    """Make each save's first question to Exact (a right of the user) take `seconds`."""
    # Every save then reads the connection before any of them writes: all of them reach the conditional UPDATE.
    sim.settings(fault_timeout_seconds=seconds)
    sim.fault("users/UserHasRights", "timeout", count=saves)


def saved_events():
    return list(Event.select().where(Event.action == "saved"))


def test_twenty_admins_saving_at_once_lock_the_connection_once(team, sim):
    admins = team(ADMINS)
    first = admins[0]
    first.connect(sim, JAN)
    first.choose(101)
    posted = first.configure(hour_rounding="30")
    for admin in admins:
        admin.open_check()
    slow_exact_checks(sim, ADMINS)
    sim.clear_calls()

    responses = at_once([admin.save for admin in admins])

    # All 20 passed the "not saved yet" check and were held at Exact together: a real race for the UPDATE.
    assert len(sim.calls(endpoint="users/UserHasRights", fault="timeout")) == ADMINS
    statuses = [getattr(response, "status_code", response) for response in responses]
    assert sorted(statuses) == [303] + [409] * (ADMINS - 1), statuses
    winner = admins[statuses.index(303)]
    for response in responses:
        if response.status_code == 409:
            assert ALREADY_SAVED + " Bakker Installatietechniek B.V. (101); er is niets gewijzigd." in response.text
    connection = Connection.get()
    assert (connection.status, connection.division, connection.draft_division) == (Connection.SAVED, 101, None)
    assert {name: flat_settings(connection.settings)[name] for name in COMPARED} == {name: posted[name] for name in COMPARED}
    assert [(event.user, event.detail["administration"]) for event in saved_events()] == [(winner.name, 101)]



def own_settings(index):
    """Settings that differ for each of the 20 admins, so the stored ones tell whose they are."""
    return {"hour_rounding": ("0", "5", "15", "30")[index % 4], "trigger_status": STATUSES[index // 4 % 4],
            "success_status": STATUSES[(index // 4 + 1) % 4],
            "document_type": ("sales_invoice", "sales_order")[index // 16]}


def test_admins_saving_their_own_administrations_at_once_lock_only_what_the_winner_confirmed(team, sim):
    # The choice is the account's, so each admin choosing in turn replaces the one before: of 20 admins whose
    # check pages each name their own administration, only the one whose choice is still current may lock it.
    admins = team(ADMINS)
    admins[0].connect(sim, ACCOUNTANT)
    rows = Administration.select().where(Administration.connection == Connection.get()).order_by(Administration.code)
    codes = [row.code for row in rows if row.selectable][:ADMINS]
    assert len(codes) == ADMINS
    posted = {}
    for index, (admin, code) in enumerate(zip(admins, codes)):
        admin.choose(code)
        posted[admin.name] = admin.configure(**own_settings(index))
        assert f"(code {code}" in admin.open_check().text
    slow_exact_checks(sim, ADMINS)
    current = admins[-1]

    def save_last():
        time.sleep(0.1)  # the admin whose choice is current comes last: without the check anyone else would win
        return current.save()

    responses = at_once([admin.save for admin in admins[:-1]] + [save_last])

    statuses = [getattr(response, "status_code", response) for response in responses]
    assert statuses == [422] * (ADMINS - 1) + [303], statuses
    for response in responses[:-1]:
        assert CHANGED_MEANWHILE in response.text and "Er is niets opgeslagen" in response.text
        assert f'value="{codes[-1]}"' in response.text and "checked" not in re.search(
            r'<input[^>]*name="confirm"[^>]*>', response.text).group(0)  # asked again, for what is chosen now
    connection = Connection.get()
    assert (connection.status, connection.division) == (Connection.SAVED, codes[-1])
    mine = posted[current.name]
    assert {name: flat_settings(connection.settings)[name] for name in COMPARED} == {name: mine[name] for name in COMPARED}
    assert [(event.user, event.detail["administration"]) for event in saved_events()] == [(current.name, codes[-1])]


def in_flight(sim, action):
    """Start `action` in a thread and return once its request is held at Exact by the armed delay; join() it."""
    thread = Result(action)
    held_at_exact(sim)
    return thread


def held_at_exact(sim):
    """Wait until a request has taken the armed delay, i.e. reached the simulator and is being held there."""
    deadline = time.monotonic() + 10
    while sim.state()["faults"]:
        assert time.monotonic() < deadline, "no request reached Exact"
        time.sleep(0.01)


class Result(threading.Thread):
    """A thread that keeps what its action returned (or raised)."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.value = None
        self.start()

    def run(self):
        try:
            self.value = self.action()
        except Exception as error:
            self.value = error

    def join(self, timeout=30):
        super().join(timeout)
        return self.value


def test_settings_made_for_one_administration_are_never_locked_with_another(team, sim):
    anna, bert = team(2)
    anna.connect(sim, JAN)
    anna.choose(101)
    anna.configure()
    anna.open_check()
    bert.choose(102)  # Anna's settings were picked from 101's journals and accounts

    again = anna.get("/exact/controle")
    assert again.status_code == 303 and again.headers["Location"].endswith("/exact/instellingen")
    anna.confirm = "102"
    assert anna.save().status_code == 303
    connection = Connection.get()
    assert (connection.division, connection.draft_division, connection.draft_settings) == (None, 102, None)


def test_settings_checked_while_another_administration_is_chosen_are_not_kept(team, sim):
    anna, bert = team(2)
    anna.connect(sim, JAN)
    anna.choose(101)
    page = anna.get("/exact/instellingen")
    options = form_options(page.text)
    data = {**DEFAULT_SETTINGS, **{name: options[name][0] for name in EXACT_SELECTS}}
    # Anna's post reads 101's lists from Exact again (say they were refreshed) and Exact is slow to answer.
    ExactList.delete().where(ExactList.division == 101).execute()
    sim.settings(fault_timeout_seconds=1)
    sim.fault("financial/Journals", "timeout")

    posting = in_flight(sim, lambda: anna.post("/exact/instellingen", data))
    bert.choose(102)
    response = posting.join()

    assert response.status_code == 409, response
    assert "Uw instellingen zijn daarom niet bewaard. Kies ze hieronder opnieuw voor administratie 102." in (
        response.text)
    connection = Connection.get()
    assert (connection.draft_division, connection.draft_settings) == (102, None)



def saving_holds_its_transaction(monkeypatch, during):
    """Call `during()` inside the save's transaction, after its UPDATE and before its commit (a slow commit)."""
    record = Event.record

    def slow_record(account, action, user=None, **detail):
        if action == "saved":
            during()
        return record(account, action, user, **detail)

    monkeypatch.setattr(Event, "record", slow_record)


def ready(admin, sim):
    """Logged in, 101 chosen and configured, check page open: the moment before Opslaan."""
    admin.connect(sim, JAN)
    admin.choose(101)
    posted = admin.configure(admin.options, hour_rounding="5")
    admin.open_check()
    return posted


def assert_one_consistent_state(save, disconnect, events, posted, before):
    """Either saved, then disconnected (settings and history kept) or disconnected with nothing saved; never half."""
    assert not isinstance(save, Exception) and not isinstance(disconnect, Exception), (save, disconnect)
    assert disconnect.status_code == 303 and disconnect.headers["Location"].endswith("/exact?notice=disconnected")
    connection = Connection.get()
    assert (connection.status, connection.division, connection.division_name, connection.draft_division) == (
        Connection.DISCONNECTED, None, None, None)
    assert connection.access_token is None and connection.refresh_token is None
    assert Administration.select().count() == 0 and ExactList.select().count() == 0
    actions = [(event.action, (event.detail or {}).get("administration")) for event in events]
    if save.status_code == 303 and save.headers["Location"].endswith("/exact?notice=saved"):
        assert actions == [("saved", 101), ("disconnected", 101)]
        assert connection.saved_at is not None and connection.saved_at != before.saved_at
        assert {name: flat_settings(connection.settings)[name] for name in COMPARED} == {name: posted[name] for name in COMPARED}
    else:
        assert actions == [("disconnected", None)]
        assert (connection.settings, connection.saved_at) == (before.settings, before.saved_at)
        # Before the save read the connection it was not logged in any more; after, it says what happened.
        assert save.status_code == 303 and save.headers["Location"].endswith("/exact") or (
            save.status_code == 409 and DISCONNECTED_MEANWHILE in save.text), (save.status_code, save.text)


def race_round(anna, bert, sim, start_disconnect):
    """Anna saves; `start_disconnect(disconnect)` decides when Bert's disconnect goes; check what is left."""
    posted = ready(anna, sim)
    before = Connection.get()  # what an earlier round saved stays after disconnecting: settings and history
    last_event = Event.select().order_by(Event.id.desc()).get().id
    disconnecting = []
    start_disconnect(lambda: disconnecting.append(Result(lambda: bert.post("/exact/verbreken"))))
    save = anna.save()
    deadline = time.monotonic() + 10
    while not disconnecting:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    disconnect = disconnecting[0].join()
    assert_one_consistent_state(save, disconnect, list(Event.select().where(Event.id > last_event)), posted, before)
    return save


def test_a_disconnect_during_the_save_transaction_waits_for_it(team, sim, monkeypatch):
    anna, bert = team(2)
    disconnect = []
    # Bert's disconnect starts inside Anna's save transaction: it reads the connection while the save holds the
    # transaction open for 0.3 s, and writes after.
    saving_holds_its_transaction(monkeypatch, lambda: (disconnect[0](), time.sleep(0.3)))

    save = race_round(anna, bert, sim, disconnect.append)
    assert save.headers["Location"].endswith("/exact?notice=saved")


def test_a_disconnect_while_exact_checks_the_save_leaves_nothing_saved(team, sim):
    anna, bert = team(2)
    sim.settings(fault_timeout_seconds=0.5)

    def start(disconnect):
        sim.fault("users/UserHasRights", "timeout")
        Result(lambda: (held_at_exact(sim), disconnect()))

    save = race_round(anna, bert, sim, start)
    assert save.status_code == 409


def test_a_disconnect_between_reading_the_connection_and_its_administration_saves_nothing(team, sim, monkeypatch):
    """Bert's disconnect commits after Anna's Opslaan has read the connection (still logged in, an administration
    chosen) and before it reads that administration, which the disconnect removed: she is told, nothing is saved."""
    anna, bert = team(2)
    find = Administration.find

    def start(disconnect):
        def disconnected_just_before(connection, code):
            monkeypatch.setattr(Administration, "find", find)  # once
            disconnect()
            deadline = time.monotonic() + 10
            while Connection.get_by_id(connection.id).is_logged_in:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            return find(connection, code)

        monkeypatch.setattr(Administration, "find", disconnected_just_before)

    save = race_round(anna, bert, sim, start)
    assert save.status_code == 409 and DISCONNECTED_MEANWHILE in save.text


def test_disconnects_racing_saves_at_random_moments_never_leave_half_a_connection(team, sim, monkeypatch):
    anna, bert = team(2)
    rng = random.Random(9)
    saving_holds_its_transaction(monkeypatch, lambda: time.sleep(0.05))  # a commit slow enough to be hit
    longest = 0.1
    for _round in range(10):
        # Anywhere from before the save reads the connection to after it has committed, however fast this machine.
        delay = rng.uniform(0, 1.5 * longest)
        save = race_round(anna, bert, sim, lambda disconnect: Result(lambda: (time.sleep(delay), disconnect())))
        longest = max(longest, save.elapsed.total_seconds())



def back_from_exact(admin, sim):
    """Start a login and log in at Exact: the callback URL (path and query) Exact sends the browser back to."""
    authorize = admin.post("/exact/land", {"country": "nl"})
    assert authorize.status_code == 303, authorize.text
    return path_of(sim.login(authorize.headers["Location"], JAN))


def assert_connected_once(admin, sim):
    """One connection, one code exchange at Exact, one history line, and tokens that still work."""
    assert Connection.select().count() == 1
    exchanges = sim.calls(kind="token")
    assert [(call["grant_type"], call["status"]) for call in exchanges] == [("authorization_code", 200)]
    assert [event.action for event in Event.select()] == ["connected"]
    assert LoginAttempt.get().outcome == "connected"
    connection = Connection.get()
    assert connection.status == Connection.CONNECTED and connection.exact_user_email == JAN
    assert sim.get(connection.access_token, "current/Me").status_code == 200
    details = admin.get("/exact/verbinding")
    assert details.status_code == 200 and 'data-exact-state="connected"' in details.text
    assert admin.post("/exact/administratie", {"division": 101}).status_code == 303  # the app works with them


def test_the_same_callback_delivered_twice_in_a_row_exchanges_the_code_once(team, sim):
    anna, = team(1)
    callback = back_from_exact(anna, sim)
    sim.clear_calls()

    first = anna.get(callback)
    second = anna.get(callback)

    assert first.status_code == 303 and first.headers["Location"].endswith("/exact/verbinding")
    assert second.status_code == 400 and USED_STATE in second.text
    assert_connected_once(anna, sim)


def test_the_same_callback_delivered_twice_at_once_exchanges_the_code_once(team, sim):
    anna, = team(1)
    callback = back_from_exact(anna, sim)
    twin = requests.Session()  # the same browser (same session), a second connection
    twin.headers.update(anna.http.headers)
    # Exact is slow to exchange the code: the second delivery is answered while the first is still busy with it.
    sim.settings(fault_timeout_seconds=0.5)
    sim.fault("oauth2/token", "timeout")
    sim.clear_calls()

    responses = at_once([lambda: anna.get(callback),
                         lambda: twin.get(anna.url + callback, allow_redirects=False, timeout=30)])

    assert sorted(getattr(response, "status_code", response) for response in responses) == [303, 400], responses
    winner, loser = sorted(responses, key=lambda response: response.status_code)
    assert winner.headers["Location"].endswith("/exact/verbinding")
    assert USED_STATE in loser.text and loser.elapsed < winner.elapsed
    assert_connected_once(anna, sim)
