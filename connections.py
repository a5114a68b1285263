"""The life of an account's Exact Online connection: every change of its state, in one place.

Each operation is one transaction that changes the row only if it is still in the state the operation starts from
(a conditional UPDATE, or the row re-read under its lock where the rule needs the stored values), records its
history event in that same transaction (and, when webhooks are on, the event for OutSmart's servers: outbox.py),
and says whether it won. A request that lost to another window, admin or
worker changes nothing, so no race can leave half a connection behind.
"""
import dataclasses
import time
from dataclasses import dataclass

import outbox
from exact.errors import AttentionNeeded
from exact.errors import ExactError
from exact.errors import ReauthorizationRequired
from exact.ratelimits import RateLimits
from exact.tokens import Token
from models import Administration
from models import Connection
from models import Event
from models import ExactList
from models import STATE_TTL
from models import LoginAttempt
from models import db
from models import utcnow


@dataclass(frozen=True)
class Login:
    """What Exact said at the end of a login: where, whose tokens, who, and which administrations were consented."""

    country: str
    base_url: str
    token: Token
    me: dict
    divisions: list[dict]


@dataclass(frozen=True)
class Connected:
    """How a finished login ended: connected (or reconnected), refused with a reason (a REFUSALS key), or too late
    (the attempt had ended already, e.g. Annuleren in OutSmart: nothing was kept)."""

    refused: str | None = None
    reconnected: bool = False
    other_user: bool = False
    too_late: bool = False


def start_login(account: str, country: str, user: str | None, visit: str | None, mode: str = LoginAttempt.PAGE,
                pkce: bool = True) -> tuple[LoginAttempt, str | None]:
    """A one-time login attempt for the account at one country's Exact, from this OutSmart visit; for a popup also
    the secret its iframe hands it (kept only as a digest).

    Attempts past their 10 minutes, of every account, are deleted in the same transaction: none can be used any
    more, and the table holds only the live ones however many logins are started.
    """
    with db.atomic():
        LoginAttempt.delete().where(LoginAttempt.created_at < utcnow() - STATE_TTL).execute()
        return LoginAttempt.start(account, country, user, visit, mode, pkce)


def connect(attempt: LoginAttempt, login: Login) -> Connected:
    """Keep a finished login on the account's connection, unless it would break a saved one (then nothing changes),
    or the attempt has ended meanwhile (Annuleren in OutSmart: then nothing is kept either)."""
    if attempt.outcome is not None:  # ended before Exact's answer came back: don't even create the row
        return Connected(too_late=True)
    Connection.insert(account=attempt.account).on_conflict_ignore().execute()
    connection_id = Connection.of_account(attempt.account).id
    with Connection.locked(connection_id) as connection:
        refused = _reconnect_refusal(connection, login)
        reconnected = connection.is_locked
        # Reconnecting a saved connection as someone else is allowed (same administration), but said out loud.
        other_user = reconnected and connection.exact_user_id not in (None, login.me.get("UserID"))
        # The attempt is ended first, in this transaction: an Annuleren that ended it before wins and nothing below
        # happens; one that comes later finds it ended (its conditional UPDATE waits for this transaction).
        if not attempt.finish(*(("refused", refused) if refused else
                                ("connected", "other_user" if other_user else None))):
            return Connected(too_late=True)
        if refused:
            return Connected(refused=refused)
        _keep_login(connection, login)
        Event.record(connection.account, "reconnected" if reconnected else "connected", attempt.user,
                     country=login.country, exact_user=login.me.get("FullName"), other_user=other_user,
                     administrations=len(login.divisions))
        outbox.enqueue(connection, "connection.connected")
    return Connected(reconnected=reconnected, other_user=other_user)


def abort_login(attempt: LoginAttempt) -> bool:
    """Annuleren in OutSmart: end the attempt, so that a popup finishing it later connects nothing (connect() loses).
    False if it had ended already: connected, cancelled at Exact, closed or failed."""
    return attempt.finish("aborted")


def choose_administration(connection: Connection, code: int) -> bool:
    """Take `code` as the administration being set up; False if it was saved or disconnected meanwhile."""
    with db.atomic():
        # Settings are picked from one administration's journals, accounts and VAT codes: choosing another one drops
        # those made for the previous one, in the same statement, so no other request can pair them with the new one.
        (Connection.update(draft_division=code, draft_settings=None)
         .where(_setting_up(connection) & (Connection.draft_division.is_null() | (Connection.draft_division != code)))
         .execute())
        return Connection.select().where(_setting_up(connection) & (Connection.draft_division == code)).exists()


def keep_draft_settings(connection: Connection, settings: dict) -> bool:
    """Keep settings for the checks; False if another administration was chosen, or the connection saved, meanwhile."""
    kept = (Connection.update(draft_settings=settings)
            .where(_setting_up(connection) & (Connection.draft_division == connection.draft_division))
            .execute())
    return kept == 1


def switch_off(connection: Connection, names: list[str]) -> dict | None:
    """Switch on/off settings off in the draft being checked (the checklist's answer to missing rights); the new
    draft, or None if the administration or the draft changed meanwhile, in another window or by another admin."""
    settings = {**connection.draft_settings, **{name: False for name in names}}
    kept = (Connection.update(draft_settings=settings)
            .where(_setting_up(connection) & (Connection.draft_division == connection.draft_division)
                   & (Connection.draft_settings == connection.draft_settings))
            .execute())
    return settings if kept == 1 else None


def save(connection: Connection, administration: Administration, user: str | None) -> bool:
    """Opslaan: lock the administration with the settings checked for it; False if anything changed since they were read."""
    with db.atomic():
        saved = (Connection
                 .update(division=administration.code, division_name=administration.name,
                         settings=connection.draft_settings, status=Connection.SAVED, saved_at=utcnow(),
                         draft_division=None, draft_settings=None)
                 .where(_setting_up(connection) & (Connection.draft_division == administration.code)
                        & (Connection.draft_settings == connection.draft_settings))
                 .execute())
        if saved == 1:
            Event.record(connection.account, "saved", user, administration=administration.code,
                         administration_name=administration.name)
            outbox.enqueue(connection, "connection.saved")
    return saved == 1


def change_settings(connection: Connection, settings: dict, user: str | None) -> bool:
    """New import and export settings for a saved connection; False if it was disconnected or expired meanwhile."""
    changed = _changed(connection.settings or {}, settings)
    with db.atomic():
        updated = (Connection.update(settings=settings)
                   .where((Connection.id == connection.id) & (Connection.status == Connection.SAVED)
                          & (Connection.division == connection.division))
                   .execute())
        if updated == 1:
            Event.record(connection.account, "settings_changed", user, changed=changed)
            outbox.enqueue(connection, "connection.settings_changed", changed=changed)
    return updated == 1


def disconnect(connection: Connection, user: str | None) -> bool:
    """Stop synchronising and forget the tokens; settings and history stay. False if it was already disconnected."""
    if connection.id is None:
        return False
    # Read again under the row lock: a save that committed since this request read the connection must be
    # disconnected (and named in the history) as saved, and its settings kept, not overwritten by an old copy.
    with Connection.locked(connection.id) as fresh:
        if fresh.status == Connection.DISCONNECTED:
            return False
        Event.record(fresh.account, "disconnected", user, administration=fresh.division,
                     administration_name=fresh.division_name)
        administration = (fresh.division, fresh.division_name) if fresh.division is not None else None
        fresh.status = Connection.DISCONNECTED
        fresh.disconnected_at = utcnow()
        fresh.attention_reason = fresh.attention_at = None
        fresh.clear_tokens()
        fresh.division = fresh.division_name = fresh.draft_division = None
        fresh.save()
        outbox.enqueue(fresh, "connection.disconnected", administration=administration)
        Administration.delete().where(Administration.connection == fresh).execute()
        ExactList.delete().where(ExactList.connection == fresh).execute()
    return True


def mark_expired(connection: Connection, error: ExactError) -> bool:
    """Exact no longer accepts the grant: the admin must log in again. False if it was not logged in any more."""
    with db.atomic():
        expired = (Connection
                   .update(status=Connection.EXPIRED, last_error=error.key, last_error_at=utcnow(),
                           attention_reason=None, attention_at=None)
                   .where((Connection.id == connection.id)
                          & Connection.status.in_([Connection.CONNECTED, Connection.SAVED,
                                                   Connection.NEEDS_ATTENTION]))
                   .execute())
        if expired == 1:
            Event.record(connection.account, "expired", reason=error.key)
            outbox.enqueue(connection, "connection.expired", reason=error.key)
    return expired == 1


def needs_attention(connection: Connection, error: AttentionNeeded, user: str | None = None) -> bool:
    """Exact refuses the saved connection for a reason someone must put right (an inactive or blocked user, a blocked
    customer, an expired licence, a scope OutSmart's registration lacks): synchronisation stops until a new login or
    a passing "Verbinding testen". False if it is not saved any more, or already needs attention for this reason."""
    with db.atomic():
        entered = (Connection
                   .update(status=Connection.NEEDS_ATTENTION, attention_reason=error.key, attention_at=utcnow())
                   .where((Connection.id == connection.id) & Connection.division.is_null(False)
                          & ((Connection.status == Connection.SAVED)
                             | ((Connection.status == Connection.NEEDS_ATTENTION)
                                & (Connection.attention_reason != error.key))))
                   .execute())
        if entered == 1:
            Event.record(connection.account, "needs_attention", user, reason=error.key)
            outbox.enqueue(connection, "connection.needs_attention", reason=error.key)
    return entered == 1


def attention_resolved(connection: Connection, user: str | None) -> bool:
    """Exact accepts the connection again (a passing "Verbinding testen"): synchronisation resumes. False if it did
    not need attention (any more)."""
    with db.atomic():
        resolved = (Connection.update(status=Connection.SAVED, attention_reason=None, attention_at=None)
                    .where((Connection.id == connection.id) & (Connection.status == Connection.NEEDS_ATTENTION))
                    .execute())
        if resolved == 1:
            Event.record(connection.account, "attention_resolved", user, reason=connection.attention_reason)
    return resolved == 1


def record_test(connection: Connection, refusal: ExactError | None, accepted: bool, user: str | None) -> bool:
    """What "Verbinding testen" found, kept on the saved connection: a refusal that needs attention enters that state,
    a dead grant expires it (as everywhere); Exact answering every call of the test ends a refusal (a missing right is
    an answer too). Exact failing changes nothing. Whether the state changed."""
    if isinstance(refusal, AttentionNeeded):
        return needs_attention(connection, refusal, user)
    if isinstance(refusal, ReauthorizationRequired):
        return mark_expired(connection, refusal)
    if accepted:
        return attention_resolved(connection, user)
    return False


def record_refresh(locked: Connection, token: Token) -> None:
    """Keep the token pair a refresh brought, inside the refresh's row lock: the old refresh token is dead at Exact."""
    locked.hold_token(token)
    locked.last_refresh_at = utcnow()
    locked.last_error = None
    locked.refresh_not_before = None
    locked.save(only=[Connection.access_token, Connection.refresh_token, Connection.token_issued_at,
                      Connection.token_expires_at, Connection.last_refresh_at, Connection.last_error,
                      Connection.refresh_not_before])


def record_too_early(locked: Connection, retry_at: float) -> None:
    """Exact refused a refresh as too early, inside the refresh's row lock: nobody asks it again before `retry_at`."""
    locked.refresh_not_before = retry_at
    locked.save(only=[Connection.refresh_not_before])


def record_failed_refresh(locked: Connection, error: ExactError) -> None:
    """Remember why a refresh failed; a dead grant expires the connection (the one path for that)."""
    if isinstance(error, ReauthorizationRequired):
        mark_expired(locked, error)
        return
    (Connection.update(last_error=error.key, last_error_at=utcnow())
     .where(Connection.id == locked.id)
     .execute())


def record_rate_limits(connection: Connection, limits: RateLimits) -> None:
    """Keep the call budgets Exact last announced for the connection, for its health panel and the next burst of
    calls. Merged with what the row holds under its lock: two requests of the connection reading their answers in
    any order keep the later window and, within it, the fewest calls left (RateLimits.combined), never the other's."""
    if limits.daily_remaining is None and limits.minutely_remaining is None:
        return
    with Connection.locked(connection.id) as row:
        merged = known_rate_limits(row).combined(limits)
        seen = {**dataclasses.asdict(merged), "seen_at": time.time()}
        Connection.update(rate_limits=seen).where(Connection.id == connection.id).execute()


def known_rate_limits(connection: Connection) -> RateLimits:
    """The budgets last kept on the row (empty when none)."""
    stored = connection.rate_limits or {}
    return RateLimits(**{field.name: stored.get(field.name) for field in dataclasses.fields(RateLimits)})


# Why a new login may not replace the tokens of a saved connection: keys of views.login.REFUSALS.
def _reconnect_refusal(connection: Connection, login: Login) -> str | None:
    if not connection.is_locked:
        return None
    if login.country != connection.country or login.base_url != connection.base_url:
        return "other_country"
    if connection.division not in {row["Code"] for row in login.divisions}:
        return "locked_division_missing"
    return None


def _keep_login(connection: Connection, login: Login) -> None:
    """Save who logged in where, the tokens, and which administrations the consent allows."""
    me = login.me
    connection.country = login.country
    connection.base_url = login.base_url
    connection.exact_user_id = me.get("UserID")
    connection.exact_user_name = me.get("FullName")
    connection.exact_user_email = me.get("Email")
    connection.current_division = me.get("CurrentDivision")
    connection.consented_divisions = len(login.divisions)
    connection.connected_at = utcnow()
    connection.disconnected_at = None
    connection.attention_reason = connection.attention_at = None  # a new login ends a refusal that needed attention
    if connection.is_locked:
        connection.status = Connection.SAVED
    else:
        connection.status = Connection.CONNECTED
        connection.draft_division = None
    connection.hold_token(login.token)
    connection.save()
    Administration.delete().where(Administration.connection == connection).execute()
    rows = [dict(connection=connection, code=row["Code"], name=row.get("Description") or str(row["Code"]),
                 country=row.get("Country"), currency=row.get("Currency"), vat_number=row.get("VATNumber"),
                 status=row.get("Status", 1), blocked=bool(row.get("BlockingStatus")),
                 current=row["Code"] == connection.current_division)
            for row in login.divisions]
    for batch in range(0, len(rows), 500):
        Administration.insert_many(rows[batch:batch + 500]).execute()


def _changed(before: dict, after: dict) -> list[str]:
    """The settings that differ; a mapping (the VAT codes by rate) by its keys: "vat_codes.21"."""
    changed = set()
    for name in before.keys() | after.keys():
        old, new = before.get(name), after.get(name)
        if isinstance(old, dict) or isinstance(new, dict):
            old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
            changed |= {f"{name}.{key}" for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
        elif old != new and name in after:
            changed.add(name)
    return sorted(changed)


def _setting_up(connection: Connection):
    """The row, while it is logged in and its administration not yet saved."""
    return ((Connection.id == connection.id) & (Connection.status == Connection.CONNECTED)
            & Connection.division.is_null())
