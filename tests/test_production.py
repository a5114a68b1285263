"""The production path under gunicorn with 2 workers (gunicorn.conf.py, the production configuration, JSON logs,
metrics across the workers), on the test's database (a temp SQLite file, or PostgreSQL with TEST_DATABASE_URL) and
the suite's simulator: health and readiness (a 503 while a migration is pending), one scrape counting what every
worker answered, a complete setup's Exact calls counted as the simulator logged them, keep-alive from cron counted
in the same scrape, and log lines that are one JSON object each with no query string."""
import datetime
import re
import socket
import subprocess
import time
import uuid

import pytest
import requests

import models
from models import Connection
from simhelpers import JAN
from smoke_production import BIN
from smoke_production import ROOT
from smoke_production import Browser
from smoke_production import check_log
from smoke_production import exact_calls_counted
from smoke_production import exact_calls_logged
from smoke_production import free_port
from smoke_production import json_log_lines
from smoke_production import production_environment
from smoke_production import scrape
from smoke_production import secrets_of
from smoke_production import start_gunicorn
from smoke_production import total
from views.embed import make_entry_token

CLOSE = {"Connection": "close"}  # each request on a connection of its own: any worker may take it


class Production:
    """The app as production runs it: its environment, gunicorn, its log and its metrics directory."""

    def __init__(self, app, sim, tmp_path, *gunicorn_args):
        self.gunicorn_args = gunicorn_args
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.metrics_dir = tmp_path / "metrics"
        self.log_path = tmp_path / "gunicorn.log"
        self.env = production_environment(app.config["DATABASE_URL"], self.url, sim.base_urls_setting,
                                          str(self.metrics_dir))
        # The test's own keys, so that it can sign entries and read the rows the workers write.
        self.env.update(SECRET_KEY=app.config["SECRET_KEY"], EMBED_SECRET=app.config["EMBED_SECRET"],
                        TOKEN_KEYS=",".join(app.config["TOKEN_KEYS"]))
        app.config.update(APP_URL=self.url, EXACT_REDIRECT_URI=self.url + "/exact/callback")
        sim.settings(redirect_uri=self.env["EXACT_REDIRECT_URI"])
        self.server = start_gunicorn(self.env, port, self.log_path, *gunicorn_args)

    def restart(self):
        """Stop gunicorn and start it again, as a deploy does: gunicorn.conf.py empties the metrics directory."""
        self.server.stop()
        self.server = start_gunicorn(self.env, int(self.url.rsplit(":", 1)[1]), self.log_path, *self.gunicorn_args)

    def get(self, path, **headers):
        return requests.get(self.url + path, headers={**CLOSE, **headers}, timeout=30)

    def log(self) -> list[dict]:
        return json_log_lines(self.log_path)

    def flask(self, *args) -> subprocess.CompletedProcess:
        """`flask --app app …` with the production environment (a cron job on the same machine)."""
        return subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=self.env,
                               capture_output=True, text=True, timeout=120)


def raw(production, head: str) -> bytes:
    """Send a request exactly as written (gunicorn's own parser sees it first) and return the start of the answer."""
    host, port = production.url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall((head + "Connection: close\r\n\r\n").encode("latin-1"))
        return connection.recv(64)


@pytest.fixture
def production(app, sim, tmp_path):
    """2 workers, each replaced after 5 requests: one scrape must add up what every process, live or gone, counted."""
    server = Production(app, sim, tmp_path, "--max-requests", "5")
    yield server
    server.server.stop()


def test_two_workers_answer_health_and_readiness_and_one_scrape_counts_every_workers_requests(production):
    assert production.get("/healthz").json() == {"status": "alive"}
    assert production.get("/readyz").json() == {"status": "ready"}

    for _ in range(24):
        assert production.get("/integraties").status_code == 401  # no OutSmart entry: "Open from OutSmart"
    samples = scrape(production.url)
    assert total(samples, "outsmart_http_requests_total", route="/integraties", method="GET", status="401") == 24
    answered_by = {line["pid"] for line in production.log() if line["logger"] == "access"
                   and line["path"] == "/integraties"}
    assert len(answered_by) >= 5, answered_by  # at most 5 requests a process: the scrape added up 5 or more
    assert total(samples, "outsmart_http_request_duration_seconds_count", route="/integraties") == 24
    assert total(samples, "outsmart_database_up") == 1

    # gunicorn's child_exit marks each replaced worker dead: only the live workers' in-progress files remain.
    def files_and_workers():
        files = {int(path.stem.rpartition("_")[2]) for path in production.metrics_dir.glob("gauge_livesum_*.db")}
        children = subprocess.run(["pgrep", "-P", str(production.server.process.pid)], capture_output=True, text=True)
        return files, {int(pid) for pid in children.stdout.split()}

    deadline = time.monotonic() + 30
    while not (found := files_and_workers())[0] <= found[1] and time.monotonic() < deadline:
        time.sleep(0.2)  # a worker that just ended is marked once gunicorn has reaped it
    files, workers = files_and_workers()
    assert files <= workers and len(workers) == 2, (files, workers)  # a worker's file appears with its first request
    assert len(answered_by - workers) >= 3  # workers that are gone, whose requests the scrape counted


def test_readiness_is_503_in_words_while_a_migration_is_pending(production):
    last = models.migration_status(models.db)[-1][0]
    with models.db.connection_context():
        models.db.execute_sql(f"DELETE FROM schema_migration WHERE name = {models.db.param}", (last,))
    try:
        answer = production.get("/readyz")
        assert answer.status_code == 503 and answer.json()["status"] == "not ready"
        assert answer.json()["problems"] == [f"The database is not up to date: 1 migration(s) not applied ({last}). "
                                             "Run `flask --app app db upgrade`."]
        assert production.get("/healthz").status_code == 200  # alive all the same: no reason to restart it
    finally:
        with models.db.connection_context():
            models.db.execute_sql(f"INSERT INTO schema_migration (name, applied) VALUES ({models.db.param}, "
                                  f"{models.db.param})", (last, datetime.datetime.now()))
    assert production.get("/readyz").json() == {"status": "ready"}


def test_log_lines_are_json_with_the_request_id_and_never_a_query_string(production):
    assert production.get("/healthz", **{"X-Request-ID": "lb-probe-42"}).headers["X-Request-ID"] == "lb-probe-42"
    made_up = production.get("/healthz", **{"X-Request-ID": 'forged" id'}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made_up)
    secret = "leak-" + uuid.uuid4().hex
    assert production.get(f"/embed?token={secret}").status_code == 401
    assert production.get(f"/exact/callback?code=NL01!{secret}&state={secret}").status_code in (400, 401)
    # Asked by the machine's own address, as a load balancer does: answered all the same.
    assert production.get("/healthz", Host="10.1.2.3:8000").status_code == 200
    # Requests gunicorn or the app cannot read, with a credential in the query: refused, and its query not logged.
    assert raw(production, f"GET /embed%00?token={secret} HTTP/1.1\r\nHost: evil.example\r\n").startswith(
        b"HTTP/1.1 400")
    assert raw(production, f"GET /exact/callback?code={secret}&state=S\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               ).startswith(b"HTTP/1.1 400")

    lines = check_log(production.log_path, {"the made-up credential": secret})
    by_id = {line["request_id"]: line for line in lines if line["logger"] == "access"}
    assert by_id["lb-probe-42"]["route"] == "/healthz" and by_id["lb-probe-42"]["status"] == 200
    assert by_id[made_up]["path"] == "/healthz"
    assert {line["path"] for line in lines if line["logger"] == "access"} >= {"/embed", "/exact/callback"}
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines)


def test_the_metrics_count_a_complete_setups_exact_calls_and_keep_alive_from_cron(app, sim, tmp_path):
    production = Production(app, sim, tmp_path)  # 2 workers, as configured
    try:
        browser = Browser(production.url)
        with app.app_context():
            browser.enter(f"{production.url}/embed?token={make_entry_token('acme-prod', 'Anna de Boer')}")
        assert "Bakker Installatietechniek" in browser.set_up(JAN, "demo", 101).text
        samples = scrape(production.url)
        assert exact_calls_counted(samples) == exact_calls_logged(sim.calls())
        assert sum(exact_calls_counted(samples).values()) == 12  # README, Benchmarks: a complete setup's calls
        assert total(samples, "outsmart_http_requests_total", route="/exact/controle", method="POST",
                     status="303") == 1
        assert total(samples, "outsmart_connections", state="saved") == 1
        assert total(samples, "outsmart_keep_alive_due_connections") == 0

        # Keep-alive from cron: a connection whose refresh token is 21 days old (and Exact's 570 s past).
        old = time.time() - 21 * 86400
        Connection.update(token_issued_at=old, token_expires_at=old + 600).execute()
        sim.advance(600)
        assert total(scrape(production.url), "outsmart_keep_alive_due_connections") == 1
        run = production.flask("keep-alive")
        assert run.returncode == 0 and "1 due; refreshed 1" in run.stdout, run.stdout + run.stderr
        samples = scrape(production.url)
        assert total(samples, "outsmart_keep_alive_last_run_connections", outcome="refreshed") == 1
        assert total(samples, "outsmart_keep_alive_last_run_connections", outcome="due") == 1
        assert total(samples, "outsmart_keep_alive_connections_total", outcome="refreshed") == 1
        assert total(samples, "outsmart_keep_alive_last_run_needs_operator") == 0
        assert time.time() - 120 < total(samples, "outsmart_keep_alive_last_run_timestamp_seconds") <= time.time()
        assert total(samples, "outsmart_token_refreshes_total", outcome="refreshed") == 1
        assert total(samples, "outsmart_keep_alive_due_connections") == 0
        assert exact_calls_counted(samples) == exact_calls_logged(sim.calls())  # the cron process's call too

        production.restart()  # a deploy: the processes' counts start again, the last run is the database's
        samples = scrape(production.url)
        assert total(samples, "outsmart_keep_alive_connections_total") == 0
        assert total(samples, "outsmart_keep_alive_last_run_connections", outcome="refreshed") == 1
        assert time.time() - 300 < total(samples, "outsmart_keep_alive_last_run_timestamp_seconds") <= time.time()
    finally:
        production.server.stop()
    check_log(production.log_path, secrets_of(production.env))
