"""How slowly the simulator answers (latency_ms), and how many calls it had in flight at once.

Exact answers in hundreds of milliseconds; the simulator waits as long before answering an /api/ call, so the app's
loading states and its concurrent calls can be seen. Each call waits on its own thread, outside the simulator's lock:
ten callers at once wait one latency, not ten. Every call that waited notes the most calls that were waiting at the same
time during its wait, its own included, so a test can see calls overlap (and waits not serialised) without timing.
"""
import itertools
import threading

# latency_ms: a number of milliseconds for every /api/ call, or {endpoint: ms} with "*" for every other endpoint.
ANY = "*"


def latency_seconds(setting, kind: str, endpoint: str) -> float:
    """How long a call to `endpoint` (as traffic.describe names it, e.g. financial/Journals, crm/Accounts/$count,
    oauth2/token) waits before it is answered. A number and "*" apply to the API (kind token and rest); Exact's login
    pages (kind auth) wait only where named."""
    if isinstance(setting, dict):
        for name in (endpoint, endpoint.removesuffix("/$count")):
            if name in setting:
                return setting[name] / 1000
        setting = setting.get(ANY, 0)
    return setting / 1000 if kind in ("token", "rest") else 0.0


def validate(setting) -> None:
    """Raise ValueError unless the setting is a number ≥ 0 or a {endpoint: number ≥ 0} object."""
    values = setting.values() if isinstance(setting, dict) else [setting]
    if isinstance(setting, dict) and not all(isinstance(name, str) and name for name in setting):
        raise ValueError("latency_ms per endpoint must name each endpoint, e.g. {\"financial/Journals\": 300}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value > 600_000:
            raise ValueError("latency_ms must be milliseconds from 0 to 600000, or {endpoint: milliseconds}")


class Flights:
    """The /api/ calls waiting out their latency now. Thread-safe on its own, never held while a call waits."""

    def __init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._open: dict[int, int] = {}  # call -> the most calls in flight during it, itself included
        self.peak = 0

    def start(self) -> int:
        with self._lock:
            flight = next(self._ids)
            self._open[flight] = 0
            now = len(self._open)
            for other in self._open:
                self._open[other] = max(self._open[other], now)
            self.peak = max(self.peak, now)
            return flight

    def end(self, flight: int) -> int:
        """The wait is over: the most calls that waited at once during it, this one included."""
        with self._lock:
            return self._open.pop(flight, 1)

    def clear_peak(self) -> None:
        with self._lock:
            self.peak = len(self._open)
