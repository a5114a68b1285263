"""A saved connection that Exact refuses for a reason someone must put right (issue 15): the status needs_attention
(a value of the existing status column) and, beside it, the reason (an exact.errors key) and since when.
"""
from peewee import CharField
from peewee import DateTimeField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("connection", "attention_reason", CharField(null=True)),
        migrator.add_column("connection", "attention_at", DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("connection", "attention_reason"),
        migrator.drop_column("connection", "attention_at"),
    )
