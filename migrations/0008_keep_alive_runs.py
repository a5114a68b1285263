"""Keep-alive's runs (issue 18): what each run did, kept in the database so /metrics shows the last run from every
machine, and a restart of the web servers does not forget it.

The table is a frozen copy of models.KeepAliveRun as this migration made it; a later change is a new migration.
"""
from peewee import BooleanField
from peewee import DoubleField
from peewee import IntegerField
from peewee import Model


class KeepAliveRun(Model):
    finished_at = DoubleField(index=True)
    due = IntegerField()
    refreshed = IntegerField()
    skipped = IntegerField()
    failed = IntegerField()
    needs_operator = BooleanField()

    class Meta:
        table_name = "keepaliverun"


def up(migrator, db):
    with db.bind_ctx([KeepAliveRun]):
        db.create_tables([KeepAliveRun])


def down(migrator, db):
    with db.bind_ctx([KeepAliveRun]):
        db.drop_tables([KeepAliveRun])
