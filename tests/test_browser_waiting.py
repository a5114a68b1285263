"""Waiting for the popup login inside OutSmart, as an admin with a keyboard or a screen reader lives it: the status
checks change nothing on the page until something has happened, the "popup blocked" way out stays, the focus stays
where the admin put it, and the login's 10 minutes are said, warned about and, once over, said so (in the iframe and
in a popup that finishes late)."""
import datetime

import pytest

from models import Connection
from models import LoginAttempt
from models import STATE_TTL
from models import utcnow
from simhelpers import JAN
from test_browser_embedded import context  # noqa: F401  (fixtures)
from test_browser_embedded import go_to_exact
from test_browser_embedded import host  # noqa: F401
from test_browser_embedded import login_in_popup
from test_browser_embedded import open_host

pytestmark = pytest.mark.e2e

# The waiting step asks every 2 s; here every 0.2 s, so that many checks pass quickly.
FAST_CHECKS = 0.2
# What 10 s of checks at the usual 2 s are, and then some.
CHECKS = 10


def count_checks(page):
    """The iframe's status checks while it waits, as they are answered."""
    answered = []
    page.on("response", lambda response: "/status?waiting=1" in response.url and answered.append(response.status))
    return answered


def wait_for_checks(page, answered, count=CHECKS):
    start = len(answered)
    for _ in range(200):
        if len(answered) - start >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"only {len(answered) - start} status checks in 20 s")


def test_the_blocked_popup_message_and_its_link_survive_the_status_checks(app, context, host):
    from playwright.sync_api import expect

    app.config["LOGIN_STATUS_INTERVAL"] = FAST_CHECKS
    context.add_init_script("window.open = () => null;")  # what a popup blocker does
    page, frame = open_host(context, host)
    answered = count_checks(page)
    frame.get_by_role("button", name="Naar inlogpagina").click()
    blocked = frame.locator("#popup-blocked")
    expect(blocked).to_be_visible()
    blocked.evaluate("element => { window.blockedMessage = element; }")
    wait_for_checks(page, answered)

    expect(blocked).to_be_visible()
    assert blocked.evaluate("element => element === window.blockedMessage")  # never re-added (nor re-announced)
    assert set(answered) == {204}  # "nothing happened yet": nothing to swap
    expect(blocked).to_contain_text("geblokkeerd")
    expect(blocked).to_contain_text("Open de inlogpagina in een nieuw tabblad en log daar in")
    # No "log in in the opened window" while none is open.
    expect(frame.locator("#login-instructions")).to_be_hidden()
    expect(frame.get_by_text("Log in het geopende venster")).to_be_hidden()
    with context.expect_page() as opened:
        blocked.get_by_role("link", name="Open de inlogpagina in een nieuw tabblad").click()
    login_in_popup(opened.value)
    expect(frame.locator("#connection-facts")).to_contain_text("Jan Bakker", timeout=10000)


def test_the_focus_and_the_live_regions_stay_put_while_waiting(app, context, host):
    from playwright.sync_api import expect

    app.config["LOGIN_STATUS_INTERVAL"] = FAST_CHECKS
    page, frame = open_host(context, host)
    answered = count_checks(page)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    expect(frame.locator("#exact h1")).to_have_text("Meld u aan bij Exact Online")
    expect(frame.locator("#exact h1")).to_be_focused()  # the step arrived: its heading, once
    # The admin tabs on to "Annuleren" and stays there while the popup is open.
    frame.locator("#exact h1").press("Tab")
    cancel = frame.get_by_role("button", name="Annuleren")
    for _ in range(10):
        if cancel.evaluate("link => document.activeElement === link"):
            break
        frame.locator(":focus").press("Tab")
    expect(cancel).to_be_focused()
    frame.locator("#exact").evaluate("""root => {
        window.focusedBefore = document.activeElement;
        window.regionsBefore = [...root.querySelectorAll('[role=status], [role=alert]')];
    }""")
    wait_for_checks(page, answered)

    assert set(answered) == {204}
    assert frame.locator("#exact").evaluate("""root => document.activeElement === window.focusedBefore
        && window.regionsBefore.every(region => region.isConnected)
        && root.querySelectorAll('[role=status], [role=alert]').length === window.regionsBefore.length""")
    login_in_popup(opened.value)
    expect(frame.locator("#connection-facts")).to_contain_text("Jan Bakker", timeout=10000)
    expect(frame.locator("#exact h1")).to_be_focused()  # something happened: the new step, its heading


def test_the_login_time_limit_is_said_warned_about_and_ends_in_words(app, context, host):
    """The waiting step says the 10 minutes; shortly before the end a polite status warns, with "Opnieuw beginnen";
    past the end the iframe says the time was up, and a popup that finishes at Exact afterwards ends on its own last
    page, not on a copy of the setup."""
    from playwright.sync_api import expect

    app.config.update(LOGIN_STATUS_INTERVAL=FAST_CHECKS, LOGIN_WARNING_BEFORE=598)  # warned 2 s after the start
    page, frame = open_host(context, host)
    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Naar inlogpagina").click()
    popup = opened.value
    expect(frame.locator("#login-time-limit")).to_have_text(
        "U heeft 10 minuten om in te loggen; kort voor het einde waarschuwt deze pagina u.")
    warning = frame.locator("#login-time-warning")
    expect(warning).to_have_attribute("role", "status")
    expect(warning).to_have_text("")  # on the page, empty, before it speaks
    expect(warning).to_have_text("Nog 10 minuten om in te loggen. Lukt dat niet op tijd, begin dan opnieuw: u krijgt "
                                 "weer 10 minuten.", timeout=10000)
    first = LoginAttempt.get()

    frame.get_by_role("button", name="Opnieuw beginnen").click()  # the same popup window goes to the new attempt
    expect(frame.locator("#exact")).not_to_have_attribute("data-login-attempt", first.id)
    again = LoginAttempt.get(LoginAttempt.id != first.id)
    assert again.mode == LoginAttempt.POPUP and again.country == first.country
    expect(frame.locator("#login-time-warning")).to_have_text("")  # a new 10 minutes
    popup.wait_for_url(f"**/exact/login/{again.id}")
    go_to_exact(popup)
    popup.fill("input[name=username]", JAN)

    LoginAttempt.update(created_at=utcnow() - STATE_TTL - datetime.timedelta(seconds=1)).where(
        LoginAttempt.id == again.id).execute()
    alert = frame.locator("#exact [role=alert]")
    expect(alert).to_have_text("De 10 minuten om in te loggen zijn voorbij, daarom is er niets verbonden. Start het "
                               "inloggen opnieuw; u krijgt dan weer 10 minuten.")
    expect(frame.get_by_role("link", name="Opnieuw proberen")).to_be_visible()
    assert LoginAttempt.get_by_id(again.id).outcome == "expired"

    # The popup finishes at Exact after all: its own last page says why nothing was connected, and stays open.
    popup.fill("input[name=password]", "demo")
    popup.locator("form button[type=submit], form input[type=submit]").first.click()
    popup.get_by_role("button", name="Toestaan").click()
    expect(popup.locator("h1")).to_have_text("Niet verbonden")
    expect(popup.get_by_role("alert")).to_contain_text("het inloggen moet binnen 10 minuten klaar zijn")
    expect(popup).to_have_title("Niet verbonden — Exact Online")
    assert popup.locator(".stepper, nav, [data-login-status]").count() == 0  # no setup inside the popup
    page.wait_for_timeout(1000)
    assert not popup.is_closed()
    assert not Connection.select().where(Connection.refresh_token.is_null(False)).exists()
