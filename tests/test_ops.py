"""/healthz, /readyz and /metrics for the machines that run and watch the app; the request id, the JSON log lines,
PROXY_FIX and METRICS_ALLOW; what the metrics count when Exact fails, throttles or refreshes, and what they read from
the database. In-process (the test client, or the live threaded server for the logs); under gunicorn:
test_production.py."""
import io
import json
import logging
import re
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from views import logs
import models
from app import BadConfiguration
from app import create_app
from conftest import WORKER_KEY
from conftest import app_settings
from models import Connection
from models import OutboxEvent
from simhelpers import JAN
from smoke_production import Browser
from smoke_production import json_log_lines
from views.embed import make_entry_token

AUTH = {"Authorization": f"Bearer {WORKER_KEY}"}
NOT_FOUND = "Deze pagina bestaat niet"
HERE = {"REMOTE_ADDR": "127.0.0.1"}


def metrics_of(client, **environ) -> dict:
    answer = client.get("/metrics", environ_base={**HERE, **environ})
    assert answer.status_code == 200, answer.status_code
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True)) for sample in family.samples}


def value(samples, name, **labels) -> float:
    return sum(found for (sample, sample_labels), found in samples.items()
               if sample == name and labels.items() <= dict(sample_labels).items())


def production_settings(sim, tmp_path, **changes) -> dict:
    """The tests' settings as production has them: no account without OutSmart's entry."""
    return {**app_settings(sim, tmp_path), "DEFAULT_ACCOUNT": None, **changes}


# --- health and readiness ------------------------------------------------------------------------------------------

def test_healthz_answers_without_the_database_and_readyz_says_the_database_does_not(sim, tmp_path):
    app = create_app(production_settings(sim, tmp_path,
                                         DATABASE_URL="postgresql://outsmart:pw-never-shown@127.0.0.1:9/nothing"))
    client = app.test_client()
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["status"] == "not ready"
    assert ready.json["problems"] == ["The database does not answer (OperationalError): check DATABASE_URL and that "
                                      "the database server runs and accepts this machine."]
    assert "pw-never-shown" not in ready.get_data(as_text=True)
    samples = metrics_of(client)  # the scrape still answers, and says the database did not
    assert value(samples, "outsmart_database_up") == 0 and ("outsmart_connections", ()) not in samples
    models.close_all()


def test_a_database_that_takes_the_connection_and_never_answers_makes_readyz_503_not_a_hang(sim, tmp_path):
    """A PostgreSQL address where something accepts and then says nothing (a hung server, a half-open proxy): /readyz
    answers 503 in words after the 5 s connect timeout, and /healthz stays alive meanwhile."""
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    taken = []
    threading.Thread(target=lambda: [taken.append(silent.accept()) for _ in range(8)], daemon=True).start()
    port = silent.getsockname()[1]
    try:
        app = create_app(production_settings(sim, tmp_path, DATABASE_URL=f"postgresql://o:p@127.0.0.1:{port}/x"))
        client = app.test_client()
        answers = []
        asking = threading.Thread(target=lambda: answers.append(client.get("/readyz")), daemon=True)
        asking.start()
        asking.join(30)  # not a speed check: without a connect timeout the answer never comes
        assert answers, "/readyz still waits for the database after 30 s"
        ready = answers[0]
        assert ready.status_code == 503 and "The database does not answer" in ready.json["problems"][0]
        assert taken  # the server did take the connection: libpq gave up on its own
        assert client.get("/healthz").status_code == 200
    finally:
        for connection, _address in taken:
            connection.close()  # ends a wait that never timed out, so a failing run does not hang
        silent.close()
        models.close_all()


def test_readyz_names_every_missing_setting_and_never_a_value(app, tmp_path, sim):
    assert app.test_client().get("/readyz").json == {"status": "ready"}  # the tests' own configuration is complete

    demo = {key: value for key, value in production_settings(sim, tmp_path).items()
            if key not in ("DEMO", "EXACT_CLIENT_ID", "EXACT_CLIENT_SECRET", "APP_URL", "TRUSTED_HOSTS",
                           "SECRET_KEY", "EMBED_SECRET", "TOKEN_KEYS")}
    demo_app = create_app(demo)
    answer = demo_app.test_client().get("/readyz")
    assert answer.status_code == 503
    problems = answer.json["problems"]
    assert problems[0].startswith("EXACT_CLIENT_ID and EXACT_CLIENT_SECRET are not set, so the app runs as the demo")
    assert problems[1].startswith("APP_URL is not set.")
    assert problems[2].startswith("SECRET_KEY, EMBED_SECRET, TOKEN_KEYS were generated into this machine's instance "
                                  "folder")
    text = answer.get_data(as_text=True)
    for secret in (demo_app.config["SECRET_KEY"], demo_app.config["EMBED_SECRET"], *demo_app.config["TOKEN_KEYS"],
                   demo_app.config["EXACT_CLIENT_SECRET"]):
        assert secret not in text
    models.close_all()

    no_secret = create_app(production_settings(sim, tmp_path, EXACT_CLIENT_SECRET=""))
    assert no_secret.test_client().get("/readyz").json["problems"] == [
        "EXACT_CLIENT_SECRET is not set. Set it to the secret of OutSmart's app registration at Exact."]
    models.close_all()


def test_the_machines_addresses_need_no_entry_and_answer_whatever_host_they_are_asked_by(sim, tmp_path):
    app = create_app(production_settings(sim, tmp_path))
    models.upgrade(models.db)
    client = app.test_client()
    for path in ("/healthz", "/readyz", "/metrics"):
        for host in ("localhost", "10.1.2.3:8000", "internal-lb.example"):
            answer = client.get(path, headers={"Host": host}, environ_base=HERE)
            assert answer.status_code == 200, (path, host, answer.status_code)
            assert answer.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in answer.headers
    assert client.get("/integraties").status_code == 401  # every other address still needs OutSmart's entry …
    assert client.get("/integraties", headers={"Host": "10.1.2.3:8000"}).status_code == 400  # … and APP_URL's host
    models.close_all()


# --- who may read /metrics -----------------------------------------------------------------------------------------

def test_metrics_answer_only_the_allowed_addresses_and_others_get_the_ordinary_404(sim, tmp_path):
    app = create_app(production_settings(sim, tmp_path))
    models.upgrade(models.db)
    client = app.test_client()
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200, address
    for address in ("203.0.113.9", "10.0.0.7", "::2", "not-an-address"):
        refused = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        nothing_here = client.get("/metricz", environ_base={"REMOTE_ADDR": address})
        assert refused.status_code == nothing_here.status_code == 404, address
        assert NOT_FOUND in refused.get_data(as_text=True) and "outsmart_" not in refused.get_data(as_text=True)
        assert refused.headers["Content-Type"] == nothing_here.headers["Content-Type"]
    models.close_all()

    app = create_app(production_settings(sim, tmp_path, METRICS_ALLOW="10.0.0.0/8, 192.0.2.7"))
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.200.3.4"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404
    models.close_all()


def test_behind_a_proxy_the_client_address_comes_from_the_proxy_only_with_proxy_fix(sim, tmp_path):
    # Off (the default): X-Forwarded-* are a client's words, and ignored.
    client = create_app(production_settings(sim, tmp_path)).test_client()
    spoofed = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}
    assert client.get("/metrics", headers=spoofed, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    healthz = client.get("/healthz", headers=spoofed, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert "Strict-Transport-Security" not in healthz.headers
    models.close_all()

    # PROXY_FIX=1: one proxy in front (here on 127.0.0.1) says who the client is and that it came over HTTPS.
    client = create_app(production_settings(sim, tmp_path, PROXY_FIX="1")).test_client()
    forwarded = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base=HERE)
    assert forwarded.status_code == 404
    local = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9, 127.0.0.1"}, environ_base=HERE)
    assert local.status_code == 200  # the last hop the one trusted proxy saw
    # A client's unreadable X-Forwarded-For (the proxy appends its own entry to it) names nobody, not the proxy.
    for garbage in ('", 203.0.113.9', 'a"b, 203.0.113.9', '"'):
        assert client.get("/metrics", headers={"X-Forwarded-For": garbage}, environ_base=HERE).status_code == 404
    assert client.get("/metrics", environ_base=HERE).status_code == 200  # no proxy: Prometheus on this machine
    secure = client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
                        environ_base=HERE)
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    models.close_all()

    client = create_app(production_settings(sim, tmp_path, PROXY_FIX="for=2,proto=1")).test_client()
    two_hops = {"X-Forwarded-For": "127.0.0.1, 203.0.113.9, 10.0.0.2"}  # client, then the first proxy's own
    assert client.get("/metrics", headers=two_hops, environ_base=HERE).status_code == 404
    models.close_all()


@pytest.mark.parametrize("setting, value, words", [
    ("METRICS_ALLOW", "127.0.0.1/33", "METRICS_ALLOW must list client addresses or networks"),
    ("METRICS_ALLOW", "localhost", "METRICS_ALLOW must list client addresses or networks"),
    ("PROXY_FIX", "yes", "PROXY_FIX must be the number of proxies in front of the app"),
    ("PROXY_FIX", "for=1,forwarded=1", "PROXY_FIX must be the number of proxies in front of the app"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT must be text (the default) or json"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL"),
])
def test_an_operations_setting_the_app_cannot_use_stops_start_up_in_words(sim, tmp_path, setting, value, words):
    with pytest.raises(BadConfiguration) as refused:
        create_app(production_settings(sim, tmp_path, **{setting: value}))
    assert refused.value.message.startswith(words) and "start the app again" in refused.value.message


# --- the request id and the JSON log lines -------------------------------------------------------------------------

def test_every_answer_carries_a_request_id_its_own_if_well_formed(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:01/2=+_.x"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a:01/2=+_.x"
    made = set()
    for sent in ("", "two words", "x" * 129, '"quoted"', "-starts-with-a-dash", "ünïcode"):
        answer = client.get("/integraties", headers={"X-Request-ID": sent} if sent else {})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), sent
        made.add(answer.headers["X-Request-ID"])
    assert len(made) == 6  # each request its own
    with client.get("/static/css/app.css") as static:
        assert static.headers["X-Request-ID"]  # static files too


@pytest.fixture
def json_log(app):
    """The app's log as production writes it with LOG_FORMAT=json (INFO), into a buffer for the test."""
    buffer = io.StringIO()
    level = logging.getLogger().level
    handler = logs.configure("json", "INFO", stream=buffer)
    yield buffer
    logs.unconfigure(handler)
    logging.getLogger().setLevel(level)


def test_json_log_lines_carry_the_request_and_never_a_query_string_or_a_secret(app, live_app, sim, json_log,
                                                                             tmp_path):
    app.config.update(DEFAULT_ACCOUNT=None, SERVICE_KEYS={"sync-worker": WORKER_KEY},
                      SERVICE_ACCOUNTS={"sync-worker": ("acme-*",)})
    browser = Browser(live_app)
    with app.app_context():
        browser.enter(f"{live_app}/embed?token={make_entry_token('acme-logs', 'Anna de Boer')}")
    browser.set_up(JAN, "demo", 101)
    token = browser.http.post(f"{live_app}/api/v1/accounts/acme-logs/access-token", headers=AUTH).json()
    refused = browser.http.post(f"{live_app}/api/v1/accounts/zulu-9/access-token", headers=AUTH)
    assert refused.status_code == 403  # logs a warning naming the service and the account, inside the request
    in_query = browser.http.get(f"{live_app}/api/v1/accounts/acme-logs/connection",
                                params={"access_token": WORKER_KEY})
    assert in_query.status_code == 401
    time.sleep(0.2)  # the server thread writes the last access line after the answer went out

    path = tmp_path / "app.log"
    path.write_text(json_log.getvalue())
    lines = json_log_lines(path)
    text = json_log.getvalue()
    for secret in (*browser.seen_in_addresses, token["access_token"], WORKER_KEY, app.config["SECRET_KEY"],
                   app.config["EMBED_SECRET"], *app.config["TOKEN_KEYS"], app.config["EXACT_CLIENT_SECRET"]):
        assert secret not in text
    access = [line for line in lines if line["logger"] == "access"]
    assert all("?" not in line["path"] for line in access)
    assert {(line["method"], line["route"], line["status"]) for line in access} >= {
        ("GET", "/embed", 200), ("GET", "/exact/callback", 303), ("POST", "/exact/controle", 303),
        ("POST", "/api/v1/accounts/<account>/access-token", 200),
        ("POST", "/api/v1/accounts/<account>/access-token", 403)}
    assert {line["account"] for line in access if line["route"].startswith(("/exact", "/embed"))} == {"acme-logs"}
    werkzeug = [line for line in lines if line["logger"] == "werkzeug"]
    assert werkzeug and all("?" not in line["message"] for line in werkzeug)  # the server's own lines, cut
    warning = next(line for line in lines if line["logger"] == "views.api" and line["level"] == "WARNING")
    same_request = next(line for line in access if line["request_id"] == warning["request_id"])
    assert same_request["status"] == 403 and warning["account"] == "zulu-9"
    assert warning["route"] == same_request["route"]
    for line in lines:
        json.dumps(line)  # plain JSON values only


# --- what the metrics count ----------------------------------------------------------------------------------------

def test_exact_calls_are_counted_by_endpoint_and_status_also_429s_and_no_answer(app, client, wizard, sim):
    before = metrics_of(client)
    sim.fault("system/Divisions", "429")
    assert wizard.connect(JAN).status_code == 502  # the login failed: the page says so, and to try again
    sim.settings(fault_timeout_seconds=2)
    app.config["EXACT_HTTP_TIMEOUT"] = 0.5
    sim.fault("current/Me", "timeout")
    assert wizard.connect(JAN).status_code == 502
    after = metrics_of(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("outsmart_exact_calls_total", endpoint="system/Divisions", status="429") == 1
    assert grew("outsmart_exact_rate_limited_total", endpoint="system/Divisions") == 1
    assert grew("outsmart_exact_calls_total", endpoint="current/Me", status="none") == 1
    assert grew("outsmart_exact_calls_total", endpoint="oauth2/token", status="200") == 2
    assert grew("outsmart_exact_rate_limited_total") == 1
    # Each failed login: the callback sends the browser on (its code out of the address), the page there says why.
    assert grew("outsmart_http_requests_total", route="/exact/callback", status="303") == 2
    assert grew("outsmart_http_requests_total", route="/exact/callback/<attempt_id>/klaar", status="502") == 2


def test_token_refreshes_are_counted_by_outcome(app, client, wizard, sim):
    app.config["SERVICE_KEYS"] = {"sync-worker": WORKER_KEY}
    assert wizard.complete(JAN, 101).status_code == 303
    before = metrics_of(client)

    def due():
        now = time.time()
        Connection.update(token_issued_at=now - 590, token_expires_at=now + 10).execute()
        sim.advance(600)

    due()
    assert client.post("/api/v1/accounts/demo/access-token", headers=AUTH).status_code == 200
    due()
    sim.revoke(JAN)
    assert client.post("/api/v1/accounts/demo/access-token", headers=AUTH).status_code == 409
    after = metrics_of(client)

    def grew(**labels):
        name = "outsmart_token_refreshes_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(outcome="refreshed", reason="none") == 1
    assert grew(outcome="expired", reason="ReauthorizationRequired") == 1
    assert value(after, "outsmart_connections", state="expired") == 1


def test_a_scrape_reads_connections_keep_alives_due_ones_and_the_webhook_backlog(app, client, wizard, sim):
    app.config.update(WEBHOOK_URL="http://127.0.0.1:9/outsmart-events")  # nobody answers there
    import outbox

    outbox.configure("http://127.0.0.1:9/outsmart-events", "whsec_" + "A" * 32, 1)
    try:
        assert wizard.complete(JAN, 101).status_code == 303  # connected and saved: two events for OutSmart
        OutboxEvent.update(created_at=time.time() - 300).where(OutboxEvent.type == "connection.connected").execute()
        old = time.time() - 21 * 86400
        Connection.update(token_issued_at=old).execute()
        samples = metrics_of(client)
    finally:
        outbox.configure(None, None)
    assert value(samples, "outsmart_connections", state="saved") == 1
    assert value(samples, "outsmart_connections", state="expired") == 0
    assert value(samples, "outsmart_keep_alive_due_connections") == 1
    assert value(samples, "outsmart_webhook_outbox_pending") == 2
    assert 300 <= value(samples, "outsmart_webhook_outbox_oldest_age_seconds") < 400
    assert value(samples, "outsmart_webhook_outbox_given_up") == 0
    assert value(samples, "outsmart_database_up") == 1


def test_endpoints_named_by_workers_cannot_grow_the_exact_calls_labels_without_end(client):
    """A worker's report makes the app ask Exact the endpoint the worker named: 200 made-up names add at most
    MAX_EXACT_ENDPOINTS label values in all; past that they count as "other"."""
    from views import metrics

    named = set(metrics._endpoints_named)
    try:
        for number in range(200):
            metrics.exact_answered("GET", f"https://start.exactonline.nl/api/v1/101/made/Up{number}", 404)
        endpoints = {dict(labels)["endpoint"] for name, labels in metrics_of(client)
                     if name == "outsmart_exact_calls_total"}
        assert len(endpoints - {"other"}) <= metrics.MAX_EXACT_ENDPOINTS and "other" in endpoints
    finally:
        metrics._endpoints_named.intersection_update(named)  # the names the other tests' calls made stay


def test_the_last_keep_alive_run_of_any_machine_is_read_from_the_database(client):
    """Two runners (two machines): the one that ended last is the last run; one whose failure needs an operator
    says so; runs older than 90 days go when the next is kept."""
    import keep_alive
    from models import KeepAliveRun

    assert not any(name.startswith("outsmart_keep_alive_last_run") for name, _labels in metrics_of(client))
    now = time.time()
    keep_alive.record(keep_alive.Summary(3, (keep_alive.Result(keep_alive.REFRESHED),)), now=now - 91 * 86400)
    keep_alive.record(keep_alive.Summary(2, (keep_alive.Result(keep_alive.REFRESHED),
                                             keep_alive.Result(keep_alive.SKIPPED))), now=now - 5)
    keep_alive.record(keep_alive.Summary(2, (keep_alive.Result(keep_alive.FAILED, "acme", "ExactUnavailable"),
                                             keep_alive.Result(keep_alive.SKIPPED))), now=now)
    samples = metrics_of(client)
    assert value(samples, "outsmart_keep_alive_last_run_timestamp_seconds") == now
    assert value(samples, "outsmart_keep_alive_last_run_needs_operator") == 1
    assert [value(samples, "outsmart_keep_alive_last_run_connections", outcome=outcome)
            for outcome in ("due", "refreshed", "skipped", "failed")] == [2, 0, 1, 1]
    assert KeepAliveRun.select().count() == 2  # the one of 91 days ago is gone


def test_no_address_or_method_anyone_sends_adds_a_label_value_to_the_metrics(client):
    """The labels are the app's routes, a fixed set of methods and statuses: a stranger's paths, methods and request
    ids cannot grow the metrics without end (each new label value is a new series to keep)."""
    before = {key for key in metrics_of(client) if key[0] == "outsmart_http_requests_total"}
    for number in range(20):
        client.get(f"/made-up/{number}?token=x{number}")
        client.open(f"/exact/land/{number}", method=f"BREW{number}")
        client.get(f"/api/v1/accounts/acct-{number}/nothing", headers={"X-Request-ID": f"id-{number}"})
        client.get(f"/static/nothing-{number}.css")
    after = {key for key in metrics_of(client) if key[0] == "outsmart_http_requests_total"}
    new = [dict(labels) for _, labels in after - before]
    assert {labels["route"] for labels in new} <= {"unmatched", "/static/<path:filename>", "/metrics"}, new
    assert {labels["method"] for labels in new} <= {"GET", "other"}, new
    assert len(new) <= 6, new  # a handful of series, not one per request
    assert not any("made-up" in str(labels) or "acct-" in str(labels) or "BREW" in str(labels) for labels in after)
