"""Exact's X-RateLimit-* headers: what is left of the minutely and daily call budgets."""
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .errors import RateLimited

_HEADERS = {
    "daily_limit": "X-RateLimit-Limit",
    "daily_remaining": "X-RateLimit-Remaining",
    "daily_reset": "X-RateLimit-Reset",
    "minutely_limit": "X-RateLimit-Minutely-Limit",
    "minutely_remaining": "X-RateLimit-Minutely-Remaining",
    "minutely_reset": "X-RateLimit-Minutely-Reset",
}


@dataclass(frozen=True)
class RateLimits:
    """The last known budgets for one division; resets are epoch seconds, None when never seen."""

    daily_limit: int | None = None
    daily_remaining: int | None = None
    daily_reset: float | None = None
    minutely_limit: int | None = None
    minutely_remaining: int | None = None
    minutely_reset: float | None = None

    def merged(self, headers: Mapping[str, str]) -> "RateLimits":
        """These budgets with one more answer's headers, whatever order answers arrive in: per scope the latest
        reset wins (a new window), and within one window the lowest remaining (calls overlap, so an answer read later
        may have been counted earlier)."""
        return self.combined(RateLimits().updated(headers))

    def combined(self, other: "RateLimits") -> "RateLimits":
        """What both know, per scope: the later window, and in the same window the fewest calls left."""
        values: dict = {}
        for scope in ("daily", "minutely"):
            values.update(_latest(scope, self, other))
        return RateLimits(**values)

    def calls_left(self, scope: str, now: float) -> int | None:
        """Calls left in the `scope` ("minutely", "daily") window that holds at `now`; None when not known."""
        remaining, reset = getattr(self, f"{scope}_remaining"), getattr(self, f"{scope}_reset")
        if remaining is None or reset is None or reset <= now:
            return None  # never seen, or that window is over
        return remaining

    def updated(self, headers: Mapping[str, str]) -> "RateLimits":
        """A copy with whatever headers the response carried (a 429 carries only one scope's)."""
        seen: dict[str, float | int] = {}
        for field, header in _HEADERS.items():
            raw = headers.get(header)
            if raw is None or not raw.strip().isdigit():
                continue  # headers are advice: a missing or garbled one must not fail the call
            # Exact sends resets as epoch milliseconds.
            seen[field] = int(raw) / 1000 if field.endswith("_reset") else int(raw)
        return replace(self, **seen)


def _latest(scope: str, known: RateLimits, seen: RateLimits) -> dict:
    """One scope's (limit, remaining, reset) from what was known and what was seen since."""
    names = [f"{scope}_limit", f"{scope}_remaining", f"{scope}_reset"]
    old = [getattr(known, name) for name in names]
    new = [getattr(seen, name) for name in names]
    overlaid = {name: value if value is not None else before for name, value, before in zip(names, new, old)}
    if old[2] is None or new[2] is None:
        return overlaid  # no window to compare: whatever was seen last, as the headers came
    if new[2] != old[2]:
        newest, other = (new, old) if new[2] > old[2] else (old, new)
        return {names[0]: newest[0] if newest[0] is not None else other[0], names[1]: newest[1], names[2]: newest[2]}
    if old[1] is not None and new[1] is not None:
        overlaid[names[1]] = min(old[1], new[1])  # one window: the lowest remaining was counted last
    return overlaid


def rate_limited(headers: Mapping[str, str], now: float, detail: str) -> RateLimited:
    """The RateLimited error a 429 with these headers stands for."""
    limits = RateLimits().updated(headers)
    if limits.daily_reset is not None and (limits.daily_remaining == 0 or limits.minutely_reset is None):
        return RateLimited(limits.daily_reset, "daily", detail)
    if limits.minutely_reset is not None:
        return RateLimited(limits.minutely_reset, "minutely", detail)
    # No headers to go by: Exact's minute windows are clock-aligned, so the next minute is the
    # earliest moment that can succeed; a wrong guess costs only one more 429 that does carry headers.
    return RateLimited(math.floor(now / 60 + 1) * 60, "minutely", detail)


DAY = 86400


def next_utc_midnight(now: float) -> float:
    """The next 00:00 UTC, when Exact's daily budgets start again (epoch seconds)."""
    return (math.floor(now / DAY) + 1) * DAY
