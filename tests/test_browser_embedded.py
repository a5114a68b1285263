"""Inside OutSmart: the app in a cross-site iframe of the demo host page, logging in through a popup."""
import re

import pytest

from conftest import SCREENSHOTS  # an ignored folder unless SCREENSHOTS_DIR says otherwise

from conftest import serve
from models import Connection
from models import LoginAttempt
from simhelpers import JAN
from views.demo_host import create_demo_host
from wizard_actions import EXACT_SELECTS

pytestmark = pytest.mark.e2e



@pytest.fixture
def host(app, live_app):
    """OutSmart's settings page on another site (localhost) embedding the app (127.0.0.1)."""
    server = serve(create_demo_host(app, live_app), host="localhost")
    origin = f"http://localhost:{server.server_port}"
    # As in production: no account without OutSmart's entry, and CSRF checked on every POST.
    app.config.update(HOST_ORIGINS=[origin], DEFAULT_ACCOUNT=None, WTF_CSRF_ENABLED=True)
    yield origin
    server.shutdown()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 1000}, locale="nl-NL")
    yield context
    context.close()


class IframeWithoutCookies:
    """WSGI middleware acting out a browser that blocks third-party cookies, partitioned ones included.

    Only top-level navigations (Sec-Fetch-Dest: document: the login popup and its callback) keep their
    first-party cookies; everything the iframe loads or sends arrives without a Cookie header, and no
    Set-Cookie reaches it. Chromium's own switches for this vary by build; this does not.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.cookies_seen = 0

    def __call__(self, environ, start_response):
        if environ.get("HTTP_SEC_FETCH_DEST") == "document":
            return self.wsgi_app(environ, start_response)
        environ.pop("HTTP_COOKIE", None)

        def without_set_cookie(status, headers, exc_info=None):
            self.cookies_seen += sum(1 for name, _value in headers if name.lower() == "set-cookie")
            return start_response(status, [(n, v) for n, v in headers if n.lower() != "set-cookie"], exc_info)

        return self.wsgi_app(environ, without_set_cookie)


def open_host(context, host):
    page = context.new_page()
    page.goto(host)
    frame = page.frame_locator("#exact-frame")
    frame.get_by_role("link", name="Instellingen openen").click()
    frame.get_by_role("link", name="Verbinden met Exact Online").click()
    frame.get_by_label("Nederland").check()
    return page, frame


def go_to_exact(popup):
    """The popup's first page says which OutSmart account is being connected; its button goes on to Exact."""
    popup.get_by_role("button", name="Doorgaan naar Exact Online").click()
    popup.wait_for_url("**/nl/api/oauth2/auth?**")


def login_in_popup(popup, username=JAN, cancel=False):
    go_to_exact(popup)
    popup.fill("input[name=username]", username)
    popup.fill("input[name=password]", "demo")
    popup.locator("form button[type=submit], form input[type=submit]").first.click()
    popup.get_by_role("button", name="Annuleren" if cancel else "Toestaan").click()


def wait_until_closed(popup):
    """The popup may close itself before we start listening: a missed "close" event would wait forever."""
    if not popup.is_closed():
        popup.wait_for_event("close")


def messages(page):
    return page.evaluate("window.exactMessages")


def finish_setup(frame):
    frame.get_by_role("link", name="Kies de administratie").click()
    frame.get_by_label("Bakker Installatietechniek B.V.").check()
    frame.get_by_role("button", name="Deze administratie kiezen").click()
    frame.get_by_role("link", name="Verder naar import en export").click()
    for field in EXACT_SELECTS:
        frame.locator(f"#{field}").select_option(index=1)
    frame.get_by_role("button", name="Verder naar controleren").click()
    frame.get_by_label("Ja, Bakker Installatietechniek B.V. (101) is de juiste administratie").check()
    frame.get_by_role("button", name="Opslaan").click()


@pytest.mark.parametrize("cookies", ["allowed", "blocked"])
def test_whole_setup_inside_outsmart_with_a_popup_login(app, context, host, live_app, cookies):
    from playwright.sync_api import expect

    if cookies == "blocked":
        app.wsgi_app = IframeWithoutCookies(app.wsgi_app)
    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    expect(frame.locator("#exact h1")).to_have_text("Meld u aan bij Exact Online")
    popup = opened.value
    login_in_popup(popup)
    wait_until_closed(popup)

    expect(frame.locator("#connection-facts")).to_contain_text("Jan Bakker")
    expect(page.locator("#host-status")).to_have_text("Ingelogd, nog niet opgeslagen")
    if cookies == "allowed":
        page.screenshot(path=str(SCREENSHOTS / "embedded-verbonden.png"), full_page=True)
    finish_setup(frame)
    expect(frame.locator("#locked-administration")).to_contain_text("Bakker Installatietechniek B.V.")
    expect(page.locator("#host-status")).to_have_text("Verbonden")

    received = messages(page)
    assert received[0]["type"] == "exact:ready"
    assert {"type": "exact:status", "state": "connected", "division": None} in received
    assert {"type": "exact:status", "state": "saved", "division": 101} in received
    assert any(m["type"] == "exact:resize" and m["height"] > 300 for m in received)
    assert all(set(m) <= {"type", "state", "division", "height"} for m in received)  # nothing secret travels
    last_height = [m["height"] for m in received if m["type"] == "exact:resize"][-1]
    expect(page.locator("#exact-frame")).to_have_css("height", f"{max(last_height, 200)}px")

    frame.get_by_role("link", name="Verbinding verbreken").click()
    frame.get_by_role("button", name="Verbinding verbreken").click()
    expect(page.locator("#host-status")).to_have_text("Verbinding verbroken")
    assert {"type": "exact:status", "state": "disconnected", "division": None} in messages(page)
    if cookies == "blocked":
        assert app.wsgi_app.cookies_seen > 0  # the app did try to set its cookie; the iframe never got it


def test_blocked_popup_offers_a_new_tab(context, host):
    from playwright.sync_api import expect

    context.add_init_script("window.open = () => null;")  # what a popup blocker does
    page, frame = open_host(context, host)
    frame.get_by_role("button", name="Naar inlogpagina").click()
    blocked = frame.locator("#popup-blocked")
    expect(blocked).to_be_visible()
    expect(blocked).to_contain_text("geblokkeerd")
    page.screenshot(path=str(SCREENSHOTS / "embedded-popup-geblokkeerd.png"), full_page=True)
    with context.expect_page() as opened:
        blocked.get_by_role("link", name="Open de inlogpagina in een nieuw tabblad").click()
    login_in_popup(opened.value)
    expect(frame.locator("#connection-facts")).to_contain_text("Jan Bakker", timeout=10000)


def test_closing_the_popup_says_not_connected(context, host):
    from playwright.sync_api import expect

    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    go_to_exact(opened.value)
    opened.value.close()
    expect(frame.locator("#exact .alert")).to_contain_text("Het inlogvenster is gesloten", timeout=10000)
    expect(frame.get_by_role("link", name="Opnieuw proberen")).to_be_visible()


def test_cancelling_at_exact_says_not_connected(context, host):
    from playwright.sync_api import expect

    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    login_in_popup(opened.value, cancel=True)
    expect(frame.locator("#exact .alert")).to_contain_text("geen toegang gegeven", timeout=10000)
    expect(page.locator("#host-status")).to_have_text("Niet verbonden")


def test_a_slow_login_in_the_popup_is_left_alone_while_the_iframe_polls(context, host):
    from playwright.sync_api import expect

    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    popup = opened.value
    go_to_exact(popup)
    popup.fill("input[name=username]", JAN)
    frame.locator("#exact").evaluate("root => { window.waitingStep = root; }")
    page.wait_for_timeout(4500)  # the iframe checks every 2 s; while nothing has happened it swaps nothing
    assert "/api/oauth2/auth" in popup.url and popup.input_value("input[name=username]") == JAN
    assert frame.locator("#exact").evaluate("root => root === window.waitingStep")  # the same step, never re-added
    popup.fill("input[name=password]", "demo")
    popup.locator("form button[type=submit], form input[type=submit]").first.click()
    popup.get_by_role("button", name="Toestaan").click()
    expect(frame.locator("#connection-facts")).to_contain_text("Jan Bakker", timeout=10000)


def test_a_refused_start_closes_the_blank_popup_and_says_when_to_try_again(app, context, host):
    """The account's 11th login start in 10 minutes: the popup opened in the click closes, the iframe says why."""
    from playwright.sync_api import expect

    from views.embed import make_entry_token

    elsewhere = app.test_client()  # another admin of the same OutSmart account, in another browser
    with app.app_context():
        token = make_entry_token("demo", "Bert de Vries", "nl", host)
    assert elsewhere.get(f"/embed?token={token}").status_code == 200
    csrf = re.search(r'"X-CSRFToken":\s*"([^"]+)"', elsewhere.get("/exact/land").get_data(as_text=True))[1]
    for _ in range(10):
        assert elsewhere.post("/exact/land", data={"country": "nl"}, headers={"X-CSRFToken": csrf}).status_code == 303

    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    wait_until_closed(opened.value)
    alert = frame.locator("#exact .alert")
    expect(alert).to_contain_text("te vaak geprobeerd in te loggen")
    expect(alert).to_contain_text(re.compile(r"Probeer het over \d+ (minuut|minuten) opnieuw\."))
    expect(frame.get_by_role("button", name="Naar inlogpagina")).to_be_visible()


def test_the_host_is_told_when_the_connection_needs_attention_and_when_it_works_again(app, context, host, sim):
    """Verbinding testen inside OutSmart: Exact refuses (licence expired), the iframe reports it with ✗ and the host
    hears exact:status needs_attention with the reason; renewed at Exact, the next test ticks and the host hears saved."""
    from playwright.sync_api import expect

    from wizard_actions import WizardActions

    app.config.update(DEFAULT_ACCOUNT="demo", WTF_CSRF_ENABLED=False)  # the setup through HTTP, as the demo account
    assert WizardActions(app.test_client(), sim).complete(JAN, 101).status_code == 303
    app.config.update(DEFAULT_ACCOUNT=None, WTF_CSRF_ENABLED=True)
    page = context.new_page()
    page.goto(host)
    frame = page.frame_locator("#exact-frame")
    frame.get_by_role("link", name="Instellingen openen").click()
    expect(page.locator("#host-status")).to_have_text("Verbonden")

    sim.settings(expired_licenses=[101])
    frame.get_by_role("button", name="Verbinding testen").click()
    failed = frame.locator(".report__item--failed")
    # Exact is asked the administration and then each right: on a busy machine that takes longer than 5 s.
    expect(failed).to_contain_text("Mislukt: Administratie Bakker Installatietechniek B.V. (101)", timeout=15000)
    expect(failed).to_contain_text("Het abonnement (de licentie) van uw Exact Online is verlopen")
    expect(failed.locator(".report__mark")).to_have_attribute("aria-hidden", "true")  # the words are read, not ✗
    expect(page.locator("#host-status")).to_have_text("Actie nodig")

    sim.settings(expired_licenses=[])
    frame.get_by_role("button", name="Opnieuw testen").click()
    expect(frame.locator(".report__item--ok")).to_have_count(5)
    expect(frame.get_by_role("status").filter(has_text="De verbinding werkt")).to_be_visible()
    expect(page.locator("#host-status")).to_have_text("Verbonden")
    statuses = [message for message in messages(page) if message["type"] == "exact:status"]
    assert statuses[-2:] == [{"type": "exact:status", "state": "needs_attention", "division": 101,
                              "reason": "LicenseExpired"},
                             {"type": "exact:status", "state": "saved", "division": 101}]  # no reason once it works


def test_annuleren_in_the_iframe_closes_the_popup_and_ends_the_login(context, host):
    """Annuleren while the popup is at Exact's login page: the popup closes, the attempt ends on the server, the
    iframe goes back to the country step and says so; the host still hears "not connected"."""
    from playwright.sync_api import expect

    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    popup = opened.value
    go_to_exact(popup)
    with popup.expect_event("close"):
        frame.get_by_role("button", name="Annuleren").click()
    expect(frame.locator("#login-aborted")).to_have_text("Het inloggen is geannuleerd. Er is niets gewijzigd.")
    expect(frame.locator("#exact h1")).to_have_text("Inloggen bij Exact Online")
    assert LoginAttempt.get().outcome == "aborted"
    expect(page.locator("#host-status")).to_have_text("Niet verbonden")


def test_a_login_window_finishing_after_annuleren_connects_nothing_and_says_so(context, host, live_app):
    """The login window outlives Annuleren (a new tab, which the iframe cannot close): the admin logs in and allows
    all the same. Nothing is connected, the window's own last page says why, and its address holds no code."""
    from playwright.sync_api import expect

    context.add_init_script("window.open = () => null;")  # a popup blocker: the login opens in a new tab instead
    page, frame = open_host(context, host)
    frame.get_by_role("button", name="Naar inlogpagina").click()
    with context.expect_page() as opened:
        frame.get_by_role("link", name="Open de inlogpagina in een nieuw tabblad").click()
    window = opened.value
    go_to_exact(window)
    frame.get_by_role("button", name="Annuleren").click()
    expect(frame.locator("#login-aborted")).to_be_visible()
    window.fill("input[name=username]", JAN)  # … and yet goes on in the login window
    window.fill("input[name=password]", "demo")
    window.locator("form button[type=submit], form input[type=submit]").first.click()
    window.get_by_role("button", name="Toestaan").click()
    expect(window.locator("h1")).to_have_text("Niet verbonden")
    expect(window.get_by_role("alert")).to_have_text(
        "Het inloggen is in OutSmart geannuleerd, daarom is er niets verbonden.")
    assert re.search(r"/exact/callback/[\w-]+/klaar$", window.url) and "code=" not in window.url
    window.wait_for_timeout(1000)  # it stays open to be read (popup.js does not close an ended login's window)
    assert not window.is_closed()
    assert Connection.select().where(Connection.refresh_token.is_null(False)).count() == 0
    expect(page.locator("#host-status")).to_have_text("Niet verbonden")
    expect(frame.locator("#exact h1")).to_have_text("Inloggen bij Exact Online")  # the iframe stayed where it was


@pytest.mark.parametrize("width", [360, 1280])
def test_inside_outsmart_the_steps_fit_and_software_integraties_is_said_once(browser, host, width):
    from playwright.sync_api import expect

    from test_browser_layout import assert_stepper_on_one_line

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL")
    try:
        page = context.new_page()
        page.goto(host)
        frame = page.frame_locator("#exact-frame")
        expect(frame.locator("#exact-status")).to_have_text("Niet verbonden")
        seen = page.evaluate("""() => [...document.querySelectorAll('h1')].filter(e => e.offsetParent)
            .map(e => e.textContent.trim())""")
        inside = page.frames[1].evaluate("""() => [...document.querySelectorAll('h1')]
            .filter(e => e.getBoundingClientRect().width > 1).map(e => e.textContent.trim())""")  # seen, not only heard
        assert [text.startswith("Software-integraties") for text in seen] == [True] and inside == [], (seen, inside)
        frame.get_by_role("link", name="Instellingen openen").click()
        frame.get_by_role("link", name="Verbinden met Exact Online").click()
        expect(frame.locator("#exact h1")).to_have_text("Inloggen bij Exact Online")
        inner = page.frames[1]
        assert inner.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        if width >= 1280:
            assert_stepper_on_one_line(inner, "country step inside OutSmart")
        page.screenshot(path=str(SCREENSHOTS / f"embedded-{width}-land.png"), full_page=True)
    finally:
        context.close()
