"""The visit's 8 hours inside OutSmart, shortened here to seconds: the page warns before they end, "Langer blijven"
extends the visit without losing what was chosen, and once they are over the page says so."""
import datetime
import json
import time

import pytest

from test_browser_embedded import context  # noqa: F401  (fixtures)
from test_browser_embedded import host  # noqa: F401
from test_browser_embedded import open_host

pytestmark = pytest.mark.e2e

LIFETIME = 10  # seconds, for PERMANENT_SESSION_LIFETIME's 8 hours
WARN_BEFORE = 7  # seconds, for SESSION_WARNING_BEFORE's 5 minutes: the warning comes 3 s after the page loads
EXTEND_AT = 6  # seconds after the page loaded: the first copy then ends 6 s before the one "Langer blijven" gets


def test_the_session_warns_before_it_ends_and_extending_keeps_what_was_chosen(app, context, host):
    from playwright.sync_api import expect

    app.config.update(PERMANENT_SESSION_LIFETIME=datetime.timedelta(seconds=LIFETIME),
                      SESSION_WARNING_BEFORE=WARN_BEFORE)
    loaded = time.monotonic()  # the iframe's copy of the session is signed after this
    page, frame = open_host(context, host)  # … to the country step, Nederland ticked
    country = frame.get_by_label("Nederland")
    expect(country).to_be_checked()
    first_copy = json.loads(frame.locator("body").get_attribute("hx-headers"))["X-Session"]
    message = frame.locator("#session-message")
    expect(message).to_have_attribute("role", "status")
    expect(message).to_have_text("Uw sessie eindigt over 1 minuut. Wat u nog niet hebt opgeslagen, gaat dan verloren. "
                                 "Klik op Langer blijven om verder te werken.", timeout=LIFETIME * 1000)
    country.focus()
    extend = frame.get_by_role("button", name="Langer blijven")
    for _ in range(10):  # with the keyboard, back from where the admin was to the button
        frame.locator(":focus").press("Shift+Tab")
        if extend.evaluate("button => document.activeElement === button"):
            break
    page.wait_for_timeout(max(0, (loaded + EXTEND_AT - time.monotonic()) * 1000))
    extend.press("Enter")
    expect(message).to_have_text("Uw sessie is verlengd. Wat u hebt ingevuld, blijft staan.")
    expect(frame.get_by_role("button", name="Langer blijven")).to_be_hidden()
    expect(country).to_be_focused()  # back where the admin was
    expect(country).to_be_checked()

    # Past the end of the first copy (the server refuses it now), the page goes on with the one "Langer blijven" got.
    server = app.test_client()
    for _ in range(100):
        if server.get("/exact", headers={"X-Session": first_copy}).status_code == 401:
            break
        page.wait_for_timeout(200)
    else:
        raise AssertionError("the first copy of the session never ended")
    with page.expect_popup():
        frame.get_by_role("button", name="Naar inlogpagina").click()
    expect(frame.locator("#exact h1")).to_have_text("Meld u aan bij Exact Online")

    # Not extended again: when the visit is over the page says so.
    expect(message).to_have_text("Uw sessie is verlopen. Wat u nog niet had opgeslagen, is niet bewaard. Open de "
                                 "Exact Online-instellingen opnieuw vanuit OutSmart: Instellingen → Algemeen → "
                                 "Software-integraties.", timeout=LIFETIME * 1000)
    expect(frame.get_by_role("button", name="Langer blijven")).to_be_hidden()

    # The next request the page makes (the waiting step asks every 2 s) is refused; its answer takes the step's place:
    # one panel saying where to open the settings again, not a second page inside the first.
    expect(frame.locator("#exact h1")).to_have_text("Open deze pagina vanuit OutSmart", timeout=10000)
    inner = page.frames[1]
    assert inner.evaluate("() => [document.querySelectorAll('main').length, document.querySelectorAll('#exact').length,"
                          " document.querySelectorAll('html').length]") == [1, 1, 1]
    assert inner.title() == "Open deze pagina vanuit OutSmart — Exact Online"
