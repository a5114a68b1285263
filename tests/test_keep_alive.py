"""Keep-alive on several machines at once: each due connection refreshed by exactly one runner, concurrently within a
runner, and a summary line that says what became of every due connection.

The runners are real `keep-alive` commands in their own processes, configured from the environment as in production,
against the simulator over HTTP and the test's database (a temp SQLite file, or PostgreSQL with TEST_DATABASE_URL).
"""
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest

import models
from conftest import TEST_DATABASE_URL
from models import Connection
from models import Event

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400
SUMMARY = re.compile(r"^keep-alive: (\d+) due; refreshed (\d+), skipped (\d+) \(another runner had them\), "
                     r"failed (\d+)", re.MULTILINE)

# A runner as cron starts it: `flask --app app keep-alive`, the app built from the environment. It waits for the
# agreed moment after building the app, so the runners under test start their work together, not a start-up apart.
RUNNER = """
import sys, time
from flask.cli import FlaskGroup
import app
application = app.create_app()
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
FlaskGroup(create_app=lambda: application).main(["keep-alive", *sys.argv[2:]], prog_name="flask")
"""


def runner_env(config) -> dict:
    """The environment of a production runner: the app's settings as variables (app.py ENV_SETTINGS)."""
    names = ("DATABASE_URL", "SECRET_KEY", "EMBED_SECRET", "EXACT_CLIENT_ID", "EXACT_CLIENT_SECRET",
             "EXACT_REDIRECT_URI", "EXACT_BASE_URLS", "APP_URL")
    return {**os.environ, **{name: str(config[name]) for name in names},
            "TOKEN_KEYS": ",".join(config["TOKEN_KEYS"])}


def run_at_once(app, runners: int, *args) -> list[subprocess.CompletedProcess]:
    """`runners` keep-alive commands in their own processes, starting their work at the same moment."""
    start_at = time.time() + 6  # every process has imported and built its app by then
    processes = [subprocess.Popen([sys.executable, "-c", RUNNER, str(start_at), *args], cwd=ROOT,
                                  env=runner_env(app.config), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(runners)]
    finished = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return finished


def summary(output: str) -> dict:
    due, refreshed, skipped, failed = map(int, SUMMARY.search(output).groups())
    return {"due": due, "refreshed": refreshed, "skipped": skipped, "failed": failed}


def seed_due_connections(sim, count: int, days_old: int = 21) -> dict[str, str]:
    """`count` Exact users (POST /_sim/seed), each logged in once at the simulator (a grant chain of its own), and
    `count` saved connections holding their tokens (each its own Exact user: the day's token calls count per user),
    inserted directly; then `days_old` days pass at Exact, and the rows say the tokens were issued that long ago.
    Returns {account: refresh token as stored}."""
    usernames = [sim.seed_user(f"keep-alive-{number}@example.nl", 1)["username"] for number in range(count)]
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda username: sim.token_for(username, cc="nl"), usernames))
    sim.advance(days_old * DAY)
    issued = time.time() - days_old * DAY
    rows = [dict(account=f"acme-{number:03d}", status=Connection.SAVED, country="nl", base_url=sim.base_url("nl"),
                 exact_user_id=usernames[number], exact_user_name=usernames[number],
                 access_token=token["access_token"], refresh_token=token["refresh_token"],
                 token_issued_at=issued + number, token_expires_at=issued + number + 600, division=900001 + number,
                 division_name="Schaal Test")
            for number, token in enumerate(tokens)]
    with models.db.atomic():
        Connection.insert_many(rows).execute()
    return {row["account"]: row["refresh_token"] for row in rows}


def assert_each_refreshed_once(sim, before: dict[str, str], started: float):
    """Exact saw one successful refresh per connection and no other token call; each grant chain was rotated exactly
    once (its previous refresh token is the one the row held before); each row holds the chain's new token."""
    token_calls = sim.calls(kind="token")
    assert len(token_calls) == len(before), len(token_calls)
    assert all(call["grant_type"] == "refresh_token" and call["status"] == 200 for call in token_calls), \
        {(call["grant_type"], call["status"]) for call in token_calls}
    chains = {chain["username"]: chain for chain in sim.state()["chains"]}
    stored = {row.account: row for row in Connection.select()}
    assert set(stored) == set(before)
    for account, old_refresh_token in before.items():
        row, chain = stored[account], chains[stored[account].exact_user_name]
        assert row.status == Connection.SAVED and row.token_issued_at >= started, account
        assert chain["previous_refresh_token"] == old_refresh_token[:9] + "…", account  # rotated once, not twice
        assert chain["refresh_token"] == row.refresh_token[:9] + "…", account  # and we hold what Exact holds
    assert len({row.refresh_token for row in stored.values()}) == len(before)


def test_two_runners_at_once_refresh_two_hundred_due_connections_each_exactly_once(app, sim):
    """Two keep-alives at once, 8 threads each, against 200 due connections: 200 refreshes at Exact, none twice,
    none failed; each runner accounts for every connection it found due (refreshed, or skipped because the other
    runner had it)."""
    before = seed_due_connections(sim, 200)
    sim.clear_calls()
    started = time.time()

    runs = run_at_once(app, 2, "--concurrency", "8")

    for run in runs:
        assert run.returncode == 0 and "Traceback" not in run.stderr, (run.stdout[-2000:], run.stderr[-2000:])
    counts = [summary(run.stdout) for run in runs]
    assert sum(count["refreshed"] for count in counts) == 200, counts
    for count in counts:
        assert count["failed"] == 0 and count["refreshed"] + count["skipped"] == count["due"], counts
    assert_each_refreshed_once(sim, before, started)
    assert Event.select().count() == 0  # nothing expired

    # The next run finds nothing due: every token was issued just now.
    again = run_at_once(app, 1)[0]
    assert summary(again.stdout) == {"due": 0, "refreshed": 0, "skipped": 0, "failed": 0}, again.stdout


def test_a_connection_another_runner_holds_is_skipped_not_waited_for_and_not_refreshed(app, sim):
    """While another transaction holds a due row (PostgreSQL: its row lock; SQLite: the write lock, past the busy
    timeout), the runner passes it over, says so in the summary, and leaves its tokens to the holder."""
    before = seed_due_connections(sim, 2)
    held, free = sorted(before)
    held_id = Connection.get(Connection.account == held).id
    sim.clear_calls()
    other = hold(held_id)
    try:
        if TEST_DATABASE_URL:
            result = app.test_cli_runner().invoke(args=["keep-alive"])
        else:
            # SQLite waits up to its busy timeout (15 s) for the write lock: shortened for this connection only.
            from keep_alive import refresh_one
            from views.exact_clients import token_store

            models.db.execute_sql("PRAGMA busy_timeout = 200")
            assert refresh_one(token_store(), held_id, time.time() - 20 * DAY).outcome == "skipped"
            models.db.execute_sql("PRAGMA busy_timeout = 15000")
    finally:
        other.rollback()
        other.close()
    if TEST_DATABASE_URL:
        assert result.exit_code == 0, result.output
        assert result.output == "keep-alive: 2 due; refreshed 1, skipped 1 (another runner had them), failed 0\n"
        assert Connection.get(Connection.account == free).refresh_token != before[free]
        assert len(sim.calls(kind="token")) == 1
    else:
        assert sim.calls(kind="token") == []
    assert Connection.get(Connection.account == held).refresh_token == before[held]


def hold(connection_id: int):
    """Another machine's transaction, holding the connection's row (PostgreSQL) or the database's write lock
    (SQLite) until it is rolled back."""
    if TEST_DATABASE_URL:
        other = psycopg2.connect(TEST_DATABASE_URL)
        other.cursor().execute('SELECT id FROM "connection" WHERE id = %s FOR UPDATE', (connection_id,))
        return other
    import sqlite3

    other = sqlite3.connect(models.db.obj.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_the_summary_says_what_became_of_each_due_connection_and_why(app, sim):
    """Four due connections: one refreshed, one whose grant Exact revoked (marked expired, one
    `expired` event), one while Exact is down (tried again next run; exit status 1 for the operator), one refreshed
    after it. A fresh connection and an expired one are not due. Every line in words, no token in the output."""
    before = seed_due_connections(sim, 4)
    accounts = sorted(before)  # the oldest token first: acme-000 … acme-003
    revoked = Connection.get(Connection.account == accounts[1]).exact_user_name
    sim.revoke(revoked)
    Connection.insert(account="fresh", status=Connection.SAVED, country="nl", base_url=sim.base_url("nl"),
                      access_token="fresh-access", refresh_token="fresh-refresh", token_issued_at=time.time() - 60,
                      token_expires_at=time.time() + 540).execute()
    Connection.insert(account="gone", status=Connection.EXPIRED, country="nl", base_url=sim.base_url("nl"),
                      access_token="gone-access", refresh_token="gone-refresh", token_issued_at=time.time() - 25 * DAY,
                      token_expires_at=time.time() - 25 * DAY + 600).execute()
    # The third one's Exact cannot be reached (its country's host is a closed port).
    Connection.update(country="de").where(Connection.account == accounts[2]).execute()
    app.config["EXACT_HOSTS"] = {**app.config["EXACT_HOSTS"], "de": "http://127.0.0.1:9/de"}
    sim.clear_calls()

    result = app.test_cli_runner().invoke(args=["keep-alive"])

    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"{accounts[1]}: not refreshed (ReauthorizationRequired)",
        f"{accounts[2]}: not refreshed (ExactUnavailable)",
        "keep-alive: 4 due; refreshed 2, skipped 0 (another runner had them), failed 2 (1 ExactUnavailable: Exact "
        "did not answer, or answered with an error: tried again next run; 1 ReauthorizationRequired: Exact no "
        "longer accepts the grant: marked expired, the admin must reconnect)"]
    stored = {row.account: row for row in Connection.select()}
    assert stored[accounts[0]].refresh_token != before[accounts[0]]
    assert stored[accounts[3]].refresh_token != before[accounts[3]]
    assert stored[accounts[1]].status == Connection.EXPIRED and stored[accounts[1]].refresh_token == before[accounts[1]]
    assert stored[accounts[2]].status == Connection.SAVED and stored[accounts[2]].refresh_token == before[accounts[2]]
    assert stored[accounts[2]].last_error == "ExactUnavailable"
    assert [(event.account, event.action) for event in Event.select()] == [(accounts[1], "expired")]
    assert stored["fresh"].refresh_token == "fresh-refresh" and stored["gone"].refresh_token == "gone-refresh"
    for token in [*before.values(), *(row.refresh_token for row in stored.values())]:
        assert token not in result.output


class Gate:
    """A proxy in front of the simulator that counts the refreshes in flight at once: the first `wait_for` of them
    are held until that many are in flight together (or 20 s have passed), so the count shows whether the runner
    refreshes concurrently, and never more than its bound."""

    def __init__(self, sim, wait_for: int):
        from conftest import serve

        self.sim, self.wait_for = sim, wait_for
        self.in_flight = self.most = self.arrived = 0
        self.changed = threading.Condition()
        self.server = serve(self.forward)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def forward(self, environ, start_response):
        import requests
        from werkzeug.wrappers import Request
        from werkzeug.wrappers import Response

        request = Request(environ)
        with self.changed:
            self.arrived += 1
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.changed.notify_all()
            if self.arrived <= self.wait_for:
                self.changed.wait_for(lambda: self.most >= self.wait_for, timeout=20)
        try:
            answer = requests.post(self.sim.url + request.path, data=request.form.to_dict(), timeout=10)
        finally:
            with self.changed:
                self.in_flight -= 1
        headers = {name: value for name, value in answer.headers.items() if name in ("Content-Type", "Reason")}
        return Response(answer.content, answer.status_code, headers)(environ, start_response)


def test_a_runner_refreshes_as_many_at_once_as_its_concurrency_and_never_more(app, sim):
    """--concurrency 3 against 10 due connections: Exact sees 3 refreshes in flight at once, never 4 (PostgreSQL).
    On SQLite the file has one writer at a time, so a runner's threads take turns: 1 at a time."""
    before = seed_due_connections(sim, 10)
    expected = 1 if not TEST_DATABASE_URL else 3
    gate = Gate(sim, wait_for=expected)
    app.config["EXACT_HOSTS"] = {**app.config["EXACT_HOSTS"], "nl": f"{gate.url}/nl"}
    try:
        result = app.test_cli_runner().invoke(args=["keep-alive", "--concurrency", "3"])
    finally:
        gate.server.shutdown()
    assert result.output == "keep-alive: 10 due; refreshed 10, skipped 0 (another runner had them), failed 0\n"
    assert gate.arrived == 10 and gate.most == expected, (gate.arrived, gate.most)
    assert all(row.refresh_token != before[row.account] for row in Connection.select())


@pytest.mark.parametrize("args, says", [
    (["--concurrency", "0"], "0 is not in the range 1<=x<=64"),
    (["--concurrency", "65"], "65 is not in the range 1<=x<=64"),
    (["--concurrency", "many"], "'many' is not a valid integer"),
    (["--older-than-days", "0"], "0 is not in the range x>=1"),
    (["--older-than-days", "30"], "must be under 30 days"),
])
def test_options_out_of_range_are_refused_in_words_and_nothing_is_refreshed(app, sim, args, says):
    seed_due_connections(sim, 1)
    sim.clear_calls()
    result = app.test_cli_runner().invoke(args=["keep-alive", *args])
    assert result.exit_code == 2 and says in result.output, result.output
    assert sim.calls() == []
