"""The rate limits' counts, kept in the app's database: every gunicorn worker and every machine counts together.

A storage backend for the `limits` library (its documented extension point: a subclass of `limits.storage.Storage`
registers its URL scheme, here `database://`, for `limits.storage.storage_from_string`). It supports the library's
fixed-window strategy: a key's window opens at its first hit and lasts the limit's period; the count is one row,
raised by one statement (an upsert), so two workers hitting the same key at once both count.

No Flask here: the database is models.db, whichever one the app (or a test) bound it to.
"""
import time

from limits.storage import Storage
from peewee import Case
from peewee import PeeweeException

from models import RateLimitCount


class DatabaseStorage(Storage):
    """`database://`: the counts in the table `ratelimitcount` of the app's own database (SQLite or PostgreSQL)."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return PeeweeException

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` more hits of `key` (a new window of `expiry` seconds if none is open); the new count."""
        now = time.time()
        # Windows that ended are deleted as they pass by, so the table holds only open ones (an attacker changing
        # addresses leaves no rows behind for longer than the longest window).
        RateLimitCount.delete().where(RateLimitCount.expires_at <= now).execute()
        window_ended = RateLimitCount.expires_at <= now  # read from the stored row, before this statement changes it
        counted = (RateLimitCount
                   .insert(key=key, hits=amount, expires_at=now + expiry)
                   .on_conflict(conflict_target=[RateLimitCount.key], update={
                       RateLimitCount.hits: Case(None, [(window_ended, amount)], RateLimitCount.hits + amount),
                       RateLimitCount.expires_at: Case(None, [(window_ended, now + expiry)],
                                                       RateLimitCount.expires_at)})
                   .returning(RateLimitCount.hits)
                   .tuples()
                   .execute())
        return next(iter(counted))[0]

    def get(self, key: str) -> int:
        """The hits of `key` in its open window (0 when none is open)."""
        row = self._open_window(key)
        return row.hits if row else 0

    def get_expiry(self, key: str) -> float:
        """When `key`'s open window ends (epoch seconds); now when none is open."""
        row = self._open_window(key)
        return row.expires_at if row else time.time()

    def check(self) -> bool:
        """Whether the table can be read."""
        try:
            RateLimitCount.select().limit(1).exists()
        except PeeweeException:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every count; how many there were."""
        return RateLimitCount.delete().execute()

    def clear(self, key: str) -> None:
        """Forget the count of `key`."""
        RateLimitCount.delete().where(RateLimitCount.key == key).execute()

    def open_counts(self, prefix: str) -> list[tuple[str, int, float]]:
        """(key, hits, window's end) of every open window whose key starts with `prefix` (not part of `limits`)."""
        rows = (RateLimitCount.select()
                .where(RateLimitCount.key.startswith(prefix) & (RateLimitCount.expires_at > time.time()))
                .order_by(RateLimitCount.key))
        return [(row.key, row.hits, row.expires_at) for row in rows]

    @staticmethod
    def _open_window(key: str) -> RateLimitCount | None:
        return RateLimitCount.get_or_none((RateLimitCount.key == key) & (RateLimitCount.expires_at > time.time()))
