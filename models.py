"""Peewee models: one Exact Online connection per OutSmart account, and what hangs off it."""
import datetime
import hashlib
import hmac
import json
import os
import secrets

from contextlib import contextmanager

from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from peewee import BooleanField
from peewee import CharField
from peewee import DatabaseProxy
from peewee import DateTimeField
from peewee import DoubleField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import SqliteDatabase
from peewee import TextField
from playhouse.migrations import Runner

from exact.tokens import Token

db = DatabaseProxy()

# Bound by the app factory (configure_encryption); tokens are never stored without it.
_cipher: MultiFernet | None = None

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
PAGE_SIZE = 20
STATE_TTL = datetime.timedelta(minutes=10)
REFRESH_TOKEN_IDLE = datetime.timedelta(days=30)


def utcnow() -> datetime.datetime:
    """Now, in UTC, without tzinfo (how peewee stores datetimes portably)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def configure_encryption(cipher: MultiFernet) -> None:
    """Set the cipher that encrypts token columns at rest."""
    global _cipher
    _cipher = cipher


class EncryptedField(TextField):
    """A text column stored Fernet-encrypted; the clear value lives only in memory."""

    def db_value(self, value):
        if value is None:
            return None
        return _cipher.encrypt(value.encode()).decode()

    def python_value(self, value):
        if value is None:
            return None
        try:
            return _cipher.decrypt(value.encode()).decode()
        except InvalidToken:
            # A key that was removed from TOKEN_KEYS: treat as no token, so the admin reconnects.
            return None


class JSONField(TextField):
    """JSON kept as text, so SQLite and PostgreSQL store it alike."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db


class Connection(BaseModel):
    """The Exact Online connection of one OutSmart account (at most one row per account)."""

    NOT_CONNECTED = "not_connected"
    CONNECTED = "connected"  # logged in at Exact, administration not saved yet
    SAVED = "saved"  # administration locked, settings saved, synchronising
    EXPIRED = "expired"  # Exact no longer accepts our tokens: log in again
    DISCONNECTED = "disconnected"
    NEEDS_ATTENTION = "needs_attention"  # saved, but Exact refuses it for a reason (attention_reason) someone must fix

    account = CharField(unique=True)
    status = CharField(default=NOT_CONNECTED)
    country = CharField(null=True)
    base_url = CharField(null=True)  # the Exact host that issued the tokens
    exact_user_id = CharField(null=True)
    exact_user_name = CharField(null=True)
    exact_user_email = CharField(null=True)
    current_division = IntegerField(null=True)
    consented_divisions = IntegerField(null=True)
    access_token = EncryptedField(null=True)
    refresh_token = EncryptedField(null=True)
    token_issued_at = DoubleField(null=True)  # epoch seconds; FloatField is a 4-byte REAL in PostgreSQL (±64 s)
    token_expires_at = DoubleField(null=True)
    connected_at = DateTimeField(null=True)
    draft_division = IntegerField(null=True)
    draft_settings = JSONField(null=True)
    division = IntegerField(null=True)  # locked once saved
    division_name = CharField(null=True)
    settings = JSONField(null=True)
    saved_at = DateTimeField(null=True)
    disconnected_at = DateTimeField(null=True)
    last_refresh_at = DateTimeField(null=True)
    last_error = CharField(null=True)  # an exact.errors class name: said in plain words in the user's language
    last_error_at = DateTimeField(null=True)
    rate_limits = JSONField(null=True)  # the last X-RateLimit-* headers Exact sent, and when
    attention_reason = CharField(null=True)  # while NEEDS_ATTENTION: the exact.errors key of Exact's refusal
    attention_at = DateTimeField(null=True)  # since when
    refresh_not_before = DoubleField(null=True)  # epoch seconds: Exact said "too early"; no token call before then

    @classmethod
    def of_account(cls, account: str) -> "Connection | None":
        """The account's stored connection, if it has one."""
        return cls.get_or_none(cls.account == account)

    @classmethod
    def for_account(cls, account: str) -> "Connection":
        """The account's connection, or an unsaved blank one."""
        return cls.of_account(account) or cls(account=account)

    @classmethod
    def by_id(cls, connection_id: int) -> "Connection | None":
        """The connection with this id, if it still exists."""
        return cls.get_or_none(cls.id == connection_id)

    @classmethod
    @contextmanager
    def locked(cls, connection_id: int):
        """The row, re-read and locked against every other thread, process and machine until the block ends."""
        if isinstance(db.obj, SqliteDatabase):
            with db.atomic("IMMEDIATE"):  # SQLite locks the whole file for writing: one writer at a time
                yield cls.get_by_id(connection_id)
        else:
            with db.atomic():
                yield cls.select().where(cls.id == connection_id).for_update().get()

    @property
    def is_logged_in(self) -> bool:
        return self.status in (self.CONNECTED, self.SAVED, self.NEEDS_ATTENTION) and self.refresh_token is not None

    @property
    def is_locked(self) -> bool:
        return self.division is not None and self.status in (self.SAVED, self.EXPIRED, self.NEEDS_ATTENTION)

    @property
    def working_division(self) -> int | None:
        """The administration the settings are about: the locked one, else the one being chosen."""
        return self.division if self.is_locked else self.draft_division

    @property
    def refresh_idle_deadline(self) -> float | None:
        """When the refresh token dies unused: Exact keeps one for 30 days after it was issued."""
        return None if self.token_issued_at is None else self.token_issued_at + REFRESH_TOKEN_IDLE.total_seconds()

    @property
    def token(self) -> Token:
        """The stored token pair."""
        return Token(access_token=self.access_token, refresh_token=self.refresh_token,
                     expires_at=self.token_expires_at, issued_at=self.token_issued_at)

    def hold_token(self, token: Token) -> None:
        """Put a token pair on this row (saved by whoever saves the row)."""
        self.access_token = token.access_token
        self.refresh_token = token.refresh_token
        self.token_issued_at = token.issued_at
        self.token_expires_at = token.expires_at
        self.refresh_not_before = None  # a new token: Exact's "too early" was about the one before

    def clear_tokens(self) -> None:
        self.access_token = self.refresh_token = None
        self.token_issued_at = self.token_expires_at = self.refresh_not_before = None

    @classmethod
    def refresh_tokens_older_than(cls, cutoff: float):
        """Logged-in connections whose refresh token was issued before `cutoff` (epoch seconds)."""
        return cls.select().where(cls._issued_before(cutoff)).order_by(cls.token_issued_at)

    @classmethod
    @contextmanager
    def claimed_if_issued_before(cls, connection_id: int, cutoff: float):
        """The row, locked until the block ends, if it still is logged in with a refresh token issued before `cutoff`;
        None if another runner holds it or has refreshed it meanwhile (keep-alive on several machines at once).

        PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, so a row another transaction holds is passed over, not waited
        for. SQLite: `BEGIN IMMEDIATE` (one writer at a time), so whoever comes second finds it refreshed; a row
        already refreshed is seen without asking for the write lock (readers wait for nobody).
        """
        still_due = (cls.id == connection_id) & cls._issued_before(cutoff)
        if isinstance(db.obj, SqliteDatabase):
            if not cls.select().where(still_due).exists():
                yield None
                return
            with db.atomic("IMMEDIATE"):
                yield cls.get_or_none(still_due)
        else:
            with db.atomic():
                yield cls.select().where(still_due).for_update(skip_locked=True).first()

    @classmethod
    def _issued_before(cls, cutoff: float):
        return (cls.status.in_([cls.CONNECTED, cls.SAVED, cls.NEEDS_ATTENTION]) & cls.refresh_token.is_null(False)
                & (cls.token_issued_at < cutoff))


class Administration(BaseModel):
    """An Exact division the consent allows, cached at login so search and paging cost no Exact calls."""

    connection = ForeignKeyField(Connection, backref="administrations", on_delete="CASCADE")
    code = IntegerField()
    name = CharField()
    country = CharField(null=True)
    currency = CharField(null=True)
    vat_number = CharField(null=True)
    status = IntegerField(default=1)  # Exact: 0 inactive, 1 active, 2 archived
    blocked = BooleanField(default=False)
    current = BooleanField(default=False)

    class Meta:
        indexes = ((("connection", "code"), True),)

    @property
    def selectable(self) -> bool:
        return self.status == 1 and not self.blocked

    @classmethod
    def search(cls, connection: Connection, query: str = "", page: int = 1):
        """One page of the connection's administrations matching `query` by name or code."""
        rows = cls.select().where(cls.connection == connection)
        query = query.strip()
        if query:
            matches = cls.name.contains(query)
            if any(char.isdigit() for char in query):  # a code is all digits: only a query with one can be in it
                matches |= cls.code.cast("TEXT").contains(query)
            rows = rows.where(matches)
        total = rows.count()
        page_rows = list(rows.order_by(cls.current.desc(), cls.name).paginate(page, PAGE_SIZE))
        return page_rows, total

    @classmethod
    def find(cls, connection: Connection, code: int) -> "Administration | None":
        return cls.get_or_none((cls.connection == connection) & (cls.code == code))


# The list's order (the user's current one first, then by name), kept in an index: a page of an accountant's 2,500
# administrations is read from it without sorting them all.
Administration.add_index(Administration.connection, Administration.current.desc(), Administration.name)


class ExactList(BaseModel):
    """Master data read from the chosen administration (journals, accounts, …), cached per connection."""

    connection = ForeignKeyField(Connection, backref="lists", on_delete="CASCADE")
    division = IntegerField()
    kind = CharField()
    rows = JSONField()
    fetched_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("connection", "division", "kind"), True),)

    @classmethod
    def cached(cls, connection: Connection, division: int) -> dict:
        """The cached lists of one administration, by kind."""
        rows = cls.select().where((cls.connection == connection) & (cls.division == division))
        return {row.kind: row for row in rows}

    @classmethod
    def of_kind(cls, connection: Connection, division: int, kind: str) -> "ExactList | None":
        """One cached list of one administration."""
        return cls.get_or_none((cls.connection == connection) & (cls.division == division) & (cls.kind == kind))


class LoginAttempt(BaseModel):
    """One trip to Exact's login page; its state is single use, bound to account and attempt, 10 minutes.

    Everything about the attempt lives here, on the server: the popup that logs in is a top-level window
    that shares no cookies or storage with the (partitioned) iframe that started it. It finishes only where it
    started: a full-page login in the same OutSmart visit, a popup only with the secret its iframe handed it.
    """

    PAGE = "page"  # the whole page went to Exact and comes back
    POPUP = "popup"  # a popup went to Exact; the iframe waits for it
    # Starts a popup attempt's state (not a character of the random part): a popup back from Exact after its attempt
    # was deleted still ends on the popup's own page, not on the setup's.
    POPUP_STATE = "popup."

    id = CharField(primary_key=True)
    account = CharField()
    user = CharField(null=True)  # the OutSmart user who started it, for the history
    country = CharField()
    mode = CharField(default=PAGE)
    state = CharField(unique=True)
    visit = CharField(null=True)  # the OutSmart visit (signed session) that started it
    handoff = CharField(null=True)  # sha256 of the secret the iframe hands its popup by postMessage
    browser_key = CharField(null=True)  # sha256 of the popup's cookie: the callback must come from that browser
    code_verifier = EncryptedField(null=True)  # PKCE: only this attempt's token exchange can redeem its code
    created_at = DateTimeField(default=utcnow)
    used_at = DateTimeField(null=True)
    # connected | cancelled (at Exact) | closed (the popup) | aborted (Annuleren in OutSmart) | expired | failed |
    # refused
    outcome = CharField(null=True)
    reason = CharField(null=True)  # which failure, to say it in the iframe's language

    @classmethod
    def start(cls, account: str, country: str, user: str | None, visit: str | None, mode: str = PAGE,
              pkce: bool = True) -> tuple["LoginAttempt", str | None]:
        """A new attempt, and (for a popup) the secret its iframe hands the popup; only its digest is kept."""
        handoff = secrets.token_urlsafe(32) if mode == cls.POPUP else None
        state = (cls.POPUP_STATE if mode == cls.POPUP else "") + secrets.token_urlsafe(32)
        attempt = cls.create(id=secrets.token_urlsafe(16), account=account, user=user, country=country, mode=mode,
                             state=state, visit=visit, handoff=handoff and digest(handoff),
                             code_verifier=secrets.token_urlsafe(64) if pkce else None)
        return attempt, handoff

    def handed(self, secret: str | None) -> bool:
        """Whether `secret` is the one this attempt's iframe handed its popup."""
        return bool(secret and self.handoff) and hmac.compare_digest(digest(secret), self.handoff)

    @classmethod
    def of_account(cls, attempt_id: str, account: str) -> "LoginAttempt | None":
        return cls.get_or_none((cls.id == attempt_id) & (cls.account == account))

    def bind_browser(self, key_digest: str) -> bool:
        """Tie the attempt to the one browser window that opened it first; False if another one did."""
        bound = (LoginAttempt.update(browser_key=key_digest)
                 .where((LoginAttempt.id == self.id) & LoginAttempt.browser_key.is_null())
                 .execute())
        return bound == 1

    def use(self) -> bool:
        """Use the attempt's state for its one callback; False if it was used before."""
        used = (LoginAttempt.update(used_at=utcnow())
                .where((LoginAttempt.id == self.id) & LoginAttempt.used_at.is_null())
                .execute())
        return used == 1

    def finish(self, outcome: str, reason: str | None = None) -> bool:
        """Record how the attempt ended (once: a later report never overwrites the first); whether this one did.

        One conditional UPDATE: of two at once (Annuleren in OutSmart and the popup's login finishing) exactly one
        ends the attempt, and inside a transaction the row stays claimed until it commits."""
        ended = (LoginAttempt.update(outcome=outcome, reason=reason)
                 .where((LoginAttempt.id == self.id) & LoginAttempt.outcome.is_null())
                 .execute()) == 1
        stored = LoginAttempt.get_by_id(self.id)
        self.outcome, self.reason = stored.outcome, stored.reason
        return ended

    def expired(self) -> bool:
        return utcnow() - self.created_at > STATE_TTL

    def seconds_left(self) -> int:
        """Whole seconds until the attempt's 10 minutes are over (0 once they are)."""
        return max(0, int((self.created_at + STATE_TTL - utcnow()).total_seconds()))


# Attempts past their 10 minutes are deleted at every new start (connections.start_login): found by this index.
LoginAttempt.add_index(LoginAttempt.created_at)


class Event(BaseModel):
    """What happened to a connection, kept after disconnecting (the settings' history)."""

    account = CharField(index=True)
    at = DateTimeField(default=utcnow)
    user = CharField(null=True)  # the OutSmart user who did it; none for the system (keep-alive, workers)
    action = CharField()
    detail = JSONField(null=True)

    @classmethod
    def record(cls, account: str, action: str, user: str | None = None, **detail) -> "Event":
        return cls.create(account=account, action=action, user=user, detail=detail or None)

    @classmethod
    def last_saved_division(cls, account: str) -> int | None:
        """The administration the account last saved: the one its kept settings were made for."""
        saved = (cls.select().where((cls.account == account) & (cls.action == "saved"))
                 .order_by(cls.at.desc(), cls.id.desc()).first())
        return (saved.detail or {}).get("administration") if saved else None

    @classmethod
    def history(cls, account: str, limit: int = 20):
        return list(cls.select().where(cls.account == account).order_by(cls.at.desc(), cls.id.desc()).limit(limit))


class RateLimitCount(BaseModel):
    """One rate limit's count in its current window, shared by every worker and machine (limit_store.py).

    `key` is the `limits` library's key: the limit, and whose (an account's login starts, an address's failed entries).
    """

    key = CharField(primary_key=True)
    hits = IntegerField()
    expires_at = DoubleField(index=True)  # epoch seconds: the window ends; the row is then reset or deleted


class OutboxEvent(BaseModel):
    """An event for OutSmart's servers (a webhook), written in the transaction of the change it tells of, and kept
    until it is delivered or given up (outbox.py). Times are epoch seconds, as the deliverers' clock gives them."""

    PENDING = "pending"  # to be sent at next_attempt_at; while a deliverer holds it, that is when its claim ends
    DELIVERED = "delivered"  # OutSmart answered 2xx
    GIVEN_UP = "given_up"  # still failing 24 hours after the change

    webhook_id = CharField(unique=True)  # the webhook-id header: the same on every attempt
    account = CharField()
    type = CharField()
    body = TextField()  # the JSON exactly as signed and sent
    created_at = DoubleField()
    state = CharField(default=PENDING)
    attempts = IntegerField(default=0)
    next_attempt_at = DoubleField()
    claimed_by = CharField(null=True)  # the claim of the deliverer sending it now
    last_error = CharField(null=True)  # "HTTP 503", "ConnectionError": never the address, never a body
    finished_at = DoubleField(null=True)

    class Meta:
        indexes = ((("state", "next_attempt_at"), False),)


class KeepAliveRun(BaseModel):
    """One keep-alive run, from any machine (keep_alive.record): what /metrics shows as the last run. Kept 90 days."""

    finished_at = DoubleField(index=True)  # epoch seconds
    due = IntegerField()
    refreshed = IntegerField()
    skipped = IntegerField()  # another runner had them
    failed = IntegerField()
    needs_operator = BooleanField()  # it exited with status 1

    @classmethod
    def latest(cls) -> "KeepAliveRun | None":
        return cls.select().order_by(cls.finished_at.desc()).first()


MODELS = [Connection, Administration, ExactList, LoginAttempt, Event, RateLimitCount, OutboxEvent, KeepAliveRun]


def digest(secret: str) -> str:
    """How a secret is kept: its sha256, so the database alone cannot finish a login."""
    return hashlib.sha256(secret.encode()).hexdigest()


def close_all() -> None:
    """Close every pooled connection: before the database file is copied or deleted, or the app is dropped."""
    if db.obj is not None:
        db.obj.close_all() if hasattr(db.obj, "close_all") else db.close()


def upgrade(database=db) -> list[str]:
    """Apply the pending migrations (migrations/NNNN_name.py) in order; return the names applied."""
    runner = _migration_runner(database)
    with runner.database.connection_context():
        return runner.up()


def pending(database=db) -> list[str]:
    """The migrations not applied to the database yet, in order."""
    return [name for name, applied_at in migration_status(database) if applied_at is None]


def migration_status(database=db) -> list[tuple[str, datetime.datetime | None]]:
    """Every migration, in order, with when it was applied (None: pending)."""
    runner = _migration_runner(database)
    with runner.database.connection_context():
        return [(migration.name, migration.applied) for migration in runner.status()]


def _migration_runner(database) -> Runner:
    """peewee's own runner (playhouse.migrations) on the app's migrations folder, wherever the command runs from."""
    database = database.obj if isinstance(database, DatabaseProxy) else database
    return Runner(database, MIGRATIONS)
