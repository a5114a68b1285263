"""Exact's 403 reasons (issue 15): each has its own words (Dutch and English) and a saved connection its own state,
needs_attention with the reason, at the login, on a page, at the token API and at "Verbinding testen"; nothing else
changes. A new login ends the state, and so does a test that Exact answers in full.

Everything runs against the simulator over HTTP; the simulator's settings make Exact refuse (exact_sim/settings.py).
"""
import html
import re
import time

import pytest

from conftest import WORKER_KEY
from models import Administration
from models import Connection
from models import Event
from models import ExactList
from models import LoginAttempt
from models import db
from simhelpers import JAN
from wizard_actions import HTMX

AUTH = {"Authorization": f"Bearer {WORKER_KEY}"}
# Both scopes missing: the login meets the first at system/Divisions, a page reading the lists the second.
NO_SCOPES = ["Organization administration", "Financial accounting"]

# Each reason: the simulator setting that makes Exact refuse, its words in Dutch and English, whether a new login as
# another Exact user helps (then the page offers "Verbind opnieuw").
REASONS = {
    "InactiveUser": ({"inactive_users": [JAN]},
                     "is in Exact Online niet meer actief. Verbind opnieuw met een actieve Exact Online-gebruiker",
                     "is no longer active in Exact Online. Reconnect with an active Exact Online user", True),
    "BlockedUser": ({"blocked_users": [JAN]},
                    "is in Exact Online geblokkeerd. Verbind opnieuw met een actieve Exact Online-gebruiker",
                    "is blocked in Exact Online. Reconnect with an active Exact Online user", True),
    "BlockedCustomer": ({"blocked_customers": [101]},
                        "Exact Online heeft uw bedrijf als klant geblokkeerd",
                        "Exact Online has blocked your company as a customer", False),
    "LicenseExpired": ({"expired_licenses": [101]},
                       "Het abonnement (de licentie) van uw Exact Online is verlopen",
                       "Your Exact Online subscription (licence) has expired", False),
    "ApplicationScopeViolated": ({"missing_scopes": NO_SCOPES},
                                 "Dit is niet iets wat u zelf kunt oplossen: neem contact op met de support van "
                                 "OutSmart",
                                 "This is not something you can fix: contact OutSmart support", False),
}
NOTHING_REFUSED = {"inactive_users": [], "blocked_users": [], "blocked_customers": [], "expired_licenses": [],
                   "missing_scopes": []}
LANGUAGES = ["nl", "en"]

# Columns that may change on any call to Exact (what the health panel observes), and the state this issue adds.
OBSERVED = {"rate_limits", "last_error", "last_error_at"}
STATE = {"status", "attention_reason", "attention_at"}


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of that name: each request gets its own `g` (and so its own language)."""


@pytest.fixture(params=LANGUAGES)
def language(request, client):
    """The admin's browser asks for this language (the demo account has no entry that would name one)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = request.param
    return request.param


@pytest.fixture
def saved(app, wizard):
    """Jan's administration 101, saved with relations, materials and sales invoices (three rights at Exact)."""
    app.config["SERVICE_KEYS"] = {"sync-worker": WORKER_KEY}
    assert wizard.complete(JAN, 101).status_code == 303
    return Connection.get()


def refuse(sim, reason):
    sim.settings(**REASONS[reason][0])


def words(reason, language):
    return REASONS[reason][1 if language == "nl" else 2]


def text(response) -> str:
    """The page as a reader gets it: markup and entities gone, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def says_only(page: str, reason: str, language: str):
    """The page gives this reason's words, in this language, and no other reason's."""
    assert words(reason, language) in page, page[:2000]
    for other in REASONS:
        for lang in LANGUAGES:
            if (other, lang) != (reason, language):
                assert words(other, lang) not in page, (other, lang)


def stored(skip=()):
    """Everything stored about the connection but what an Exact call may observe and the columns in `skip`."""
    columns = [field.column_name for field in Connection._meta.sorted_fields
               if field.column_name not in OBSERVED | set(skip)]
    return (db.execute_sql(f"SELECT {', '.join(columns)} FROM connection ORDER BY id").fetchall(),
            [(row.code, row.name, row.status, row.blocked) for row in Administration.select().order_by(Administration.id)],
            [(row.division, row.kind, row.rows) for row in ExactList.select().order_by(ExactList.id)])


def events():
    return [(event.action, (event.detail or {}).get("reason")) for event in Event.history("demo")]


def report(response) -> list[tuple[str, str]]:
    """The test's report: (mark, line) per check, the mark as shown (✓, ✗ or –)."""
    items = re.findall(r'<li class="report__item report__item--(\w+)">(.*?)</li>', response.get_data(as_text=True),
                       re.S)
    return [(outcome, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", line)).split())) for outcome, line in items]


def needs_attention_on_a_page(client, sim, reason):
    """A page of the saved connection that reads from Exact (Vernieuwen: the lists again) meets Exact's refusal."""
    refuse(sim, reason)
    return client.post("/exact/instellingen/vernieuwen")


# --- at the login ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", list(REASONS))
def test_each_refusal_at_the_login_has_its_own_words_and_connects_nothing(client, wizard, sim, reason, language):
    refuse(sim, reason)
    response = wizard.connect(JAN)
    assert response.status_code == 502
    page = text(response)
    says_only(page, reason, language)
    assert ("Niet verbonden" if language == "nl" else "Not connected") in page
    attempt = LoginAttempt.get()
    assert (attempt.outcome, attempt.reason.partition(":")[0]) == ("failed", reason)
    assert Connection.select().count() == 0 and Administration.select().count() == 0
    assert events() == []


def test_a_refused_new_login_leaves_a_saved_connection_as_it_was(client, wizard, sim, saved):
    before = stored()
    refuse(sim, "LicenseExpired")
    response = wizard.connect(JAN)
    assert response.status_code == 502 and words("LicenseExpired", "nl") in text(response)
    assert stored() == before and Connection.get().status == Connection.SAVED


# --- on a page -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", list(REASONS))
def test_each_refusal_on_a_page_stops_the_saved_connection_with_its_own_words(client, sim, saved, reason, language):
    before = stored(skip=STATE)
    response = needs_attention_on_a_page(client, sim, reason)
    assert response.status_code == 409
    page = text(response)
    says_only(page, reason, language)
    reconnect = REASONS[reason][3]
    assert (("Verbind opnieuw" if language == "nl" else "Reconnect") in page) == reconnect
    connection = Connection.get()
    assert connection.status == Connection.NEEDS_ATTENTION
    assert connection.attention_reason.partition(":")[0] == reason and connection.attention_at is not None
    assert events()[0] == ("needs_attention", connection.attention_reason)
    assert stored(skip=STATE) == before  # tokens, administration, settings, cached lists: as they were

    overview = client.get("/exact")
    page = text(overview)
    says_only(page, reason, language)
    body = overview.get_data(as_text=True)
    assert f'data-exact-state="needs_attention" data-exact-division="101" data-exact-reason="{reason}"' in body
    action_needed = "Actie nodig" if language == "nl" else "Action needed"
    assert f"{action_needed}: " in page and 'id="attention-since"' in body  # the badge, in the health panel too
    assert ("Verbinding testen" if language == "nl" else "Test connection") in page
    assert ("Instellingen wijzigen" if language == "nl" else "Change settings") not in page  # nothing syncs now
    assert 'id="exact-status"' in client.get("/integraties").get_data(as_text=True)
    assert f"{action_needed}: " in text(client.get("/integraties"))


def test_a_refusal_while_setting_up_says_so_but_leaves_the_setup_as_it_was(client, wizard, sim):
    """Before saving there is no synchronisation to stop: the words and "Verbind opnieuw", the state stays."""
    wizard.connect(JAN)
    wizard.choose(101)
    before = stored()
    refuse(sim, "InactiveUser")
    response = client.get("/exact/administratie")  # the preview counts relations and items at Exact
    assert response.status_code == 409
    assert words("InactiveUser", "nl") in text(response) and "Verbind opnieuw" in text(response)
    assert stored() == before and Connection.get().status == Connection.CONNECTED
    assert [action for action, _reason in events()] == ["connected"]


def test_a_second_reason_replaces_the_first_and_the_same_one_is_recorded_once(client, sim, saved):
    needs_attention_on_a_page(client, sim, "LicenseExpired")
    needs_attention_on_a_page(client, sim, "LicenseExpired")
    sim.settings(expired_licenses=[], blocked_users=[JAN])
    assert client.post("/exact/instellingen/vernieuwen").status_code == 409
    assert Connection.get().attention_reason == "BlockedUser"
    assert [event for event in events() if event[0] == "needs_attention"] == [
        ("needs_attention", "BlockedUser"), ("needs_attention", "LicenseExpired")]
    history = text(client.get("/exact"))
    assert "Actie nodig: Exact Online-gebruiker geblokkeerd" in history
    assert "Actie nodig: abonnement bij Exact Online verlopen" in history


# --- at the token API ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", list(REASONS))
def test_the_token_api_answers_409_with_the_reason_and_no_token(client, sim, saved, reason):
    needs_attention_on_a_page(client, sim, reason)
    sim.clear_calls()
    response = client.post("/api/v1/accounts/demo/access-token", headers=AUTH)
    assert response.status_code == 409 and response.is_json
    body = response.json
    assert (body["error"], body["state"], body["reason"]) == ("needs_attention", "needs_attention", reason)
    assert words(reason, "en") in body["message"]
    assert saved.access_token not in response.get_data(as_text=True) and "access_token" not in body
    assert sim.calls() == []  # the state says it; Exact is not asked
    described = client.get("/api/v1/accounts/demo/connection", headers=AUTH).json
    assert (described["state"], described["reason"], described["synchronise"]) == ("needs_attention", reason, False)


def test_a_working_connection_has_no_reason_at_the_api(client, saved):
    assert client.get("/api/v1/accounts/demo/connection", headers=AUTH).json["reason"] is None
    assert client.post("/api/v1/accounts/demo/access-token", headers=AUTH).status_code == 200


# --- at "Verbinding testen" ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", list(REASONS))
def test_each_refusal_at_the_test_is_reported_in_its_own_words_and_sets_the_state(client, sim, saved, reason,
                                                                                 language):
    before = stored(skip=STATE)
    refuse(sim, reason)
    response = client.post("/exact/testen")
    assert response.status_code == 422
    says_only(text(response), reason, language)
    failed, not_tested = ("Mislukt:", "Niet getest:") if language == "nl" else ("Failed:", "Not tested:")
    lines = report(response)
    assert [outcome for outcome, _line in lines] == ["ok", "failed", "skipped", "skipped", "skipped"]
    assert lines[1][1].startswith(f"✗ {failed}") and words(reason, language) in lines[1][1]
    assert all(line.startswith(f"– ") and not_tested in line for _outcome, line in lines[2:])
    connection = Connection.get()
    assert (connection.status, connection.attention_reason.partition(":")[0]) == (Connection.NEEDS_ATTENTION, reason)
    assert stored(skip=STATE) == before


@pytest.mark.parametrize("reason", list(REASONS))
def test_a_test_that_exact_answers_in_full_ends_the_state(client, sim, saved, reason):
    needs_attention_on_a_page(client, sim, reason)
    before = stored(skip=STATE)
    sim.settings(**NOTHING_REFUSED)  # put right at Exact (or, for a scope, in OutSmart's registration)
    response = client.post("/exact/testen")
    assert response.status_code == 303 and response.headers["Location"] == "/exact/testen?notice=tested"
    connection = Connection.get()
    assert (connection.status, connection.attention_reason, connection.attention_at) == (Connection.SAVED, None, None)
    assert events()[0] == ("attention_resolved", connection_reason(reason))
    assert stored(skip=STATE) == before
    assert client.post("/api/v1/accounts/demo/access-token", headers=AUTH).status_code == 200  # synchronising again


def connection_reason(reason):
    """The key the state was entered with: a scope names the endpoint Exact refused (the lists' first)."""
    return f"{reason}:financial/Journals" if reason == "ApplicationScopeViolated" else reason


def test_a_new_login_ends_the_state(client, wizard, sim, saved):
    needs_attention_on_a_page(client, sim, "InactiveUser")
    sim.settings(inactive_users=[])  # Jan is active again (or another, active user logs in)
    response = wizard.connect(JAN)
    assert response.headers["Location"].endswith("/exact?notice=reconnected")
    connection = Connection.get()
    assert (connection.status, connection.attention_reason, connection.division) == (Connection.SAVED, None, 101)
    assert events()[0][0] == "reconnected"
    assert 'data-exact-reason' not in client.get("/exact").get_data(as_text=True)


def test_a_missing_scope_is_asked_again_at_its_own_endpoint_before_the_state_ends(client, sim, saved):
    """The test reads the administration and the rights, which need other scopes than the lists the page was refused:
    it asks the refused endpoint again, and the state ends only when Exact answers there."""
    sim.settings(missing_scopes=["Financial accounting"])
    assert client.post("/exact/instellingen/vernieuwen").status_code == 409
    assert Connection.get().attention_reason == "ApplicationScopeViolated:financial/Journals"
    sim.clear_calls()
    still = client.post("/exact/testen")
    assert still.status_code == 422
    lines = report(still)
    assert [outcome for outcome, _line in lines] == ["ok", "ok", "failed", "skipped", "skipped", "skipped"]
    assert "Toestemming die eerder ontbrak" in lines[2][1] and words("ApplicationScopeViolated", "nl") in lines[2][1]
    assert "financial/Journals/$count" in [call["endpoint"] for call in sim.calls()]
    assert Connection.get().status == Connection.NEEDS_ATTENTION
    sim.settings(missing_scopes=[])
    assert client.post("/exact/testen").status_code == 303
    assert Connection.get().status == Connection.SAVED


# --- the test button: healthy, a missing right, Exact failing ----------------------------------------------------------

def test_a_healthy_connection_is_reported_with_a_tick_for_each_check(client, sim, saved, language):
    before = stored()
    sim.clear_calls()
    response = client.post("/exact/testen", headers=HTMX)
    assert response.status_code == 303 and response.headers["Location"] == "/exact/testen?notice=tested"
    assert sorted(call["endpoint"] for call in sim.calls()) == ["system/Divisions"] + ["users/UserHasRights"] * 3
    shown = client.get(response.headers["Location"], headers=HTMX)
    assert shown.status_code == 200 and shown.get_data(as_text=True).lstrip().startswith('<section id="exact"')
    passed = "Gelukt:" if language == "nl" else "Passed:"
    lines = report(shown)
    assert [outcome for outcome, _line in lines] == ["ok"] * 5
    assert all(line.startswith(f"✓ {passed}") for _outcome, line in lines)
    titles = (["Toegang tot Exact Online", "Administratie Bakker Installatietechniek B.V. (101)", "Relaties bekijken",
               "Artikelen bekijken", "Verkoopfacturen aanmaken"] if language == "nl" else
              ["Access to Exact Online", "Administration Bakker Installatietechniek B.V. (101)", "View relations",
               "View items", "Create sales invoices"])
    assert [title in line for (_outcome, line), title in zip(lines, titles)] == [True] * 5
    works = "De verbinding werkt" if language == "nl" else "The connection works"
    assert works in text(shown) and 'role="status"' in shown.get_data(as_text=True)
    assert stored() == before and Connection.get().status == Connection.SAVED
    assert events()[0][0] == "saved"  # the test leaves no trace in the history


def test_the_test_page_says_what_it_asks_and_a_report_only_after_a_passed_test(client, saved):
    page = client.get("/exact/testen")
    assert page.status_code == 200 and report(page) == []
    assert "OutSmart vraagt Exact Online of de opgeslagen verbinding nu werkt" in text(page)
    assert "Bakker Installatietechniek B.V. (101)" in text(page)
    assert 'action="/exact/testen" method="post"' in page.get_data(as_text=True)
    assert 'action="/exact/testen" method="post"' in client.get("/exact").get_data(as_text=True)  # the button


def test_a_right_the_user_lacks_is_crossed_and_the_others_ticked(client, wizard, sim):
    """Piet lacks "Verkoopfacturen aanmaken": saved with sales orders, then the settings ask for sales invoices, as
    after the right was taken away at Exact."""
    assert wizard.complete("piet@devries-klimaat.nl", 111, document_type="sales_order").status_code == 303
    settings = {**Connection.get().settings, "document_type": "sales_invoice"}
    Connection.update(settings=settings).execute()
    before = stored()
    response = client.post("/exact/testen")
    assert response.status_code == 422
    lines = report(response)
    assert [outcome for outcome, _line in lines] == ["ok", "ok", "ok", "ok", "failed"]
    assert lines[4][1].startswith("✗ Mislukt: Verkoopfacturen aanmaken – De Exact Online-gebruiker mist dit recht")
    assert "De verbinding werkt, maar de Exact Online-gebruiker mist rechten" in text(response)
    assert stored() == before and Connection.get().status == Connection.SAVED


def test_a_test_exact_answered_ends_a_refusal_even_with_a_right_missing(client, wizard, sim):
    """Piet's licence was renewed: Exact answers every call again, one of them "no" to a right. The refusal is over
    (synchronising goes on); the missing right is crossed, as Opslaan would refuse it."""
    assert wizard.complete("piet@devries-klimaat.nl", 111, document_type="sales_order").status_code == 303
    sim.settings(expired_licenses=[111])
    assert client.post("/exact/instellingen/vernieuwen").status_code == 409
    sim.settings(expired_licenses=[])
    Connection.update(settings={**Connection.get().settings, "document_type": "sales_invoice"}).execute()
    response = client.post("/exact/testen")
    assert response.status_code == 422 and report(response)[-1][0] == "failed"
    assert Connection.get().status == Connection.SAVED
    assert events()[0] == ("attention_resolved", "LicenseExpired")


FAILURES = ["500", "503", "429", "timeout", "malformed"]


@pytest.mark.parametrize("endpoint, failing_line", [("system/Divisions", 1), ("users/UserHasRights", 2)])
@pytest.mark.parametrize("kind", FAILURES)
def test_exact_failing_during_the_test_is_crossed_in_words_and_changes_nothing(client, sim, saved, kind, endpoint,
                                                                                failing_line):
    sim.settings(fault_timeout_seconds=3)  # longer than the app's 2-s timeout in tests
    before = stored()
    sim.fault(endpoint, kind, reset_in=30)
    response = client.post("/exact/testen")
    assert response.status_code == 422
    lines = report(response)
    # The rights are asked at once: the fault meets whichever reaches Exact first, and the report crosses that one.
    failing_line = next(index for index, (outcome, _line) in enumerate(lines) if outcome != "ok") if (
        endpoint == "users/UserHasRights") else failing_line
    assert [outcome for outcome, _line in lines][:failing_line] == ["ok"] * failing_line and failing_line >= 1
    assert lines[failing_line][0] == "failed" and lines[failing_line][1].startswith("✗ Mislukt:")
    expected = "grens is bereikt" if kind == "429" else "niet bereikbaar of gaf een onverwacht antwoord"
    assert expected in lines[failing_line][1]
    assert all(outcome == "skipped" for outcome, _line in lines[failing_line + 1:])
    assert stored() == before and Connection.get().status == Connection.SAVED


def test_exact_failing_leaves_a_connection_that_needs_attention_as_it_was(client, sim, saved):
    needs_attention_on_a_page(client, sim, "BlockedCustomer")
    before = stored()
    sim.settings(blocked_customers=[])
    sim.fault("system/Divisions", "503")
    assert client.post("/exact/testen").status_code == 422
    assert stored() == before and Connection.get().attention_reason == "BlockedCustomer"


def put_in_refresh_window(sim, seconds_left=10):
    now = time.time()
    Connection.update(token_issued_at=now - 600 + seconds_left, token_expires_at=now + seconds_left).execute()
    sim.advance(600 - seconds_left)


def test_a_due_token_is_refreshed_by_the_test_and_kept_even_when_exact_then_fails(client, sim, saved):
    put_in_refresh_window(sim)
    before = stored(skip={"access_token", "refresh_token", "token_issued_at", "token_expires_at", "last_refresh_at"})
    old = Connection.get()
    sim.fault("system/Divisions", "503")
    response = client.post("/exact/testen")
    assert response.status_code == 422
    lines = report(response)
    assert lines[0][0] == "ok" and "zojuist vernieuwd" in lines[0][1] and lines[1][0] == "failed"
    new = Connection.get()
    assert new.refresh_token != old.refresh_token and new.last_refresh_at is not None
    assert sim.refresh(new.refresh_token).status_code == 400  # the kept token is the live one (too early to use)
    assert sim.refresh(old.refresh_token).json()["error_description"] == "Old refresh token used."
    assert stored(skip={"access_token", "refresh_token", "token_issued_at", "token_expires_at",
                        "last_refresh_at"}) == before


def test_a_refresh_exact_fails_is_crossed_and_changes_nothing(client, sim, saved):
    put_in_refresh_window(sim)
    before = stored()
    sim.fault("oauth2/token", "503")
    response = client.post("/exact/testen")
    assert response.status_code == 422
    assert [outcome for outcome, _line in report(response)] == ["failed"] + ["skipped"] * 4
    assert stored() == before


def test_a_grant_exact_no_longer_accepts_expires_the_connection_as_everywhere(client, sim, saved):
    needs_attention_on_a_page(client, sim, "LicenseExpired")
    sim.settings(expired_licenses=[])
    put_in_refresh_window(sim)
    sim.revoke(JAN)
    response = client.post("/exact/testen")
    assert response.status_code == 422 and "Verbind opnieuw" in text(response)
    connection = Connection.get()
    assert (connection.status, connection.attention_reason) == (Connection.EXPIRED, None)


@pytest.mark.parametrize("method", ["get", "post"])
def test_there_is_nothing_to_test_before_saving_or_once_expired(client, wizard, method):
    assert getattr(client, method)("/exact/testen").headers["Location"] == "/exact"
    wizard.connect(JAN)
    assert getattr(client, method)("/exact/testen").headers["Location"] == "/exact"
    wizard.choose(101)
    wizard.configure()
    assert wizard.save().status_code == 303
    Connection.update(status=Connection.EXPIRED).execute()
    response = getattr(client, method)("/exact/testen")
    assert response.status_code == 303 and response.headers["Location"] == "/exact"


def test_a_passed_notice_without_a_working_connection_shows_no_ticks(client, sim, saved):
    needs_attention_on_a_page(client, sim, "BlockedUser")
    assert report(client.get("/exact/testen?notice=tested")) == []


# --- the state's other edges --------------------------------------------------------------------------------------------

def test_keep_alive_keeps_a_connection_that_needs_attention_alive(app, client, sim, saved):
    needs_attention_on_a_page(client, sim, "LicenseExpired")
    Connection.update(token_issued_at=time.time() - 21 * 86400).execute()
    sim.advance(21 * 86400)
    result = app.test_cli_runner().invoke(args=["keep-alive"])
    assert "refreshed 1, skipped 0 (another runner had them), failed 0" in result.output
    assert Connection.get().status == Connection.NEEDS_ATTENTION  # the licence is still Exact's to renew


def test_a_grant_that_dies_while_it_needs_attention_expires(app, client, sim, saved):
    needs_attention_on_a_page(client, sim, "LicenseExpired")
    Connection.update(token_issued_at=time.time() - 31 * 86400).execute()
    sim.advance(31 * 86400)
    assert "failed 1" in app.test_cli_runner().invoke(args=["keep-alive"]).output
    connection = Connection.get()
    assert (connection.status, connection.attention_reason, connection.attention_at) == (Connection.EXPIRED, None, None)
    assert "Authenticatie verlopen" in text(client.get("/exact"))


def test_disconnecting_forgets_the_reason(client, sim, saved):
    needs_attention_on_a_page(client, sim, "BlockedUser")
    assert client.post("/exact/verbreken").status_code == 303
    connection = Connection.get()
    assert (connection.status, connection.attention_reason, connection.attention_at) == (
        Connection.DISCONNECTED, None, None)


# --- a consent without the current administration ------------------------------------------------------------------

def test_a_consent_without_the_current_administration_says_to_tick_it(client, wizard, sim, language):
    """Strict (an independently written Exact): listing the consented administrations in Karin's current one (121),
    which she left unticked, is 403 NoDivisionAccess. The login says exactly that, not "choose another"."""
    sim.settings(divisions_need_consent=True)
    response = wizard.connect("karin@jansen-elektro.nl")
    assert response.status_code == 502
    page = text(response)
    expected = ("U hebt bij Exact Online uw huidige administratie (121) niet aangevinkt" if language == "nl" else
                "At Exact Online you did not tick your current administration (121)")
    assert expected in page
    assert ("vink bij Exact Online ook uw huidige administratie aan" if language == "nl" else
            "tick your current administration at Exact Online as well") in page
    assert "Kies een andere administratie" not in page and "Choose another administration" not in page
    assert LoginAttempt.get().reason == "CurrentDivisionNotGranted:121"
    assert Connection.select().count() == 0


def test_a_lenient_exact_lists_the_others_and_the_login_goes_on(client, wizard, sim):
    """Lenient (the simulator's default, after picqer #470): the list answers in 121; 122 is there to choose, and the
    administration step says why 121 is not."""
    response = wizard.connect("karin@jansen-elektro.nl")
    assert response.status_code == 303 and response.headers["Location"].endswith("/exact/verbinding")
    assert [row.code for row in Administration.select()] == [122]
    page = text(client.get("/exact/administratie"))
    assert "Uw huidige administratie in Exact Online (121) staat niet in deze lijst" in page
    assert "vink bij Exact Online uw huidige administratie aan" in page
    assert wizard.choose(122).status_code == 303
    assert "(121) staat niet in deze lijst" in text(client.get("/exact/administratie"))  # until she reconnects


def test_a_consent_with_the_current_administration_says_nothing_of_it(client, wizard):
    wizard.connect(JAN)
    assert 'id="current-left-out"' not in client.get("/exact/administratie").get_data(as_text=True)


# --- English, with no Dutch left -------------------------------------------------------------------------------------

def test_the_test_and_every_reason_say_no_dutch_in_english(client, sim, saved):
    from test_languages import assert_english

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert_english(client.get("/exact/testen"), "Test connection", "OutSmart asks Exact Online whether the saved "
                   "connection works now", "whether administration Bakker Installatietechniek B.V. (101) can be read")
    passed = client.post("/exact/testen")
    assert_english(client.get(passed.headers["Location"]), "Passed:", "The connection works", "Test again",
                   "Read at Exact Online: the administration is active.", "The Exact Online user has this right.")
    for reason in REASONS:
        refuse(sim, reason)
        assert_english(client.post("/exact/testen"), words(reason, "en"), "Failed:", "Not tested:", status=422)
        assert_english(client.get("/exact"), words(reason, "en"), "Action needed: OutSmart is not synchronising",
                       "Action needed since", "Test connection")
        assert_english(client.get("/integraties"), "Action needed: ")
        sim.settings(**NOTHING_REFUSED)
        assert client.post("/exact/testen").status_code == 303
    assert_english(client.get("/exact"), "Connection works again", "Action needed: customer blocked by Exact Online")
