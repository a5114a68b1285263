"""Events to OutSmart's servers (outbox.py): signed as Standard Webhooks sign them, checked by a real receiver with
the standardwebhooks package; written with the change, delivered once per id, retried for 24 hours, in the history."""
import datetime
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

import outbox
from app import BadConfiguration
from app import create_app
from conftest import WORKER_KEY
from conftest import app_settings
from conftest import config_for_another_process
from models import Connection
from models import Event
from models import OutboxEvent
from models import db
from simhelpers import JAN
from test_races import Admin
from test_token_api import put_in_refresh_window
from views.embed import make_entry_token
from webhook_receiver import Receiver
from webhook_receiver import body_of
from webhook_receiver import new_secret

ROOT = Path(__file__).resolve().parent.parent
SECRET = new_secret()
DAY = 86400
BODY_KEYS = {"type", "account", "occurred_at", "data"}
DATA_KEYS = {"state", "administration", "reason", "changed"}
BAKKER = {"code": 101, "name": "Bakker Installatietechniek B.V."}


@pytest.fixture
def receiver():
    """OutSmart's server: answers 204 to every request that verify() accepts."""
    server = Receiver(SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def webhooks_on(app, receiver):
    """webhooks_on(): from now on the app sends events to the receiver (as create_app does with WEBHOOK_URL)."""

    def on(url=None, timeout=2):
        app.config.update(WEBHOOK_URL=url or receiver.url, WEBHOOK_SECRET=SECRET, WEBHOOK_TIMEOUT=timeout)
        outbox.configure(url or receiver.url, SECRET, timeout)
        return outbox.current()

    yield on
    outbox.configure(None, None)


@pytest.fixture
def held_in_this_process(monkeypatch):
    """No deliverer thread in the test's process: the test delivers itself, with the clock where it puts it."""
    monkeypatch.setattr(outbox, "start", lambda: None)


def deliveries_in_history(account="demo"):
    return [(event.action, event.detail["webhook"]) for event in
            Event.select().where(Event.account == account, Event.action.startswith("webhook_")).order_by(Event.id)]


def recorded(timeout=30):
    """Wait until the deliverer has recorded what the receiver acknowledged: nothing is left waiting."""
    deadline = time.monotonic() + timeout
    while OutboxEvent.select().where(OutboxEvent.state == OutboxEvent.PENDING).exists():
        assert time.monotonic() < deadline, list(OutboxEvent.select().dicts())
        time.sleep(0.01)


def embedded(app, url, locale):
    """A visit to the live app from OutSmart's iframe in `locale`: a requests session carrying its X-Session."""
    http = requests.Session()
    with app.app_context():
        token = make_entry_token("demo", "Petra", locale=locale)
    page = http.get(f"{url}/embed", params={"token": token}, timeout=30)
    assert page.status_code == 200, page.text
    http.headers.update(json.loads(re.search(r"hx-headers='([^']+)'", page.text).group(1)))
    return http


def history_lines(html):
    items = re.search(r'<ul id="history">(.*?)</ul>', html, re.S).group(1)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in items.split("<li>")[1:]]


# --- every type, by doing the real thing, to a receiver that verifies ----------------------------------------------

def test_every_change_reaches_outsmart_signed_in_the_background(app, sim, live_app, receiver, webhooks_on):
    webhooks_on()
    app.config["SERVICE_KEYS"] = {"sync-worker": WORKER_KEY}
    admin = Admin(app, live_app, "Petra")
    expected = []

    def then(type, state, administration=None, reason=None, **more):
        expected.append((type, {"state": state, "administration": administration, "reason": reason, **more}))
        receiver.wait_for(len(expected))  # delivered by the app's own thread: nothing here delivers
        recorded()

    admin.connect(sim, JAN)
    then("connection.connected", "connected")
    admin.choose(101)
    admin.configure(hour_rounding="5")
    admin.open_check()
    assert admin.save().status_code == 303
    then("connection.saved", "saved", BAKKER)
    admin.configure(admin.options, hour_rounding="30")
    then("connection.settings_changed", "saved", BAKKER, changed=["hour_rounding"])
    # A worker's call finds the grant revoked at Exact.
    put_in_refresh_window(sim)
    sim.revoke(JAN)
    refused = requests.post(f"{live_app}/api/v1/accounts/demo/access-token",
                            headers={"Authorization": f"Bearer {WORKER_KEY}"}, timeout=30)
    assert refused.status_code == 409
    then("connection.expired", "expired", BAKKER, "ReauthorizationRequired")
    admin.connect(sim, JAN)  # Verbind opnieuw: the locked administration is kept
    then("connection.connected", "saved", BAKKER)
    # Exact refuses the saved connection: its licence expired (a page reading the lists meets the 403).
    sim.settings(expired_licenses=[101])
    assert admin.post("/exact/instellingen/vernieuwen").status_code == 409
    then("connection.needs_attention", "needs_attention", BAKKER, "LicenseExpired")
    sim.settings(expired_licenses=[])
    assert admin.post("/exact/verbreken").status_code == 303
    then("connection.disconnected", "disconnected", BAKKER)

    received = receiver.all()
    assert [one.refused for one in received] == [None] * len(expected)  # Webhook(secret).verify accepted each
    assert [(one.payload["type"], one.payload["data"]) for one in received] == expected
    assert len({one.webhook_id for one in received}) == len(expected)
    for one in received:
        assert set(one.payload) == BODY_KEYS and set(one.payload["data"]) <= DATA_KEYS
        assert one.payload["account"] == "demo" and one.path == "/outsmart/exact-events"
        assert one.headers["content-type"] == "application/json"
        assert re.fullmatch(r"v1,[A-Za-z0-9+/]+=*", one.headers["webhook-signature"])
        occurred = datetime.datetime.fromisoformat(one.payload["occurred_at"])
        assert abs(occurred.timestamp() - int(one.headers["webhook-timestamp"])) < 60
    assert [one.payload["occurred_at"] for one in received] == sorted(one.payload["occurred_at"] for one in received)
    assert {(row.state, row.attempts) for row in OutboxEvent.select()} == {(OutboxEvent.DELIVERED, 1)}

    # The history says, in words, what OutSmart was told: in Dutch and in English.
    told = ["verbonden met Exact Online", "administratie vastgezet", "instellingen gewijzigd",
            "authenticatie verlopen", "verbonden met Exact Online", "actie nodig in Exact Online",
            "verbinding verbroken"]
    dutch = history_lines(embedded(app, live_app, "nl").get(f"{live_app}/exact", timeout=30).text)
    assert [line.split(" – ", 1)[1] for line in dutch if "OutSmart" in line] == [
        f"OutSmart geïnformeerd: {words}" for words in reversed(told)]
    english = history_lines(embedded(app, live_app, "en").get(f"{live_app}/exact", timeout=30).text)
    assert [line.split(" – ", 1)[1] for line in english if "OutSmart" in line] == [
        f"OutSmart informed: {words}" for words in reversed(
            ["connected to Exact Online", "administration locked", "settings changed", "authentication expired",
             "connected to Exact Online", "action needed in Exact Online", "disconnected"])]


def test_without_webhook_url_nothing_is_queued_or_sent(app, client, wizard, receiver):
    assert app.config["WEBHOOK_URL"] is None and outbox.current() is None
    assert wizard.complete(JAN, 101).status_code == 303
    assert wizard.configure(hour_rounding="30").status_code == 303
    assert client.post("/exact/verbreken").status_code == 303
    assert OutboxEvent.select().count() == 0
    assert not [thread for thread in threading.enumerate() if thread.name == "outbox-deliverer"]
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.output == "WEBHOOK_URL is not set: no events are queued or sent.\n"
    time.sleep(0.5)  # not a timing assertion: a chance for anything that would send to do so
    assert receiver.all() == []


def test_a_change_and_its_event_are_kept_together_or_not_at_all(app, client, wizard, webhooks_on,
                                                                held_in_this_process, monkeypatch):
    assert wizard.complete(JAN, 101).status_code == 303
    webhooks_on()

    def broken(*args, **kwargs):
        raise RuntimeError("the outbox table is gone")

    monkeypatch.setattr(OutboxEvent, "create", broken)
    with pytest.raises(RuntimeError):
        client.post("/exact/verbreken")
    stored = Connection.get()
    assert (stored.status, stored.division) == (Connection.SAVED, 101) and stored.refresh_token is not None
    assert Event.select().where(Event.action == "disconnected").count() == 0
    monkeypatch.undo()
    monkeypatch.setattr(outbox, "start", lambda: None)
    assert client.post("/exact/verbreken").status_code == 303
    assert [(row.type, row.state) for row in OutboxEvent.select()] == [("connection.disconnected",
                                                                       OutboxEvent.PENDING)]


# --- start-up settings ------------------------------------------------------------------------------------------

SHORT_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUA=="  # 16 bytes
BAD_SETTINGS = {
    "a secret without whsec_": ({"WEBHOOK_URL": "https://hooks.example/exact",
                                 "WEBHOOK_SECRET": SECRET[len("whsec_"):]}, "WEBHOOK_SECRET must be whsec_"),
    "a secret of 16 bytes": ({"WEBHOOK_URL": "https://hooks.example/exact", "WEBHOOK_SECRET": SHORT_SECRET},
                             "WEBHOOK_SECRET must be whsec_"),
    "a secret that is not base64": ({"WEBHOOK_URL": "https://hooks.example/exact",
                                     "WEBHOOK_SECRET": SECRET[:20] + "!*" + SECRET[22:]},
                                    "WEBHOOK_SECRET must be whsec_"),
    "an address without a secret": ({"WEBHOOK_URL": "https://hooks.example/exact"},
                                     "WEBHOOK_URL is set but WEBHOOK_SECRET is not"),
    "plain http to another machine": ({"WEBHOOK_URL": "http://hooks.example/exact", "WEBHOOK_SECRET": SECRET},
                                      "WEBHOOK_URL must use https://"),
    "a password in the address": ({"WEBHOOK_URL": "https://outsmart:hunter2-pw@hooks.example/exact",
                                   "WEBHOOK_SECRET": SECRET}, "WEBHOOK_URL must be an https:// address"),
    "not a web address": ({"WEBHOOK_URL": "ftp://hooks.example/exact", "WEBHOOK_SECRET": SECRET},
                          "WEBHOOK_URL must be an https:// address"),
    "a timeout of 0": ({"WEBHOOK_URL": "https://hooks.example/exact", "WEBHOOK_SECRET": SECRET,
                        "WEBHOOK_TIMEOUT": "0"}, "WEBHOOK_TIMEOUT must be"),
    "a timeout that is no number": ({"WEBHOOK_URL": "https://hooks.example/exact", "WEBHOOK_SECRET": SECRET,
                                     "WEBHOOK_TIMEOUT": "soon"}, "WEBHOOK_TIMEOUT must be"),
}


def secrets_in(settings):
    secret = settings.get("WEBHOOK_SECRET")
    return [text for text in (secret, secret and secret.removeprefix("whsec_")[:12], "hunter2-pw") if text]


@pytest.mark.parametrize("name", BAD_SETTINGS)
def test_a_bad_webhook_setting_stops_start_up_in_one_sentence_never_the_secret(sim, tmp_path, name):
    settings, sentence = BAD_SETTINGS[name]
    with pytest.raises(BadConfiguration) as refused:
        create_app({**app_settings(sim, tmp_path), **settings})
    message = refused.value.message
    assert message.startswith(sentence) and message.endswith("start the app again.") and "\n" not in message
    assert not [text for text in secrets_in(settings) if text in message]


def test_the_command_line_and_gunicorn_refuse_a_bad_secret_in_words(sim, tmp_path):
    settings, _sentence = BAD_SETTINGS["a secret of 16 bytes"]
    env = {**os.environ, **settings, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    command = subprocess.run([os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "app", "webhooks",
                              "deliver"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert command.returncode == 1
    assert "Error: WEBHOOK_SECRET must be whsec_ followed by the base64 of 24 to 64 random bytes" in command.stderr
    gunicorn = subprocess.run([os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-b", "127.0.0.1:0",
                               "app:create_app()"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert gunicorn.returncode != 0 and "WEBHOOK_SECRET must be whsec_" in gunicorn.stderr
    for output in (command.stdout + command.stderr, gunicorn.stdout + gunicorn.stderr):
        assert SHORT_SECRET not in output and SHORT_SECRET[6:18] not in output


# --- retries, with the clock moved -------------------------------------------------------------------------------

def disconnected_with_webhooks(wizard, client, webhooks_on, **on):
    """Jan's saved connection, then webhooks on, then Verbinding verbreken: one event, not sent yet."""
    assert wizard.complete(JAN, 101).status_code == 303
    webhooks_on(**on)
    assert client.post("/exact/verbreken").status_code == 303
    return OutboxEvent.get()


def test_a_failing_receiver_gets_retries_at_growing_intervals_for_24_hours_then_it_is_given_up(
        app, client, wizard, receiver, webhooks_on, held_in_this_process):
    event = disconnected_with_webhooks(wizard, client, webhooks_on)
    receiver.status = 500
    start = event.created_at
    attempts = []
    now = start
    while OutboxEvent.get().state == OutboxEvent.PENDING:
        outbox.deliver_due(now=now)
        attempts.append(now - start)
        due = OutboxEvent.get().next_attempt_at
        outbox.deliver_due(now=due - 1)  # a second early: nothing goes
        assert len(receiver.all()) == len(attempts)
        now = due
    assert now - start < 2 * DAY

    waits = [later - earlier for earlier, later in zip(attempts, attempts[1:])]
    assert waits[:8] == [30, 60, 120, 240, 480, 960, 1920, 3600]  # doubling …
    assert set(waits[8:-1]) == {3600}  # … to an hour at most
    assert attempts[-1] == 24 * 3600 and 0 < waits[-1] <= 3600  # the last attempt 24 hours after the change
    given_up = OutboxEvent.get()
    assert (given_up.state, given_up.attempts, given_up.last_error) == (OutboxEvent.GIVEN_UP, len(attempts),
                                                                        "HTTP 500")
    assert deliveries_in_history() == [("webhook_given_up", "connection.disconnected")]
    outbox.deliver_due(now=start + 10 * DAY)
    assert len(receiver.all()) == len(attempts)  # given up is given up

    # Every attempt carried the same id and body, signed anew for its own moment (webhook-timestamp).
    signer = outbox.current()._signer
    for one, offset in zip(receiver.all(), attempts):
        assert (one.webhook_id, one.body.decode()) == (event.webhook_id, event.body)
        assert int(one.headers["webhook-timestamp"]) == int(start + offset)
        sent_at = datetime.datetime.fromtimestamp(start + offset, datetime.timezone.utc)
        assert one.headers["webhook-signature"] == signer.sign(event.webhook_id, sent_at, event.body)

    page = client.get("/exact").get_data(as_text=True)
    assert "OutSmart kon niet worden geïnformeerd (24 uur geprobeerd): verbinding verbroken" in page


def test_a_receiver_that_answers_2xx_stops_the_retries_and_the_waiting_ones_go_with_it(
        app, client, wizard, receiver, webhooks_on, held_in_this_process):
    first = disconnected_with_webhooks(wizard, client, webhooks_on)
    start = first.created_at
    receiver.answers = [500, 503]
    assert outbox.deliver_due(now=start).failed == 1
    assert outbox.deliver_due(now=start + 30).failed == 1
    assert OutboxEvent.get().next_attempt_at == start + 90
    # A second event while the first waits: when it is delivered, OutSmart answers again, so the first goes too.
    with db.atomic():
        second = outbox.enqueue(Connection.get(), "connection.needs_attention", reason="test")
    done = outbox.deliver_due(now=start + 40)
    assert (done.delivered, done.failed) == (2, 0)
    assert [(one.webhook_id, one.status) for one in receiver.all()] == [
        (first.webhook_id, 500), (first.webhook_id, 503), (second, 204), (first.webhook_id, 204)]
    assert {row.webhook_id: (row.state, row.attempts) for row in OutboxEvent.select()} == {
        first.webhook_id: (OutboxEvent.DELIVERED, 3), second: (OutboxEvent.DELIVERED, 1)}
    for later in (start + 90, start + DAY, start + 3 * DAY):
        assert outbox.deliver_due(now=later).delivered == 0
    assert len(receiver.all()) == 4 and receiver.ids() == {first.webhook_id: 1, second: 1}
    assert deliveries_in_history() == [("webhook_delivered", "connection.needs_attention"),
                                       ("webhook_delivered", "connection.disconnected")]


@pytest.mark.parametrize("failure, error", [("500", "HTTP 500"), ("404", "HTTP 404"), ("redirect", "HTTP 307"),
                                            ("nobody listening", "ConnectionError"), ("no answer", "ReadTimeout")])
def test_every_kind_of_failure_is_tried_again_and_nothing_goes_elsewhere(app, client, wizard, receiver, webhooks_on,
                                                                        held_in_this_process, failure, error):
    elsewhere = Receiver(SECRET).start()  # where a redirect points: nothing may arrive there
    receiver.redirect_to = elsewhere.url
    closed = f"http://127.0.0.1:{free_port()}/outsmart/exact-events"
    event = disconnected_with_webhooks(wizard, client, webhooks_on, url=closed if failure == "nobody listening" else
                                       None, timeout=0.5)
    receiver.answers = {"500": [500], "404": [404], "redirect": [307]}.get(failure, [])
    if failure == "no answer":
        receiver.held.set()
    try:
        assert outbox.deliver_due(now=event.created_at).failed == 1
        waiting = OutboxEvent.get()
        assert (waiting.state, waiting.attempts, waiting.last_error) == (OutboxEvent.PENDING, 1, error)
        assert waiting.next_attempt_at == event.created_at + 30
        receiver.held.clear()
        webhooks_on(timeout=0.5)
        assert outbox.deliver_due(now=event.created_at + 30).delivered == 1
        assert receiver.ids() == {event.webhook_id: 1} and elsewhere.all() == []
    finally:
        elsewhere.stop()


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_deliver_command_delivers_what_is_due_once(app, client, wizard, receiver, webhooks_on,
                                                       held_in_this_process):
    event = disconnected_with_webhooks(wizard, client, webhooks_on)
    receiver.answers = [503]
    cli = app.test_cli_runner()
    assert cli.invoke(args=["webhooks", "deliver"]).output == (
        "delivered 0, failed 1 (tried again later), given up 0; 1 waiting\n")
    assert cli.invoke(args=["webhooks", "deliver"]).output == "delivered 0, failed 0 (tried again later), given up " \
                                                              "0; 1 waiting\n"  # not due for 30 s
    OutboxEvent.update(next_attempt_at=time.time()).execute()  # as if its 30 s had passed
    assert cli.invoke(args=["webhooks", "deliver"]).output == (
        "delivered 1, failed 0 (tried again later), given up 0; 0 waiting\n")
    assert receiver.ids() == {event.webhook_id: 1} and receiver.all()[-1].refused is None


# --- a killed process, several processes ---------------------------------------------------------------------------

class Gunicorn:
    """gunicorn with one sync worker (preloaded, as in production), on the test's database and simulator."""

    def __init__(self, config, log_path):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "w")
        command = [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "1", "--threads", "1", "--preload",
                   "-b", f"127.0.0.1:{self.port}", f"app:create_app({config!r})"]
        # From the project's root, as deployed: gunicorn reads ./gunicorn.conf.py, which starts each worker's
        # deliverer as the worker starts.
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=self.log, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.url + "/static/css/app.css", timeout=5)
                break
            except requests.ConnectionError:
                assert self.process.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)

    def workers(self):
        return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", self.log_path.read_text())]

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)
        self.log.close()


def test_a_worker_killed_while_delivering_loses_nothing_and_the_next_worker_delivers_it(app, client, wizard, sim,
                                                                                        receiver, tmp_path):
    assert wizard.complete(JAN, 101).status_code == 303  # no webhooks yet: nothing queued
    config = {**config_for_another_process(app), "WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": SECRET,
              "WEBHOOK_TIMEOUT": 2}  # a claim then lasts 12 s
    server = Gunicorn(config, tmp_path / "gunicorn.log")
    try:
        admin = Admin(app, server.url, "Petra")
        receiver.held.set()  # OutSmart's server takes the request and does not answer
        assert admin.post("/exact/verbreken").status_code == 303
        held = receiver.wait_for(1, acknowledged=False)[0]
        [worker] = server.workers()
        os.kill(worker, signal.SIGKILL)  # mid-delivery: the event is claimed by a process that is gone
        receiver.held.clear()

        # gunicorn boots a new worker; nobody asks it anything: its deliverer takes the claim over once it ends.
        delivered = receiver.wait_for(1, timeout=90)
        recorded()
        assert len(server.workers()) == 2 and server.workers()[1] != worker
    finally:
        server.stop()
    assert delivered[0].webhook_id == held.webhook_id and delivered[0].refused is None
    assert body_of(delivered[0])["type"] == "connection.disconnected" and receiver.ids() == {held.webhook_id: 1}
    row = OutboxEvent.get()
    assert (row.state, row.attempts) == (OutboxEvent.DELIVERED, 2)
    assert deliveries_in_history() == [("webhook_delivered", "connection.disconnected")]


PROCESSES = 4
EVENTS = 200


def deliver_in_a_process(config: dict, start_at: float) -> str:
    """In a fresh process: the app's deliverer thread, and this thread delivering too, until nothing is waiting."""
    import models
    import outbox
    from app import create_app

    create_app(config)
    time.sleep(max(0.0, start_at - time.time()))
    outbox.start()
    with models.db.connection_context():
        while models.OutboxEvent.select().where(models.OutboxEvent.state == models.OutboxEvent.PENDING).exists():
            if not outbox.deliver_due().delivered:
                time.sleep(0.01)  # the rest is claimed by others: look again in a moment
    outbox.stop()
    return "done"


def test_four_processes_deliver_two_hundred_events_each_exactly_once(app, wizard, receiver):
    assert wizard.complete(JAN, 101).status_code == 303
    outbox.configure(receiver.url, SECRET)
    try:
        connection = Connection.get()
        for number in range(EVENTS):
            with db.atomic():
                outbox.enqueue(connection, "connection.needs_attention", reason=f"test {number}")
    finally:
        outbox.configure(None, None)  # the test's process queues, the four others deliver
    queued = {row.webhook_id for row in OutboxEvent.select()}
    receiver.delay = 0.002

    config = {**config_for_another_process(app), "WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": SECRET}
    start_at = time.time() + 8  # every process has imported and built its app by then
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        assert pool.starmap(deliver_in_a_process, [(config, start_at)] * PROCESSES) == ["done"] * PROCESSES

    assert receiver.ids() == {webhook_id: 1 for webhook_id in queued}
    assert len(receiver.all()) == EVENTS and not [one for one in receiver.all() if one.refused]
    assert {(row.state, row.attempts) for row in OutboxEvent.select()} == {(OutboxEvent.DELIVERED, 1)}
    assert len(deliveries_in_history()) == EVENTS
