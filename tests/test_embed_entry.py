"""OutSmart's signed entry (/embed), the session that travels without cookies, and the embedding headers."""
import base64
import json
import re
from contextlib import contextmanager
from html.parser import HTMLParser
from unittest import mock

import pytest
from flask.cli import cli as flask_cli
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer

from hostile import KEYED_BLUEPRINTS
from hostile import OPEN_FROM_OUTSMART
from models import Connection
from models import LoginAttempt
from views.embed import ENTRY_SALT
from views.embed import PUBLIC_ENDPOINTS
from views.embed import make_entry_token
from wizard_actions import path_of

CONFIGURED_ORIGINS = ["https://app.out-smart.com", "http://localhost:5050"]  # conftest's HOST_ORIGINS


# --- helpers -------------------------------------------------------------------------------------------------------

def token_for(app, account="acme", user="Anna de Boer", locale="nl", host_origin=None):
    with app.app_context():
        return make_entry_token(account, user, locale, host_origin)


def sign(app, payload, secret=None, salt=ENTRY_SALT):
    """Sign any payload the way OutSmart would (or with another secret or salt)."""
    return URLSafeTimedSerializer(secret or app.config["EMBED_SECRET"], salt=salt).dumps(payload)


def entry(account="acme", user="Anna de Boer", locale="nl", host_origin="https://app.out-smart.com", **changes):
    payload = {"account": account, "user": user, "locale": locale, "host_origin": host_origin}
    payload.update(changes)
    return payload


def without(key):
    payload = entry()
    del payload[key]
    return payload


def decode_session(app, value):
    """The session dict inside a signed session value (cookie, X-Session or _session)."""
    return app.session_interface.get_signing_serializer(app).loads(value)


def stored_session(app, client):
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, "no session cookie"
    return decode_session(app, cookie.value)


@contextmanager
def clock_ahead(seconds):
    """Every itsdangerous timestamp (entry tokens and sessions) read `seconds` later than now."""
    real = TimestampSigner.get_timestamp
    with mock.patch.object(TimestampSigner, "get_timestamp", lambda self: real(self) + seconds):
        yield


class _Page(HTMLParser):
    """The body's attributes and the hidden inputs of a page."""

    def __init__(self):
        super().__init__()
        self.body = None
        self.hidden = {}
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "input" and attrs.get("type") == "hidden":
            self.hidden.setdefault(attrs["name"], attrs.get("value"))
        elif tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1


def parse(response):
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return page


def hx_headers(response):
    """The headers htmx sends with every request, from the page's <body hx-headers='…'>."""
    page = parse(response)
    assert page.body is not None and "hx-headers" in page.body, response.get_data(as_text=True)[:500]
    return json.loads(page.body["hx-headers"])


def assert_open_from_outsmart(response):
    assert response.status_code == 401, (response.status_code, response.get_data(as_text=True)[:300])
    assert OPEN_FROM_OUTSMART in response.get_data(as_text=True)


def guarded_requests(app):
    """(method, path) for every route that needs an entry, with a made-up attempt id where one is needed."""
    requests = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.split(".")[0] in KEYED_BLUEPRINTS:
            continue
        path = rule.build({name: "made-up-attempt" for name in rule.arguments}, append_unknown=False)[1]
        requests += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return requests


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of that name, which pushes one request context for the whole test: under it
    every test-client request shares one app context and so one `g`, where Flask-WTF caches the CSRF token and
    Flask-Babel the locale. Here each request gets its own, as in production."""


@pytest.fixture
def production(app):
    """As in production: no default account, so nothing without OutSmart's entry."""
    app.config["DEFAULT_ACCOUNT"] = None
    return app


@pytest.fixture
def acme_saved(app):
    """Two accounts with a saved connection each, so a page shows whose it is."""
    Connection.create(account="acme", status=Connection.SAVED, country="nl", division=555,
                      division_name="Acme Installaties B.V.")
    Connection.create(account="demo", status=Connection.SAVED, country="nl", division=777,
                      division_name="Demo Holding B.V.")


# --- a valid entry -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("default_account", [None, "demo"])
def test_a_valid_entry_shows_the_integrations_of_its_own_account(app, client, acme_saved, default_account):
    app.config["DEFAULT_ACCOUNT"] = default_account
    response = client.get(f"/embed?token={token_for(app, 'acme')}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Software-integraties" in html and "Exact Online" in html
    assert "Verbonden met administratie Acme Installaties B.V. (555)" in html
    assert 'data-exact-division="555"' in html
    assert "Demo Holding" not in html
    # The next requests stay with that account.
    for path in ("/integraties", "/exact"):
        later = client.get(path).get_data(as_text=True)
        assert "Acme Installaties B.V." in later and "Demo Holding" not in later, path
    session = stored_session(app, client)
    assert session["account"] == "acme" and session["user"] == "Anna de Boer" and session["embedded"] is True
    assert session["host_origin"] == "https://app.out-smart.com"
    assert session["csrf_token"]


def test_the_page_names_its_host_for_the_messages_to_outsmart(app, client):
    html = client.get(f"/embed?token={token_for(app, host_origin='http://localhost:5050')}").get_data(as_text=True)
    assert 'data-host-origin="http://localhost:5050"' in html


def test_a_new_entry_replaces_the_previous_visit(production, client, acme_saved):
    first = client.get(f"/embed?token={token_for(production, 'acme')}")
    old = hx_headers(first)
    second = client.get(f"/embed?token={token_for(production, 'demo', user='Bert')}")
    assert second.status_code == 200 and "Demo Holding B.V." in second.get_data(as_text=True)
    session = stored_session(production, client)
    assert session["account"] == "demo" and session["user"] == "Bert"
    assert session["csrf_token"] != decode_session(production, old["X-Session"])["csrf_token"]
    assert "Acme" not in client.get("/exact").get_data(as_text=True)


def test_the_longest_account_name_is_accepted(production, client):
    account = "a" * 100
    assert client.get(f"/embed?token={token_for(production, account)}").status_code == 200
    assert stored_session(production, client)["account"] == account


def test_an_entry_from_an_origin_matching_a_configured_pattern_is_accepted(production, client):
    production.config["HOST_ORIGINS"] = ["https://*.out-smart.com"]
    response = client.get(f"/embed?token={sign(production, entry(host_origin='https://acme.out-smart.com'))}")
    assert response.status_code == 200
    assert stored_session(production, client)["host_origin"] == "https://acme.out-smart.com"


def test_a_pattern_matches_bare_origins_only(production, client):
    production.config["HOST_ORIGINS"] = ["https://*.out-smart.com"]
    for origin in ("https://evil.example/x.out-smart.com", "https://evil.example?.out-smart.com",
                   "https://evil.example#.out-smart.com"):
        response = client.get(f"/embed?token={sign(production, entry(host_origin=origin))}")
        assert response.status_code == 401, origin


def test_a_failed_entry_ends_the_earlier_visit(production, client):
    assert client.get(f"/embed?token={token_for(production)}").status_code == 200
    assert client.get("/embed?token=forged").status_code == 401
    assert client.get("/integraties").status_code == 401


# --- refused entries -----------------------------------------------------------------------------------------------

def _forged_payload(app):
    """A real token's signature on another payload."""
    return _resigned_payload(token_for(app, "victim"), token_for(app, "acme"))


def _swapped_signature(app):
    """A real payload with a signature taken from another real token."""
    return _resigned_payload(token_for(app, "acme"), token_for(app, "victim", user="Someone else"))


def _unsigned(app):
    """The payload alone, base64 as itsdangerous writes it, with no signature."""
    raw = json.dumps(entry(), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


REFUSED = {
    "no token": lambda app: None,
    "empty token": lambda app: "",
    "garbage": lambda app: "not-a-token",
    "unsigned payload": _unsigned,
    "forged payload": _forged_payload,
    "swapped signature": _swapped_signature,
    "wrong salt": lambda app: sign(app, entry(), salt="another-salt"),
    "wrong secret": lambda app: sign(app, entry(), secret="not-the-embed-secret"),
    "signed with the session key": lambda app: sign(app, entry(), secret=app.config["SECRET_KEY"]),
    "a session value": lambda app: app.session_interface.get_signing_serializer(app).dumps(
        {**entry(), "embedded": True}),
    "missing account": lambda app: sign(app, without("account")),
    "missing user": lambda app: sign(app, without("user")),
    "missing locale": lambda app: sign(app, without("locale")),
    "missing host origin": lambda app: sign(app, without("host_origin")),
    "payload is a list": lambda app: sign(app, ["acme", "Anna", "nl", "https://app.out-smart.com"]),
    "payload is a string": lambda app: sign(app, "acme"),
    "payload is a number": lambda app: sign(app, 42),
    "payload is null": lambda app: sign(app, None),
    "account is a number": lambda app: sign(app, entry(account=12345)),
    "account is null": lambda app: sign(app, entry(account=None)),
    "account is a list": lambda app: sign(app, entry(account=["acme"])),
    "account is an object": lambda app: sign(app, entry(account={"id": "acme"})),
    "account is true": lambda app: sign(app, entry(account=True)),
    "account is empty": lambda app: sign(app, entry(account="")),
    "account of 101 characters": lambda app: sign(app, entry(account="a" * 101)),
    "user is a number": lambda app: sign(app, entry(user=7)),
    "user is null": lambda app: sign(app, entry(user=None)),
    "host origin is null": lambda app: sign(app, entry(host_origin=None)),
    "host origin is a list": lambda app: sign(app, entry(host_origin=["https://app.out-smart.com"])),
    "host origin of another site": lambda app: sign(app, entry(host_origin="https://evil.example")),
    "host origin as a prefix": lambda app: sign(app, entry(host_origin="https://app.out-smart.com.evil.example")),
    "host origin over http": lambda app: sign(app, entry(host_origin="http://app.out-smart.com")),
    "host origin on another port": lambda app: sign(app, entry(host_origin="https://app.out-smart.com:8443")),
    "host origin null": lambda app: sign(app, entry(host_origin="null")),
    "host origin from make_entry_token": lambda app: token_for(app, host_origin="https://evil.example"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_entry_opens_nothing(production, client, case):
    token = REFUSED[case](production)
    response = client.get("/embed" if token is None else f"/embed?token={token}")
    assert_open_from_outsmart(response)
    html = response.get_data(as_text=True)
    assert "X-Session" not in html and 'name="_session"' not in html
    assert client.get_cookie(production.config["SESSION_COOKIE_NAME"]) is None
    for method, path in guarded_requests(production):
        assert_open_from_outsmart(client.open(path, method=method, data={"country": "nl"}))
    assert LoginAttempt.select().count() == 0 and Connection.select().count() == 0


def test_an_entry_expires_after_five_minutes(production, client):
    token = token_for(production)
    with clock_ahead(301):
        assert_open_from_outsmart(client.get(f"/embed?token={token}"))
        assert_open_from_outsmart(client.get("/integraties"))
    with clock_ahead(299):
        assert client.get(f"/embed?token={token}").status_code == 200


def test_the_entry_lifetime_is_configurable(production, client):
    production.config["EMBED_ENTRY_MAX_AGE"] = 60
    token = token_for(production)
    with clock_ahead(61):
        assert_open_from_outsmart(client.get(f"/embed?token={token}"))
    with clock_ahead(59):
        assert client.get(f"/embed?token={token}").status_code == 200


def test_without_an_entry_nothing_but_the_public_routes_answers(production, client):
    requests = guarded_requests(production)
    assert ("GET", "/integraties") in requests and ("POST", "/exact/controle") in requests
    for method, path in requests:
        assert_open_from_outsmart(client.open(path, method=method, data={"country": "nl", "confirm": "y"}))
    assert LoginAttempt.select().count() == 0 and Connection.select().count() == 0
    with client.get("/static/css/app.css") as static:
        assert static.status_code == 200


def test_without_an_entry_a_post_is_refused_as_such_even_with_csrf_on(production, client):
    """Production checks CSRF; a visitor without an entry is still told to open the page from OutSmart."""
    production.config["WTF_CSRF_ENABLED"] = True
    for method, path in guarded_requests(production):
        assert_open_from_outsmart(client.open(path, method=method, data={"country": "nl"}))
    assert LoginAttempt.select().count() == 0


# --- locale --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale, stored", [("en", "en"), ("nl", "nl"), ("fr", "fr"), ("de", "de"), ("fr-BE", "fr"),
                                            ("xx", "nl"), ("", "nl"), (["en"], "nl"), (None, "nl")])
def test_the_entrys_locale_is_kept_when_known_else_dutch(production, client, locale, stored):
    response = client.get(f"/embed?token={sign(production, entry(locale=locale))}")
    assert response.status_code == 200
    assert f'<html lang="{stored}">' in response.get_data(as_text=True)
    assert stored_session(production, client)["locale"] == stored
    # The entry's language wins over the browser's on later pages.
    browser = "nl" if stored == "en" else "en"
    later = client.get("/exact/land", headers={"Accept-Language": browser})
    assert f'<html lang="{stored}">' in later.get_data(as_text=True)


# --- the CLI -------------------------------------------------------------------------------------------------------

def flask_command(app, *args):
    """Run `flask --app app ARGS` against this app (the flask command pushes the app context)."""
    return app.test_cli_runner().invoke(cli=flask_cli, args=list(args))


def test_embed_url_prints_a_url_that_opens_the_app_for_that_account(production, client, acme_saved):
    result = flask_command(production, "embed-url", "acme", "--user", "Piet Pieters", "--locale", "en",
                           "--host-origin", "http://localhost:5050")
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert re.fullmatch(re.escape(production.config["APP_URL"]) + r"/embed\?token=[\w.\-]+", url), url
    response = client.get(path_of(url))
    assert response.status_code == 200
    assert "Acme Installaties B.V." in response.get_data(as_text=True)
    assert stored_session(production, client) | {"csrf_token": None, "visit": None} == {
        "account": "acme", "user": "Piet Pieters", "locale": "en", "host_origin": "http://localhost:5050",
        "embedded": True, "csrf_token": None, "visit": None}


def test_embed_url_defaults(production, client):
    result = flask_command(production, "embed-url", "acme")
    assert result.exit_code == 0, result.output
    assert client.get(path_of(result.output.strip())).status_code == 200
    session = stored_session(production, client)
    assert (session["account"], session["user"], session["locale"], session["host_origin"]) == (
        "acme", "admin", "nl", CONFIGURED_ORIGINS[0])


def test_embed_url_refuses_an_unknown_locale(production):
    result = flask_command(production, "embed-url", "acme", "--locale", "xx")
    assert result.exit_code != 0
    assert "/embed?token=" not in result.output


def test_an_embed_url_expires_like_any_entry(production, client):
    url = flask_command(production, "embed-url", "acme").output.strip()
    with clock_ahead(301):
        assert_open_from_outsmart(client.get(path_of(url)))


# --- the session without cookies ------------------------------------------------------------------------------------

@pytest.fixture
def cookieless(production):
    """An embedded visit whose browser keeps no cookies; CSRF checked as in production."""
    production.config["WTF_CSRF_ENABLED"] = True
    iframe = production.test_client(use_cookies=False)
    response = iframe.get(f"/embed?token={token_for(production, 'acme')}")
    assert response.status_code == 200
    return hx_headers(response)


def test_the_entry_page_carries_the_session_and_the_csrf_token(production, cookieless):
    assert set(cookieless) == {"X-Session", "X-CSRFToken"}
    session = decode_session(production, cookieless["X-Session"])
    assert session["account"] == "acme" and session["embedded"] is True


def test_the_session_travels_in_the_x_session_header(production, cookieless, acme_saved):
    fresh = production.test_client(use_cookies=False)
    assert_open_from_outsmart(fresh.get("/integraties"))
    for path in ("/integraties", "/exact", "/exact/land"):
        response = fresh.get(path, headers={"X-Session": cookieless["X-Session"]})
        assert response.status_code == 200, path
        assert 'data-exact-division="555"' in response.get_data(as_text=True), path
    fragment = fresh.get("/exact/land", headers={"X-Session": cookieless["X-Session"], "HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)


def test_a_post_with_x_session_and_the_csrf_token_goes_to_exact(production, cookieless, sim):
    fresh = production.test_client(use_cookies=False)
    response = fresh.post("/exact/land", data={"country": "nl"}, headers=cookieless)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].startswith(sim.base_url("nl") + "/api/oauth2/auth?")
    attempt = LoginAttempt.get()
    assert attempt.account == "acme" and attempt.state in response.headers["Location"]


def test_a_post_with_x_session_but_no_csrf_token_is_refused(production, cookieless):
    fresh = production.test_client(use_cookies=False)
    response = fresh.post("/exact/land", data={"country": "nl"}, headers={"X-Session": cookieless["X-Session"]})
    assert response.status_code == 400
    assert LoginAttempt.select().count() == 0


def test_a_csrf_token_of_another_visit_is_refused(production, cookieless):
    fresh = production.test_client(use_cookies=False)
    other = hx_headers(fresh.get(f"/embed?token={token_for(production, 'acme')}"))
    response = fresh.post("/exact/land", data={"country": "nl"},
                          headers={"X-Session": cookieless["X-Session"], "X-CSRFToken": other["X-CSRFToken"]})
    assert response.status_code == 400
    assert LoginAttempt.select().count() == 0


def _tampered(value):
    """The same signed value with one character of its payload changed (signature and timestamp kept)."""
    payload, timestamp, signature = value.rsplit(".", 2)
    index = 3  # well inside the payload (after a compression dot, before base64's last, partial character)
    swapped = "B" if payload[index] != "B" else "C"
    return f"{payload[:index]}{swapped}{payload[index + 1:]}.{timestamp}.{signature}"


def _resigned_payload(forged, genuine):
    """`forged`'s payload under `genuine`'s timestamp and signature."""
    return forged.rsplit(".", 2)[0] + "." + ".".join(genuine.rsplit(".", 2)[1:])


def _reaccounted(app, value):
    """The session rewritten to another account, keeping the original signature."""
    session = decode_session(app, value)
    forged = app.session_interface.get_signing_serializer(app).dumps({**session, "account": "victim"})
    return _resigned_payload(forged, value)


@pytest.mark.parametrize("how", ["tampered", "other account", "other key", "truncated", "garbage"])
def test_a_tampered_x_session_gets_the_open_from_outsmart_page(production, cookieless, acme_saved, how):
    value = cookieless["X-Session"]
    bad = {
        "tampered": lambda: _tampered(value),
        "other account": lambda: _reaccounted(production, value),
        "other key": lambda: URLSafeTimedSerializer("another-secret", salt="cookie-session").dumps(
            decode_session(production, value)),
        "truncated": lambda: value[:-3],
        "garbage": lambda: "x" * 40,
    }[how]()
    assert bad != value
    fresh = production.test_client(use_cookies=False)
    for path in ("/integraties", "/exact/land"):
        response = fresh.get(path, headers={"X-Session": bad})
        assert_open_from_outsmart(response)
        assert "Acme" not in response.get_data(as_text=True)
    response = fresh.post("/exact/land", data={"country": "nl"},
                          headers={"X-Session": bad, "X-CSRFToken": cookieless["X-CSRFToken"]})
    assert_open_from_outsmart(response)
    assert LoginAttempt.select().count() == 0


def test_a_session_older_than_its_lifetime_gets_the_open_from_outsmart_page(production, cookieless):
    fresh = production.test_client(use_cookies=False)
    lifetime = int(production.permanent_session_lifetime.total_seconds())
    with clock_ahead(lifetime - 60):
        assert fresh.get("/integraties", headers={"X-Session": cookieless["X-Session"]}).status_code == 200
    with clock_ahead(lifetime + 1):
        assert_open_from_outsmart(fresh.get("/integraties", headers={"X-Session": cookieless["X-Session"]}))


def test_htmx_past_the_visits_end_gets_the_panel_in_place_of_the_step_not_a_page(production, cookieless):
    """A page left open past its 8 hours: the search in the administrations list (htmx, aimed at the list) is
    refused with the panel alone, sent to replace the whole step, with its window title."""
    fresh = production.test_client(use_cookies=False)
    lifetime = int(production.permanent_session_lifetime.total_seconds())
    htmx = {"X-Session": cookieless["X-Session"], "HX-Request": "true", "HX-Target": "administration-list"}
    with clock_ahead(lifetime + 1):
        response = fresh.get("/exact/administratie/lijst?q=bakker", headers=htmx)
        assert_open_from_outsmart(response)
        text = response.get_data(as_text=True)
        assert text.lstrip().startswith('<section class="panel" id="exact">') and "<html" not in text
        assert "<title>Open deze pagina vanuit OutSmart — Exact Online</title>" in text
        assert response.headers["HX-Retarget"] == "#exact" and response.headers["HX-Reswap"] == "outerHTML"
        assert "HX-Request" in response.headers["Vary"]
        page = fresh.get("/exact/administratie", headers={"X-Session": cookieless["X-Session"]})
        assert_open_from_outsmart(page)
        assert "<html" in page.get_data(as_text=True) and "HX-Retarget" not in page.headers


def test_every_form_carries_the_session_and_the_csrf_token(production, cookieless):
    fresh = production.test_client(use_cookies=False)
    page = parse(fresh.get("/exact/land", headers={"X-Session": cookieless["X-Session"]}))
    assert page.hidden.get("csrf_token") and page.hidden.get("_session")
    assert decode_session(production, page.hidden["_session"])["account"] == "acme"


def test_a_plain_form_post_carries_the_session_in_its_session_field(production, cookieless, sim):
    fresh = production.test_client(use_cookies=False)
    form = parse(fresh.get("/exact/land", headers={"X-Session": cookieless["X-Session"]})).hidden
    response = fresh.post("/exact/land", data={"country": "nl", "csrf_token": form["csrf_token"],
                                               "_session": form["_session"]})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].startswith(sim.base_url("nl") + "/api/oauth2/auth?")
    assert LoginAttempt.get().account == "acme"


def test_a_plain_form_post_without_its_session_field_opens_nothing(production, cookieless):
    fresh = production.test_client(use_cookies=False)
    form = parse(fresh.get("/exact/land", headers={"X-Session": cookieless["X-Session"]})).hidden
    assert_open_from_outsmart(fresh.post("/exact/land", data={"country": "nl", "csrf_token": form["csrf_token"]}))
    assert LoginAttempt.select().count() == 0


@pytest.mark.parametrize("how", ["tampered", "other account", "garbage"])
def test_a_tampered_session_field_gets_the_open_from_outsmart_page(production, cookieless, how):
    fresh = production.test_client(use_cookies=False)
    form = parse(fresh.get("/exact/land", headers={"X-Session": cookieless["X-Session"]})).hidden
    bad = {"tampered": lambda: _tampered(form["_session"]),
           "other account": lambda: _reaccounted(production, form["_session"]),
           "garbage": lambda: "x" * 40}[how]()
    response = fresh.post("/exact/land", data={"country": "nl", "csrf_token": form["csrf_token"], "_session": bad})
    assert_open_from_outsmart(response)
    assert LoginAttempt.select().count() == 0


def test_a_tampered_header_does_not_fall_back_to_a_valid_cookie(production, client):
    """The header wins: a bad X-Session is no session, even beside a good cookie."""
    assert client.get(f"/embed?token={token_for(production, 'acme')}").status_code == 200
    assert client.get("/integraties").status_code == 200
    assert_open_from_outsmart(client.get("/integraties", headers={"X-Session": "x" * 40}))


# --- cookie and headers --------------------------------------------------------------------------------------------

def test_the_session_cookie_is_fit_for_a_cross_site_iframe(production, client):
    response = client.get(f"/embed?token={token_for(production)}")
    name = production.config["SESSION_COOKIE_NAME"]
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(name + "=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    attributes = {part.strip().split("=", 1)[0].lower(): part.strip().partition("=")[2]
                  for part in cookies[0].split(";")[1:]}
    assert "secure" in attributes and "httponly" in attributes and "partitioned" in attributes
    assert attributes["samesite"] == "None"


def csp_directives(response):
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no CSP on {response.request.path} ({response.status_code})"
    directives = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            assert tokens[0] not in directives, f"{tokens[0]} twice"
            directives[tokens[0]] = tokens[1:]
    return directives


def assert_embedding_headers(response, origins=CONFIGURED_ORIGINS):
    directives = csp_directives(response)
    assert directives["frame-ancestors"] == ["'self'", *origins]
    assert "script-src" in directives
    assert "'unsafe-inline'" not in directives["script-src"] and "*" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives.get("default-src", [])
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in {
        "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def _closed(response):
    """A static file's response, read and closed (its file handle is not left open)."""
    response.get_data()
    response.close()
    return response


def _responses(app, client):
    """A response of every kind: pages, fragments, redirects, errors, static files, the refusals."""
    yield client.get("/embed?token=nonsense")  # 401 entry
    yield client.get("/integraties")  # 401 without entry
    yield _closed(client.get("/static/css/app.css"))
    yield _closed(client.get("/static/vendor/htmx-2.0.11.min.js"))
    yield client.get("/exact/login/made-up")  # popup: 400
    yield client.get("/exact/callback?state=made-up")  # 400
    yield client.get(f"/embed?token={token_for(app)}")  # 200 entry
    yield client.get("/")  # redirect
    yield client.get("/exact/land", headers={"HX-Request": "true"})  # fragment
    yield client.post("/exact/land", data={})  # 422
    yield client.post("/integraties")  # 405
    yield client.get("/nothing-here")  # 404


def test_every_response_says_who_may_frame_it(production, client):
    responses = list(_responses(production, client))
    assert [response.status_code for response in responses] == [
        401, 401, 200, 200, 400, 400, 200, 302, 200, 422, 405, 404]
    for response in responses:
        assert_embedding_headers(response)


def test_frame_ancestors_follow_the_configuration(production, client):
    production.config["HOST_ORIGINS"] = ["https://*.out-smart.com"]
    for response in _responses(production, client):
        assert_embedding_headers(response, ["https://*.out-smart.com"])


def test_pages_need_no_inline_script(production, client):
    """script-src without 'unsafe-inline' only works if no page relies on inline script."""
    for response in (client.get(f"/embed?token={token_for(production)}"), client.get("/exact/land"),
                     client.get("/exact"), client.get("/integraties", headers={"HX-Request": "true"})):
        page = parse(response)
        assert page.inline_scripts == 0, response.request.path
        assert not re.search(r"\son[a-z]+\s*=", response.get_data(as_text=True)), response.request.path
