"""Shared by the hostile-input tests: hostile values, what a refusal must say, where the app may send a browser,
and the database as stored (to prove that a refusal changed nothing)."""
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

import models
from conftest import WORKER_KEY as KEY
from models import Administration
from models import Connection
from models import LoginAttempt
from simhelpers import JAN
from views.embed import make_entry_token
from wizard_actions import WizardActions

# The same examples on every run (derandomize: CI never flakes on a new random draw) and no example database
# written into the repository. The fixtures are built once per test, not per example: each test resets what an
# example changed itself.
HOSTILE = settings(max_examples=50, deadline=None, derandomize=True, database=None, print_blob=False,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.data_too_large, HealthCheck.large_base_example])

OPEN_FROM_OUTSMART = "Open deze pagina vanuit OutSmart"
# Blueprints whose callers are admitted by a key of their own, not by OutSmart's entry (the workers' JSON API).
KEYED_BLUEPRINTS = {"api"}
PAGE_EXPIRED = "Deze pagina was verlopen"

# --- hostile values ------------------------------------------------------------------------------------------------

# Big values travel through hypothesis as short names (so a failing example prints in a line) and are made real by
# materialise() just before they are sent. Flask's multipart limits (MAX_FORM_PARTS 1000, MAX_FORM_MEMORY_SIZE
# 500 kB) lie far between these and the small values.
BIG = {"<1 MB of x>": "x" * 1_000_000, "<1 MB of é€𝔘>": "é€𝔘" * 120_000, "<1000 NULs>": "\x00" * 1000,
       "<5000 nines>": "9" * 5000}
MANY_FIELDS = "<3000 more fields>"
THOUSANDS_OF_FIELDS = {f"field{number}": str(number) for number in range(3000)}
SPECIAL_VALUES = [
    "", " ", "   ", "\t", "\r\n", "\x00", "nl\x00", "101\x00", "-1", "0", "-0", "1e3", "1.5", "NaN", "inf", "0x65",
    "1_01", "١٠١", " 101 ", str(2 ** 31), str(2 ** 63), str(-2 ** 63 - 1), "9" * 30, "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>", "' OR '1'='1' --", "%00", "%2e%2e%2f", "../../etc/passwd",
    "javascript:alert(1)", "//evil.example", "https://evil.example", "\\\\evil.example", "\u202e\u200b\ufeff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "y", "true", "false", "on", "null", "[]", "{}", *BIG,
]
# Any character UTF-8 can carry (lone surrogates cannot be sent in a form or a URL; the raw query strings below send
# their bytes), NUL and the other control characters included.
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
hostile_value = st.one_of(st.sampled_from(SPECIAL_VALUES), text,
                          st.integers(min_value=-2 ** 70, max_value=2 ** 70).map(str))
# Query strings no form would send: invalid percent escapes, the UTF-8 of a lone surrogate, bytes that are not UTF-8,
# an encoded NUL, repeated names.
RAW_QUERIES = ["q=%ED%A0%80", "q=%FF%FE%FD", "q=%", "q=%ZZ&page=%", "page=%00", "q=%00", "a=1&a=2&a=3&a=",
               "q=" + "%41" * 5000, "&&&==&=", "page=99999999999999999999&page=1", "_method=POST&_external=1"]
# Names that redirect, post a message or build a URL somewhere, and the app's own parameters.
INTERESTING_KEYS = ["next", "return_to", "redirect_uri", "url", "origin", "target", "host_origin", "_external",
                    "_scheme", "_anchor", "_method", "state", "code", "error", "q", "page", "closed", "token",
                    "division", "account", "country", "popup", "confirm"]


# The CSRF and session fields are left out: each test sets those itself, to know whether they were valid.
def hostile_form(fields, good_values=()):
    """Form data: the route's fields and others, single or repeated, hostile or (sometimes) good values."""
    values = st.one_of(st.sampled_from(list(good_values) or [""]), hostile_value)
    single_or_repeated = st.one_of(values, st.lists(values, min_size=2, max_size=4))
    keys = st.one_of(st.sampled_from(INTERESTING_KEYS), text).filter(
        lambda key: not key.endswith("csrf_token") and key != "_session")
    own = st.fixed_dictionaries({}, optional={field: single_or_repeated for field in fields})
    others = st.dictionaries(keys, single_or_repeated, max_size=5)
    # One form in six also carries thousands of other fields.
    return st.tuples(own, others, st.integers(0, 5)).map(
        lambda drawn: {**({MANY_FIELDS: ""} if drawn[2] == 0 else {}), **drawn[1], **drawn[0]})


def materialise(value):
    """The value to send for a drawn one: big values and the thousands of fields made real."""
    if isinstance(value, dict):
        real = {materialise(key): materialise(item) for key, item in value.items() if key != MANY_FIELDS}
        return {**THOUSANDS_OF_FIELDS, **real} if MANY_FIELDS in value else real
    if isinstance(value, (list, tuple)):
        return type(value)(materialise(item) for item in value)
    return BIG.get(value, value) if isinstance(value, str) else value


def hostile_query():
    """A query string: pairs of hostile names and values (repeated names too), or one already encoded."""
    pairs = st.lists(st.tuples(st.one_of(st.sampled_from(INTERESTING_KEYS), text), hostile_value), max_size=6)
    return st.one_of(pairs, st.sampled_from(RAW_QUERIES))


def first(form: dict, name: str):
    """The value a form field reads: the first of a repeated one, None when absent."""
    value = form.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def contains_nul(*parts) -> bool:
    """Whether a NUL character is anywhere in these strings, dicts, lists or (name, value) pairs."""
    for part in parts:
        if isinstance(part, dict):
            part = [*part.keys(), *part.values()]
        if isinstance(part, (list, tuple)):
            if contains_nul(*part):
                return True
        elif isinstance(part, str) and "\x00" in part:
            return True
    return False


# --- what a refusal says --------------------------------------------------------------------------------------------

class _Text(HTMLParser):
    """The text of the visible role="alert" elements, of <main>, and of the whole page."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.alerts, self.main, self.all = [], [], []
        self._alert = None  # (tag, depth) of the alert being read
        self._depth = 0
        self._in_main = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        self._depth += 1
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "main":
            self._in_main += 1
        if self._alert is None and attrs.get("role") == "alert" and "hidden" not in attrs:
            self._alert = (tag, self._depth)
            self.alerts.append("")

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self._alert is not None and self._alert == (tag, self._depth):
            self._alert = None
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag == "main":
            self._in_main = max(0, self._in_main - 1)
        self._depth -= 1

    def handle_data(self, data):
        if self._skip:
            return
        self.all.append(data)
        if self._in_main:
            self.main.append(data)
        if self._alert is not None:
            self.alerts[-1] += data


def _words(parts) -> str:
    return " ".join(" ".join(parts).split())


def refusal_message(response) -> str:
    """What a refused request tells its reader: the JSON message, the page's alert, or the page's own text."""
    if response.is_json:
        body = response.get_json(silent=True) or {}
        return str(body.get("message") or "")
    page = _Text()
    page.feed(response.get_data(as_text=True))
    return _words(page.alerts) or _words(page.main) or _words(page.all)


def assert_refused_with_a_message(response, statuses, context, says=None):
    """The status is one of `statuses`, and the body tells a person what happened in a sentence (`says`, if given)."""
    assert response.status_code in statuses, f"{context}: {response.status_code} not in {statuses}"
    message = refusal_message(response)
    assert len(message.split()) >= 4, f"{context}: {response.status_code} without a message: {message[:200]!r}"
    assert "Traceback" not in message and "Internal Server Error" not in message, context
    if says:
        assert says in message, f"{context}: expected {says!r} in {message[:300]!r}"


# --- where the app sends a browser ----------------------------------------------------------------------------------

# Attributes whose value a browser follows, fetches or posts to.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete",
                  "hx-push-url", "data-login-url", "data-login-status"}


class _Addresses(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is not None and (name in URL_ATTRIBUTES or name in ("data-host-origin", "data-app-origin")):
                self.found.append((f"<{tag} {name}>", name, value))


# A browser drops tabs and newlines, trims spaces and control characters, and takes a backslash for a slash:
# /\evil and //evil leave the site.
def is_own_address(url: str, own_origin: str = "") -> bool:
    """A path on this app (or a URL on `own_origin`), read as a browser reads it."""
    url = re.sub(r"[\t\n\r]", "", url).strip("".join(chr(code) for code in range(0x21)))
    if own_origin and url.startswith(own_origin + "/"):
        url = url[len(own_origin):]
    if url == "" or url.startswith("#") or url.startswith("?"):
        return True
    return url.startswith("/") and not url[1:2] in ("/", "\\")


# A redirect elsewhere goes only to a configured Exact host's authorize page, with the configured redirect URI;
# messages are posted only to the entry's configured host origin or the app's own origin.
def assert_stays_home(app, response, context):
    """Every address in the answer is this app, Exact's configured login, or a configured host origin."""
    own_origin = response.request.host_url.rstrip("/")
    location = response.headers.get("Location")
    if location is not None and not is_own_address(location, own_origin):
        assert_exact_login(app, location, context)
    for header in ("HX-Redirect", "HX-Location", "Refresh"):
        assert header not in response.headers, f"{context}: {header}"
    if not response.mimetype.startswith("text/html") or 300 <= response.status_code < 400:
        return  # a redirect's body only links to its Location
    page = _Addresses()
    page.feed(response.get_data(as_text=True))
    for where, name, value in page.found:
        if name == "data-host-origin":
            assert value in app.config["HOST_ORIGINS"], f"{context}: {where}={value!r}"
        elif name == "data-app-origin":
            assert value == own_origin, f"{context}: {where}={value!r}"
        elif not (name == "hx-push-url" and value in ("true", "false")):
            assert is_own_address(value), f"{context}: {where}={value[:200]!r} leaves the app"


def assert_exact_login(app, location, context):
    """`location` is the authorize page of a configured Exact host, for our client and our redirect URI."""
    hosts = app.config["EXACT_HOSTS"].values()
    assert any(location.startswith(f"{host}/api/oauth2/auth?") for host in hosts), f"{context}: to {location[:200]}"
    params = parse_qs(urlsplit(location).query)
    assert params["redirect_uri"] == [app.config["EXACT_REDIRECT_URI"]], f"{context}: {params['redirect_uri']}"
    assert params["client_id"] == [app.config["EXACT_CLIENT_ID"]], context
    assert params["response_type"] == ["code"] and len(params["state"]) == 1, context


# --- the database as stored -----------------------------------------------------------------------------------------

# Bookkeeping a refused request may still update: the rate-limit headers Exact sent on a check it made.
BOOKKEEPING = {"connection": {"rate_limits"}}
# A cache of Exact's own lists (journals, VAT codes, …): reading them is no change to anything the admin set.
CACHES = ("exactlist",)
# The rate limits' counts (views/throttle.py): a failed entry or a login start is counted, that is what they are for.
COUNTS = "ratelimitcount"


def snapshot() -> dict:
    """Every table's rows as stored (encrypted columns included, so a rewrite shows even with equal values)."""
    tables = {}
    for model in models.MODELS:
        table = model._meta.table_name
        cursor = models.db.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1')
        names = tuple(description[0] for description in cursor.description)
        tables[table] = (names, [tuple(row) for row in cursor.fetchall()])
    return tables


def comparable(tables: dict, skip_tables=()) -> dict:
    """The snapshot without the bookkeeping columns (and without `skip_tables`), for before/after comparisons."""
    result = {}
    for table, (names, rows) in tables.items():
        if table in skip_tables or table in CACHES:
            continue
        keep = [index for index, name in enumerate(names) if name not in BOOKKEEPING.get(table, ())]
        result[table] = [{names[index]: row[index] for index in keep} for row in rows]
    return result


def restore(tables: dict) -> None:
    """Put every table back as the snapshot holds it (children deleted first, parents inserted first)."""
    by_name = {model._meta.table_name: model for model in models.MODELS}
    with models.db.atomic():
        for model in reversed(models.MODELS):
            models.db.execute_sql(f'DELETE FROM "{model._meta.table_name}"')
        for table, (names, rows) in tables.items():
            assert table in by_name
            columns = ", ".join(f'"{name}"' for name in names)
            marks = ", ".join([models.db.param] * len(names))
            for row in rows:
                models.db.execute_sql(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', row)


# --- the stage ------------------------------------------------------------------------------------------------------

A = "acme"  # logged in at Exact as Jan (101–104 consented; 101 and 102 selectable)
B = "bravo"  # another OutSmart account, with its own consent (111, 112)


# Built once per test: hypothesis runs every example on it, and each example puts back what it changed.
class Stage:
    """Account A ready to save (or saved) through the real flow; B beside it; CSRF checked as in production."""

    def __init__(self, app, sim, saved):
        app.config.update(DEFAULT_ACCOUNT=None, SERVICE_KEYS={"sync-worker": KEY})
        # Accepted examples call Exact (rights, lists) many times a minute; its rate limit is not under test here.
        sim.settings(minutely_limit=1_000_000, daily_limit=1_000_000)
        self.app, self.sim, self.saved = app, sim, saved
        self.client = app.test_client()
        enter(app, self.client, A)
        wizard = WizardActions(self.client, sim)
        assert wizard.connect(JAN).status_code == 303
        assert wizard.choose(101).status_code == 303
        self.options = wizard.settings_choices()
        assert wizard.configure().status_code == 303
        # Exact's lists and counts cached, as after any visit: the examples then cost Exact nothing (its rate limit).
        for page in ("/exact/administratie", "/exact/instellingen"):
            assert self.client.get(page).status_code == 200, page
        if saved:
            assert wizard.save().status_code == 303
        # A popup login A started and has not finished, for the routes that take an attempt id.
        assert self.client.post("/exact/land", data={"country": "nl", "popup": "1"}).status_code == 200
        self.popup_attempt = LoginAttempt.get(LoginAttempt.mode == LoginAttempt.POPUP)
        other = Connection.create(account=B, status=Connection.CONNECTED, country="nl", base_url=sim.base_url("nl"),
                                  exact_user_id="piet", access_token="b-access", refresh_token="b-refresh")
        for code in (111, 112):
            Administration.create(connection=other, code=code, name=f"Bravo {code}")
        app.config["WTF_CSRF_ENABLED"] = True
        self.csrf = csrf_token_of(self.client)
        self.cookie = self.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
        other_visit = app.test_client()
        enter(app, other_visit, A)
        self.other_visit_csrf = csrf_token_of(other_visit)
        self.csrf_secret = app.session_interface.get_signing_serializer(app).loads(self.cookie)["csrf_token"]
        self.other_key_csrf = URLSafeTimedSerializer("not-the-secret-key", salt="wtf-csrf-token").dumps(
            self.csrf_secret)
        mine = self.connection()
        self.settings = mine.settings
        self.setting_names = set(mine.settings if saved else mine.draft_settings)
        self.attempt_ids = [attempt.id for attempt in LoginAttempt.select()]
        self.tables = snapshot()
        self.token_exchanges = len(sim.calls(kind="token"))

    def fresh_visit(self):
        """Back to A's own session cookie (a failed /embed entry clears it) and A's rows as built."""
        self.client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookie)

    def connection(self, account=A) -> Connection:
        return Connection.get(Connection.account == account)

    def put_back(self):
        """Undo what an accepted example stored, so the next example starts from the same rows."""
        if comparable(snapshot()) != comparable(self.tables):
            restore(self.tables)

    def assert_unchanged(self, context, skip_tables=()):
        skip_tables = [*skip_tables, COUNTS]
        assert comparable(snapshot(), skip_tables) == comparable(self.tables, skip_tables), f"{context}: rows changed"


# --- entering the app -----------------------------------------------------------------------------------------------

def enter(app, client, account, user="Anna de Boer", host_origin=None):
    """Open the settings from OutSmart's signed entry in `client` (it keeps the session cookie)."""
    with app.app_context():
        token = make_entry_token(account, user, "nl", host_origin)
    response = client.get(f"/embed?token={token}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def csrf_token_of(client, path="/exact/land") -> str:
    """The CSRF token a page of this visit carries."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'"X-CSRFToken":\s*"([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)
