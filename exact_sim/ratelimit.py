"""Exact's per-app, per-division rate limits: a clock-aligned minute window and a UTC-day window (§3)."""
from dataclasses import dataclass

from .clock import DAY
from .clock import MINUTE
from .clock import epoch_ms
from .clock import next_minute
from .clock import next_utc_midnight


@dataclass
class Decision:
    """The outcome of one call: which window refused it (None = allowed) and the headers to send."""

    limited_by: str | None
    headers: dict[str, str]


class RateLimiter:
    """Call counters keyed by (country, client_id, division); callers hold the simulator lock."""

    def __init__(self):
        self._minutes: dict[tuple, tuple[float, int]] = {}
        self._days: dict[tuple, tuple[float, int]] = {}

    def hit(self, key: tuple, settings: dict, now: float) -> Decision:
        """Count a call unless a window is exhausted; a refused call sends only the refusing window's headers."""
        minute_start, day_start = now // MINUTE * MINUTE, now // DAY * DAY
        minute = _current(self._minutes, key, minute_start)
        day = _current(self._days, key, day_start)
        if day >= settings["daily_limit"]:
            limited_by = "daily"
        elif minute >= settings["minutely_limit"]:
            limited_by = "minutely"
        else:
            limited_by = None
        if limited_by is None or settings["count_429"]:
            minute += 1
            day += 1
            self._minutes[key] = (minute_start, minute)
            self._days[key] = (day_start, day)
        daily = daily_headers(settings["daily_limit"], settings["daily_limit"] - day, now)
        minutely = minutely_headers(settings["minutely_limit"], settings["minutely_limit"] - minute, next_minute(now))
        headers = {"daily": daily, "minutely": minutely}.get(limited_by, {**daily, **minutely})
        return Decision(limited_by, headers)


def daily_headers(limit: int, remaining: int, now: float) -> dict[str, str]:
    """The three daily headers; the reset is the next 00:00 UTC in epoch milliseconds."""
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(epoch_ms(next_utc_midnight(now)))}


def minutely_headers(limit: int, remaining: int, reset_at: float) -> dict[str, str]:
    """The three minutely headers; the reset is given in epoch milliseconds."""
    return {"X-RateLimit-Minutely-Limit": str(limit), "X-RateLimit-Minutely-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Minutely-Reset": str(epoch_ms(reset_at))}


def _current(windows: dict, key: tuple, window_start: float) -> int:
    """The count of a key's window, or 0 once that window has been left behind."""
    start, count = windows.get(key, (window_start, 0))
    return count if start == window_start else 0
