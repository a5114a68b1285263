"""The simulator answers as slowly as Exact (latency_ms), each caller waiting on its own."""
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from simhelpers import JAN


def call_at_once(sim, token, paths):
    """GET each path from its own thread, all at once; the statuses in order."""
    statuses = [None] * len(paths)
    start = threading.Barrier(len(paths))

    def call(index, path):
        start.wait()
        statuses[index] = sim.get(token, path).status_code

    threads = [threading.Thread(target=call, args=(index, path)) for index, path in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_ten_calls_at_once_at_300_ms_wait_together_not_one_after_another(sim):
    token = sim.token_for(JAN)
    sim.settings(latency_ms=300)
    sim.clear_calls()
    statuses = call_at_once(sim, token, ["101/financial/Journals"] * 10)
    assert statuses == [200] * 10
    calls = sim.calls(kind="rest")
    assert len(calls) == 10
    # Every call waited its 300 ms while the nine others waited theirs: the waits overlap, none queued behind another.
    assert [call["overlapping"] for call in calls] == [10] * 10
    assert sim.state()["peak_in_flight"] == 10


def test_latency_per_endpoint_and_what_it_applies_to(sim):
    token = sim.token_for(JAN)
    sim.settings(latency_ms={"financial/Journals": 200, "crm/Accounts": 200})
    sim.clear_calls()
    # Two Journals calls overlap (they wait); VAT codes and $count of another collection answer at once.
    call_at_once(sim, token, ["101/financial/Journals", "101/financial/Journals", "101/vat/VATCodes"])
    sim.get(token, "101/crm/Accounts/$count", accept=None)  # $count waits as its collection does
    sim.get(token, "101/logistics/Items/$count", accept=None)
    waits = {(call["endpoint"], call["overlapping"]) for call in sim.calls(kind="rest")}
    assert waits == {("financial/Journals", 2), ("vat/VATCodes", None), ("crm/Accounts/$count", 1),
                     ("logistics/Items/$count", None)}
    # A number applies to the API (token and REST calls), not to Exact's login pages.
    sim.settings(latency_ms=50)
    sim.clear_calls()
    sim.token_for(JAN)
    assert [(call["kind"], call["overlapping"] is not None) for call in sim.calls()] == [
        ("auth", False), ("auth", False), ("auth", False), ("token", True)]


@pytest.mark.parametrize("bad", [-1, "300", True, 600_001, {"financial/Journals": -5}, {"": 100},
                                 {"financial/Journals": "slow"}, [300]])
def test_a_latency_that_is_no_number_of_milliseconds_is_refused(sim, bad):
    answer = requests.post(f"{sim.url}/_sim/settings", json={"latency_ms": bad}, timeout=5)
    assert answer.status_code == 400 and "latency_ms" in answer.json()["error"]
    assert sim.settings()["latency_ms"] == 0


def test_tests_run_at_0_and_the_demo_at_200_ms():
    from exact_sim import create_app
    from exact_sim.settings import DEFAULTS
    from exact_sim.settings import DEMO_LATENCY_MS

    assert DEFAULTS["latency_ms"] == 0 and DEMO_LATENCY_MS == 200
    assert create_app({"mode": "demo", "latency_ms": DEMO_LATENCY_MS}).extensions["exact_sim"].settings[
        "latency_ms"] == 200
    app_py = (Path(__file__).parent.parent / "app.py").read_text()
    assert '"latency_ms": DEMO_LATENCY_MS' in app_py  # python app.py starts the demo's simulator with it
    result = subprocess.run([sys.executable, "-m", "exact_sim", "--help"], capture_output=True, text=True, timeout=30,
                            cwd=Path(__file__).parent.parent)
    assert "--latency-ms" in result.stdout
