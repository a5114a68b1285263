"""Injectable clock (real time plus an offset) and the date formats Exact Online uses."""
import time
from datetime import datetime
from datetime import timezone

MINUTE = 60
DAY = 86400


class Clock:
    """Simulated time: the real clock shifted by an offset that tests can move."""

    def __init__(self):
        self.offset = 0.0

    def now(self) -> float:
        """Return simulated epoch seconds."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        """Move simulated time forward (or back, if negative) and return the new now."""
        self.offset += seconds
        return self.now()

    def set(self, epoch: float) -> float:
        """Jump simulated time to an absolute epoch and return the new now."""
        self.offset = epoch - time.time()
        return self.now()

    def reset(self) -> None:
        """Return to real time."""
        self.offset = 0.0


def epoch_ms(epoch: float) -> int:
    """Epoch seconds as whole milliseconds, the unit of rate-limit headers and OData dates."""
    return int(epoch * 1000)


def odata_date(epoch: float) -> str:
    """Format epoch seconds as OData v2 verbose JSON `/Date(ms)/`."""
    return f"/Date({epoch_ms(epoch)})/"


def next_minute(epoch: float) -> float:
    """Start of the next clock-aligned minute."""
    return (epoch // MINUTE + 1) * MINUTE


def next_utc_midnight(epoch: float) -> float:
    """Start of the next UTC day."""
    return (epoch // DAY + 1) * DAY


def us_datetime(epoch: float) -> str:
    """Format as Exact's token errors do: M/D/YYYY h:mm:ss AM/PM (UTC)."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    hour = moment.hour % 12 or 12
    meridiem = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment:%M:%S} {meridiem}"
