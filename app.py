"""OutSmart's Exact Online settings: the application factory and the demo launcher."""
import argparse
import base64
import binascii
import datetime
import logging
import os
import secrets
import stat
import threading
from urllib.parse import urlsplit

import click
from cryptography.fernet import Fernet
from cryptography.fernet import MultiFernet
from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from playhouse.db_url import connect
from playhouse.db_url import parse

import models
import outbox
from exact.hosts import parse_base_urls
from views.languages import DEFAULT_LANGUAGE
from views.languages import browser_language
from views.session import PortableSessionInterface
from views.session import Request

csrf = CSRFProtect()
babel = Babel()

# The simulator's registered demo app (exact_sim/settings.py); used only when no Exact credentials are set.
DEMO_CLIENT_ID = "{0b7f5d2e-3c4a-4e8b-9a61-2f5c8d9e1a47}"
DEMO_CLIENT_SECRET = "demo-secret"
DEMO_SIM_PORT = 5001

DEMO_HOST_PORT = 5050
ENV_SETTINGS = ("SECRET_KEY", "DATABASE_URL", "EXACT_CLIENT_ID", "EXACT_CLIENT_SECRET", "EXACT_REDIRECT_URI",
                "EXACT_BASE_URLS", "EXACT_PKCE", "TOKEN_KEYS", "DEFAULT_ACCOUNT", "EMBED_SECRET", "HOST_ORIGINS",
                "APP_URL", "TRUSTED_HOSTS", "SERVICE_KEYS", "SERVICE_ACCOUNTS", "LOGIN_START_LIMIT",
                "FAILED_ENTRY_LIMIT", "WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_TIMEOUT",
                "EXACT_TOKEN_CALLS_PER_DAY", "EXACT_ERRORS_PER_HOUR", "DATABASE_POOL_SIZE", "LOG_FORMAT", "LOG_LEVEL",
                "METRICS_ALLOW", "PROXY_FIX")


class BadConfiguration(click.ClickException):
    """A setting the app must not start with. The message names the setting and what to do, never a secret; being a
    ClickException, `flask --app app …` prints it as one line ("Error: …") and exits with status 1."""


def create_app(test_config=None):
    """Create and configure the application."""
    app = Flask(__name__, instance_relative_config=True)
    _owner_only_directory(app.instance_path)
    app.config.from_mapping(
        DATABASE_URL="sqlite:///" + os.path.join(app.instance_path, "exact.sqlite"),
        # Open database connections per process at most; a thread past them waits for one (PostgreSQL refuses
        # clients past its max_connections, 100 by default, shared by every worker on every machine).
        DATABASE_POOL_SIZE=20,
        EXACT_BASE_URLS="",
        EXACT_HTTP_TIMEOUT=15,
        # Wait for a minute's rate limit to pass rather than fail a step the admin is waiting on.
        EXACT_WAIT_FOR_MINUTE_RESET=5,
        # Where the app is served; every absolute address and the Hosts it answers to come from it (never from a
        # request's Host header).
        APP_URL="http://127.0.0.1:5000",
        # PKCE (S256) on Exact's login. Exact does not document PKCE; an OAuth server ignores request parameters it
        # does not know (RFC 6749 §3.1), so it is on unless EXACT_PKCE=0 (README: Security).
        EXACT_PKCE=True,
        HOST_ORIGINS="https://app.out-smart.com",
        EMBED_ENTRY_MAX_AGE=300,
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=8),
        # Seconds: the page warns this long before the visit ends, with a button that extends it (views/session_time.py).
        SESSION_WARNING_BEFORE=300,
        # Seconds: how often the popup login's waiting step asks for news, and how long before its 10 minutes end it
        # warns (views/login.py).
        LOGIN_STATUS_INTERVAL=2,
        LOGIN_WARNING_BEFORE=120,
        BABEL_DEFAULT_LOCALE="nl",
        BABEL_DEFAULT_TIMEZONE="Europe/Amsterdam",
        BABEL_TRANSLATION_DIRECTORIES=os.path.join(app.root_path, "translations"),
        WTF_CSRF_TIME_LIMIT=None,
        # CSRF is checked by the request pipeline below, in its place among the other checks.
        WTF_CSRF_CHECK_DEFAULT=False,
        # The largest form here is a few KB; a bigger body is refused (413, in words) before it is read into memory.
        MAX_CONTENT_LENGTH=1024 * 1024,
        # Inside OutSmart the app is a cross-site iframe: only a Secure, SameSite=None, partitioned cookie is sent.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="None",
        SESSION_COOKIE_PARTITIONED=True,
        # How often one may try (views/throttle.py; the `limits` library's notation): login starts per OutSmart
        # account, failed entries (/embed) per client address. Counted in the app's database, by every worker alike.
        LOGIN_START_LIMIT="10 per 10 minutes",
        FAILED_ENTRY_LIMIT="5 per minute; 30 per hour",
        RATELIMIT_STORAGE_URI="database://",
        # Events to OutSmart's servers (outbox.py): none without WEBHOOK_URL; WEBHOOK_SECRET (whsec_…) signs them.
        WEBHOOK_URL=None,
        WEBHOOK_SECRET=None,
        WEBHOOK_TIMEOUT=10,
        # Exact's own limits on the app (exact_limits.py), counted in the same database: token calls per Exact user
        # per UTC day (Exact answers 200), and errors per endpoint per hour before our calls stop (Exact blocks past 10).
        EXACT_TOKEN_CALLS_PER_DAY=200,
        EXACT_ERRORS_PER_HOUR=8,
        # Operations (views/ops.py): log lines as text or one JSON object each; who may read /metrics (client
        # addresses, after ProxyFix); how many proxies in front set X-Forwarded-* (none: ProxyFix off).
        LOG_FORMAT="text",
        LOG_LEVEL="INFO",
        METRICS_ALLOW="127.0.0.1/32,::1/128",
        PROXY_FIX="",
    )
    app.config.update({key: os.environ[key] for key in ENV_SETTINGS if os.environ.get(key)})
    app.config.update(test_config or {})
    _configure_addresses(app)
    _configure_exact(app)
    _configure_secrets(app)
    _configure_embedding(app)
    _configure_services(app)
    _configure_webhooks(app)
    from views import ops

    ops.configure(app, BadConfiguration)

    app.request_class = Request
    app.session_interface = PortableSessionInterface()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    # Before the database is bound: a deliverer of an app made earlier in this process stops first.
    outbox.configure(app.config["WEBHOOK_URL"], app.config["WEBHOOK_SECRET"], app.config["WEBHOOK_TIMEOUT"])
    _owner_only_sqlite_files(app.config["DATABASE_URL"])
    models.db.initialize(_connect_database(app.config["DATABASE_URL"], int(app.config["DATABASE_POOL_SIZE"])))
    models.configure_encryption(MultiFernet([Fernet(key) for key in app.config["TOKEN_KEYS"]]))
    # No connection is opened here (the schema is `flask --app app db upgrade`'s): none can outlive a fork
    # (gunicorn --preload).

    from views import api
    from views import commands
    from views import embed
    from views import errors
    from views import formatting
    from views import security
    from views import session_time
    from views import integrations
    from views import login
    from views import setup
    from views import throttle
    from views import webhooks

    # The request pipeline, in this order; each step may answer in place of the view.
    for step in (ops.begin_request,  # the request's id and clock, first: every answer is counted and logged
                 errors.refuse_unreadable_request,  # what no view can read: too large, NUL characters, nameless fields
                 embed.guard_entry,  # OutSmart's signed entry names the account; without it only its own page
                 _check_csrf,  # every POST carries its page's token (the API's services carry a key instead)
                 _borrow_database_connection):
        app.before_request(step)
    app.teardown_request(_return_database_connection)

    embed.register(app)
    for module in (integrations, login, setup):
        app.register_blueprint(module.bp)
    api.register(app, csrf)
    login.register(csrf)
    commands.register(app)
    errors.register(app)
    formatting.register(app)
    security.register(app)
    session_time.register(app)
    throttle.register(app)
    webhooks.register(app)
    ops.register(app)
    return app


def _check_csrf():
    if current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect(apply_exemptions=True)


def _borrow_database_connection():
    if request.endpoint != "static" and request.blueprint != "ops":  # /readyz, /metrics open their own
        models.db.connect(reuse_if_open=True)


def _return_database_connection(exc=None):
    if not models.db.is_closed():
        models.db.close()


# SQLite shared by several processes (gunicorn workers) and threads: readers never block the writer (WAL),
# a writer waits up to 15 s for the lock instead of failing at once, and foreign keys are enforced as in PostgreSQL.
SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": 15000, "foreign_keys": 1}


# Each request borrows an open connection from a pool and gives it back: opening one (and, for SQLite, setting
# its pragmas) costs more than the query a page needs. Connections idle for five minutes are closed; a thread that
# finds every connection in use waits up to 10 s for one.
POOL_TIMEOUTS = {"stale_timeout": 300, "timeout": 10}
# A PostgreSQL server that takes the connection but never answers would hold a thread for good (libpq waits without
# end): /readyz, /metrics and every page give up after 5 s instead. A connect_timeout in DATABASE_URL wins.
POSTGRES_CONNECT_TIMEOUT = 5


def _connect_database(url, pool_size):
    """The database named by DATABASE_URL (peewee db_url), pooled: SQLite with SQLITE_PRAGMAS, or PostgreSQL."""
    scheme, rest = url.split("://", 1)
    pooled = scheme if scheme.endswith("+pool") else f"{scheme}+pool"
    pool = {**POOL_TIMEOUTS, "max_connections": pool_size}
    if scheme.startswith("sqlite"):
        # A pooled connection serves one thread at a time, but not always the thread that opened it.
        return connect(f"{pooled}://{rest}", pragmas=SQLITE_PRAGMAS, check_same_thread=False, **pool)
    timeout = {} if "connect_timeout=" in rest else {"connect_timeout": POSTGRES_CONNECT_TIMEOUT}
    return connect(f"{pooled}://{rest}", **pool, **timeout)


# The database holds names, e-mail addresses and login attempts, instance/ the generated secrets: readable by the
# app's own user only, also where an earlier release left them readable by every local user.
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIRECTORY = 0o700


def _owner_only_directory(path):
    os.makedirs(path, mode=OWNER_ONLY_DIRECTORY, exist_ok=True)
    _restrict(path, OWNER_ONLY_DIRECTORY)


def _owner_only_sqlite_files(url):
    """Create the SQLite file owner-only before SQLite opens it (SQLite gives its -wal and -shm files the database
    file's mode), and tighten the files an earlier release left readable."""
    if not url.split("://", 1)[0].startswith("sqlite"):
        return
    database = parse(url).get("database")
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    if not os.path.exists(database) and os.path.isdir(os.path.dirname(os.path.abspath(database))):
        try:
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE))
        except FileExistsError:  # another worker starting at the same moment made it
            pass
    for path in (database, f"{database}-wal", f"{database}-shm", f"{database}-journal"):
        if os.path.exists(path):
            _restrict(path, OWNER_ONLY_FILE)


def _restrict(path, mode):
    if stat.S_IMODE(os.stat(path).st_mode) == mode:
        return
    try:
        os.chmod(path, mode)
    except OSError as error:  # not ours to change (another owner): say so, and start anyway
        logging.getLogger(__name__).warning("Could not make %s readable by its owner only: %s", path, error)


def _configure_exact(app):
    """Use the configured Exact app, or the simulator's demo app when none is configured."""
    app.config["DEMO"] = app.config.get("DEMO", not app.config.get("EXACT_CLIENT_ID"))
    if not app.config.get("EXACT_CLIENT_ID"):
        sim = f"http://127.0.0.1:{DEMO_SIM_PORT}"
        app.config.update(
            EXACT_CLIENT_ID=DEMO_CLIENT_ID,
            EXACT_CLIENT_SECRET=DEMO_CLIENT_SECRET,
            EXACT_BASE_URLS=app.config["EXACT_BASE_URLS"] or ",".join(
                f"{cc}={sim}/{cc}" for cc in ("nl", "be", "de", "uk", "us", "es", "fr")),
        )
    app.config.setdefault("EXACT_REDIRECT_URI", app.config["APP_URL"].rstrip("/") + "/exact/callback")
    pkce = app.config["EXACT_PKCE"]
    app.config["EXACT_PKCE"] = pkce if isinstance(pkce, bool) else str(pkce).strip().lower() not in ("0", "false", "no", "off")
    app.config["EXACT_HOSTS"] = parse_base_urls(app.config["EXACT_BASE_URLS"])
    _whole_number(app, "EXACT_TOKEN_CALLS_PER_DAY", 1, None)
    _whole_number(app, "EXACT_ERRORS_PER_HOUR", 1, 10)  # past 10 Exact blocks the app: stopping later is no stop
    # requests-oauthlib refuses plain http; only a local simulator is served that way.
    app.config.setdefault("EXACT_ALLOW_HTTP", any(url.startswith("http://")
                                                   for url in app.config["EXACT_HOSTS"].values()))
    if app.config["EXACT_ALLOW_HTTP"]:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # oauthlib knows only this process-wide switch


def _whole_number(app, setting: str, least: int, most: int | None) -> None:
    """A setting that must be a whole number from `least` to `most` (None: no maximum), read from text if need be."""
    value = str(app.config[setting]).strip()
    if not value.isdigit() or int(value) < least or (most is not None and int(value) > most):
        between = f"from {least} to {most}" if most is not None else f"of at least {least}"
        raise BadConfiguration(f"{setting} must be a whole number {between}. Correct it, and start the app again.")
    app.config[setting] = int(value)


def _configure_addresses(app):
    """APP_URL is where the app lives; only requests for its host are served (Flask's TRUSTED_HOSTS)."""
    parts = urlsplit(app.config["APP_URL"])
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise BadConfiguration("APP_URL must be the app's own origin, like https://exact.example.com: no path, no query.")
    hosts = app.config.get("TRUSTED_HOSTS") or [parts.hostname]
    app.config["TRUSTED_HOSTS"] = [host.strip() for host in hosts.split(",")] if isinstance(hosts, str) else hosts


def _configure_embedding(app):
    """Which OutSmart origins may frame the app, and the account used when none is named (demo only)."""
    origins = app.config["HOST_ORIGINS"]
    if isinstance(origins, str):
        origins = [origin.strip() for origin in origins.split(",") if origin.strip()]
    if app.config["DEMO"]:
        origins = origins + [f"http://localhost:{DEMO_HOST_PORT}"]
        app.config.setdefault("DEFAULT_ACCOUNT", "demo")
    app.config["HOST_ORIGINS"] = origins
    app.config.setdefault("DEFAULT_ACCOUNT", None)


# A service key is a password nobody types: long enough that guessing it is hopeless.
MIN_SERVICE_KEY_LENGTH = 32
MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _configure_services(app):
    """The services that may use the API, by name, and the accounts each may ask for (views/api.py).

    SERVICE_KEYS is "name:key,name:key". SERVICE_ACCOUNTS is "name=pattern|pattern;name=pattern", fnmatch patterns of
    OutSmart accounts; a service it does not name may ask for every account. A setting that is not so stops start-up
    with a message that names the service, never a key.
    """
    keys = _service_keys(app.config.get("SERVICE_KEYS") or {})
    app.config["SERVICE_ACCOUNTS"] = _service_accounts(app.config.get("SERVICE_ACCOUNTS") or {}, keys)
    app.config["SERVICE_KEYS"] = keys


def _service_keys(keys) -> dict[str, str]:
    """{name: key}, every key at least MIN_SERVICE_KEY_LENGTH characters and each service's own."""
    if isinstance(keys, str):
        keys = _parse_entries("SERVICE_KEYS", keys, ",", ":", "name:key")
    for name, key in keys.items():
        if len(key) < MIN_SERVICE_KEY_LENGTH:
            raise BadConfiguration(
                f"SERVICE_KEYS: the key of the service {name!r} is shorter than {MIN_SERVICE_KEY_LENGTH} characters, "
                f"so it could be guessed. Give it a random key of at least {MIN_SERVICE_KEY_LENGTH} characters "
                f"({MAKE_A_KEY} makes one) and start the app again.")
    if len(set(keys.values())) < len(keys):
        raise BadConfiguration("SERVICE_KEYS: two services have the same key. Give each service a key of its own, "
                               "and start the app again.")
    return dict(keys)


def _service_accounts(scopes, keys: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """{name: (pattern, …)} for the services SERVICE_ACCOUNTS names; each must have a key and a pattern."""
    if isinstance(scopes, str):
        scopes = _parse_entries("SERVICE_ACCOUNTS", scopes, ";", "=", "name=pattern|pattern")
    parsed = {}
    for name, patterns in scopes.items():
        if isinstance(patterns, str):
            patterns = patterns.split("|")
        parsed[name] = tuple(pattern.strip() for pattern in patterns if pattern.strip())
        if name not in keys:
            # Most likely a misspelt name, which would leave the real service free to ask for every account.
            raise BadConfiguration(f"SERVICE_ACCOUNTS names the service {name!r}, which SERVICE_KEYS has no key "
                                   "for. Correct the name, and start the app again.")
        if not parsed[name]:
            raise BadConfiguration(f"SERVICE_ACCOUNTS gives the service {name!r} no account pattern. Give at least "
                                   "one (e.g. acme-*), or take the service's key out of SERVICE_KEYS to shut it out.")
    return parsed


def _parse_entries(setting: str, text: str, between: str, within: str, shape: str) -> dict[str, str]:
    """Split "a:1,b:2" into {"a": "1", "b": "2"}; a malformed entry is named by its number only (it may hold a key)."""
    entries = {}
    for number, entry in enumerate((entry for entry in text.split(between) if entry.strip()), start=1):
        name, separator, value = (part.strip() for part in entry.partition(within))
        if not (separator and name):
            raise BadConfiguration(f"{setting}: entry {number} is not {shape} (entries are separated by "
                                   f"{between!r}). Correct it, and start the app again.")
        if name in entries:
            raise BadConfiguration(f"{setting} names the service {name!r} twice. Name each service once, and start "
                                   "the app again.")
        entries[name] = value
    return entries


MAKE_A_WEBHOOK_SECRET = ("python3 -c 'import base64, secrets; "
                         "print(\"whsec_\" + base64.b64encode(secrets.token_bytes(32)).decode())'")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _configure_webhooks(app):
    """WEBHOOK_URL: where events go (https; http only on this machine); WEBHOOK_SECRET: whsec_ and the base64 of
    24 to 64 random bytes, shared with OutSmart; WEBHOOK_TIMEOUT: seconds per attempt. A setting the app must not
    start with stops it with a sentence naming the setting, never its value."""
    url = (app.config.get("WEBHOOK_URL") or "").strip()
    secret = (app.config.get("WEBHOOK_SECRET") or "").strip()
    if secret and not _webhook_secret_is_sound(secret):
        raise BadConfiguration("WEBHOOK_SECRET must be whsec_ followed by the base64 of 24 to 64 random bytes "
                               f"({MAKE_A_WEBHOOK_SECRET} makes one). Give OutSmart the same secret, and start the "
                               "app again.")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise BadConfiguration("WEBHOOK_URL must be an https:// address of OutSmart's server, without a user "
                                   "name or password in it (the signature proves who sends). Correct it, and start "
                                   "the app again.")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK:
            raise BadConfiguration("WEBHOOK_URL must use https:// (plain http:// only to this machine): the events "
                                   "name the account and its administration. Correct it, and start the app again.")
        if not secret:
            raise BadConfiguration("WEBHOOK_URL is set but WEBHOOK_SECRET is not: events are only sent signed. Set "
                                   f"WEBHOOK_SECRET ({MAKE_A_WEBHOOK_SECRET} makes one, give OutSmart the same), "
                                   "and start the app again.")
    try:
        timeout = float(app.config["WEBHOOK_TIMEOUT"])
    except (TypeError, ValueError):
        timeout = 0
    if not 0 < timeout <= 60:
        raise BadConfiguration("WEBHOOK_TIMEOUT must be a number of seconds above 0 and at most 60. Correct it, and "
                               "start the app again.")
    app.config.update(WEBHOOK_URL=url or None, WEBHOOK_SECRET=secret or None, WEBHOOK_TIMEOUT=timeout)


def _webhook_secret_is_sound(secret: str) -> bool:
    """whsec_ and 24 to 64 bytes in strict base64 (standardwebhooks itself would accept almost anything)."""
    if not secret.startswith("whsec_"):
        return False
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(key) <= 64


def _configure_secrets(app):
    """Take SECRET_KEY and TOKEN_KEYS from configuration, else from files kept in the instance folder (which /readyz
    names: other machines would not share them)."""
    app.config["GENERATED_SECRETS"] = [name for name in ("SECRET_KEY", "EMBED_SECRET", "TOKEN_KEYS")
                                       if not app.config.get(name)]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app, "secret_key", lambda: secrets.token_hex(32))
    if not app.config.get("EMBED_SECRET"):
        app.config["EMBED_SECRET"] = _instance_secret(app, "embed_secret", lambda: secrets.token_hex(32))
    keys = app.config.get("TOKEN_KEYS") or _instance_secret(app, "token_key", lambda: Fernet.generate_key().decode())
    if isinstance(keys, str):
        keys = [key.strip() for key in keys.split(",") if key.strip()]
    app.config["TOKEN_KEYS"] = keys


def _instance_secret(app, name, make):
    """Read a generated secret from the instance folder, creating it once (readable by the owner only)."""
    path = os.path.join(app.instance_path, name)
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    with open(path) as handle:
        return handle.read().strip()


def _select_locale():
    """The visit's language (OutSmart's entry), else the one the browser prefers among ours, else Dutch."""
    return g.get("locale") or browser_language() or DEFAULT_LANGUAGE


def _serve_in_background(host, port, wsgi_app):
    """Serve a WSGI app on loopback in a daemon thread."""
    from werkzeug.serving import make_server

    server = make_server(host, port, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv=None):
    """Run the app; with no Exact credentials configured, run the simulator beside it (the demo)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    os.environ.setdefault("APP_URL", f"http://{args.host}:{args.port}")
    try:
        app = create_app()
    except BadConfiguration as refused:
        raise SystemExit(refused.message) from None
    if models.pending(models.db):
        raise SystemExit("The database is not up to date: run `flask --app app db upgrade`, then start the app again.")
    if app.config["DEMO"]:
        import exact_sim
        from views.demo_host import create_demo_host

        from exact_sim.settings import DEMO_LATENCY_MS

        # As slow as Exact (200 ms a call), so the demo shows the loading states an admin will see.
        sim = exact_sim.create_app({"mode": "demo", "redirect_uri": app.config["EXACT_REDIRECT_URI"],
                                    "latency_ms": DEMO_LATENCY_MS})
        _serve_in_background("127.0.0.1", DEMO_SIM_PORT, sim)
        host_origin = f"http://localhost:{DEMO_HOST_PORT}"
        _serve_in_background("localhost", DEMO_HOST_PORT,
                             create_demo_host(app, f"http://{args.host}:{args.port}"))
        print(f" * Demo: simulated Exact Online on http://127.0.0.1:{DEMO_SIM_PORT}, answering in {DEMO_LATENCY_MS} ms "
              "like Exact (users: see README)")
        print(f" * Demo: OutSmart's settings page embedding the app: {host_origin}/")
    print(f" * Open http://{args.host}:{args.port}/")
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
