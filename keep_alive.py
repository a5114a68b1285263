"""Keep-alive: refresh the connections whose refresh token is getting old, before Exact forgets it (30 idle days).

OutSmart runs `flask --app app keep-alive` from cron on several machines at once, against one database. Each due
connection is refreshed by exactly one runner: a runner claims a connection in a transaction that holds its row
(`Connection.claimed_if_issued_before`: PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, SQLite's write lock) and
refreshes it through the token store inside that transaction. A runner that finds the row held by another, or
already refreshed by it, skips it: a refreshed token is issued now, so it is not due again before the next run
window (`--older-than-days`) has passed.

Within a runner, up to `concurrency` threads refresh at once, each with its own database connection. SQLite has one
writer at a time and the refresh holds its write lock (token_store.py), so there the threads of a runner take turns:
one of them asks for the lock at a time, and the app's own requests get their turn between two refreshes.
"""
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

from peewee import OperationalError
from peewee import SqliteDatabase

from exact.errors import ExactError
from models import Connection
from models import KeepAliveRun
from models import db
from token_store import TokenStore

log = logging.getLogger(__name__)

REFRESHED, SKIPPED, FAILED = "refreshed", "skipped", "failed"

# Why a connection was not refreshed, for the operator who reads the run's output (keys: exact.errors class names).
WHY = {
    "ReauthorizationRequired": "Exact no longer accepts the grant: marked expired, the admin must reconnect",
    "TooEarlyToRefresh": "Exact refused a new token this soon, by its clock: tried again next run",
    "RateLimited": "Exact's rate limit was reached: tried again next run",
    "TokenBudgetSpent": "the Exact user's token calls for today are used up: tried again next run",
    "ExactUnavailable": "Exact did not answer, or answered with an error: tried again next run",
    "ConfigurationError": "Exact does not recognise the app: check EXACT_CLIENT_ID and EXACT_CLIENT_SECRET",
}
# Failures that need no operator: the admin sees "Authenticatie verlopen" and the reconnect button.
FOR_THE_ADMIN = {"ReauthorizationRequired"}
RUNS_KEPT = 90 * 86400  # seconds: a quarter of a year of runs, for an operator looking back


@dataclass(frozen=True)
class Result:
    """What one runner did with one due connection."""

    outcome: str  # REFRESHED, SKIPPED or FAILED
    account: str | None = None
    reason: str | None = None  # with FAILED: an exact.errors class name, or what else went wrong


@dataclass(frozen=True)
class Summary:
    """One run: how many connections were due when it started, and what became of each."""

    due: int
    results: tuple[Result, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def failures(self) -> Counter:
        """How many failed, by reason."""
        return Counter(result.reason for result in self.results if result.outcome == FAILED)

    @property
    def needs_an_operator(self) -> bool:
        """Whether a connection failed for a reason the admin cannot fix by reconnecting."""
        return any(reason not in FOR_THE_ADMIN for reason in self.failures)

    def line(self) -> str:
        """The run in one line: refreshed N, skipped M because another runner had them, failed K and why."""
        text = (f"keep-alive: {self.due} due; refreshed {self.count(REFRESHED)}, skipped {self.count(SKIPPED)} "
                f"(another runner had them), failed {self.count(FAILED)}")
        why = [f"{count} {reason}: {WHY.get(reason, 'see the log')}" for reason, count in sorted(self.failures.items())]
        return text + (f" ({'; '.join(why)})" if why else "")


def run(store: TokenStore, cutoff: float, concurrency: int,
        context: Callable[[], object] = nullcontext) -> Summary:
    """Refresh every connection whose refresh token was issued before `cutoff` (epoch seconds), `concurrency` at a
    time; `context` is entered around each refresh in its thread (the Flask app's context: the store reads the
    configured Exact hosts)."""
    with _connected():
        due = [row_id for (row_id,) in Connection.refresh_tokens_older_than(cutoff).select(Connection.id).tuples()]
    one_writer = threading.Lock() if isinstance(db.obj, SqliteDatabase) else nullcontext()

    def refresh(connection_id: int) -> Result:
        with context(), _connected(), one_writer:
            return refresh_one(store, connection_id, cutoff)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="keep-alive") as pool:
        results = tuple(pool.map(refresh, due))
    return Summary(len(due), results)


def _connected():
    """This thread's own database connection (from the pool) for the block, unless the thread holds one already."""
    return db.connection_context() if db.is_closed() else nullcontext()


def refresh_one(store: TokenStore, connection_id: int, cutoff: float) -> Result:
    """Claim the connection if it is still due and nobody else holds it, and refresh it inside the claim."""
    account = None
    try:
        with Connection.claimed_if_issued_before(connection_id, cutoff) as connection:
            if connection is None:
                return Result(SKIPPED)
            account, before = connection.account, connection.refresh_token
            try:
                token = store.valid_token(connection.id, force=True, loaded=connection)
            except ExactError as error:
                # Caught inside the claim, so what the store recorded (a dead grant: expired) commits with it.
                return Result(FAILED, account, type(error).__name__)
            if token.refresh_token == before:  # the store kept the token: Exact's 570 s had not passed, by its clock
                return Result(FAILED, account, "TooEarlyToRefresh")
            return Result(REFRESHED, account)
    except OperationalError as error:
        if isinstance(db.obj, SqliteDatabase) and "locked" in str(error):
            # SQLite's write lock stayed taken for its whole busy timeout: another runner is refreshing one
            # connection after another, this one among them.
            log.warning("keep-alive: connection %s left to the runner that holds the database", connection_id)
            return Result(SKIPPED)
        log.exception("keep-alive: connection %s (%s) not refreshed", connection_id, account)
        return Result(FAILED, account, type(error).__name__)
    except Exception as error:  # the database (or a bug): this connection fails, the others carry on
        log.exception("keep-alive: connection %s (%s) not refreshed", connection_id, account)
        return Result(FAILED, account, type(error).__name__)


def record(summary: Summary, now: float | None = None) -> None:
    """Keep what the run did in the database (KeepAliveRun), where /metrics finds the last run of any machine; runs
    older than RUNS_KEPT go."""
    now = time.time() if now is None else now
    with db.atomic():
        KeepAliveRun.create(finished_at=now, due=summary.due, refreshed=summary.count(REFRESHED),
                            skipped=summary.count(SKIPPED), failed=summary.count(FAILED),
                            needs_operator=summary.needs_an_operator)
        KeepAliveRun.delete().where(KeepAliveRun.finished_at < now - RUNS_KEPT).execute()
