"""What the app counts for OutSmart's monitoring, in Prometheus' text format (prometheus_client).

Counted where it happens: requests and their latency by route and status (views/ops.py), every answer Exact gave
by endpoint and status and Exact's 429s (the Exact clients' `observe` callback, views/exact_clients.py), token
refreshes and their outcomes (token_store.py's `outcome` callback), keep-alive's connections (views/commands.py).
Read from the database at each scrape, once per scrape whatever the number of workers: connections by state, the
connections keep-alive should refresh, the last keep-alive run of any machine (models.KeepAliveRun: a restart of
the web servers does not forget it), and the webhook outbox (its size and its oldest event's age).

Several processes (gunicorn's workers, a keep-alive run from cron) count together when PROMETHEUS_MULTIPROC_DIR
names a directory they share (prometheus_client's multiprocess mode): each process writes its own file there, a scrape
adds them up, and gunicorn.conf.py empties it when gunicorn starts and marks dead workers. Without it, a process
counts for itself alone (the development server, the tests). Nothing here imports Flask.
"""
import os
import re
import threading
from urllib.parse import urlsplit

# The mode is chosen when prometheus_client is first imported (values.py reads the variable then); the directory
# must exist before the first value is written.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
if MULTIPROCESS_DIR:
    os.makedirs(MULTIPROCESS_DIR, exist_ok=True)

from prometheus_client import CONTENT_TYPE_LATEST  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from prometheus_client import Counter  # noqa: E402
from prometheus_client import Gauge  # noqa: E402
from prometheus_client import Histogram  # noqa: E402
from prometheus_client import generate_latest  # noqa: E402
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client import multiprocess  # noqa: E402

# --- counted in the processes ----------------------------------------------------------------------------------

REQUESTS = Counter("outsmart_http_requests", "Requests answered, by route (Flask's URL rule, never the path "
                   "asked for), method and status.", ["route", "method", "status"])
LATENCY = Histogram("outsmart_http_request_duration_seconds", "Time to answer a request, by route and method.",
                    ["route", "method"])
IN_PROGRESS = Gauge("outsmart_http_requests_in_progress", "Requests being answered now.",
                    multiprocess_mode="livesum")
EXACT_CALLS = Counter("outsmart_exact_calls", "Calls to Exact Online by endpoint (e.g. oauth2/token, "
                      "financial/Journals) and status (the HTTP status, or 'none' when Exact did not answer).",
                      ["endpoint", "status"])
EXACT_RATE_LIMITED = Counter("outsmart_exact_rate_limited", "Exact Online's 429 answers (its rate limits), by "
                             "endpoint.", ["endpoint"])
TOKEN_REFRESHES = Counter("outsmart_token_refreshes", "Token refreshes the token store attempted or held back, by "
                          "outcome (refreshed, too_early, expired, failed, held) and reason (an exact.errors class, "
                          "or 'none').", ["outcome", "reason"])
KEEP_ALIVE_CONNECTIONS = Counter("outsmart_keep_alive_connections", "Connections keep-alive runs dealt with, by "
                                 "outcome (refreshed, skipped, failed).", ["outcome"])
KEEP_ALIVE_FAILURES = Counter("outsmart_keep_alive_failures", "Connections keep-alive runs could not refresh, by "
                              "reason (an exact.errors class or another error).", ["reason"])
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# An Exact endpoint as its error block counts it (crm/Accounts, oauth2/token, crm/Accounts/$count); anything else
# (an address Exact sent in __next, say) is "other", so no answer of Exact's can add label values without end.
EXACT_ENDPOINT = re.compile(r"[A-Za-z0-9]+(/[A-Za-z0-9]+){0,3}(/\$count)?")
# Endpoints a process names in its labels, at most: the app itself calls under 20, but a worker's report makes the
# app ask Exact the endpoint the worker named (views/worker_reports.py), which could otherwise add names without end.
MAX_EXACT_ENDPOINTS = 64
_endpoints_named: set[str] = set()
_endpoints_lock = threading.Lock()


def request_answered(route: str | None, method: str, status: int, seconds: float) -> None:
    """A request was answered: `route` is Flask's URL rule (None when none matched)."""
    route = route or "unmatched"
    method = method if method in METHODS else "other"
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)


def exact_endpoint(url: str) -> str:
    """The endpoint a call to Exact asked for: the path after /api/, without v1/ and the division."""
    path = urlsplit(url).path
    rest = path.partition("/api/")[2]
    if rest.startswith("v1/"):
        head, _, tail = rest[3:].partition("/")
        rest = tail if head.isdigit() else rest[3:]
    if not EXACT_ENDPOINT.fullmatch(rest):
        return "other"
    with _endpoints_lock:
        if rest not in _endpoints_named:
            if len(_endpoints_named) >= MAX_EXACT_ENDPOINTS:
                return "other"
            _endpoints_named.add(rest)
    return rest


def exact_answered(method: str, url: str, status: int | None) -> None:
    """Exact answered a call with `status` (None: no answer, a timeout or a refused connection)."""
    endpoint = exact_endpoint(url)
    EXACT_CALLS.labels(endpoint, str(status) if status is not None else "none").inc()
    if status == 429:
        EXACT_RATE_LIMITED.labels(endpoint).inc()


def token_refresh(outcome: str, reason: str | None = None) -> None:
    """The token store refreshed a token, was refused, or held the call back (token_store.py's `outcome`)."""
    TOKEN_REFRESHES.labels(outcome, reason or "none").inc()


def keep_alive_run(outcomes: dict[str, int], failures: dict[str, int]) -> None:
    """A keep-alive run ended: its connections by outcome and its failures by reason, counted by the run's process
    (a short-lived cron process writes them to PROMETHEUS_MULTIPROC_DIR). The run itself is kept in the database."""
    for outcome, count in outcomes.items():
        KEEP_ALIVE_CONNECTIONS.labels(outcome).inc(count)
    for reason, count in failures.items():
        KEEP_ALIVE_FAILURES.labels(reason).inc(count)


# --- read from the database at each scrape ---------------------------------------------------------------------

class DatabaseCollector:
    """Connections by state, the connections keep-alive should refresh, and the webhook outbox, read once per
    scrape. When the database does not answer, outsmart_database_up is 0 and the rest is left out."""

    def __init__(self, read):
        # () -> dict: states {state: count}, keep_alive_due, keep_alive_last_run (a KeepAliveRun or None), outbox
        # (pending, oldest_age, given_up)
        self._read = read

    def collect(self):
        up = GaugeMetricFamily("outsmart_database_up", "1 when the scrape could read the database, else 0.")
        try:
            figures = self._read()
        except Exception:  # the database is down or unreachable: say so, and let the rest of the scrape through
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        states = GaugeMetricFamily("outsmart_connections", "Exact Online connections by state.", labels=["state"])
        for state, count in sorted(figures["states"].items()):
            states.add_metric([state], count)
        yield states
        yield from _last_keep_alive_run(figures["keep_alive_last_run"])
        yield GaugeMetricFamily("outsmart_keep_alive_due_connections", "Connections whose refresh token is older "
                                "than keep-alive's 20 days: the next run should refresh them (Exact drops a refresh "
                                "token after 30 idle days).", value=figures["keep_alive_due"])
        pending, oldest_age, given_up = figures["outbox"]
        yield GaugeMetricFamily("outsmart_webhook_outbox_pending", "Events for OutSmart waiting to be delivered.",
                                value=pending)
        yield GaugeMetricFamily("outsmart_webhook_outbox_oldest_age_seconds", "Age of the oldest event waiting to "
                                "be delivered (0 when none waits).", value=oldest_age)
        yield GaugeMetricFamily("outsmart_webhook_outbox_given_up", "Events given up after 24 hours of failed "
                                "deliveries (kept 30 days).", value=given_up)


def _last_keep_alive_run(run):
    """The last keep-alive run of any machine (models.KeepAliveRun), or nothing before the first."""
    if run is None:
        return
    yield GaugeMetricFamily("outsmart_keep_alive_last_run_timestamp_seconds", "When the last keep-alive run ended "
                            "(epoch seconds).", value=run.finished_at)
    connections = GaugeMetricFamily("outsmart_keep_alive_last_run_connections", "The last keep-alive run: "
                                    "connections due, refreshed, skipped and failed.", labels=["outcome"])
    for outcome in ("due", "refreshed", "skipped", "failed"):
        connections.add_metric([outcome], getattr(run, outcome))
    yield connections
    yield GaugeMetricFamily("outsmart_keep_alive_last_run_needs_operator", "1 when the last keep-alive run failed "
                            "for a reason an operator must look at (it exited with status 1), else 0.",
                            value=1 if run.needs_operator else 0)


class _Scrape:
    """One scrape: the processes' counts and the database's figures, each read once."""

    def __init__(self, *collectors):
        self._collectors = collectors

    def collect(self):
        for collector in self._collectors:
            yield from collector.collect()


def exposition(read_database) -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    if MULTIPROCESS_DIR:
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes, path=MULTIPROCESS_DIR)
    else:
        processes = REGISTRY
    return generate_latest(_Scrape(processes, DatabaseCollector(read_database))), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit: a dead worker's requests in progress stop counting (its counters stay summed)."""
    if MULTIPROCESS_DIR:
        multiprocess.mark_process_dead(pid, MULTIPROCESS_DIR)


def clear_directory() -> None:
    """gunicorn's on_starting: the counts of an earlier run of the server go (its workers' pids may come back)."""
    if MULTIPROCESS_DIR:
        for name in os.listdir(MULTIPROCESS_DIR):
            if name.endswith(".db"):
                os.remove(os.path.join(MULTIPROCESS_DIR, name))
