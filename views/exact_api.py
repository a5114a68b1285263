"""Exact Online for the views: clients built from configuration, tokens persisted, lists cached."""
from flask import current_app

from exact.client import ExactClient
from exact.hosts import base_url
from exact.oauth import ExactOAuth
from exact.tokens import Token
from models import Connection
from models import ExactList
from models import db
from models import utcnow

# The lists the settings step offers, read live from the chosen administration: kind -> (resource, $filter).
MASTER_DATA = {
    "journals": ("financial/Journals", "Type eq 20"),
    "revenue_accounts": ("financial/GLAccounts", "BalanceType eq 'W' and BalanceSide eq 'C'"),
    "vat_codes": ("vat/VATCodes", None),
    "payment_conditions": ("cashflow/PaymentConditions", None),
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


def client_for_token(country: str, token: Token, on_token) -> ExactClient:
    """A REST client on the country's host with the given token."""
    config = current_app.config
    return ExactClient(host_for(country), token, oauth=oauth_for(country), on_token=on_token,
                       timeout=config["EXACT_HTTP_TIMEOUT"],
                       wait_for_minutely_reset_up_to=config["EXACT_WAIT_FOR_MINUTE_RESET"])


def client_for(connection: Connection) -> ExactClient:
    """A REST client for a logged-in connection; rotated tokens are saved before they are used."""
    token = Token(access_token=connection.access_token, refresh_token=connection.refresh_token,
                  expires_at=connection.token_expires_at, issued_at=connection.token_issued_at)
    return client_for_token(connection.country, token, lambda new: store_token(connection, new))


def store_token(connection: Connection, token: Token) -> None:
    """Persist a new token pair at once: the old refresh token no longer works at Exact."""
    connection.access_token = token.access_token
    connection.refresh_token = token.refresh_token
    connection.token_issued_at = token.issued_at
    connection.token_expires_at = token.expires_at
    with db.atomic():
        connection.save(only=[Connection.access_token, Connection.refresh_token, Connection.token_issued_at,
                              Connection.token_expires_at])


def master_data(connection: Connection, division: int, refresh: bool = False) -> dict:
    """The administration's lists by kind, from the cache, reading only missing ones from Exact."""
    cached = {} if refresh else ExactList.cached(connection, division)
    missing = [kind for kind in MASTER_DATA if kind not in cached]
    if missing:
        client = client_for(connection)
        fetched = {kind: client.list(division, MASTER_DATA[kind][0], filter=MASTER_DATA[kind][1]) for kind in missing}
        with db.atomic():
            for kind, rows in fetched.items():
                _store_list(connection, division, kind, rows)
        cached = ExactList.cached(connection, division)
    return cached


def preview_counts(connection: Connection, division: int) -> dict:
    """How many relations and items the administration holds (cached, so the preview costs Exact once)."""
    cached = ExactList.cached(connection, division).get("counts")
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
