"""Exact Online's own limits on this app, counted in the app's database so every process and machine counts together.

- **Token calls**: Exact answers at most 200 token-endpoint calls (code exchanges and refreshes) per app, per Exact
  user, per day. One Exact user may back several OutSmart accounts, so the count is per Exact user, over all of them,
  per UTC day (the day Exact's daily limits use). Past the configured budget no refresh is asked until 00:00 UTC.
- **Errors**: Exact blocks an app's key for an hour (and longer when it happens again) after more than 10 answers
  400/401/403/404 per app, user, administration, endpoint and hour. Our own calls stop earlier, at the configured
  number per clock hour (UTC): one more is not made until the next hour begins.

The counts live where the login limits' do (limit_store.DatabaseStorage, the table `ratelimitcount`), each under a key
that holds its day or hour, so a new day or hour starts from zero and a window ends when its day or hour does.
No Flask here: views/exact_clients.py builds these from configuration.
"""
import datetime
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits.storage import Storage

from exact.errors import ErrorLimitReached
from exact.errors import TokenBudgetSpent

HOUR = 3600
DAY = 86400
# Past this share of the day's token calls the health panel warns.
WARNING_SHARE = 0.8
# Exact blocks after more than this many errors per endpoint and hour: our own limit must stay at or below it.
EXACT_ERROR_BLOCK = 10


@dataclass(frozen=True)
class TokenBudget:
    """An Exact user's token calls today: how many were made (by us), of how many, and when the day ends."""

    used: int
    limit: int
    resets_at: float  # 00:00 UTC

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def warning(self) -> bool:
        """Past 80 % of the day's calls."""
        return self.used > self.limit * WARNING_SHARE

    @property
    def spent(self) -> bool:
        return self.used >= self.limit


@dataclass(frozen=True)
class Block:
    """An endpoint our calls keep away from until `lifts_at`: too many errors there this hour."""

    division: int | None
    endpoint: str
    errors: int
    lifts_at: float


class ExactLimits:
    """The token budget and the error counts of one Exact app (`client_id`), in `storage` (limit_store)."""

    def __init__(self, storage: Storage, client_id: str, token_calls_per_day: int, errors_per_hour: int,
                 clock: Callable[[], float] = time.time):
        self._storage = storage
        self._client_id = client_id
        self.token_calls_per_day = token_calls_per_day
        self.errors_per_hour = errors_per_hour
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    # Token calls, per Exact user and UTC day

    def token_budget(self, user: str | None) -> TokenBudget:
        """How much of today's token calls the Exact user has used."""
        now = self._clock()
        return TokenBudget(self._storage.get(self._token_key(user, now)), self.token_calls_per_day, _next_day(now))

    def take_token_call(self, user: str | None) -> None:
        """Count the token call about to be made for the Exact user; TokenBudgetSpent (nothing counted) if none is left.

        Checked, then counted by one statement whose answer is the new count: callers for other OutSmart accounts of
        the same Exact user, racing this one, cannot all slip through on the last call left.
        """
        now = self._clock()
        key = self._token_key(user, now)
        if self._storage.get(key) < self.token_calls_per_day:
            if self._storage.incr(key, _next_day(now) - now) <= self.token_calls_per_day:
                return
            self._storage.incr(key, _next_day(now) - now, amount=-1)  # lost the race for the last one: not made
        raise TokenBudgetSpent(_next_day(now), self.token_calls_per_day,
                               f"{self.token_calls_per_day} token calls of this Exact user made today")

    def count_token_call(self, user: str | None) -> None:
        """Count a token call already made (a login's code exchange: whose it is shows only afterwards)."""
        now = self._clock()
        self._storage.incr(self._token_key(user, now), _next_day(now) - now)

    def _token_key(self, user: str | None, now: float) -> str:
        day = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%d")
        return f"exact-token-calls/{self._client_id}/{user or 'unknown'}/{day}"

    # Errors, per Exact user, administration, endpoint and UTC hour

    def guard(self, user: str | None) -> "ErrorGuard":
        """What an Exact client of this Exact user asks before every call, and tells of every error."""
        return ErrorGuard(self, user)

    def blocks(self, user: str | None) -> list[Block]:
        """The endpoints our calls for the Exact user keep away from now, and until when."""
        if not hasattr(self._storage, "open_counts"):
            return []
        prefix = f"{self._error_prefix(user)}/"
        blocks = []
        for key, hits, _expires_at in self._storage.open_counts(prefix):
            division, _, rest = key.removeprefix(prefix).partition("/")
            endpoint, _, hour = rest.rpartition("/")
            if hits >= self.errors_per_hour and hour == _hour(self._clock()):
                blocks.append(Block(int(division) if division.isdigit() else None, endpoint, hits,
                                    _next_hour(self._clock())))
        return blocks

    def errors(self, user: str | None, division: int | None, endpoint: str) -> int:
        return self._storage.get(self._error_key(user, division, endpoint, self._clock()))

    def count_error(self, user: str | None, division: int | None, endpoint: str) -> int:
        now = self._clock()
        return self._storage.incr(self._error_key(user, division, endpoint, now), _next_hour(now) - now)

    def _error_prefix(self, user: str | None) -> str:
        return f"exact-errors/{self._client_id}/{user or 'unknown'}"

    def _error_key(self, user: str | None, division: int | None, endpoint: str, now: float) -> str:
        return f"{self._error_prefix(user)}/{'-' if division is None else division}/{endpoint}/{_hour(now)}"


class ErrorGuard:
    """exact.client.CallGuard for one Exact user: a call to an endpoint that erred `errors_per_hour` times this hour
    is not made (ErrorLimitReached, until the next hour); every error Exact counts is counted here too.

    `user` may be learnt after the first call (a login knows its Exact user only from current/Me on)."""

    def __init__(self, limits: ExactLimits, user: str | None):
        self._limits = limits
        self.user = user

    def before_call(self, division: int | None, endpoint: str) -> None:
        if self.user is None:
            return
        errors = self._limits.errors(self.user, division, endpoint)
        if errors >= self._limits.errors_per_hour:
            raise ErrorLimitReached(_next_hour(self._limits.now()), endpoint,
                                    f"{errors} errors on {endpoint} this hour; not asking Exact again before the next")

    def count_error(self, division: int | None, endpoint: str) -> None:
        if self.user is not None:
            self._limits.count_error(self.user, division, endpoint)

    def errors_left(self, division: int | None, endpoint: str) -> int | None:
        """How many more errors this hour before calls to the endpoint stop (None: not counted, user unknown); several
        calls to one endpoint go at once only within it, or Exact's block could be reached by calls already out."""
        if self.user is None:
            return None
        return max(0, self._limits.errors_per_hour - self._limits.errors(self.user, division, endpoint))


def _hour(now: float) -> str:
    return datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H")


def _next_hour(now: float) -> float:
    return (math.floor(now / HOUR) + 1) * HOUR


def _next_day(now: float) -> float:
    return (math.floor(now / DAY) + 1) * DAY
