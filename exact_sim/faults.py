"""Armed faults: the next N matching calls to /api/ answer with an error, a delay or a broken body."""
from dataclasses import asdict
from dataclasses import dataclass

from .settings import COUNTRIES

KINDS = ("500", "503", "429", "timeout", "malformed", "401")


@dataclass
class Fault:
    """A fault for `remaining` more calls whose endpoint (path after /api/v1/{division}/, /api/v1/ or /api/) matches."""

    endpoint: str
    kind: str
    remaining: int
    country: str | None = None
    reset_in: float | None = None

    def matches(self, cc: str, endpoint: str) -> bool:
        """Tell whether a call to `endpoint` on instance `cc` should get this fault."""
        return self.country in (None, cc) and self.endpoint in ("*", endpoint)


class FaultBook:
    """Faults in the order they were armed; callers hold the simulator lock."""

    def __init__(self):
        self.faults: list[Fault] = []

    def arm(self, spec: dict) -> Fault:
        """Add a fault from its JSON description, or raise ValueError."""
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        endpoint = spec.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint.strip("/"):
            raise ValueError("endpoint is required, e.g. system/Divisions, oauth2/token, current/Me or *")
        count = spec.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a positive integer")
        country = spec.get("country")
        if country is not None and country not in COUNTRIES:
            raise ValueError(f"country must be one of {', '.join(COUNTRIES)}")
        reset_in = spec.get("reset_in")
        if reset_in is not None and (isinstance(reset_in, bool) or not isinstance(reset_in, (int, float))):
            raise ValueError("reset_in must be a number of seconds")
        fault = Fault(endpoint.strip("/"), kind, count, country, reset_in)
        self.faults.append(fault)
        return fault

    def take(self, cc: str, endpoint: str) -> Fault | None:
        """Use up one call of the first matching fault and return it; None if no fault applies."""
        for fault in self.faults:
            if fault.matches(cc, endpoint):
                fault.remaining -= 1
                if not fault.remaining:
                    self.faults.remove(fault)
                return fault
        return None

    def describe(self) -> list[dict]:
        """The armed faults as JSON-ready dicts."""
        return [asdict(fault) for fault in self.faults]
