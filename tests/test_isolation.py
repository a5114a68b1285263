"""Two OutSmart accounts side by side: nothing of account A is shown to, or changed by, account B or a visitor
without an entry, on any route of the app."""
import html
import os
import re
import tempfile

import pytest
from cryptography.fernet import Fernet

import models
from hostile import KEYED_BLUEPRINTS
from hostile import OPEN_FROM_OUTSMART
from models import Administration
from models import Connection
from models import Event
from models import ExactList
from models import LoginAttempt
from simhelpers import JAN
from simhelpers import PIET
from views.embed import PUBLIC_ENDPOINTS
from views.embed import make_entry_token
from wizard_actions import HTMX
from wizard_actions import WizardActions
from wizard_actions import path_of
from wizard_actions import query_of

A = "account-alpha-7f3"  # logs in at Exact as JAN: 101–104
B = "account-bravo-2c9"  # logs in at Exact as PIET: 111, 112
A_CODES = (101, 102, 103, 104)
A_TEXTS = ("Jan Bakker", JAN, "Bakker Installatietechniek", "Bakker Onderhoud", "Bakker Verhuur", "Bakker Projecten",
           "Bakker Holding", A, "Anna Alfa")
A_CODE = re.compile(r"(?<![\w.-])(?:%s)(?![\w.-])" % "|".join(map(str, A_CODES)))


def _routes() -> dict:
    """{path rule: {method: endpoint}} of every route but static files, from the app's own url_map."""
    from app import create_app

    # Built at collection only to read its url_map; a throwaway file, as every test database is.
    database = os.path.join(tempfile.mkdtemp(), "routes.sqlite")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "routes", "EMBED_SECRET": "routes", "TOKEN_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{database}", "EXACT_CLIENT_ID": "routes", "EXACT_CLIENT_SECRET": "routes",
        "EXACT_BASE_URLS": "nl=http://127.0.0.1:9/nl", "DEMO": False,
    })
    return _route_table(app)


def _route_table(app) -> dict:
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.setdefault(rule.rule, {})[method] = rule.endpoint
    return routes


ROUTES = _routes()


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of that name, which pushes one request context for the whole test: under it
    every test-client request, A's and B's alike, shares one app context and so one `g`. Here each request gets its
    own, as in production."""


def enter(app, account, user):
    """A browser (its own test client, keeping cookies) that opened the settings from OutSmart for `account`."""
    client = app.test_client()
    with app.app_context():
        token = make_entry_token(account, user)
    response = client.get(f"/embed?token={token}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return client


class World:
    """A has saved its connection (and has login attempts of every kind); B is logged in with its own Exact user."""

    def __init__(self, app, sim):
        app.config["DEFAULT_ACCOUNT"] = None
        self.app = app
        self.sim = sim
        self.a = enter(app, A, "Anna Alfa")
        self.b = enter(app, B, "Bert Bravo")
        self.nobody = app.test_client()

        wizard_a = WizardActions(self.a, sim)
        assert wizard_a.complete(JAN, 101).status_code == 303
        self.connected_attempt = LoginAttempt.get((LoginAttempt.account == A) & LoginAttempt.outcome.is_null(False))
        # A popup login A started and has not finished.
        assert self.a.post("/exact/land", data={"country": "nl", "popup": "1"}).status_code == 200
        self.popup_attempt = LoginAttempt.get((LoginAttempt.account == A) & (LoginAttempt.mode == LoginAttempt.POPUP))
        # A page login back from Exact with a fresh code, its callback not yet opened.
        authorize = wizard_a.start_login()
        self.page_attempt = LoginAttempt.get(LoginAttempt.state == query_of(authorize)["state"])
        self.page_callback = path_of(self.sim.login(authorize, JAN))

        wizard_b = WizardActions(self.b, sim)
        assert wizard_b.connect(PIET).status_code == 303
        assert wizard_b.choose(111).status_code == 303
        assert wizard_b.configure().status_code == 303

        self.connection = Connection.get(Connection.account == A)
        assert self.connection.status == Connection.SAVED and self.connection.division == 101
        assert Administration.select().where(Administration.connection == self.connection).count() == 4
        assert ExactList.select().where(ExactList.connection == self.connection).count() > 0
        assert Event.select().where(Event.account == A).count() >= 2
        self.attempts = [self.connected_attempt, self.popup_attempt, self.page_attempt]
        self.secrets = [self.connection.access_token, self.connection.refresh_token,
                        *(attempt.state for attempt in self.attempts)]
        self.post_data = {"country": "nl", "division": "101", "confirm": "y", **_form_data(self.connection.settings)}

    # What A has, read straight from the tables (encrypted columns as stored: a rewrite shows even with equal values).

    def rows(self, model, where, exclude=()):
        table = model._meta.table_name
        column, value = where
        cursor = models.db.execute_sql(
            f"SELECT * FROM {table} WHERE {column} = {models.db.param} ORDER BY 1", (value,))
        names = [description[0] for description in cursor.description]
        return [{name: value for name, value in zip(names, row) if name not in exclude} for row in cursor.fetchall()]

    def snapshot(self):
        """A's rows in every table."""
        return {
            "connection": self.rows(Connection, ("account", A)),
            "administration": self.rows(Administration, ("connection_id", self.connection.id)),
            "exactlist": self.rows(ExactList, ("connection_id", self.connection.id)),
            "event": self.rows(Event, ("account", A)),
            "loginattempt": self.rows(LoginAttempt, ("account", A)),
        }

    @staticmethod
    def totals():
        return {model.__name__: model.select().count() for model in models.MODELS}

    def assert_nothing_of_a(self, response, context, allowed=()):
        """Neither the body nor any header names A's Exact user, administrations, codes, account, tokens or states.

        The request's own query (bait like ?division=101&account=A) may be echoed back, e.g. in a redirect."""
        body = _without_echo(response.get_data(as_text=True), response.request)
        headers = _without_echo("\n".join(f"{name}: {value}" for name, value in response.headers.items()),
                                response.request)
        for secret in [*A_TEXTS, *self.secrets]:
            if secret and secret not in allowed:
                assert secret not in body and secret not in headers, f"{context}: shows A's {secret!r}"
        match = A_CODE.search(body)
        assert match is None, f"{context}: shows A's code: …{body[max(0, match.start() - 80):match.end() + 80]}…"

    def urls(self, rule):
        """The URLs to try for a route: its parameters filled with A's values, bait for A's data in the query."""
        if rule == "/exact/callback":
            return [self.page_callback,  # A's state with A's real, unused code
                    f"/exact/callback?state={self.popup_attempt.state}&code=made-up",
                    f"/exact/callback?state={self.page_attempt.state}&error=access_denied"]
        values = {"attempt_id": [attempt.id for attempt in self.attempts], "account": [A]}
        arguments = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
        unknown = set(arguments) - set(values)
        assert not unknown, f"{rule}: say which of A's values to fill in for {unknown}"
        urls = [rule]
        for name in arguments:
            urls = [re.sub(r"<(?:[^:<>]+:)?%s>" % name, value, url) for url in urls for value in values[name]]
        bait = f"q=Bakker&division=101&page=1&closed=1&account={A}"
        return [f"{url}?{bait}" for url in urls]


def _without_echo(text, request):
    """`text` without the request's own query string, as sent or as HTML writes it."""
    query = request.query_string.decode()
    if query:
        for form in (query, html.escape(query), html.escape(query, quote=False)):
            text = text.replace(form, "")
    return text


def _form_data(settings):
    """A's saved settings as form fields (lists become repeated fields)."""
    return {name: value for name, value in (settings or {}).items()
            if value is not None and value is not False and value != []}


@pytest.fixture
def world(app, sim):
    return World(app, sim)


def test_the_route_table_is_the_apps(world):
    """The parametrized routes are the running app's routes, every one of them."""
    assert _route_table(world.app) == ROUTES
    assert "/exact/instellingen" in ROUTES and "/exact/login/<attempt_id>/status" in ROUTES


def test_the_checks_would_see_a_leak(world):
    """A's pages show what the other tests look for; B's show B's own, so B is really logged in."""
    a_page = world.a.get("/exact").get_data(as_text=True) + world.a.get("/exact/administratie").get_data(as_text=True)
    for text in ("Jan Bakker", JAN, "Bakker Installatietechniek"):
        assert text in a_page, text
    assert A_CODE.search(a_page)
    with pytest.raises(AssertionError):
        world.assert_nothing_of_a(world.a.get("/exact"), "A itself")
    b_page = world.b.get("/exact/verbinding").get_data(as_text=True)
    assert "Piet de Vries" in b_page and "Jan Bakker" not in b_page
    assert "De Vries Klimaattechniek" in world.b.get("/exact/administratie").get_data(as_text=True)


@pytest.mark.parametrize("rule", sorted(ROUTES))
def test_every_route_keeps_a_to_itself(world, rule):
    """GET and POST on every route, as B and without an entry, plain and htmx: nothing of A shown or changed."""
    methods = ROUTES[rule]
    for visitor, client in (("B", world.b), ("no entry", world.nobody)):
        for url in world.urls(rule):
            for method in ("GET", "POST"):
                endpoint = methods.get(method)
                for headers in ({}, HTMX):
                    context = f"{visitor}: {method} {url} {headers or ''}"
                    # The popup start is public and found by its unguessable attempt id alone (the popup is a
                    # first-party window without the iframe's session). It says whose login it is - A's account and
                    # the user who started it - so that someone sent the link knows what it would connect; it goes
                    # on to Exact only with the secret A's iframe holds. Back from Exact without the popup's cookie,
                    # the page keeps only what the request itself brought. Nothing else of A may move or show.
                    popup_start = endpoint == "login.popup_start"
                    before = world.snapshot()
                    totals = world.totals()
                    response = client.open(url, method=method, headers=headers,
                                           data=world.post_data if method == "POST" else None)
                    allowed = (A, "Anna Alfa") if popup_start else (
                        (world.popup_attempt.state,) if endpoint == "login.callback" else ())
                    world.assert_nothing_of_a(response, context, allowed)
                    assert world.snapshot() == before, f"{context}: changed A's rows"
                    if visitor == "no entry":
                        assert world.totals() == totals, f"{context}: stored something without an entry"
                    _assert_refused_as_expected(rule, visitor, endpoint, response, context)


def _assert_refused_as_expected(rule, visitor, endpoint, response, context):
    status = response.status_code
    if endpoint is None:
        assert status == 405, context
    elif endpoint.split(".")[0] in KEYED_BLUEPRINTS:
        if "<" in rule:  # about an account: without a service key, a session (B's or none) opens nothing
            assert status >= 400, f"{context}: {status}"
    elif visitor == "no entry" and endpoint not in PUBLIC_ENDPOINTS:
        assert status == 401, f"{context}: {status}"
        assert OPEN_FROM_OUTSMART in response.get_data(as_text=True), context
    elif endpoint == "embed.enter":
        assert status == 401, f"{context}: {status}"  # no token: no entry, for B too
    elif endpoint == "login.callback":
        # A's popup state without the popup's cookie: the page only asks its (missing) iframe for the secret.
        asks = status == 200 and "data-handoff-missing" in response.get_data(as_text=True)
        assert status == 400 or asks, f"{context}: {status}"
    elif endpoint in ("login.popup_continue", "login.callback_confirm"):
        assert status in (400, 403), f"{context}: {status}"  # no secret from A's iframe
    elif endpoint == "login.popup_status":
        assert status == 404, f"{context}: {status}"


def test_b_asking_for_the_status_of_as_login_gets_404_and_changes_nothing(world):
    # Control: A itself is told its popup login is still waiting.
    own = world.a.get(f"/exact/login/{world.popup_attempt.id}/status", headers=HTMX)
    assert own.status_code == 200 and "Meld u aan bij Exact Online" in own.get_data(as_text=True)
    before = world.snapshot()
    for attempt in world.attempts:
        for query in ("", "?closed=1"):
            for headers in ({}, HTMX):
                response = world.b.get(f"/exact/login/{attempt.id}/status{query}", headers=headers)
                assert response.status_code == 404, (attempt.id, query, response.status_code)
                world.assert_nothing_of_a(response, f"B status {attempt.id}{query}")
                anonymous = world.nobody.get(f"/exact/login/{attempt.id}/status{query}", headers=headers)
                assert anonymous.status_code == 401 and OPEN_FROM_OUTSMART in anonymous.get_data(as_text=True)
    assert world.snapshot() == before
    waiting = LoginAttempt.get_by_id(world.popup_attempt.id)
    assert waiting.outcome is None and waiting.used_at is None


def test_b_coming_back_with_as_state_is_refused_and_a_can_still_finish(world, sim):
    before = world.snapshot()
    token_requests = len(sim.calls(kind="token"))
    for client in (world.b, world.nobody):
        refused = client.get(world.page_callback)
        assert refused.status_code == 400, refused.status_code
        world.assert_nothing_of_a(refused, "callback of A's page login")
        asked = client.get(f"/exact/callback?state={world.popup_attempt.state}&code=made-up")
        assert asked.status_code == 200 and "data-handoff-missing" in asked.get_data(as_text=True)
        world.assert_nothing_of_a(asked, "callback of A's popup login", (world.popup_attempt.state,))
        vouched = client.post("/exact/callback", data={"state": world.popup_attempt.state, "code": "made-up"})
        assert vouched.status_code == 403
        world.assert_nothing_of_a(vouched, "callback of A's popup login, posted")
    assert world.snapshot() == before
    assert len(sim.calls(kind="token")) == token_requests  # A's code was never exchanged
    attempt = LoginAttempt.get_by_id(world.page_attempt.id)
    assert attempt.used_at is None and attempt.outcome is None
    # The state and the code still work for A, in A's own browser.
    finished = world.a.get(world.page_callback)
    assert finished.status_code == 303, finished.get_data(as_text=True)
    assert LoginAttempt.get_by_id(world.page_attempt.id).outcome == "connected"
    assert Connection.get(Connection.account == B).exact_user_name == "Piet de Vries"


def test_b_posting_as_administration_codes_is_refused(world):
    b_before = Connection.get(Connection.account == B)
    assert b_before.draft_division == 111
    a_before = world.snapshot()
    for code in A_CODES:
        for headers in ({}, HTMX):
            response = world.b.post("/exact/administratie", data={"division": str(code)}, headers=headers)
            assert response.status_code == 422, (code, response.status_code)
            assert "hoort niet bij de toegang" in response.get_data(as_text=True)
            world.assert_nothing_of_a(response, f"B posts {code}")
    assert Connection.get(Connection.account == B).draft_division == 111
    assert world.snapshot() == a_before
    # Control: B's own other administration is accepted, so the refusal is about whose code it is.
    assert world.b.post("/exact/administratie", data={"division": "112"}).status_code == 303
    assert Connection.get(Connection.account == B).draft_division == 112
    assert world.snapshot() == a_before
