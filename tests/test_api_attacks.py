"""The token API attacked from outside, as an attacker finds it in production: over real HTTP against the app on a
threaded server (or gunicorn), the simulator over HTTP behind it.

The holes found (issue 14, item 7): a key sent as ?access_token= was written to the access log; any key got any
account's token; an 8-character key was accepted; 404 and 405 under /api/ answered in HTML. Also here: the API's
description lists every route and every status the API answers.
"""
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

import models
from app import BadConfiguration
from app import _configure_services
from hostile import enter
from models import Connection
from simhelpers import CLIENT_SECRET
from simhelpers import JAN
from test_token_api import put_in_refresh_window
from views.embed import make_entry_token
from wizard_actions import WizardActions

ROOT = Path(__file__).resolve().parent.parent
IN_SCOPE = "acme-1"  # saved; sync-eu may ask for it
OUT_OF_SCOPE = "zulu-9"  # saved too; only the unscoped service may ask for it
EU_KEY = "sync-eu-key-Xw3Lr8Tq5Zn1Vb7Kd2Hm9Pj4Gs6"
REPORTS_KEY = "reports-key-Fy6Nc2Wq8Rt4Lz1Xk7Bv3Hd9Mp5"
SERVICE_KEYS = f"sync-eu:{EU_KEY},reports:{REPORTS_KEY}"
SERVICE_ACCOUNTS = "sync-eu=acme-*|beta-*"  # reports is not named: every account, as before scopes existed
EU = {"Authorization": f"Bearer {EU_KEY}"}
REPORTS = {"Authorization": f"Bearer {REPORTS_KEY}"}
CONNECTION = "/api/v1/accounts/{account}/connection"
ACCESS_TOKEN = "/api/v1/accounts/{account}/access-token"
PROBLEMS = "/api/v1/accounts/{account}/connection/problems"
A_REPORT = {"status": 401, "endpoint": "101/crm/Accounts"}
OPENAPI = "/api/v1/openapi.json"


def configure_services(app, keys=SERVICE_KEYS, accounts=SERVICE_ACCOUNTS):
    """Set the services as the environment gives them, parsed by the same code create_app runs."""
    app.config.update(SERVICE_KEYS=keys, SERVICE_ACCOUNTS=accounts)
    _configure_services(app)


@pytest.fixture
def saved(app, sim):
    """acme-1 and zulu-9 each saved (Jan, administration 101) through OutSmart's entry; sync-eu scoped to acme-*
    and beta-*, reports unscoped; errors answered as in production (no exception reaches the server)."""
    configure_services(app)
    app.config.update(DEFAULT_ACCOUNT=None, PROPAGATE_EXCEPTIONS=False)
    for account in (IN_SCOPE, OUT_OF_SCOPE):
        browser = app.test_client()
        enter(app, browser, account)
        assert WizardActions(browser, sim).complete(JAN, 101).status_code == 303
    return {connection.account: connection for connection in Connection.select()}


def send(url, method, path, headers=None, **kwargs):
    """One request as a worker (or an attacker) sends it."""
    return requests.request(method, url + path, headers=headers or {}, timeout=30, allow_redirects=False, **kwargs)


def send_raw(url, request_line: bytes) -> bytes:
    """Send a request line byte for byte (no client library tidies it up); the server's answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request_line + b"\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def refusal(response) -> dict:
    """The JSON problem of a refusal: error code and a sentence."""
    assert response.headers["Content-Type"] == "application/json", (response.request.path_url, response.text[:200])
    body = response.json()
    assert isinstance(body["error"], str) and len(body["message"].split()) >= 4, body
    return body


# --- 1. a key in the query string -----------------------------------------------------------------------------------

@pytest.fixture
def access_log():
    """What werkzeug's access log writes (after the app's filters), line by line."""
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger = logging.getLogger("werkzeug")
    handler, level = Keep(logging.INFO), logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_key_in_the_query_string_is_refused_and_no_query_string_reaches_the_access_log(app, saved, live_app,
                                                                                          access_log):
    """A worker that puts its key in the address gets no token and is told why; the access log, for every route of
    the app, keeps the path and nothing of the query: no key, no code, no entry, no '?'."""
    with app.app_context():
        entry = make_entry_token(IN_SCOPE, "Anna de Boer", "nl", "https://app.out-smart.com")
    credentials = {"access_token": EU_KEY, "code": "NL01!code-from-exact-a8f3", "state": "state-7c1d9e",
                   "token": entry}

    for path, method in ((CONNECTION, "GET"), (ACCESS_TOKEN, "POST")):
        path = path.format(account=IN_SCOPE)
        for headers in ({}, EU):  # alone, and beside the right key in the header: refused all the same
            answer = send(live_app, method, path, headers, params={"access_token": EU_KEY})
            assert answer.status_code == 401, answer.text
            assert "never in the address" in refusal(answer)["message"]
            assert "access_token" not in answer.json()
        in_body = send(live_app, method, path, data={"access_token": EU_KEY})
        assert in_body.status_code == 401 and "never in the address or the body" in refusal(in_body)["message"]
    assert send(live_app, "POST", ACCESS_TOKEN.format(account=IN_SCOPE), EU).status_code == 200  # the header works

    # Every route of the app, with credentials in the query.
    values = {"filename": "css/app.css", "attempt_id": "made-up-attempt", "account": IN_SCOPE}
    paths = []
    for rule in app.url_map.iter_rules():
        path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        paths.append(path)
        send(live_app, "GET", path, params=credentials)
    paths.append("/api/v1/nothing-here")
    send(live_app, "GET", "/api/v1/nothing-here", params=credentials)
    # Request lines werkzeug cannot parse (it quotes them in its error) or reads as HTTP/0.9.
    raw = f"/api/v1/accounts/{IN_SCOPE}/connection?access_token={EU_KEY}&token={entry}"
    assert send_raw(live_app, f"GET {raw} two-words HTTP/1.1".encode()).startswith(b"HTTP/1.1 400")
    assert b"400" in send_raw(live_app, f"GET {raw} HTTP/x".encode())  # answered as HTTP/0.9: no status line
    send_raw(live_app, f"GET {raw}".encode())

    assert len(access_log) >= len(paths) + 7, access_log
    for line in access_log:
        assert "?" not in line, line
        for name, value in credentials.items():
            assert value not in line and value[:16] not in line, f"{name} in the access log: {line}"
    for path in paths:
        assert any(f" {path} HTTP/1.1" in line for line in access_log), f"{path} not logged: {access_log[-3:]}"
    assert any("Bad request syntax" in line and f"/api/v1/accounts/{IN_SCOPE}/connection HTTP/1.1" in line
               for line in access_log), access_log[-6:]


# --- 2. a short key ---------------------------------------------------------------------------------------------------

SHORT_KEYS = ["", "k" * 8, "Zq4Nw8Lc2Vt6Rb9Xh3Kd7Mf1Pj5Gs0A"]  # 0, 8 and 31 characters


def launch_env(config: dict, service_keys: str) -> dict:
    """The environment of a production start: the app's settings as variables (app.py ENV_SETTINGS)."""
    names = ("DATABASE_URL", "SECRET_KEY", "EMBED_SECRET", "EXACT_CLIENT_ID", "EXACT_CLIENT_SECRET",
             "EXACT_REDIRECT_URI", "EXACT_BASE_URLS")
    return {**os.environ, **{name: str(config[name]) for name in names}, "TOKEN_KEYS": ",".join(config["TOKEN_KEYS"]),
            "SERVICE_KEYS": service_keys}


@pytest.mark.parametrize("short", SHORT_KEYS, ids=["0", "8", "31"])
def test_a_service_key_under_32_characters_stops_create_app_naming_the_service_never_the_key(empty_app, short):
    config = {"TESTING": True, "SECRET_KEY": "x", "EMBED_SECRET": "x", "TOKEN_KEYS": Fernet.generate_key().decode(),
              "DATABASE_URL": empty_app.config["DATABASE_URL"], "EXACT_CLIENT_ID": "x", "DEMO": False}
    from app import create_app

    with pytest.raises(BadConfiguration) as refused:
        create_app({**config, "SERVICE_KEYS": f"reports:{REPORTS_KEY},sync-worker:{short}"})
    assert str(refused.value).startswith(
        "SERVICE_KEYS: the key of the service 'sync-worker' is shorter than 32 characters")
    if short:
        assert short not in str(refused.value)
    assert REPORTS_KEY not in str(refused.value)
    accepted = create_app({**config, "SERVICE_KEYS": f"sync-worker:{short}{'x' * (32 - len(short))}"})
    assert len(accepted.config["SERVICE_KEYS"]["sync-worker"]) == 32


def test_the_command_line_and_the_launcher_print_the_sentence_and_do_not_start(empty_app):
    """`flask --app app …` and `python app.py` say which service's key is too short, exit 1 and touch nothing."""
    env = launch_env(empty_app.config, f"sync-worker:{'k' * 8}")
    sentence = "SERVICE_KEYS: the key of the service 'sync-worker' is shorter than 32 characters"
    for command in ([os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "app", "db", "upgrade"],
                    [sys.executable, "app.py", "--port", "9"]):
        ran = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 1, (command, ran.stdout, ran.stderr)
        assert ran.stderr.count(sentence) == 1 and "Traceback" not in ran.stderr, ran.stderr
        assert "k" * 8 not in ran.stdout + ran.stderr
    with models.db.connection_context():
        assert models.db.get_tables() == []  # the upgrade never ran


def test_gunicorn_with_an_8_character_key_never_serves_the_token_it_would_guard(app, saved, sim, tmp_path):
    """The production server started with an 8-character key stops at start-up with the sentence: an attacker who
    guesses the key finds nothing listening."""
    short = "k" * 8
    env = launch_env(app.config, f"sync-worker:{short}")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    gunicorn = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}",
         "app:create_app()"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        try:
            output, _ = gunicorn.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            output = "(still running)"
        try:
            answer = requests.post(f"http://127.0.0.1:{port}/api/v1/accounts/{IN_SCOPE}/access-token",
                                   headers={"Authorization": f"Bearer {short}"}, timeout=10)
            got = (answer.status_code, "with a token" if "access_token" in answer.text else "without a token")
        except requests.ConnectionError:
            got = None
    finally:
        if gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
    assert got is None, f"the attacker got an answer: {got}"
    assert gunicorn.returncode not in (None, 0), output
    assert "SERVICE_KEYS: the key of the service 'sync-worker' is shorter than 32 characters" in output, output
    assert short not in output


@pytest.mark.parametrize("keys, accounts, says", [
    (f"sync-eu:{EU_KEY}", "sync-ue=acme-*", "SERVICE_ACCOUNTS names the service 'sync-ue', which SERVICE_KEYS has no "
                                            "key for"),
    (f"sync-eu:{EU_KEY}", "sync-eu=", "SERVICE_ACCOUNTS gives the service 'sync-eu' no account pattern"),
    (f"sync-eu:{EU_KEY}", "acme-*", "SERVICE_ACCOUNTS: entry 1 is not name=pattern|pattern"),
    (f"sync-eu:{EU_KEY},reports:", "", "SERVICE_KEYS: the key of the service 'reports' is shorter"),
    (EU_KEY, "", "SERVICE_KEYS: entry 1 is not name:key"),
    (f"sync-eu:{EU_KEY},reports:{EU_KEY}", "", "SERVICE_KEYS: two services have the same key"),
    (f"sync-eu:{EU_KEY},sync-eu:{REPORTS_KEY}", "", "SERVICE_KEYS names the service 'sync-eu' twice"),
])
def test_service_settings_that_would_leave_a_service_unscoped_or_guessable_stop_start_up(app, keys, accounts, says):
    with pytest.raises(BadConfiguration) as refused:
        configure_services(app, keys, accounts)
    assert str(refused.value).startswith(says), str(refused.value)
    assert EU_KEY not in str(refused.value) and REPORTS_KEY not in str(refused.value)


# --- 3. a key used for another account ------------------------------------------------------------------------------

def test_a_key_asks_only_for_the_accounts_of_its_scope_and_learns_nothing_of_the_others(app, saved, live_app, sim,
                                                                                          caplog):
    """sync-eu (acme-*, beta-*) gets acme-1's token, and for zulu-9 (saved) the very answer an account that does
    not exist gets: no token, no Exact call, nothing changed. reports, named nowhere, still gets every account."""
    before = {row.account: (row.access_token, row.refresh_token, row.status) for row in Connection.select()}
    put_in_refresh_window(sim)  # a token handed out now would first be refreshed at Exact
    sim.clear_calls()
    caplog.set_level(logging.WARNING, logger="views.api")

    refusals = {}
    for account in (OUT_OF_SCOPE, "zulu-does-not-exist", "ACME-1", "acme", "beta", "xacme-1"):
        for method, path in (("GET", CONNECTION), ("POST", ACCESS_TOKEN)):
            answer = send(live_app, method, path.format(account=account), EU)
            assert answer.status_code == 403, (account, answer.text)
            assert refusal(answer)["error"] == "forbidden"
            headers = {name: value for name, value in answer.headers.items() if name not in ("Date", "X-Request-ID")}
            refusals.setdefault(method, set()).add((answer.text, json.dumps(headers, sort_keys=True)))
    assert all(len(answers) == 1 for answers in refusals.values()), refusals  # byte for byte the same
    # A path that would end on another account's name is no route at all.
    for path in (f"/api/v1/accounts/{IN_SCOPE}/../{OUT_OF_SCOPE}/access-token",
                 f"/api/v1/accounts/{IN_SCOPE}%2F..%2F{OUT_OF_SCOPE}/access-token",
                 f"/api/v1/accounts/{IN_SCOPE}/accounts/{OUT_OF_SCOPE}/access-token"):
        host, port = live_app.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("POST", path, headers=EU)
        answer = connection.getresponse()
        body = answer.read()
        connection.close()
        assert answer.status == 404 and b"access_token" not in body, (path, answer.status, body[:200])

    assert sim.calls() == []
    assert {row.account: (row.access_token, row.refresh_token, row.status) for row in Connection.select()} == before
    refused = [record.getMessage() for record in caplog.records if record.name == "views.api"]
    assert len(refused) == 12 and all("'sync-eu'" in line and EU_KEY not in line for line in refused), refused

    mine = send(live_app, "POST", ACCESS_TOKEN.format(account=IN_SCOPE), EU)
    assert mine.status_code == 200
    assert mine.json()["access_token"] == Connection.get(Connection.account == IN_SCOPE).access_token
    assert send(live_app, "GET", CONNECTION.format(account=IN_SCOPE), EU).json()["account"] == IN_SCOPE
    # Not named in SERVICE_ACCOUNTS: every account, so an existing deployment keeps working.
    theirs = send(live_app, "POST", ACCESS_TOKEN.format(account=OUT_OF_SCOPE), REPORTS)
    assert theirs.status_code == 200
    assert theirs.json()["access_token"] == Connection.get(Connection.account == OUT_OF_SCOPE).access_token
    assert send(live_app, "GET", CONNECTION.format(account="nobody"), REPORTS).status_code == 404


# --- 4 and 5. every answer of the API: JSON errors, all described ---------------------------------------------------

@pytest.fixture
def api_answers(app, saved, live_app, sim, tmp_path):
    """Every status the API can answer, provoked for real over HTTP: [(method, route or None, path, response)]."""
    answers = []

    def ask(method, route, account=None, headers=None, path=None, **kwargs):
        path = path or route.format(account=account)
        answer = send(live_app, method, path, headers, **kwargs)
        answers.append((method, route, path, answer))
        return answer

    big_form = {"field": "x" * (2 * 1024 * 1024)}
    for route, method in ((CONNECTION, "GET"), (ACCESS_TOKEN, "POST"), (PROBLEMS, "POST"), (OPENAPI, "GET")):
        keyed = route != OPENAPI
        assert ask(method, route, IN_SCOPE, EU, **({"json": A_REPORT} if route == PROBLEMS else {})).status_code == 200
        assert ask(method, route, IN_SCOPE, EU, params={"q": "a\x00b"}).status_code == 400
        assert ask(method, route, IN_SCOPE, EU, data=big_form).status_code == 413
        if keyed:
            assert ask(method, route, IN_SCOPE).status_code == 401
            assert ask(method, route, IN_SCOPE, {"Authorization": "Bearer " + "k" * 8}).status_code == 401
            assert ask(method, route, OUT_OF_SCOPE, EU).status_code == 403
        for other in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            if other != method:
                assert ask(other, None, path=route.format(account=IN_SCOPE), headers=EU).status_code == 405
    assert ask("GET", CONNECTION, "acme-none", EU).status_code == 404
    for path in ("/api/", "/api/v1", "/api/v2/accounts/acme-1/connection", f"/api/v1/accounts/{IN_SCOPE}",
                 f"/api/v1/accounts/{IN_SCOPE}/connection/", "/api/v1/accounts/acme-1/refresh-token"):
        assert ask("GET", None, path=path, headers=EU).status_code == 404
    assert ask("GET", None, path="/api/v1//openapi.json").status_code == 308
    assert ask("POST", ACCESS_TOKEN, "acme-none", EU).status_code == 409
    assert ask("POST", PROBLEMS, "acme-none", EU, json=A_REPORT).status_code == 404
    assert ask("POST", PROBLEMS, IN_SCOPE, {**EU, "Content-Type": "application/json"}, data="{not json"
               ).status_code == 400
    assert ask("POST", PROBLEMS, IN_SCOPE, EU, json={**A_REPORT, "status": 500}).status_code == 422

    # Exact throttling, down, refusing our client; then a row we cannot read; then the grant revoked.
    put_in_refresh_window(sim)
    for kind, status in (("429", 429), ("503", 503)):
        sim.fault("oauth2/token", kind, reset_in=30)
        assert ask("POST", ACCESS_TOKEN, IN_SCOPE, EU).status_code == status
        sim.fault("oauth2/token", kind, reset_in=30)
        assert ask("POST", PROBLEMS, IN_SCOPE, EU, json=A_REPORT).status_code == status
    sim.settings(client_secret="not-" + CLIENT_SECRET)
    assert ask("POST", ACCESS_TOKEN, IN_SCOPE, EU).status_code == 502
    assert ask("POST", PROBLEMS, IN_SCOPE, EU, json=A_REPORT).status_code == 502
    sim.settings(client_secret=CLIENT_SECRET)
    kept = Connection.get(Connection.account == IN_SCOPE).settings
    models.db.execute_sql(f'UPDATE "{Connection._meta.table_name}" SET settings = {models.db.param} '
                          f'WHERE account = {models.db.param}', ("{not json", IN_SCOPE))
    assert ask("GET", CONNECTION, IN_SCOPE, EU).status_code == 500
    assert ask("POST", ACCESS_TOKEN, IN_SCOPE, EU).status_code == 500
    assert ask("POST", PROBLEMS, IN_SCOPE, EU, json=A_REPORT).status_code == 500
    Connection.update(settings=kept).where(Connection.account == IN_SCOPE).execute()
    static_folder, app.static_folder = app.static_folder, str(tmp_path)  # the description's file is gone
    assert ask("GET", OPENAPI).status_code == 500
    app.static_folder = static_folder
    sim.revoke(JAN)
    assert ask("POST", ACCESS_TOKEN, IN_SCOPE, EU).status_code == 409
    assert ask("POST", PROBLEMS, IN_SCOPE, EU, json=A_REPORT).status_code == 409  # expired: nothing to check
    return answers


def test_every_api_error_is_json_in_words_with_the_security_headers(api_answers, live_app):
    """401, 400, 403, 404 (also for addresses that do not exist), 405, 409, 413, 429, 500, 502, 503: the Problem
    shape, application/json, CSP, nosniff, no-store. Outside /api/ the error pages stay HTML."""
    statuses = set()
    for method, _route, path, answer in api_answers:
        statuses.add(answer.status_code)
        where = f"{method} {path} -> {answer.status_code}"
        if answer.status_code >= 400:
            body = refusal(answer)
            assert set(body) <= {"error", "message", "state", "reset_at"}, where
            assert "Traceback" not in answer.text and "<html" not in answer.text.lower(), where
        assert "frame-ancestors" in answer.headers.get("Content-Security-Policy", ""), where
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", where
        assert "no-store" in answer.headers.get("Cache-Control", ""), where
        if answer.status_code == 405:
            assert set(answer.headers["Allow"].replace(" ", "").split(",")) in ({"GET", "HEAD"}, {"POST"}), where
            assert method in refusal(answer)["message"], where
        if answer.status_code in (429, 503):
            assert int(answer.headers["Retry-After"]) >= 1 and answer.json()["reset_at"] > time.time(), where
    assert statuses >= {200, 308, 400, 401, 403, 404, 405, 409, 413, 429, 500, 502, 503}, statuses

    for method, path, status in (("GET", "/nothing-here", 404), ("PUT", "/integraties", 405),
                                 ("GET", "/apix/v1/openapi.json", 404)):
        page = send(live_app, method, path)
        assert page.status_code == status and page.headers["Content-Type"].startswith("text/html"), path


def test_the_description_lists_every_route_and_every_status_the_api_answers(app, api_answers, client):
    """static/openapi.json: every /api/v1 route and method of the app and nothing else; for each operation exactly
    the statuses it answered above; for requests outside the operations (unknown address, other method, doubled
    slashes) the statuses in x-responses-outside-operations; the scope rule in words."""
    spec = client.get(OPENAPI).json
    described = {(path, method.upper()) for path, operations in spec["paths"].items() for method in operations}
    routed = {(rule.rule.replace("<account>", "{account}"), method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed

    answered = {}
    for method, route, _path, answer in api_answers:
        key = (route, method) if route else "outside"
        answered.setdefault(key, set()).add(str(answer.status_code))
    outside = answered.pop("outside")
    assert set(answered) == routed
    for (path, method), statuses in answered.items():
        assert set(spec["paths"][path][method.lower()]["responses"]) == statuses, (path, method)
    assert set(spec["x-responses-outside-operations"]) == outside
    for responses in [operation["responses"] for operations in spec["paths"].values()
                      for operation in operations.values()] + [spec["x-responses-outside-operations"]]:
        for status, response in responses.items():
            if "$ref" in response:
                response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            assert response["description"], status
            if status >= "400":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "SERVICE_ACCOUNTS" in spec["info"]["description"] and "403" in spec["info"]["description"]
