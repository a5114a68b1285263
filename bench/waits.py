"""What the admin waits for: each step's wall time with the simulator answering in LATENCY_MS, and a complete setup.

The app runs in-process (Flask test client) on a temp SQLite file; the simulator over real HTTP in a thread, its
latency_ms set to LATENCY_MS for the API (token and REST calls). Each step is timed as the browser's request (the
page the admin waits for), from sending it to the whole answer, `n` times, the state put back between runs (untimed):
the cached lists and counts removed, the connection put back at step 7, a new login.
"""
import os
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
    env.unlimited(sim)  # repeated steps ask Exact more often in a minute than one admin would
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
                        "over_ms": median * 1000 - round_trips * LATENCY_MS,
                        "max_ms": max(values) * 1000, "ratio": median * 1000 / LATENCY_MS, "n": len(values)}
    return result


# A complete setup's round trips that depend on one another: login's three (token → current/Me → system/Divisions),
# then one per step that asks Exact (the preview's counts, the settings page's lists, Opslaan's rights).
SETUP_ROUND_TRIPS = 6


def setup_wall(app, sim, n: int) -> dict:
    """A complete setup as the admin's browser makes it (every redirect followed, from Software-integraties to the
    saved overview), at LATENCY_MS; median of `n`, each a new OutSmart account. Exact's own login pages (the admin
    typing there) are not the app's wait and answer at once here."""
    env.unlimited(sim)
    sim.settings(latency_ms=LATENCY_MS)
    walls = []
    for number in range(n):
        client = env.client_for_account(app, f"bench-setup-{number}-{int(time.time() * 1000)}")
        login = None
        start = time.perf_counter()
        expect(client.get("/integraties"), 200)
        expect(client.get("/exact/land"), 200)
        login = browser.start_login(client)
        paused = time.perf_counter()
        callback = sim.login(login, JAN)  # at Exact: not timed
        start += time.perf_counter() - paused
        expect(client.get(browser.path_of(callback), follow_redirects=True), 200)  # → /exact/verbinding
        expect(client.get("/exact/administratie"), 200)
        expect(browser.choose(client, 101, follow_redirects=True), 200)  # → the preview
        data = browser.settings_form(client)  # GET /exact/instellingen
        expect(client.post("/exact/instellingen", data=data, follow_redirects=True), 200)  # → /exact/controle
        expect(browser.save(client, follow_redirects=True), 200)  # → /exact
        walls.append(time.perf_counter() - start)
    sim.settings(latency_ms=0)
    median = sorted(walls)[len(walls) // 2]
    floor = SETUP_ROUND_TRIPS * LATENCY_MS / 1000
    return {"median_s": median, "max_s": max(walls), "round_trips": SETUP_ROUND_TRIPS, "floor_s": floor,
            "ratio": median / floor, "n": n, "load": os.getloadavg()[0]}


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
            print(json.dumps(setup_wall(app, sim, 3), indent=1))
    finally:
        sim.stop()
