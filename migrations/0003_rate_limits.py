"""Rate limits: the table their counts live in (shared by every worker and machine), and an index that finds the
login attempts past their 10 minutes, which every new start deletes.

The table is a frozen copy of models.RateLimitCount as this migration made it; a later change is a new migration.
"""
from peewee import CharField
from peewee import DoubleField
from peewee import IntegerField
from peewee import Model


class RateLimitCount(Model):
    key = CharField(primary_key=True)
    hits = IntegerField()
    expires_at = DoubleField(index=True)

    class Meta:
        table_name = "ratelimitcount"


def up(migrator, db):
    with db.bind_ctx([RateLimitCount]):
        db.create_tables([RateLimitCount])
    migrator.migrate(migrator.add_index("loginattempt", ("created_at",), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("loginattempt", "loginattempt_created_at"))
    with db.bind_ctx([RateLimitCount]):
        db.drop_tables([RateLimitCount])
