"""What the admin waits for: each step's wall time with the simulator answering in LATENCY_MS, and a complete setup.

The app runs in-process (Flask test client) on a temp SQLite file; the simulator over real HTTP in a thread, its
latency_ms set to LATENCY_MS for the API (token and REST calls). Each step is timed as the browser's request (the
page the admin waits for), from sending it to the whole answer, `n` times, the state put back between runs (untimed):
the cached lists and counts removed, the connection put back at step 7, a new login.
"""
import time

from bench import browser
from bench import env
from bench.browser import expect
from exact_sim.seed import JAN

LATENCY_MS = 300
# Each step: (how many Exact round trips depend on one another, what the step asks Exact).
STEPS = {
    "login: back from Exact (/exact/callback)": (3, "token → current/Me → system/Divisions"),
    "step 5: the preview (GET /exact/administratie)": (1, "2 counts"),
    "step 6: the first settings page (GET /exact/instellingen)": (1, "4 lists"),
    "step 7: Opslaan (POST /exact/controle)": (1, "3 rights"),
    "saved: settings changed (POST /exact/instellingen)": (1, "3 rights"),
    "saved: Verbinding testen (POST /exact/testen)": (2, "the administration → 3 rights"),
}


def _drop_lists(kind=None):
    from models import ExactList

    query = ExactList.delete()
    if kind == "counts":
        query = query.where(ExactList.kind == "counts")
    elif kind == "lists":
        query = query.where(ExactList.kind != "counts")
    query.execute()


def step_waits(app, sim, n: int) -> dict:
    """Each step's wait at LATENCY_MS, as median and max over `n` runs, and ÷ LATENCY_MS."""
    from bench.inprocess import _unsave

    client = env.client_for_account(app, "bench-waits")
    sim.settings(latency_ms=LATENCY_MS)
    samples = {name: [] for name in STEPS}

    def timed(name, call, before=None):
        if before:
            before()
        start = time.perf_counter()
        call()
        samples[name].append(time.perf_counter() - start)

    for _ in range(n):
        login = browser.start_login(client)
        callback = sim.login(login, JAN)
        names = list(STEPS)
        timed(names[0], lambda: expect(client.get(browser.path_of(callback)), 303))
        expect(browser.choose(client, 101), 303)
        timed(names[1], lambda: expect(client.get("/exact/administratie"), 200), lambda: _drop_lists("counts"))
        timed(names[2], lambda: expect(client.get("/exact/instellingen"), 200), lambda: _drop_lists("lists"))
        data = browser.settings_form(client)
        expect(client.post("/exact/instellingen", data=data), 303)
        confirmed = browser.check_form(client)
        timed(names[3], lambda: expect(client.post("/exact/controle", data=confirmed), 303))
        timed(names[4], lambda: expect(client.post("/exact/instellingen", data=data), 303))
        timed(names[5], lambda: expect(client.post("/exact/testen"), 303))
        expect(client.post("/exact/verbreken", data={"confirm": "y"}), 303, 200)
    sim.settings(latency_ms=0)
    result = {}
    for name, values in samples.items():
        round_trips, asks = STEPS[name]
        median = sorted(values)[len(values) // 2]
        result[name] = {"round_trips": round_trips, "asks": asks, "median_ms": median * 1000,
                        "max_ms": max(values) * 1000, "ratio": median * 1000 / LATENCY_MS, "n": len(values)}
    return result


if __name__ == "__main__":  # python -m bench.waits: this section alone
    import json
    import logging
    import os
    import tempfile

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sim = env.SimServer.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            app = env.create(os.path.join(tmp, "waits.sqlite"), sim)
            print(json.dumps(step_waits(app, sim, 3), indent=1))
    finally:
        sim.stop()
