"""The benchmark's world: the simulator over HTTP, the app on a temp SQLite file, statistics."""
import html
import os
import statistics
import time
from contextlib import contextmanager

from exact_sim.server import CLIENT_ID
from exact_sim.server import CLIENT_SECRET
from exact_sim.server import REDIRECT_URI
from exact_sim.server import SimServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET_KEY = "bench-secret"
EMBED_SECRET = "bench-embed-secret"
SERVICE_KEY = "bench-service-key-5Qh8Zt2Lw9Xc4Mr7Kp"
# A fixed Fernet key (32 url-safe base64 bytes), so a gunicorn process can read tokens the benchmark stored.
TOKEN_KEY = "YmVuY2gtdG9rZW4ta2V5LTMyLWJ5dGVzLWxvbmchISE="
HOST_ORIGIN = "https://app.out-smart.com"


# PostgreSQL for the figures that need it, e.g. postgresql://outsmart:outsmart@127.0.0.1:5432/outsmart_bench: a
# database the benchmark may empty (it drops every table in it). Unset: those figures are skipped, with a line saying so.
POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL")


def database_url(db_path: str) -> str:
    """`db_path` is a SQLite file, or already a database URL (PostgreSQL)."""
    return db_path if "://" in db_path else f"sqlite:///{db_path}"


def app_config(db_path: str, sim: SimServer) -> dict:
    """The app's configuration for the benchmark (what tests/conftest.py uses, CSRF off for the test client)."""
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "TOKEN_KEYS": TOKEN_KEY,
        "DATABASE_URL": database_url(db_path),
        "EXACT_CLIENT_ID": CLIENT_ID,
        "EXACT_CLIENT_SECRET": CLIENT_SECRET,
        "EXACT_REDIRECT_URI": REDIRECT_URI,
        "EXACT_BASE_URLS": sim.base_urls_setting,
        "EXACT_HTTP_TIMEOUT": 10,
        "EXACT_WAIT_FOR_MINUTE_RESET": 0,
        "DEMO": False,
        "DEFAULT_ACCOUNT": "demo",
        "EMBED_SECRET": EMBED_SECRET,
        "HOST_ORIGINS": HOST_ORIGIN,
        "SERVICE_KEYS": f"bench:{SERVICE_KEY}",
        "WTF_CSRF_ENABLED": False,
        # The timing section starts a login far more often than an admin may (10 per 10 minutes): every start is
        # still counted, at its real cost, but none is refused.
        "LOGIN_START_LIMIT": "1000000 per minute",
        # The test client's host (APP_URL decides which hosts are served; another gets 400).
        "APP_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
    }


def server_env(db_path: str, sim: SimServer) -> dict:
    """The same configuration as environment variables, for gunicorn (app.py ENV_SETTINGS)."""
    return {
        "DATABASE_URL": database_url(db_path),
        "EXACT_CLIENT_ID": CLIENT_ID,
        "EXACT_CLIENT_SECRET": CLIENT_SECRET,
        "EXACT_REDIRECT_URI": REDIRECT_URI,
        "EXACT_BASE_URLS": sim.base_urls_setting,
        "TOKEN_KEYS": TOKEN_KEY,
        "SECRET_KEY": SECRET_KEY,
        "EMBED_SECRET": EMBED_SECRET,
        "DEFAULT_ACCOUNT": "demo",
        "HOST_ORIGINS": HOST_ORIGIN,
        "SERVICE_KEYS": f"bench:{SERVICE_KEY}",
    }


def create(db_path: str, sim: SimServer, **extra):
    """The app on a fresh SQLite file, its tables built by the migrations (as `flask --app app db upgrade` does)."""
    import models
    from app import create_app

    if "://" not in db_path:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db_path + suffix):
                os.remove(db_path + suffix)
    app = create_app({**app_config(db_path, sim), **extra})
    if "://" in db_path:  # PostgreSQL: every table dropped, as the tests do
        with models.db.connection_context():
            tables = models.db.get_tables()
            if tables:
                models.db.execute_sql("DROP TABLE %s CASCADE" % ", ".join(f'"{table}"' for table in tables))
    models.upgrade(models.db)
    return app


def session_header(app, account: str) -> dict:
    """The X-Session header an embedded visit for `account` sends: taken from the page OutSmart's signed entry opens."""
    import json
    import re

    from views.embed import make_entry_token

    with app.test_request_context():
        token = make_entry_token(account, "bench", "nl", HOST_ORIGIN)
    page = app.test_client().get("/embed", query_string={"token": token})
    headers = json.loads(html.unescape(re.search(r"hx-headers='([^']*)'", page.get_data(as_text=True)).group(1)))
    return {"X-Session": headers["X-Session"]}


def client_for_account(app, account: str | None):
    """A test client whose every request belongs to `account` (None: the default account)."""
    client = app.test_client()
    if account:
        client.environ_base["HTTP_X_SESSION"] = session_header(app, account)["X-Session"]
    return client


def unlimited(sim: SimServer) -> None:
    """Lift the simulator's rate limits: the timing sections repeat calls far beyond a real admin's."""
    sim.settings(minutely_limit=10**9, daily_limit=10**9)


def timed(call, n: int, warmup: int = 5, before=None) -> list[float]:
    """Per-call wall times in seconds of `call()` (each preceded by an untimed `before()`)."""
    for _ in range(warmup):
        if before:
            before()
        call()
    samples = []
    for _ in range(n):
        if before:
            before()
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def timed_against(call, baseline, n: int, warmup: int = 5, before=None) -> tuple[list[float], list[float]]:
    """Like timed(), alternating each call with a call of `baseline`: both see the same moment of a noisy machine."""
    for _ in range(warmup):
        baseline()
    samples, base = [], []
    for index in range(warmup + n):
        start = time.perf_counter()
        baseline()
        if index >= warmup:
            base.append(time.perf_counter() - start)
        if before:
            before()
        start = time.perf_counter()
        call()
        if index >= warmup:
            samples.append(time.perf_counter() - start)
    return samples, base


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"n": len(samples), "median_ms": statistics.median(samples) * 1000, "p99_ms": p99 * 1000}


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


@contextmanager
def exact_timer():
    """Wall time during which at least one HTTP call to Exact (the simulator) was under way in this process, and how
    many calls: patches requests. Calls made at once count their shared time once."""
    import threading

    import requests

    original = requests.Session.send
    spent = {"seconds": 0.0, "calls": 0}
    lock = threading.Lock()
    busy = {"calls": 0, "since": 0.0}

    def send(self, *args, **kwargs):
        with lock:
            if not busy["calls"]:
                busy["since"] = time.perf_counter()
            busy["calls"] += 1
        try:
            return original(self, *args, **kwargs)
        finally:
            with lock:
                busy["calls"] -= 1
                spent["calls"] += 1
                if not busy["calls"]:
                    spent["seconds"] += time.perf_counter() - busy["since"]

    requests.Session.send = send
    try:
        yield spent
    finally:
        requests.Session.send = original
