"""What OutSmart's synchronisation workers report Exact answered them (a 401 or a 403), read strictly and checked at
Exact by the app itself before anything changes: a report alone never changes a connection.

The check:
- `current/Me` with the connection's own token (refreshed through the token store first when it is due). When Exact
  accepts it, the grant works: the worker's token was old, or revoked in flight. Nothing changes.
- When Exact refuses our own token too, the client renews it through the token store (under the row lock) and asks
  once more: a new token that works means the grant works (the worker fetches it from the token API); the token
  endpoint saying the grant is dead expires the connection (the store's connections.mark_expired: the state, the
  history event, OutSmart's webhook). Within Exact's 570 s after the last token, or while Exact may not be asked
  (too early, the day's token calls spent, too many errors this hour), nothing can be concluded: the answer says
  when to report again, and nothing changes.
- A 403, and any refusal our own check gets besides a 401, goes to `forbidden()`: the one place where Exact's 403
  reasons are handled. A reason that needs attention (an inactive or blocked user, a blocked customer, an expired
  licence, a missing app scope) is confirmed by the app's own calls (current/Me, the locked administration, the
  reported collection) before the connection enters that state (connections.needs_attention).
"""
import json
import re
from dataclasses import dataclass

import connections
from exact.errors import ATTENTION_REASONS
from exact.errors import SCOPE_VIOLATED
from exact.errors import AccessTokenRefused
from exact.errors import AttentionNeeded
from exact.errors import DivisionBlocked
from exact.errors import ErrorLimitReached
from exact.errors import ExactError
from exact.errors import ExactRequestError
from exact.errors import NoDivisionAccess
from exact.errors import ReauthorizationRequired
from exact.errors import TokenBudgetSpent
from exact.errors import TooEarlyToRefresh
from forms.connection_test import NOT_PROBED
from models import Connection
from views.exact_clients import client_for

# What the checks can conclude.
WORKING = "working"  # Exact accepts the connection's token: nothing changed
REFRESHED = "refreshed"  # Exact refused the token but the grant works: the token was renewed
EXPIRED = "expired"  # the token endpoint says the grant is dead: the connection is expired
CHECK_LATER = "check_later"  # Exact may not be asked what would tell (yet): nothing changed
NEEDS_ATTENTION = "needs_attention"  # our own calls are refused for a reason someone must put right: that state

STATUSES = (401, 403)
FIELDS = ("status", "endpoint", "reason", "message")
MAX_ENDPOINT, MAX_REASON, MAX_MESSAGE = 300, 300, 500
# The address a call went to at Exact, after /api/v1/: e.g. current/Me, 123456/crm/Accounts,
# 123456/crm/Accounts(guid'…'), 123456/crm/Accounts/$count; no host, no query string.
ENDPOINT = re.compile(r"(?:/?api/v1/)?(?:(?P<division>[0-9]{1,9})/)?"
                      r"(?P<resource>[A-Za-z][A-Za-z0-9_]*(?:/[A-Za-z0-9_$]+(?:\([A-Za-z0-9_'=,:.-]*\))?)+)/?")
# A collection that can be counted to see whether Exact refuses it again (a missing app scope): module/Collection.
COLLECTION = re.compile(r"[A-Za-z]+/[A-Za-z]+")


class Unreadable(ValueError):
    """The body is not a JSON document (400); the text says so in words."""


class InvalidReport(ValueError):
    """The body is JSON, but not a report (422); the text names each field that is wrong and how."""


@dataclass(frozen=True)
class Report:
    """What Exact answered a worker: the status, its Reason header, its error message, where the call went."""

    status: int
    endpoint: str
    division: int | None  # the administration in the endpoint's address, if it names one
    reason: str | None = None
    message: str | None = None
    resource: str = ""  # the endpoint after the administration, e.g. crm/Accounts

    @property
    def points_at_attention(self) -> bool:
        """Whether what Exact answered the worker names a reason that needs attention (to be confirmed)."""
        reason = (self.reason or "").split(":")[0].strip()
        return reason in ATTENTION_REASONS or SCOPE_VIOLATED in (self.message or "").lower()


@dataclass(frozen=True)
class Checked:
    """What the app's own check concluded, and the connection's state after it."""

    outcome: str
    state: str
    retry_at: float | None = None  # CHECK_LATER: when Exact may be asked again (epoch seconds)
    reason: str | None = None  # NEEDS_ATTENTION: the exact.errors key of Exact's refusal; CHECK_LATER: why the wait


def read(content_is_json: bool, body: bytes) -> Report:
    """The report in a request body; Unreadable or InvalidReport, in words, when it is none."""
    if not content_is_json:
        raise Unreadable("Send the report as a JSON object, with the header Content-Type: application/json; "
                         "nothing was changed.")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise Unreadable("The body is not valid JSON (UTF-8); send the report as a JSON object. Nothing was "
                         "changed.") from None
    if not isinstance(document, dict):
        raise InvalidReport("The report must be a JSON object with the fields status, endpoint, reason and message; "
                            "nothing was changed.")
    wrong = []
    if set(document) - set(FIELDS):
        wrong.append("The report takes only the fields status, endpoint, reason and message: leave out the others.")
    status, endpoint = document.get("status"), document.get("endpoint")
    reason, message = document.get("reason"), document.get("message")
    if type(status) is not int or status not in STATUSES:
        wrong.append("status must be the HTTP status Exact Online answered, as a number: 401 or 403 (other answers "
                     "need no report).")
    matched = ENDPOINT.fullmatch(endpoint) if isinstance(endpoint, str) and len(endpoint) <= MAX_ENDPOINT else None
    if matched is None:
        wrong.append(f"endpoint must be the address your call went to at Exact Online, after /api/v1/, without host "
                     f"or query string, e.g. 123456/crm/Accounts or current/Me (at most {MAX_ENDPOINT} characters).")
    if reason is not None and not (isinstance(reason, str) and len(reason) <= MAX_REASON
                                   and all(" " <= character <= "~" for character in reason)):
        wrong.append(f"reason must be Exact Online's Reason header as it came (printable ASCII, at most {MAX_REASON} "
                     "characters), or null when it sent none.")
    if message is not None and not (isinstance(message, str) and len(message) <= MAX_MESSAGE
                                    and message.isprintable()):
        wrong.append(f"message must be Exact Online's error message as it came (no control characters, at most "
                     f"{MAX_MESSAGE} characters), or null.")
    if wrong:
        raise InvalidReport(" ".join(wrong) + " Nothing was changed.")
    division = matched["division"]
    return Report(status, endpoint, int(division) if division else None, reason, message, matched["resource"])


# Why Exact may not be asked now: each says until when (retry_at).
WAITS = (AccessTokenRefused, TooEarlyToRefresh, TokenBudgetSpent, ErrorLimitReached)


def check(connection: Connection, report: Report) -> Checked:
    """Check at Exact what the worker reported about this saved connection, and act only on what the check finds.

    Exact failing during the check (rate limit, unavailable) raises its ExactError: nothing changed.
    """
    try:
        return _check(connection, report)
    except ReauthorizationRequired:
        # The token endpoint said the grant is dead: the store expired the connection (connections.mark_expired).
        # Or it was no longer logged in when the store locked it: the same for the worker.
        return Checked(EXPIRED, _state(connection))
    except WAITS as wait:
        return Checked(CHECK_LATER, _state(connection), wait.retry_at, type(wait).__name__)


def _check(connection: Connection, report: Report) -> Checked:
    before = connection.access_token
    try:
        with client_for(connection) as client:
            client.me()
    except (AttentionNeeded, ExactRequestError) as seen:  # Exact refused our own check, not for the token
        return forbidden(connection, report, seen)
    checked = Checked(REFRESHED if client.token.access_token != before else WORKING, _state(connection))
    if report.status == 403:
        return forbidden(connection, report, None) or checked
    return checked


def forbidden(connection: Connection, report: Report, seen: ExactError | None) -> Checked | None:
    """THE place where Exact's 403 reasons are handled.

    `report` is what the worker saw: status, Reason header (e.g. NoDivisionAccess, DivisionBlocked, InactiveUser,
    BlockedUser, BlockedCustomer, LicenseExpired), Exact's message (e.g. "Forbidden - Application Scope Violated"),
    the endpoint and its administration. `seen` is what our own current/Me got: None when Exact accepted it, else
    Exact's refusal of our check too.

    A refusal that needs attention, seen by the app's own calls, puts the connection in that state
    (connections.needs_attention: its history event and OutSmart's webhook). When the worker names such a reason but
    current/Me works (a licence, a customer, a scope concern the administration or the endpoint), the app first asks
    the locked administration and the reported collection itself. Anything else a 403 can mean (no access to an
    administration, one blocked for maintenance, a missing right) concerns the worker's request: nothing changes.
    Returns what to answer instead of the grant check's outcome, or None to answer that.
    """
    if seen is None and report.points_at_attention:
        seen = _refusal_in_the_administration(connection, report)
    if isinstance(seen, AttentionNeeded):
        connections.needs_attention(connection, seen)
        return Checked(NEEDS_ATTENTION, _state(connection), reason=seen.key)
    if seen is not None:
        raise seen
    return None


def _refusal_in_the_administration(connection: Connection, report: Report) -> AttentionNeeded | None:
    """Ask what "Verbinding testen" asks: the locked administration, and the reported collection (counted)."""
    division = connection.division
    try:
        with client_for(connection) as client:
            client.list(division, "system/Divisions", select=["Code"], filter=f"Code eq {division}")
            if COLLECTION.fullmatch(report.resource) and report.resource not in NOT_PROBED:
                client.count(division, report.resource)
    except AttentionNeeded as refused:
        return refused
    except (NoDivisionAccess, DivisionBlocked, ExactRequestError):
        return None  # a refusal of that request (access, maintenance, rights, an unknown endpoint): no state
    return None


# What a worker should do after its report was checked, by outcome and the status it reported.
_FETCH = "Fetch a token again (POST /api/v1/accounts/{account}/access-token) and retry the call."
_ADVICE = {
    (WORKING, 401): "Exact Online accepts the connection's own token: the token you used was out of date or revoked "
                    "in flight. Nothing was changed. " + _FETCH,
    (REFRESHED, 401): "The connection's token was renewed and Exact Online accepts the new one: the grant works. "
                      + _FETCH,
    (WORKING, 403): "Exact Online accepts the connection: the refusal concerns the request you made (its endpoint, "
                    "administration or the user's rights). Nothing was changed.",
    (REFRESHED, 403): "Exact Online accepts the connection (its token was renewed): the refusal concerns the request "
                      "you made (its endpoint, administration or the user's rights).",
    **{(EXPIRED, status): "Exact Online no longer accepts this connection: it is marked expired and the admin must "
                          "reconnect it in the Exact Online settings. Stop synchronising this account."
       for status in STATUSES},
}


# Why a report cannot be checked yet, for the worker's developer.
_WAIT_WORDS = {
    "AccessTokenRefused": "Exact Online refuses the connection's own token as well, and gives no new one before "
                          "reset_at, so whether the connection still works cannot be told yet",
    "TooEarlyToRefresh": "Exact Online gives the connection no new token before reset_at (it answered that the last "
                         "one is too recent), so the report cannot be checked yet",
    "TokenBudgetSpent": "The Exact user's token calls for today are used up (a new token from 00:00 UTC), so the "
                        "report cannot be checked yet",
    "ErrorLimitReached": "The app's calls to Exact Online failed so often this hour that it asks nothing more before "
                         "reset_at (Exact would block it), so the report cannot be checked yet",
}


def advice(checked: Checked, report: Report) -> str:
    """What the check found and what the worker should do, in a sentence or two (English)."""
    if checked.outcome == CHECK_LATER:
        why = _WAIT_WORDS.get(checked.reason, "Exact Online may not be asked now")
        return f"{why}; nothing was changed. Report it again after Retry-After if it persists."
    if checked.outcome == NEEDS_ATTENTION:
        return (f"Exact Online refuses this connection ({checked.reason.partition(':')[0]}), as the app's own check "
                "confirmed: it needs attention, and no token is handed out until it is put right. Stop synchronising "
                "this account.")
    return _ADVICE.get((checked.outcome, report.status), f"The report was checked at Exact Online: {checked.outcome}.")


def _state(connection: Connection) -> str:
    stored = Connection.by_id(connection.id)
    return stored.status if stored else Connection.NOT_CONNECTED
