"""The popup login's binding in Chromium: only the iframe that opened the popup lets it go on, with Chromium really
blocking the iframe's cookies (a profile's own settings, as an admin's browser has them), and with every cookie
blocked."""
import json
from urllib.parse import urlsplit

import pytest

from conftest import CHROMIUM
from conftest import CHROMIUM_ARGS
from models import Connection
from simhelpers import JAN
from test_browser_embedded import go_to_exact
from test_browser_embedded import login_in_popup
from test_browser_embedded import open_host

pytestmark = pytest.mark.e2e

NOT_OPENED_BY_OUTSMART = "Dit venster is niet geopend door de OutSmart-pagina die het inloggen startte"


class CookieCounter:
    """WSGI middleware: counts the requests of the iframe (not top-level documents) that arrive with a Cookie."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.from_iframe = 0
        self.with_cookie = 0

    def __call__(self, environ, start_response):
        if environ.get("HTTP_SEC_FETCH_DEST") != "document" and not environ["PATH_INFO"].startswith("/static/"):
            self.from_iframe += 1
            self.with_cookie += bool(environ.get("HTTP_COOKIE"))
        return self.wsgi_app(environ, start_response)


@pytest.fixture
def host(app, live_app):
    from conftest import serve
    from views.demo_host import create_demo_host

    server = serve(create_demo_host(app, live_app), host="localhost")
    origin = f"http://localhost:{server.server_port}"
    app.config.update(HOST_ORIGINS=[origin], DEFAULT_ACCOUNT=None, WTF_CSRF_ENABLED=True)
    yield origin
    server.shutdown()


def profile(playwright, tmp_path, preferences):
    """Chromium with a persistent profile whose Preferences are written before it starts (as an admin set them)."""
    (tmp_path / "profile" / "Default").mkdir(parents=True)
    (tmp_path / "profile" / "Default" / "Preferences").write_text(json.dumps(preferences))
    return playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
        viewport={"width": 1200, "height": 1000}, locale="nl-NL")


def third_party_cookies_blocked(app_url, host_url):
    """Chromium's "block third-party cookies", and the app's cookies blocked where the host page embeds it."""
    pattern = f"{urlsplit(app_url).hostname},{urlsplit(host_url).hostname}"
    return {"profile": {"cookie_controls_mode": 1,
                        "content_settings": {"exceptions": {"cookies": {pattern: {"setting": 2}}}}}}


ALL_COOKIES_BLOCKED = {"profile": {"default_content_setting_values": {"cookies": 2}}}


@pytest.mark.parametrize("blocking", ["third-party", "all"])
def test_the_popup_login_finishes_with_the_browser_blocking_cookies(app, live_app, host, playwright, tmp_path,
                                                                     blocking):
    """Chromium's own cookie blocking (partitioned cookies included): the iframe sends no cookie at all, and the
    popup's binding needs none: it comes from the iframe, by postMessage."""
    from playwright.sync_api import expect

    counter = app.wsgi_app = CookieCounter(app.wsgi_app)
    preferences = third_party_cookies_blocked(live_app, host) if blocking == "third-party" else ALL_COOKIES_BLOCKED
    context = profile(playwright, tmp_path, preferences)
    try:
        page, frame = open_host(context, host)
        with page.expect_popup() as opened:
            frame.get_by_role("button", name="Naar inlogpagina").click()
        popup = opened.value
        expect(popup.locator("body")).to_contain_text("U verbindt het OutSmart-account demo met Exact Online Nederland")
        login_in_popup(popup)
        expect(frame.locator("#connection-facts")).to_contain_text("Jan Bakker", timeout=15000)
        expect(page.locator("#host-status")).to_have_text("Ingelogd, nog niet opgeslagen")
        assert counter.from_iframe > 5 and counter.with_cookie == 0, (counter.from_iframe, counter.with_cookie)
        if blocking == "all":
            assert context.cookies() == []  # not even the popup's first-party cookie: the iframe vouched instead
    finally:
        context.close()
    assert Connection.get().exact_user_email == JAN


def test_a_popup_address_opened_in_another_browser_goes_nowhere(app, live_app, host, browser, context):
    """A copies the popup's address and sends it to B: in B's browser (no opener) it says whose login it is and why
    it cannot go on; nothing is connected."""
    from playwright.sync_api import expect

    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    opened.value.wait_for_url("**/exact/login/*")
    copied = opened.value.url
    other = browser.new_context(locale="nl-NL")
    try:
        b = other.new_page()
        b.goto(copied)
        expect(b.locator("body")).to_contain_text("U verbindt het OutSmart-account demo met Exact Online Nederland")
        expect(b.locator("[data-handoff-missing]")).to_contain_text(NOT_OPENED_BY_OUTSMART, timeout=10000)
        expect(b.get_by_role("button", name="Doorgaan naar Exact Online")).to_be_disabled()
        b.evaluate("document.querySelector('button').disabled = false")  # forcing it on: refused by the server
        b.get_by_role("button", name="Doorgaan naar Exact Online").click()
        expect(b.locator("body")).to_contain_text("niet geopend door de OutSmart-pagina")
        assert "/api/oauth2/auth" not in b.url
    finally:
        other.close()
    # A's own popup still goes on: the attempt was not taken over.
    go_to_exact(opened.value)
    assert Connection.select().where(Connection.refresh_token.is_null(False)).count() == 0


def test_a_page_of_another_site_cannot_get_the_secret_for_a_popup_it_opened(app, live_app, host, context):
    """An attacker's page that opens the popup address itself (window.open from its own site) holds the opener, but
    no message of ours reaches it and none of its messages count: the popup goes nowhere."""
    from playwright.sync_api import expect

    from conftest import serve
    from flask import Flask

    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    opened.value.wait_for_url("**/exact/login/*")
    address = opened.value.url
    opened.value.close()
    evil = Flask("evil")

    @evil.get("/")
    def attacker_page():
        # It opens the copied address and, guessing, answers every request for a secret with one of its own.
        return ("<script>const w = window.open(%s, 'x');"
                "addEventListener('message', e => w.postMessage({type: 'exact:handoff', attempt: e.data.attempt,"
                " secret: 'guessed'}, '*'));"
                "setInterval(() => w.postMessage({type: 'exact:handoff', attempt: %s, secret: 'guessed'}, '*'), 200);"
                "</script>" % (json.dumps(address), json.dumps(address.rsplit('/', 1)[-1])))

    server = serve(evil, host="localhost")
    try:
        attacker = context.new_page()
        with attacker.expect_popup() as evil_opened:
            attacker.goto(f"http://localhost:{server.server_port}/")
        popup = evil_opened.value
        expect(popup.locator("[data-handoff-missing]")).to_be_visible(timeout=10000)
        expect(popup.get_by_role("button", name="Doorgaan naar Exact Online")).to_be_disabled()
    finally:
        server.shutdown()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 1000}, locale="nl-NL")
    yield context
    context.close()
