"""Where each connection's Exact tokens are kept: read freely, refreshed at Exact once for all callers.

Exact rotates the refresh token on every refresh and rejects the old one at once, so two processes refreshing the
same connection would break it. A refresh therefore happens only under the connection's row lock, after reading the
row again: whoever waited finds the token the first caller stored. The rotated pair is stored in the same
transaction as the refresh, so it is never lost.
"""
import time
from collections.abc import Callable

import connections
from exact.errors import ExactError
from exact.errors import ReauthorizationRequired
from exact.errors import TooEarlyToRefresh
from exact.oauth import ExactOAuth
from exact.tokens import Token
from models import Connection


class TokenStore:
    """The tokens of every connection; `oauth_for(country)` is Exact's OAuth side for that country."""

    def __init__(self, oauth_for: Callable[[str], ExactOAuth], clock: Callable[[], float] = time.time):
        self._oauth_for = oauth_for
        self._clock = clock

    def valid_token(self, connection_id: int, force: bool = False, loaded: Connection | None = None) -> Token:
        """A valid access token for the connection, refreshed at Exact when it is due.

        `force` refreshes as soon as Exact allows it (570 s after the last token), to keep the refresh token alive.
        `loaded` is the row the caller has just read, so the common case reads it only once.
        """
        # Most calls find a token that is not due: they need no lock, only the refreshes queue.
        unlocked = loaded or Connection.by_id(connection_id)
        if unlocked is not None and unlocked.is_logged_in:
            token = unlocked.token
            if not self._refresh_now(token, force):
                return token
        failure = None
        with Connection.locked(connection_id) as connection:
            if not connection.is_logged_in:
                raise ReauthorizationRequired("the connection has no tokens; log in again")
            token = connection.token
            if not self._refresh_now(token, force):
                return token
            try:
                token = self._oauth_for(connection.country).refresh(token)
            except TooEarlyToRefresh:
                return token  # Exact still accepts the current one
            except ExactError as error:
                failure = error
                connections.record_failed_refresh(connection, error)
            else:
                connections.record_refresh(connection, token)
        if failure is not None:
            raise failure  # after the transaction: what it recorded is committed
        return token

    def refresher(self, connection_id: int) -> Callable[[Token], Token]:
        """What an Exact client calls when its token is due: a refresh through this store and its lock."""
        return lambda _token: self.valid_token(connection_id)

    def _refresh_now(self, token: Token, force: bool) -> bool:
        """Whether to ask Exact for a new token now: it is due (or forced) and Exact's 570 s have passed."""
        now = self._clock()
        return token.may_refresh(now) and (force or token.refresh_due(now))

