"""Throughput under gunicorn on loopback (2 gthread workers), app against a bare route served the same way."""
import http.client
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from bench import env

WORKERS = 2
THREADS = 4
CLIENT_PROCESSES = 2
CLIENT_THREADS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn -w 2 -k gthread on 127.0.0.1, started and stopped by its pid."""

    def __init__(self, target: str, extra_env: dict | None = None):
        self.port = free_port()
        command = [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", str(WORKERS), "-k", "gthread",
                   "--threads", str(THREADS), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", target]
        self.process = subprocess.Popen(command, cwd=env.ROOT, env={**os.environ, **(extra_env or {})},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)

    def wait_ready(self, path: str, headers=None, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path, headers=headers or {})
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def worker_pids(self) -> list[int]:
        pids = []
        for task in os.listdir(f"/proc/{self.process.pid}/task"):
            with open(f"/proc/{self.process.pid}/task/{task}/children") as handle:
                pids += [int(pid) for pid in handle.read().split()]
        return pids

    def worker_peak_kb(self) -> list[int]:
        peaks = []
        for pid in self.worker_pids():
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]))
        return peaks

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _client_process(port, method, path, headers, body, seconds, expect, queue):
    """One load process: CLIENT_THREADS keep-alive connections, each sending requests back to back."""
    counts = []
    stop_at = time.perf_counter() + seconds

    def worker():
        done = errors = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop_at:
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == expect:
                    done += 1
                else:
                    errors += 1
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        counts.append((done, errors))

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((sum(c[0] for c in counts), sum(c[1] for c in counts)))


def throughput(port, method, path, seconds, headers=None, body=None, expect=200) -> dict:
    """Requests per second answered with `expect`, from CLIENT_PROCESSES × CLIENT_THREADS keep-alive clients."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    headers = {"Connection": "keep-alive", **(headers or {})}
    processes = [context.Process(target=_client_process,
                                 args=(port, method, path, headers, body, seconds, expect, queue))
                 for _ in range(CLIENT_PROCESSES)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = max(seconds, time.perf_counter() - started)
    done, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    return {"rps": done / elapsed, "requests": done, "errors": errors, "seconds": round(elapsed, 2)}


def prepare_served_db(db_path, sim):
    """A SQLite file with a saved connection (account demo) and one waiting at step 7 (account bench-draft)."""
    from bench.browser import expect
    from bench.browser import save
    from bench.inprocess import to_draft
    from models import close_all

    app = env.create(db_path, sim)
    client = app.test_client()
    to_draft(client, sim)
    expect(save(client), 303)
    draft = env.client_for_account(app, "bench-draft")
    to_draft(draft, sim)
    expect(draft.get("/exact/controle"), 200)
    draft_header = env.session_header(app, "bench-draft")
    close_all()
    return draft_header


def run(db_path, sim, seconds: float) -> dict:
    draft = prepare_served_db(db_path, sim)
    bare = Gunicorn("bench.bare_app:app")
    app = Gunicorn("app:create_app()", env.server_env(db_path, sim))
    try:
        bare.wait_ready("/bare")
        app.wait_ready("/integraties")
        result = {"config": {"workers": WORKERS, "threads": THREADS, "client_processes": CLIENT_PROCESSES,
                             "client_threads": CLIENT_THREADS, "seconds": seconds}}
        bare_run = lambda: throughput(bare.port, "GET", "/bare", min(1.0, seconds / 2))  # noqa: E731
        result["baseline"] = bare_run()
        targets = {f"GET {path}": ("GET", path, draft, None) for path in
                   ("/integraties", "/exact/land", "/exact/verbinding", "/exact/administratie", "/exact/instellingen",
                    "/exact/controle")}
        targets["GET /exact (saved)"] = ("GET", "/exact", None, None)
        targets["POST /api/v1/…/access-token"] = (
            "POST", "/api/v1/accounts/demo/access-token", {"Authorization": f"Bearer {env.SERVICE_KEY}"}, b"")
        rows = {}
        for name, (method, path, headers, body) in targets.items():
            # The bare route right before and after each target: the same moment of a shared machine.
            before = bare_run()
            row = throughput(app.port, method, path, seconds, headers=headers, body=body)
            after = bare_run()
            row["baseline_rps"] = (before["rps"] + after["rps"]) / 2
            row["ratio"] = row["rps"] / row["baseline_rps"]
            rows[name] = row
        result["targets"] = rows
        result["worker_vmhwm_kb"] = app.worker_peak_kb()
        return result
    finally:
        app.stop()
        bare.stop()
