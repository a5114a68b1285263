"""Exact Online for the views: clients built from configuration, their tokens from the store, lists cached."""
from contextlib import contextmanager

from flask import current_app

import connections
from exact.client import ExactClient
from exact.hosts import base_url
from exact.oauth import ExactOAuth
from exact.tokens import Token
from models import Connection
from models import ExactList
from models import db
from models import utcnow
from token_store import TokenStore

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


def token_store() -> TokenStore:
    """The connections' tokens, refreshed at the configured Exact."""
    return TokenStore(oauth_for)


def login_client(country: str, token: Token, on_token) -> ExactClient:
    """A REST client for a login that is not stored yet (the callback): it refreshes straight at Exact."""
    return _client(country, token, oauth_for(country).refresh, on_token)


@contextmanager
def client_for(connection: Connection):
    """A REST client for a logged-in connection, refreshing through the token store.

    When the block ends, whatever it did, the call budgets Exact announced are kept for the health panel: a block
    that also saves keeps them after its own transaction, so a crash inside it leaves the row as it was.
    """
    client = _client(connection.country, connection.token, token_store().refresher(connection.id),
                     on_token=connection.hold_token)  # the page shows the token's new lifetime
    try:
        yield client
    finally:
        connections.record_rate_limits(connection, client.rate_limits)


def _client(country: str, token: Token, refresh, on_token) -> ExactClient:
    config = current_app.config
    return ExactClient(host_for(country), token, refresh=refresh, on_token=on_token,
                       timeout=config["EXACT_HTTP_TIMEOUT"],
                       wait_for_minutely_reset_up_to=config["EXACT_WAIT_FOR_MINUTE_RESET"])


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
        with client_for(connection) as client:
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
        with client_for(connection) as client:
            counts = {name: client.count(division, resource) for name, resource in PREVIEW_COUNTS.items()}
        _store_list(connection, division, "counts", counts)
        return counts
    return cached.rows


def _store_list(connection: Connection, division: int, kind: str, rows) -> None:
    (ExactList
     .insert(connection=connection, division=division, kind=kind, rows=rows, fetched_at=utcnow())
     .on_conflict(conflict_target=[ExactList.connection, ExactList.division, ExactList.kind],
                  update={ExactList.rows: rows, ExactList.fetched_at: utcnow()})
     .execute())
