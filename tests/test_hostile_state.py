"""Forged, replayed and expired OAuth states and CSRF tokens; administrations outside the consent; and no address
outside the app, Exact's configured login or OutSmart's configured origins (RFC 9700 §2.1, §4.1, §4.7; OWASP ASVS
V3, V4, V5.1.5). What test_popup_login, test_wizard_login, test_embed_entry and test_isolation prove already is
not repeated: these add the call log at Exact, the popup's own rules, expiry by the app's configuration, and the
addresses an attacker can put into a request."""
import datetime
from contextlib import contextmanager
from unittest import mock
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer

from hostile import A
from hostile import B
from hostile import BIG
from hostile import HOSTILE
from hostile import JAN
from hostile import OPEN_FROM_OUTSMART
from hostile import PAGE_EXPIRED
from hostile import Stage
from hostile import assert_exact_login
from hostile import assert_refused_with_a_message
from hostile import comparable
from hostile import enter
from hostile import hostile_value
from hostile import materialise
from hostile import snapshot
from hostile import text
from models import STATE_TTL
from models import Administration
from models import Connection
from models import LoginAttempt
from models import utcnow
from simhelpers import KARIN
from views.embed import ENTRY_SALT
from wizard_actions import WizardActions
from wizard_actions import back_from_exact
from wizard_actions import handoff_in
from wizard_actions import path_of
from wizard_actions import popup_to_exact
from wizard_actions import query_of

# KARIN: 121 (her current administration, left unticked on the consent page), 122
INVALID_STATE = "verlopen of ongeldig"
NOT_FROM_OUTSMART = "niet geopend door de OutSmart-pagina"
POPUP_ENDPOINTS = ("login.popup_continue", "login.callback_confirm")
OTHER_VISIT = "gestart in een ander venster of voor een ander OutSmart-account"


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of that name, which pushes one request context for the whole test: under it
    every request shares one `g`, where Flask-WTF caches the CSRF token. Here each request gets its own."""


@contextmanager
def clock_ahead(seconds):
    """Every itsdangerous timestamp (sessions, CSRF tokens, entries) read `seconds` later than now."""
    real = TimestampSigner.get_timestamp
    with mock.patch.object(TimestampSigner, "get_timestamp", lambda self: real(self) + seconds):
        yield


def token_exchanges(sim) -> int:
    """How many authorization codes (or refresh tokens) the app has sent to Exact's token endpoint."""
    return len(sim.calls(kind="token"))


# --- OAuth state ------------------------------------------------------------------------------------------------------

# The popup's own window (a first-party browser window) has claimed its attempt.
class Logins:
    """Account A's iframe with a page and a popup login back from Exact, neither callback opened yet."""

    def __init__(self, app, sim):
        app.config["DEFAULT_ACCOUNT"] = None
        self.app, self.sim = app, sim
        self.iframe = app.test_client()
        enter(app, self.iframe, A)
        authorize = WizardActions(self.iframe, sim).start_login()
        self.page = LoginAttempt.get(LoginAttempt.state == query_of(authorize)["state"])
        self.page_callback = path_of(sim.login(authorize, JAN))
        self.handoffs = {}
        self.popup, self.window, self.popup_callback = self.popup_login()
        self.tables = snapshot()
        self.exchanges = token_exchanges(sim)

    def popup_login(self):
        """Start a popup login, claim it in a new window, log in at Exact: (attempt, window, callback)."""
        attempt, window, authorize, handoff = popup_to_exact(self.app, self.iframe)
        self.handoffs[attempt.id] = handoff
        return attempt, window, path_of(self.sim.login(authorize, JAN))

    def flow(self, name):
        """(attempt, the browser it must come back to, its callback) of the page or the popup login."""
        if name == "page":
            return self.page, self.iframe, self.page_callback
        return self.popup, self.window, self.popup_callback

    def assert_nothing_happened(self, context):
        """No code exchanged at Exact, no attempt used or finished, no connection stored."""
        assert token_exchanges(self.sim) == self.exchanges, f"{context}: a code went to Exact"
        assert comparable(snapshot()) == comparable(self.tables), f"{context}: rows changed"


@pytest.fixture
def logins(app, sim):
    return Logins(app, sim)


def with_state(callback, state, *, real_after=None, extra=()):
    """The callback URL with its state replaced (None: no state at all), optionally the real one repeated after it."""
    parts = urlsplit(callback)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "state"]
    states = ([] if state is None else [("state", state)]) + ([("state", real_after)] if real_after else [])
    return f"{parts.path}?{urlencode(states + query + list(extra))}"


def _swap_middle(value):
    middle = len(value) // 2
    return value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1:]


# How a forged state is made from a real one (the other attempt's state: from the other flow of the same account).
FORGERIES = {
    "prefixed": lambda real, other, drawn: "x" + real,
    "suffixed": lambda real, other, drawn: real + "x",
    "truncated": lambda real, other, drawn: real[:-1],
    "case swapped": lambda real, other, drawn: real.swapcase(),
    "one character changed": lambda real, other, drawn: _swap_middle(real),
    "padded": lambda real, other, drawn: f" {real} ",
    "with a NUL": lambda real, other, drawn: real + "\x00",
    "the other login's state": lambda real, other, drawn: other,
    "1 MB": lambda real, other, drawn: BIG["<1 MB of x>"],
    "empty": lambda real, other, drawn: "",
    "missing": lambda real, other, drawn: None,
    "drawn": lambda real, other, drawn: drawn,
}


# The state Exact sent back, altered in any way (or the other login's), in its own browser or another, even with
# the real state repeated after it: 400, "verlopen of ongeldig", no token request, nothing stored or used up.
@settings(HOSTILE, max_examples=60)
@given(flow=st.sampled_from(["page", "popup"]), forgery=st.sampled_from(sorted(FORGERIES)), drawn=hostile_value,
       browser=st.sampled_from(["own", "own", "stranger"]), real_after=st.booleans(),
       extra=st.lists(st.tuples(st.sampled_from(["code", "error", "next", "redirect_uri"]), text), max_size=3))
def test_a_forged_state_is_refused_in_words_and_its_code_never_reaches_exact(logins, flow, forgery, drawn, browser,
                                                                            real_after, extra):
    """An altered or foreign state, in any browser, even before the real one: 400 in words, nothing sent to Exact."""
    attempt, own_browser, callback = logins.flow(flow)
    other = logins.popup if flow == "page" else logins.page
    state = FORGERIES[forgery](attempt.state, other.state, materialise(drawn))
    if state == attempt.state:
        return  # the draw happened to be the real state
    client = own_browser if browser == "own" else logins.app.test_client()
    # The real state repeated after the forged one (only the first counts); with no forged one it would be the state.
    repeated = attempt.state if real_after and state is not None else None
    url = with_state(callback, state, real_after=repeated, extra=extra)
    response = client.get(url)
    context = f"{flow} login, state {forgery} ({str(state)[:40]!r}), {browser} browser"
    nul = "\x00" in (state or "") or any("\x00" in value for _name, value in extra)
    if nul:
        assert_refused_with_a_message(response, {400}, context, says="NUL")
    elif state == other.state and other.mode == LoginAttempt.POPUP:
        # The popup login's own state, in a window without its cookie: that window is only asked for the secret its
        # iframe would hand it (it has none), and nothing goes to Exact.
        assert response.status_code == 200 and "data-handoff-missing" in response.get_data(as_text=True), context
    else:
        says = OTHER_VISIT if state == other.state else INVALID_STATE
        assert_refused_with_a_message(response, {400}, context, says=says)
    logins.assert_nothing_happened(context)


# RFC 9700 §4.1: a state, like a code, is single use.
@pytest.mark.parametrize("flow", ["page", "popup"])
def test_a_used_state_is_refused_and_its_code_is_never_exchanged_twice(logins, sim, flow):
    """A finished login's callback again, in any browser: refused, and Exact is not asked again."""
    attempt, browser, callback = logins.flow(flow)
    first = browser.get(callback)
    assert first.status_code == 303, first.get_data(as_text=True)[:300]  # the popup's last page: at …/klaar
    assert token_exchanges(sim) == logins.exchanges + 1
    after_login = comparable(snapshot())
    for name, client in (("same browser", browser), ("iframe", logins.iframe), ("stranger", logins.app.test_client())):
        again = client.get(callback)
        assert_refused_with_a_message(again, {400}, f"{flow} replayed in {name}", says=INVALID_STATE)
    assert token_exchanges(sim) == logins.exchanges + 1
    assert comparable(snapshot()) == after_login  # tokens and the attempt's outcome as the login left them


@pytest.mark.parametrize("flow", ["page", "popup"])
def test_an_expired_state_is_refused_without_asking_exact_and_nine_minutes_is_in_time(logins, sim, flow):
    """A state older than its 10 minutes is refused before its code goes to Exact; at 9 minutes it still works."""
    attempt, browser, callback = logins.flow(flow)
    LoginAttempt.update(created_at=utcnow() - STATE_TTL - datetime.timedelta(seconds=1)).where(
        LoginAttempt.id == attempt.id).execute()
    logins.tables = snapshot()
    assert_refused_with_a_message(browser.get(callback), {400}, f"expired {flow} state", says=INVALID_STATE)
    logins.assert_nothing_happened(f"expired {flow} state")
    LoginAttempt.update(created_at=utcnow() - datetime.timedelta(minutes=9)).where(
        LoginAttempt.id == attempt.id).execute()
    assert browser.get(callback).status_code == 303
    assert token_exchanges(sim) == logins.exchanges + 1 and Connection.get(Connection.account == A).is_logged_in


def test_an_expired_popup_attempt_does_not_start(logins):
    """A popup login whose 10 minutes have passed is not sent to Exact, nor tied to the window that opens it."""
    assert logins.iframe.post("/exact/land", data={"country": "nl", "popup": "1"}).status_code == 200
    attempt = LoginAttempt.select().where(LoginAttempt.browser_key.is_null() & (LoginAttempt.mode == "popup")).get()
    LoginAttempt.update(created_at=utcnow() - STATE_TTL - datetime.timedelta(seconds=1)).where(
        LoginAttempt.id == attempt.id).execute()
    for response in (logins.app.test_client().get(f"/exact/login/{attempt.id}"),
                     logins.app.test_client().post(f"/exact/login/{attempt.id}", data={"handoff": "x"})):
        assert_refused_with_a_message(response, {400}, "expired popup start", says=INVALID_STATE)
        assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert LoginAttempt.get_by_id(attempt.id).browser_key is None


# Tried: the iframe's own session (same account), a window that claimed another attempt, that window's cookie
# copied under this attempt's name, a made-up cookie. RFC 9700 §4.7: the state is bound to the login's browser.
def test_a_popup_state_finishes_only_in_the_window_that_claimed_it(logins, sim):
    """The popup's state finishes only in the window that claimed it; elsewhere refused and Exact not asked."""
    other, other_window, _other_callback = logins.popup_login()
    other_handoff = logins.handoffs[other.id]
    logins.tables, logins.exchanges = snapshot(), token_exchanges(sim)
    name = f"exact_login_{logins.popup.id}"
    copied = other_window.get_cookie(f"exact_login_{other.id}", path="/exact/callback").value
    copying_window = logins.app.test_client()
    copying_window.set_cookie(name, copied, path="/exact/callback")
    made_up = logins.app.test_client()
    made_up.set_cookie(name, "made-up-key", path="/exact/callback")
    answer = dict(parse_qsl(urlsplit(logins.popup_callback).query))
    for context, client in (("the iframe's session", logins.iframe), ("another attempt's window", other_window),
                            ("another attempt's key under this name", copying_window), ("a made-up key", made_up)):
        # Without its cookie the window is asked to have its iframe vouch for it; none of these windows has one.
        asked = client.get(logins.popup_callback)
        assert asked.status_code == 200 and "data-handoff-missing" in asked.get_data(as_text=True), context
        for handoff in ("", "made-up", other_handoff):
            vouched = client.post("/exact/callback", data={**answer, "handoff": handoff})
            assert_refused_with_a_message(vouched, {403}, context, says=NOT_FROM_OUTSMART)
        logins.assert_nothing_happened(context)
    done = back_from_exact(logins.window, logins.popup_callback)
    assert done.status_code == 200 and 'data-outcome="connected"' in done.get_data(as_text=True)


# --- CSRF -----------------------------------------------------------------------------------------------------------

def form_posts(app):
    """Every form POST of the app that carries a CSRF token (the token API admits services by key; the login popup's
    own posts carry the secret its iframe handed it, see test_a_popup_state_finishes_only_in_the_window_that_claimed_it)."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "POST" in rule.methods and rule.endpoint not in ("static", *POPUP_ENDPOINTS)
                  and not rule.rule.startswith("/api/"))


# A valid post to each form, so that only the CSRF token decides.
VALID_POSTS = {"/exact/land": {"country": "nl"}, "/exact/administratie": {"division": "102"},
               "/exact/controle": {"confirm": "y"}}


@pytest.fixture
def connected_stage(app, sim):
    return Stage(app, sim, saved=False)


# Within the limit the same post goes through; after the session's lifetime no post is taken at all.
def test_a_csrf_token_older_than_the_configured_limit_is_refused_on_every_form(connected_stage):
    """Past WTF_CSRF_TIME_LIMIT every form answers 400 in words; unset, a token ends with its 8-hour session."""
    stage = connected_stage
    stage.app.config["WTF_CSRF_TIME_LIMIT"] = 60
    paths = form_posts(stage.app)
    assert len(paths) == 9  # Annuleren of a popup login, /sessie/verlengen too
    with clock_ahead(61):
        for path in paths:
            stage.fresh_visit()
            response = stage.client.post(path, data={**VALID_POSTS.get(path, {}), "csrf_token": stage.csrf})
            assert_refused_with_a_message(response, {400}, f"expired token: {path}", says=PAGE_EXPIRED)
            stage.assert_unchanged(f"expired token: {path}")
    with clock_ahead(30):
        assert stage.client.post("/exact/administratie", data={"division": "102", "csrf_token": stage.csrf}
                                 ).status_code == 303
    stage.put_back()
    stage.app.config["WTF_CSRF_TIME_LIMIT"] = None
    lifetime = stage.app.permanent_session_lifetime.total_seconds()
    with clock_ahead(lifetime + 1):
        for path in paths:
            stage.fresh_visit()
            response = stage.client.post(path, data={**VALID_POSTS.get(path, {}), "csrf_token": stage.csrf})
            assert_refused_with_a_message(response, {401}, f"session over: {path}", says=OPEN_FROM_OUTSMART)
            stage.assert_unchanged(f"session over: {path}")


def _forgeries(stage):
    """CSRF tokens an attacker could try, each made from what the page gave or could be guessed."""
    payload, timestamp, signature = stage.csrf.split(".")
    key = stage.app.config["SECRET_KEY"]
    return {
        "payload changed": f"{_swap_middle(payload)}.{timestamp}.{signature}",
        "timestamp changed": f"{payload}.{_swap_middle(timestamp)}.{signature}",
        "signature changed": f"{payload}.{timestamp}.{_swap_middle(signature)}",
        "signature cut short": stage.csrf[:-6],
        "another visit's signature": f"{payload}.{timestamp}.{stage.other_visit_csrf.split('.')[2]}",
        "another visit's token": stage.other_visit_csrf,
        "signed with another key": stage.other_key_csrf,
        "signed with another salt": URLSafeTimedSerializer(key, salt="another-salt").dumps(stage.csrf_secret),
        "an entry token's salt": URLSafeTimedSerializer(key, salt=ENTRY_SALT).dumps(stage.csrf_secret),
        "another secret, signed right": URLSafeTimedSerializer(key, salt="wtf-csrf-token").dumps("0" * 40),
        "the session's raw secret": stage.csrf_secret,
        "the session itself": stage.cookie,
        "empty": "",
    }


@settings(HOSTILE, max_examples=50)
@given(data=st.data())
def test_a_forged_csrf_token_is_refused_on_every_form(connected_stage, data):
    """Any token but this visit's own, in the form or the header, on any form: 400 in words, nothing changed."""
    stage = connected_stage
    forgeries = _forgeries(stage)
    kind = data.draw(st.sampled_from([*sorted(forgeries), "drawn"]), label="forgery")
    token = forgeries.get(kind) or data.draw(text.filter(lambda value: not set(value) & {"\r", "\n", "\x00"}))
    path = data.draw(st.sampled_from(form_posts(stage.app)), label="path")
    in_header = data.draw(st.booleans(), label="in header")
    stage.fresh_visit()
    form = dict(VALID_POSTS.get(path, {}))
    if in_header:
        response = stage.client.post(path, data=form, headers={"X-CSRFToken": token})
    else:
        response = stage.client.post(path, data={**form, "csrf_token": token})
    context = f"{path}: {kind} token in the {'header' if in_header else 'form'}"
    try:
        assert_refused_with_a_message(response, {400}, context, says=PAGE_EXPIRED)
        stage.assert_unchanged(context)
    finally:
        stage.put_back()


# --- administrations outside the consent ---------------------------------------------------------------------------

def test_an_administration_the_consent_left_out_is_refused_and_the_choice_kept(client, wizard, sim):
    """Karin's 121, left unticked at Exact, is refused in words; her earlier choice (122) stays."""
    assert wizard.connect(KARIN).status_code == 303
    assert wizard.choose(122).status_code == 303
    before = comparable(snapshot())
    for htmx in (False, True):
        response = wizard.choose(121, htmx=htmx)
        assert_refused_with_a_message(response, {422}, "121 outside the consent", says="hoort niet bij de toegang")
    assert comparable(snapshot()) == before
    assert Connection.get().draft_division == 122
    assert Administration.select().where(Administration.code == 121).count() == 0


def test_one_exact_user_in_two_accounts_keeps_each_accounts_own_consent(app, sim):
    """Jan consents 101 for A and 102 for B: each account can choose only its own, though his login reaches both."""
    app.config["DEFAULT_ACCOUNT"] = None
    browsers = {}
    for account, code in ((A, 101), (B, 102)):
        browsers[account] = app.test_client()
        enter(app, browsers[account], account)
        assert WizardActions(browsers[account], sim).connect(JAN, divisions=[code]).status_code == 303
    for account, own, others in ((A, 101, 102), (B, 102, 101)):
        wizard = WizardActions(browsers[account], sim)
        before = comparable(snapshot())
        response = wizard.choose(others)
        assert_refused_with_a_message(response, {422}, f"{account} chooses {others}", says="hoort niet bij de toegang")
        assert comparable(snapshot()) == before
        assert wizard.choose(own).status_code == 303
        assert Connection.get(Connection.account == account).draft_division == own


# --- no address outside the app -------------------------------------------------------------------------------------

ATTACKER_ADDRESSES = ["https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example",
                      "https:evil.example", "javascript:alert(1)", "%2F%2Fevil.example",
                      "http://127.0.0.1:5000@evil.example"]
# The Host header is the app's own (a foreign one is refused: test_a_foreign_host_is_refused_in_words); the rest is
# anything an attacker or a proxy may add.
ATTACKER_HEADERS = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "javascript",
                    "Referer": "https://evil.example/", "Origin": "https://evil.example"}
FOREIGN_HOSTS = ["evil.example", "localhost.evil.example", "127.0.0.2", "evil.example:80", "[::1]"]


# APP_URL names the app's host (Flask's TRUSTED_HOSTS): no page, redirect, popup or login is built for another one.
@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_foreign_host_is_refused_in_words(app, client, wizard, host):
    wizard.connect(JAN)
    too_large = {"country": "nl", "x": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)}
    for method, path, data in (("GET", "/exact/land", {}), ("POST", "/exact/land", {"country": "nl"}),
                               ("GET", "/exact/callback?state=x&code=y", {}), ("GET", "/exact/login/x", {}),
                               ("GET", "/embed?token=x", {}), ("GET", "/api/v1/openapi.json", {}),
                               # Unreadable as well: a NUL in the path or the query, a form past the size limit.
                               ("GET", "/embed%00?token=x", {}), ("GET", "/exact/land?q=%00", {}),
                               ("POST", "/exact/land", too_large)):
        response = client.open(path, method=method, data=data, headers={"Host": host})
        context = f"{method} {path} for Host {host}"
        assert response.status_code == 400, context
        assert "evil" not in response.headers.get("Location", "") and "Location" not in response.headers, context
        body = response.get_data(as_text=True)
        assert ("hoort niet bij de Exact Online-instellingen" in body if not path.startswith("/api/")
                else response.json["error"] == "bad_request"), context
    assert LoginAttempt.select().count() == 1  # the one connect() made; none for the foreign host


# url_for takes _external, _scheme, _anchor and _method as its own arguments: from the query they would build
# an absolute or foreign address.
@pytest.mark.parametrize("address", ATTACKER_ADDRESSES)
def test_the_search_redirect_carries_only_the_search(client, wizard, address):
    """The live search's redirect keeps q and page only, whatever url_for arguments, addresses or Host are sent."""
    wizard.connect(JAN)
    query = urlencode([("q", "bakker"), ("page", "2"), ("_external", "1"), ("_scheme", "https"), ("_anchor", address),
                       ("_method", "GET"), ("next", address), ("url", address)])
    for headers in ({}, ATTACKER_HEADERS):
        response = client.get(f"/exact/administratie/lijst?{query}", headers=headers)
        assert response.status_code == 303
        assert response.headers["Location"] == "/exact/administratie?q=bakker&page=2"


# Whatever return address the form, the query or the headers name (RFC 9700 §4.1: exact redirect URI matching).
@pytest.mark.parametrize("address", ATTACKER_ADDRESSES)
def test_a_login_goes_only_to_the_configured_exact_and_comes_back_only_to_the_configured_address(app, client, sim,
                                                                                                   address):
    """Logins go to the country's configured Exact host with the configured redirect_uri, whatever is sent."""
    fields = {name: address for name in ("redirect_uri", "next", "return_to", "url", "host", "base_url")}
    for country in ("nl", "be"):
        response = client.post(f"/exact/land?{urlencode(fields)}", data={"country": country, **fields},
                               headers=ATTACKER_HEADERS)
        assert response.status_code == 303
        assert_exact_login(app, response.headers["Location"], f"page login to {country}")
        assert response.headers["Location"].startswith(sim.base_url(country) + "/api/oauth2/auth?")
    started = client.post("/exact/land", data={"country": "nl", "popup": "1", **fields})
    assert started.status_code == 200
    attempt = LoginAttempt.get(LoginAttempt.mode == LoginAttempt.POPUP)
    response = app.test_client().post(f"/exact/login/{attempt.id}?{urlencode(fields)}", headers=ATTACKER_HEADERS,
                                      data={"handoff": handoff_in(started), **fields})
    assert response.status_code == 303
    assert_exact_login(app, response.headers["Location"], "popup login")


@pytest.mark.parametrize("address", ATTACKER_ADDRESSES)
def test_back_from_exact_the_browser_goes_only_to_the_app(app, client, wizard, sim, address):
    """Back from Exact, the page goes to the app's next step and the popup posts only to the app's own origin."""
    extra = [(name, address) for name in ("next", "return_to", "redirect_uri", "origin", "targetOrigin")]
    callback = path_of(sim.login(wizard.start_login(), JAN))
    response = client.get(f"{callback}&{urlencode(extra)}", headers=ATTACKER_HEADERS)
    assert response.status_code == 303 and response.headers["Location"] == "/exact/verbinding"
    _attempt, window, authorize, _handoff = popup_to_exact(app, client)
    callback = path_of(sim.login(authorize, JAN))
    back = window.get(f"{callback}&{urlencode(extra)}", headers=ATTACKER_HEADERS)
    assert back.status_code == 303 and back.headers["Location"] == f"/exact/callback/{_attempt.id}/klaar"
    done = window.get(back.headers["Location"], headers=ATTACKER_HEADERS)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and 'data-app-origin="http://localhost"' in html, html[:600]
    assert "evil" not in html
    refused = window.get(f"/exact/login/made-up?{urlencode(extra)}")
    assert refused.status_code == 400 and 'data-app-origin="http://localhost"' in refused.get_data(as_text=True)


# Host origins that must never become the target of the app's messages to OutSmart's page. Those marked were
# accepted by the pattern https://*.out-smart.com before views/embed.py wanted a bare host: a browser reads the
# backslash as a slash, and user info or an escape as no part of the host.
REFUSED_ORIGINS = [
    "https://evil.example\\.out-smart.com",  # was accepted: the browser's origin is https://evil.example
    "https://evil.example%5C.out-smart.com",  # was accepted
    "https://evil.example%2F.out-smart.com",  # was accepted
    "https://evil.example@x.out-smart.com",  # was accepted: user info
    "https://x.out-smart.com@evil.example",
    "https://*.out-smart.com",  # was accepted: the pattern itself
    "https://evil.example .out-smart.com",  # was accepted
    "https://app.out-smart.com\\@evil.example",
    "https://APP.out-smart.com",  # was accepted (harmless: a browser lowercases it to the same origin)
    "javascript:alert(1)//.out-smart.com", "javascript://app.out-smart.com", "//app.out-smart.com",
    "https:app.out-smart.com", "https:\\\\app.out-smart.com", "https://app.out-smart.com/",
    "https://app.out-smart.com/.", "https://app.out-smart.com.", " https://app.out-smart.com",
    "https://app.out-smart.com\t", "HTTPS://APP.OUT-SMART.COM", "https://APP.out-smart.com.evil.example",
    "https://app.out-smart.com:443", "data:text/html,x", "null", "*",
]


# OutSmart's signed entry names the page that frames the app, and the app posts its messages there.
@pytest.mark.parametrize("configured", [["https://app.out-smart.com", "http://localhost:5050"],
                                        ["https://*.out-smart.com", "http://localhost:5050"]])
@pytest.mark.parametrize("origin", REFUSED_ORIGINS)
def test_the_host_origin_of_an_entry_is_a_bare_configured_origin(app, client, configured, origin):
    """Only a bare http(s) origin of HOST_ORIGINS is taken from the entry; anything else opens nothing."""
    app.config.update(DEFAULT_ACCOUNT=None, HOST_ORIGINS=configured)
    good = URLSafeTimedSerializer(app.config["EMBED_SECRET"], salt=ENTRY_SALT)
    payload = {"account": A, "user": "Anna", "locale": "nl"}
    control = "https://x.out-smart.com" if "*" in configured[0] else configured[0]
    assert client.get(f"/embed?token={good.dumps({**payload, 'host_origin': control})}").status_code == 200
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    response = client.get(f"/embed?token={good.dumps({**payload, 'host_origin': origin})}")
    assert_refused_with_a_message(response, {401}, origin, says=OPEN_FROM_OUTSMART)
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is None
    assert "data-host-origin" not in response.get_data(as_text=True)
