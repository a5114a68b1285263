"""The app killed (SIGKILL) in the middle of Opslaan: after a restart, saved in full or exactly as before."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import config_for_another_process
from models import Connection
from models import Event
from models import db
from test_races import Admin
from test_races import COMPARED
from test_races import Result
from test_races import held_at_exact
from test_races import ready
from wizard_actions import flat_settings

ROOT = Path(__file__).resolve().parent.parent

# Builds the app once, then on each line read from stdin forks a process that serves it on a threaded werkzeug
# server and prints "pid port" (gunicorn's --preload, in short: a restart costs a fork, not a Python start-up).
# With HOLD_SECONDS the save's transaction, once its UPDATE has run, waits that long before recording the event
# and committing: a slow commit to be killed in the middle of. With HOLD_SAVE it first writes the file named there,
# and only the first save to get there waits.
SERVER = """
import json, os, signal, sys, time
from pathlib import Path
from werkzeug.serving import make_server
import models
from app import create_app

config = json.loads(sys.argv[1])
hold_file, hold_seconds = config.pop("HOLD_SAVE", None), config.pop("HOLD_SECONDS", 0)
if hold_seconds:
    record = models.Event.record

    def held(account, action, user=None, **detail):
        if action == "saved" and not (hold_file and Path(hold_file).exists()):
            if hold_file:
                Path(hold_file).write_text("inside the save's transaction")
            time.sleep(hold_seconds)
        return record(account, action, user, **detail)

    models.Event.record = held
app = create_app(config)
for name in app.jinja_env.list_templates():
    app.jinja_env.get_template(name)  # compiled once, for every process
getattr(models.db.obj, "close_all", models.db.close)()  # no connection may be shared with the processes
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the killed ones
while sys.stdin.readline():
    if os.fork() == 0:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        print(os.getpid(), server.server_port, flush=True)
        server.serve_forever(poll_interval=0.05)
        os._exit(0)
"""


class AppProcess:
    """The app in a process of its own, to be killed with SIGKILL like a crashed or OOM-killed worker."""

    def __init__(self, pid, port):
        self.pid = pid
        self.url = f"http://127.0.0.1:{port}"

    def alive(self):
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.alive():  # gone, and its locks and database connections with it
            assert time.monotonic() < deadline
            time.sleep(0.005)


@pytest.fixture
def start(app, sim, tmp_path):
    """start(): the app in a new process on the test's database (start(**hold) the first time: see SERVER)."""
    config = config_for_another_process(app)
    # The saves below ask Exact for the same division many times a minute; rate limits are tested elsewhere.
    sim.settings(minutely_limit=100000)
    log = open(tmp_path / "app.log", "w")
    preloaded = []
    processes = []

    def start_process(**hold):
        assert not (preloaded and hold), "the hold is the preloading parent's: pass it to the first start() only"
        if not preloaded:
            preloaded.append(subprocess.Popen([sys.executable, "-c", SERVER, json.dumps({**config, **hold})],
                                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                              text=True))
        parent = preloaded[0]
        parent.stdin.write("start\n")
        parent.stdin.flush()
        started = parent.stdout.readline().split()
        assert started, f"the app did not start:\n{(tmp_path / 'app.log').read_text()[-3000:]}"
        processes.append(AppProcess(int(started[0]), started[1]))
        return processes[-1]

    yield start_process
    for process in processes:
        if process.alive():
            process.kill()
    for parent in preloaded:
        parent.stdin.close()
        parent.wait(timeout=10)
        parent.stdout.close()
    log.close()


def raw_connection():
    """The connection's row exactly as stored (tokens still encrypted), and how many times it was saved."""
    rows = db.execute_sql("SELECT * FROM connection").fetchall()
    assert len(rows) == 1
    return rows[0], Event.select().where(Event.action == "saved").count()


def save_and_kill(admin, process, when):
    """Post Opslaan, call `when()` while it runs, then SIGKILL the app; the save's answer never arrives."""
    saving = Result(admin.save)
    when()
    process.kill()
    answer = saving.join()
    assert isinstance(answer, requests.ConnectionError) or answer.status_code in (303, 409), answer


def assert_saved_in_full_or_not_at_all(admin, before, posted):
    """After a restart: either everything of the save is there, or the row is byte for byte what it was."""
    row, saves = raw_connection()
    page = admin.http.get(admin.url + "/exact", timeout=30)  # the overview, or the details it sends a login to
    assert page.status_code == 200, page.text
    if (row, saves) == before:
        assert admin.get("/exact/controle").status_code == 200
        return False
    connection = Connection.get()
    assert (connection.status, connection.division, connection.draft_division, connection.draft_settings) == (
        Connection.SAVED, 101, None, None)
    assert connection.saved_at is not None and saves == before[1] + 1
    assert {name: flat_settings(connection.settings)[name] for name in COMPARED} == {name: posted[name] for name in COMPARED}
    assert 'data-exact-state="saved" data-exact-division="101"' in page.text
    return True


def save_again(admin):
    """The admin saves once more on the restarted app: it works."""
    response = admin.save()
    assert response.status_code == 303 and response.headers["Location"].endswith("/exact?notice=saved"), response.text
    assert Connection.get().status == Connection.SAVED


def test_killed_while_exact_checks_the_save_nothing_is_saved_and_the_admin_saves_again(app, sim, start):
    process = start()
    admin = Admin(app, process.url, "Beheerder")
    posted = ready(admin, sim)
    before = raw_connection()
    sim.settings(fault_timeout_seconds=0.5)
    sim.fault("users/UserHasRights", "timeout")  # the first of the pre-save checks hangs at Exact

    save_and_kill(admin, process, lambda: held_at_exact(sim))
    admin.url = start().url

    assert raw_connection() == before  # the checks had not passed: nothing may have been written
    assert not assert_saved_in_full_or_not_at_all(admin, before, posted)
    save_again(admin)
    # The killed request's Exact call ends on its own; wait for it so it cannot land in the next test's call log.
    deadline = time.monotonic() + 5
    while not sim.calls(endpoint="users/UserHasRights", fault="timeout"):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_killed_inside_the_save_transaction_nothing_is_half_saved(app, sim, start, tmp_path):
    inside = tmp_path / "inside"
    process = start(HOLD_SAVE=str(inside), HOLD_SECONDS=30)
    admin = Admin(app, process.url, "Beheerder")
    posted = ready(admin, sim)
    before = raw_connection()

    def when_inside():
        deadline = time.monotonic() + 10
        while not inside.exists():
            assert time.monotonic() < deadline, "the save never reached its transaction"
            time.sleep(0.005)

    save_and_kill(admin, process, when_inside)
    admin.url = start().url

    assert raw_connection() == before  # the UPDATE had run, uncommitted: it is gone with the process
    assert not assert_saved_in_full_or_not_at_all(admin, before, posted)
    save_again(admin)


def test_killed_at_random_moments_of_saves_every_restart_finds_all_or_nothing(app, sim, start):
    # A commit that takes 0.1 s, so that some of the moments below fall inside the transaction.
    process = start(HOLD_SECONDS=0.1)
    admin = Admin(app, process.url, "Beheerder")
    ready(admin, sim)
    timed = admin.save()  # how long a whole save takes here: the span the kills are spread over
    assert timed.status_code == 303
    span = 1.25 * timed.elapsed.total_seconds()
    assert admin.post("/exact/verbreken").status_code == 303
    posted = ready(admin, sim)
    rng = random.Random(7)
    rounds = 5
    outcomes = []
    for round_number in range(rounds):
        before = raw_connection()
        # One random moment in each fifth of the span: from before the save reads the connection to after it commits.
        moment = span * (round_number + rng.random()) / rounds

        save_and_kill(admin, process, lambda: time.sleep(moment))
        process = start()
        admin.url = process.url

        outcomes.append(assert_saved_in_full_or_not_at_all(admin, before, posted))
        if outcomes[-1]:  # saved: start over; not saved: the next round saves the same again
            assert admin.post("/exact/verbreken").status_code == 303
            posted = ready(admin, sim)
    assert False in outcomes  # some kills did land before the commit
    save_again(admin)
