"""The simulator's whole state behind one lock, and how views reach it."""
import functools
import threading

from flask import current_app

from . import seed
from .budgets import Budgets
from .clock import Clock
from .faults import FaultBook
from .grants import GrantStore
from .latency import Flights
from .masterdata import ENTITIES
from .model import Instance
from .ratelimit import RateLimiter
from .settings import DEFAULTS


class Simulator:
    """Every country instance, grant, counter, fault and logged call; the server is threaded, so hold `lock`."""

    def __init__(self, startup_settings: dict):
        self.lock = threading.RLock()
        # Resets return to these, so a --redirect-uri given at start-up survives POST /_sim/reset.
        self.startup_settings = {**DEFAULTS, **startup_settings}
        self.clock = Clock()
        self.flights = Flights()  # not reset: calls in flight during a reset still land
        self.reset()

    def reset(self, overrides: dict | None = None) -> None:
        """Reseed everything, return to real time and start-up settings (plus `overrides`), clear faults and calls."""
        with self.lock:
            self.settings = {**self.startup_settings, **(overrides or {})}
            self.clock.reset()
            self.instances: dict[str, Instance] = seed.demo_instances()
            self.grants = GrantStore()
            self.limiter = RateLimiter()
            self.budgets = Budgets()
            self.faults = FaultBook()
            self.calls: list[dict] = []
            self.flights.clear_peak()
            self._rows: dict[tuple, list[dict]] = {}

    def now(self) -> float:
        """Simulated epoch seconds."""
        return self.clock.now()

    def rows(self, cc: str, code: int, entity: str) -> list[dict]:
        """A division's rows of a master data entity, generated on first use so big seeds stay cheap."""
        key = (cc, code, entity)
        if key not in self._rows:
            self._rows[key] = ENTITIES[entity].build(self.instances[cc].divisions[code])
        return self._rows[key]


def current_sim() -> Simulator:
    """The simulator of the app handling the current request."""
    return current_app.extensions["exact_sim"]


def locked(view):
    """Run a view while holding the simulator lock, so each request sees and leaves a consistent state."""

    @functools.wraps(view)
    def locked_view(*args, **kwargs):
        with current_sim().lock:
            return view(*args, **kwargs)

    return locked_view
