"""4 processes × 25 threads ask for the same connection's token while it is due: Exact sees one refresh."""
import multiprocessing
import threading
import time

import pytest

from conftest import config_for_another_process
from models import Connection
from simhelpers import JAN
from test_token_api import AUTH
from test_token_api import KEY
from test_token_api import put_in_refresh_window

PROCESSES = 4
THREADS = 25


def ask_for_tokens(config: dict, start_at: float) -> list:
    """In a fresh process: THREADS threads ask the token API at the same moment; return (status, body) each."""
    from app import create_app

    app = create_app(config)
    results = []

    def ask():
        client = app.test_client()
        time.sleep(max(0.0, start_at - time.time()))
        response = client.post("/api/v1/accounts/demo/access-token", headers=AUTH)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=ask) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_refresh_for_a_hundred_concurrent_callers(app, wizard, sim):
    app.config["SERVICE_KEYS"] = {"sync-worker": KEY}
    assert wizard.complete(JAN, 101).status_code == 303
    before = Connection.get()
    put_in_refresh_window(sim, seconds_left=20)
    sim.clear_calls()

    config = config_for_another_process(app, "SERVICE_KEYS")
    start_at = time.time() + 8  # every process has imported and built its app by then
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        batches = pool.starmap(ask_for_tokens, [(config, start_at)] * PROCESSES)
    results = [result for batch in batches for result in batch]

    assert len(results) == PROCESSES * THREADS
    assert [status for status, _body in results] == [200] * len(results), {s for s, _b in results}
    token_calls = [call for call in sim.calls() if call["kind"] == "token"]
    assert len(token_calls) == 1 and token_calls[0]["status"] == 200  # one refresh, no "Old refresh token used"
    handed_out = {body["access_token"] for _status, body in results}
    assert handed_out == {Connection.get().access_token} and before.access_token not in handed_out
    assert sim.get(handed_out.pop(), "current/Me").status_code == 200
    assert Connection.get().refresh_token != before.refresh_token


@pytest.mark.parametrize("seconds_left, status", [(20, 200), (-5, 503)])
def test_a_hundred_concurrent_callers_in_a_too_early_period_make_one_token_call(app, wizard, sim, seconds_left, status):
    """Due by our clock, not by Exact's: Exact says "too early" once, and every process remembers it. While the token
    is valid every caller gets it; once it has expired every caller hears when to ask again."""
    app.config["SERVICE_KEYS"] = {"sync-worker": KEY}
    assert wizard.complete(JAN, 101).status_code == 303
    before = Connection.get()
    now = time.time()
    Connection.update(token_issued_at=now - 600 + seconds_left, token_expires_at=now + seconds_left).execute()
    sim.clear_calls()

    config = config_for_another_process(app, "SERVICE_KEYS")
    start_at = time.time() + 8
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        batches = pool.starmap(ask_for_tokens, [(config, start_at)] * PROCESSES)
    results = [result for batch in batches for result in batch]

    assert [code for code, _body in results] == [status] * PROCESSES * THREADS
    token_calls = [call for call in sim.calls() if call["kind"] == "token"]
    assert [call["status"] for call in token_calls] == [400]  # one "too early", heard by every process
    stored = Connection.get()
    assert stored.refresh_token == before.refresh_token and stored.status == Connection.SAVED
    if status == 200:
        assert {body["access_token"] for _code, body in results} == {before.access_token}
    else:
        assert {body["error"] for _code, body in results} == {"too_early"}
        assert {body["reset_at"] for _code, body in results} == {stored.refresh_not_before}
