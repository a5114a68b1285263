"""The schema of release 2cd93f9, the last one without migrations: its five tables and their indexes.

A frozen copy of that release's models.py, independent of today's: a later change to models.py is a new migration,
never an edit here. Only what reaches the database is copied: EncryptedField and JSONField are stored as TEXT, so
they are TextFields here; defaults are applied by peewee in Python, not by the database, so they are left out.

It adopts a database that release created (its create_tables() made these same tables and indexes): every
CREATE says IF NOT EXISTS, so on such a database it changes nothing and is only recorded as applied. On an empty
database it creates everything.

No down(): reverting it would drop every table and everything in it.
"""
from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import DoubleField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField


class Connection(Model):
    account = CharField(unique=True)
    status = CharField()
    country = CharField(null=True)
    base_url = CharField(null=True)
    exact_user_id = CharField(null=True)
    exact_user_name = CharField(null=True)
    exact_user_email = CharField(null=True)
    current_division = IntegerField(null=True)
    consented_divisions = IntegerField(null=True)
    access_token = TextField(null=True)
    refresh_token = TextField(null=True)
    token_issued_at = DoubleField(null=True)
    token_expires_at = DoubleField(null=True)
    connected_at = DateTimeField(null=True)
    draft_division = IntegerField(null=True)
    draft_settings = TextField(null=True)
    division = IntegerField(null=True)
    division_name = CharField(null=True)
    settings = TextField(null=True)
    saved_at = DateTimeField(null=True)
    disconnected_at = DateTimeField(null=True)
    last_refresh_at = DateTimeField(null=True)
    last_error = CharField(null=True)
    last_error_at = DateTimeField(null=True)
    rate_limits = TextField(null=True)

    class Meta:
        table_name = "connection"


class Administration(Model):
    connection = ForeignKeyField(Connection, on_delete="CASCADE")
    code = IntegerField()
    name = CharField()
    country = CharField(null=True)
    currency = CharField(null=True)
    vat_number = CharField(null=True)
    status = IntegerField()
    blocked = BooleanField()
    current = BooleanField()

    class Meta:
        table_name = "administration"
        indexes = ((("connection", "code"), True),)


Administration.add_index(Administration.connection, Administration.current.desc(), Administration.name)


class ExactList(Model):
    connection = ForeignKeyField(Connection, on_delete="CASCADE")
    division = IntegerField()
    kind = CharField()
    rows = TextField()
    fetched_at = DateTimeField()

    class Meta:
        table_name = "exactlist"
        indexes = ((("connection", "division", "kind"), True),)


class LoginAttempt(Model):
    id = CharField(primary_key=True)
    account = CharField()
    user = CharField(null=True)
    country = CharField()
    mode = CharField()
    state = CharField(unique=True)
    browser_key = CharField(null=True)
    created_at = DateTimeField()
    used_at = DateTimeField(null=True)
    outcome = CharField(null=True)
    reason = CharField(null=True)

    class Meta:
        table_name = "loginattempt"


class Event(Model):
    account = CharField(index=True)
    at = DateTimeField()
    user = CharField(null=True)
    action = CharField()
    detail = TextField(null=True)

    class Meta:
        table_name = "event"


TABLES = [Connection, Administration, ExactList, LoginAttempt, Event]


def up(migrator, db):
    with db.bind_ctx(TABLES):
        db.create_tables(TABLES, safe=True)
