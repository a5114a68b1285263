"""The production path, end to end, as OutSmart would run it (README: Run in production).

On the database DATABASE_URL names: the migrations (`flask --app app db upgrade`); the simulated Exact Online as a
process of its own (`python -m exact_sim`); gunicorn with 2 workers, gunicorn.conf.py and the production configuration
(credentials, keys and secrets from the environment, APP_URL, secure cookies, LOG_FORMAT=json, metrics across the
workers). Through it, over HTTP as the admin's browser inside OutSmart's iframe does it: the signed entry (made by
`flask --app app embed-url`), the country, the simulator's login form and consent, the administration, the settings,
the check and Opslaan; then the token API as a synchronisation worker asks it, /healthz, /readyz and /metrics (which
must count every call the setup made to Exact, as the simulator logged them); finally every log line must be one JSON
object, with no query string and no token or secret in it. gunicorn and the simulator are stopped either way.

    python tests/smoke_production.py --database-url postgresql://outsmart:outsmart@127.0.0.1:5432/outsmart_smoke

Exits 0 when everything held, 1 (saying what failed) otherwise. `--empty-first` drops every table of that database
first (for a database reused between runs; CI creates a fresh one). Not collected by pytest; tests/test_production.py
uses its parts against the suite's own simulator and database.
"""
import argparse
import base64
import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
ACCOUNT = "smoke-acme"
JAN = "jan@bakker-installatie.nl"  # exact_sim/seed.py: administration 101 is his current one
PASSWORD = "demo"
DIVISION = 101
SERVICE = "sync-smoke"
# Every log line carries these (views/logs.py); the access line of a request has them all filled in.
LOG_FIELDS = ("time", "level", "logger", "message", "request_id", "account", "route", "status", "duration_ms")


class SmokeFailed(AssertionError):
    """A check of the production path failed: the message says which and what was seen."""


def check(condition, message: str) -> None:
    if not condition:
        raise SmokeFailed(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the production configuration and the processes ------------------------------------------------------------

def production_environment(database_url: str, app_url: str, exact_base_urls: str, metrics_dir: str) -> dict:
    """The environment gunicorn, `db upgrade`, `embed-url` and keep-alive get: every key and secret its own random
    value, the simulator's app registration as Exact's (exact_sim/settings.py), nothing of the demo's."""
    from cryptography.fernet import Fernet

    from exact_sim.server import CLIENT_ID
    from exact_sim.server import CLIENT_SECRET

    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("EXACT_", "WEBHOOK_", "SERVICE_", "PROMETHEUS_", "GUNICORN_"))
           and name not in ("DEFAULT_ACCOUNT", "DATABASE_URL", "SECRET_KEY", "TOKEN_KEYS", "EMBED_SECRET", "APP_URL",
                            "TRUSTED_HOSTS", "HOST_ORIGINS", "LOG_FORMAT", "LOG_LEVEL", "METRICS_ALLOW", "PROXY_FIX",
                            "WEB_CONCURRENCY")}
    env.update({
        "DATABASE_URL": database_url,
        "APP_URL": app_url,
        "SECRET_KEY": secrets.token_hex(32),
        "EMBED_SECRET": secrets.token_hex(32),
        "TOKEN_KEYS": Fernet.generate_key().decode(),
        "EXACT_CLIENT_ID": CLIENT_ID,
        "EXACT_CLIENT_SECRET": CLIENT_SECRET,
        "EXACT_REDIRECT_URI": app_url + "/exact/callback",
        "EXACT_BASE_URLS": exact_base_urls,
        "HOST_ORIGINS": "https://app.out-smart.com",
        "SERVICE_KEYS": f"{SERVICE}:{secrets.token_urlsafe(32)}",
        "WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def secrets_of(env: dict) -> dict[str, str]:
    """The values no log line, page or answer may carry, by name."""
    found = {name: env[name] for name in ("SECRET_KEY", "EMBED_SECRET", "TOKEN_KEYS", "EXACT_CLIENT_SECRET",
                                          "WEBHOOK_SECRET") if env.get(name)}
    found["service key"] = env["SERVICE_KEYS"].partition(":")[2]
    return found


def flask(env: dict, *args: str) -> str:
    """`flask --app app …` as an operator runs it; its output, or SmokeFailed with it."""
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    check(done.returncode == 0, f"flask {' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}")
    return done.stdout


class Process:
    """A server process of its own (its own process group), stopped with SIGTERM, then SIGKILL."""

    def __init__(self, command: list[str], env: dict, log_path: Path, url: str, ready_path: str):
        self.url = url
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=self._log,
                                        start_new_session=True)
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(url + ready_path, timeout=5, headers={"Connection": "close"}).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.time() > deadline:
                self.stop()
                raise SmokeFailed(f"{command[0]} did not start: {log_path.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def start_gunicorn(env: dict, port: int, log_path: Path, *extra: str) -> Process:
    """gunicorn as in production: gunicorn.conf.py (2 workers from WEB_CONCURRENCY, threads, JSON logs, metrics)."""
    command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-b", f"127.0.0.1:{port}", *extra,
               "app:create_app()"]
    return Process(command, env, log_path, f"http://127.0.0.1:{port}", "/healthz")


def start_simulator(port: int, redirect_uri: str, log_path: Path) -> Process:
    """The simulated Exact Online as its own process, in test mode (its call log at /_sim/calls)."""
    command = [sys.executable, "-m", "exact_sim", "--port", str(port), "--mode", "test", "--redirect-uri", redirect_uri]
    return Process(command, {**os.environ, "PYTHONUNBUFFERED": "1"}, log_path, f"http://127.0.0.1:{port}",
                   "/_sim/settings")


# --- the admin's browser ---------------------------------------------------------------------------------------

class Form:
    def __init__(self, action: str):
        self.action = action
        self.fields: list[tuple[str, str]] = []
        self.options: dict[str, list[str]] = {}

    def data(self, **changes) -> list[tuple[str, str]]:
        """The fields as the browser submits them untouched, with `changes` in place of (or beside) them."""
        return [(name, value) for name, value in self.fields if name not in changes] + list(changes.items())


class Forms(HTMLParser):
    """The forms of a page and what a browser submits from each as the page shows it: hidden and text inputs, ticked
    boxes and radios, each select's selected option (else its first). Submit buttons send nothing (the admin presses
    the unnamed primary one)."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._chosen = False
        self.feed(html)
        self.close()

    def of(self, action_path: str) -> Form:
        for form in self.forms:
            if urlsplit(form.action).path == action_path:
                return form
        raise SmokeFailed(f"no form posting to {action_path} on the page (forms: {[f.action for f in self.forms]})")

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "form":
            self._form = Form(attributes.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self._form.fields.append((name, attributes.get("value", "on")))
            elif kind not in ("submit", "button", "reset", "image", "file"):
                self._form.fields.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select, self._chosen = name, False
            self._form.options[name] = []
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            self._form.options[self._select].append(value)
            if "selected" in attributes and not self._chosen:
                self._form.fields = [(n, v) for n, v in self._form.fields if n != self._select]
                self._form.fields.append((self._select, value))
                self._chosen = True
            elif len(self._form.options[self._select]) == 1:
                self._form.fields.append((self._select, value))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


class Browser:
    """The admin's browser in OutSmart's iframe: htmx sends the page's X-Session and X-CSRFToken with every request
    (the iframe may have no cookie at all); the login goes to Exact in the page itself and comes back. Every request
    on a connection of its own, as through a load balancer."""

    def __init__(self, app_url: str):
        self.app_url = app_url
        self.http = requests.Session()
        self.http.headers["Connection"] = "close"
        self.seen_in_addresses: list[str] = []  # the entry, Exact's code and state: they must reach no log

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.http.get(urljoin(self.app_url, url), allow_redirects=False, timeout=30, **kwargs)

    def post(self, url: str, data, **kwargs) -> requests.Response:
        return self.http.post(urljoin(self.app_url, url), data=data, allow_redirects=False, timeout=30, **kwargs)

    def follow(self, response: requests.Response, status: int = 200) -> requests.Response:
        """Follow redirects on the app, as the browser does; the last answer must have `status`."""
        for _ in range(10):
            if response.status_code not in (301, 302, 303, 307):
                break
            response = self.get(response.headers["Location"])
        expect(response, status)
        return response

    def enter(self, entry_url: str) -> None:
        """OutSmart's signed entry opens the settings in the iframe."""
        self.seen_in_addresses.append(parse_qs(urlsplit(entry_url).query)["token"][0])
        page = expect(self.get(entry_url), 200)
        cookie = page.headers.get("Set-Cookie", "")
        check(all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=None", "Partitioned")),
              "the session cookie is not Secure; HttpOnly; SameSite=None; Partitioned")
        headers = re.search(r"hx-headers='([^']+)'", page.text)
        check(headers is not None, "the entry page carries no hx-headers (X-Session, X-CSRFToken)")
        self.http.headers.update(json.loads(html.unescape(headers.group(1))))

    def log_in_at_exact(self, authorize_url: str, username: str, password: str) -> str:
        """Exact's login page and its consent page (the simulator's), as a person fills them in; returns the way
        back (the app's callback address with Exact's code and state)."""
        exact = requests.Session()
        page = exact.get(authorize_url, timeout=30)
        expect(page, 200)
        login = Forms(page.text).forms[0]
        page = exact.post(urljoin(page.url, login.action), data=login.data(username=username, password=password),
                          timeout=30, allow_redirects=False)
        expect(page, 200)
        consent = Forms(page.text).forms[0]
        check(any(name == "division" for name, _ in consent.fields), "Exact's consent page ticks no administration")
        answer = exact.post(urljoin(page.url, consent.action), data=consent.data(action="allow"), timeout=30,
                            allow_redirects=False)
        expect(answer, 302)
        back = answer.headers["Location"]
        query = parse_qs(urlsplit(back).query)
        self.seen_in_addresses += [query["code"][0], query["state"][0]]
        return back

    def set_up(self, username: str, password: str, division: int, country: str = "nl") -> requests.Response:
        """Every step of the setup, from the country to Opslaan; returns the saved connection's overview."""
        land = Forms(expect(self.get("/exact/land"), 200).text).of("/exact/land")
        going = expect(self.post("/exact/land", land.data(country=country)), 303)
        back = self.log_in_at_exact(going.headers["Location"], username, password)
        check(back.startswith(self.app_url + "/exact/callback?"), f"Exact sent the browser elsewhere: {back[:80]}")
        self.follow(self.get(back))  # the connection details

        page = self.follow(self.get("/exact/administratie"))
        administration = Forms(page.text).of("/exact/administratie")
        self.follow(self.post("/exact/administratie", administration.data(division=str(division))))

        page = self.follow(self.get("/exact/instellingen"))
        settings = Forms(page.text).of("/exact/instellingen")
        chosen = {name: next((value for value in options if value), "") for name, options in settings.options.items()
                  if dict(settings.fields).get(name) == ""}  # "— kies —": the admin picks the first choice
        self.follow(self.post("/exact/instellingen", settings.data(**chosen)))

        page = self.follow(self.get("/exact/controle"))
        save = Forms(page.text).of("/exact/controle")
        return self.follow(self.post("/exact/controle", save.data(confirm="y")))


def expect(response: requests.Response, status: int) -> requests.Response:
    check(response.status_code == status, f"{response.request.method} {urlsplit(response.url).path} answered "
          f"{response.status_code}, not {status}: {response.text[:400]}")
    return response


# --- what the machines see -------------------------------------------------------------------------------------

def scrape(app_url: str, headers: dict | None = None) -> dict[tuple[str, tuple], float]:
    """/metrics, as {(sample name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    answer = requests.get(app_url + "/metrics", timeout=30, headers={"Connection": "close", **(headers or {})})
    expect(answer, 200)
    check(answer.headers["Content-Type"].startswith("text/plain"), f"/metrics is {answer.headers['Content-Type']}")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def total(samples: dict, name: str, **labels) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and labels.items() <= dict(sample_labels).items())


def exact_calls_counted(samples: dict) -> Counter:
    """The app's calls to Exact by (endpoint, status), as /metrics counts them."""
    return Counter({(dict(labels)["endpoint"], dict(labels)["status"]): int(value)
                    for (name, labels), value in samples.items() if name == "outsmart_exact_calls_total" and value})


def exact_calls_logged(calls: list[dict]) -> Counter:
    """The app's calls to Exact by (endpoint, status), as the simulator logged them (not the browser's login pages)."""
    return Counter((call["endpoint"], str(call["status"])) for call in calls if call["kind"] != "auth")


def json_log_lines(path: Path) -> list[dict]:
    """Every line of the log, each one JSON object with the fields views/logs.py promises; SmokeFailed otherwise."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            raise SmokeFailed(f"log line {number} is not JSON: {line[:200]}") from None
        check(isinstance(entry, dict), f"log line {number} is not a JSON object: {line[:200]}")
        missing = [field for field in LOG_FIELDS if field not in entry]
        check(not missing, f"log line {number} lacks {missing}: {line[:300]}")
        lines.append(entry)
    return lines


def check_log(path: Path, never: dict[str, str]) -> list[dict]:
    """The log as JSON lines: access lines carry their request's fields and paths without a query; no line carries
    a token, a secret, an entry or a code (`never`: name -> value). Returns the lines."""
    lines = json_log_lines(path)
    text = path.read_text()
    for name, value in never.items():
        check(value not in text and value[:16] not in text, f"the log carries {name}")
    check("?" not in "".join(str(entry.get("path") or "") for entry in lines), "a logged path carries a query string")
    access = [entry for entry in lines if entry["logger"] == "access"]
    check(access, "no access lines in the log")
    for entry in access:
        check(entry["request_id"] and entry["status"] and entry["duration_ms"] is not None and entry["path"],
              f"an access line lacks its request's fields: {entry}")
    return lines


# --- the run ---------------------------------------------------------------------------------------------------

def empty_database(database_url: str) -> None:
    """Drop every table of the database (a reused smoke database starts as CI's fresh one)."""
    from playhouse.db_url import connect

    database = connect(database_url)
    tables = database.get_tables()
    if tables:
        database.execute_sql("DROP TABLE %s CASCADE" % ", ".join(f'"{table}"' for table in tables))
    database.close()


def run(database_url: str, work: Path) -> None:
    """Everything above, in order; raises SmokeFailed on the first failure. Stops what it started either way."""
    app_port, sim_port = free_port(), free_port()
    app_url, sim_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sim_port}"
    base_urls = ",".join(f"{cc}={sim_url}/{cc}" for cc in ("nl", "be", "de", "uk", "us", "es", "fr"))
    env = production_environment(database_url, app_url, base_urls, str(work / "metrics"))
    step("migrations on the database", flask(env, "db", "upgrade").strip().replace("\n", "; "))
    check("pending" not in flask(env, "db", "status"), "a migration is still pending after db upgrade")

    simulator = start_simulator(sim_port, env["EXACT_REDIRECT_URI"], work / "simulator.log")
    gunicorn = None
    try:
        gunicorn = start_gunicorn(env, app_port, work / "gunicorn.log")
        step("gunicorn", f"2 workers on {app_url}, simulator on {sim_url}")
        expect_json(requests.get(app_url + "/healthz", timeout=10), 200, status="alive")
        expect_json(requests.get(app_url + "/readyz", timeout=10), 200, status="ready")
        step("/healthz, /readyz", "alive, ready")

        entry_url = flask(env, "embed-url", ACCOUNT, "--user", "Smoke Test").strip()
        check(entry_url.startswith(app_url + "/embed?token="), f"embed-url printed {entry_url[:60]}")
        browser = Browser(app_url)
        browser.enter(entry_url)
        overview = browser.set_up(JAN, PASSWORD, DIVISION)
        check("Bakker Installatietechniek" in overview.text, "the overview does not name the saved administration")
        step("setup over HTTP", f"{ACCOUNT}: entry, country, Exact's login, administration {DIVISION}, settings, "
             "check, Opslaan")

        key = env["SERVICE_KEYS"].partition(":")[2]
        auth = {"Authorization": f"Bearer {key}", "Connection": "close"}
        connection = expect(requests.get(f"{app_url}/api/v1/accounts/{ACCOUNT}/connection", headers=auth,
                                         timeout=30), 200).json()
        check(connection["state"] == "saved" and connection["administration"]["code"] == DIVISION,
              f"the token API describes {connection}")
        token = expect(requests.post(f"{app_url}/api/v1/accounts/{ACCOUNT}/access-token", headers=auth,
                                     timeout=30), 200).json()
        check(token["division"] == DIVISION and len(token["access_token"]) > 20, "the token API gave no token")
        step("token API", f"connection saved, administration {DIVISION}; a token")

        samples = scrape(app_url)
        logged = exact_calls_logged(requests.get(sim_url + "/_sim/calls", timeout=30).json())
        counted = exact_calls_counted(samples)
        check(counted == logged, f"/metrics counts Exact calls {sorted(counted.items())}, the simulator logged "
              f"{sorted(logged.items())}")
        check(total(samples, "outsmart_connections", state="saved") == 1, "/metrics does not count 1 saved connection")
        check(total(samples, "outsmart_database_up") == 1, "/metrics says the database is down")
        check(total(samples, "outsmart_http_requests_total", route="/exact/controle", method="POST", status="303") == 1,
              "/metrics does not count the one Opslaan")
        step("/metrics", f"{sum(counted.values())} Exact calls counted as the simulator logged them "
             f"({', '.join(f'{endpoint} {status}: {n}' for (endpoint, status), n in sorted(counted.items()))})")
        me = requests.get(f"{sim_url}/nl/api/v1/current/Me", timeout=30, headers={
            "Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"})
        check(me.status_code == 200, "Exact does not accept the token the API handed out")
        step("Exact", "accepts the token the API handed out")
        never = {**secrets_of(env), "the access token": token["access_token"],
                 **{f"address secret {number}": value for number, value in enumerate(browser.seen_in_addresses)}}
    finally:
        if gunicorn is not None:
            gunicorn.stop()
        simulator.stop()
    lines = check_log(work / "gunicorn.log", never)
    step("JSON logs", f"{len(lines)} lines, each one JSON object; no query string, token or secret")


def expect_json(response: requests.Response, code: int, **fields) -> dict:
    expect(response, code)
    body = response.json()
    check(fields.items() <= body.items(), f"{urlsplit(response.url).path} answered {body}")
    return body


def step(what: str, detail: str) -> None:
    print(f"ok  {what}: {detail}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="the database to run on (PostgreSQL in CI)")
    parser.add_argument("--empty-first", action="store_true", help="drop every table of that database first")
    parser.add_argument("--keep", action="store_true", help="keep the logs' folder and print where it is")
    args = parser.parse_args(argv)
    # `timeout` (CI) ends the script with SIGTERM: let the blocks that stop gunicorn and the simulator run.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    work = Path(tempfile.mkdtemp(prefix="smoke-production-"))
    try:
        if args.empty_first:
            empty_database(args.database_url)
        run(args.database_url, work)
    except SmokeFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        print("smoke: 0 passed, 1 failed", flush=True)
        for name in ("gunicorn.log", "simulator.log"):
            if (work / name).exists():
                print(f"--- last lines of {name}", file=sys.stderr)
                print("\n".join((work / name).read_text().splitlines()[-30:]), file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("smoke: 1 passed, 0 failed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
