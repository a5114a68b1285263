"""Exact Online for the views: clients built from configuration, their tokens from the store, lists cached, and
Exact's limits on the app (token calls per Exact user and day, errors per endpoint and hour) kept for them."""
import time
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits.storage import storage_from_string

import connections
import limit_store  # noqa: F401  (registers the database:// storage with `limits`)
from views import metrics
from exact.client import ExactClient
from exact.hosts import base_url
from exact.oauth import ExactOAuth
from exact.tokens import Token
from exact_limits import ExactLimits
from exact_limits import TokenBudget
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
                      allow_insecure_transport=config["EXACT_ALLOW_HTTP"], observe=metrics.exact_answered)


def exact_limits() -> ExactLimits:
    """Exact's limits on the configured app, counted in the app's database (RATELIMIT_STORAGE_URI)."""
    config = current_app.config
    return ExactLimits(storage_from_string(config["RATELIMIT_STORAGE_URI"]), config["EXACT_CLIENT_ID"],
                       config["EXACT_TOKEN_CALLS_PER_DAY"], config["EXACT_ERRORS_PER_HOUR"])


def token_store() -> TokenStore:
    """The connections' tokens, refreshed at the configured Exact within the day's token calls of each Exact user."""
    return TokenStore(oauth_for, limits=exact_limits(), outcome=metrics.token_refresh)


def login_client(country: str, token: Token, on_token) -> ExactClient:
    """A REST client for a login that is not stored yet (the callback): it refreshes straight at Exact. Its errors
    count for its Exact user once login_counted() has named them."""
    return _client(country, token, oauth_for(country).refresh, on_token, exact_limits().guard(None))


def login_counted(client: ExactClient, me: dict) -> None:
    """A login's code exchange was a token call of the Exact user current/Me names: count it, and the client's errors
    from now on for that user."""
    exact_limits().count_token_call(me.get("UserID"))
    client.guard.user = me.get("UserID")


@contextmanager
def client_for(connection: Connection):
    """A REST client for a logged-in connection, refreshing through the token store.

    When the block ends, whatever it did, the call budgets Exact announced are kept for the health panel: a block
    that also saves keeps them after its own transaction, so a crash inside it leaves the row as it was.
    """
    limits = exact_limits()
    client = _client(connection.country, connection.token,
                     TokenStore(oauth_for, limits=limits, outcome=metrics.token_refresh).refresher(connection.id),
                     on_token=connection.hold_token,  # the page shows the token's new lifetime
                     guard=limits.guard(connection.exact_user_id),
                     known_limits=connections.known_rate_limits(connection))  # before a burst: calls left
    try:
        yield client
    finally:
        connections.record_rate_limits(connection, client.rate_limits)


def _client(country: str, token: Token, refresh, on_token, guard, known_limits=None) -> ExactClient:
    config = current_app.config
    return ExactClient(host_for(country), token, refresh=refresh, on_token=on_token,
                       timeout=config["EXACT_HTTP_TIMEOUT"],
                       wait_for_minutely_reset_up_to=config["EXACT_WAIT_FOR_MINUTE_RESET"], guard=guard,
                       known_limits=known_limits, observe=metrics.exact_answered)


# What each endpoint our pages call holds, in the words of the health panel ("too many errors at …").
ENDPOINT_WORDS = {
    "current/Me": _l("uw gebruikersgegevens"),
    "system/Divisions": _l("de administraties"),
    "users/UserHasRights": _l("de rechten van de gebruiker"),
    "financial/Journals": _l("de dagboeken"),
    "financial/GLAccounts": _l("de grootboekrekeningen"),
    "vat/VATCodes": _l("de btw-codes"),
    "cashflow/PaymentConditions": _l("de betalingscondities"),
    "logistics/ItemGroups": _l("de artikelgroepen"),
    "crm/AccountClassifications": _l("de relatietypen"),
    "crm/Accounts": _l("de relaties"),
    "logistics/Items": _l("de artikelen"),
}


@dataclass(frozen=True)
class Health:
    """Exact's limits as they stand for a connection, for its health panel."""

    budget: TokenBudget
    refresh_wait_until: float | None  # Exact said "too early": no new token before then
    blocks: list[tuple[str, float]]  # (what, until) our calls keep away from after too many errors


def health(connection: Connection) -> Health:
    """The day's token calls of the connection's Exact user, a "too early" that holds, and the endpoints of its
    administration our calls keep away from."""
    limits = exact_limits()
    wait = connection.refresh_not_before
    return Health(
        budget=limits.token_budget(connection.exact_user_id),
        refresh_wait_until=wait if wait is not None and wait > time.time() else None,
        blocks=[(str(ENDPOINT_WORDS.get(block.endpoint, block.endpoint)), block.lifts_at)
                for block in limits.blocks(connection.exact_user_id)
                if block.division in (None, connection.working_division)])


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
        with client_for(connection) as client:  # at once: the page waits one round trip, not one per list
            fetched = dict(zip(missing, client.lists(division, [wanted[kind] for kind in missing])))
        with db.atomic():
            for kind, rows in fetched.items():
                _store_list(connection, division, kind, rows)
        cached = ExactList.cached(connection, division)
    return cached


def preview_counts(connection: Connection, division: int) -> dict:
    """How many relations and items the administration holds (cached, so the preview costs Exact once)."""
    cached = ExactList.of_kind(connection, division, "counts")
    if cached is None:
        with client_for(connection) as client:  # both at once
            counts = dict(zip(PREVIEW_COUNTS, client.counts(division, list(PREVIEW_COUNTS.values()))))
        _store_list(connection, division, "counts", counts)
        return counts
    return cached.rows


def _store_list(connection: Connection, division: int, kind: str, rows) -> None:
    (ExactList
     .insert(connection=connection, division=division, kind=kind, rows=rows, fetched_at=utcnow())
     .on_conflict(conflict_target=[ExactList.connection, ExactList.division, ExactList.kind],
                  update={ExactList.rows: rows, ExactList.fetched_at: utcnow()})
     .execute())
