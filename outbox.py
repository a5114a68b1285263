"""Events to OutSmart's servers (webhooks, signed as Standard Webhooks sign them): when a connection is made, saved,
changed, disconnected, expires or needs attention, OutSmart hears it, even with no settings page open.

Durable: `enqueue` writes the event to the outbox table inside the transaction of the change it tells of
(connections.py calls it beside the history event), so the change and its event are kept together or not at all,
and a process killed before delivering loses nothing.

Delivered once per id: any number of deliverers (a thread in every app process, `flask --app app webhooks deliver`)
on one database take turns. A deliverer claims one due event at a time under the write lock (SQLite: BEGIN
IMMEDIATE; PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED) and pushes its next attempt to the end of a lease; nobody
else takes it before the lease ends, and a killed deliverer's claim is taken over after it. A failed delivery
(network error, timeout, any answer but 2xx) is retried with exponential back-off, 30 s doubling to at most an hour,
for 24 hours after the change; then it is given up. Every delivery and every give-up is a line in the connection's
history.

Nothing here imports Flask: create_app configures it (`configure`), views/webhooks.py starts the deliverer in the
processes that serve requests and wakes it after a request that queued an event.
"""
import datetime
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from peewee import Case
from peewee import SqliteDatabase
from peewee import fn
from standardwebhooks.webhooks import Webhook

from models import Connection
from models import Event
from models import OutboxEvent
from models import db

log = logging.getLogger(__name__)

TYPES = ("connection.connected", "connection.saved", "connection.settings_changed", "connection.disconnected",
         "connection.expired", "connection.needs_attention")

FIRST_RETRY = 30  # seconds after the first failed attempt; each next wait doubles …
LONGEST_WAIT = 3600  # … up to an hour, so OutSmart hears it within the hour once it answers again
RETRY_FOR = 24 * 3600  # after the change: the last attempt is then, and if it fails the event is given up
POLL_SECONDS = 2.0  # how often a deliverer looks for events other processes queued
LEASE_PER_TIMEOUT = 6  # a claim lasts six delivery timeouts (60 s by default)
KEEP_FINISHED = 30 * 86400  # delivered and given-up events are deleted after 30 days (the history keeps its line)
USER_AGENT = "OutSmart-Exact-Online-webhooks/1"


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: 30 s, 1, 2, 4, 8, 16, 32 minutes, then every hour."""
    return min(FIRST_RETRY * 2 ** (max(attempts, 1) - 1), LONGEST_WAIT)


@dataclass
class Delivered:
    """What one pass of a deliverer did."""

    delivered: int = 0
    failed: int = 0
    given_up: int = 0


class Outbox:
    """The outbox of one configuration: where events go (`url`), the secret that signs them, and the clock."""

    def __init__(self, url: str, secret: str, timeout: float = 10, clock: Callable[[], float] = time.time):
        self.url = url
        self.timeout = timeout
        self.lease = LEASE_PER_TIMEOUT * timeout
        self.clock = clock
        self._signer = Webhook(secret)
        self._purged_at = 0.0

    def __repr__(self):  # never the address (it may carry a tenant's name) nor the secret
        return f"<Outbox timeout={self.timeout}>"

    # --- queueing, inside the change's transaction ------------------------------------------------------------

    def enqueue(self, connection: Connection, type: str, reason: str | None = None, *,
                administration: tuple[int, str | None] | None = None, **data) -> str:
        """Queue the event `type` about the connection as this transaction leaves it; return its webhook-id."""
        if type not in TYPES:
            raise ValueError(f"unknown event type {type!r}; one of {', '.join(TYPES)}")
        row = Connection.get_by_id(connection.id)  # read in the caller's transaction: the change is in it
        if administration is None and row.division is not None:
            administration = (row.division, row.division_name)
        now = self.clock()
        body = {
            "type": type,
            "account": row.account,
            "occurred_at": _iso(now),
            "data": {"state": row.status,
                     "administration": administration and {"code": administration[0], "name": administration[1]},
                     "reason": reason, **data},
        }
        webhook_id = "msg_" + secrets.token_urlsafe(18)
        OutboxEvent.create(webhook_id=webhook_id, account=row.account, type=type, body=json.dumps(body),
                           created_at=now, next_attempt_at=now)
        _local.enqueued = True
        return webhook_id

    # --- delivering -------------------------------------------------------------------------------------------

    def deliver_due(self, now: float | None = None, stop: threading.Event | None = None,
                    limit: int = 1000) -> Delivered:
        """Send every event that is due (at `now`, else the clock's now), one claim at a time; say what happened."""
        done = Delivered()
        with requests.Session() as http:
            for _ in range(limit):
                if stop is not None and stop.is_set():
                    break
                at = self.clock() if now is None else now
                event = self._claim(at)
                if event is None:
                    break
                error = self._send(http, event, at)
                if error is None:
                    self._delivered(event, at)
                    done.delivered += 1
                elif self._failed(event, at, error):
                    done.given_up += 1
                else:
                    done.failed += 1
        self._purge(self.clock() if now is None else now)
        return done

    def _claim(self, now: float) -> OutboxEvent | None:
        """Take the next due event for this deliverer until its lease ends, under the write lock; None: none due."""
        due = (OutboxEvent.select(OutboxEvent.id)
               .where((OutboxEvent.state == OutboxEvent.PENDING) & (OutboxEvent.next_attempt_at <= now))
               .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
               .limit(1))
        claim = secrets.token_urlsafe(12)
        if isinstance(db.obj, SqliteDatabase):
            transaction = db.atomic("IMMEDIATE")  # one writer at a time: nobody reads the row between our two steps
        else:
            transaction = db.atomic()
            due = due.for_update(skip_locked=True)  # another deliverer's row is passed over, not waited for
        with transaction:
            row = due.first()
            if row is None:
                return None
            (OutboxEvent.update(claimed_by=claim, attempts=OutboxEvent.attempts + 1,
                                next_attempt_at=now + self.lease)
             .where(OutboxEvent.id == row.id)
             .execute())
        return OutboxEvent.get_by_id(row.id)

    def _send(self, http: requests.Session, event: OutboxEvent, now: float) -> str | None:
        """POST the event, signed; None when OutSmart answered 2xx, else what went wrong (no address, no body)."""
        sent_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": event.webhook_id,
            "webhook-timestamp": str(int(now)),
            "webhook-signature": self._signer.sign(event.webhook_id, sent_at, event.body),
        }
        try:
            # Redirects are not followed (another address is not OutSmart's to give); the answer's body is not read.
            with http.post(self.url, data=event.body.encode(), headers=headers, timeout=self.timeout,
                           allow_redirects=False, stream=True) as response:
                status = response.status_code
        except requests.RequestException as error:
            # The exception's text names the address: only its kind is kept.
            return type(error).__name__
        return None if 200 <= status < 300 else f"HTTP {status}"

    def _delivered(self, event: OutboxEvent, now: float) -> None:
        """Mark it delivered with its history line; OutSmart answers again, so what waits for a retry goes now."""
        with db.atomic():
            marked = (OutboxEvent.update(state=OutboxEvent.DELIVERED, finished_at=now, claimed_by=None,
                                         last_error=None)
                      .where((OutboxEvent.id == event.id) & (OutboxEvent.state == OutboxEvent.PENDING))
                      .execute())
            if marked:
                Event.create(account=event.account, at=_utc(now), action="webhook_delivered",
                             detail={"webhook": event.type})
            (OutboxEvent.update(next_attempt_at=now)
             .where((OutboxEvent.state == OutboxEvent.PENDING) & OutboxEvent.claimed_by.is_null()
                    & (OutboxEvent.attempts > 0) & (OutboxEvent.next_attempt_at > now))
             .execute())

    def _failed(self, event: OutboxEvent, now: float, error: str) -> bool:
        """Schedule the next attempt, or give up 24 hours after the change (True); only while the claim is ours."""
        ours = ((OutboxEvent.id == event.id) & (OutboxEvent.state == OutboxEvent.PENDING)
                & (OutboxEvent.claimed_by == event.claimed_by))
        deadline = event.created_at + RETRY_FOR
        with db.atomic():
            if now >= deadline:
                given_up = (OutboxEvent.update(state=OutboxEvent.GIVEN_UP, finished_at=now, claimed_by=None,
                                               last_error=error)
                            .where(ours).execute())
                if given_up:
                    Event.create(account=event.account, at=_utc(now), action="webhook_given_up",
                                 detail={"webhook": event.type, "attempts": event.attempts, "error": error})
                    log.error("Event %s (%s of %s) not delivered to OutSmart after %d attempts in 24 hours, the "
                              "last: %s. Given up.", event.webhook_id, event.type, event.account, event.attempts,
                              error)
                return bool(given_up)
            retry_at = min(now + backoff(event.attempts), deadline)
            OutboxEvent.update(next_attempt_at=retry_at, claimed_by=None, last_error=error).where(ours).execute()
        log.warning("Event %s (%s of %s) not delivered to OutSmart (attempt %d: %s); trying again in %d s.",
                    event.webhook_id, event.type, event.account, event.attempts, error, retry_at - now)
        return False

    def _purge(self, now: float) -> None:
        """Delete events finished over 30 days ago (their history lines stay); at most once an hour per process."""
        if now - self._purged_at < 3600:
            return
        self._purged_at = now
        (OutboxEvent.delete()
         .where((OutboxEvent.state != OutboxEvent.PENDING) & (OutboxEvent.finished_at < now - KEEP_FINISHED))
         .execute())


def _iso(epoch: float) -> str:
    return _utc(epoch).isoformat(timespec="microseconds") + "Z"


def _utc(epoch: float) -> datetime.datetime:
    """UTC without tzinfo, as the models store datetimes."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)


# --- the process's outbox and its deliverer thread -------------------------------------------------------------

_outbox: Outbox | None = None
_deliverer: "Deliverer | None" = None
_lock = threading.Lock()
_local = threading.local()  # whether this thread queued an event since it last woke the deliverer


class Deliverer(threading.Thread):
    """Delivers in the background of an app process: at once when woken, else every POLL_SECONDS."""

    def __init__(self, outbox: Outbox):
        super().__init__(name="outbox-deliverer", daemon=True)
        self.outbox = outbox
        self.pid = os.getpid()
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def run(self):
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                with db.connection_context():
                    self.outbox.deliver_due(stop=self._stopping)
            except Exception as error:  # the database away, say: try again at the next poll
                log.warning("Delivering events to OutSmart failed (%s: %s); trying again in %s s.",
                            type(error).__name__, error, POLL_SECONDS)
            self._wake.wait(POLL_SECONDS)

    def wake(self):
        self._wake.set()

    def stop(self, timeout: float | None = None):
        self._stopping.set()
        self._wake.set()
        if self is not threading.current_thread():
            self.join(timeout)


def configure(url: str | None, secret: str | None, timeout: float = 10) -> None:
    """Send events to `url` signed with `secret` (whsec_…); no url: queue and send nothing (create_app calls this)."""
    global _outbox
    stop()
    _outbox = Outbox(url, secret, timeout) if url else None


def current() -> Outbox | None:
    """This process's outbox; None when no WEBHOOK_URL is configured."""
    return _outbox


def enqueue(connection: Connection, type: str, reason: str | None = None, **data) -> str | None:
    """Queue an event for OutSmart in the caller's transaction (call it beside the change's history Event).

    `type` is one of TYPES; `reason` says why, for connection.expired and connection.needs_attention (e.g. the
    Exact error's key). The body carries the connection's state and administration as the transaction has them;
    pass `administration=(code, name)` when the change cleared it (disconnect). Returns the webhook-id, or None
    when webhooks are off.
    """
    return None if _outbox is None else _outbox.enqueue(connection, type, reason, **data)


def deliver_due(now: float | None = None) -> Delivered:
    """Deliver what is due once, in this thread (the `webhooks deliver` command)."""
    return _outbox.deliver_due(now) if _outbox is not None else Delivered()


def backlog(now: float | None = None) -> tuple[int, float, int]:
    """For monitoring (views/metrics.py): events waiting to be delivered, the oldest one's age in seconds (0 when none
    waits), and events given up (kept 30 days). One query, in the caller's database connection."""
    row = (OutboxEvent
           .select(fn.SUM(Case(None, [(OutboxEvent.state == OutboxEvent.PENDING, 1)], 0)),
                   fn.MIN(Case(None, [(OutboxEvent.state == OutboxEvent.PENDING, OutboxEvent.created_at)], None)),
                   fn.SUM(Case(None, [(OutboxEvent.state == OutboxEvent.GIVEN_UP, 1)], 0)))
           .tuples().first())
    pending, oldest, given_up = row or (0, None, 0)
    now = time.time() if now is None else now
    return int(pending or 0), max(0.0, now - oldest) if oldest is not None else 0.0, int(given_up or 0)


def start() -> None:
    """Run this process's deliverer thread, if webhooks are on and it does not run yet (also after a fork)."""
    global _deliverer
    running = _deliverer
    if _outbox is None or (running is not None and running.pid == os.getpid() and running.is_alive()):
        return
    with _lock:
        if _deliverer is None or _deliverer.pid != os.getpid() or not _deliverer.is_alive():
            _deliverer = Deliverer(_outbox)
            _deliverer.start()


def wake_if_enqueued() -> None:
    """After a request (its transactions committed): wake the deliverer if this thread queued an event."""
    if getattr(_local, "enqueued", False):
        _local.enqueued = False
        running = _deliverer
        if running is not None and running.pid == os.getpid():
            running.wake()


def stop(timeout: float | None = 30) -> None:
    """Stop this process's deliverer, letting an attempt under way end (gunicorn's worker_exit, a new configure)."""
    global _deliverer
    running, _deliverer = _deliverer, None
    if running is not None and running.pid == os.getpid():
        running.stop(timeout)


def _after_fork_in_child():
    """Threads do not survive a fork: the child starts its own deliverer (start), with a lock nobody holds."""
    global _deliverer, _lock
    _deliverer = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
