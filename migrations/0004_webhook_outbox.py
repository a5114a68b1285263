"""Events to OutSmart's servers (webhooks, issue 15): the outbox they wait in until they are delivered.

The table is a frozen copy of models.OutboxEvent as this migration made it; a later change is a new migration.
"""
from peewee import CharField
from peewee import DoubleField
from peewee import IntegerField
from peewee import Model
from peewee import TextField


class OutboxEvent(Model):
    webhook_id = CharField(unique=True)
    account = CharField()
    type = CharField()
    body = TextField()
    created_at = DoubleField()
    state = CharField()
    attempts = IntegerField()
    next_attempt_at = DoubleField()
    claimed_by = CharField(null=True)
    last_error = CharField(null=True)
    finished_at = DoubleField(null=True)

    class Meta:
        table_name = "outboxevent"
        indexes = ((("state", "next_attempt_at"), False),)


def up(migrator, db):
    with db.bind_ctx([OutboxEvent]):
        db.create_tables([OutboxEvent])


def down(migrator, db):
    with db.bind_ctx([OutboxEvent]):
        db.drop_tables([OutboxEvent])
