"""Where each connection's Exact tokens are kept: read freely, refreshed at Exact once for all callers.

Exact rotates the refresh token on every refresh and rejects the old one at once, so two processes refreshing the
same connection would break it. A refresh therefore happens only under the connection's row lock, after reading the
row again: whoever waited finds the token the first caller stored. The rotated pair is stored in the same
transaction as the refresh, so it is never lost.

Exact's token endpoint is asked only when it may answer: not within 570 s of the last token, not before the time a
"too early" answer set (kept on the row, for every process), not past the day's token calls of the Exact user
(exact_limits.py). Meanwhile the current token is handed out while it is valid; after that the caller hears when it
can have a new one. A 401 on a REST call renews the token even though it is not due by our clock; the connection is
marked expired only when the token endpoint says the grant is dead.
"""
import time
from collections.abc import Callable

import connections
from exact.errors import AccessTokenRefused
from exact.errors import ExactError
from exact.errors import ReauthorizationRequired
from exact.errors import TokenBudgetSpent
from exact.errors import TooEarlyToRefresh
from exact.oauth import ExactOAuth
from exact.tokens import MIN_SECONDS_BETWEEN_TOKENS
from exact.tokens import Token
from exact_limits import ExactLimits
from models import Connection


class TokenStore:
    """The tokens of every connection; `oauth_for(country)` is Exact's OAuth side for that country, `limits` the
    day's token calls of each Exact user (none: not counted), `outcome(outcome, reason)` hears how each refresh went
    (the app counts them)."""

    def __init__(self, oauth_for: Callable[[str], ExactOAuth], clock: Callable[[], float] = time.time,
                 limits: ExactLimits | None = None, outcome: Callable[[str, str | None], None] | None = None):
        self._oauth_for = oauth_for
        self._clock = clock
        self._limits = limits
        self._outcome = outcome or (lambda outcome, reason: None)

    def valid_token(self, connection_id: int, force: bool = False, loaded: Connection | None = None,
                    refused: Token | None = None) -> Token:
        """A valid access token for the connection, refreshed at Exact when it is due.

        `force` refreshes as soon as Exact allows it (570 s after the last token), to keep the refresh token alive.
        `loaded` is the row the caller has just read, so the common case reads it only once.
        `refused` is a token Exact answered 401 to: it is renewed although not due, unless another caller has replaced
        it meanwhile (then that one is handed out); within 570 s of it, AccessTokenRefused says when it can be.
        Raises TooEarlyToRefresh or TokenBudgetSpent (with the time a new token can be had) when the current token has
        expired and Exact may not be asked yet; ReauthorizationRequired when the grant is dead (the row is expired).
        """
        if refused is None:
            # Most calls find a token that is not due (or may not be refreshed yet): no lock, only refreshes queue.
            unlocked = loaded or Connection.by_id(connection_id)
            if unlocked is not None and unlocked.is_logged_in:
                if not self._asks_exact(unlocked, force):
                    return unlocked.token
                if self._told_to_wait(unlocked):  # and the token has expired: no lock needed to say until when
                    raise TooEarlyToRefresh(unlocked.refresh_not_before, "Exact said too early; waiting for its time")
        failure = waiting = None
        with Connection.locked(connection_id) as connection:
            if not connection.is_logged_in:
                raise ReauthorizationRequired("the connection has no tokens; log in again")
            token = connection.token
            now = self._clock()
            if refused is not None:
                if token.access_token != refused.access_token:
                    return token  # renewed by another caller since this one was handed out
                if not token.may_refresh(now):
                    raise AccessTokenRefused(token.issued_at + MIN_SECONDS_BETWEEN_TOKENS,
                                             "Exact refused the access token within 570 s of its issue")
            elif not self._asks_exact(connection, force):
                return token
            try:
                self._may_ask_exact(connection, now)
            except (TooEarlyToRefresh, TokenBudgetSpent) as held:
                waiting = held  # Exact is not asked
                self._outcome("held", type(held).__name__)
            else:
                try:
                    token = self._oauth_for(connection.country).refresh(token)
                except TooEarlyToRefresh as early:
                    connections.record_too_early(connection, early.retry_at)  # Exact said so: every process waits
                    waiting = early
                    self._outcome("too_early", type(early).__name__)
                except ExactError as error:
                    failure = error
                    connections.record_failed_refresh(connection, error)
                    self._outcome("expired" if isinstance(error, ReauthorizationRequired) else "failed",
                                  type(error).__name__)
                else:
                    connections.record_refresh(connection, token)
                    self._outcome("refreshed", None)
        if failure is not None:
            raise failure  # after the transaction: what it recorded is committed
        if waiting is not None:
            return self._current_or_wait(token, waiting, force, refused)
        return token

    def refresher(self, connection_id: int):
        """What an Exact client calls when its token is due, or was refused: a refresh through this store's lock."""
        return lambda token, refused=False: self.valid_token(connection_id, refused=token if refused else None)

    def _asks_exact(self, connection: Connection, force: bool) -> bool:
        """Whether to ask Exact for a new token now: it is due (or forced), Exact's 570 s have passed, and no "too
        early" answer holds while the current token is valid."""
        now = self._clock()
        token = connection.token
        if not (token.may_refresh(now) and (force or token.refresh_due(now))):
            return False
        return force or not self._told_to_wait(connection) or now >= token.expires_at

    def _told_to_wait(self, connection: Connection) -> bool:
        """Whether Exact's "too early" still holds for the connection."""
        return connection.refresh_not_before is not None and self._clock() < connection.refresh_not_before

    def _may_ask_exact(self, connection: Connection, now: float) -> None:
        """Raise why Exact's token endpoint may not be asked now, or count the call about to be made."""
        if self._told_to_wait(connection):
            raise TooEarlyToRefresh(connection.refresh_not_before, "Exact said too early; waiting for its time")
        if self._limits is not None:
            self._limits.take_token_call(connection.exact_user_id)

    def _current_or_wait(self, token: Token, waiting: ExactError, force: bool, refused: Token | None) -> Token:
        """No new token yet: the current one while Exact still accepts it, else when a new one can be had."""
        if refused is None and not force and self._clock() < token.expires_at:
            return token
        if refused is not None and isinstance(waiting, TooEarlyToRefresh):
            raise AccessTokenRefused(waiting.retry_at, waiting.detail)
        raise waiting

