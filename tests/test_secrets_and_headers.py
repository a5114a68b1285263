"""Secrets stay where they belong over a connection's whole life; every response carries the security headers."""
import html
import http.client
import json
import logging
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet

import models
import outbox
from models import Connection
from models import LoginAttempt
from simhelpers import JAN
from webhook_receiver import Receiver
from webhook_receiver import new_secret
from views.embed import make_entry_token
from wizard_actions import HTMX
from wizard_actions import WizardActions
from wizard_actions import handoff_in
from wizard_actions import path_of
from wizard_actions import popup_to_exact

ACCOUNT = "acme-secrets"
DAY = 86400
TOKEN_API = re.compile(r"/api/v1/accounts/[^/]+/access-token")


# pytest-flask's fixture of this name shares one request context (and `g`, where Flask-WTF keeps the CSRF token)
# between all test-client requests; replaced, each request gets its own, as in production.
@pytest.fixture(autouse=True)
def _push_request_context():
    """Push nothing: every test-client request makes its own context."""


@pytest.fixture
def app(app, sim):
    """The test app with long random secrets that no other text can contain by accident; it tells OutSmart's server
    (a receiver in a thread) of every change, signed with WEBHOOK_SECRET."""
    client_secret = "cs-" + secrets.token_urlsafe(32)
    sim.settings(client_secret=client_secret)
    receiver = Receiver(new_secret()).start()
    app.config.update(SECRET_KEY=secrets.token_hex(32), EMBED_SECRET=secrets.token_hex(32),
                      EXACT_CLIENT_SECRET=client_secret, SERVICE_KEYS={"sync-worker": secrets.token_urlsafe(32)},
                      WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=receiver.secret)
    outbox.configure(receiver.url, receiver.secret)
    app.extensions["webhook_receiver"] = receiver
    yield app
    outbox.configure(None, None)
    receiver.stop()


def entry_url(app, account=ACCOUNT):
    """OutSmart's signed entry for the account, as a path."""
    with app.app_context():
        return f"/embed?token={make_entry_token(account, 'Anna de Boer', 'nl', 'https://app.out-smart.com')}"


# --- what the app said, logged and stored ----------------------------------------------------------------------------

@dataclass
class Sent:
    """One response as it left the app."""

    method: str
    path: str
    status: str
    headers: list
    body: bytes

    def head_text(self) -> str:
        """Status line and headers, one per line."""
        return self.status + "\n" + "\n".join(f"{name}: {value}" for name, value in self.headers)


class Recorder:
    """WSGI middleware that keeps every response the app sends, whoever asked (test client or real HTTP)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        started = {}

        def recording_start_response(status, headers, exc_info=None):
            started.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info)

        iterable = self.wsgi_app(environ, recording_start_response)
        try:
            body = b"".join(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
        with self._lock:
            self.sent.append(Sent(environ["REQUEST_METHOD"], environ["PATH_INFO"], started["status"],
                                  started["headers"], body))
        return [body]


class EveryRecord(logging.Handler):
    """Every log record of every logger and thread, formatted with its traceback, as a DEBUG log file holds it."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(threadName)s %(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.loggers: set[str] = set()

    def emit(self, record):
        self.lines.append(self.format(record))
        self.loggers.add(record.name)


# Levels the app itself sets on library loggers are left alone: an operator who turns on DEBUG gets exactly this.
@pytest.fixture
def debug_log():
    """Root at DEBUG with a handler that keeps everything, also from loggers that do not propagate."""
    root = logging.getLogger()
    handler = EveryRecord()
    isolated = [logger for logger in logging.root.manager.loggerDict.values()
                if isinstance(logger, logging.Logger) and not logger.propagate]
    old_level = root.level
    root.setLevel(logging.DEBUG)
    for logger in [root, *isolated]:
        logger.addHandler(handler)
    yield handler
    for logger in [root, *isolated]:
        logger.removeHandler(handler)
    root.setLevel(old_level)


def issued_by_exact(sim) -> dict[str, set[str]]:
    """Every authorization code, access token and refresh token the simulator issued, from its own grant store."""
    simulator = sim.app.extensions["exact_sim"]
    with simulator.lock:
        grants = simulator.grants
        return {"authorization code": set(grants.codes),
                "access token": set(grants.access_tokens),
                "refresh token": {token for chain in grants.chains.values() for token in chain.issued}}


def fragments(value: str) -> set[str]:
    """The value, and for long ones its head and tail: a truncated or URL-encoded copy is still a leak."""
    value = value.rstrip("=")
    return {value} if len(value) < 48 else {value, value[:24], value[-24:]}


def leaks(text, needles: dict[str, set[str]]) -> list[str]:
    """Which secrets (kind and head) occur in `text` (str or bytes)."""
    found = []
    for kind, values in needles.items():
        for value in values:
            for fragment in fragments(value):
                probe = fragment.encode() if isinstance(text, bytes) else fragment
                if probe in text:
                    found.append(f"{kind} {value[:12]}…")
                    break
    return found


# PostgreSQL's files are out of reach; every column of every row, as SQL returns it, is what a dump would contain.
def database_contents(app, raw_sqlite) -> bytes:
    """SQLite: the database file and its -wal and -shm files; PostgreSQL: every row of every table as text."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        contents = b""
        for suffix in ("", "-wal", "-shm"):
            try:
                with open(path + suffix, "rb") as handle:
                    contents += handle.read()
            except FileNotFoundError:
                pass
        return contents
    with models.db.connection_context():
        tables = [row[0] for row in models.db.execute_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
        rows = [row[0] for table in tables
                for row in models.db.execute_sql(f'SELECT t::text FROM "{table}" t').fetchall()]
    return "\n".join(rows).encode()


@pytest.fixture
def raw_sqlite(app):
    """On SQLite, a second connection held open all test long: the -wal file then stays on disk to be read too."""
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        yield None
        return
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
    yield connection
    connection.close()


# http.client logs nothing itself, so every log line about these requests comes from the server's side.
def browser_get(url: str, cookies: dict[str, str]) -> tuple[int, str | None]:
    """GET a URL as a browser would, over real HTTP with these cookies, following nothing; status and Location."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}",
                           headers={"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


def make_due(sim):
    """The stored access token nearly expired, here and at Exact (590 s after it was issued at both)."""
    now = time.time()
    Connection.update(token_issued_at=now - 590, token_expires_at=now + 10).execute()
    sim.advance(590)


def test_no_secret_leaks_in_logs_pages_or_the_database_over_a_connections_life(app, client, sim, live_app, debug_log,
                                                                                raw_sqlite, capsys):
    """A whole life leaves no code, token or key in logs, output, responses (bar the token API's body) or database."""
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder
    wizard = WizardActions(client, sim)
    cli = app.test_cli_runner()
    cli_output = []
    service = {"Authorization": f"Bearer {app.config['SERVICE_KEYS']['sync-worker']}"}
    token_api = f"/api/v1/accounts/{ACCOUNT}/access-token"
    session_cookie = app.config["SESSION_COOKIE_NAME"]

    def page_login():
        """Page mode; Exact sends the browser back to the real server, whose access log sees the callback."""
        callback = sim.login(wizard.start_login(), JAN)
        status, location = browser_get(callback, {session_cookie: client.get_cookie(session_cookie).value})
        assert status == 303, status
        assert client.get(path_of(location)).status_code == 200

    # Inside OutSmart: the signed entry, then the login in page mode, administration, settings, Opslaan.
    assert client.get(entry_url(app)).status_code == 200
    page_login()
    assert wizard.choose(101).status_code == 303
    assert client.get("/exact/administratie").status_code == 200
    assert wizard.configure().status_code == 303
    assert client.get("/exact/controle").status_code == 200
    assert wizard.save().status_code == 303
    assert client.get("/exact").status_code == 200

    # A worker takes the token; then refreshes: in the token API, in a page, by keep-alive.
    assert client.get(f"/api/v1/accounts/{ACCOUNT}/connection", headers=service).status_code == 200
    assert client.post(token_api, headers=service).status_code == 200
    first = Connection.get().refresh_token
    make_due(sim)
    assert client.post(token_api, headers=service).status_code == 200
    make_due(sim)
    assert client.post("/exact/instellingen/vernieuwen", headers=HTMX).status_code == 303
    Connection.update(token_issued_at=time.time() - 21 * DAY).execute()
    sim.advance(21 * DAY)
    cli_output.append(cli.invoke(args=["keep-alive"]).output)
    assert "refreshed 1, skipped 0 (another runner had them), failed 0" in cli_output[-1]
    assert Connection.get().refresh_token != first
    # A worker reports a 401: the app checks it itself (current/Me, after the refresh that is due by then).
    make_due(sim)
    report = {"status": 401, "endpoint": "101/crm/Accounts", "reason": None}
    answer = client.post(f"/api/v1/accounts/{ACCOUNT}/connection/problems", headers=service, json=report)
    assert answer.json["outcome"] == "refreshed"

    # The operator rotates the key that encrypts tokens at rest.
    app.config["TOKEN_KEYS"] = [Fernet.generate_key().decode(), *app.config["TOKEN_KEYS"]]
    cli_output.append(cli.invoke(args=["rotate-token-keys"]).output)
    assert "re-encrypted the tokens of 1 connections" in cli_output[-1]

    # Exact failing: a 500 and a broken body on a page, a broken and a failed refresh, a 401 (a wait), then a revoked
    # grant that expires us.
    for kind in ("500", "malformed"):
        sim.fault("financial/Journals", kind)
        assert client.post("/exact/instellingen/vernieuwen").status_code == 503
    for kind in ("malformed", "500"):
        make_due(sim)
        sim.fault("oauth2/token", kind)
        assert client.post(token_api, headers=service).status_code == 503
    sim.fault("financial/Journals", "401")
    assert client.post("/exact/instellingen/vernieuwen").status_code == 503
    sim.revoke(JAN)
    make_due(sim)
    assert client.post("/exact/instellingen/vernieuwen").status_code == 401
    assert Connection.get().status == Connection.EXPIRED

    # Reconnect in popup mode: the popup is its own browser window, tied to the attempt by its own cookie.
    attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    popup_cookie = popup.get_cookie(f"exact_login_{attempt.id}", path="/exact/callback")
    status, done = browser_get(sim.login(authorize, JAN), {popup_cookie.key: popup_cookie.value})
    assert status == 303 and done.endswith(f"/exact/callback/{attempt.id}/klaar")  # shown without the code
    assert client.get(f"/exact/login/{attempt.id}/status", headers=HTMX).status_code == 303
    assert Connection.get().status == Connection.SAVED

    # Disconnect, connect again from scratch, save, and hand out the new token.
    assert client.post("/exact/verbreken").status_code == 303
    assert Connection.get().refresh_token is None
    page_login()
    assert wizard.choose(101).status_code == 303
    assert wizard.configure().status_code == 303
    assert wizard.save().status_code == 303
    assert client.post(token_api, headers=service).status_code == 200

    # OutSmart's server was told of each change (connected, saved, expired, …) by the app's deliverer thread.
    deadline = time.monotonic() + 30
    while models.OutboxEvent.select().where(models.OutboxEvent.state != models.OutboxEvent.DELIVERED).exists():
        assert time.monotonic() < deadline, "events still waiting for OutSmart"
        time.sleep(0.01)
    told = app.extensions["webhook_receiver"].acknowledged()
    assert [one.payload["type"].removeprefix("connection.") for one in told] == [  # each verified with the secret
        "connected", "saved", "expired", "connected", "disconnected", "connected", "saved"]

    issued = issued_by_exact(sim)
    config = app.config
    ours = {"EXACT_CLIENT_SECRET": {config["EXACT_CLIENT_SECRET"]}, "TOKEN_KEYS": set(config["TOKEN_KEYS"]),
            "SECRET_KEY": {config["SECRET_KEY"]}, "EMBED_SECRET": {config["EMBED_SECRET"]},
            "SERVICE_KEYS": set(config["SERVICE_KEYS"].values()),
            "WEBHOOK_SECRET": {config["WEBHOOK_SECRET"], config["WEBHOOK_SECRET"].removeprefix("whsec_")}}
    everything = {**issued, **ours}
    # The life above really issued what it claims: 3 logins, 5 refreshes (the page before the 401 refreshed first).
    assert (len(issued["authorization code"]), len(issued["access token"]), len(issued["refresh token"])) == (3, 8, 8)

    # The database: the stored data is there to be read, the secrets are not.
    stored = database_contents(app, raw_sqlite)
    assert b"Bakker Installatietechniek" in stored and ACCOUNT.encode() in stored
    assert not leaks(stored, everything), f"{leaks(stored, everything)} in the database"

    # Pages and headers: nothing but the token API's body carries an access token; it does carry it.
    handed_out = [sent for sent in recorder.sent if sent.method == "POST" and TOKEN_API.fullmatch(sent.path)
                  and sent.status.startswith("200")]
    assert handed_out and all(json.loads(sent.body)["access_token"] in issued["access token"] for sent in handed_out)
    for sent in recorder.sent:
        found = leaks(sent.head_text(), everything)
        assert not found, f"{found} in the headers of {sent.method} {sent.path}"
        allowed = {"access token"} if any(sent is given for given in handed_out) else set()
        found = leaks(sent.body, {kind: values for kind, values in everything.items() if kind not in allowed})
        assert not found, f"{found} in the body of {sent.method} {sent.path} ({sent.status})"

    # What OutSmart's server received: its headers and bodies.
    for one in told:
        found = leaks(json.dumps(one.headers) + one.body.decode(), everything)
        assert not found, f"{found} in the event {one.payload['type']} sent to OutSmart"

    # Logs: the capture saw the libraries' chatter, the real server's request lines and the app's own warnings.
    assert {"werkzeug", "urllib3.connectionpool", "peewee", "views.errors"} <= debug_log.loggers, debug_log.loggers
    assert any("/exact/callback" in line for line in debug_log.lines)
    leaking = [(leaks(line, everything), line[:160]) for line in debug_log.lines if leaks(line, everything)]
    assert not leaking, f"secrets in {len(leaking)} log lines, e.g. {leaking[:3]}"
    captured = capsys.readouterr()
    output = "\n".join([*cli_output, captured.out, captured.err])
    assert not leaks(output, everything), f"secrets in the output: {leaks(output, everything)}"


# --- headers on every response ---------------------------------------------------------------------------------------

# Script sources that would let injected markup run script: inline code, eval, or any host or scheme at all.
UNSAFE_SCRIPT_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "blob:", "http:",
                         "https:"}
SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
ONE_YEAR = 365 * DAY
BOOM = "/test-only/boom"


def directives(response) -> dict[str, list[str]]:
    """The Content-Security-Policy's directives and their sources."""
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.split()}


def assert_security_headers(response, https: bool):
    """CSP, nosniff, Referrer-Policy, HSTS on HTTPS only, and no caching of anything but static files."""
    where = f"{response.request.method} {response.request.url} -> {response.status_code}"
    policy = directives(response)
    assert policy.get("frame-ancestors"), where
    assert policy.get("script-src") and not UNSAFE_SCRIPT_SOURCES & set(policy["script-src"]), where
    assert not UNSAFE_SCRIPT_SOURCES & set(policy.get("default-src", ["*"])), where
    assert policy.get("object-src") == ["'none'"] and policy.get("base-uri") in (["'none'"], ["'self'"]), where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in SAFE_REFERRER_POLICIES, where
    hsts = response.headers.get("Strict-Transport-Security")
    if https:
        max_age = re.search(r"max-age=(\d+)", hsts or "")
        assert max_age and int(max_age[1]) >= ONE_YEAR, where
    else:
        assert hsts is None, where  # HTTPS only: over plain HTTP (the demo on localhost) it means nothing
    if not response.request.path.startswith("/static/"):
        assert "no-store" in response.headers.get("Cache-Control", ""), where


class _Page(HTMLParser):
    """What would run as inline script or inline style: CSP blocks it, so a page relying on it is broken."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on") or name == "style":
                self.found.append(f"<{tag} {name}=…>")
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")


def inline_code(markup: str) -> list[str]:
    """Everything in a page that CSP would block as inline script or style."""
    page = _Page()
    page.feed(markup)
    return page.found


def hx_headers(response) -> dict:
    """The headers htmx sends with every request (CSRF token, session), from <body hx-headers='…'>."""
    found = re.search(r"hx-headers='([^']*)'", response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:300]
    return json.loads(html.unescape(found[1]))


# Every route of app.url_map by GET (page and htmx fragment) and each POST without and with its CSRF token: before
# any entry, inside OutSmart not connected, and saved; then OPTIONS, 404, 405, 422, 401 and a real 500.
@pytest.fixture(params=["http", "https"])
def swept(request, app, client, sim):
    """(https, responses): one response of every kind the app gives, over HTTP or HTTPS."""
    https = request.param == "https"
    base = f"{request.param}://localhost"
    app.config.update(DEFAULT_ACCOUNT=None, PROPAGATE_EXCEPTIONS=False)  # production: an entry is needed; 500s served

    def boom():
        """A bug, only in this test's app."""
        raise RuntimeError("a bug")

    app.add_url_rule(BOOM, "boom", boom)
    responses = []

    def call(method, path, via=client, **kwargs):
        """Send, read and keep one request's response."""
        kwargs.setdefault("headers", {})
        if https:
            kwargs["headers"].setdefault("Referer", f"{base}/exact")  # Flask-WTF checks it on HTTPS POSTs
        response = via.open(path, method=method, base_url=base, **kwargs)
        response.get_data()
        response.close()  # static files: do not leave the file open
        responses.append(response)
        return response

    def every_route(csrf_token, attempt_id, fragments=True):
        """Every route: GET (also as an htmx fragment), POST without and with the CSRF token (and the workers' key)."""
        rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint == "login.disconnect_post")
        for rule in rules:
            values = {"filename": "css/app.css", "attempt_id": attempt_id, "account": ACCOUNT}
            path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
            # /embed ends the visit of the browser that opens it; a browser of its own keeps this one going.
            via = app.test_client() if rule.endpoint == "embed.enter" else client
            if "GET" in rule.methods:
                call("GET", path, via=via)
                if fragments:
                    call("GET", path, via=via, headers=dict(HTMX))
            if "POST" in rule.methods:
                data = {"country": "nl", "confirm": "y", "division": "101"}
                call("POST", path, data=data)
                call("POST", path, data=data, headers={"X-CSRFToken": csrf_token, **service})

    service = {"Authorization": f"Bearer {app.config['SERVICE_KEYS']['sync-worker']}"}
    app.config["WTF_CSRF_ENABLED"] = True
    every_route("no-token", "made-up", fragments=False)
    entered = call("GET", entry_url(app))
    csrf = {"X-CSRFToken": hx_headers(entered)["X-CSRFToken"]}
    started = call("POST", "/exact/land", data={"country": "nl", "popup": "1"}, headers={**csrf, **HTMX})
    attempt = LoginAttempt.get().id
    popup = app.test_client()
    call("GET", f"/exact/login/{attempt}", via=popup)
    call("POST", f"/exact/login/{attempt}", via=popup, data={"handoff": handoff_in(started)})  # its cookie
    every_route(csrf["X-CSRFToken"], attempt)

    app.config["WTF_CSRF_ENABLED"] = False  # the wizard's helpers post without tokens
    assert WizardActions(client, sim).complete(JAN, 101).status_code == 303
    app.config["WTF_CSRF_ENABLED"] = True
    every_route(csrf["X-CSRFToken"], attempt)

    call("OPTIONS", "/exact/land")
    call("GET", "/nothing-here")
    call("GET", "/static/nothing-here.css")
    call("POST", "/integraties", headers=csrf)
    call("POST", "/exact/land", data={"country": "xx"}, headers=csrf)
    call("GET", f"/api/v1/accounts/{ACCOUNT}/connection")
    call("GET", "/integraties", via=app.test_client())
    call("GET", BOOM)
    call("GET", BOOM, headers=dict(HTMX))
    # Refused for trying too often (429): this account's login starts, this address's failed entries.
    for _ in range(10):
        call("POST", "/exact/land", data={"country": "nl"}, headers=csrf)
    call("POST", "/exact/land", data={"country": "nl", "popup": "1"}, headers={**csrf, **HTMX})
    for _ in range(6):
        call("GET", "/embed?token=forged", via=app.test_client())
    call("GET", entry_url(app), via=app.test_client())
    return https, responses


def test_every_response_carries_the_security_headers(swept):
    """CSP with frame-ancestors and no unsafe script, nosniff, Referrer-Policy, HSTS on HTTPS only, no-store."""
    https, responses = swept
    assert {200, 302, 303, 400, 401, 404, 405, 409, 422, 429, 500} <= {response.status_code for response in responses}
    for response in responses:
        assert_security_headers(response, https)


@pytest.mark.parametrize("swept", ["http"], indirect=True)  # the scheme changes no markup
def test_no_page_needs_inline_script_inline_handlers_or_inline_style(swept):
    """CSP allows script and style from our own files only; every page the sweep rendered must work under that."""
    _, responses = swept
    pages = [response for response in responses if response.mimetype == "text/html"]
    assert len({response.request.path for response in pages}) > 15
    for response in pages:
        found = inline_code(response.get_data(as_text=True))
        assert not found, f"{found} in {response.request.method} {response.request.path} ({response.status_code})"


@pytest.mark.parametrize("swept", ["https"], indirect=True)  # as in production; the flags do not depend on it
def test_every_cookie_is_secure_httponly_and_host_only(swept, app):
    """Session cookie also SameSite=None and Partitioned (OutSmart's iframe); the popup's login cookie Lax."""
    _, responses = swept
    cookies = [header for response in responses for header in response.headers.getlist("Set-Cookie")]
    session_cookie = app.config["SESSION_COOKIE_NAME"]
    names = set()
    for header in cookies:
        name = header.split("=", 1)[0]
        attributes = {part.strip().split("=", 1)[0].lower(): part.strip().partition("=")[2]
                      for part in header.split(";")[1:]}
        names.add("exact_login_<attempt>" if name.startswith("exact_login_") else name)
        assert "secure" in attributes and "httponly" in attributes and "domain" not in attributes, header
        if name == session_cookie:
            assert attributes.get("samesite") == "None" and "partitioned" in attributes, header
        else:
            assert attributes.get("samesite") in ("Lax", "Strict"), header
    assert names == {session_cookie, "exact_login_<attempt>"}  # a new cookie must be added here, and checked


# Opened directly (the demo's default account, no entry) the cookie has the same flags; SameSite=None lets other
# sites send it, so every POST that carries it still needs its CSRF token.
def test_standalone_the_session_cookie_is_the_same_and_csrf_stands_in_for_samesite(app):
    """Standalone: the same cookie flags, and a POST with the cookie but without the CSRF token is refused."""
    app.config["WTF_CSRF_ENABLED"] = True
    for base in ("http://localhost", "https://localhost"):
        client = app.test_client()
        response = client.get("/exact/land", base_url=base)
        assert response.status_code == 200
        header = next(value for value in response.headers.getlist("Set-Cookie")
                      if value.startswith(app.config["SESSION_COOKIE_NAME"] + "="))
        flags = {part.strip().lower() for part in header.split(";")[1:]}
        assert {"secure", "httponly", "samesite=none", "partitioned"} <= flags, header
        assert not any(flag.startswith("domain=") for flag in flags), header
        forged = client.post("/exact/land", data={"country": "nl"}, base_url=base,
                             headers={"Referer": f"{base}/exact/land"})
        assert forged.status_code == 400
    assert LoginAttempt.select().count() == 0



def test_the_callback_sends_no_referrer_so_its_code_reaches_no_log(app, client, wizard, sim):
    """The callback's URL carries Exact's code; neither its redirect nor the popup's last page may pass it on."""
    page_mode = client.get(path_of(sim.login(wizard.start_login(), JAN)))
    assert page_mode.status_code == 303 and page_mode.headers["Referrer-Policy"] == "no-referrer"

    _attempt, popup, authorize, _handoff = popup_to_exact(app, client)
    popup_back = popup.get(path_of(sim.login(authorize, JAN)))
    assert popup_back.status_code == 303 and popup_back.headers["Referrer-Policy"] == "no-referrer"
    assert "code" not in popup_back.headers["Location"]  # the popup's last page is at an address without it
    assert client.get("/exact").headers["Referrer-Policy"] == "same-origin"
