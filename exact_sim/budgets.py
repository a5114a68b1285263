"""Exact's limits on an app's user: token calls per UTC day, and the error block (§3; §8.3 step 6, §8.4 step 5).

- **Token calls**: at most `token_calls_per_day` token-endpoint calls (code exchanges and refreshes) per app and user
  per UTC day; each call whose user is known counts, whatever its answer. Past that the token endpoint refuses.
- **Error block**: more than `error_limit` answers 400/401/403/404 per app, user, division and endpoint in one clock
  hour (UTC) block that key for `error_block_seconds`: its calls get the block's answer and reach nothing else.

Callers hold the simulator lock; times are the simulated clock's.
"""
from .clock import DAY
from .clock import next_utc_midnight

HOUR = 3600
COUNTED_ERRORS = frozenset({400, 401, 403, 404})


class Budgets:
    """Token calls by (client_id, user, day); errors by (cc, client_id, user, division, endpoint, hour); blocks."""

    def __init__(self):
        self._token_calls: dict[tuple, int] = {}
        self._errors: dict[tuple, int] = {}
        self._blocked: dict[tuple, float] = {}

    def token_call(self, client_id: str, username: str, settings: dict, now: float) -> bool:
        """Count a token call of the user; False when the day's calls were already used up (the call is refused)."""
        limit = settings["token_calls_per_day"]
        key = (client_id, username.lower(), int(now // DAY))
        used = self._token_calls.get(key, 0)
        self._token_calls[key] = used + 1
        return not limit or used < limit

    def token_calls_today(self, now: float) -> dict[str, int]:
        """Token calls per user today (for /_sim/state)."""
        day = int(now // DAY)
        return {user: calls for (_client, user, key_day), calls in self._token_calls.items() if key_day == day}

    def blocked_until(self, key: tuple, now: float) -> float | None:
        """When the block of an error key lifts, if it is blocked now."""
        until = self._blocked.get(key)
        return until if until is not None and now < until else None

    def count_error(self, key: tuple, settings: dict, now: float) -> None:
        """Count an error answer; past the limit in this clock hour, block the key."""
        limit = settings["error_limit"]
        if not limit:
            return
        hour_key = (*key, int(now // HOUR))
        self._errors[hour_key] = self._errors.get(hour_key, 0) + 1
        if self._errors[hour_key] > limit:
            self._blocked[key] = now + settings["error_block_seconds"]

    def describe(self, now: float) -> dict:
        """The counts and blocks that hold now (for /_sim/state)."""
        hour = int(now // HOUR)
        return {
            "token_calls_today": self.token_calls_today(now),
            "token_calls_reset_at": next_utc_midnight(now),
            "errors_this_hour": [{"country": key[0], "user": key[2], "division": key[3], "endpoint": key[4],
                                  "errors": count} for key, count in self._errors.items() if key[5] == hour],
            "blocked": [{"country": key[0], "user": key[2], "division": key[3], "endpoint": key[4], "until": until}
                        for key, until in self._blocked.items() if now < until],
        }
