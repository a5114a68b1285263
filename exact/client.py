"""Exact Online REST calls with token refresh, paging and rate-limit handling."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests

from . import odata
from .concurrent import Intent, Outcome, Plan, Request, drive, first_error_or_values, run_together
from .errors import (ATTENTION_REASONS, SCOPE_VIOLATED, AccessTokenRefused, ApplicationScopeViolated,
                     DivisionBlocked, ExactRequestError, ExactUnavailable, NoDivisionAccess, RateLimited,
                     TooEarlyToRefresh, http_detail)
from .ratelimits import RateLimits, rate_limited
from .tokens import MIN_SECONDS_BETWEEN_TOKENS, Token

# After a minutely 429, wait this much past the announced reset so our clock can't be early.
RESET_WAIT_MARGIN = 1.0
# The answers Exact counts towards its error block: more than 10 per app, user, division, endpoint and hour (§3).
COUNTED_ERRORS = frozenset({400, 401, 403, 404})


class Refresh(Protocol):
    """Gets a new token pair. `refused`: Exact answered 401 to `token`, so a store must renew it even though it is not
    due by our clock (unless another caller already replaced it). ExactOAuth.refresh is one."""

    def __call__(self, token: Token, refused: bool = False) -> Token: ...


class CallGuard(Protocol):
    """Keeps our calls under Exact's error block: may refuse a call before it is made (raising ErrorLimitReached), and
    hears of every answer Exact counts as an error. `division` is None for calls without one (current/Me)."""

    def before_call(self, division: int | None, endpoint: str) -> None: ...

    def count_error(self, division: int | None, endpoint: str) -> None: ...


class Observe(Protocol):
    """Hears of every call made to Exact: its method, URL and the status Exact answered (None: no answer at all, a
    timeout or a refused connection). The app counts them for its metrics; nothing here knows of that."""

    def __call__(self, method: str, url: str, status: int | None) -> None: ...


class ExactClient:
    """One user's connection to one Exact country instance; not for sharing between threads.

    Each call is a plan (exact/concurrent.py): `me()`, `list()`, `count()` and `has_right()` run one on this thread;
    `lists()`, `counts()`, `has_rights()` and `together()` run a step's independent calls at once, their HTTP requests
    in a few pool threads and everything else (the guard, refreshes, the budgets) on this thread.
    """

    def __init__(self, base_url: str, token: Token, *, refresh: Refresh,
                 on_token: Callable[[Token], None], clock: Callable[[], float] = time.time,
                 timeout: float = 10, wait_for_minutely_reset_up_to: float = 0,
                 sleep: Callable[[float], None] = time.sleep, guard: CallGuard | None = None,
                 known_limits: RateLimits | None = None, observe: Observe | None = None):
        self._api_root = f"{base_url.rstrip('/')}/api/v1/"
        self.token = token
        self._refresh = refresh  # e.g. ExactOAuth.refresh, or a store that refreshes once for all its callers
        self.guard = guard  # e.g. counts of our errors per endpoint and hour, kept where every process sees them
        self._on_token = on_token
        self._clock = clock
        self._timeout = timeout
        self._max_wait = wait_for_minutely_reset_up_to
        self._sleep = sleep
        self._heard = observe  # hears of every answer (the app counts them), or of none when Exact gave none
        self._no_refresh_before = 0.0
        self._http = requests.Session()
        self.rate_limits = RateLimits()  # what this client's answers said, read in any order (RateLimits.merged)
        self.known_limits = known_limits or RateLimits()  # what earlier clients were told, e.g. kept on the row

    def me(self) -> dict:
        """The signed-in user (current/Me), including CurrentDivision."""
        return self._run(self.plan_me())

    def divisions(self, division: int) -> list[dict]:
        """Every division the user can reach and granted in consent (system/Divisions, all pages)."""
        return self.list(division, "system/Divisions")

    def has_right(self, division: int, endpoint: str, action: str) -> bool:
        """Whether the user may perform `action` (GET/POST/PUT/DELETE) on `endpoint` in `division`."""
        return self._run(self.plan_has_right(division, endpoint, action))

    def list(self, division: int, resource: str, select: Sequence[str] | None = None,
             filter: str | None = None) -> list[dict]:
        """All rows of `resource`, following __next page by page (parallel paging skips rows)."""
        return self._run(self.plan_list(division, resource, select, filter))

    def count(self, division: int, resource: str) -> int:
        """The number of rows in `resource`, via $count."""
        return self._run(self.plan_count(division, resource))

    # A step's independent calls at once: values in the order asked, or the first error in that order.

    def lists(self, division: int, wanted: Sequence[tuple[str, str | None]]) -> list[list[dict]]:
        """Several collections at once, each (resource, $filter) with all its pages."""
        return first_error_or_values(self.together(
            [self.plan_list(division, resource, filter=filter) for resource, filter in wanted]))

    def counts(self, division: int, resources: Sequence[str]) -> list[int]:
        """Several $counts at once."""
        return first_error_or_values(self.together([self.plan_count(division, resource) for resource in resources]))

    def has_rights(self, division: int, rights: Sequence[tuple[str, str]]) -> list[bool]:
        """Several rights (endpoint, action) at once."""
        return first_error_or_values(self.together(
            [self.plan_has_right(division, endpoint, action) for endpoint, action in rights]))

    def together(self, plans: Sequence[Plan]) -> list[Outcome]:
        """Run plans (plan_me, plan_list, …) at once where Exact's limits allow it, else one after another."""
        return run_together(plans, self._get, self._observe, self._may_overlap)

    # Plans: one call each, as generators for exact/concurrent.py

    def plan_me(self) -> Plan:
        return odata.single((yield from self._json_plan(self._url("current/Me"), division=None)))

    def plan_has_right(self, division: int, endpoint: str, action: str) -> Plan:
        query = {"endpoint": f"'{endpoint}'", "action": f"'{action}'"}
        entity = odata.single((yield from self._json_plan(self._url(f"{division}/users/UserHasRights", query),
                                                          division)))
        allowed = entity.get("UserHasRights")
        if not isinstance(allowed, bool):
            raise ExactUnavailable("UserHasRights answer without a true/false value")
        return allowed

    def plan_list(self, division: int, resource: str, select: Sequence[str] | None = None,
                  filter: str | None = None) -> Plan:
        query = {}
        if select:
            query["$select"] = ",".join(select)
        if filter:
            query["$filter"] = filter
        url: str | None = self._url(f"{division}/{resource}", query)
        found: list[dict] = []
        while url:
            payload = yield from self._json_plan(url, division)
            found.extend(odata.rows(payload))
            url = self._next_url(url, odata.next_link(payload))
        return found

    def plan_count(self, division: int, resource: str) -> Plan:
        # Exact answers $count in plain text and wants no Accept header for it; None drops requests' default.
        response = yield from self._send_plan(self._url(f"{division}/{resource}/$count"), division, accept=None)
        try:
            return int(response.text.strip())
        except ValueError:
            raise ExactUnavailable(f"GET {urlsplit(response.url).path}: $count is not a number") from None

    def __repr__(self) -> str:
        return f"ExactClient({self._api_root!r}, {self.token!r})"

    def _url(self, path: str, query: dict[str, str] | None = None) -> str:
        # Keep OData's $ and quotes readable; spaces become %20 as Exact's examples show.
        if not query:
            return f"{self._api_root}{path}"
        return self._api_root + path + "?" + urlencode(query, quote_via=quote, safe="$',/")

    def _next_url(self, current: str, link: str | None) -> str | None:
        if not link:
            return None
        url = urljoin(current, link)  # Exact has been seen sending relative __next links too
        if not url.startswith(self._api_root):
            # The bearer token goes wherever __next points; never let that be another host.
            raise ExactUnavailable(f"__next points outside {self._api_root}")
        return url

    def _run(self, plan: Plan) -> Any:
        return drive(plan, self._get, self._observe)

    def _json_plan(self, url: str, division: int | None) -> Plan:
        response = yield from self._send_plan(url, division, accept="application/json")
        try:
            return response.json()
        except ValueError:
            raise ExactUnavailable(f"GET {urlsplit(url).path}: body is not JSON") from None

    def _send_plan(self, url: str, division: int | None, accept: str | None) -> Plan:
        """One GET with its rules: the guard first, a refresh when due, a 401 renewed once, a near minutely reset
        waited out once. Yields the intent, then the request; gets the response (noted by _observe already)."""
        endpoint = self._endpoint(url)
        waited = renewed = False
        while True:
            yield Intent(division, endpoint)
            if self.guard is not None:
                self.guard.before_call(division, endpoint)
            self._refresh_if_due()
            sent = Request(url, accept, self.token, division, endpoint)
            response = yield sent
            if response.status_code == 401:
                # Refused, though valid by our clock: expired early by Exact's, or revoked in flight. The grant may live:
                # renew the token once and try again; only the token endpoint can say the grant is dead.
                if renewed:
                    raise AccessTokenRefused(self.token.issued_at + MIN_SECONDS_BETWEEN_TOKENS, _detail(response))
                if sent.token.access_token == self.token.access_token:  # else a call beside it renewed it already
                    self._renew_refused(_detail(response))
                renewed = True
                continue
            if response.status_code != 429:
                self._raise_for_status(response, division)
                return response
            limited = rate_limited(response.headers, self._clock(), _detail(response))
            if waited or not self._worth_waiting(limited):
                raise limited
            self._sleep(max(0.0, limited.reset_at - self._clock()) + RESET_WAIT_MARGIN)
            waited = True  # one wait only: a second 429 means our picture of the limits is wrong

    def _observe(self, sent: Request, response: requests.Response) -> None:
        """Every answer, on the caller's thread, in the order asked: the budgets it announces, an error it counts."""
        if sent.division is not None:  # only division URLs carry rate-limit headers
            self.rate_limits = self.rate_limits.merged(response.headers)
        if self.guard is not None and response.status_code in COUNTED_ERRORS:
            self.guard.count_error(sent.division, sent.endpoint)

    def _may_overlap(self, intents: list[Intent]) -> bool:
        """Whether these calls may go at once: Exact's minutely and daily calls left (as last announced) cover them
        all, and the guard still allows as many errors per endpoint as calls go there. Otherwise one after another,
        each answered (and counted) before the next is asked."""
        budgets = self.known_limits.combined(self.rate_limits)
        now = self._clock()
        counted = sum(1 for intent in intents if intent.division is not None)
        for scope in ("minutely", "daily"):
            left = budgets.calls_left(scope, now)
            if left is not None and left < counted:
                return False
        errors_left = getattr(self.guard, "errors_left", None)
        if errors_left is not None:
            for (division, endpoint), calls in Counter((i.division, i.endpoint) for i in intents).items():
                left = errors_left(division, endpoint)
                if calls > 1 and left is not None and left < calls:
                    return False
        return True

    def _get(self, sent: Request) -> requests.Response:
        """The HTTP request alone (any thread): nothing here touches the client's state."""
        headers = {"Accept": sent.accept, "Authorization": f"Bearer {sent.token.access_token}"}
        try:
            response = self._http.get(sent.url, headers=headers, timeout=self._timeout)
        except requests.RequestException as error:
            if self._heard is not None:
                self._heard("GET", sent.url, None)
            raise ExactUnavailable(f"GET {urlsplit(sent.url).path}: {type(error).__name__}") from error
        if self._heard is not None:
            self._heard("GET", sent.url, response.status_code)
        return response

    def _refresh_if_due(self) -> None:
        now = self._clock()
        if not self.token.refresh_due(now) or not self.token.may_refresh(now):
            return
        if now < self._no_refresh_before and now < self.token.expires_at:
            return
        try:
            fresh = self._refresh(self.token)
        except TooEarlyToRefresh as early:
            self._no_refresh_before = early.retry_at
            if now < self.token.expires_at:
                return  # Exact's clock says our token is younger than we think, so it still accepts it: carry on
            raise
        self._use(fresh)

    def _renew_refused(self, detail: str) -> None:
        """Exact refused our token: a new one (or the one another caller got meanwhile), else why not yet."""
        try:
            fresh = self._refresh(self.token, refused=True)
        except TooEarlyToRefresh as early:
            raise AccessTokenRefused(early.retry_at, detail) from None
        self._use(fresh)

    def _use(self, fresh: Token) -> None:
        self.token = fresh
        self._on_token(fresh)  # the old refresh token is dead: the caller must persist this one first

    def _endpoint(self, url: str) -> str:
        """The endpoint a URL calls, as Exact's error block counts it: without division, query or /$count."""
        path = urlsplit(url).path.removeprefix(urlsplit(self._api_root).path)
        head, _, rest = path.partition("/")
        return (rest if head.isdigit() else path).removesuffix("/$count")

    def _worth_waiting(self, limited: RateLimited) -> bool:
        return limited.scope == "minutely" and limited.reset_at - self._clock() <= self._max_wait

    @staticmethod
    def _raise_for_status(response: requests.Response, division: int | None) -> None:
        status = response.status_code
        if status < 400:
            return
        reason = response.headers.get("Reason", "").split(":")[0].strip()
        if status == 403 and reason == "NoDivisionAccess" and division is not None:
            raise NoDivisionAccess(division, _detail(response))
        if status == 403 and reason == "DivisionBlocked" and division is not None:
            raise DivisionBlocked(division, _detail(response))
        if status == 403 and reason in ATTENTION_REASONS:
            raise ATTENTION_REASONS[reason](_detail(response))
        # Exact's text, in its JSON or (for $count, asked without Accept) its XML error envelope.
        if status == 403 and SCOPE_VIOLATED in response.text.lower():
            raise ApplicationScopeViolated(_endpoint(response), _detail(response))
        if status >= 500:
            raise ExactUnavailable(_detail(response))
        raise ExactRequestError(_detail(response), exact_message=_exact_message(response))


def _exact_message(response: requests.Response) -> str:
    try:
        return odata.error_message(response.json())
    except ValueError:
        return ""


def _endpoint(response: requests.Response) -> str:
    """The endpoint a call asked for, e.g. financial/Journals: the path after /api/v1/ and its division, no $count."""
    path = urlsplit(response.url).path.partition("/api/v1/")[2].removesuffix("/$count")
    head, _, tail = path.partition("/")
    return tail if head.isdigit() else path


def _detail(response: requests.Response) -> str:
    return http_detail("GET", urlsplit(response.url).path, response.status_code,
                       response.headers.get("Reason"), description=_exact_message(response))
