"""The token API under 100 concurrent callers, with 1, 10,000 and 1,000,000 connection rows, on SQLite and PostgreSQL.

The goal compares p99s: the p99 of each round, and of those the median round's, so that a spike of the shared
machine's load in one round of one size does not decide. One database per size holds the saved connection the callers ask for (account demo, real tokens from the simulator)
and filler rows inserted in bulk (SQLite: executemany in one transaction; PostgreSQL: COPY). Each size is served by
its own gunicorn (2 gthread workers × 8 threads, as deployed); CALLERS threads in 2 processes send
POST /api/v1/accounts/demo/access-token back to back over keep-alive connections, each request timed from sending to
the whole answer. The sizes take turns, round after round, so each sees the same moments of a shared machine; p50
and p99 are over every request of every round.

PostgreSQL: one schema per size in BENCH_DATABASE_URL's database (the migrated tables copied there with their
indexes), each gunicorn pointed at its schema by the connection's search_path.
"""
import csv
import http.client
import io
import json
import multiprocessing
import os
import shutil
import sqlite3
import threading
import time
from urllib.parse import quote

from bench import env
from bench.served import Gunicorn

CALLERS = 100
CLIENT_PROCESSES = 2
POOL_SIZE = 8  # database connections per worker: 3 sizes × 2 workers × 8 stay well under PostgreSQL's 100
PATH = "/api/v1/accounts/demo/access-token"


def _filler(start: int, stop: int):
    for number in range(start, stop):
        yield (f"filler-{number:07d}", "saved", "nl", 100000 + number, f"Filler {number}", '{"import_relations": true}')


def _prepare_template(url: str, sim) -> None:
    """The saved connection the callers ask for, made as an admin makes it (its tokens long-lived at the simulator)."""
    from bench.browser import expect
    from bench.browser import save
    from bench.inprocess import to_draft
    from models import close_all

    app = env.create(url, sim)
    client = app.test_client()
    to_draft(client, sim)
    expect(save(client), 303)
    close_all()


def sqlite_databases(tmp: str, sim, sizes) -> dict:
    """One SQLite file per size: a copy of the template plus filler rows."""
    template = os.path.join(tmp, "tokens.sqlite")
    _prepare_template(template, sim)
    urls = {}
    for size in sizes:
        path = f"{template}.{size}"
        shutil.copyfile(template, path)
        with sqlite3.connect(path) as db:
            have = db.execute("SELECT count(*) FROM connection").fetchone()[0]
            db.executemany("INSERT INTO connection (account, status, country, division, division_name, settings) "
                           "VALUES (?, ?, ?, ?, ?, ?)", _filler(have, size))
            db.execute("ANALYZE")
        urls[size] = f"sqlite:///{path}"
    return urls


def postgres_databases(url: str, sim, sizes) -> dict:
    """One schema per size in the PostgreSQL database: the template's tables copied (with their indexes) plus filler
    rows by COPY; each size's URL sets its search_path."""
    import psycopg2

    _prepare_template(url, sim)
    urls = {}
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [name for (name,) in cursor.fetchall()]
        for size in sizes:
            schema = f"bench_tokens_{size}"
            cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            for table in tables:
                cursor.execute(f'CREATE TABLE {schema}."{table}" (LIKE public."{table}" INCLUDING ALL); '
                               f'INSERT INTO {schema}."{table}" SELECT * FROM public."{table}"')
            cursor.execute(f"SELECT count(*) FROM {schema}.connection")
            have = cursor.fetchone()[0]
            buffer = io.StringIO()
            csv.writer(buffer).writerows(_filler(have, size))
            buffer.seek(0)
            cursor.copy_expert(f"COPY {schema}.connection (account, status, country, division, division_name, "
                               "settings) FROM STDIN WITH (FORMAT csv)", buffer)
            cursor.execute(f"ANALYZE {schema}.connection")
            db.commit()
            urls[size] = f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"
    return urls


def drop_postgres_schemas(url: str, sizes) -> None:
    import psycopg2

    with psycopg2.connect(url) as db, db.cursor() as cursor:
        for size in sizes:
            cursor.execute(f"DROP SCHEMA IF EXISTS bench_tokens_{size} CASCADE")
        db.commit()


def _callers(port: int, threads: int, seconds: float, queue) -> None:
    """One client process: `threads` keep-alive connections asking for the token back to back; each request timed."""
    headers = {"Authorization": f"Bearer {env.SERVICE_KEY}", "Connection": "keep-alive", "Content-Length": "0"}
    results = []
    start = threading.Barrier(threads)

    def caller():
        times, errors = [], 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        stop_at = time.perf_counter() + seconds
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            try:
                connection.request("POST", PATH, headers=headers)
                response = connection.getresponse()
                body = response.read()
                if response.status == 200 and b"access_token" in body:
                    times.append(time.perf_counter() - began)
                else:
                    errors += 1
                if response.will_close:
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.close()
        results.append((times, errors))

    workers = [threading.Thread(target=caller) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(([t for times, _ in results for t in times], sum(errors for _, errors in results)))


def load(port: int, seconds: float) -> tuple[list[float], int]:
    """CALLERS concurrent callers for `seconds`: every request's time, and how many failed."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_callers, args=(port, CALLERS // CLIENT_PROCESSES, seconds, queue))
                 for _ in range(CLIENT_PROCESSES)]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    return [t for times, _ in results for t in times], sum(errors for _, errors in results)


def measure(urls: dict, sim, rounds: int, seconds: float) -> dict:
    """Serve each size, then load the sizes in turn, `rounds` times."""
    servers = {}
    try:
        for size, url in urls.items():
            servers[size] = Gunicorn("app:create_app()", {**env.server_env(url, sim),
                                                           "DATABASE_POOL_SIZE": str(POOL_SIZE)})
        for server in servers.values():
            server.wait_ready("/api/v1/openapi.json")
        samples = {size: [] for size in urls}
        round_p99 = {size: [] for size in urls}
        errors = {size: 0 for size in urls}
        for size, server in servers.items():  # warm every worker and its connections
            load(server.port, 0.5)
        for number in range(rounds):
            # Each round in another order of sizes, so none is always the one after the warm-up or a spike.
            for size in list(servers)[number % len(servers):] + list(servers)[:number % len(servers)]:
                times, failed = load(servers[size].port, seconds)
                samples[size] += times
                errors[size] += failed
                if times:
                    round_p99[size].append(env.percentile(times, 0.99))
        peaks = [kb for server in servers.values() for kb in server.worker_peak_kb()]
    finally:
        for server in servers.values():
            server.stop()
    return {"sizes": {size: {"requests": len(values), "errors": errors[size],
                             "p50_ms": env.percentile(values, 0.5) * 1000 if values else None,
                             "p99_ms": env.percentile(values, 0.99) * 1000 if values else None,
                             # A load spike from elsewhere hits one round of one size: the median round's p99
                             "round_p99_ms": env.percentile(round_p99[size], 0.5) * 1000 if round_p99[size] else None,
                             "rps": len(values) / (rounds * seconds)}
                      for size, values in samples.items()},
            "worker_vmhwm_kb": peaks, "rounds": rounds, "seconds": seconds, "callers": CALLERS}


def run(tmp: str, sizes, rounds: int, seconds: float) -> dict:
    """Both databases (PostgreSQL only when BENCH_DATABASE_URL names one)."""
    sim = env.SimServer.start()
    try:
        sim.settings(access_token_ttl=86400)  # the token stays valid all through: the API reads, never refreshes
        result = {"sqlite": measure(sqlite_databases(tmp, sim, sizes), sim, rounds, seconds)}
        if env.POSTGRES_URL:
            try:
                result["postgresql"] = measure(postgres_databases(env.POSTGRES_URL, sim, sizes), sim, rounds, seconds)
            finally:
                drop_postgres_schemas(env.POSTGRES_URL, sizes)
        return result
    finally:
        sim.stop()


if __name__ == "__main__":  # python -m bench.token_api: this section alone, quick sizes
    import logging
    import tempfile

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        print(json.dumps(run(tmp, (1, 10_000, 100_000), 2, 2.0), indent=1))
