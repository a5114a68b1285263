"""Limits: 10 login starts per OutSmart account per 10 minutes; failed entries per address slowed, then refused; login
attempts past their 10 minutes purged. Counted in the database: across threads, processes and gunicorn workers."""
import datetime
import html
import http.client
import json
import math
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

import models
from conftest import config_for_another_process
from models import STATE_TTL
from models import LoginAttempt
from models import RateLimitCount
from models import utcnow
from views.embed import make_entry_token
from wizard_actions import HTMX

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "acme-limits"
OTHER_ACCOUNT = "bakker-limits"
STARTS = 10  # LOGIN_START_LIMIT's default: 10 per 10 minutes
FAILURES = 5  # FAILED_ENTRY_LIMIT's default: 5 per minute, 30 per hour
HOURLY_FAILURES = 30
TOO_MANY_STARTS = {"nl": "U heeft in korte tijd te vaak geprobeerd in te loggen bij Exact Online",
                   "en": "You tried to log in to Exact Online too often in a short time"}
TOO_MANY_ENTRIES = {"nl": "Deze pagina is vanaf uw netwerk te vaak geopend met een verlopen of ongeldige link",
                    "en": "This page was opened from your network too often with an expired or invalid link"}
OPEN_FROM_OUTSMART = {"nl": "Open deze pagina vanuit OutSmart", "en": "Open this page from OutSmart"}


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of that name: each test-client request gets its own context (and `g`)."""


def entry_path(app, account=ACCOUNT, locale="nl", user="Anna de Boer") -> str:
    with app.app_context():
        return f"/embed?token={make_entry_token(account, user, locale, 'https://app.out-smart.com')}"


def browser(app, account=ACCOUNT, locale="nl", address="127.0.0.1"):
    """A browser of its own (its own cookies) from `address`, inside OutSmart for `account`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
    assert client.get(entry_path(app, account, locale)).status_code == 200
    return client


def start(client, popup=False, country="nl"):
    """Naar inlogpagina, as the iframe (popup, htmx) or a page (full-page redirect to Exact) posts it."""
    data = {"country": country, **({"popup": "1"} if popup else {})}
    return client.post("/exact/land", data=data, headers=HTMX if popup else {})


def started(response) -> bool:
    """A login was started: the page goes to Exact, or the iframe waits for the popup it points at Exact."""
    return response.status_code == 303 or (response.status_code == 200
                                            and "data-login-url" in response.get_data(as_text=True))


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def retry_in_minutes(seconds: int, locale="nl") -> str:
    """When to try again, as the refusal of a login start says it: in whole minutes, rounded up."""
    minutes = math.ceil(seconds / 60)
    if locale == "nl":
        return f"Probeer het over {minutes} {'minuut' if minutes == 1 else 'minuten'} opnieuw."
    return f"Try again in {minutes} {'minute' if minutes == 1 else 'minutes'}."


def end_windows(period: str) -> None:
    """Time passes: the open windows of this period ("minute", "hour") end now, as if their time were up."""
    RateLimitCount.update(expires_at=time.time() - 1).where(RateLimitCount.key.endswith(f"/{period}")).execute()


# --- login starts: 10 per account per 10 minutes --------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["nl", "en"])
def test_the_eleventh_login_start_of_an_account_is_refused_in_words_and_starts_nothing(app, sim, locale):
    """Popup and full page alike, from two browsers of one account: 10 start; the 11th is a 429 saying when to retry."""
    first, second = browser(app, locale=locale), browser(app, locale=locale)
    for number in range(STARTS):
        response = start(first if number % 2 else second, popup=number % 3 == 0)
        assert started(response), (number, response.status_code)
    assert LoginAttempt.select().count() == STARTS

    third = browser(app, locale=locale)  # another browser of the same account: counted per account
    for popup in (True, False):
        refused = start(third, popup=popup)
        assert refused.status_code == 429
        wait = retry_after(refused)
        assert 0 < wait <= 600  # until the window opened by the first start ends
        said = text_of(refused)
        assert TOO_MANY_STARTS[locale] in said
        assert retry_in_minutes(wait, locale) in said, said
        if popup:  # the step's fragment, swapped into the iframe like any other refusal; no login for the popup
            body = refused.get_data(as_text=True)
            assert body.lstrip().startswith('<section id="exact"') and "data-login-url" not in body
    assert LoginAttempt.select().count() == STARTS  # nothing was created for a refused start

    other = browser(app, account=OTHER_ACCOUNT, locale=locale)  # another account counts its own starts
    assert started(start(other))
    assert LoginAttempt.select().where(LoginAttempt.account == OTHER_ACCOUNT).count() == 1


def test_after_the_ten_minutes_the_account_starts_again_and_form_errors_cost_no_start(app, sim):
    client = browser(app)
    for _ in range(15):
        assert start(client, country="xx").status_code == 422  # not a start: not counted
    for _ in range(STARTS):
        assert started(start(client))
    refused = start(client)
    assert refused.status_code == 429 and LoginAttempt.select().count() == STARTS

    end_windows("minute")  # "10 per 10 minutes" is kept under its unit, minute: the ten minutes are up
    assert started(start(client))
    assert LoginAttempt.select().count() == STARTS + 1


PROCESSES = 4
THREADS = 25


def start_at_once(config: dict, start_at: float) -> list[int]:
    """In a fresh process: THREADS threads post Naar inlogpagina for the demo account at the same moment."""
    from app import create_app

    app = create_app(config)
    statuses = []

    def post():
        client = app.test_client()
        time.sleep(max(0.0, start_at - time.time()))
        statuses.append(client.post("/exact/land", data={"country": "nl"}).status_code)

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_hundred_starts_at_once_from_four_processes_start_ten(app, sim):
    """The attack's shape (300 starts in 1.7 s), all at the same moment: each count is one statement, so exactly 10."""
    config = config_for_another_process(app)
    start_at = time.time() + 8  # every process has imported and built its app by then
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        batches = pool.starmap(start_at_once, [(config, start_at)] * PROCESSES)
    statuses = sorted(status for batch in batches for status in batch)
    assert statuses == [303] * STARTS + [429] * (PROCESSES * THREADS - STARTS)
    assert LoginAttempt.select().where(LoginAttempt.account == "demo").count() == STARTS


# --- failed entries: per address, slowed (5 a minute), then refused (30 an hour) -----------------------------------

@pytest.mark.parametrize("locale", ["nl", "en"])
def test_after_five_failed_entries_an_address_waits_out_the_minute_whatever_it_sends(app, sim, locale):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
    for token in ("forged", "", "x" * 300, entry_path(app)[len("/embed?token="):-3], "forged"):
        response = client.get(f"/embed?token={token}")
        assert response.status_code == 401 and OPEN_FROM_OUTSMART[locale] in text_of(response)

    for path in ("/embed?token=forged", entry_path(app, locale=locale)):  # a valid entry waits too
        refused = client.get(path)
        assert refused.status_code == 429
        wait = retry_after(refused)
        assert 0 < wait <= 60
        said = text_of(refused)
        assert TOO_MANY_ENTRIES[locale] in said and OPEN_FROM_OUTSMART[locale] in said
        waits = [int(number) for number in re.findall(r"(?:Wacht|Wait) (\d+) (?:seconde|second)", said)]
        assert waits == [wait], said

    neighbour = app.test_client()  # another address is not held up by this one
    neighbour.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert neighbour.get(entry_path(app)).status_code == 200
    assert neighbour.get("/embed?token=forged").status_code == 401

    end_windows("minute")
    assert client.get(entry_path(app)).status_code == 200


def test_successful_entries_neither_count_nor_unblock(app, sim):
    client = app.test_client()
    for _ in range(FAILURES - 1):
        assert client.get("/embed?token=forged").status_code == 401
    for _ in range(20):
        assert client.get(entry_path(app)).status_code == 200  # not counted
    assert client.get("/embed?token=forged").status_code == 401  # the fifth failure
    assert client.get(entry_path(app)).status_code == 429  # blocked, and a valid entry does not lift it
    assert client.get(entry_path(app)).status_code == 429


def test_thirty_failed_entries_in_an_hour_refuse_the_address_for_the_rest_of_the_hour(app, sim):
    client = app.test_client()
    for minute in range(HOURLY_FAILURES // FAILURES):
        for _ in range(FAILURES):
            assert client.get("/embed?token=forged").status_code == 401, minute
        assert client.get("/embed?token=forged").status_code == 429
        end_windows("minute")  # a minute later

    refused = client.get(entry_path(app))
    assert refused.status_code == 429
    wait = retry_after(refused)
    assert 90 < wait <= 3600  # the rest of the hour opened by the first failure, in minutes
    assert f"Wacht {math.ceil(wait / 60)} minuten" in text_of(refused), text_of(refused)
    end_windows("minute")
    assert client.get(entry_path(app)).status_code == 429  # minutes later: still the rest of the hour

    end_windows("hour")
    assert client.get(entry_path(app)).status_code == 200
    assert client.get("/embed?token=forged").status_code == 401


# --- login attempts past their 10 minutes are purged -----------------------------------------------------------------

def age_everything(delta: datetime.timedelta) -> None:
    """Time passes for the stored rows: every attempt and every limit's window is `delta` older."""
    with models.db.atomic():
        for attempt in LoginAttempt.select(LoginAttempt.id, LoginAttempt.created_at):
            LoginAttempt.update(created_at=attempt.created_at - delta).where(LoginAttempt.id == attempt.id).execute()
        RateLimitCount.update(expires_at=RateLimitCount.expires_at - delta.total_seconds()).execute()


def test_three_hundred_starts_over_half_an_hour_leave_only_the_live_attempts(app, sim):
    """10 starts a minute from 30 accounts for 30 minutes: the table never holds an attempt past its 10 minutes."""
    accounts = [browser(app, account=f"account-{number}") for number in range(30)]
    most = 0
    for number in range(300):
        assert started(start(accounts[number % len(accounts)], popup=number % 2 == 0)), number
        now = utcnow()
        ages = [now - attempt.created_at for attempt in LoginAttempt.select(LoginAttempt.created_at)]
        assert max(ages) <= STATE_TTL, number  # none past its 10 minutes is left
        most = max(most, len(ages))
        if number % 10 == 9:
            age_everything(datetime.timedelta(minutes=1))
    # The live ones: this minute's and the nine minutes' before (those ten minutes old went at this minute's first).
    assert most == 10 * STARTS
    assert LoginAttempt.select().count() == 10 * STARTS
    assert RateLimitCount.select().count() <= len(accounts)  # the starts' counts do not pile up either


# --- across gunicorn workers ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with 2 sync workers, each replaced after one request: every answer comes from a process of its own."""

    def __init__(self, app, log_path: Path):
        self.port = free_port()
        config = app.config
        env = {**os.environ,
               "DATABASE_URL": config["DATABASE_URL"], "SECRET_KEY": config["SECRET_KEY"],
               "EMBED_SECRET": config["EMBED_SECRET"], "TOKEN_KEYS": ",".join(config["TOKEN_KEYS"]),
               "EXACT_CLIENT_ID": config["EXACT_CLIENT_ID"], "EXACT_CLIENT_SECRET": config["EXACT_CLIENT_SECRET"],
               "EXACT_REDIRECT_URI": config["EXACT_REDIRECT_URI"], "EXACT_BASE_URLS": config["EXACT_BASE_URLS"],
               "HOST_ORIGINS": ",".join(config["HOST_ORIGINS"])}
        for name in ("DEFAULT_ACCOUNT", "LOGIN_START_LIMIT", "FAILED_ENTRY_LIMIT"):
            env.pop(name, None)  # production: an entry names the account; the limits are the defaults
        self.log = open(log_path, "w")
        self.log_path = log_path
        command = [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "2", "--threads", "1", "--max-requests", "1",
                   "--preload", "-b", f"127.0.0.1:{self.port}", "--log-level", "info", "app:create_app()"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=self.log,
                                        start_new_session=True)

    def request(self, method, path, headers=None, body=None):
        """One request on a connection of its own; (status, headers, text)."""
        deadline = time.time() + 60
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                connection.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
                response = connection.getresponse()
                return response.status, dict(response.getheaders()), response.read().decode()
            except ConnectionRefusedError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise
                time.sleep(0.1)  # still starting
            finally:
                connection.close()

    def workers_booted(self) -> set[str]:
        return set(re.findall(r"Booting worker with pid: (\d+)", self.log_path.read_text()))

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture
def gunicorn(app, sim, tmp_path):
    server = Gunicorn(app, tmp_path / "gunicorn.log")
    yield server
    server.stop()


def test_the_limits_hold_across_gunicorn_workers(app, gunicorn):
    """Every request answered by another worker process on the same database (SQLite file or PostgreSQL)."""
    status, _, page = gunicorn.request("GET", entry_path(app))
    assert status == 200
    session = json.loads(html.unescape(re.search(r"hx-headers='([^']*)'", page)[1]))  # X-Session, X-CSRFToken
    form = {"Content-Type": "application/x-www-form-urlencoded", **session}
    answers = []
    for number in range(STARTS + 2):
        popup = number % 2 == 0
        body = urlencode({"country": "nl", **({"popup": "1"} if popup else {})})
        answers.append(gunicorn.request("POST", "/exact/land", {**form, **(HTMX if popup else {})}, body))
    assert [status for status, _, _ in answers] == [200, 303] * (STARTS // 2) + [429, 429]
    for status, headers, text in answers[STARTS:]:
        wait = int(headers["Retry-After"])
        assert 0 < wait <= 600 and retry_in_minutes(wait) in text
    assert LoginAttempt.select().where(LoginAttempt.account == ACCOUNT).count() == STARTS

    entries = [gunicorn.request("GET", "/embed?token=forged")[0] for _ in range(FAILURES + 1)]
    assert entries == [401] * FAILURES + [429]
    status, headers, text = gunicorn.request("GET", entry_path(app))
    assert status == 429 and 0 < int(headers["Retry-After"]) <= 60 and TOO_MANY_ENTRIES["nl"] in text

    requests = 1 + len(answers) + len(entries) + 1
    assert len(gunicorn.workers_booted()) >= requests  # one process per answer: no count was kept in a process
