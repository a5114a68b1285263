"""A step's independent Exact calls go at once (the admin waits one round trip, not one per call), within Exact's
limits, with the same calls, messages and outcomes as one after another.

The simulator answers in LATENCY_MS here, and notes for each call how many calls were waiting at Exact at the same
time (`overlapping`): calls made at once overlap, calls made one after another do not. No timing is asserted.
"""
import time

import pytest

from models import Connection
from models import ExactList
from simhelpers import JAN
from wizard_actions import path_of

LATENCY_MS = 150
LISTS = ["financial/Journals", "financial/GLAccounts", "vat/VATCodes", "cashflow/PaymentConditions"]
COUNTS = ["crm/Accounts/$count", "logistics/Items/$count"]
RIGHTS = "users/UserHasRights"


@pytest.fixture
def slow(sim):
    """Exact answering in LATENCY_MS, early in a clock minute (so a step's calls share one rate-limit window)."""
    sim.set_time((time.time() // 60 + 1) * 60 + 1)
    sim.settings(latency_ms=LATENCY_MS)
    return sim


def overlap(sim, endpoint) -> list:
    """How many calls waited at Exact at once during each call to `endpoint`, in the order they reached it."""
    return [call["overlapping"] for call in sim.calls(kind="rest", endpoint=endpoint)]


def app_calls(sim) -> list[str]:
    """The app's calls to Exact (token and REST; the browser's login pages are not the app's)."""
    return sorted(call["grant_type"] or call["endpoint"] if call["kind"] == "token" else call["endpoint"]
                  for call in sim.calls() if call["kind"] in ("token", "rest"))


def test_a_complete_setup_makes_its_12_calls_each_steps_at_once(client, wizard, slow):
    sim = slow
    sim.clear_calls()
    callback = path_of(sim.login(wizard.start_login(), JAN))
    assert client.get(callback).status_code == 303
    # Login's calls depend on one another (the token, then who, then where): one after another.
    assert overlap(sim, "current/Me") == [1] and overlap(sim, "system/Divisions") == [1]
    assert wizard.choose(101).status_code == 303
    assert client.get("/exact/administratie").status_code == 200
    assert overlap(sim, COUNTS[0]) == overlap(sim, COUNTS[1]) == [2]  # the preview's two counts at once
    assert wizard.configure().status_code == 303
    assert [overlap(sim, endpoint) for endpoint in LISTS] == [[4]] * 4  # the settings page's four lists at once
    assert wizard.save().status_code == 303
    assert overlap(sim, RIGHTS) == [3, 3, 3]  # Opslaan's three rights at once
    assert Connection.get().status == Connection.SAVED
    assert app_calls(sim) == sorted(["authorization_code", "current/Me", "system/Divisions", *COUNTS, *LISTS,
                                     RIGHTS, RIGHTS, RIGHTS])  # 12, as one after another: no call more
    sim.clear_calls()
    assert client.get("/exact").status_code == 200 and client.get("/exact/instellingen").status_code == 200
    assert sim.calls() == []  # reopening the saved settings: 0 calls


def saved(wizard, sim):
    assert wizard.complete(JAN, 101).status_code == 303
    sim.clear_calls()


def test_rights_of_a_saved_change_and_of_verbinding_testen_go_at_once(client, wizard, slow):
    saved(wizard, slow)
    assert wizard.configure(hour_rounding="30").status_code == 303
    assert overlap(slow, RIGHTS) == [3, 3, 3]
    assert Connection.get().settings["hour_rounding"] == "30"
    slow.clear_calls()
    response = client.post("/exact/testen")
    assert response.status_code == 303, response.get_data(as_text=True)
    # The administration is read first (the rights are worth asking only about a working one), then the rights at once.
    assert overlap(slow, "system/Divisions") == [1] and overlap(slow, RIGHTS) == [3, 3, 3]
    assert [call["endpoint"] for call in slow.calls()][0] == "system/Divisions"


def test_answers_read_in_any_order_keep_the_lowest_calls_left_of_the_minute(client, wizard, slow):
    sim = slow
    # The journals answer last, so Exact counts them last: they carry the fewest calls left, though read first.
    sim.settings(latency_ms={"financial/Journals": 2 * LATENCY_MS, "*": LATENCY_MS})
    assert wizard.connect(JAN).status_code == 303 and wizard.choose(101).status_code == 303
    assert client.get("/exact/instellingen").status_code == 200
    counted = [call for call in sim.calls(kind="rest") if call["division"] == 101]
    assert counted[-1]["endpoint"] == "financial/Journals"
    limits = Connection.get().rate_limits
    assert limits["minutely_remaining"] == 60 - len(counted)
    assert limits["daily_remaining"] == 5000 - len(counted)


def test_with_fewer_calls_left_this_minute_than_a_step_needs_its_calls_go_one_after_another(client, wizard, slow):
    sim = slow
    assert wizard.connect(JAN).status_code == 303 and wizard.choose(101).status_code == 303
    assert client.get("/exact/administratie").status_code == 200
    used = len([call for call in sim.calls(kind="rest") if call["division"] == 101])
    sim.settings(minutely_limit=used + 4)  # room for the settings page's four lists, and then not for four more
    sim.clear_calls()
    assert client.get("/exact/instellingen").status_code == 200
    assert [overlap(sim, endpoint) for endpoint in LISTS] == [[4]] * 4
    assert Connection.get().rate_limits["minutely_remaining"] == 0
    kept = ExactList.select().count()
    sim.clear_calls()  # the lists read again ("Vernieuwen"): four calls, none left this minute
    response = client.post("/exact/instellingen/vernieuwen")
    # Asked one after another, as without concurrency: the first is refused, the rest are not asked.
    assert [call["status"] for call in sim.calls(kind="rest")] == [429]
    assert overlap(sim, LISTS[0]) == [1]
    assert "grens is bereikt" in response.get_data(as_text=True)
    assert ExactList.select().count() == kept  # what was read before stays, nothing half read replaces it


def test_near_the_hours_error_limit_rights_go_one_after_another(app, client, wizard, slow):
    from views.exact_clients import exact_limits

    sim = slow
    assert wizard.connect(JAN).status_code == 303 and wizard.choose(101).status_code == 303
    assert wizard.configure().status_code == 303
    user = Connection.get().exact_user_id
    with app.app_context():
        for _ in range(app.config["EXACT_ERRORS_PER_HOUR"] - 2):  # two more errors allowed at users/UserHasRights
            exact_limits().count_error(user, 101, RIGHTS)
    sim.clear_calls()
    assert wizard.save().status_code == 303
    # Three at once could err three times, past the two allowed: one after another, each counted before the next.
    assert overlap(sim, RIGHTS) == [1, 1, 1]


def test_the_first_failure_in_step_order_decides_the_message_not_the_first_to_arrive(client, wizard, slow):
    sim = slow
    assert wizard.connect(JAN).status_code == 303 and wizard.choose(101).status_code == 303
    # The journals (first on the page) are refused for the minute, slowly; the payment conditions fail at once.
    sim.settings(latency_ms={"financial/Journals": 3 * LATENCY_MS, "*": LATENCY_MS})
    sim.fault("financial/Journals", "429", reset_in=30)
    sim.fault("cashflow/PaymentConditions", "500")
    sim.clear_calls()
    response = client.get("/exact/instellingen")
    page = response.get_data(as_text=True)
    assert [call["endpoint"] for call in sim.calls(kind="rest")][-1] == "financial/Journals"  # it arrived last
    assert "grens is bereikt" in page and "niet bereikbaar" not in page
    assert ExactList.select().where(ExactList.kind != "counts").count() == 0  # no list kept from a failed page
    sim.clear_calls()
    assert client.get("/exact/instellingen").status_code == 200  # the admin tries again: every list read
    assert sorted(call["endpoint"] for call in sim.calls(kind="rest")) == sorted(LISTS)


def test_a_token_due_during_a_step_is_refreshed_once_before_its_calls_go_at_once(client, wizard, slow):
    saved(wizard, slow)
    now = time.time()
    Connection.update(token_issued_at=now - 590, token_expires_at=now + 10).execute()
    slow.advance(590)
    slow.clear_calls()
    assert client.post("/exact/instellingen/vernieuwen").status_code == 303
    assert [call["grant_type"] for call in slow.calls(kind="token")] == ["refresh_token"]
    assert [overlap(slow, endpoint) for endpoint in LISTS] == [[4]] * 4
    new_token = Connection.get().access_token
    assert all(call["status"] == 200 for call in slow.calls(kind="rest"))
    assert new_token and Connection.get().token_expires_at > now + 500
