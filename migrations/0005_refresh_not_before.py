"""Exact said "too early" (issue 15): until when nobody asks Exact's token endpoint for this connection again.

Exact refuses a new access token within 570 s of the last one by its own clock, which may differ from ours. The retry
time it implies is kept on the connection, so every process and machine waits for it, instead of each asking again.
"""
from peewee import DoubleField


def up(migrator, db):
    migrator.migrate(migrator.add_column("connection", "refresh_not_before", DoubleField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("connection", "refresh_not_before"))
