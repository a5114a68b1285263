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
