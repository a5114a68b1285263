"""Webhook delivery: from a change to its event arriving at OutSmart's receiver, p50 and p99.

The app's own outbox and deliverer thread (outbox.py) send to a local receiver (a plain HTTP server answering 204).
Changes are made as the app makes them: each in its own transaction that changes the row and queues its event
(`outbox.enqueue`), then the deliverer is woken, as after a request (views/webhooks.py). They come at RATE per second,
below what the one deliverer sends, so the figure is a change's own delay, not a backlog's. The time from change to
receipt is the receiver's clock at arrival minus the event's `created_at` (stored with the change). Then a burst of
as many changes at once measures what the deliverer sends per second (it sends one event at a time).
"""
import base64
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

from bench import env

RATE = 20  # changes per second: below what one deliverer sends, so a change waits for its own delivery


class Receiver:
    """OutSmart's end: notes when each webhook-id arrived; answers 204."""

    def __init__(self):
        arrived = self.arrived = {}
        lock = self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                now = time.time()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    arrived.setdefault(self.headers.get("webhook-id"), now)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/outsmart/exact-events"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def run_once(url: str, events: int, burst: int) -> dict:
    import outbox
    from models import Connection
    from models import OutboxEvent
    from models import close_all
    from models import db

    receiver = Receiver()
    sim = env.SimServer.start()
    try:
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        app = env.create(url, sim, WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=secret)
        with app.app_context(), db.connection_context():
            connection = Connection.create(account="bench-webhooks", status=Connection.SAVED, country="nl",
                                           division=101, division_name="Bench")
            outbox.start()
            load_before = os.getloadavg()[0]

            def change(number):
                with db.atomic():  # a change and its event, one transaction (connections.change_settings's shape)
                    Connection.update(settings={"hour_rounding": str(number)}).where(
                        Connection.id == connection.id).execute()
                    webhook_id = outbox.enqueue(connection, "connection.settings_changed")
                outbox.wake_if_enqueued()
                return webhook_id

            def wait_for(count):
                deadline = time.time() + 300
                while len(receiver.arrived) < count and time.time() < deadline:
                    time.sleep(0.02)

            ids = []
            started = time.perf_counter()
            for number in range(events):
                ids.append(change(number))
                time.sleep(max(0.0, started + (number + 1) / RATE - time.perf_counter()))
            wait_for(events)
            load_after = os.getloadavg()[0]
            burst_ids = [change(events + number) for number in range(burst)]  # all at once: the deliverer's pace
            wait_for(events + burst)
            created = {row.webhook_id: row.created_at for row in OutboxEvent.select(OutboxEvent.webhook_id,
                                                                                     OutboxEvent.created_at)}
        outbox.stop()
        delays = [receiver.arrived[webhook_id] - created[webhook_id] for webhook_id in ids
                  if webhook_id in receiver.arrived]
        burst_arrivals = sorted(receiver.arrived[webhook_id] for webhook_id in burst_ids
                                if webhook_id in receiver.arrived)
        burst_first = min(created[webhook_id] for webhook_id in burst_ids)
        close_all()
        return {"events": events, "received": len(delays), "rate_per_s": RATE,
                "p50_ms": env.percentile(delays, 0.5) * 1000 if delays else None,
                "p99_ms": env.percentile(delays, 0.99) * 1000 if delays else None,
                "max_ms": max(delays) * 1000 if delays else None, "load": [load_before, load_after],
                "burst": burst, "burst_received": len(burst_arrivals),
                "sent_per_s": len(burst_arrivals) / (burst_arrivals[-1] - burst_first) if burst_arrivals else None}
    finally:
        sim.stop()
        receiver.stop()


def run(tmp: str, events: int, burst: int) -> dict:
    result = {"sqlite": run_once(os.path.join(tmp, "webhooks.sqlite"), events, burst)}
    if env.POSTGRES_URL:
        result["postgresql"] = run_once(env.POSTGRES_URL, events, burst)
    return result


if __name__ == "__main__":
    import logging
    import tempfile

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        print(json.dumps(run(tmp, 200, 1000), indent=1))
