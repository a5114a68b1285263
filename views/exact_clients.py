"""Exact Online for the views: clients built from configuration, tokens persisted, lists cached."""
import dataclasses
import time
from contextlib import contextmanager

from flask import current_app
from flask import g
from peewee import SqliteDatabase

from exact.client import ExactClient
from exact.errors import ExactError
from exact.errors import ReauthorizationRequired
from exact.errors import TooEarlyToRefresh
from exact.hosts import base_url
from exact.oauth import ExactOAuth
from exact.tokens import Token
from models import Connection
from models import Event
from models import ExactList
from models import db
from models import utcnow
from views.failures import error_key

# The lists the settings step offers, read live from the chosen administration: kind -> (resource, $filter).
MASTER_DATA = {
    "journals": ("financial/Journals", "Type eq 20"),
    "revenue_accounts": ("financial/GLAccounts", "BalanceType eq 'W' and BalanceSide eq 'C'"),
    "vat_codes": ("vat/VATCodes", None),
    "payment_conditions": ("cashflow/PaymentConditions", None),
}
# The optional import filters' choices: read only when the admin asks to filter (two Exact calls saved otherwise).
FILTER_LISTS = {
    "item_groups": ("logistics/ItemGroups", None),
    "relation_types": ("crm/AccountClassifications", None),
}
PREVIEW_COUNTS = {"relations": "crm/Accounts", "items": "logistics/Items"}


def host_for(country: str) -> str:
    """The configured Exact base URL of a country."""
    return base_url(country, current_app.config["EXACT_HOSTS"])


def oauth_for(country: str) -> ExactOAuth:
    """The OAuth side of Exact for one country, from configuration."""
    config = current_app.config
    return ExactOAuth(host_for(country), config["EXACT_CLIENT_ID"], config["EXACT_CLIENT_SECRET"],
                      config["EXACT_REDIRECT_URI"], timeout=config["EXACT_HTTP_TIMEOUT"],
                      allow_insecure_transport=config["EXACT_ALLOW_HTTP"])


def client_for_token(country: str, token: Token, on_token, oauth=None) -> ExactClient:
    """A REST client on the country's host with the given token (refreshing through `oauth`, by default Exact's)."""
    config = current_app.config
    return ExactClient(host_for(country), token, oauth=oauth or oauth_for(country), on_token=on_token,
                       timeout=config["EXACT_HTTP_TIMEOUT"],
                       wait_for_minutely_reset_up_to=config["EXACT_WAIT_FOR_MINUTE_RESET"])


def client_for(connection: Connection) -> ExactClient:
    """A REST client for a logged-in connection; it refreshes only through the connection's row lock."""
    client = client_for_token(connection.country, token_of(connection), lambda new: _copy_token(connection, new),
                              oauth=LockedRefresher(connection.id))
    g.setdefault("exact_clients", []).append((connection.id, client))
    return client


def token_of(connection: Connection) -> Token:
    return Token(access_token=connection.access_token, refresh_token=connection.refresh_token,
                 expires_at=connection.token_expires_at, issued_at=connection.token_issued_at)


def store_token(connection: Connection, token: Token) -> None:
    """Persist a new token pair at once: the old refresh token no longer works at Exact."""
    _copy_token(connection, token)
    connection.save(only=[Connection.access_token, Connection.refresh_token, Connection.token_issued_at,
                          Connection.token_expires_at])


def _copy_token(connection: Connection, token: Token) -> None:
    connection.access_token = token.access_token
    connection.refresh_token = token.refresh_token
    connection.token_issued_at = token.issued_at
    connection.token_expires_at = token.expires_at


@contextmanager
def locked(connection_id: int):
    """The connection's row, re-read and locked against every other thread, process and machine until the block ends."""
    database = db.obj
    if isinstance(database, SqliteDatabase):
        with database.atomic("IMMEDIATE"):  # SQLite locks the whole file for writing: one refresher at a time
            yield Connection.get_by_id(connection_id)
    else:
        with database.atomic():
            yield Connection.select().where(Connection.id == connection_id).for_update().get()


def valid_token(connection_id: int, force: bool = False, loaded: Connection | None = None) -> Token:
    """A valid access token for the connection, refreshed at Exact once between all callers when it is due.

    Under the row lock the token is read again: whoever waited finds the token the first caller stored and
    uses it. The rotated refresh token is stored in the same transaction as the refresh, so it is never lost.
    `force` refreshes as soon as Exact allows it (570 s after the last token), to keep the refresh token alive.
    `loaded` is the row the caller has just read, so the common case reads it only once.
    """
    # Most calls find a token that is not due: they need no lock, only the refreshes queue.
    unlocked = loaded or Connection.by_id(connection_id)
    if unlocked is not None and unlocked.is_logged_in:
        token = token_of(unlocked)
        if not _refresh_now(token, force):
            return token
    failure = None
    with locked(connection_id) as connection:
        if not connection.is_logged_in:
            raise ReauthorizationRequired("the connection has no tokens; log in again")
        token = token_of(connection)
        if not _refresh_now(token, force):
            return token
        try:
            token = oauth_for(connection.country).refresh(token)
        except TooEarlyToRefresh:
            return token  # Exact still accepts the current one
        except ExactError as error:
            failure = error
            _record_failure(connection, error)
        else:
            store_token(connection, token)
            connection.last_refresh_at = utcnow()
            connection.last_error = None
            connection.save(only=[Connection.last_refresh_at, Connection.last_error])
    if failure is not None:
        raise failure
    return token


def _refresh_now(token: Token, force: bool) -> bool:
    """Whether to ask Exact for a new token now: it is due (or forced) and Exact's 570 s have passed."""
    now = time.time()
    return token.may_refresh(now) and (force or token.refresh_due(now))


def _record_failure(connection: Connection, error: ExactError) -> None:
    """Remember why a refresh failed; a dead grant means the admin must log in again."""
    connection.last_error = error_key(error)
    connection.last_error_at = utcnow()
    fields = [Connection.last_error, Connection.last_error_at]
    if isinstance(error, ReauthorizationRequired):
        connection.status = Connection.EXPIRED
        fields.append(Connection.status)
        Event.record(connection.account, "refresh_failed", reason=error_key(error))
    connection.save(only=fields)


class LockedRefresher:
    """Stands in for ExactOAuth inside ExactClient: refreshes go through valid_token and its row lock."""

    def __init__(self, connection_id: int):
        self.connection_id = connection_id

    def refresh(self, token: Token) -> Token:
        return valid_token(self.connection_id)


def save_rate_limits(response):
    """After a request: keep the rate-limit headers Exact last sent for each connection used, for the health panel."""
    for connection_id, client in g.pop("exact_clients", []):
        limits = client.rate_limits
        if limits.daily_remaining is not None or limits.minutely_remaining is not None:
            seen = dataclasses.asdict(limits) | {"seen_at": time.time()}
            Connection.update(rate_limits=seen).where(Connection.id == connection_id).execute()
    return response


def master_data(connection: Connection, division: int, refresh: bool = False, filters=()) -> dict:
    """The administration's lists by kind, from the cache, reading only missing ones from Exact.

    `filters` names the filter lists wanted as well; refreshing reads again every list read before.
    """
    cached = ExactList.cached(connection, division)
    wanted = MASTER_DATA | {kind: FILTER_LISTS[kind] for kind in FILTER_LISTS if kind in filters or kind in cached}
    if refresh:
        cached = {}
    missing = [kind for kind in wanted if kind not in cached]
    if missing:
        client = client_for(connection)
        fetched = {kind: client.list(division, wanted[kind][0], filter=wanted[kind][1]) for kind in missing}
        with db.atomic():
            for kind, rows in fetched.items():
                _store_list(connection, division, kind, rows)
        cached = ExactList.cached(connection, division)
    return cached


def preview_counts(connection: Connection, division: int) -> dict:
    """How many relations and items the administration holds (cached, so the preview costs Exact once)."""
    cached = ExactList.of_kind(connection, division, "counts")
    if cached is None:
        client = client_for(connection)
        counts = {name: client.count(division, resource) for name, resource in PREVIEW_COUNTS.items()}
        with db.atomic():
            _store_list(connection, division, "counts", counts)
        return counts
    return cached.rows


def _store_list(connection: Connection, division: int, kind: str, rows) -> None:
    (ExactList
     .insert(connection=connection, division=division, kind=kind, rows=rows, fetched_at=utcnow())
     .on_conflict(conflict_target=[ExactList.connection, ExactList.division, ExactList.kind],
                  update={ExactList.rows: rows, ExactList.fetched_at: utcnow()})
     .execute())
