"""gunicorn on loopback, started and stopped by its pid, for the sections that serve the app for real."""
import http.client
import os
import signal
import socket
import subprocess
import sys
import time

from bench import env

WORKERS = 2
THREADS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn -w 2 -k gthread on 127.0.0.1 (8 threads each), started and stopped by its pid."""

    def __init__(self, target: str, extra_env: dict | None = None, workers: int = WORKERS, threads: int = THREADS):
        self.port = free_port()
        command = [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", str(workers), "-k", "gthread",
                   "--threads", str(threads), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", target]
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
