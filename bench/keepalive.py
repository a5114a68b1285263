"""Keep-alive of many due connections, with Exact's token endpoint answering in LATENCY_MS: two runners at once.

Each connection is its own Exact user (a grant chain of its own at the simulator, as the day's token calls count per
user), logged in once, then its refresh token made 21 days old (here and at the simulator). Two
`flask --app app keep-alive --concurrency N` processes start their work at the same agreed moment; the figure is the
wall time from that moment until both have finished, ÷ the floor (connections × latency ÷ total concurrency: every
refresh is one round trip to Exact, and the two runners have 2 × N threads between them). Double refreshes are
counted at the simulator: its token calls today per Exact user (the day changed since the logins).
"""
import os
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench import env

LATENCY_MS = 300
DAY = 86400
SUMMARY = re.compile(r"keep-alive: (\d+) due; refreshed (\d+), skipped (\d+) \(another runner had them\), "
                     r"failed (\d+)")
RUNNER = """
import sys, time
from flask.cli import FlaskGroup
import app
application = app.create_app()
print("ready", time.time(), flush=True)
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
try:
    FlaskGroup(create_app=lambda: application).main(["keep-alive", *sys.argv[2:]], prog_name="flask")
finally:
    print("done", time.time(), flush=True)
"""
READY = re.compile(r"^ready ([0-9.]+)$", re.M)
DONE = re.compile(r"^done ([0-9.]+)$", re.M)


def seed(url: str, sim, count: int) -> None:
    """`count` due connections, each its own Exact user with a real grant chain at the simulator."""
    import models
    from models import Connection

    env.create(url, sim)  # the tables, empty
    stamp = int(time.time())
    usernames = [sim.seed_user(f"keep-alive-{stamp}-{number}@bench.example", 1)["username"]
                 for number in range(count)]
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda username: sim.token_for(username, cc="nl"), usernames))
    sim.advance(21 * DAY)
    issued = time.time() - 21 * DAY
    rows = [dict(account=f"acme-{number:05d}", status=Connection.SAVED, country="nl", base_url=sim.base_url("nl"),
                 exact_user_id=usernames[number], exact_user_name=usernames[number],
                 access_token=token["access_token"], refresh_token=token["refresh_token"],
                 token_issued_at=issued + number, token_expires_at=issued + number + 600, division=900001 + number,
                 division_name="Schaal Test") for number, token in enumerate(tokens)]
    with models.db.connection_context(), models.db.atomic():
        for start in range(0, len(rows), 500):
            Connection.insert_many(rows[start:start + 500]).execute()
    models.close_all()


def run_once(url: str, count: int, concurrency: int, runners: int = 2) -> dict:
    """Seed, then the runners at once; wall time, what each runner said, the token calls per Exact user."""
    sim = env.SimServer.start()
    try:
        seed(url, sim, count)
        sim.settings(latency_ms={"oauth2/token": LATENCY_MS})
        sim.clear_calls()
        variables = {**os.environ, **env.server_env(url, sim), "DATABASE_POOL_SIZE": str(concurrency + 4)}
        start_at = time.time() + 20  # every runner has imported and built its app by then, even on a busy machine
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_before = os.getloadavg()[0]
        processes = [subprocess.Popen([sys.executable, "-c", RUNNER, str(start_at), "--concurrency", str(concurrency)],
                                      cwd=env.ROOT, env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for _ in range(runners)]
        outputs = [process.communicate(timeout=1800) for process in processes]
        ready = max(float(READY.search(stdout).group(1)) for stdout, _ in outputs)
        began = max(ready, start_at)  # a runner still building its app at the agreed moment began when it was ready
        wall = max(float(DONE.search(stdout).group(1)) for stdout, _ in outputs) - began
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        runner_cpu = (used.ru_utime - children.ru_utime) + (used.ru_stime - children.ru_stime)
        summaries = []
        for (stdout, stderr), process in zip(outputs, processes):
            found = SUMMARY.search(stdout)
            if process.returncode != 0 or found is None:
                raise RuntimeError(f"keep-alive runner failed: {stdout[-1000:]} {stderr[-1000:]}")
            summaries.append(dict(zip(("due", "refreshed", "skipped", "failed"), map(int, found.groups()))))
        per_user = sim.state()["token_calls_today"]
        floor = count * LATENCY_MS / 1000 / (runners * concurrency)
        return {"connections": count, "runners": runners, "concurrency": concurrency, "wall_s": wall,
                "runner_cpu_s": runner_cpu, "late_start_s": max(0.0, ready - start_at), "load": [load_before, os.getloadavg()[0]],
                "floor_s": floor, "ratio": wall / floor, "summaries": summaries,
                "refreshed": sum(s["refreshed"] for s in summaries), "failed": sum(s["failed"] for s in summaries),
                "token_calls": sum(per_user.values()), "users_refreshed": len(per_user),
                "double_refreshes": sum(calls - 1 for calls in per_user.values() if calls > 1)}
    finally:
        sim.stop()


def run(tmp: str, count: int, concurrency: int, sqlite_count: int) -> dict:
    """PostgreSQL (BENCH_DATABASE_URL) with `count` connections; SQLite with `sqlite_count`, for context: there the
    refresh holds the one write lock, so the runners take turns (keep_alive.py)."""
    result = {"sqlite": run_once(os.path.join(tmp, "keepalive.sqlite"), sqlite_count, concurrency)}
    if env.POSTGRES_URL:
        result["postgresql"] = run_once(env.POSTGRES_URL, count, concurrency)
    return result


if __name__ == "__main__":
    import json
    import logging
    import tempfile

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        print(json.dumps(run(tmp, int(sys.argv[1]) if len(sys.argv) > 1 else 200, 8, 40), indent=1))
