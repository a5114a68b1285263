"""How often one may try: login starts per OutSmart account, failed entries (/embed) per client address.

The `limits` library counts (its fixed-window strategy: a window opens at the first hit and lasts the limit's period);
the counts live in the app's database (limit_store.DatabaseStorage, `RATELIMIT_STORAGE_URI = "database://"`), so all
gunicorn workers and machines count together. The limits are configuration, in the library's notation:
`LOGIN_START_LIMIT` ("10 per 10 minutes") and `FAILED_ENTRY_LIMIT` ("5 per minute; 30 per hour").

A hit is counted where the thing happens, in one statement, and its answer is the count after it: a start that is
about to be created, an entry that has just failed. So parallel requests cannot all slip past a check made before
the count, and a form error or a successful entry costs nothing.
"""
import logging
import math
import time

from flask import current_app
from flask import request
from flask_babel import ngettext
from limits import RateLimitItem
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

import limit_store  # noqa: F401  (registers the database:// storage with `limits`)

log = logging.getLogger(__name__)


class Throttle:
    """The app's limits, parsed once (a mistyped limit stops the app at start-up), and the strategy that counts."""

    def __init__(self, storage_uri: str, login_starts: str, failed_entries: str):
        self.limiter = FixedWindowRateLimiter(storage_from_string(storage_uri))
        self.login_starts = parse_many(login_starts)
        self.failed_entries = parse_many(failed_entries)


def register(app) -> None:
    config = app.config
    app.extensions["throttle"] = Throttle(config["RATELIMIT_STORAGE_URI"], config["LOGIN_START_LIMIT"],
                                          config["FAILED_ENTRY_LIMIT"])


def count_login_start(account: str) -> int | None:
    """Count a login start of the account; None if it may start, else the seconds until it may start again."""
    wait = _hit(_throttle().login_starts, "login-start", account)
    if wait:
        log.warning("Login start refused: account %r started too many logins; next start in %d s", account, wait)
    return wait


def entry_wait() -> int | None:
    """Seconds this address must wait before an entry from it is looked at again; None if it may try now."""
    throttle = _throttle()
    identifiers = ("failed-entry", client_address())
    spent = [item for item in throttle.failed_entries if not throttle.limiter.test(item, *identifiers)]
    return _wait(spent, identifiers) if spent else None


def count_failed_entry() -> int | None:
    """Count a failed entry from this address; None if it stays within the limits, else the seconds to wait."""
    address = client_address()
    wait = _hit(_throttle().failed_entries, "failed-entry", address)
    if wait:
        log.warning("Entries refused: too many failed entries from %s; next try in %d s", address, wait)
    return wait


def client_address() -> str:
    """The address the request came from (behind a proxy: what Werkzeug's ProxyFix made of X-Forwarded-For)."""
    return request.remote_addr or "unknown"


def retry_after(response, seconds: int):
    """Tell browsers and clients when to try again (RFC 9110 §10.2.3)."""
    response.headers["Retry-After"] = str(seconds)
    return response


def login_start_refusal(seconds: int) -> str:
    """Why no login was started, and when to try again, in whole minutes."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "U heeft in korte tijd te vaak geprobeerd in te loggen bij Exact Online; er is nu geen nieuwe inlogpoging "
        "gestart. Probeer het over %(num)d minuut opnieuw.",
        "U heeft in korte tijd te vaak geprobeerd in te loggen bij Exact Online; er is nu geen nieuwe inlogpoging "
        "gestart. Probeer het over %(num)d minuten opnieuw.", minutes)


def entry_refusal(seconds: int) -> str:
    """Why the page did not open, and when it may be opened again: seconds for a short wait, else minutes."""
    if seconds <= 90:
        return ngettext(
            "Deze pagina is vanaf uw netwerk te vaak geopend met een verlopen of ongeldige link. Wacht %(num)d "
            "seconde en open de pagina dan opnieuw vanuit OutSmart.",
            "Deze pagina is vanaf uw netwerk te vaak geopend met een verlopen of ongeldige link. Wacht %(num)d "
            "seconden en open de pagina dan opnieuw vanuit OutSmart.", seconds)
    return ngettext(
        "Deze pagina is vanaf uw netwerk te vaak geopend met een verlopen of ongeldige link. Wacht %(num)d minuut "
        "en open de pagina dan opnieuw vanuit OutSmart.",
        "Deze pagina is vanaf uw netwerk te vaak geopend met een verlopen of ongeldige link. Wacht %(num)d minuten "
        "en open de pagina dan opnieuw vanuit OutSmart.", math.ceil(seconds / 60))


def _throttle() -> Throttle:
    return current_app.extensions["throttle"]


def _hit(items: list[RateLimitItem], *identifiers: str) -> int | None:
    """Count one hit on every limit (each one statement); the wait if any of them is now over."""
    limiter = _throttle().limiter
    over = [item for item in items if not limiter.hit(item, *identifiers)]  # every limit counts the hit
    return _wait(over, identifiers) if over else None


def _wait(items: list[RateLimitItem], identifiers: tuple[str, ...]) -> int:
    """Whole seconds until every one of these spent limits has a new window (at least 1)."""
    limiter = _throttle().limiter
    resets = [limiter.get_window_stats(item, *identifiers).reset_time for item in items]
    return max(1, math.ceil(max(resets) - time.time()))
