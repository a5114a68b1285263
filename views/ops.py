"""For the machines that run and watch the app: /healthz, /readyz and /metrics; a request id, an access line, the
counts and the latency of every request; the proxy in front (PROXY_FIX) and the log format (LOG_FORMAT).

The three addresses are outside the entry guard (no OutSmart entry, no session, no CSRF) and borrow no database
connection of the request pipeline's: /healthz does no I/O at all, /readyz and /metrics open their own and say so
when the database does not answer. A load balancer or Prometheus asks by the machine's own address, so they are
answered whatever Host the request names (every other address answers only APP_URL's host). /metrics answers only
the client addresses METRICS_ALLOW names (read after ProxyFix); anyone else gets the app's ordinary 404.
"""
import ipaddress
import logging
import re
import time
import uuid
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from flask import session
from werkzeug.http import parse_list_header
from werkzeug.middleware.proxy_fix import ProxyFix

from views import logs
from views import metrics
import models
import outbox
from models import Connection
from models import KeepAliveRun

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("access")

OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# A request id a proxy or client sent (X-Request-ID) is kept only if it looks like one: no spaces, quotes or line
# breaks that would split or forge a log line, at most 128 characters. Otherwise the app makes its own.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")
STATES = (Connection.NOT_CONNECTED, Connection.CONNECTED, Connection.SAVED, Connection.EXPIRED,
          Connection.DISCONNECTED, Connection.NEEDS_ATTENTION)
KEEP_ALIVE_DAYS = 20  # `flask --app app keep-alive`'s default --older-than-days (views/commands.py)
DEFAULT_APP_URL = "http://127.0.0.1:5000"  # create_app's default: the development server's own address
PROXY_HEADERS = ("for", "proto", "host", "port", "prefix")  # ProxyFix's x_for, x_proto, …


# --- configuration -------------------------------------------------------------------------------------------------

def configure(app, refuse) -> None:
    """Read LOG_FORMAT, LOG_LEVEL, METRICS_ALLOW and PROXY_FIX; a value the app cannot use stops start-up in one
    sentence naming the setting (`refuse`: app.BadConfiguration, passed in: `python app.py` runs app.py as __main__)."""
    fmt = str(app.config["LOG_FORMAT"]).strip().lower()
    if fmt not in logs.FORMATS:
        raise refuse("LOG_FORMAT must be text (the default) or json. Correct it, and start the app again.")
    level = str(app.config["LOG_LEVEL"]).strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise refuse("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL. Correct it, and start the app "
                     "again.")
    app.config.update(LOG_FORMAT=fmt, LOG_LEVEL=level)
    allow = app.config["METRICS_ALLOW"]
    try:
        networks = [ipaddress.ip_network(str(part).strip(), strict=False)
                    for part in (allow.split(",") if isinstance(allow, str) else allow) if str(part).strip()]
    except ValueError:
        raise refuse("METRICS_ALLOW must list client addresses or networks, comma-separated (e.g. "
                     "127.0.0.1/32,::1/128,10.0.0.0/8). Correct it, and start the app again.") from None
    app.config["METRICS_ALLOW"] = networks
    app.config["PROXY_FIX"] = proxy_hops(app.config.get("PROXY_FIX"), refuse)


def proxy_hops(setting, refuse) -> dict[str, int]:
    """PROXY_FIX: how many proxies in front set each X-Forwarded-* header. A number N trusts N proxies for
    X-Forwarded-For and X-Forwarded-Proto; `for=1,proto=1,host=1` names each header. Empty or 0: off."""
    if isinstance(setting, dict):
        return setting
    text = str(setting or "").strip()
    if text in ("", "0"):
        return {}
    if text.isdigit():
        return {"for": int(text), "proto": int(text)}
    hops = {}
    for part in text.split(","):
        name, _, count = (piece.strip() for piece in part.partition("="))
        if name not in PROXY_HEADERS or not count.isdigit() or name in hops:
            raise refuse("PROXY_FIX must be the number of proxies in front of the app (e.g. 1), or the count per "
                         "header, like for=1,proto=1,host=1 (for, proto, host, port, prefix). Correct it, and start "
                         "the app again.")
        hops[name] = int(count)
    return {name: count for name, count in hops.items() if count}


def register(app) -> None:
    """The addresses, the per-request hooks (create_app puts begin_request first in the pipeline), the proxy and the
    logging of the configuration."""
    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.register_blueprint(bp)
    app.after_request(finish_request)
    app.teardown_request(end_request)
    app.wsgi_app = OpsHosts(app.wsgi_app, urlsplit(app.config["APP_URL"]).netloc)
    hops = app.config["PROXY_FIX"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{name}": count for name, count in hops.items()})


class OpsHosts:
    """/healthz, /readyz and /metrics are asked by machine address (a load balancer, Prometheus): answer them as if
    asked for APP_URL's host. They build no address from it."""

    def __init__(self, wsgi_app, host: str):
        self.wsgi_app = wsgi_app
        self.host = host

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in OPS_PATHS:
            environ["HTTP_HOST"] = self.host
        return self.wsgi_app(environ, start_response)


# --- every request ---------------------------------------------------------------------------------------------

def begin_request():
    """First in the request pipeline: the request's id, its clock, and the fields its log lines carry."""
    g.request_started = time.perf_counter()
    sent = request.headers.get("X-Request-ID", "")
    g.request_id = sent if REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    g.log_fields = logs.REQUEST.set({
        "request_id": g.request_id, "account": _account(), "method": request.method,
        "path": _printable(request.path, 300), "route": request.url_rule.rule if request.url_rule is not None else None,
    })
    metrics.IN_PROGRESS.inc()
    g.in_progress = True


def finish_request(response):
    """Echo the request id, count the request and write its one access line (the path, never a query string)."""
    started = g.get("request_started") or time.perf_counter()
    seconds = time.perf_counter() - started
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-ID"] = request_id
    route = request.url_rule.rule if request.url_rule is not None else None
    metrics.request_answered(route, request.method, response.status_code, seconds)
    duration_ms = round(seconds * 1000, 2)
    access_log.info("%s %s %s %.2f ms", request.method, _printable(request.path, 300), response.status_code,
                    duration_ms, extra={"status": response.status_code, "duration_ms": duration_ms,
                                        "request_id": request_id, "route": route,
                                        "account": _account()})  # the entry names it during its own request
    return response


def end_request(exc=None):
    if g.pop("in_progress", False):
        metrics.IN_PROGRESS.dec()
    fields = g.pop("log_fields", None)
    if fields is not None:
        logs.REQUEST.reset(fields)


def _account() -> str | None:
    """The OutSmart account the request is for, as far as it says: the API's address, else the visit's entry."""
    if request.view_args and isinstance(request.view_args.get("account"), str):
        return _printable(request.view_args["account"], 100)
    if request.blueprint == "ops" or request.endpoint == "static":
        return None
    account = session.get("account") or current_app.config.get("DEFAULT_ACCOUNT")
    return _printable(account, 100) if isinstance(account, str) else None


def _printable(text: str, most: int) -> str:
    """Text for a log line: at most `most` characters, control characters shown as U+FFFD (not "?", which would read
    as the start of a query string)."""
    return "".join(char if char.isprintable() else "\ufffd" for char in text[:most])


# --- the addresses ---------------------------------------------------------------------------------------------

@bp.get("/healthz")
def healthz():
    """The process is alive and answers: no database, no Exact, nothing read."""
    return jsonify(status="alive")


@bp.get("/readyz")
def readyz():
    """Ready for real admins: the database answers, its migrations are all applied, the configuration is complete.
    Otherwise 503 with each reason in words, naming settings, never their values."""
    problems = configuration_problems(current_app.config) + database_problems()
    if problems:
        return jsonify(status="not ready", problems=problems), 503
    return jsonify(status="ready")


def database_problems() -> list[str]:
    try:
        with models.db.connection_context():
            models.db.execute_sql("SELECT 1")
            pending = models.pending(models.db)
    except Exception as error:  # never its message: it may name the server, the user or worse
        return [f"The database does not answer ({type(error).__name__}): check DATABASE_URL and that the database "
                "server runs and accepts this machine."]
    if pending:
        return [f"The database is not up to date: {len(pending)} migration(s) not applied ({', '.join(pending)}). "
                "Run `flask --app app db upgrade`."]
    return []


def configuration_problems(config) -> list[str]:
    """What the app lacks to serve real admins; each sentence names the setting and what to do."""
    problems = []
    if config.get("DEMO"):
        problems.append("EXACT_CLIENT_ID and EXACT_CLIENT_SECRET are not set, so the app runs as the demo against the "
                        "simulated Exact Online. Set both to OutSmart's app registration at Exact.")
    elif not config.get("EXACT_CLIENT_SECRET"):
        problems.append("EXACT_CLIENT_SECRET is not set. Set it to the secret of OutSmart's app registration at Exact.")
    redirect = urlsplit(str(config.get("EXACT_REDIRECT_URI") or ""))
    if redirect.scheme not in ("http", "https") or not redirect.hostname:
        problems.append("EXACT_REDIRECT_URI is not an absolute address. Set it to the redirect URI registered at "
                        "Exact (APP_URL + /exact/callback).")
    if config.get("APP_URL") == DEFAULT_APP_URL:
        problems.append("APP_URL is not set. Set it to the app's own origin, e.g. https://exact.out-smart.com.")
    generated = [name for name in ("SECRET_KEY", "EMBED_SECRET", "TOKEN_KEYS")
                 if name in config.get("GENERATED_SECRETS", ())]
    if generated:
        problems.append(f"{', '.join(generated)} {'was' if len(generated) == 1 else 'were'} generated into this "
                        "machine's instance folder, so other machines would not share them. Set them in the "
                        "environment, the same on every machine.")
    return problems


@bp.get("/metrics", endpoint="metrics")
def metrics_page():
    """Prometheus' text format, for the addresses METRICS_ALLOW names; the app's ordinary 404 for anyone else."""
    if not _metrics_allowed(_client_address()):
        abort(404)
    body, content_type = metrics.exposition(_database_figures)
    return Response(body, content_type=content_type)


def _client_address() -> str | None:
    """Who asks, for METRICS_ALLOW. Through the proxies PROXY_FIX names, the client is in X-Forwarded-For; a header
    with fewer addresses than that (or one Werkzeug cannot read, such as a lone quote a client put before the proxy's
    own entry) names nobody, never the proxy itself, which may well be inside METRICS_ALLOW."""
    hops = current_app.config["PROXY_FIX"].get("for", 0)
    forwarded = request.headers.get("X-Forwarded-For")
    if hops and forwarded is not None and len(parse_list_header(forwarded)) < hops:
        return None
    return request.remote_addr


def _metrics_allowed(address: str | None) -> bool:
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if getattr(client, "ipv4_mapped", None) is not None:
        client = client.ipv4_mapped
    return any(client in network for network in current_app.config["METRICS_ALLOW"])


def _database_figures() -> dict:
    """What the scrape reads from the database: connections by state, keep-alive's due ones, the outbox."""
    from peewee import fn

    with models.db.connection_context():
        states = dict.fromkeys(STATES, 0)
        query = Connection.select(Connection.status, fn.COUNT(Connection.id)).group_by(Connection.status)
        states.update({status: count for status, count in query.tuples()})
        due = Connection.refresh_tokens_older_than(time.time() - KEEP_ALIVE_DAYS * 86400).order_by().count()
        return {"states": states, "keep_alive_due": due, "keep_alive_last_run": KeepAliveRun.latest(),
                "outbox": outbox.backlog()}
