"""python -m bench [--quick]: what the admin and OutSmart wait for. Prints every figure with its goal and PASS/MISS,
writes bench/results/latest.json. BENCH_DATABASE_URL names a PostgreSQL database the benchmark may empty; without it
the PostgreSQL figures are skipped, with a line saying so."""
import argparse
import datetime
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time

from bench import env
from bench import inprocess
from bench import keepalive
from bench import token_api
from bench import waits
from bench import webhooks

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

# Goals (the issue's; "ours" where it set none, see README "Benchmarks").
INDEPENDENT_GOAL = 1.3  # a step whose Exact calls are independent: its wait ≤ 1.3 × one round trip
CHAIN_MARGIN = 0.3  # a chain of N dependent round trips: ≤ N + 0.3 (login: 3.3×)
SETUP_GOAL = 1.3  # a complete setup ≤ 1.3 × its dependent round trips
TOKEN_P99_GOAL = 1.2  # p99 of the token API at the most rows ≤ 1.2 × p99 at one row
KEEPALIVE_GOAL = 1.5
WEBHOOK_P99_GOAL_MS = 1000  # ours: at WEBHOOK_RATE changes a second, an event arrives within a second
COST_RATIO_GOAL = 20.0  # context: in-process server time of a step ≤ 20 × a bare Flask route (Exact excluded)
FIRST_PAINT_GOAL = 30 * 1024
FRAGMENT_GOAL = 5 * 1024
SETUP_CALLS_GOAL = 12
REOPEN_CALLS_GOAL = 0
SCALE_GOAL = 2.0
MEMORY_GOAL_KB = 150 * 1024


class Table:
    def __init__(self):
        self.rows = []
        self.misses = []

    def section(self, title):
        self.rows.append(("", title, "", "", ""))

    def add(self, what, figure, goal, ok):
        self.rows.append((what, figure, goal, "PASS" if ok else "MISS", ""))
        if not ok:
            self.misses.append(what)

    def line(self, what, figure):
        self.rows.append((what, figure, "", "", ""))

    def render(self) -> str:
        widths = [max(len(str(row[i])) for row in self.rows if row[0]) for i in range(4)]
        lines = []
        for row in self.rows:
            if not row[0]:
                lines.append(f"\n## {row[1]}")
                continue
            lines.append("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row[:4])).rstrip())
        return "\n".join(lines).lstrip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs, 100,000 rows instead of 1,000,000 for the token API (about 6 minutes)")
    parser.add_argument("--out", default=os.path.join(RESULTS, "latest.json"))
    args = parser.parse_args(argv)
    quick = args.quick
    n = 30 if quick else 300
    started = time.time()
    results = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "quick": quick,
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform()},
               "postgresql": bool(env.POSTGRES_URL)}
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the simulator's access log
    token_sizes = (1, 10_000, 100_000) if quick else (1, 10_000, 1_000_000)
    loads = results["load"] = {}  # the 1-minute load average before and after each section: a shared machine

    def section(name, measure):
        before = os.getloadavg()[0]
        value = measure()
        loads[name] = [round(before, 1), round(os.getloadavg()[0], 1)]
        return value

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        sim = env.SimServer.start()
        try:
            app = env.create(os.path.join(tmp, "inprocess.sqlite"), sim)
            sim.reset()  # the simulator's real limits for counting calls
            results["exact_calls"] = inprocess.exact_calls(app, sim)
            results["waits"] = section("waits", lambda: waits.step_waits(app, sim, 5 if quick else 15))
            results["setup"] = section("setup", lambda: waits.setup_wall(app, sim, 5 if quick else 15))
            env.unlimited(sim)  # the timing sections repeat Exact calls far beyond one admin's minute
            results["server_cost"] = section("server_cost", lambda: inprocess.server_cost(app, sim, n))
            results["bytes"] = inprocess.bytes_on_wire(app, sim)
            results["scale_administrations"] = inprocess.administration_scale(
                app, sim, (10, 250, 2500), max(20, n // 3))
            memory = subprocess.run([sys.executable, "-m", "bench.memory_setup", sim.url], cwd=env.ROOT,
                                    capture_output=True, text=True, check=True)
            results["memory"] = json.loads(memory.stdout.strip().splitlines()[-1])
        finally:
            sim.stop()
        from models import close_all
        close_all()
        results["token_api"] = section("token_api", lambda: token_api.run(tmp, token_sizes, 8 if quick else 12,
                                                                          1.0 if quick else 2.0))
        results["keep_alive"] = section("keep_alive", lambda: keepalive.run(tmp, 1000, 8, 40))
        results["webhooks"] = section("webhooks", lambda: webhooks.run(tmp, 200 if quick else 1000, 1000))
    results["elapsed_seconds"] = round(time.time() - started, 1)
    table = build_table(results)
    results["misses"] = table.misses
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=2, default=str)
    print(f"Benchmarks {results['date']} ({'quick' if quick else 'full'}, {results['elapsed_seconds']} s, "
          f"{os.cpu_count()} CPUs; every figure a ratio to its floor, measured in the same run)\n")
    print(table.render())
    print(f"\n{len(table.misses)} missed. JSON: {os.path.relpath(args.out)}")


def _load(r, name) -> str:
    before, after = r["load"].get(name, (None, None))
    return "" if before is None else f"; load average {before}→{after} on {r['machine']['cpus']} CPUs"


def build_table(r) -> Table:
    t = Table()
    latency = waits.LATENCY_MS
    t.section(f"1. What the admin waits for, Exact answering in {latency} ms (each step's page, median of "
              f"{next(iter(r['waits'].values()))['n']}, ÷ {latency} ms{_load(r, 'waits')})")
    for name, row in r["waits"].items():
        goal = INDEPENDENT_GOAL if row["round_trips"] == 1 else row["round_trips"] + CHAIN_MARGIN
        kind = "independent calls" if row["round_trips"] == 1 else f"{row['round_trips']} dependent round trips"
        t.add(name, f"{row['median_ms']:.0f} ms = {row['ratio']:.2f}× ({row['asks']}; "
                    f"+{row['over_ms']:.0f} ms over the round trips)",
              f"≤ {goal:.1f}× ({kind})", row["ratio"] <= goal)
    s = r["setup"]
    t.add(f"complete setup, Software-integraties to saved (median of {s['n']}{_load(r, 'setup')})",
          f"{s['median_s']:.2f} s = {s['ratio']:.2f}× ({s['round_trips']} dependent round trips = {s['floor_s']:.1f} s)",
          f"≤ {SETUP_GOAL}×", s["ratio"] <= SETUP_GOAL)

    c = r["exact_calls"]
    t.section("2. Exact calls (simulator call log, the simulator's real limits)")
    setup = c["setup"]
    t.add("complete setup, Jan, administration 101 (app → Exact)",
          f"{setup['total']} calls: " + ", ".join(f"{k.split('/')[-1]} {v}" for k, v in setup["by_endpoint"].items()),
          f"≤ {SETUP_CALLS_GOAL}", setup["total"] <= SETUP_CALLS_GOAL)
    t.add("  token refreshes / 429s during setup", f"{setup['refreshes']} / {setup['status_429']}", "0 / 0",
          setup["refreshes"] == 0 and setup["status_429"] == 0)
    reopen = c["reopen"]
    t.add("reopen saved settings (GET /exact, /exact/instellingen)",
          f"{reopen['total']} calls {reopen['by_endpoint'] or ''}".strip(), f"≤ {REOPEN_CALLS_GOAL}",
          reopen["total"] <= REOPEN_CALLS_GOAL)

    ta = r["token_api"]
    first = next(iter(ta.values()))
    t.section(f"3. Token API, {first['callers']} concurrent callers (gunicorn 2 gthread workers × 8 threads), "
              f"{first['rounds']} rounds × {first['seconds']:.1f} s per size, sizes in turn{_load(r, 'token_api')}")
    for database in ("sqlite", "postgresql"):
        if database not in ta:
            t.line(f"token API on {database}", "skipped: no BENCH_DATABASE_URL (a PostgreSQL database the benchmark "
                                               "may empty)")
            continue
        sizes = ta[database]["sizes"]
        ordered = sorted(sizes, key=int)
        one, most = sizes[ordered[0]], sizes[ordered[-1]]
        for size in ordered:
            row = sizes[size]
            t.line(f"  {database}, {int(size):,} rows", f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms (median "
                                                        f"round {row['round_p99_ms']:.1f} ms), {row['rps']:.0f} req/s, "
                                                        f"{row['errors']} errors")
        ratio = most["round_p99_ms"] / one["round_p99_ms"]
        errors = sum(row["errors"] for row in sizes.values())
        t.add(f"token API on {database}: p99 at {int(ordered[-1]):,} rows ÷ p99 at 1 row",
              f"{ratio:.2f}× (all requests: p99 {most['p99_ms'] / one['p99_ms']:.2f}×, "
              f"p50 {most['p50_ms'] / one['p50_ms']:.2f}×), {errors} errors",
              f"≤ {TOKEN_P99_GOAL}×, 0 errors", ratio <= TOKEN_P99_GOAL and errors == 0)

    k = r["keep_alive"]
    t.section(f"4. Keep-alive, Exact's token endpoint at {keepalive.LATENCY_MS} ms, 2 runners at once, "
              f"--concurrency 8 each{_load(r, 'keep_alive')}")
    for database in ("postgresql", "sqlite"):
        if database not in k:
            t.line(f"keep-alive on {database}", "skipped: no BENCH_DATABASE_URL")
            continue
        row = k[database]
        figure = (f"{row['connections']:,} due: {row['wall_s']:.1f} s = {row['ratio']:.2f}× "
                  f"(floor {row['connections']:,} × {keepalive.LATENCY_MS} ms ÷ {row['runners'] * row['concurrency']}"
                  f" = {row['floor_s']:.1f} s); refreshed {row['refreshed']}, failed {row['failed']}, "
                  f"double refreshes {row['double_refreshes']}; runners' CPU {row['runner_cpu_s']:.1f} s")
        if database == "postgresql":
            t.add("keep-alive on postgresql", figure, f"≤ {KEEPALIVE_GOAL}×, 0 double refreshes",
                  row["ratio"] <= KEEPALIVE_GOAL and row["double_refreshes"] == 0
                  and row["refreshed"] == row["connections"])
        else:
            t.add("keep-alive on sqlite (context: one writer)", figure, "0 double refreshes, all refreshed",
                  row["double_refreshes"] == 0 and row["refreshed"] == row["connections"])

    w = r["webhooks"]
    t.section(f"5. Webhooks: change → OutSmart's receiver, {next(iter(w.values()))['events']:,} events at "
              f"{webhooks.RATE} changes/s, then {next(iter(w.values()))['burst']:,} at once{_load(r, 'webhooks')}")
    for database in ("sqlite", "postgresql"):
        if database not in w:
            t.line(f"webhooks on {database}", "skipped: no BENCH_DATABASE_URL")
            continue
        row = w[database]
        t.add(f"webhooks on {database}", f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms, "
                                        f"received {row['received']} of {row['events']}; one deliverer sends "
                                        f"{row['sent_per_s']:.0f}/s",
              f"p99 ≤ {WEBHOOK_P99_GOAL_MS} ms, all received",
              row["p99_ms"] <= WEBHOOK_P99_GOAL_MS and row["received"] == row["events"])

    cost = r["server_cost"]
    base = cost["baseline"]
    t.section(f"6. Context: server time per step in-process, without Exact (test client; a bare Flask route alone: "
              f"median {base['median_ms']:.3f} ms{_load(r, 'server_cost')})")
    for name, row in cost["steps"].items():
        figure = f"median {row['median_ms']:.2f} ms, {row['ratio_median']:.1f}× bare"
        ratio = row["ratio_median"]
        if row.get("exact_calls_per_request"):
            own = ratio * (1 - row["exact_share"])
            figure += (f"; {row['exact_calls_per_request']:.0f} Exact calls = {row['exact_share']:.0%}, "
                       f"without: {own:.1f}×")
            ratio = own
        t.add(name, figure, f"≤ {COST_RATIO_GOAL:.0f}× bare", ratio <= COST_RATIO_GOAL)
    b = r["bytes"]
    fp = b["first_paint"]
    files = ", ".join(f"{os.path.basename(p) or p} {v / 1024:.1f}" for p, v in fp["files"].items())
    t.add("first paint /integraties (gzip -6)", f"{fp['gzip_bytes'] / 1024:.1f} KB in {fp['requests']} requests "
          f"({files} KB)", "≤ 30 KB", fp["gzip_bytes"] <= FIRST_PAINT_GOAL)
    t.add("third-party requests", str(len(fp["third_party"])), "0", not fp["third_party"])
    for path, size in b["pages"].items():
        t.add(f"full page {path} (+ assets)", f"{size / 1024:.1f} KB", "≤ 30 KB", size <= FIRST_PAINT_GOAL)
    for path, row in b["fragments"].items():
        t.add(f"fragment {path}", f"{row['gzip_bytes'] / 1024:.1f} KB ({row['raw_bytes'] / 1024:.1f} KB raw)",
              "≤ 5 KB", row["gzip_bytes"] <= FRAGMENT_GOAL)
    sa = r["scale_administrations"]
    sizes = sorted(sa, key=int)
    small = sa[sizes[0]]
    for size in sizes[1:]:
        row = sa[size]
        for kind, label in (("page", "GET /exact/administratie"), ("search", "search ?q=Installatie")):
            ratio = row[kind]["median_ms"] / small[kind]["median_ms"]
            t.add(f"{label}, {size} administrations", f"median {row[kind]['median_ms']:.2f} ms = {ratio:.2f}× "
                  f"{sizes[0]}", f"≤ {SCALE_GOAL:.0f}× {sizes[0]}", ratio <= SCALE_GOAL)
    m = r["memory"]
    t.add("peak RSS, process that builds the app and runs a setup", f"{m['ru_maxrss_kb'] / 1024:.1f} MB",
          f"≤ {MEMORY_GOAL_KB // 1024} MB", m["ru_maxrss_kb"] <= MEMORY_GOAL_KB)
    peaks = [kb for database in ta.values() for kb in database.get("worker_vmhwm_kb", [])]
    if peaks:
        t.add("peak RSS (VmHWM) of gunicorn workers after the token API's load", f"{max(peaks) / 1024:.1f} MB (max)",
              f"≤ {MEMORY_GOAL_KB // 1024} MB", max(peaks) <= MEMORY_GOAL_KB)
    return t


if __name__ == "__main__":
    main()
