"""Reading Exact's OData v2 JSON envelopes."""
import re
from datetime import datetime, timezone
from typing import Any

from .errors import ExactUnavailable

_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def rows(payload: Any) -> list[dict]:
    """The entities of a collection, whether Exact wrapped them as {"d":{"results":[…]}} or {"d":[…]}."""
    d = _d(payload)
    found = d.get("results") if isinstance(d, dict) else d
    if not isinstance(found, list) or not all(isinstance(row, dict) for row in found):
        raise ExactUnavailable("response is not an OData collection")
    return found


def single(payload: Any) -> dict:
    """The one entity of {"d":{…}}, or the first row when Exact sends it as a collection."""
    d = _d(payload)
    if isinstance(d, dict) and "results" not in d:
        return d
    found = rows(payload)
    if not found:
        raise ExactUnavailable("expected one entity, got an empty collection")
    return found[0]


def next_link(payload: Any) -> str | None:
    """The __next URL of a collection page, if there are more pages."""
    d = _d(payload)
    link = d.get("__next") if isinstance(d, dict) else None
    return link or None


def error_message(payload: Any) -> str:
    """Exact's error.message.value, or "" when the body isn't an error envelope."""
    try:
        return str(payload["error"]["message"]["value"])
    except (KeyError, TypeError):
        return ""


def parse_date(value: str | None) -> datetime | None:
    """Turn Exact's "/Date(1641034800000)/" into an aware UTC datetime."""
    if value is None:
        return None
    match = _DATE.match(value)
    if not match:
        raise ValueError(f"not an OData date: {value!r}")
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc)


def _d(payload: Any) -> Any:
    if not isinstance(payload, dict) or "d" not in payload:
        raise ExactUnavailable("response has no OData 'd' envelope")
    return payload["d"]
