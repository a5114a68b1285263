"""OutSmart's end of the webhooks, for the tests: a real HTTP server in a thread that checks every request with the
standardwebhooks package's own Webhook(secret).verify, as OutSmart's developers are told to."""
import base64
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def new_secret() -> str:
    """A secret as the README says to make one: whsec_ and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class Received:
    """One request as it arrived, what verify() made of it, and what the receiver answered."""

    path: str
    headers: dict
    body: bytes
    payload: dict | None  # what Webhook(secret).verify returned; None if it refused
    refused: str | None  # why verify refused it
    status: int = 0  # what the receiver answered (0: it was held, and never answered)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id")


@dataclass
class Receiver:
    """Answers `status` (or the next of `answers`), after holding each request while `held` is set."""

    secret: str
    status: int = 204
    answers: list = field(default_factory=list)  # statuses for the next requests, in order, before `status`
    delay: float = 0.0
    received: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    payload, refused = Webhook(receiver.secret).verify(body, headers), None
                except WebhookVerificationError as error:
                    payload, refused = None, str(error)
                arrived = Received(self.path, headers, body, payload, refused)
                with receiver.lock:
                    receiver.received.append(arrived)
                    hold = receiver.held.is_set()
                if hold:
                    receiver.release.wait(120)
                    return  # never answered: the sender is gone by now
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else receiver.status
                arrived.status = 400 if refused and 200 <= status < 300 else status
                self.send_response(arrived.status)
                if 300 <= arrived.status < 400:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_POST  # a redirect followed would arrive as either: recorded all the same

            def log_message(self, *args):
                pass

        self.redirect_to = "http://127.0.0.1:9/elsewhere"
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/outsmart/exact-events"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # --- what arrived ---------------------------------------------------------------------------------------------

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def acknowledged(self) -> list[Received]:
        """The requests answered 2xx: the deliveries the sender may count as done."""
        return [one for one in self.all() if 200 <= one.status < 300]

    def ids(self) -> Counter:
        return Counter(one.webhook_id for one in self.acknowledged())

    def wait_for(self, count: int, acknowledged: bool = True, timeout: float = 30) -> list[Received]:
        """Wait until `count` requests arrived (answered 2xx, unless `acknowledged` is False)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.acknowledged() if acknowledged else self.all()
            if len(got) >= count:
                return got
            assert time.monotonic() < deadline, f"{len(got)} of {count} events arrived in {timeout} s: {got}"
            time.sleep(0.01)


def body_of(received: Received) -> dict:
    return json.loads(received.body)
