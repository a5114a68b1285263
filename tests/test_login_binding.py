"""Nobody connects someone else's books: the attacks of issue 14 against the live app (a threaded server, the
simulator over HTTP), each as an attacker would script it. The popup's own browser behaviour is in
test_browser_login_binding.py."""
import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hostile import HOSTILE
from hostile import assert_refused_with_a_message
from hostile import comparable
from hostile import contains_nul
from hostile import hostile_form
from hostile import materialise
from hostile import snapshot

from models import Connection
from models import LoginAttempt
from simhelpers import JAN
from simhelpers import PIET
from views.embed import make_entry_token

NOT_FROM_OUTSMART = "niet geopend door de OutSmart-pagina"
OTHER_VISIT = "gestart in een ander venster of voor een ander OutSmart-account"


class Browser:
    """One browser: its own cookies; inside OutSmart with a signed entry for `account`, or none at all."""

    def __init__(self, app, url, account=None, user="Beheerder"):
        self.url = url
        self.http = requests.Session()
        if account:
            with app.app_context():
                token = make_entry_token(account, user)
            page = self.http.get(f"{url}/embed", params={"token": token}, timeout=10)
            assert page.status_code == 200, page.text
            # Sent with every request, as htmx does inside the iframe (which may have no cookie at all).
            self.http.headers.update(json_of(re.search(r"hx-headers='([^']+)'", page.text).group(1)))

    def get(self, path, **kwargs):
        return self.http.get(self.url + path, allow_redirects=False, timeout=10, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self.http.post(self.url + path, data=data or {}, allow_redirects=False, timeout=10, **kwargs)

    def visit(self, absolute_url):
        """Follow an address the way a browser opens a link (our own addresses, or Exact's)."""
        return self.http.get(absolute_url, allow_redirects=False, timeout=10)


def json_of(text):
    import json

    return json.loads(text)


@pytest.fixture
def production(app, live_app):
    """The production configuration: no account without OutSmart's signed entry, CSRF on every POST."""
    app.config.update(DEFAULT_ACCOUNT=None, WTF_CSRF_ENABLED=True)
    return app


def start_popup(iframe):
    """In A's iframe: Naar inlogpagina (popup). Returns the attempt and the secret the iframe got for its popup."""
    started = iframe.post("/exact/land", {"country": "nl", "popup": "1"}, headers={"HX-Request": "true"})
    assert started.status_code == 200, started.text
    attempt = LoginAttempt.get_by_id(re.search(r'data-login-attempt="([^"]+)"', started.text).group(1))
    return attempt, re.search(r'data-login-handoff="([^"]+)"', started.text).group(1)


def nothing_connected(sim):
    assert Connection.select().where(Connection.refresh_token.is_null(False)).count() == 0
    assert sim.calls(kind="token") == [], "a code went to Exact"


def test_a_copied_popup_link_finishes_nothing_in_another_companys_browser(production, live_app, sim):
    """HIGH: A copies the popup's address and sends it to B (no OutSmart session). B's browser goes nowhere."""
    a_iframe = Browser(production, live_app, account="bakker-a", user="Mallory")
    attempt, secret = start_popup(a_iframe)
    link = f"/exact/login/{attempt.id}"
    b = Browser(production, live_app)  # another company's admin: no OutSmart session, no opener

    page = b.get(link)
    assert page.status_code == 200
    # It says whose login this is before anything happens, and offers no way on without the iframe's secret.
    assert "U verbindt het OutSmart-account bakker-a met Exact Online Nederland" in page.text
    assert "gestart door Mallory" in page.text and secret not in page.text
    assert re.search(r'<button[^>]*disabled', page.text)
    for handed in ("", "guess", secret[:-1] + ("A" if secret[-1] != "A" else "B")):
        refused = b.post(link, {"handoff": handed})
        assert refused.status_code == 403 and NOT_FROM_OUTSMART in refused.text
        assert "Location" not in refused.headers and "Set-Cookie" not in refused.headers
    assert LoginAttempt.get_by_id(attempt.id).browser_key is None
    nothing_connected(sim)


def test_exacts_login_address_forwarded_to_another_browser_connects_nothing(production, live_app, sim):
    """A lets its own popup go on to Exact, then sends Exact's login address to B. B logs in at Exact and allows;
    B's browser comes back without A's popup cookie and without an opener: nothing is connected, no code exchanged."""
    a_iframe = Browser(production, live_app, account="bakker-a", user="Mallory")
    attempt, secret = start_popup(a_iframe)
    a_popup = Browser(production, live_app)
    going = a_popup.post(f"/exact/login/{attempt.id}", {"handoff": secret})
    assert going.status_code == 303
    exact_login = going.headers["Location"]

    b = Browser(production, live_app)
    back = sim.login(exact_login, PIET)  # B's own Exact user and administrations
    asked = b.visit(back)
    assert asked.status_code == 200 and "data-handoff-missing" in asked.text  # it can only ask an opener it lacks
    answer = {name: values[0] for name, values in parse_qs(urlsplit(back).query).items()}
    for handed in ("", "guess"):
        refused = b.post("/exact/callback", {**answer, "handoff": handed})
        assert refused.status_code == 403 and NOT_FROM_OUTSMART in refused.text
    nothing_connected(sim)
    # The attacker holding the secret cannot use B's answer either: the code went to B's browser alone, and the
    # state is bound to the one browser that went to Exact with its cookie.
    assert LoginAttempt.get_by_id(attempt.id).outcome is None


def test_a_full_page_login_finishes_only_in_the_visit_that_started_it(production, live_app, sim):
    """Outside an iframe the page itself goes to Exact: its way back is bound to its own OutSmart visit."""
    a = Browser(production, live_app, account="bakker-a")
    going = a.post("/exact/land", {"country": "nl", "csrf_token": csrf_of(a)})
    assert going.status_code == 303
    back = sim.login(going.headers["Location"], PIET)
    for other in (Browser(production, live_app), Browser(production, live_app, account="devries-b"),
                  Browser(production, live_app, account="bakker-a")):  # even another visit of the same account
        refused = other.visit(back)
        assert refused.status_code == 400 and OTHER_VISIT in refused.text
    nothing_connected(sim)
    assert a.visit(back).status_code == 303  # in its own visit it finishes
    assert Connection.get(Connection.account == "bakker-a").exact_user_email == PIET


def csrf_of(browser):
    return browser.http.headers["X-CSRFToken"]


def test_a_stolen_code_does_not_work_in_the_attackers_own_login(production, live_app, sim):
    """MEDIUM: with PKCE a code taken from the victim's way back cannot be redeemed with the attacker's own state."""
    victim = Browser(production, live_app, account="bakker-a")
    stolen = code_of(sim.login(victim.post("/exact/land", {"country": "nl", "csrf_token": csrf_of(victim)})
                               .headers["Location"], JAN))
    attacker = Browser(production, live_app, account="devries-b")
    own = attacker.post("/exact/land", {"country": "nl", "csrf_token": csrf_of(attacker)}).headers["Location"]
    state = parse_qs(urlsplit(own).query)["state"][0]
    back = attacker.get(f"/exact/callback?state={state}&code={stolen}")
    assert back.status_code == 303 and back.headers["Location"].endswith("/klaar")  # shown without the code
    answer = attacker.get(back.headers["Location"])
    assert answer.status_code == 502  # Exact refused the exchange: the code was asked with the victim's challenge
    assert [call["status"] for call in sim.calls(kind="token")] == [400]
    assert Connection.select().where(Connection.refresh_token.is_null(False)).count() == 0


def test_without_pkce_the_stolen_code_would_work(production, live_app, sim):
    """The control for the test above: with EXACT_PKCE off and an Exact that does not check, the attack succeeds,
    which is what remains against a real Exact that ignores PKCE (README: Security)."""
    production.config["EXACT_PKCE"] = False
    sim.settings(require_pkce=False)
    victim = Browser(production, live_app, account="bakker-a")
    stolen = code_of(sim.login(victim.post("/exact/land", {"country": "nl", "csrf_token": csrf_of(victim)})
                               .headers["Location"], JAN))
    attacker = Browser(production, live_app, account="devries-b")
    own = attacker.post("/exact/land", {"country": "nl", "csrf_token": csrf_of(attacker)}).headers["Location"]
    state = parse_qs(urlsplit(own).query)["state"][0]
    assert attacker.get(f"/exact/callback?state={state}&code={stolen}").status_code == 303
    assert Connection.get(Connection.account == "devries-b").exact_user_email == JAN


def code_of(location):
    return parse_qs(urlsplit(location).query)["code"][0]


def test_the_popups_messages_go_to_app_url_whatever_host_the_request_names(production, live_app):
    """LOW: the popup's postMessage target comes from APP_URL, never from the Host header; other hosts are refused."""
    a_iframe = Browser(production, live_app, account="bakker-a")
    attempt, _secret = start_popup(a_iframe)
    popup = Browser(production, live_app)
    for headers in ({}, {"X-Forwarded-Host": "evil.example"}):
        page = popup.get(f"/exact/login/{attempt.id}", headers=headers)
        assert page.status_code == 200 and f'data-app-origin="{live_app}"' in page.text
    production.config["APP_URL"] = "https://exact.out-smart.example"  # where OutSmart serves it
    assert 'data-app-origin="https://exact.out-smart.example"' in popup.get(f"/exact/login/{attempt.id}").text
    foreign = popup.get(f"/exact/login/{attempt.id}", headers={"Host": "evil.example"})
    assert foreign.status_code == 400 and "evil" not in foreign.text


# The popup's own posts carry no session and no CSRF token: the secret its iframe handed it is their proof. Anything
# else sent there, in any field, at either of them, is refused in words and changes nothing.
@settings(HOSTILE, max_examples=60)
@given(data=st.data())
def test_hostile_posts_to_the_popups_own_forms_change_nothing(hostile_popup, data):
    app, sim, attempt, callback_answer = hostile_popup
    path = data.draw(st.sampled_from([f"/exact/login/{attempt.id}", "/exact/callback"]), label="path")
    good = [attempt.id, attempt.state, callback_answer.get("code", ""), "real-looking-" + "x" * 30]
    form = materialise(data.draw(hostile_form(("handoff", "state", "code", "error"), good), label="form"))
    before = comparable(snapshot())
    response = app.test_client().post(path, data=form)
    context = f"POST {path} {sorted(form)[:8]}"
    nul = contains_nul(*(str(key) for key in form), *(str(value) for value in form.values()))
    assert_refused_with_a_message(response, {400, 403, 413}, context)
    if not nul:
        assert comparable(snapshot()) == before, f"{context}: rows changed"
    assert sim.calls(kind="token") == [], f"{context}: a code went to Exact"


@pytest.fixture
def hostile_popup(app, client, sim):
    """A popup login on its way to Exact and back, its answer not delivered: the targets of the hostile posts."""
    from wizard_actions import popup_to_exact

    attempt, _popup, authorize, _secret = popup_to_exact(app, client)
    back = sim.login(authorize, JAN)
    sim.clear_calls()
    return app, sim, attempt, {name: values[0] for name, values in parse_qs(urlsplit(back).query).items()}
